//! `oled-wadm`: wadm 0.21.1 (wasmCloud Application Deployment Manager) from its crate.
//!
//! The options and `WADM_*` environment variables are the crate's own (`wadm::config::WadmConfig`
//! with the `cli` feature), e.g. `WADM_NATS_SERVER=127.0.0.1:4222 WADM_JETSTREAM_DOMAIN=core`.
//! Logs go to stderr; `RUST_LOG` refines the filter. SIGINT/SIGTERM end the process.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use clap::Parser as _;
use tracing::{error, info, warn};
use tracing_subscriber::EnvFilter;
use wadm::config::WadmConfig;

/// The wadm release this binary runs (the exact version pinned in tools/Cargo.toml).
const WADM_VERSION: &str = "0.21.1";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = WadmConfig::parse();

    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,async_nats=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if config.structured_logging {
        logs.json().init();
    } else {
        logs.init();
    }
    if config.tracing_enabled || config.tracing_endpoint.is_some() {
        warn!("OpenTelemetry tracing is not built into oled-wadm; ignoring the tracing options");
    }

    info!(
        nats = %config.nats_server,
        domain = config.domain.as_deref().unwrap_or("-"),
        "starting wadm {WADM_VERSION} (oled-wadm {})",
        env!("CARGO_PKG_VERSION")
    );
    let mut tasks = wadm::start_wadm(config).await.context("failed to start wadm")?;

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("failed to listen for SIGTERM")?;
    tokio::select! {
        done = tasks.join_next() => match done {
            Some(Ok(Ok(()))) | None => {
                info!("wadm stopped");
                Ok(())
            }
            Some(Ok(Err(e))) => {
                error!("wadm failed: {e:#}");
                Err(e)
            }
            Some(Err(e)) => Err(anyhow::Error::new(e).context("a wadm task panicked")),
        },
        r = tokio::signal::ctrl_c() => {
            r.context("failed to listen for SIGINT")?;
            info!("SIGINT received, stopping wadm");
            tasks.shutdown().await;
            Ok(())
        }
        _ = sigterm.recv() => {
            info!("SIGTERM received, stopping wadm");
            tasks.shutdown().await;
            Ok(())
        }
    }
}
