//! Logs to stderr, where the host collects a provider's output, at the level the host asks for.

use tracing_subscriber::EnvFilter;
use wasmcloud_provider_sdk::core::logging::Level;

/// `RUST_LOG` wins over the host's level when set.
pub(crate) fn init(level: Option<&Level>, structured: bool) {
    let level = match level {
        Some(Level::Error | Level::Critical) => "error",
        Some(Level::Warn) => "warn",
        Some(Level::Debug) => "debug",
        Some(Level::Trace) => "trace",
        Some(Level::Info) | None => "info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if structured {
        builder.json().try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    if let Err(e) = result {
        eprintln!("oled-panel: logging already initialised: {e}");
    }
}
