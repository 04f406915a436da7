//! The provider's resident memory once it is doing its job: started as a wasmCloud host starts it
//! (host data on stdin: the lattice's NATS, its config, one link), connected to a real NATS server,
//! linked, and after it has served updates; then left idle for `--settle` seconds and its VmRSS read
//! three times, 0.5 s apart (the largest is printed).
//!
//! `provider-rss --nats NATS_SERVER [--settle S] [--updates N] -- COMMAND [ARGS...]`
//!
//! COMMAND is the provider binary, or e.g. `qemu-aarch64 path/to/aarch64/oled-panel` (then the
//! figure includes the emulator). Prints `connected, linked, N updates served: RSS R KiB` last.

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use oled_bench::bindings::oled_lattice::panel::panel;

/// A child process killed when this program ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// The host data a wasmCloud 1.x host writes to a provider's stdin (base64 JSON), with one link
/// from a component to it, as wadm would put it.
fn host_data(port: u16, state_dir: &std::path::Path) -> String {
    let data = serde_json::json!({
        "host_id": "NBENCHHOST",
        "lattice_rpc_prefix": "default",
        "lattice_rpc_url": format!("nats://127.0.0.1:{port}"),
        "provider_key": "oled-panel",
        "instance_id": "rss-bench",
        "env_values": {},
        "link_definitions": [{
            "source_id": "oled-display",
            "target": "oled-panel",
            "name": "default",
            "wit_namespace": "oled-lattice",
            "wit_package": "panel",
            "interfaces": ["panel"],
            "source_config": {},
            "target_config": {},
        }],
        "config": {
            "backend": "virtual",
            "snapshot": "",
            "state_dir": state_dir.to_string_lossy(),
        },
    });
    base64_encode(data.to_string().as_bytes())
}

fn base64_encode(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::main]
async fn main() -> Result<()> {
    oled_bench::drops::install();
    let mut args = std::env::args().skip(1);
    let (mut nats_server, mut settle, mut updates) = (None::<PathBuf>, 5u64, 20usize);
    let mut command: Vec<String> = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--nats" => nats_server = args.next().map(PathBuf::from),
            "--settle" => settle = args.next().context("--settle S")?.parse()?,
            "--updates" => updates = args.next().context("--updates N")?.parse()?,
            "--" => {
                command = args.by_ref().collect();
            }
            other => bail!("unknown argument {other}"),
        }
    }
    let nats_server = nats_server.context("--nats NATS_SERVER is required")?;
    let (program, rest) = command
        .split_first()
        .context("usage: provider-rss --nats NATS_SERVER [--settle S] -- COMMAND [ARGS...]")?;

    let dir = std::env::temp_dir().join(format!("oled-provider-rss-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    let _nats = Reaped(
        Command::new(&nats_server)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", nats_server.display()))?,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("nats-server did not listen on {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    let log_path = dir.join("provider.log");
    let mut provider = Reaped(
        Command::new(program)
            .args(rest)
            .env("RUST_LOG", "info")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path)?)
            .spawn()
            .with_context(|| format!("starting {program}"))?,
    );
    let pid = provider.0.id();
    let mut stdin = provider.0.stdin.take().context("stdin")?;
    writeln!(stdin, "{}", host_data(port, &dir))?;
    // Kept open, as a host keeps it: a provider may treat a closed stdin as its host gone.

    let nats = async_nats::connect(format!("nats://127.0.0.1:{port}")).await?;
    let wrpc = wrpc_transport_nats::Client::new(nats, "default.oled-panel", None).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let info = loop {
        match tokio::time::timeout(Duration::from_secs(2), panel::info(&wrpc, None)).await {
            Ok(Ok(Ok(info))) => break info,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
            other => bail!(
                "the provider did not serve within 60 s ({other:?}); its log:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            ),
        }
    };
    let frames = [
        oled_text::demo(info.width, info.height).into_bytes(),
        oled_text::render(
            "Hello, lattice!",
            &oled_text::Style::default(),
            info.width,
            info.height,
        )
        .frame
        .into_bytes(),
    ];
    // A call whose reply this client itself dropped (oled_bench::drops: the crates.io transport's
    // race) is sent again, once per drop; any other failure ends the run.
    let mut resent = 0u64;
    let mut i = 0;
    while i < updates {
        let f = Bytes::from(frames[i % 2].clone());
        let dropped = oled_bench::drops::handshakes_dropped();
        match tokio::time::timeout(
            Duration::from_secs(5),
            panel::present_text(&wrpc, None, &f, "rss"),
        )
        .await
        {
            Ok(answer) => {
                answer?.map_err(|e| anyhow::anyhow!("present: {e:?}"))?;
                i += 1;
            }
            Err(_) if oled_bench::drops::handshakes_dropped() > dropped => resent += 1,
            Err(_) => bail!("present {i} was not answered within 5 s"),
        }
    }
    tokio::time::sleep(Duration::from_secs(settle)).await;
    let mut rss = 0;
    for i in 0..3 {
        rss = rss.max(rss_kib(pid));
        if i < 2 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    drop(stdin);
    drop(provider);
    let _ = std::fs::remove_dir_all(&dir);
    if rss == 0 {
        bail!("could not read the provider's VmRSS (pid {pid})");
    }
    if resent > 0 {
        eprintln!("{resent} updates sent again: this client had dropped their replies");
    }
    println!("connected, linked, {updates} updates served: RSS {rss} KiB");
    Ok(())
}
