//! `oled-panel`: the OLED capability provider. A wasmCloud host starts it and passes its host data on stdin.
//!
//! For people and scripts, without a host:
//! - `oled-panel --version` prints `oled-panel <version>`;
//! - `oled-panel --check-config key=value…` parses configuration as the provider would: `config ok: …` and
//!   exit 0, or `config error: …` naming the key and exit 2.

use std::process::ExitCode;

use oled_panel_provider::{config, provider::OledPanelProvider};

/// Reads the host data (a blocking read of stdin, kept by the SDK), sets up logs and traces the way
/// the host asks (its log level, structured logging, OTLP endpoint: `initialize_observability!`),
/// then serves until the host says stop.
async fn serve() -> anyhow::Result<()> {
    tokio::task::spawn_blocking(wasmcloud_provider_sdk::provider::load_host_data)
        .await?
        .map_err(|e| {
            anyhow::anyhow!(
                "reading host data from stdin (a wasmCloud host starts this binary): {e}"
            )
        })?;
    #[cfg(feature = "traces")]
    wasmcloud_provider_sdk::initialize_observability!("oled-panel", None::<std::path::PathBuf>);
    #[cfg(not(feature = "traces"))]
    logs_only()?;
    OledPanelProvider::run().await
}

/// Without traces: the host's log level and log format, to stderr (which the host collects).
#[cfg(not(feature = "traces"))]
fn logs_only() -> anyhow::Result<()> {
    use wasmcloud_provider_sdk::tracing_subscriber as ts;
    let host = wasmcloud_provider_sdk::provider::load_host_data()?;
    let level = match host.log_level {
        Some(wasmcloud_provider_sdk::core::logging::Level::Trace) => tracing::Level::TRACE,
        Some(wasmcloud_provider_sdk::core::logging::Level::Debug) => tracing::Level::DEBUG,
        Some(wasmcloud_provider_sdk::core::logging::Level::Warn) => tracing::Level::WARN,
        Some(
            wasmcloud_provider_sdk::core::logging::Level::Error
            | wasmcloud_provider_sdk::core::logging::Level::Critical,
        ) => tracing::Level::ERROR,
        _ => tracing::Level::INFO,
    };
    ts::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| anyhow::anyhow!("logging: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            println!("oled-panel {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("--check-config") => match config::from_args(&args[1..]) {
            Ok(c) => {
                println!("config ok: {c:?}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("config error: {e}");
                ExitCode::from(2)
            }
        },
        _ => match serve().await {
            Ok(()) => {
                eprintln!("oled-panel provider exiting");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("oled-panel: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
