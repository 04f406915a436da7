//! `oled-supervise --unit FILE [--name NAME] [--pidfile FILE] [--restart no|on-failure|always]
//! [--restart-sec SPAN] -- COMMAND [ARGS...]`
//!
//! Runs COMMAND the way systemd runs the unit FILE: restarted per its `Restart=` after
//! `RestartSec=`, given up after `StartLimitBurst=` starts within `StartLimitIntervalSec=`, stopped
//! on SIGTERM/SIGINT with `KillMode=mixed` and `TimeoutStopSec=`, restarted at once on SIGHUP
//! (`systemctl restart`). The pid file always names the running process (its own process group).
//! Every event is one line on stderr: `oled-supervise[NAME] <unix ms> <event>`.
//! Exit status: 0 after a stop asked for, else the last exit's code (1 for a signal or a give-up).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use oled_supervise::{parse_timespan, Controls, Event, Exit, Policy, Restart, Supervisor};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("oled-supervise: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    let mut unit: Option<PathBuf> = None;
    let mut name = String::from("service");
    let mut pidfile = None;
    let mut restart = None;
    let mut restart_sec = None;
    let mut command: Vec<OsString> = Vec::new();
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("{} needs a value", a.to_string_lossy()))
        };
        match a.to_str() {
            Some("--unit") => unit = Some(value()?.into()),
            Some("--name") => name = value()?.to_string_lossy().into_owned(),
            Some("--pidfile") => pidfile = Some(PathBuf::from(value()?)),
            Some("--restart") => restart = Some(value()?.to_string_lossy().into_owned()),
            Some("--restart-sec") => restart_sec = Some(value()?.to_string_lossy().into_owned()),
            Some("--") => {
                command.extend(args.by_ref());
                break;
            }
            _ => bail!("unknown argument {a:?} (usage: --unit FILE [--name N] [--pidfile F] [--restart R] [--restart-sec S] -- COMMAND...)"),
        }
    }
    let mut policy = match &unit {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Policy::from_unit(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => Policy::default(),
    };
    if let Some(r) = restart {
        let probe = format!("[Service]\nRestart={r}\n");
        policy.restart = Policy::from_unit(&probe)?.restart;
    }
    if let Some(s) = restart_sec {
        policy.restart_sec = parse_timespan(&s).map_err(anyhow::Error::msg)?;
    }
    if command.is_empty() {
        bail!("no command after --");
    }

    let controls = Arc::new(Controls::default());
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        register_stop(sig, &controls).context("installing signal handlers")?;
    }
    register_restart(&controls).context("installing the SIGHUP handler")?;

    let restart_name = match policy.restart {
        Restart::No => "no",
        Restart::OnFailure => "on-failure",
        Restart::OnAbnormal => "on-abnormal",
        Restart::Always => "always",
    };
    log(
        &name,
        &format!(
            "policy Restart={restart_name} RestartSec={:?} TimeoutStopSec={:?} StartLimitBurst={} StartLimitIntervalSec={:?}",
            policy.restart_sec, policy.timeout_stop, policy.start_limit_burst, policy.start_limit_interval
        ),
    );
    let sup = Supervisor {
        policy,
        command,
        pidfile,
    };
    let last = sup.run(&controls, |e| {
        log(
            &name,
            &match e {
                Event::Started { pid } => format!("started pid {pid}"),
                Event::Exited {
                    exit,
                    restart_in: Some(d),
                } => format!("ended ({exit}): restarting in {d:?}"),
                Event::Exited {
                    exit,
                    restart_in: None,
                } => format!("ended ({exit}): not restarted"),
                Event::GaveUp { burst, interval } => {
                    format!("gave up: {burst} starts within {interval:?}")
                }
                Event::Stopping { pid } => format!("stopping pid {pid} (SIGTERM)"),
                Event::Killed { pid } => {
                    format!("pid {pid} did not stop in time: SIGKILL to its group")
                }
            },
        )
    })?;
    let asked = controls.stop.load(std::sync::atomic::Ordering::SeqCst);
    Ok(match (asked, last) {
        (true, _) => ExitCode::SUCCESS,
        (false, Some(Exit::Code(c))) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        _ => ExitCode::from(1),
    })
}

fn register_stop(sig: i32, controls: &Arc<Controls>) -> std::io::Result<()> {
    let c = controls.clone();
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        signal_hook::low_level::register(sig, move || {
            c.stop.store(true, std::sync::atomic::Ordering::SeqCst)
        })
    }
    .map(|_| ())
}

fn register_restart(controls: &Arc<Controls>) -> std::io::Result<()> {
    let c = controls.clone();
    // SAFETY: as above.
    unsafe {
        signal_hook::low_level::register(signal_hook::consts::SIGHUP, move || {
            c.restart.store(true, std::sync::atomic::Ordering::SeqCst)
        })
    }
    .map(|_| ())
}

fn log(name: &str, what: &str) {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    eprintln!("oled-supervise[{name}] {ms} {what}");
}
