//! The panel port over the lattice, with a deadline.
//!
//! A plain WIT import of `oled-lattice:panel` would block the component until the host's wRPC call
//! ends, and a call into a link that stalled (Wi-Fi hanging, TCP still open) ends only when the host's
//! execution limit traps the component: the caller sees a hang, then an HTTP 500 with no reason. So
//! the component starts each call through `wrpc:rpc/invoker` (the host routes it over the component's
//! link to the panel as it would an import) and waits on `wasi:io/poll` for the answer or for its own
//! deadline, whichever comes first: a Pi that does not answer becomes a typed `TimedOut`, one that is
//! not on the lattice an `Unreachable`, both with the reason, well within the HTTP client's patience.

pub mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../wit/deps/wasi-io-0.2.2",
            "../../wit/deps/wasi-config-0.2.0-draft",
            "../../wit/rpc",
            "../../wit/bus",
            "../../wit/logging",
            "../../wit/panel",
            "../../wit/display",
        ],
        world: "oled-lattice:display/component",
        pub_export_macro: true,
        with: {
            "wasi:io/poll@0.2.2": ::wasi::io::poll,
            "wasi:io/streams@0.2.2": ::wasi::io::streams,
            "wasi:io/error@0.2.2": ::wasi::io::error,
        },
        generate_all,
    });
}

use super::wire::{self, Decoded, INSPECT_INSTANCE, PANEL_INSTANCE};
use crate::domain::{Panel, PanelError, PanelInfo, PresentCost};
use bindings::wasi::logging::logging::{log, Level};
use bindings::wasmcloud::bus::lattice::{set_link_name, CallTargetInterface};
use bindings::wrpc::rpc::context::Context;
use bindings::wrpc::rpc::invoker::invoke;
use bindings::wrpc::rpc::transport::Invocation;
use wasi::clocks::monotonic_clock;
use wasi::io::poll::poll;
use wasi::io::streams::StreamError;

/// The `panel-size` of the component's configuration (`WIDTHxHEIGHT`, as the panel draws after
/// rotation), if set and well-formed: the size to draw for without asking the panel first. A wrong
/// hint costs one refused frame, then the panel is asked (see `Display::with_size_hint`).
pub fn panel_size_hint() -> Option<(u16, u16)> {
    crate::domain::parse_size(&config("panel-size")?)
}

/// One key of the component's configuration (the manifest's `config` of the component), if set.
pub fn config(key: &str) -> Option<String> {
    bindings::wasi::config::store::get(key).ok()?
}

/// Time a whole request may spend waiting for the panel: under the 5 s a caller is promised an answer
/// in, with room for the component's own work and the HTTP hop.
pub const PANEL_BUDGET_NS: u64 = 4_000_000_000;

/// The panel on the other end of the lattice link. One per request (and panel): its deadline covers
/// every call to that panel the request makes.
pub struct LatticePanel {
    deadline: monotonic_clock::Instant,
    /// The link to take (a named panel), or the component's default link without asking.
    link: Option<String>,
}

impl LatticePanel {
    pub fn new() -> Self {
        Self {
            deadline: monotonic_clock::now().saturating_add(PANEL_BUDGET_NS),
            link: None,
        }
    }

    /// The panel behind the component's link named `link` (one link per named panel).
    pub fn named(link: &str) -> Self {
        Self {
            link: Some(link.to_string()),
            ..Self::new()
        }
    }

    /// Calls `func` of the panel interface with `params` and decodes its results with `decode`, by
    /// the deadline.
    fn call<T>(
        &self,
        func: &str,
        params: &[u8],
        decode: impl Fn(&[u8]) -> Decoded<Result<T, PanelError>>,
    ) -> Result<T, PanelError> {
        self.call_in(PANEL_INSTANCE, func, params, decode)
    }

    /// [`Self::call`] in `instance` (the panel's `panel` or `inspect` interface).
    fn call_in<T>(
        &self,
        instance: &str,
        func: &str,
        params: &[u8],
        decode: impl Fn(&[u8]) -> Decoded<Result<T, PanelError>>,
    ) -> Result<T, PanelError> {
        let what = match &self.link {
            Some(link) => format!("{instance}.{func} (panel `{link}`)"),
            None => format!("{instance}.{func}"),
        };
        let timed_out = || {
            let budget = PANEL_BUDGET_NS / 1_000_000_000;
            PanelError::TimedOut(format!(
                "the panel's provider on the Pi did not answer {what} within {budget} s \
                 (is the Pi's link or its leaf NATS down?)"
            ))
        };
        let timer = monotonic_clock::subscribe_instant(self.deadline);
        if let Some(link) = &self.link {
            // The host picks the link when the call starts: name it for every call, since an
            // instance may serve several panels.
            let panel = CallTargetInterface::new("oled-lattice", "panel", "panel");
            let inspect = CallTargetInterface::new("oled-lattice", "panel", "inspect");
            set_link_name(link, vec![panel, inspect]);
        }
        let invocation = invoke(Context::default(), instance, func, params, &[]);
        let sent = invocation.subscribe();
        let ready = poll(&[&sent, &timer]);
        drop(sent);
        if !ready.contains(&0) {
            return Err(timed_out());
        }
        let (outgoing, incoming) = Invocation::finish(invocation).map_err(|e| {
            PanelError::Unreachable(format!(
                "{what} could not be sent to the Pi: {}",
                e.to_debug_string()
            ))
        })?;
        // Every parameter went with the invocation: closing our side tells the provider there are
        // no more, and it answers (it waits for that before it decodes).
        drop(outgoing);
        let Some(stream) = incoming.data() else {
            return Err(PanelError::Unreachable(format!("{what}: no result stream")));
        };
        let mut buf = Vec::new();
        let result = loop {
            match decode(&buf) {
                Ok(Some(v)) => break v,
                Ok(None) => {}
                Err(why) => {
                    break Err(PanelError::Unreachable(format!(
                        "{what}: the answer is not what the panel contract says ({why})"
                    )))
                }
            }
            let readable = stream.subscribe();
            let ready = poll(&[&readable, &timer]);
            drop(readable);
            if !ready.contains(&0) {
                break Err(timed_out());
            }
            match stream.read(64 * 1024) {
                Ok(chunk) => buf.extend_from_slice(&chunk),
                Err(StreamError::Closed) => {
                    break Err(PanelError::Unreachable(format!(
                        "{what}: nobody on the lattice answered (the Pi's host or its provider is \
                         not running, or its leaf NATS is not connected)"
                    )))
                }
                Err(StreamError::LastOperationFailed(e)) => {
                    break Err(PanelError::Unreachable(format!(
                        "{what}: the call failed on the lattice: {}",
                        e.to_debug_string()
                    )))
                }
            }
        };
        drop(stream);
        drop(incoming);
        result
    }
}

impl Default for LatticePanel {
    fn default() -> Self {
        Self::new()
    }
}

impl Panel for LatticePanel {
    fn info(&self) -> Result<PanelInfo, PanelError> {
        self.call("info", &[], wire::decode_info)
    }

    fn last_text(&self) -> Result<Option<String>, PanelError> {
        self.call("last-text", &[], wire::decode_last_text)
    }

    fn ascii(&self) -> Result<String, PanelError> {
        self.call_in(INSPECT_INSTANCE, "ascii", &[], wire::decode_ascii)
    }

    fn shown(&self) -> Result<oled_frame::Frame, PanelError> {
        self.call("shown", &[], wire::decode_shown)
    }

    fn activity(&self) -> Result<crate::domain::Activity, PanelError> {
        // inspect.stats is JSON with the owner's `care` and `ticker`; same wire shape as ascii.
        let stats = self.call_in(INSPECT_INSTANCE, "stats", &[], wire::decode_ascii)?;
        serde_json::from_str::<crate::domain::Activity>(&stats)
            .map_err(|e| PanelError::Invalid(format!("inspect.stats without care: {e}")))
    }

    fn present(&self, frame: &[u8], text: Option<&str>) -> Result<PresentCost, PanelError> {
        let r = match text {
            Some(t) => self.call(
                "present-text",
                &wire::present_text_params(frame, t),
                wire::decode_present,
            ),
            None => self.call(
                "present",
                &wire::present_params(frame),
                wire::decode_present,
            ),
        };
        r.inspect_err(|e| warn(&format!("present failed: {e}")))
    }

    fn present_ticker(
        &self,
        ticker: &crate::domain::TickerDraw<'_>,
        text: &str,
    ) -> Result<crate::domain::TickerRun, PanelError> {
        self.call(
            "present-ticker",
            &wire::present_ticker_params(ticker, text),
            wire::decode_ticker_run,
        )
        .inspect_err(|e| {
            if !matches!(e, PanelError::BadFrame(_)) {
                warn(&format!("ticker failed: {e}"))
            }
        })
    }

    fn present_sized(
        &self,
        width: u16,
        height: u16,
        frame: &[u8],
        text: &str,
    ) -> Result<PresentCost, PanelError> {
        self.call(
            "present-sized",
            &wire::present_sized_params(width, height, frame, text),
            wire::decode_present,
        )
        .inspect_err(|e| {
            if !matches!(e, PanelError::BadFrame(_)) {
                warn(&format!("present failed: {e}"))
            }
        })
    }
}

const CONTEXT: &str = "oled-display";

pub fn info(msg: &str) {
    log(Level::Info, CONTEXT, msg);
}

pub fn warn(msg: &str) {
    log(Level::Warn, CONTEXT, msg);
}
