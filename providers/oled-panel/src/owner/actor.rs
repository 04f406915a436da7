//! The owner's state and its loop: bring the panel up, serve what is queued as one batch, save the
//! state once, then answer.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use super::sync::Syncer;
use super::ticker::{start_ticker, Running};
use super::{Request, Timing, BATCH};
use crate::backend::PanelBackend;
use crate::journal::Journal;
use crate::state::{PanelState, SavedTicker, StateFile};
use oled_driver::care::{CareState, Moment};
use oled_driver::PanelError;

/// Runs one backend call; a panic inside it becomes a `bus` error and the panel is treated as unknown,
/// so nothing a caller sends can take the provider down.
pub(super) fn guarded<T>(
    label: &str,
    backend: &mut Box<dyn PanelBackend>,
    f: impl FnOnce(&mut dyn PanelBackend) -> Result<T, PanelError>,
) -> Result<T, PanelError> {
    match catch_unwind(AssertUnwindSafe(|| f(backend.as_mut()))) {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            error!(panel = label, panic = %what, "panel call panicked; panel will be re-initialised");
            let _ = catch_unwind(AssertUnwindSafe(|| backend.forget()));
            Err(PanelError::bus(
                embedded_hal::i2c::ErrorKind::Other,
                format!("internal error in the panel driver: {what}"),
            ))
        }
    }
}

pub(super) fn log_result<T>(label: &str, op: &'static str, r: &Result<T, PanelError>) {
    match r {
        Ok(_) => {}
        Err(PanelError::Bus { kind, detail }) => {
            warn!(panel = label, op, kind = ?kind, error = %detail, "bus error; the panel will be re-initialised on the next call")
        }
        Err(PanelError::Absent(e)) => debug!(panel = label, op, error = %e, "panel absent"),
        Err(e) => debug!(panel = label, op, error = %e, "request refused"),
    }
}

/// Minute of the local day on this machine (the Pi's local time), if its time zone is known.
fn local_minute(zone: Option<&tz::TimeZone>) -> Option<u16> {
    let offset = zone?.find_current_local_time_type().ok()?.ut_offset();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let local = i64::try_from(now).ok()? + i64::from(offset);
    u16::try_from(local.rem_euclid(86_400) / 60).ok()
}

/// Unix time in ms (the journal's clock, shared with the bench that reads it).
pub(super) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(super) fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The owner thread's state.
pub(super) struct Owner {
    pub(super) label: String,
    pub(super) backend: Box<dyn PanelBackend>,
    pub(super) state_file: Option<StateFile>,
    /// The text of the frame on the panel, when the caller gave one.
    pub(super) text: Option<String>,
    /// A saved state not yet on the panel (the panel could not be brought up yet).
    pub(super) pending: Option<Option<PanelState>>,
    /// What was last written to the state file, to skip writes that change nothing.
    pub(super) saved: Option<PanelState>,
    /// Where the owner records the panel's health after each call.
    pub(super) health: Arc<Mutex<Result<(), String>>>,
    /// The panel changed since the state was last saved.
    pub(super) dirty: bool,
    /// Why the last state save failed, until one succeeds: the panel's health says so, and every
    /// batch tries again.
    pub(super) save_failing: Option<String>,
    /// Answers held until the state that they acknowledge is on disk.
    pub(super) held: Vec<Box<dyn FnOnce() + Send>>,
    /// Flushes saved states to the disk in the background.
    pub(super) syncer: Syncer,
    pub(super) timing: Timing,
    /// Night mode and burn-in care as last put on the panel.
    pub(super) care: CareState,
    /// The last update (or the owner's start): night mode's idle time.
    pub(super) last_update: Instant,
    pub(super) started: Instant,
    /// This machine's time zone, for quiet hours.
    pub(super) zone: Option<tz::TimeZone>,
    /// What reached the glass, when the config asks for it.
    pub(super) journal: Journal,
    /// The care ticker runs.
    pub(super) ticking: bool,
    /// The ticker (text on the move) running, if one is.
    pub(super) ticker: Option<Running>,
    /// Moves on with every ticker started or stopped; a software ticker's stepper stops when it does.
    pub(super) generation: Arc<AtomicU64>,
    /// The owner's own channel, held weakly, for the threads it starts.
    pub(super) ticks: Option<mpsc::WeakSender<Request>>,
    /// The last snapshot published while only ticker steps were served.
    pub(super) stepped_publish: Instant,
}

impl Owner {
    pub(super) fn new(
        label: String,
        backend: Box<dyn PanelBackend>,
        state_file: Option<StateFile>,
        health: Arc<Mutex<Result<(), String>>>,
    ) -> Self {
        let label_for_sync = label.clone();
        let saved = state_file.as_ref().and_then(|f| match f.load() {
            Ok(s) => s,
            Err(e) => {
                warn!(panel = %label, error = %e, "ignoring the saved panel state; starting blank");
                None
            }
        });
        if let Some(s) = &saved {
            info!(
                panel = %label,
                file = %state_file.as_ref().map(|f| f.path().display().to_string()).unwrap_or_default(),
                text = s.text.as_deref().unwrap_or(""),
                "restoring the saved picture"
            );
        }
        Self {
            text: saved.as_ref().and_then(|s| s.text.clone()),
            label,
            backend,
            state_file,
            pending: Some(saved.clone()),
            saved,
            health,
            dirty: false,
            save_failing: None,
            held: Vec::new(),
            syncer: Syncer::start(&label_for_sync),
            timing: Timing::default(),
            care: CareState::default(),
            last_update: Instant::now(),
            started: Instant::now(),
            zone: None,
            ticking: false,
            ticker: None,
            generation: Arc::new(AtomicU64::new(0)),
            ticks: None,
            stepped_publish: Instant::now(),
            journal: Journal::new(0, None),
        }
    }

    /// Keeps `capacity` journal entries, beside the state file when there is one.
    pub(super) fn open_journal(&mut self, capacity: usize) {
        let file = self.state_file.as_ref().map(StateFile::journal_path);
        self.journal = Journal::new(capacity, file);
    }

    /// Night mode and burn-in care: works out how the panel should be now and puts the difference on
    /// it (a few command bytes). A failure is logged; the next tick tries again.
    pub(super) fn tend(&mut self) {
        let policy = self.backend.care_policy();
        if !policy.is_active() && self.care == CareState::default() {
            return;
        }
        if policy.quiet.is_some() && self.zone.is_none() {
            self.zone = tz::TimeZone::local().ok();
        }
        let now = Moment {
            idle: self.last_update.elapsed(),
            local_minute: local_minute(self.zone.as_ref()),
            running: self.started.elapsed(),
        };
        let state = policy.state(&now, self.backend.free_rows());
        let label = self.label.clone();
        match guarded(&label, &mut self.backend, |b| b.apply_care(&policy, &state)) {
            Ok(cost) => {
                if state != self.care {
                    info!(
                        panel = %label,
                        level = state.level.name(),
                        quiet = state.quiet,
                        offset = state.offset,
                        bytes = cost.bytes,
                        "night mode / burn-in care"
                    );
                }
                self.care = state;
            }
            Err(e) => debug!(panel = %label, error = %e, "care not applied; next tick tries again"),
        }
    }

    /// Brings the panel up with the saved state if that has not happened yet.
    pub(super) fn bring_up(&mut self) {
        let Some(saved) = self.pending.take() else {
            return;
        };
        let info = self.backend.info();
        match guarded(&self.label, &mut self.backend, |b| b.start(saved.as_ref())) {
            Ok(cost) => {
                info!(
                    panel = %self.label,
                    backend = info.backend,
                    bus = %info.bus,
                    address = info.address,
                    width = info.width,
                    height = info.height,
                    rotation = info.rotation,
                    bytes = cost.bytes,
                    transactions = cost.transactions,
                    restored = saved.is_some(),
                    ticker = saved.as_ref().is_some_and(|s| s.ticker.is_some()),
                    "panel initialised"
                );
                // A ticker that ran when the state was saved runs again.
                if let Some(t) = saved.and_then(|s| s.ticker) {
                    if let Err(e) = self.begin_ticker(t.ticker, t.software) {
                        warn!(panel = %self.label, error = %e, "the saved ticker could not run again; its first picture stays");
                    }
                }
            }
            Err(e) => {
                error!(
                    panel = %self.label,
                    backend = info.backend,
                    bus = %info.bus,
                    address = info.address,
                    error = %e,
                    "panel could not be brought up; trying again before the next call"
                );
                self.pending = Some(saved);
            }
        }
    }

    /// Saves what the panel shows now, if it changed; a failure is logged, the call still succeeded.
    pub(super) fn persist(&mut self) {
        let Some(file) = &self.state_file else {
            return;
        };
        let Some(mut state) = self.backend.state() else {
            return;
        };
        state.text = self.text.clone();
        if let Some(t) = &self.ticker {
            // The ticker's first picture, not wherever a software step left it.
            state.frame = t.asked.frame_at(0);
            state.ticker = Some(SavedTicker {
                ticker: t.asked.clone(),
                software: t.software,
            });
        }
        if self.saved.as_ref() == Some(&state) {
            return;
        }
        match file.replace(&state) {
            Ok(()) => {
                self.saved = Some(state);
                self.syncer.sync(file.clone());
                self.save_failing = None;
            }
            Err(e) => {
                self.timing.state_failures += 1;
                self.save_failing = Some(format!(
                    "the panel's state could not be saved ({} failures so far: {e}): it shows the change, but a restart would bring back an older picture",
                    self.timing.state_failures
                ));
                warn!(panel = %self.label, error = %e, failures = self.timing.state_failures, "could not save the panel state");
            }
        }
    }

    /// Records the panel's health, then answers: a caller that checks health after its call sees it.
    pub(super) fn answer<T>(&self, reply: oneshot::Sender<T>, value: T) {
        self.record_health();
        let _ = reply.send(value);
    }

    /// Answers a call that may have changed the panel once its state is saved ([`Owner::flush`]).
    pub(super) fn hold<T: Send + 'static>(&mut self, reply: oneshot::Sender<T>, value: T) {
        self.held.push(Box::new(move || {
            let _ = reply.send(value);
        }));
    }

    /// Saves the state once for every change served since the last flush (group commit: one fsync
    /// for a burst of updates), then sends the answers that were waiting for it.
    pub(super) fn flush(&mut self) {
        self.timing.batches += 1;
        // A save that failed is tried again with every batch until one succeeds.
        if std::mem::take(&mut self.dirty) || self.save_failing.is_some() {
            let t = Instant::now();
            self.persist();
            let us = micros(t);
            self.timing.state_us += us;
            self.timing.state_max_us = self.timing.state_max_us.max(us);
        }
        // Before the answers it acknowledges: an update a 200 was sent for is in the journal.
        if let Err(e) = self.journal.save() {
            self.timing.journal_failures += 1;
            warn!(panel = %self.label, error = %e, failures = self.timing.journal_failures, "could not save the journal");
        }
        let t = Instant::now();
        self.backend.publish();
        let us = micros(t);
        self.timing.publish_us += us;
        self.timing.publish_max_us = self.timing.publish_max_us.max(us);
        self.record_health();
        for send in self.held.drain(..) {
            send();
        }
    }

    pub(super) fn record_health(&self) {
        let now = self
            .backend
            .health()
            .and_then(|()| self.save_failing.clone().map_or(Ok(()), Err));
        *self.health.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    /// Starts the care ticker once a policy asks for night mode or the pixel shift: a panel without
    /// them has no extra thread.
    pub(super) fn ensure_ticker(&mut self, ticks: &mpsc::WeakSender<Request>) {
        if !self.ticking && self.backend.care_policy().is_active() {
            self.ticking = start_ticker(&self.label, ticks.clone());
        }
    }

    pub(super) fn run(mut self, mut rx: mpsc::Receiver<Request>, ticks: mpsc::WeakSender<Request>) {
        self.ticks = Some(ticks.clone());
        self.ensure_ticker(&ticks);
        self.bring_up();
        self.backend.publish();
        self.record_health();
        while let Some(first) = rx.blocking_recv() {
            // Everything already queued is served as one batch, and its changes saved once.
            let mut next = Some(first);
            let mut served = 0;
            let mut go_on = true;
            let mut only_steps = true;
            while let Some(request) = next.take() {
                only_steps &= request.is_timer();
                if request.touches_bus() {
                    self.bring_up();
                }
                if matches!(request, Request::Shutdown(..)) {
                    // Everything before it is answered first.
                    self.flush();
                }
                let reconfigured = matches!(request, Request::Reconfigure(..));
                go_on = self.serve(request);
                if reconfigured {
                    self.ensure_ticker(&ticks);
                }
                served += 1;
                if !go_on || served >= BATCH {
                    break;
                }
                next = rx.try_recv().ok();
            }
            if only_steps {
                // A ticker's steps answer nobody and change no state: the snapshot follows once a
                // second, not at every step.
                self.record_health();
                if self.stepped_publish.elapsed() >= std::time::Duration::from_secs(1) {
                    self.stepped_publish = Instant::now();
                    self.backend.publish();
                }
                continue;
            }
            self.flush();
            if !go_on {
                break;
            }
        }
        rx.close();
    }
}
