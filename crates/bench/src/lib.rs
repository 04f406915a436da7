//! Shared pieces of the benchmarks: the typed wRPC client of the display and the panel's inspect
//! interface (the calls `wash call` makes), the fault judge ([`judge`]) and the fleet's listing check
//! ([`listing`]).

pub mod answer;
pub mod judge;
pub mod listing;

/// Connects to the NATS server at `url` as the user whose credentials file `OLED_NATS_CREDS` names
/// (the lattice's servers refuse anonymous clients: `crates/nats-auth`), or anonymously when it is
/// unset or empty (a server of the bench's own).
pub async fn connect_nats(url: &str) -> anyhow::Result<async_nats::Client> {
    connect_nats_as(url, "OLED_NATS_CREDS").await
}

/// Connects to the NATS server at `url` with the credentials file that the environment variable
/// `creds_var` names (anonymously when it is unset or empty), giving up after 3 s.
pub async fn connect_nats_as(url: &str, creds_var: &str) -> anyhow::Result<async_nats::Client> {
    use anyhow::Context as _;
    let options = match std::env::var_os(creds_var).filter(|f| !f.is_empty()) {
        Some(file) => async_nats::ConnectOptions::with_credentials_file(&file)
            .await
            .with_context(|| format!("reading NATS credentials {}", file.to_string_lossy()))?,
        None => async_nats::ConnectOptions::new(),
    };
    options
        .connection_timeout(std::time::Duration::from_secs(3))
        .connect(url)
        .await
        .with_context(|| format!("connecting to {url}"))
}

/// Bindings of the `oled-lattice:display/invoker` world: `invoke.*` of the display, `inspect.*` of the
/// panel.
pub mod bindings {
    wit_bindgen_wrpc::generate!({
        path: [
            "../../wit/deps/wasi-io-0.2.2",
            "../../wit/deps/wasi-config-0.2.0-draft",
            "../../wit/rpc",
            "../../wit/bus",
            "../../wit/panel",
            "../../wit/logging",
            "../../wit/display",
        ],
        world: "oled-lattice:display/invoker",
        generate_all,
    });
}

/// Counts the answers the benches' own wRPC client threw away.
///
/// The benches use `wrpc-transport-nats` from crates.io, without the one-line fix the tools carry
/// (`tools/patches/`): its demultiplexer may take a handshake reply before the subscription its call
/// queued first, and drop it ("drop message with no subscriber"); that call then waits out its
/// deadline. The counter tells such a loss in the measuring client from one in the lattice.
pub mod drops {
    use std::fmt::Debug;
    use std::sync::atomic::{AtomicU64, Ordering};

    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt as _};
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::{filter, Layer};

    static HANDSHAKES_DROPPED: AtomicU64 = AtomicU64::new(0);

    /// Handshake replies dropped by this process's wRPC client since [`install`].
    pub fn handshakes_dropped() -> u64 {
        HANDSHAKES_DROPPED.load(Ordering::Relaxed)
    }

    /// Starts counting (once per process; later calls do nothing).
    pub fn install() {
        let only_transport = filter::filter_fn(|m| {
            m.target().starts_with("wrpc_transport_nats") && *m.level() <= tracing::Level::DEBUG
        });
        let _ = tracing_subscriber::registry()
            .with(Counter.with_filter(only_transport))
            .try_init();
    }

    /// Whether a dropped message's subject is a call's handshake subject: the call's inbox itself,
    /// not its `.results` (a late trailer there after the call ended is harmless) nor a nested path.
    ///
    /// ```
    /// use oled_bench::drops::is_handshake_subject;
    /// assert!(is_handshake_subject("_INBOX.abc.Xy12Zk"));
    /// assert!(!is_handshake_subject("_INBOX.abc.Xy12Zk.results"));
    /// assert!(!is_handshake_subject("_INBOX.abc.Xy12Zk.results.0"));
    /// ```
    pub fn is_handshake_subject(subject: &str) -> bool {
        !subject.split('.').any(|t| t == "results" || t == "params")
    }

    /// The subject's text from its `Debug` form: `Subject { bytes: b"_INBOX.x" }` (async-nats) or a
    /// quoted string.
    fn subject_text(debug: &str) -> String {
        let inner = debug.split_once("b\"").map_or(debug, |(_, rest)| rest);
        inner
            .trim_start_matches('"')
            .split('"')
            .next()
            .unwrap_or("")
            .to_string()
    }

    struct Counter;

    #[derive(Default)]
    struct Drop {
        no_subscriber: bool,
        subject: String,
    }

    impl Visit for Drop {
        fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
            match field.name() {
                "message" => {
                    self.no_subscriber = format!("{value:?}").contains("no subscriber");
                }
                "subject" => self.subject = subject_text(&format!("{value:?}")),
                _ => {}
            }
        }
    }

    impl<S: tracing::Subscriber> Layer<S> for Counter {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let mut d = Drop::default();
            event.record(&mut d);
            if d.no_subscriber && is_handshake_subject(&d.subject) {
                HANDSHAKES_DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::drops;

    #[test]
    fn a_dropped_handshake_reply_is_counted_and_a_late_results_trailer_is_not() {
        drops::install();
        let before = drops::handshakes_dropped();
        // The same events wrpc-transport-nats logs, with its target and fields.
        let handshake = async_nats::Subject::from("_INBOX.abc.Xy12Zk");
        let results = async_nats::Subject::from("_INBOX.abc.Xy12Zk.results");
        tracing::debug!(target: "wrpc_transport_nats", subject = ?handshake, "drop message with no subscriber");
        tracing::debug!(target: "wrpc_transport_nats", subject = ?results, "drop message with no subscriber");
        tracing::debug!(target: "wrpc_transport_nats", subject = ?handshake, "drop message with closed subscriber");
        tracing::debug!(target: "elsewhere", subject = ?handshake, "drop message with no subscriber");
        assert_eq!(drops::handshakes_dropped() - before, 1);
    }
}
