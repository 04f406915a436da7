//! The threads that wake the owner: the care ticker (a tick a second, for night mode and burn-in
//! care) and a software ticker's stepper; and the owner's side of a ticker.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tracing::{info, warn};

use super::actor::{guarded, log_result, Owner};
use super::{Request, TickerReport, TickerStarted};
use oled_driver::ticker::{Ticker, TickerRun};
use oled_driver::PanelError;

/// A ticker running on the panel.
pub(super) struct Running {
    pub(super) run: TickerRun,
    pub(super) started: Instant,
    /// The ticker as asked for, and whether the software path was: what the state keeps.
    pub(super) asked: Ticker,
    pub(super) software: bool,
}

/// How often night mode and burn-in care look at the time.
const TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// Starts the care ticker of the owner behind `ticks`: a Tick a second. It holds the channel weakly,
/// so the owner still ends when its last handle goes, and the ticker when the owner does.
pub(super) fn start_ticker(label: &str, ticks: mpsc::WeakSender<Request>) -> bool {
    let spawned = std::thread::Builder::new()
        .name(format!("care {label}"))
        .spawn(move || loop {
            std::thread::sleep(TICK);
            let Some(tx) = ticks.upgrade() else { break };
            if tx.blocking_send(Request::Tick).is_err() {
                break;
            }
        });
    if let Err(e) = &spawned {
        warn!(panel = label, error = %e, "no care ticker: night mode and pixel shift stay off");
    }
    spawned.is_ok()
}

/// Starts the thread that asks the owner for the next step of a software ticker every `period`,
/// until the owner's ticker generation moves on from `mine` (new text, another ticker) or the owner
/// ends. A step it cannot queue (the owner is busy) is skipped: each step shows the ticker where the
/// clock says it is, so a late step catches up instead of slowing it down.
fn start_stepper(
    label: &str,
    ticks: mpsc::WeakSender<Request>,
    generation: Arc<AtomicU64>,
    mine: u64,
    period: std::time::Duration,
) {
    let spawned = std::thread::Builder::new()
        .name(format!("ticker {label}"))
        .spawn(move || loop {
            std::thread::sleep(period);
            if generation.load(Ordering::Acquire) != mine {
                break;
            }
            let Some(tx) = ticks.upgrade() else { break };
            if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(Request::Step(mine)) {
                break;
            }
        });
    if let Err(e) = spawned {
        warn!(panel = label, error = %e, "no ticker thread: the ticker stays at its first picture");
    }
}

impl Owner {
    /// Forgets the running ticker: its stepper ends; a hardware scroll is stopped by whatever the
    /// driver sends next (or at once, with `halt`).
    pub(super) fn end_ticker(&mut self, halt: bool) {
        if self.ticker.take().is_none() {
            return;
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        if halt {
            let label = self.label.clone();
            let r = guarded(&label, &mut self.backend, |b| b.stop_ticker());
            log_result(&label, "stop-ticker", &r);
        }
    }

    /// Starts `ticker` on the panel (stopping any other) and, on the software path, its stepper.
    pub(super) fn begin_ticker(
        &mut self,
        ticker: Ticker,
        software: bool,
    ) -> Result<TickerStarted, PanelError> {
        self.end_ticker(false);
        let label = self.label.clone();
        let run = guarded(&label, &mut self.backend, |b| {
            b.start_ticker(&ticker, software)
        })?;
        info!(
            panel = %label,
            path = run.path.name(),
            speed = run.speed,
            columns = run.ticker.strip().width(),
            bytes = run.cost.bytes,
            why_software = run.why_software.as_deref().unwrap_or(""),
            "ticker started"
        );
        let started = TickerStarted {
            cost: run.cost,
            path: run.path,
            speed: run.speed,
            why_software: run.why_software.clone(),
        };
        let mine = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        if let (Some(period), Some(ticks)) = (run.step_period(), self.ticks.clone()) {
            start_stepper(&label, ticks, Arc::clone(&self.generation), mine, period);
        }
        self.ticker = Some(Running {
            run,
            started: Instant::now(),
            asked: ticker,
            software,
        });
        Ok(started)
    }

    pub(super) fn ticker_report(&self) -> Option<TickerReport> {
        let t = self.ticker.as_ref()?;
        Some(TickerReport {
            path: t.run.path.name(),
            speed: (t.run.speed * 1000.0).round() / 1000.0,
            columns: t.run.ticker.strip().width(),
            running_s: (t.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            why_software: t.run.why_software.clone(),
        })
    }
}
