//! `oled-policy`: the lattice's policy service. Answers the wasmCloud 1.x hosts' policy topic.
//!
//! - `oled-policy serve --nats HOST:PORT --topic TOPIC --allow FILE [--creds FILE]`: answer requests
//!   until SIGTERM, connected with the NATS credentials in FILE when given.
//! - `oled-policy issuers SEED_FILE_OR_DIR...`: print the account public keys of the `*_account.nk`
//!   seeds given (the project's signing keys), one per line: the allow-list file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use futures::StreamExt as _;
use oled_policy::{decide, AllowList};
use tracing::{info, warn};

fn seeds_in(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with("_account.nk"))
            .collect();
        v.sort();
        Ok(v)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

fn issuers(paths: &[String]) -> anyhow::Result<()> {
    if paths.is_empty() {
        bail!("give the seed files or key folders (wash keeps *_account.nk in WASH_KEYS)");
    }
    let mut out = String::from(
        "# oled-lattice policy allow-list: the issuers of the project's signing keys.\n",
    );
    let mut n = 0;
    for p in paths {
        for seed in seeds_in(Path::new(p))? {
            let text = std::fs::read_to_string(&seed)
                .with_context(|| format!("reading {}", seed.display()))?;
            let issuer =
                AllowList::issuer_of_seed(&text).with_context(|| format!("{}", seed.display()))?;
            out.push_str(&format!("{issuer}  # {}\n", seed.display()));
            n += 1;
        }
    }
    if n == 0 {
        bail!("no *_account.nk seed in {}", paths.join(", "));
    }
    print!("{out}");
    Ok(())
}

async fn serve(
    nats: &str,
    topic: &str,
    allow_file: &Path,
    creds: Option<&Path>,
) -> anyhow::Result<()> {
    let allow = AllowList::parse(
        &std::fs::read_to_string(allow_file)
            .with_context(|| format!("reading {}", allow_file.display()))?,
    )
    .with_context(|| format!("allow-list {}", allow_file.display()))?;
    // With the lattice's NATS in operator mode, the policy service's own user: it alone may
    // subscribe to the policy topic (crates/nats-auth).
    let options = match creds {
        Some(file) => async_nats::ConnectOptions::with_credentials_file(file)
            .await
            .with_context(|| format!("reading NATS credentials {}", file.display()))?,
        None => async_nats::ConnectOptions::new(),
    };
    let client = options
        .name("oled-policy")
        .retry_on_initial_connect()
        .connect(nats)
        .await
        .with_context(|| format!("connecting to NATS at {nats}"))?;
    let mut requests = client
        .queue_subscribe(topic.to_string(), "oled-policy".to_string())
        .await
        .with_context(|| format!("subscribing to {topic}"))?;
    info!(topic, issuers = allow.len(), file = %allow_file.display(), "answering policy requests");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            msg = requests.next() => {
                let Some(msg) = msg else { bail!("the NATS subscription ended") };
                let answer = decide(&msg.payload, &allow);
                if answer.permitted {
                    tracing::debug!(request = %answer.request_id, "permitted");
                } else {
                    warn!(request = %answer.request_id, reason = answer.message.as_deref().unwrap_or(""), "denied");
                }
                if let Some(reply) = msg.reply {
                    if let Err(e) = client.publish(reply, answer.to_json().into()).await {
                        warn!(error = %e, "could not answer a policy request");
                    }
                }
            }
            _ = term.recv() => {
                info!("SIGTERM: stopping");
                let _ = client.flush().await;
                return Ok(());
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| -> Option<String> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let result = match args.first().map(String::as_str) {
        Some("issuers") => issuers(&args[1..]),
        Some("serve") => match (flag("--nats"), flag("--topic"), flag("--allow")) {
            (Some(n), Some(t), Some(a)) => {
                let creds = flag("--creds").map(std::path::PathBuf::from);
                serve(&n, &t, Path::new(&a), creds.as_deref()).await
            }
            _ => Err(anyhow::anyhow!(
                "serve needs --nats HOST:PORT --topic TOPIC --allow FILE [--creds FILE]"
            )),
        },
        Some("--version" | "-V") => {
            println!("oled-policy {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        _ => Err(anyhow::anyhow!(
            "usage: oled-policy serve --nats HOST:PORT --topic TOPIC --allow FILE [--creds FILE] | oled-policy issuers SEEDS..."
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oled-policy: {e:#}");
            ExitCode::FAILURE
        }
    }
}
