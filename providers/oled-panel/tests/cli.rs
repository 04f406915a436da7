//! The binary as a host and as a person start it: host data on stdin, `--version`, `--check-config`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use wasmcloud_provider_sdk::HostData;

const BIN: &str = env!("CARGO_BIN_EXE_oled-panel");

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn version() {
    let o = run(&["--version"], b"");
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("oled-panel {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn check_config() {
    let good = run(&["--check-config", "address=0x3d", "size=128x32"], b"");
    assert!(good.status.success(), "{}", text(&good));
    assert!(text(&good).starts_with("config ok"));

    let bad = run(&["--check-config", "address=0x99"], b"");
    assert_eq!(bad.status.code(), Some(2));
    let out = text(&bad);
    assert!(out.starts_with("config error"), "{out}");
    assert!(
        out.contains("`address`") && out.contains("0x3C, 0x3D"),
        "{out}"
    );
}

#[test]
fn without_host_data_it_says_so_and_fails() {
    let o = run(&[], b"");
    assert!(!o.status.success());
    assert!(text(&o).contains("host data"), "{}", text(&o));
}

#[test]
fn reads_host_data_from_stdin_like_the_sdk_then_connects_to_the_lattice() {
    // Valid host data pointing at a NATS URL where nothing listens: the provider must parse it, log that it
    // is starting with that provider key, and fail on the connection (not on the host data).
    let host_data = HostData {
        host_id: "NTESTHOST".into(),
        lattice_rpc_prefix: "default".into(),
        lattice_rpc_url: "nats://127.0.0.1:1".into(),
        provider_key: "oled-panel".into(),
        instance_id: "test-instance".into(),
        config: [("backend", "virtual"), ("snapshot", "")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..HostData::default()
    };
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&host_data).unwrap());
    let o = run(&[], format!("{encoded}\n").as_bytes());
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("Starting capability provider oled-panel"),
        "{out}"
    );
    assert!(!out.contains("reading host data"), "{out}");
    assert!(out.contains("failed to start the provider"), "{out}");
}
