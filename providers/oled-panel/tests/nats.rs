//! The binary on a real NATS server (loopback only), driven as a host and a component would: host data on
//! stdin, wRPC calls to the exports (versioned, as components name them, and `inspect` unversioned, as
//! `wash call` names it), a link with link config, and the host's shutdown message.
//!
//! Needs a `nats-server` binary: `$NATS_SERVER`, else `nats-server` on `PATH`, else the one
//! `scripts/install-tools.sh` installs. Without one the test fails and says how to get one: it never
//! passes without running.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use oled_frame::Frame;
use wasmcloud_provider_sdk::core::otel::{OtelConfig, OtelProtocol};
use wasmcloud_provider_sdk::{HostData, InterfaceLinkDefinition};
use wit_bindgen_wrpc::bytes::Bytes;
use wit_bindgen_wrpc::wrpc_transport::InvokeExt as _;

mod client {
    wit_bindgen_wrpc::generate!({ world: "client", path: "../../wit/panel" });
}
use client::oled_lattice::panel::panel;
use client::oled_lattice::panel::types::PanelError;

const PROVIDER_KEY: &str = "oled-panel-e2e";
const HOST_ID: &str = "NHOSTE2E";

fn find_nats_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NATS_SERVER") {
        return Some(PathBuf::from(p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join("nats-server");
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let home = std::env::var_os("HOME")?;
    let p = Path::new(&home).join(".cache/oled-lattice/tools/venv/bin/nats-server");
    p.is_file().then_some(p)
}

/// A child process killed when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nats-server did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Host data as a host sends it; with `otlp`, the host's OpenTelemetry settings point at that
/// endpoint (what a host started with `WASMCLOUD_OBSERVABILITY_ENABLED` passes on).
fn host_data_with(
    port: u16,
    snapshot: &Path,
    linked_snapshot: &Path,
    otlp: Option<String>,
) -> String {
    let link = InterfaceLinkDefinition {
        source_id: "comp-a".into(),
        target: PROVIDER_KEY.into(),
        name: "default".into(),
        wit_namespace: "oled-lattice".into(),
        wit_package: "panel".into(),
        interfaces: vec!["panel".into()],
        source_config: Default::default(),
        target_config: [
            ("address", "0x3D"),
            ("rotation", "90"),
            ("snapshot", linked_snapshot.to_str().unwrap()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        source_secrets: None,
        target_secrets: None,
    };
    let data = HostData {
        host_id: HOST_ID.into(),
        lattice_rpc_prefix: "default".into(),
        lattice_rpc_url: format!("nats://127.0.0.1:{port}"),
        provider_key: PROVIDER_KEY.into(),
        instance_id: "e2e".into(),
        link_definitions: vec![link],
        config: [
            ("backend", "virtual"),
            ("snapshot", snapshot.to_str().unwrap()),
            ("blank_on_shutdown", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        otel_config: OtelConfig {
            enable_observability: otlp.is_some(),
            observability_endpoint: otlp,
            protocol: OtelProtocol::Http,
            ..OtelConfig::default()
        },
        ..HostData::default()
    };
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&data).unwrap())
}

fn from(component: &str) -> Option<async_nats::HeaderMap> {
    let mut h = async_nats::HeaderMap::new();
    h.insert("source-id", component);
    Some(h)
}

/// A nats-server of its own and the provider binary started on it as a host starts it (host data on
/// stdin, with `otlp` as the host's OpenTelemetry endpoint), serving: `info` answered.
struct Harness {
    _dir: tempfile::TempDir,
    _nats_server: Reaped,
    provider: Reaped,
    nats: async_nats::Client,
    wrpc: wrpc_transport_nats::Client,
    log_path: PathBuf,
    snapshot: PathBuf,
    info: client::oled_lattice::panel::types::PanelInfo,
}

impl Harness {
    #[cfg(feature = "traces")]
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

async fn start(otlp: Option<String>) -> Harness {
    let Some(nats_server) = find_nats_server() else {
        panic!(
            "no nats-server: set NATS_SERVER, put one on PATH, or run ./scripts/install-tools.sh \
             (./scripts/test.sh does)"
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let nats_server = Reaped(
        Command::new(&nats_server)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(port);

    let snapshot = dir.path().join("panel.png");
    let linked_snapshot = dir.path().join("linked.png");
    let log_path = dir.path().join("provider.log");
    let mut provider = Reaped(
        Command::new(env!("CARGO_BIN_EXE_oled-panel"))
            .env("RUST_LOG", "info")
            // Spans are exported in batches: small ones, soon.
            .env("OTEL_BSP_SCHEDULE_DELAY", "200")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap(),
    );
    {
        use std::io::Write;
        let mut stdin = provider.0.stdin.take().unwrap();
        let data = host_data_with(port, &snapshot, &linked_snapshot, otlp);
        writeln!(stdin, "{data}").unwrap();
    }
    let nats = async_nats::connect(format!("nats://127.0.0.1:{port}"))
        .await
        .unwrap();
    let wrpc =
        wrpc_transport_nats::Client::new(nats.clone(), format!("default.{PROVIDER_KEY}"), None)
            .await
            .unwrap();
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    // Ready once `info` answers.
    let deadline = Instant::now() + Duration::from_secs(20);
    let info = loop {
        match tokio::time::timeout(Duration::from_secs(2), panel::info(&wrpc, None)).await {
            Ok(Ok(info)) => break info.unwrap(),
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("provider not serving: {other:?}\n{}", log()),
        }
    };
    Harness {
        _dir: dir,
        _nats_server: nats_server,
        provider,
        nats,
        wrpc,
        log_path,
        snapshot,
        info,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_on_a_real_nats() {
    let Harness {
        _dir,
        _nats_server,
        mut provider,
        nats,
        wrpc,
        log_path,
        snapshot,
        info,
    } = start(None).await;
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    assert_eq!(
        (info.width, info.height, info.backend.as_str()),
        (128, 64, "virtual")
    );

    // A frame, the same frame, a short frame.
    let mut f = Frame::new(128, 64).unwrap();
    f.set_pixel(4, 0, true);
    let cost = panel::present(&wrpc, None, &Bytes::copy_from_slice(f.as_bytes()))
        .await
        .unwrap()
        .unwrap();
    // One byte of page 0: addressing (mode, page, column) in one transaction, then the data.
    assert_eq!((cost.bytes, cost.transactions), (10, 2));
    let same = panel::present(&wrpc, None, &Bytes::copy_from_slice(f.as_bytes()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same.bytes, 0);
    let short = panel::present(&wrpc, None, &Bytes::from_static(b"xyz"))
        .await
        .unwrap();
    assert!(matches!(short, Err(PanelError::BadFrame(_))), "{short:?}");
    // A frame with its size: refused when the size is not the panel's, even at the same length.
    let mut g = f.clone();
    g.set_pixel(5, 5, true);
    let turned = panel::present_sized(
        &wrpc,
        None,
        64,
        128,
        &Bytes::copy_from_slice(g.as_bytes()),
        "turned",
    )
    .await
    .unwrap();
    assert!(matches!(turned, Err(PanelError::BadFrame(_))), "{turned:?}");
    let sized = panel::present_sized(
        &wrpc,
        None,
        128,
        64,
        &Bytes::copy_from_slice(g.as_bytes()),
        "sized",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        sized.bytes, 3,
        "one byte, the pointer already there: {sized:?}"
    );
    panel::set_contrast(&wrpc, None, 200)
        .await
        .unwrap()
        .unwrap();

    // Concurrent presents from many callers: all served.
    let mut calls = Vec::new();
    for i in 0..16u16 {
        let wrpc = wrpc.clone();
        calls.push(tokio::spawn(async move {
            let mut g = Frame::new(128, 64).unwrap();
            g.set_pixel(i * 7, i * 3, true);
            panel::present(&wrpc, None, &Bytes::copy_from_slice(g.as_bytes()))
                .await
                .unwrap()
        }));
    }
    for c in calls {
        c.await.unwrap().unwrap();
    }

    // The linked component's link config picks its own (portrait, 0x3D) panel.
    let linked = panel::info(&wrpc, from("comp-a")).await.unwrap().unwrap();
    assert_eq!(
        (linked.width, linked.height, linked.address),
        (64, 128, 0x3D)
    );

    // inspect, as a component names it and as `wash call` does (no version, a unit parameter).
    let versioned = client_inspect(&wrpc, "oled-lattice:panel/inspect@0.1.0", "stats").await;
    let stats: serde_json::Value = serde_json::from_str(&versioned).unwrap();
    assert_eq!(stats["backend"], "virtual");
    assert_eq!(stats["errors"], 0);
    let ascii = client_inspect(&wrpc, "oled-lattice:panel/inspect", "ascii").await;
    assert_eq!(ascii.lines().count(), 64);
    let before = std::fs::read(&snapshot).unwrap();

    // The host's shutdown: the provider blanks the panel (configured), acknowledges and exits cleanly.
    let reply = nats
        .request(
            format!("wasmbus.rpc.default.{PROVIDER_KEY}.default.shutdown"),
            serde_json::to_vec(&serde_json::json!({ "host_id": HOST_ID }))
                .unwrap()
                .into(),
        )
        .await
        .unwrap();
    assert_eq!(&reply.payload[..], b"shutting down");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = provider.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "provider did not exit\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}\n{}", log());
    let after = std::fs::read(&snapshot).unwrap();
    assert_ne!(before, after, "blank_on_shutdown switched the panel off");
    assert!(log().contains("panel owner stopped"), "{}", log());
}

async fn client_inspect(wrpc: &wrpc_transport_nats::Client, instance: &str, func: &str) -> String {
    let (text,): (String,) = wrpc
        .invoke_values_blocking::<_, ((),), (String,)>(None, instance, func, ((),), &[[]; 0])
        .await
        .unwrap();
    text
}

/// A minimal OTLP/HTTP receiver: answers every request 200 and keeps (path, body).
#[cfg(feature = "traces")]
async fn otlp_receiver() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = got.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // One request: headers, then content-length bytes of body.
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 8192];
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        let mut chunk = [0u8; 8192];
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = buf[head_end..head_end + len].to_vec();
                    buf.drain(..head_end + len);
                    keep.lock().unwrap().push((path, body));
                    let ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if conn.write_all(ok).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, got)
}

/// The provider honours the host's OpenTelemetry settings (host data), and an update's trace goes
/// on through it: the caller's trace context (as the host puts it in the invocation's headers) is
/// the parent of the provider's `present-text` span and of its `bus` span, which records the bytes.
#[cfg(feature = "traces")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_is_traced_to_the_hosts_otlp_endpoint() {
    let (otlp, got) = otlp_receiver().await;
    let h = start(Some(otlp)).await;
    let (wrpc, log) = (h.wrpc.clone(), || h.log());

    // The caller's trace, as a W3C traceparent header.
    let trace_id: [u8; 16] = *b"oled-trace-0001!";
    let hex: String = trace_id.iter().map(|b| format!("{b:02x}")).collect();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(
        "traceparent",
        format!("00-{hex}-00f067aa0ba902b7-01").as_str(),
    );
    let mut f = Frame::new(128, 64).unwrap();
    f.set_pixel(9, 9, true);
    panel::present_text(
        &wrpc,
        Some(headers),
        &Bytes::copy_from_slice(f.as_bytes()),
        "traced",
    )
    .await
    .unwrap()
    .unwrap();

    // Spans are exported in batches: wait for ours.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let bodies: Vec<Vec<u8>> = got
            .lock()
            .unwrap()
            .iter()
            .filter(|(path, _)| path.ends_with("/v1/traces"))
            .map(|(_, b)| b.clone())
            .collect();
        let ours = |needle: &[u8]| {
            bodies
                .iter()
                .any(|b| b.windows(needle.len()).any(|w| w == needle))
        };
        // OTLP protobuf carries the trace id as raw bytes and names as UTF-8.
        if ours(&trace_id) && ours(b"present-text") && ours(b"bus") && ours(b"oled-panel") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no trace with id {hex} and spans present-text + bus from oled-panel reached the \
             OTLP endpoint ({} trace exports; trace id {}, present-text {}, bus {}, oled-panel {})\n{}",
            bodies.len(),
            ours(&trace_id),
            ours(b"present-text"),
            ours(b"bus"),
            ours(b"oled-panel"),
            log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
