//! `oled-wasmcloud-host`: a thin wasmCloud 1.x host over the `wasmcloud-host` library.
//!
//! No prebuilt wasmCloud host can be downloaded on our machines, so this binary stands in for
//! the official `wasmcloud` host (release 1.9.x, which is built on `wasmcloud-host` 0.27.1).
//! It is configured the same way: the same long options and the same `WASMCLOUD_*`
//! environment variables, so `wash up --host-path <this binary>` and our own scripts can drive
//! it like the real one. Labels come from `--label key=value` and `WASMCLOUD_LABEL_<key>=value`.
//!
//! On SIGINT or SIGTERM (or a `stop host` control command) it shuts the host down: the
//! `host_stopped` event is published and the NATS connections are flushed before it exits.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _};
use clap::Parser;
use nkeys::KeyPair;
use tracing::{info, warn, Level};
use tracing_subscriber::util::SubscriberInitExt as _;
use wasmcloud_core::logging::Level as HostLogLevel;
use wasmcloud_core::{OtelConfig, OtelProtocol};
use wasmcloud_host::url::Url;
use wasmcloud_host::wasmbus::host_config::PolicyService;
use wasmcloud_host::wasmbus::Features;
use wasmcloud_host::{OciConfig, WasmbusHostConfig};

/// Version shown by `--version`: ours, plus what it is built on.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (wasmcloud-host 0.27.1 library, configured like the wasmCloud 1.9.x host)"
);

/// Time allowed for a graceful shutdown after a signal (the official host uses the same).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Prefix of the environment variables that become host labels.
const LABEL_ENV_PREFIX: &str = "WASMCLOUD_LABEL_";

/// Alternative spelling of `WASMCLOUD_PROV_SHUTDOWN_DELAY_MS` that we accept as well.
const PROVIDER_SHUTDOWN_DELAY_ALIAS: &str = "WASMCLOUD_PROVIDER_SHUTDOWN_DELAY_MS";

/// Variables of wasmCloud 0.x hosts that 1.x hosts no longer use; warned about, then ignored.
const OBSOLETE_ENV: &[&str] = &["WASMCLOUD_CLUSTER_SEED", "WASMCLOUD_CLUSTER_ISSUERS"];

#[derive(Debug, Parser)]
#[command(name = "oled-wasmcloud-host", version = LONG_VERSION, about)]
#[allow(clippy::struct_excessive_bools)]
struct Args {
    // ----- logging -----
    /// Log level of the host (and of the providers it starts)
    #[arg(long, alias = "structured-log-level", env = "WASMCLOUD_LOG_LEVEL", default_value_t = Level::INFO)]
    log_level: Level,
    /// Level of the traces the host emits
    #[arg(long, env = "WASMCLOUD_TRACE_LEVEL", default_value_t = Level::INFO)]
    trace_level: Level,
    /// Log as JSON lines
    #[arg(long = "enable-structured-logging", env = "WASMCLOUD_STRUCTURED_LOGGING_ENABLED")]
    structured_logging: bool,

    // ----- NATS connection (defaults for the control interface and RPC connections) -----
    /// NATS server host
    #[arg(long, env = "WASMCLOUD_NATS_HOST", default_value = "127.0.0.1")]
    nats_host: String,
    /// NATS server port
    #[arg(long, env = "WASMCLOUD_NATS_PORT", default_value_t = 4222)]
    nats_port: u16,
    /// User JWT for NATS (requires --nats-seed)
    #[arg(long, env = "WASMCLOUD_NATS_JWT", requires = "nats_seed", conflicts_with = "nats_creds")]
    nats_jwt: Option<String>,
    /// Seed nkey for NATS (requires --nats-jwt)
    #[arg(long, env = "WASMCLOUD_NATS_SEED", requires = "nats_jwt", conflicts_with = "nats_creds")]
    nats_seed: Option<String>,
    /// NATS credentials file (JWT and seed)
    #[arg(long, env = "WASMCLOUD_NATS_CREDS")]
    nats_creds: Option<PathBuf>,

    // ----- control interface connection -----
    /// NATS host for control interface messages (default: --nats-host)
    #[arg(long, env = "WASMCLOUD_CTL_HOST")]
    ctl_host: Option<String>,
    /// NATS port for control interface messages (default: --nats-port)
    #[arg(long, env = "WASMCLOUD_CTL_PORT")]
    ctl_port: Option<u16>,
    /// User JWT for the control interface connection
    #[arg(long, env = "WASMCLOUD_CTL_JWT", requires = "ctl_seed", conflicts_with = "ctl_creds")]
    ctl_jwt: Option<String>,
    /// Seed nkey for the control interface connection
    #[arg(long, env = "WASMCLOUD_CTL_SEED", requires = "ctl_jwt", conflicts_with = "ctl_creds")]
    ctl_seed: Option<String>,
    /// Credentials file for the control interface connection
    #[arg(long, env = "WASMCLOUD_CTL_CREDS")]
    ctl_creds: Option<PathBuf>,
    /// Require TLS for the control interface connection
    #[arg(long, env = "WASMCLOUD_CTL_TLS")]
    ctl_tls: bool,
    /// Prefix of the control interface topics
    #[arg(long, env = "WASMCLOUD_CTL_TOPIC_PREFIX", default_value = "wasmbus.ctl")]
    ctl_topic_prefix: String,

    // ----- RPC connection -----
    /// NATS host for RPC messages (default: --nats-host)
    #[arg(long, env = "WASMCLOUD_RPC_HOST")]
    rpc_host: Option<String>,
    /// NATS port for RPC messages (default: --nats-port)
    #[arg(long, env = "WASMCLOUD_RPC_PORT")]
    rpc_port: Option<u16>,
    /// User JWT for the RPC connection
    #[arg(long, env = "WASMCLOUD_RPC_JWT", requires = "rpc_seed", conflicts_with = "rpc_creds")]
    rpc_jwt: Option<String>,
    /// Seed nkey for the RPC connection
    #[arg(long, env = "WASMCLOUD_RPC_SEED", requires = "rpc_jwt", conflicts_with = "rpc_creds")]
    rpc_seed: Option<String>,
    /// Credentials file for the RPC connection
    #[arg(long, env = "WASMCLOUD_RPC_CREDS")]
    rpc_creds: Option<PathBuf>,
    /// Timeout of RPC calls, in milliseconds
    #[arg(long = "rpc-timeout-ms", env = "WASMCLOUD_RPC_TIMEOUT_MS", default_value = "2000", value_parser = millis)]
    rpc_timeout: Duration,
    /// Require TLS for the RPC connection
    #[arg(long, env = "WASMCLOUD_RPC_TLS")]
    rpc_tls: bool,

    // ----- identity and placement -----
    /// Lattice this host joins
    #[arg(short = 'x', long, env = "WASMCLOUD_LATTICE", default_value = "default")]
    lattice: String,
    /// Seed of the host's server key pair (a random key is made when absent)
    #[arg(long, env = "WASMCLOUD_HOST_SEED", hide_env_values = true)]
    host_seed: Option<String>,
    /// JetStream domain of the lattice's key-value buckets
    #[arg(long, alias = "wasmcloud-js-domain", env = "WASMCLOUD_JS_DOMAIN")]
    js_domain: Option<String>,
    /// Host label `key=value`; repeatable. `WASMCLOUD_LABEL_<key>=value` works too
    #[arg(short = 'l', long = "label", value_parser = label)]
    labels: Vec<(String, String)>,

    // ----- what the host may run -----
    /// Allow starting components and providers from `file://` references
    #[arg(long, env = "WASMCLOUD_ALLOW_FILE_LOAD")]
    allow_file_load: bool,
    /// Allow OCI images tagged `latest`
    #[arg(long, env = "WASMCLOUD_OCI_ALLOW_LATEST")]
    allow_latest: bool,
    /// OCI registries reachable without TLS (comma-separated)
    #[arg(long, env = "WASMCLOUD_OCI_ALLOWED_INSECURE", value_delimiter = ',')]
    allowed_insecure: Vec<String>,
    /// OCI registry whose credentials are given by --oci-user/--oci-password
    #[arg(long, env = "WASMCLOUD_OCI_REGISTRY", requires_all = ["oci_user", "oci_password"])]
    oci_registry: Option<String>,
    /// User for --oci-registry
    #[arg(long, env = "WASMCLOUD_OCI_REGISTRY_USER", requires = "oci_registry")]
    oci_user: Option<String>,
    /// Password for --oci-registry
    #[arg(long, env = "WASMCLOUD_OCI_REGISTRY_PASSWORD", requires = "oci_registry", hide_env_values = true)]
    oci_password: Option<String>,
    /// Extra CA certificates for OCI and OpenTelemetry clients (comma-separated paths)
    #[arg(long = "tls-ca-path", env = "WASMCLOUD_TLS_CA_PATH", value_delimiter = ',')]
    tls_ca_paths: Vec<PathBuf>,

    // ----- services on the lattice -----
    /// Ask the config service for supplemental configuration at start
    #[arg(long = "config-service-enabled", env = "WASMCLOUD_CONFIG_SERVICE")]
    config_service_enabled: bool,
    /// Topic of a policy service to consult on start actions and invocations
    #[arg(long, env = "WASMCLOUD_POLICY_TOPIC")]
    policy_topic: Option<String>,
    /// Topic on which the policy service announces changed decisions
    #[arg(long, env = "WASMCLOUD_POLICY_CHANGES_TOPIC", requires = "policy_topic")]
    policy_changes_topic: Option<String>,
    /// Timeout of policy requests, in milliseconds
    #[arg(long = "policy-timeout-ms", env = "WASMCLOUD_POLICY_TIMEOUT", requires = "policy_topic", value_parser = millis)]
    policy_timeout: Option<Duration>,
    /// Topic prefix of a secrets backend
    #[arg(long = "secrets-topic", env = "WASMCLOUD_SECRETS_TOPIC")]
    secrets_topic_prefix: Option<String>,

    // ----- limits and timing -----
    /// Delay between asking a provider to shut down and killing it, in milliseconds
    /// (`WASMCLOUD_PROVIDER_SHUTDOWN_DELAY_MS` is accepted too) [default: 300]
    #[arg(long = "provider-shutdown-delay-ms", alias = "provider-shutdown-delay", env = "WASMCLOUD_PROV_SHUTDOWN_DELAY_MS", value_parser = millis)]
    provider_shutdown_delay: Option<Duration>,
    /// Maximum execution time of a component invocation, in milliseconds
    #[arg(long = "max-execution-time-ms", env = "WASMCLOUD_MAX_EXECUTION_TIME_MS", default_value = "600000", value_parser = millis)]
    max_execution_time: Duration,
    /// Maximum linear memory of a component, in bytes
    #[arg(long = "max-linear-memory-bytes", env = "WASMCLOUD_MAX_LINEAR_MEMORY", default_value_t = 256 * 1024 * 1024)]
    max_linear_memory: u32,
    /// Maximum size of a component binary, in bytes
    #[arg(long = "max-component-size-bytes", env = "WASMCLOUD_MAX_COMPONENT_SIZE", default_value_t = 50 * 1024 * 1024)]
    max_component_size: u64,
    /// Maximum number of components running at once
    #[arg(long, env = "WASMCLOUD_MAX_COMPONENTS", default_value_t = 10_000)]
    max_components: u32,
    /// Maximum number of core instances per component
    #[arg(long, env = "WASMCLOUD_MAX_CORE_INSTANCES_PER_COMPONENT", default_value_t = 30)]
    max_core_instances_per_component: u32,
    /// Heartbeat interval, in seconds [default: 30]
    #[arg(long = "heartbeat-interval-seconds", env = "WASMCLOUD_HEARTBEAT_INTERVAL", value_parser = seconds)]
    heartbeat_interval: Option<Duration>,
    /// Take part in component auctions [default: true]
    #[arg(long = "enable-component-auction", env = "WASMCLOUD_COMPONENT_AUCTION_ENABLED")]
    component_auction: Option<bool>,
    /// Take part in provider auctions [default: true]
    #[arg(long = "enable-provider-auction", env = "WASMCLOUD_PROVIDER_AUCTION_ENABLED")]
    provider_auction: Option<bool>,
    /// Experimental features (comma-separated), e.g. `builtin-http-server`
    #[arg(long = "feature", env = "WASMCLOUD_EXPERIMENTAL_FEATURES", value_delimiter = ',')]
    experimental_features: Vec<Features>,
    /// Address of the HTTP admin endpoint (health checks)
    #[arg(long, env = "WASMCLOUD_HTTP_ADMIN")]
    http_admin: Option<std::net::SocketAddr>,

    // ----- OpenTelemetry -----
    /// Export traces, metrics and logs over OTLP
    #[arg(long = "enable-observability", env = "WASMCLOUD_OBSERVABILITY_ENABLED")]
    observability: bool,
    /// Export traces
    #[arg(long = "enable-traces", env = "WASMCLOUD_TRACES_ENABLED")]
    traces: Option<bool>,
    /// Export metrics
    #[arg(long = "enable-metrics", env = "WASMCLOUD_METRICS_ENABLED")]
    metrics: Option<bool>,
    /// Export logs
    #[arg(long = "enable-logs", env = "WASMCLOUD_LOGS_ENABLED")]
    logs: Option<bool>,
    /// OTLP endpoint for all signals
    #[arg(long = "override-observability-endpoint", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    observability_endpoint: Option<String>,
    /// OTLP protocol: `http` or `grpc`
    #[arg(long, env = "WASMCLOUD_OBSERVABILITY_PROTOCOL")]
    observability_protocol: Option<OtelProtocol>,
}

fn millis(s: &str) -> anyhow::Result<Duration> {
    Ok(Duration::from_millis(s.trim().parse().context("expected milliseconds")?))
}

fn seconds(s: &str) -> anyhow::Result<Duration> {
    Ok(Duration::from_secs(s.trim().parse().context("expected seconds")?))
}

fn label(s: &str) -> anyhow::Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.contains('=') => Ok((k.to_string(), v.to_string())),
        _ => bail!("invalid label `{s}`: expected `key=value`"),
    }
}

/// Labels from `WASMCLOUD_LABEL_<key>=value`, then from `--label` (which wins).
fn collect_labels(
    env: impl IntoIterator<Item = (String, String)>,
    args: &[(String, String)],
) -> HashMap<String, String> {
    let mut labels: HashMap<String, String> = env
        .into_iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(LABEL_ENV_PREFIX)?.to_string(), v)))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    for (k, v) in args {
        if labels.insert(k.clone(), v.clone()).is_some() {
            warn!(key = %k, "--label overrides the label of the same key from the environment");
        }
    }
    labels
}

/// A (JWT, key pair) for one NATS connection, from a credentials file or a JWT and a seed.
type NatsAuth = (Option<String>, Option<Arc<KeyPair>>);

fn nats_auth(creds: Option<&PathBuf>, jwt: Option<String>, seed: Option<String>) -> anyhow::Result<NatsAuth> {
    if let Some(path) = creds {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read NATS credentials {}", path.display()))?;
        let jwt = creds_section(&text, "NATS USER JWT")
            .with_context(|| format!("no user JWT in {}", path.display()))?;
        let seed = creds_section(&text, "USER NKEY SEED")
            .with_context(|| format!("no user seed in {}", path.display()))?;
        let key = KeyPair::from_seed(&seed).context("invalid seed in NATS credentials")?;
        return Ok((Some(jwt), Some(Arc::new(key))));
    }
    match (jwt, seed) {
        (Some(jwt), Some(seed)) => {
            let key = KeyPair::from_seed(&seed).context("invalid NATS seed")?;
            Ok((Some(jwt), Some(Arc::new(key))))
        }
        _ => Ok((None, None)),
    }
}

/// The first non-empty line after `-----BEGIN <name>-----` in a NATS `.creds` file.
fn creds_section(text: &str, name: &str) -> Option<String> {
    let begin = format!("BEGIN {name}");
    let mut lines = text.lines().skip_while(|l| !l.contains(&begin));
    lines.next()?;
    lines
        .map(str::trim)
        .find(|l| !l.is_empty())
        .filter(|l| !l.starts_with("---"))
        .map(str::to_string)
}

fn nats_url(host: &str, port: u16) -> anyhow::Result<Url> {
    Url::parse(&format!("nats://{host}:{port}")).with_context(|| format!("invalid NATS address {host}:{port}"))
}

/// A topic the host publishes to: dot-separated tokens, no wildcards.
fn check_subject(what: &str, subject: &str) -> anyhow::Result<()> {
    let ok = subject.split('.').all(|t| {
        !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    ensure!(ok, "invalid {what} `{subject}`: expected a NATS subject without wildcards");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();

    let otel_config = OtelConfig {
        enable_observability: args.observability,
        enable_traces: args.traces,
        enable_metrics: args.metrics,
        enable_logs: args.logs,
        observability_endpoint: args.observability_endpoint.clone(),
        protocol: args.observability_protocol.unwrap_or_default(),
        additional_ca_paths: args.tls_ca_paths.clone(),
        trace_level: HostLogLevel::from(args.trace_level),
        ..Default::default()
    };
    let log_level = HostLogLevel::from(args.log_level);
    let _flush_guard = match wasmcloud_tracing::configure_observability(
        "wasmcloud-host",
        &otel_config,
        args.structured_logging,
        None::<PathBuf>,
        Some(&log_level),
        Some(&otel_config.trace_level),
    ) {
        Ok((dispatch, guard)) => {
            dispatch.try_init().context("failed to install the log subscriber")?;
            Some(guard)
        }
        Err(e) => {
            eprintln!("failed to configure logging: {e:#}");
            None
        }
    };

    for name in OBSOLETE_ENV {
        if std::env::var_os(name).is_some() {
            warn!("{name} is set but wasmCloud 1.x hosts have no cluster keys; ignoring it");
        }
    }

    if let Some(topic) = &args.policy_topic {
        check_subject("policy topic", topic)?;
    }
    if let Some(topic) = &args.secrets_topic_prefix {
        check_subject("secrets topic", topic)?;
    }

    let provider_shutdown_delay = match args.provider_shutdown_delay {
        Some(delay) => delay,
        None => match std::env::var(PROVIDER_SHUTDOWN_DELAY_ALIAS) {
            Ok(v) => millis(&v).with_context(|| format!("invalid {PROVIDER_SHUTDOWN_DELAY_ALIAS}"))?,
            Err(_) => Duration::from_millis(300),
        },
    };

    let host_key = args
        .host_seed
        .as_deref()
        .map(KeyPair::from_seed)
        .transpose()
        .context("invalid WASMCLOUD_HOST_SEED")?
        .map(Arc::new);

    let (nats_jwt, nats_key) = nats_auth(args.nats_creds.as_ref(), args.nats_jwt, args.nats_seed)?;
    let (ctl_jwt, ctl_key) = nats_auth(args.ctl_creds.as_ref(), args.ctl_jwt, args.ctl_seed)?;
    let (rpc_jwt, rpc_key) = nats_auth(args.rpc_creds.as_ref(), args.rpc_jwt, args.rpc_seed)?;

    let ctl_nats_url = nats_url(
        args.ctl_host.as_deref().unwrap_or(&args.nats_host),
        args.ctl_port.unwrap_or(args.nats_port),
    )?;
    let rpc_nats_url = nats_url(
        args.rpc_host.as_deref().unwrap_or(&args.nats_host),
        args.rpc_port.unwrap_or(args.nats_port),
    )?;

    let labels = collect_labels(std::env::vars(), &args.labels);

    let config = WasmbusHostConfig {
        ctl_nats_url,
        ctl_jwt: ctl_jwt.or_else(|| nats_jwt.clone()),
        ctl_key: ctl_key.or_else(|| nats_key.clone()),
        ctl_tls: args.ctl_tls,
        ctl_topic_prefix: args.ctl_topic_prefix,
        rpc_nats_url,
        rpc_timeout: args.rpc_timeout,
        rpc_jwt: rpc_jwt.or(nats_jwt),
        rpc_key: rpc_key.or(nats_key),
        rpc_tls: args.rpc_tls,
        lattice: Arc::from(args.lattice),
        js_domain: args.js_domain,
        labels,
        host_key,
        provider_shutdown_delay: Some(provider_shutdown_delay),
        oci_opts: OciConfig {
            additional_ca_paths: args.tls_ca_paths,
            allow_latest: args.allow_latest,
            allowed_insecure: args.allowed_insecure,
            oci_registry: args.oci_registry,
            oci_user: args.oci_user,
            oci_password: args.oci_password,
        },
        allow_file_load: args.allow_file_load,
        enable_structured_logging: args.structured_logging,
        log_level,
        config_service_enabled: args.config_service_enabled,
        otel_config,
        policy_service_config: PolicyService {
            policy_topic: args.policy_topic,
            policy_changes_topic: args.policy_changes_topic,
            policy_timeout_ms: args.policy_timeout,
        },
        secrets_topic_prefix: args.secrets_topic_prefix,
        version: env!("CARGO_PKG_VERSION").to_string(),
        max_execution_time: args.max_execution_time,
        max_linear_memory: args.max_linear_memory,
        max_component_size: args.max_component_size,
        max_components: args.max_components,
        max_core_instances_per_component: args.max_core_instances_per_component,
        heartbeat_interval: args.heartbeat_interval,
        experimental_features: args.experimental_features.into_iter().sum(),
        http_admin: args.http_admin,
        enable_component_auction: args.component_auction.unwrap_or(true),
        enable_provider_auction: args.provider_auction.unwrap_or(true),
    };

    let (host, shutdown) = Box::pin(wasmcloud_host::wasmbus::Host::new(config))
        .await
        .context("failed to start the wasmCloud host")?;

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("failed to listen for SIGTERM")?;
    // A `stop host` command names its own deadline; a signal gets the default one.
    let deadline = tokio::select! {
        r = tokio::signal::ctrl_c() => {
            r.context("failed to listen for SIGINT")?;
            info!("SIGINT received, stopping the host");
            None
        }
        _ = sigterm.recv() => {
            info!("SIGTERM received, stopping the host");
            None
        }
        d = host.stopped() => d?,
    };
    drop(host);
    let deadline = deadline.unwrap_or_else(|| tokio::time::Instant::now() + SHUTDOWN_TIMEOUT);
    tokio::time::timeout_at(deadline, shutdown)
        .await
        .context("host shutdown timed out")?
        .context("host shutdown failed")?;
    info!("host stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn labels_come_from_env_and_args() {
        let env = [
            ("WASMCLOUD_LABEL_device".to_string(), "pi".to_string()),
            ("WASMCLOUD_LABEL_zone".to_string(), "desk".to_string()),
            ("WASMCLOUD_LABEL_".to_string(), "ignored".to_string()),
            ("WASMCLOUD_LATTICE".to_string(), "default".to_string()),
        ];
        let args = [("zone".to_string(), "lab".to_string())];
        let labels = collect_labels(env, &args);
        assert_eq!(labels.len(), 2);
        assert_eq!(labels["device"], "pi");
        assert_eq!(labels["zone"], "lab");
    }

    #[test]
    fn label_parsing() {
        assert_eq!(label("a=b").unwrap(), ("a".into(), "b".into()));
        assert!(label("a").is_err());
        assert!(label("=b").is_err());
        assert!(label("a=b=c").is_err());
    }

    #[test]
    fn subjects() {
        assert!(check_subject("t", "wasmcloud.secrets").is_ok());
        assert!(check_subject("t", "a-b_c.1").is_ok());
        for bad in ["", ".", "a..b", "a.", "a.*", "a.>", "a b", "a!b"] {
            assert!(check_subject("t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn creds_file_sections() {
        let text = "-----BEGIN NATS USER JWT-----\neyJabc\n------END NATS USER JWT------\n\n\
                    ************\n-----BEGIN USER NKEY SEED-----\nSUAXYZ\n------END USER NKEY SEED------\n";
        assert_eq!(creds_section(text, "NATS USER JWT").as_deref(), Some("eyJabc"));
        assert_eq!(creds_section(text, "USER NKEY SEED").as_deref(), Some("SUAXYZ"));
        let empty = "-----BEGIN NATS USER JWT-----\n------END NATS USER JWT------\n";
        assert_eq!(creds_section(empty, "NATS USER JWT"), None);
    }

    #[test]
    fn cli_accepts_official_env_names() {
        // clap reads the environment; check the parser definition is consistent.
        Args::command().debug_assert();
    }
}
