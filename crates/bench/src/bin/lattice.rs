//! Latency of the whole path: a wRPC client on the hub NATS invokes the display component on the laptop
//! host, which calls the OLED provider on the pi host through the leaf NATS and back. Alternates `demo` and
//! `clear` so that every call is a real panel update. Prints figures; never fails on one.
//!
//! `lattice [NATS_URL] [LATTICE] [N]` (defaults: nats://127.0.0.1:4222, default, 200)

use anyhow::{bail, Context, Result};
use std::time::{Duration, Instant};

use oled_bench::bindings::oled_lattice::{display::invoke, panel::inspect};

/// A call that takes longer than this is reported as a failure, never waited on forever.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the first call may take to find a working path (component, link, provider).
const WARM_UP: Duration = Duration::from_secs(30);

async fn timed<T>(
    what: &str,
    f: impl std::future::Future<Output = anyhow::Result<T>>,
) -> Result<T> {
    tokio::time::timeout(CALL_TIMEOUT, f)
        .await
        .with_context(|| format!("{what}: no answer within {CALL_TIMEOUT:?}"))?
        .with_context(|| what.to_string())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Bytes the panel has put on its bus so far, from the provider's `inspect.stats` JSON.
async fn bus_bytes(panel: &wrpc_transport_nats::Client) -> Result<u64> {
    let stats = timed("inspect.stats", inspect::stats(panel, None)).await?;
    let v: serde_json::Value = serde_json::from_str(&stats).context("stats JSON")?;
    v["bytes"]
        .as_u64()
        .with_context(|| format!("no `bytes` in {stats}"))
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let lattice = args.next().unwrap_or_else(|| "default".into());
    let n: usize = args.next().map_or(Ok(200), |s| s.parse()).context("N")?;

    let nats = async_nats::connect(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let display =
        wrpc_transport_nats::Client::new(nats.clone(), format!("{lattice}.oled-display"), None)
            .await?;
    let panel =
        wrpc_transport_nats::Client::new(nats, format!("{lattice}.oled-panel"), None).await?;

    // Warm up: instantiate the component and make sure the path works before timing it. Right after
    // a deploy the links can still be on their way to the hosts, so give the path some time.
    let deadline = Instant::now() + WARM_UP;
    loop {
        let why = match timed("invoke.status", invoke::status(&display, None)).await {
            Ok(answer) if !answer.contains("\"error\"") => break,
            Ok(answer) => format!("the display answered with an error: {answer}"),
            Err(e) => format!("{e:#}"),
        };
        if Instant::now() > deadline {
            bail!("the lattice path did not work within {WARM_UP:?}: {why}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let bytes_before = bus_bytes(&panel).await?;

    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        let answer = if i % 2 == 0 {
            timed("invoke.demo", invoke::demo(&display, None)).await
        } else {
            timed("invoke.clear", invoke::clear(&display, None)).await
        }
        .with_context(|| format!("call {i}"))?;
        lat.push(t.elapsed());
        if answer.contains("\"error\"") {
            bail!("call {i}: {answer}");
        }
    }
    let total = start.elapsed();
    let bytes = bus_bytes(&panel).await? - bytes_before;

    lat.sort();
    println!("path: client -> hub NATS ({url}) -> laptop host (oled-display) -> leaf NATS -> pi host (oled-panel)");
    println!("calls: {n}, alternating demo/clear (each a real panel update)");
    println!(
        "latency: min {:.2} ms, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(lat[0]),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.9)),
        ms(percentile(&lat, 0.99)),
        ms(lat[lat.len() - 1])
    );
    println!(
        "I2C bytes the panel received: {bytes} ({:.0} per update)",
        bytes as f64 / n as f64
    );
    println!(
        "lattice: p50 {:.2} ms, p99 {:.2} ms, {:.0} updates/s",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        n as f64 / total.as_secs_f64()
    );
    Ok(())
}
