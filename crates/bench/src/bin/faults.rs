//! The fault bench's caller and judge: a steady stream of updates through the real lattice while
//! `scripts/bench-faults.sh` breaks something, every answer recorded, then one table row.
//!
//! Callers: `--http N` send texts unique to the run as `POST /`, `--wrpc N` alternate `invoke.demo` /
//! `invoke.clear` over wRPC on the hub (as `wash call` does), one update every `--interval-ms` each
//! (a steady offered rate; 0: the next as soon as the last was answered), until `--stop-file` exists
//! or `--updates` were sent. An answer is 200, a clear refusal (HTTP 503/504 with a reason, or a
//! wRPC error with one, within 5 s), unclear (any other quick answer), slow (after 5 s, a 200 too),
//! or hung (HTTP: none in 15 s; a wRPC caller has its own 4.8 s deadline, as `wash call` does).
//! A row survives with no loss, nothing slow, unclear or hung, and recovery.
//!
//! Lost, update by update (`oled_bench::judge`): every HTTP update acknowledged with a 200 must be
//! in the provider's journal of what reached the glass (`inspect.journal`), in order; and the panel
//! must end on the last acknowledged update (`invoke.status`, `inspect.ascii`). Recovery runs from
//! the fault's end (`--events`: `fault_start=<ms>`, `fault_end=<ms>`; a kill ends when it is made) to
//! the first acknowledged update sent after it and after the last failed one. Last line: `RESULT <name> survived=<0|1> lost=<n> recovery_s=<s>`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use oled_bench::listing::expected_ascii;
use oled_text::DEMO_TEXT;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

use oled_bench::answer::{recovery_ms, Answer, CLEAR_WITHIN, HUNG_AFTER, WRPC_CALLER_DEADLINE};
use oled_bench::bindings::oled_lattice::{display::invoke, panel::inspect};
use oled_bench::judge::{judge_journal, Rules, TextUpdate};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

struct Args {
    name: String,
    http: String,
    nats: String,
    lattice: String,
    http_callers: usize,
    wrpc_callers: usize,
    interval: Duration,
    updates: Option<usize>,
    stop_file: Option<PathBuf>,
    events: Option<PathBuf>,
    check_stats: bool,
    /// The panel's state cannot be saved during the fault: some 200 must say so (`unsaved`).
    expect_unsaved: bool,
    /// Titles the demo screen may carry (a rollout changes it mid-run); the default one if none.
    demo_titles: Vec<String>,
    /// Tags this run's texts (its start, in ms modulo 10^6).
    run_tag: u64,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        name: "scenario".into(),
        http: "127.0.0.1:8080".into(),
        nats: "nats://127.0.0.1:4222".into(),
        lattice: "default".into(),
        http_callers: 4,
        wrpc_callers: 2,
        interval: Duration::from_millis(250),
        updates: None,
        stop_file: None,
        events: None,
        check_stats: false,
        expect_unsaved: false,
        demo_titles: Vec::new(),
        run_tag: now_ms() % 1_000_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--name" => a.name = value()?,
            "--http-addr" => a.http = value()?,
            "--nats" => a.nats = value()?,
            "--lattice" => a.lattice = value()?,
            "--http" => a.http_callers = value()?.parse()?,
            "--wrpc" => a.wrpc_callers = value()?.parse()?,
            "--interval-ms" => a.interval = Duration::from_millis(value()?.parse()?),
            "--updates" => a.updates = Some(value()?.parse()?),
            "--stop-file" => a.stop_file = Some(PathBuf::from(value()?)),
            "--events" => a.events = Some(PathBuf::from(value()?)),
            "--check-stats" => a.check_stats = true,
            "--expect-unsaved" => a.expect_unsaved = true,
            "--demo-title" => a.demo_titles.push(value()?),
            other => bail!("unknown argument {other}"),
        }
    }
    if a.updates.is_none() && a.stop_file.is_none() {
        bail!("give --updates N or --stop-file PATH");
    }
    Ok(a)
}

/// One `POST /` with a text body over a fresh connection; the status code, or an error.
async fn http_post(addr: &str, text: &str) -> Result<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let resp = String::from_utf8_lossy(&buf);
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .with_context(|| {
            format!(
                "not an HTTP answer: {:?}",
                resp.chars().take(80).collect::<String>()
            )
        })?;
    // The JSON answer, whatever the transfer encoding around it.
    let body = match (resp.find('{'), resp.rfind('}')) {
        (Some(a), Some(b)) if a < b => resp[a..=b].to_string(),
        _ => resp.split("\r\n\r\n").nth(1).unwrap_or("").to_string(),
    };
    Ok((status, body))
}

fn stopped(a: &Args, sent: usize) -> bool {
    if let Some(n) = a.updates {
        return sent >= n;
    }
    a.stop_file.as_ref().is_some_and(|f| f.exists())
}

/// Which kind of caller.
#[derive(Clone, Copy)]
enum Kind {
    Http,
    Wrpc,
}

/// One update: sent, answered (or not), recorded.
async fn one_update(
    a: Arc<Args>,
    kind: Kind,
    k: usize,
    i: usize,
    display: Arc<wrpc_transport_nats::Client>,
) -> Answer {
    let sent_ms = now_ms();
    let (expect, status, detail) = match kind {
        Kind::Http => {
            // Unique to this run: the journal of an earlier row cannot stand in for it.
            let text = format!("h{k}-{i} r{}", a.run_tag);
            let r = tokio::time::timeout(HUNG_AFTER, http_post(&a.http, &text)).await;
            let (status, detail) = match r {
                Ok(Ok((code, body))) => (Some(code), body),
                Ok(Err(e)) => (Some(0), format!("http: {e:#}")),
                Err(_) => (None, "http: no answer".into()),
            };
            (text, status, detail)
        }
        Kind::Wrpc => {
            let demo = i % 2 == 0;
            let r = if demo {
                tokio::time::timeout(WRPC_CALLER_DEADLINE, invoke::demo(display.as_ref(), None))
                    .await
            } else {
                tokio::time::timeout(WRPC_CALLER_DEADLINE, invoke::clear(display.as_ref(), None))
                    .await
            };
            let (status, detail) = match r {
                Ok(Ok(answer)) if !answer.contains("\"error\"") => (Some(200), answer),
                Ok(Ok(answer)) => (Some(0), format!("wrpc: {answer}")),
                Ok(Err(e)) => (Some(0), format!("wrpc: {e:#}")),
                Err(_) => (
                    Some(0),
                    format!(
                        "wrpc: did not answer in time: no answer within the caller's deadline of {} ms (as wash call --timeout-ms)",
                        WRPC_CALLER_DEADLINE.as_millis()
                    ),
                ),
            };
            let expect = if demo {
                DEMO_TEXT.into()
            } else {
                String::new()
            };
            (expect, status, detail)
        }
    };
    Answer {
        expect,
        sent_ms,
        done_ms: now_ms(),
        status,
        detail,
    }
}

/// A caller: with an interval, one update per tick whether or not earlier ones were answered (a
/// steady offered rate, as from a sensor); with interval 0, one after the other as fast as answered.
async fn caller(
    a: Arc<Args>,
    kind: Kind,
    k: usize,
    display: Arc<wrpc_transport_nats::Client>,
    log: Arc<Mutex<Vec<Answer>>>,
) {
    let mut i = 0;
    let mut inflight = tokio::task::JoinSet::new();
    let mut next = tokio::time::Instant::now();
    while !stopped(&a, i) {
        let job = one_update(a.clone(), kind, k, i, display.clone());
        if a.interval.is_zero() {
            let answer = job.await;
            log.lock().await.push(answer);
        } else {
            inflight.spawn(job);
            next += a.interval;
            tokio::time::sleep_until(next).await;
        }
        i += 1;
    }
    while let Some(r) = inflight.join_next().await {
        if let Ok(answer) = r {
            log.lock().await.push(answer);
        }
    }
}

/// The panel's size, as its status reports it.
struct PanelInfo {
    width: u16,
    height: u16,
}

fn read_events(path: &Option<PathBuf>) -> BTreeMap<String, u64> {
    let Some(p) = path else {
        return BTreeMap::new();
    };
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter_map(|(k, v)| Some((k.trim().to_string(), v.trim().parse().ok()?)))
        .collect()
}

/// One `inspect.stats` call, bounded in time; the error says which way it failed.
async fn provider_stats_once(
    panel: &wrpc_transport_nats::Client,
) -> Result<serde_json::Value, String> {
    let s = tokio::time::timeout(Duration::from_secs(5), inspect::stats(panel, None))
        .await
        .map_err(|_| "no answer in 5 s".to_string())?
        .map_err(|e| format!("{e:#}"))?;
    let v = serde_json::from_str::<serde_json::Value>(&s).map_err(|e| format!("not JSON: {e}"))?;
    // An owner that could not be reached answers `{"error": ...}` instead of its figures.
    if v["updates"].is_u64() {
        Ok(v)
    } else {
        Err(format!(
            "answered without figures: {}",
            s.chars().take(200).collect::<String>()
        ))
    }
}

/// The provider's stats, asked up to three times: the count is read once before and once after a
/// scenario, and one lost answer to this read-only call must not be taken for a lost update. Every
/// failed try is printed (stderr), so a provider that stops answering is still seen.
async fn provider_stats(
    panel: &wrpc_transport_nats::Client,
    what: &str,
) -> Option<serde_json::Value> {
    for attempt in 1..=3 {
        match provider_stats_once(panel).await {
            Ok(v) => return Some(v),
            Err(e) => {
                eprintln!("inspect.stats ({what}), try {attempt} of 3 failed: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    None
}

/// The provider's journal of what reached the glass, asked up to three times (as the stats).
async fn provider_journal(panel: &wrpc_transport_nats::Client) -> Result<String, String> {
    let mut why = String::new();
    for attempt in 1..=3 {
        match tokio::time::timeout(Duration::from_secs(5), inspect::journal(panel, None)).await {
            Ok(Ok(j)) => return Ok(j),
            Ok(Err(e)) => why = format!("{e:#}"),
            Err(_) => why = "no answer in 5 s".into(),
        }
        eprintln!("inspect.journal, try {attempt} of 3 failed: {why}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(why)
}

async fn provider_updates(panel: &wrpc_transport_nats::Client, what: &str) -> Option<u64> {
    provider_stats(panel, what).await?["updates"].as_u64()
}

#[tokio::main]
async fn main() -> Result<()> {
    oled_bench::drops::install();
    let a = Arc::new(parse_args()?);
    let nats = oled_bench::connect_nats(&a.nats).await?;
    let display = Arc::new(
        wrpc_transport_nats::Client::new(nats.clone(), format!("{}.oled-display", a.lattice), None)
            .await?,
    );
    let panel =
        wrpc_transport_nats::Client::new(nats, format!("{}.oled-panel", a.lattice), None).await?;
    let updates_before = if a.check_stats {
        provider_updates(&panel, "before").await
    } else {
        None
    };

    let log = Arc::new(Mutex::new(Vec::new()));
    let start = now_ms();
    let mut tasks = Vec::new();
    let callers = (0..a.http_callers)
        .map(|k| (Kind::Http, k))
        .chain((0..a.wrpc_callers).map(|k| (Kind::Wrpc, k)));
    for (kind, k) in callers {
        tasks.push(tokio::spawn(caller(
            a.clone(),
            kind,
            k,
            display.clone(),
            log.clone(),
        )));
    }
    for t in tasks {
        let _ = t.await;
    }
    let end = now_ms();
    let answers = log.lock().await.clone();
    let events = read_events(&a.events);

    // The final state: wait (bounded) until the display answers, then read the panel.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let r = tokio::time::timeout(
            Duration::from_secs(5),
            invoke::status(display.as_ref(), None),
        )
        .await;
        if let Ok(Ok(s)) = &r {
            if !s.contains("\"error\"") {
                break Some(s.clone());
            }
        }
        if Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let ascii = tokio::time::timeout(Duration::from_secs(5), inspect::ascii(&panel, None))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let (last_text, info) = match status
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        Some(Ok(v)) => (
            v["status"]["last_text"].as_str().map(str::to_string),
            serde_json::from_value::<serde_json::Value>(v["status"]["panel"].clone()).ok(),
        ),
        _ => (None, None),
    };
    let info = PanelInfo {
        width: info
            .as_ref()
            .and_then(|i| i["width"].as_u64())
            .unwrap_or(128) as u16,
        height: info
            .as_ref()
            .and_then(|i| i["height"].as_u64())
            .unwrap_or(64) as u16,
    };

    let ok: Vec<&Answer> = answers.iter().filter(|x| x.status == Some(200)).collect();
    let hung = answers.iter().filter(|x| x.status.is_none()).count();
    let slow = answers
        .iter()
        .filter(|x| x.status.is_some() && x.status != Some(200))
        .filter(|x| x.done_ms - x.sent_ms > CLEAR_WITHIN.as_millis() as u64)
        .count();
    let clear = answers.iter().filter(|x| x.refused_clearly()).count();
    // Quick but unclear: not a 200, not hung, not slow, and not a clear refusal.
    let unclear = answers
        .iter()
        .filter(|x| x.status.is_some() && x.status != Some(200))
        .count()
        - slow
        - clear;
    let slow_ok = ok
        .iter()
        .filter(|x| x.done_ms - x.sent_ms > CLEAR_WITHIN.as_millis() as u64)
        .count();
    // The last acknowledged update, by when it was answered; any 200 that overlapped it in time may
    // equally be the one the panel shows (the provider serves them in arrival order).
    let last = ok.iter().max_by_key(|x| x.done_ms);
    let lost = match last {
        None => 0,
        Some(last) => {
            // A 504 that overlapped it may also have landed (after it, even): it said so.
            let candidates: Vec<&Answer> = answers
                .iter()
                .filter(|x| x.status == Some(200) || x.may_land_late())
                .filter(|x| x.done_ms >= last.sent_ms)
                .collect();
            let text_ok = candidates
                .iter()
                .any(|c| last_text.as_deref() == Some(c.expect.as_str()));
            let picture_ok = candidates.iter().any(|c| {
                expected_ascii(&c.expect, info.width, info.height, &a.demo_titles)
                    .iter()
                    .any(|want| want.trim() == ascii.trim())
            });
            if text_ok && picture_ok {
                0
            } else {
                eprintln!(
                    "{}: the panel shows {:?}, the last acknowledged update was {:?} (picture {})",
                    a.name,
                    last_text,
                    last.expect,
                    if picture_ok { "matches" } else { "differs" }
                );
                1
            }
        }
    };
    let mut stats_note = String::new();
    let mut stats_ok = true;
    if a.check_stats {
        let after = provider_updates(&panel, "after").await;
        match (updates_before, after) {
            (Some(b), Some(x)) => {
                // Every 200 must have landed. A call answered "did not answer in time" (504) says
                // the frame may still land, so it may add one; nothing else may.
                let counted = x.saturating_sub(b);
                let late = answers.iter().filter(|x| x.may_land_late()).count() as u64;
                let ok_n = ok.len() as u64;
                stats_ok = counted >= ok_n && counted <= ok_n + late;
                stats_note = format!(
                    ", provider counted {counted} updates for {ok_n} answers 200 \
                     (+{late} answered 504, which may land late)"
                );
            }
            (b, _) => {
                stats_ok = false;
                let when = if b.is_none() { "before" } else { "after" };
                stats_note = format!(", provider stats unavailable {when} the run (3 tries)");
            }
        }
    }
    let fault_end = events.get("fault_end").copied();
    let fault_start = events.get("fault_start").copied();
    let failed_during = answers.iter().any(|x| x.status != Some(200));
    let recovery_ms = match fault_end {
        Some(fe) => recovery_ms(&answers, fe),
        None => Some(0),
    };
    // No failure at all means nothing had to recover.
    let recovery_ms = if failed_during { recovery_ms } else { Some(0) };
    let recovered = recovery_ms.is_some() && status.is_some();
    // Update by update: every HTTP update (its text unique to this run) against the provider's
    // journal of what reached the glass. Lost: acknowledged and never presented, or presented
    // after a newer one.
    let http: Vec<TextUpdate> = answers
        .iter()
        .filter(|x| x.expect.ends_with(&format!(" r{}", a.run_tag)))
        .map(|x| TextUpdate {
            text: &x.expect,
            sent_ms: x.sent_ms,
            done_ms: x.status.map(|_| x.done_ms),
            status: x.status,
            reason: &x.detail,
        })
        .collect();
    let verdict = match provider_journal(&panel).await {
        Ok(j) => judge_journal(&http, &j, start, &Rules::default()),
        Err(e) => Err(format!("no journal: {e}")),
    };
    let lost = lost
        + verdict
            .as_ref()
            .map_or(0, |v| v.lost.len() + v.out_of_order.len());
    let judged = verdict.is_ok() || http.is_empty();
    // Acknowledged, but the panel's state was not saved: the answer says so (issue 21).
    let unsaved = ok
        .iter()
        .filter(|x| x.detail.contains("\"unsaved\""))
        .count();
    let told = !a.expect_unsaved || unsaved > 0;
    // A 200 later than the bound fails the row, and so does every answer that is neither a 200 nor
    // a clear refusal within it.
    let survived = hung == 0
        && slow == 0
        && slow_ok == 0
        && unclear == 0
        && lost == 0
        && recovered
        && stats_ok
        && judged
        && told;
    let rate = answers.len() as f64 / ((end - start).max(1) as f64 / 1000.0);
    let fault = match (fault_start, fault_end) {
        (Some(s), Some(e)) => format!("{:.1} s", (e.saturating_sub(s)) as f64 / 1000.0),
        _ => "-".into(),
    };
    let recovery = recovery_ms.map_or("never".to_string(), |r| {
        format!("{:.1} s", r as f64 / 1000.0)
    });
    println!(
        "| {} | {} | {:.0}/s | {} | {} | {} | {} | {} | {} | {} | {} |{}",
        a.name,
        fault,
        rate,
        answers.len(),
        ok.len(),
        clear,
        unclear,
        slow + slow_ok,
        hung,
        lost,
        recovery,
        if survived { "" } else { " NOT SURVIVED" },
    );
    match &verdict {
        Ok(v) => println!("  {}: update by update, HTTP: {}", a.name, v.summary()),
        Err(e) if !http.is_empty() => println!("  {}: not judged update by update: {e}", a.name),
        Err(_) => {}
    }
    if !stats_note.is_empty() {
        println!("  {}{stats_note}", a.name);
        // Where a stall would be: the provider's slowest steps since it started.
        if let Some(v) = provider_stats(&panel, "timing").await {
            let t = &v["timing"];
            println!(
                "  {}: the provider's slowest present {:.1} ms, state write {:.1} ms, snapshot {:.1} ms (since it started)",
                a.name,
                t["present_max_us"].as_u64().unwrap_or(0) as f64 / 1e3,
                t["state_max_us"].as_u64().unwrap_or(0) as f64 / 1e3,
                t["publish_max_us"].as_u64().unwrap_or(0) as f64 / 1e3,
            );
        }
    }
    if a.expect_unsaved || unsaved > 0 {
        println!(
            "  {}: {unsaved} answers 200 said the panel's state was not saved (`unsaved`){}",
            a.name,
            if told {
                ""
            } else {
                ": none told, NOT SURVIVED"
            }
        );
    }
    let dropped = oled_bench::drops::handshakes_dropped();
    if dropped > 0 {
        // Not the lattice's doing: the bench's own client lost the reply (oled_bench::drops).
        println!(
            "  {}: the bench's own wRPC client dropped {dropped} handshake replies (its crates.io transport's race)",
            a.name
        );
    }
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for x in answers.iter().filter(|x| x.status != Some(200)) {
        let why: String = x.detail.chars().take(140).collect();
        *reasons.entry(format!("{:?} {why}", x.status)).or_default() += 1;
    }
    for (why, n) in reasons.iter().take(4) {
        println!("  {n} x {why}");
    }
    println!(
        "RESULT {} survived={} lost={} recovery_s={}",
        a.name,
        u8::from(survived),
        lost,
        recovery_ms.map_or("-1".to_string(), |r| format!("{:.1}", r as f64 / 1000.0))
    );
    Ok(())
}
