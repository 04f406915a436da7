//! Latency of the whole path: a wRPC client on the hub NATS invokes the display component on the laptop
//! host, which calls the OLED provider on the pi host through the leaf NATS and back. Alternates `demo` and
//! `clear` so that every call is a real panel update. Prints figures; never fails on one.
//!
//! Then where the time goes, each part measured on its own in the same run:
//! - NATS: a round trip to the hub, and hub -> leaf -> hub (a responder of ours on the leaf);
//! - the provider called directly from the hub (`info`, and `present-text` of the same two frames the
//!   component sends), which includes the two NATS hops;
//! - inside the provider (its `inspect.stats` timing): planning and the bus, the state file, the
//!   snapshot;
//! - the component: what is left of a `clear` once its provider call is taken out (with its
//!   `panel-size` configured, the component makes one provider call per update).
//!
//! And a phase with several callers at once (`C`), for throughput.
//!
//! `lattice [NATS_URL] [LATTICE] [N] [LEAF_URL] [C]` (defaults: nats://127.0.0.1:4222, default, 200,
//! nats://127.0.0.1:4223, 4)

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use std::time::{Duration, Instant};

use oled_bench::bindings::oled_lattice::{
    display::invoke,
    panel::{inspect, panel},
};

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
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort();
    percentile(&v, 0.5)
}

/// The provider's `inspect.stats` JSON.
async fn stats(panel: &wrpc_transport_nats::Client) -> Result<serde_json::Value> {
    let stats = timed("inspect.stats", inspect::stats(panel, None)).await?;
    serde_json::from_str(&stats).context("stats JSON")
}

fn field(v: &serde_json::Value, path: &[&str]) -> u64 {
    path.iter().fold(v, |v, k| &v[k]).as_u64().unwrap_or(0)
}

/// One update through the component: `demo` on even calls, `clear` on odd ones.
async fn update(display: &wrpc_transport_nats::Client, i: usize) -> Result<()> {
    let answer = if i % 2 == 0 {
        timed("invoke.demo", invoke::demo(display, None)).await
    } else {
        timed("invoke.clear", invoke::clear(display, None)).await
    }
    .with_context(|| format!("call {i}"))?;
    if answer.contains("\"error\"") {
        bail!("call {i}: {answer}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let lattice = args.next().unwrap_or_else(|| "default".into());
    let n: usize = args.next().map_or(Ok(200), |s| s.parse()).context("N")?;
    let leaf_url = args
        .next()
        .unwrap_or_else(|| "nats://127.0.0.1:4223".into());
    let callers: usize = args.next().map_or(Ok(4), |s| s.parse()).context("C")?;

    let nats = oled_bench::connect_nats(&url).await?;
    let display =
        wrpc_transport_nats::Client::new(nats.clone(), format!("{lattice}.oled-display"), None)
            .await?;
    let panel =
        wrpc_transport_nats::Client::new(nats.clone(), format!("{lattice}.oled-panel"), None)
            .await?;

    // Warm up: instantiate the component and make sure the path works before timing it. Right after
    // a deploy the links can still be on their way to the hosts, so give the path some time, and ask
    // for ten updates in a row that work.
    let deadline = Instant::now() + WARM_UP;
    let mut in_a_row = 0;
    while in_a_row < 10 {
        match update(&display, in_a_row).await {
            Ok(()) => in_a_row += 1,
            Err(e) if Instant::now() > deadline => {
                bail!("the lattice path did not work within {WARM_UP:?}: {e:#}")
            }
            Err(_) => {
                in_a_row = 0;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    let before = stats(&panel).await?;

    // One caller, one update at a time.
    let mut lat = Vec::with_capacity(n);
    let (mut lat_demo, mut lat_clear) = (Vec::new(), Vec::new());
    let start = Instant::now();
    let mut failed: Vec<String> = Vec::new();
    for i in 0..n {
        let t = Instant::now();
        if let Err(e) = update(&display, i).await {
            // Counted and shown, not timed: a benchmark never stops on one slow answer.
            failed.push(format!("{e:#}"));
            continue;
        }
        lat.push(t.elapsed());
        if i % 2 == 0 {
            lat_demo.push(t.elapsed());
        } else {
            lat_clear.push(t.elapsed());
        }
    }
    let total = start.elapsed();
    if lat.is_empty() {
        bail!(
            "no call answered; the first failure: {}",
            failed.first().map_or("", |s| s.as_str())
        );
    }
    let after = stats(&panel).await?;
    let bytes = field(&after, &["bytes"]) - field(&before, &["bytes"]);
    let updates = field(&after, &["updates"]) - field(&before, &["updates"]);
    lat.sort();

    // Several callers at once.
    let per = n.div_ceil(callers.max(1));
    let start_c = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..callers.max(1) {
        let display = display.clone();
        tasks.spawn(async move {
            let mut lat = Vec::with_capacity(per);
            let mut failed = Vec::new();
            for i in 0..per {
                let t = Instant::now();
                match update(&display, c + i).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(e) => failed.push(format!("{e:#}")),
                }
            }
            (lat, failed)
        });
    }
    let mut lat_c = Vec::with_capacity(per * callers);
    let mut failed_c: Vec<String> = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (lat, failed) = r.context("caller task")?;
        lat_c.extend(lat);
        failed_c.extend(failed);
    }
    let total_c = start_c.elapsed();
    let after_c = stats(&panel).await?;
    let updates_c = field(&after_c, &["updates"]) - field(&after, &["updates"]);
    lat_c.sort();

    // Where the time goes. NATS alone: a round trip to the hub, and one through the leaf.
    const K: usize = 100;
    let mut hub = Vec::with_capacity(K);
    for _ in 0..K {
        let t = Instant::now();
        nats.flush().await.context("flush")?;
        hub.push(t.elapsed());
    }
    let leaf_rtt = match leaf_round_trips(&nats, &leaf_url, K).await {
        Ok(v) => Some(p50(v)),
        Err(e) => {
            eprintln!("hub -> leaf -> hub not measured: {e:#}");
            None
        }
    };

    // The provider called directly, with the frames the component sends for demo and clear.
    let info = timed("panel.info", panel::info(&panel, None))
        .await?
        .map_err(|e| anyhow::anyhow!("panel.info: {e:?}"))?;
    let frames = [
        (
            Bytes::from(oled_text::demo(info.width, info.height).into_bytes()),
            oled_text::DEMO_TEXT,
        ),
        (
            Bytes::from(oled_text::blank(info.width, info.height).into_bytes()),
            "",
        ),
    ];
    let (mut p_info, mut p_present) = (Vec::with_capacity(K), Vec::with_capacity(K));
    let before_p = stats(&panel).await?;
    for i in 0..K {
        let t = Instant::now();
        timed("panel.info", panel::info(&panel, None))
            .await?
            .map_err(|e| anyhow::anyhow!("panel.info: {e:?}"))?;
        p_info.push(t.elapsed());
        let (frame, text) = &frames[i % 2];
        let t = Instant::now();
        timed(
            "panel.present-text",
            panel::present_text(&panel, None, frame, text),
        )
        .await?
        .map_err(|e| anyhow::anyhow!("panel.present-text: {e:?}"))?;
        p_present.push(t.elapsed());
    }
    let after_p = stats(&panel).await?;
    let per_present = |k: &str| {
        let d = field(&after_p, &["timing", k]).saturating_sub(field(&before_p, &["timing", k]));
        let n = field(&after_p, &["timing", "presents"])
            .saturating_sub(field(&before_p, &["timing", "presents"]))
            .max(1);
        Duration::from_micros(d / n)
    };
    let per_batch = |k: &str| {
        let d = field(&after_p, &["timing", k]).saturating_sub(field(&before_p, &["timing", k]));
        let n = field(&after_p, &["timing", "batches"])
            .saturating_sub(field(&before_p, &["timing", "batches"]))
            .max(1);
        Duration::from_micros(d / n)
    };
    let (hub_p50, info_p50, present_p50) = (p50(hub), p50(p_info), p50(p_present));
    let whole = percentile(&lat, 0.5);
    let (demo_p50, clear_p50) = (p50(lat_demo), p50(lat_clear));
    // Both draw for the component's `panel-size` and make one provider call.
    let component = clear_p50.saturating_sub(present_p50);

    println!("path: client -> hub NATS ({url}) -> laptop host (oled-display) -> leaf NATS -> pi host (oled-panel)");
    println!("one caller: {n} calls alternating demo/clear, each a real panel update");
    println!(
        "latency: min {:.2} ms, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {:.0} updates/s",
        ms(lat[0]),
        ms(whole),
        ms(percentile(&lat, 0.9)),
        ms(percentile(&lat, 0.99)),
        ms(lat[lat.len() - 1]),
        n as f64 / total.as_secs_f64()
    );
    println!(
        "I2C bytes the panel received: {bytes} ({:.0} per update); the provider counted {updates} updates",
        bytes as f64 / n as f64
    );
    for (phase, f) in [("one caller", &failed), ("several callers", &failed_c)] {
        if let Some(first) = f.first() {
            println!(
                "{phase}: {} calls failed (not in the figures); the first: {first}",
                f.len()
            );
        }
    }
    println!(
        "{callers} callers at once: {} calls answered, p50 {:.2} ms, p99 {:.2} ms, {:.0} updates/s; the provider counted {updates_c}",
        lat_c.len(),
        ms(percentile(&lat_c, 0.5)),
        ms(percentile(&lat_c, 0.99)),
        lat_c.len() as f64 / total_c.as_secs_f64()
    );
    println!();
    println!("where one update's time goes (p50 of {K} each, measured on its own in this run):");
    println!("| part | ms |");
    println!("|---|---:|");
    println!("| NATS round trip client <-> hub | {:.3} |", ms(hub_p50));
    match leaf_rtt {
        Some(d) => println!("| NATS round trip hub -> leaf -> hub | {:.3} |", ms(d)),
        None => println!("| NATS round trip hub -> leaf -> hub | not measured |"),
    }
    println!(
        "| provider `info` from the hub (both hops included) | {:.3} |",
        ms(info_p50)
    );
    println!(
        "| provider `present-text` from the hub (both hops included) | {:.3} |",
        ms(present_p50)
    );
    println!(
        "| .. of which planning and the bus (emulator), per present | {:.3} |",
        ms(per_present("present_us"))
    );
    println!(
        "| .. of which the state file, per batch | {:.3} |",
        ms(per_batch("state_us"))
    );
    println!(
        "| .. of which the snapshot, per batch | {:.3} |",
        ms(per_batch("publish_us"))
    );
    if let Some(leaf) = leaf_rtt {
        let rest = present_p50.saturating_sub(
            leaf + per_present("present_us") + per_batch("state_us") + per_batch("publish_us"),
        );
        println!(
            "| .. the rest: wRPC framing and tasks on both ends, the owner's queue | {:.3} |",
            ms(rest)
        );
    }
    println!(
        "| the component and the laptop host (a `clear` minus its one provider call) | {:.3} |",
        ms(component)
    );
    println!(
        "| a whole `clear` through the component (draws for `panel-size`: one provider call) | {:.3} |",
        ms(clear_p50)
    );
    println!(
        "| a whole `demo` through the component (one provider call too) | {:.3} |",
        ms(demo_p50)
    );
    println!();
    println!(
        "lattice: p50 {:.2} ms, p99 {:.2} ms, {:.0} updates/s",
        ms(whole),
        ms(percentile(&lat, 0.99)),
        lat_c.len() as f64 / total_c.as_secs_f64()
    );
    Ok(())
}

/// Round trips from the hub through the leaf and back: a responder of ours subscribed on the leaf.
async fn leaf_round_trips(
    hub: &async_nats::Client,
    leaf_url: &str,
    k: usize,
) -> Result<Vec<Duration>> {
    use futures::StreamExt as _;
    let leaf = oled_bench::connect_nats(leaf_url)
        .await
        .context("connecting to the leaf")?;
    let subject = format!("oled.bench.echo.{}", std::process::id());
    let mut sub = leaf.subscribe(subject.clone()).await?;
    let responder = leaf.clone();
    let echo = tokio::spawn(async move {
        while let Some(m) = sub.next().await {
            if let Some(reply) = m.reply {
                let _ = responder.publish(reply, m.payload).await;
            }
        }
    });
    leaf.flush().await?;
    // The subscription takes a moment to reach the hub over the leaf link.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout(
            Duration::from_millis(500),
            hub.request(subject.clone(), Bytes::new()),
        )
        .await
        {
            Ok(Ok(_)) => break,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => bail!("no answer through the leaf within 10 s"),
        }
    }
    let mut v = Vec::with_capacity(k);
    for _ in 0..k {
        let t = Instant::now();
        tokio::time::timeout(CALL_TIMEOUT, hub.request(subject.clone(), Bytes::new()))
            .await
            .context("leaf round trip timed out")??;
        v.push(t.elapsed());
    }
    echo.abort();
    Ok(v)
}
