//! The single owner of a panel's bus.
//!
//! One OS thread owns the backend (and through it the driver and the bus); everything else holds a
//! [`PanelHandle`] and sends it requests over a bounded channel, each with a oneshot for the answer. So
//! any number of components presenting at once are served one after the other, whole, never interleaved
//! on the bus, and blocking I2C calls never stall the async runtime.
//!
//! The owner also keeps the panel's durable state (see [`crate::state`]): it restores it at start, with
//! one initialisation, and replaces the state file after every change before it answers, so whatever a
//! caller was told is on the panel survives a crash of the provider or its host. A background thread
//! then flushes the file to the disk (a power cut loses at most the changes of the last fsync's time):
//! one fsync can take seconds on a busy SD card, and no caller waits for it. Calls that arrive while
//! the owner is busy are served as one batch and saved once.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use crate::backend::{BackendInfo, PanelBackend};
use crate::config::PanelConfig;
use crate::journal::Journal;
use crate::state::{PanelState, SavedTicker, StateFile};
use oled_driver::care::{CareState, Moment};
use oled_driver::ticker::{Ticker, TickerPath, TickerRun};
use oled_driver::{Frame, PanelError, PanelStats, PresentCost};
use oled_frame::Strip;
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests waiting for the owner before senders are made to wait.
const QUEUE: usize = 64;
/// Most requests served before their changes are saved and answered.
const BATCH: usize = 64;

type Reply<T> = oneshot::Sender<Result<T, PanelError>>;

enum Request {
    Info(oneshot::Sender<BackendInfo>),
    /// A frame, its text, the size it was drawn for when the caller said, and the caller's span (the
    /// update's trace continues on the owner's thread).
    Present(
        Vec<u8>,
        Option<String>,
        Option<(u16, u16)>,
        tracing::Span,
        Reply<PresentCost>,
    ),
    Reconfigure(Box<PanelConfig>, Option<StateFile>, Reply<()>),
    LastText(oneshot::Sender<Option<String>>),
    Shown(oneshot::Sender<Option<oled_driver::Frame>>),
    SetContrast(u8, Reply<()>),
    SetPower(bool, Reply<()>),
    SetInvert(bool, Reply<()>),
    Ascii(oneshot::Sender<String>),
    Journal(oneshot::Sender<String>),
    Stats(oneshot::Sender<StatsReport>),
    Health(oneshot::Sender<Result<(), String>>),
    SaveFailure(oneshot::Sender<Option<String>>),
    Shutdown(bool, Reply<()>),
    /// Once a second from the owner's ticker: night mode and burn-in care look at the time.
    Tick,
    /// A ticker, its text, the caller's span.
    Ticker(Box<TickerAsk>, String, tracing::Span, Reply<TickerStarted>),
    /// Time for the next step of the software ticker of this generation.
    Step(u64),
}

/// A ticker as a caller asks for it (the wire's `ticker` record).
#[derive(Debug, Clone)]
pub struct TickerAsk {
    /// Width and height the first picture was drawn for.
    pub size: (u16, u16),
    /// The first picture.
    pub frame: Vec<u8>,
    /// Strip columns and pages, and its bytes.
    pub strip_width: u16,
    pub strip_pages: u8,
    pub strip: Vec<u8>,
    pub top_page: u8,
    /// Columns a second.
    pub speed: u16,
    /// The software path even where the controller could scroll.
    pub software: bool,
}

impl TickerAsk {
    /// The driver's ticker, checked against a panel of `width` x `height`.
    fn ticker(self, width: u16, height: u16) -> Result<Ticker, PanelError> {
        let (w, h) = self.size;
        if (w, h) != (width, height) {
            return Err(PanelError::BadFrame(format!(
                "a ticker drawn for {w}x{h}; this panel is {width}x{height} (after rotation)"
            )));
        }
        let frame =
            Frame::from_bytes(w, h, self.frame).map_err(|e| PanelError::BadFrame(e.to_string()))?;
        let strip = Strip::from_bytes(self.strip_width, self.strip_pages, self.strip)
            .map_err(|e| PanelError::BadFrame(format!("ticker strip: {e}")))?;
        Ticker::new(frame, strip, self.top_page, self.speed)
    }
}

/// How a started ticker runs, for its caller.
#[derive(Debug, Clone, PartialEq)]
pub struct TickerStarted {
    pub cost: PresentCost,
    pub path: TickerPath,
    /// Columns a second as it runs.
    pub speed: f64,
    pub why_software: Option<String>,
}

/// The ticker a panel runs, as `inspect.stats` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickerReport {
    /// `hardware` or `software`.
    pub path: &'static str,
    /// Columns a second.
    pub speed: f64,
    /// Columns the picture loops over.
    pub columns: u16,
    /// Seconds since it started.
    pub running_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_software: Option<String>,
}

/// A ticker running on the panel.
struct Running {
    run: TickerRun,
    started: Instant,
    /// The ticker as asked for, and whether the software path was: what the state keeps.
    asked: Ticker,
    software: bool,
}

/// What `inspect.stats` reports, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsReport {
    pub backend: &'static str,
    pub bus: String,
    pub address: u8,
    pub width: u16,
    pub height: u16,
    pub rotation: u16,
    #[serde(flatten)]
    pub panel: PanelStats,
    /// Where the owner's time went, for the lattice benchmark's breakdown.
    pub timing: Timing,
    /// Night mode and burn-in care now: awake, dimmed or off; quiet hours; display offset.
    pub care: CareState,
    /// The ticker running, if one is.
    pub ticker: Option<TickerReport>,
}

/// Totals of the owner's own time, in microseconds, since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Timing {
    /// Presents served.
    pub presents: u64,
    /// Planning and the bus (the emulator, for `virtual`), over all presents.
    pub present_us: u64,
    /// Batches flushed (each saves the state once and publishes once).
    pub batches: u64,
    /// Writing the state file (complete and renamed into place; its fsync runs in the background).
    pub state_us: u64,
    /// Publishing what the panel shows (the virtual panel's PNG snapshot).
    pub publish_us: u64,
    /// The slowest present, state write and publish so far: a stall shows here.
    pub present_max_us: u64,
    /// See `present_max_us`.
    pub state_max_us: u64,
    /// See `present_max_us`.
    pub publish_max_us: u64,
    /// State saves that failed (full disk, read-only filesystem, permissions): the panel showed
    /// the change, but a restart in that window would bring back an older picture.
    pub state_failures: u64,
    /// Journal saves that failed.
    pub journal_failures: u64,
}

impl StatsReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

/// A clonable way to the panel's owner. Cheap to clone; every clone talks to the same single owner.
#[derive(Clone, Debug)]
pub struct PanelHandle {
    tx: mpsc::Sender<Request>,
    /// The panel's health as of the owner's last call, so a health check never waits behind a queue.
    health: Arc<Mutex<Result<(), String>>>,
}

const STARTING: &str = "starting: the panel has not been brought up yet";

fn read(cell: &Mutex<Result<(), String>>) -> Result<(), String> {
    // A poisoned cell still holds the last value written whole.
    cell.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// How an owner starts.
#[derive(Debug, Default)]
pub struct Startup {
    /// Where the panel's state is kept; `None` keeps nothing.
    pub state: Option<StateFile>,
    /// The owner that drove this device before (a re-initialising reconfiguration): the new owner waits
    /// for it to let go of the bus before it touches the panel, so nobody else has to wait for it.
    pub predecessor: Option<JoinHandle<()>>,
    /// Entries of the journal of what reached the glass (kept beside the state file); 0: none.
    pub journal: usize,
}

/// Starts the owner thread for `backend`: it brings the panel up (initialise, dark frame) and then serves
/// requests until [`PanelHandle::shutdown`] or until every handle is dropped.
pub fn spawn(
    name: &str,
    backend: Box<dyn PanelBackend>,
) -> std::io::Result<(PanelHandle, JoinHandle<()>)> {
    spawn_with(name, backend, Startup::default())
}

/// [`spawn`], restoring the panel from `startup.state` (and saving to it after every change).
pub fn spawn_with(
    name: &str,
    backend: Box<dyn PanelBackend>,
    startup: Startup,
) -> std::io::Result<(PanelHandle, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let label = name.to_string();
    let health = Arc::new(Mutex::new(Err(STARTING.to_string())));
    let cell = Arc::clone(&health);
    // The owner's own channel, held weakly, for the care ticker it starts when night mode is asked for.
    let ticks = tx.downgrade();
    let thread = std::thread::Builder::new()
        .name(format!("panel {name}"))
        .spawn(move || {
            if let Some(previous) = startup.predecessor {
                let _ = previous.join();
            }
            let mut owner = Owner::new(label, backend, startup.state, cell);
            owner.open_journal(startup.journal);
            owner.run(rx, ticks)
        })?;
    Ok((PanelHandle { tx, health }, thread))
}

fn stopped() -> PanelError {
    PanelError::Absent("the panel owner has stopped (provider shutting down)".to_string())
}

impl PanelHandle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.ok()?;
        rx.await.ok()
    }

    pub async fn info(&self) -> Result<BackendInfo, PanelError> {
        self.ask(Request::Info).await.ok_or_else(stopped)
    }

    pub async fn present(&self, frame: Vec<u8>) -> Result<PresentCost, PanelError> {
        self.present_text(frame, None).await
    }

    /// [`PanelHandle::present`], remembering `text` as what the frame shows (kept with the state).
    pub async fn present_text(
        &self,
        frame: Vec<u8>,
        text: Option<String>,
    ) -> Result<PresentCost, PanelError> {
        self.present_sized(frame, text, None).await
    }

    /// [`PanelHandle::present_text`]; with `size` (width, height), the frame is refused as a bad
    /// frame unless that is the panel's size after rotation, checked by the owner with the frame.
    pub async fn present_sized(
        &self,
        frame: Vec<u8>,
        text: Option<String>,
        size: Option<(u16, u16)>,
    ) -> Result<PresentCost, PanelError> {
        let span = tracing::Span::current();
        self.ask(|r| Request::Present(frame, text, size, span, r))
            .await
            .unwrap_or_else(|| Err(stopped()))
    }

    /// Starts a ticker saying `text`; the next present (or ticker) stops it.
    pub async fn present_ticker(
        &self,
        ask: TickerAsk,
        text: String,
    ) -> Result<TickerStarted, PanelError> {
        let span = tracing::Span::current();
        self.ask(|r| Request::Ticker(Box::new(ask), text, span, r))
            .await
            .unwrap_or_else(|| Err(stopped()))
    }

    /// The picture the panel holds (as presented), if known: from memory, no bus traffic.
    pub async fn shown(&self) -> Option<oled_driver::Frame> {
        self.ask(Request::Shown).await.flatten()
    }

    /// The text the panel shows, as the last caller said (also after a restart, from the state).
    pub async fn last_text(&self) -> Option<String> {
        self.ask(Request::LastText).await.flatten()
    }

    /// Applies a configuration of the same device in place; `state` is where its state goes from now.
    pub async fn reconfigure(
        &self,
        config: PanelConfig,
        state: Option<StateFile>,
    ) -> Result<(), PanelError> {
        self.ask(|r| Request::Reconfigure(Box::new(config), state, r))
            .await
            .unwrap_or_else(|| Err(stopped()))
    }

    pub async fn set_contrast(&self, level: u8) -> Result<(), PanelError> {
        self.ask(|r| Request::SetContrast(level, r))
            .await
            .unwrap_or_else(|| Err(stopped()))
    }

    pub async fn set_power(&self, on: bool) -> Result<(), PanelError> {
        self.ask(|r| Request::SetPower(on, r))
            .await
            .unwrap_or_else(|| Err(stopped()))
    }

    pub async fn set_invert(&self, inverted: bool) -> Result<(), PanelError> {
        self.ask(|r| Request::SetInvert(inverted, r))
            .await
            .unwrap_or_else(|| Err(stopped()))
    }

    pub async fn ascii(&self) -> String {
        self.ask(Request::Ascii)
            .await
            .unwrap_or_else(|| format!("({})\n", stopped()))
    }

    /// The journal of what reached the glass, as JSON ([`crate::journal::Journal::to_json`]).
    pub async fn journal(&self) -> Option<String> {
        self.ask(Request::Journal).await
    }

    pub async fn stats(&self) -> Option<StatsReport> {
        self.ask(Request::Stats).await
    }

    /// `Err(reason)` while the panel is absent, its last contact failed or the owner has stopped. Reads
    /// what the owner recorded after its last call: it never waits for the owner.
    /// Why the panel's state could not be saved, while the last save attempt failed (a full or
    /// read-only disk); `None` once a save succeeded. A caller that asks right after a change learns
    /// whether that change was kept: answers to changes wait for the save ([`Owner::flush`]).
    pub async fn save_failure(&self) -> Option<String> {
        self.ask(Request::SaveFailure).await.flatten()
    }

    pub async fn health(&self) -> Result<(), String> {
        if self.tx.is_closed() {
            return Err(stopped().to_string());
        }
        read(&self.health)
    }

    /// Waits until the owner has served everything queued before this call (and so has brought the
    /// panel up, or tried to).
    pub async fn ready(&self) {
        let _ = self.ask(Request::Health).await;
    }

    /// Leaves the panel showing its last frame (or switched off if `blank`) and stops the owner. Requests
    /// queued before it are served first.
    pub async fn shutdown(&self, blank: bool) -> Result<(), PanelError> {
        self.ask(|r| Request::Shutdown(blank, r))
            .await
            .unwrap_or(Ok(()))
    }

    /// True once the owner has stopped.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Runs one backend call; a panic inside it becomes a `bus` error and the panel is treated as unknown,
/// so nothing a caller sends can take the provider down.
fn guarded<T>(
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

fn log_result<T>(label: &str, op: &'static str, r: &Result<T, PanelError>) {
    match r {
        Ok(_) => {}
        Err(PanelError::Bus { kind, detail }) => {
            warn!(panel = label, op, kind = ?kind, error = %detail, "bus error; the panel will be re-initialised on the next call")
        }
        Err(PanelError::Absent(e)) => debug!(panel = label, op, error = %e, "panel absent"),
        Err(e) => debug!(panel = label, op, error = %e, "request refused"),
    }
}

/// How often night mode and burn-in care look at the time.
const TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// Starts the care ticker of the owner behind `ticks`: a Tick a second. It holds the channel weakly,
/// so the owner still ends when its last handle goes, and the ticker when the owner does.
fn start_ticker(label: &str, ticks: mpsc::WeakSender<Request>) -> bool {
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
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The owner thread's state.
struct Owner {
    label: String,
    backend: Box<dyn PanelBackend>,
    state_file: Option<StateFile>,
    /// The text of the frame on the panel, when the caller gave one.
    text: Option<String>,
    /// A saved state not yet on the panel (the panel could not be brought up yet).
    pending: Option<Option<PanelState>>,
    /// What was last written to the state file, to skip writes that change nothing.
    saved: Option<PanelState>,
    /// Where the owner records the panel's health after each call.
    health: Arc<Mutex<Result<(), String>>>,
    /// The panel changed since the state was last saved.
    dirty: bool,
    /// Why the last state save failed, until one succeeds: the panel's health says so, and every
    /// batch tries again.
    save_failing: Option<String>,
    /// Answers held until the state that they acknowledge is on disk.
    held: Vec<Box<dyn FnOnce() + Send>>,
    /// Flushes saved states to the disk in the background.
    syncer: Syncer,
    timing: Timing,
    /// Night mode and burn-in care as last put on the panel.
    care: CareState,
    /// The last update (or the owner's start): night mode's idle time.
    last_update: Instant,
    started: Instant,
    /// This machine's time zone, for quiet hours.
    zone: Option<tz::TimeZone>,
    /// What reached the glass, when the config asks for it.
    journal: Journal,
    /// The care ticker runs.
    ticking: bool,
    /// The ticker (text on the move) running, if one is.
    ticker: Option<Running>,
    /// Moves on with every ticker started or stopped; a software ticker's stepper stops when it does.
    generation: Arc<AtomicU64>,
    /// The owner's own channel, held weakly, for the threads it starts.
    ticks: Option<mpsc::WeakSender<Request>>,
    /// The last snapshot published while only ticker steps were served.
    stepped_publish: Instant,
}

/// A thread that fsyncs the state file after each save, coalescing saves that come faster than the
/// disk: what was answered survives any crash at once (the file is complete and in place before the
/// answer), and a power cut within about one fsync's time of the last change.
struct Syncer {
    tx: std::sync::mpsc::Sender<StateFile>,
}

impl Syncer {
    fn start(label: &str) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<StateFile>();
        let label = label.to_string();
        let spawned = std::thread::Builder::new()
            .name(format!("state sync {label}"))
            .spawn(move || {
                while let Ok(mut file) = rx.recv() {
                    while let Ok(newer) = rx.try_recv() {
                        file = newer;
                    }
                    if let Err(e) = file.sync() {
                        warn!(panel = %label, error = %e, "could not flush the panel state to disk");
                    }
                }
            });
        if let Err(e) = spawned {
            warn!(error = %e, "no state sync thread; saved states reach the disk when the system flushes");
        }
        Self { tx }
    }

    fn sync(&self, file: StateFile) {
        let _ = self.tx.send(file);
    }
}

impl Owner {
    fn new(
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
    fn open_journal(&mut self, capacity: usize) {
        let file = self.state_file.as_ref().map(StateFile::journal_path);
        self.journal = Journal::new(capacity, file);
    }

    /// Forgets the running ticker: its stepper ends; a hardware scroll is stopped by whatever the
    /// driver sends next (or at once, with `halt`).
    fn end_ticker(&mut self, halt: bool) {
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
    fn begin_ticker(
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

    fn ticker_report(&self) -> Option<TickerReport> {
        let t = self.ticker.as_ref()?;
        Some(TickerReport {
            path: t.run.path.name(),
            speed: (t.run.speed * 1000.0).round() / 1000.0,
            columns: t.run.ticker.strip().width(),
            running_s: (t.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            why_software: t.run.why_software.clone(),
        })
    }

    /// Night mode and burn-in care: works out how the panel should be now and puts the difference on
    /// it (a few command bytes). A failure is logged; the next tick tries again.
    fn tend(&mut self) {
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
    fn bring_up(&mut self) {
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
    fn persist(&mut self) {
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
    fn answer<T>(&self, reply: oneshot::Sender<T>, value: T) {
        self.record_health();
        let _ = reply.send(value);
    }

    /// Answers a call that may have changed the panel once its state is saved ([`Owner::flush`]).
    fn hold<T: Send + 'static>(&mut self, reply: oneshot::Sender<T>, value: T) {
        self.held.push(Box::new(move || {
            let _ = reply.send(value);
        }));
    }

    /// Saves the state once for every change served since the last flush (group commit: one fsync
    /// for a burst of updates), then sends the answers that were waiting for it.
    fn flush(&mut self) {
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

    fn record_health(&self) {
        let now = self
            .backend
            .health()
            .and_then(|()| self.save_failing.clone().map_or(Ok(()), Err));
        *self.health.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    /// Starts the care ticker once a policy asks for night mode or the pixel shift: a panel without
    /// them has no extra thread.
    fn ensure_ticker(&mut self, ticks: &mpsc::WeakSender<Request>) {
        if !self.ticking && self.backend.care_policy().is_active() {
            self.ticking = start_ticker(&self.label, ticks.clone());
        }
    }

    fn run(mut self, mut rx: mpsc::Receiver<Request>, ticks: mpsc::WeakSender<Request>) {
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
                only_steps &= matches!(request, Request::Step(_) | Request::Tick);
                if !matches!(
                    request,
                    Request::Info(_)
                        | Request::Stats(_)
                        | Request::Health(_)
                        | Request::Ascii(_)
                        | Request::Journal(_)
                        | Request::LastText(_)
                        | Request::Shown(_)
                        | Request::Tick
                ) {
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

    /// Serves one request; false once the owner must stop.
    fn serve(&mut self, request: Request) -> bool {
        let label = self.label.clone();
        let label = label.as_str();
        match request {
            Request::Info(reply) => {
                self.answer(reply, self.backend.info());
            }
            Request::Present(frame, text, size, caller, reply) => {
                let span = tracing::info_span!(
                    parent: &caller,
                    "bus",
                    panel = label,
                    bytes = tracing::field::Empty,
                    transactions = tracing::field::Empty,
                    windows = tracing::field::Empty,
                );
                let _entered = span.enter();
                let t = Instant::now();
                let info = self.backend.info();
                // New text stops a ticker (the driver stops a hardware scroll on its way).
                if !matches!(size, Some((w, h)) if (w, h) != (info.width, info.height)) {
                    self.end_ticker(false);
                }
                let r = match size {
                    Some((w, h)) if (w, h) != (info.width, info.height) => {
                        Err(PanelError::BadFrame(format!(
                            "a frame drawn for {w}x{h}; this panel is {}x{} (after rotation)",
                            info.width, info.height
                        )))
                    }
                    _ => guarded(label, &mut self.backend, |b| b.present(&frame)),
                };
                let us = micros(t);
                self.timing.presents += 1;
                self.timing.present_us += us;
                self.timing.present_max_us = self.timing.present_max_us.max(us);
                if let Ok(cost) = &r {
                    span.record("bytes", cost.bytes);
                    span.record("transactions", cost.transactions);
                    span.record("windows", cost.windows);
                    debug!(
                        panel = %label,
                        bytes = cost.bytes,
                        transactions = cost.transactions,
                        windows = cost.windows,
                        pages = cost.pages_touched,
                        full_refresh = cost.full_refresh,
                        "presented"
                    );
                    self.journal
                        .record(text.as_deref().unwrap_or(""), unix_ms());
                    self.text = text;
                    self.dirty = true;
                    // An update wakes a dimmed or switched-off panel, and keeps the shift on the glass.
                    self.last_update = Instant::now();
                    self.tend();
                }
                log_result(label, "present", &r);
                self.hold(reply, r);
            }
            Request::Reconfigure(config, state_file, reply) => {
                self.end_ticker(true);
                let r = guarded(label, &mut self.backend, |b| b.reconfigure(&config));
                log_result(label, "reconfigure", &r);
                if state_file != self.state_file {
                    self.state_file = state_file;
                    self.saved = None;
                    self.open_journal(config.journal);
                } else if config.journal != self.journal.capacity() {
                    self.open_journal(config.journal);
                }
                self.dirty = true;
                self.hold(reply, r);
            }
            Request::LastText(reply) => {
                self.answer(reply, self.text.clone());
            }
            Request::Shown(reply) => {
                let shown = match &self.ticker {
                    Some(t) => Some(t.run.frame_at(t.started.elapsed())),
                    None => self.backend.shown(),
                };
                self.answer(reply, shown);
            }
            Request::Ticker(ask, text, caller, reply) => {
                let span = tracing::info_span!(parent: &caller, "ticker", panel = label);
                let _entered = span.enter();
                let info = self.backend.info();
                let software = ask.software;
                let r = ask
                    .ticker(info.width, info.height)
                    .and_then(|ticker| self.begin_ticker(ticker, software));
                if r.is_ok() {
                    self.text = Some(text);
                    self.dirty = true;
                    self.last_update = Instant::now();
                    self.tend();
                }
                log_result(label, "present-ticker", &r);
                self.hold(reply, r);
            }
            Request::Step(generation) => {
                let current = self.generation.load(Ordering::Acquire);
                // Switched off by night mode, nobody sees the steps: none go on the bus until it
                // wakes (the next step then shows the ticker where the clock says it is).
                let dark = self.care.level == oled_driver::care::Level::Off;
                if let Some(t) = self
                    .ticker
                    .as_ref()
                    .filter(|_| generation == current && !dark)
                {
                    if t.run.path == TickerPath::Software {
                        let frame = t.run.frame_at(t.started.elapsed());
                        let r = guarded(label, &mut self.backend, |b| b.present(frame.as_bytes()));
                        if let Err(e) = r {
                            debug!(panel = %label, error = %e, "ticker step not shown; the next one tries again");
                        }
                    }
                }
            }
            Request::SetContrast(level, reply) => {
                let r = guarded(label, &mut self.backend, |b| b.set_contrast(level));
                log_result(label, "set-contrast", &r);
                self.dirty = true;
                self.hold(reply, r);
            }
            Request::SetPower(on, reply) => {
                let r = guarded(label, &mut self.backend, |b| b.set_power(on));
                log_result(label, "set-power", &r);
                self.dirty = true;
                self.hold(reply, r);
            }
            Request::SetInvert(inverted, reply) => {
                let r = guarded(label, &mut self.backend, |b| b.set_invert(inverted));
                log_result(label, "set-invert", &r);
                self.dirty = true;
                self.hold(reply, r);
            }
            Request::Journal(reply) => {
                self.answer(reply, self.journal.to_json());
            }
            Request::SaveFailure(reply) => {
                self.answer(reply, self.save_failing.clone());
            }
            Request::Ascii(reply) => {
                let text = guarded(label, &mut self.backend, |b| Ok(b.ascii()))
                    .unwrap_or_else(|e| format!("({e})\n"));
                self.answer(reply, text);
            }
            Request::Stats(reply) => {
                let info = self.backend.info();
                let _ = reply.send(StatsReport {
                    backend: info.backend,
                    bus: info.bus,
                    address: info.address,
                    width: info.width,
                    height: info.height,
                    rotation: info.rotation,
                    panel: self.backend.stats(),
                    timing: self.timing,
                    care: self.care,
                    ticker: self.ticker_report(),
                });
            }
            Request::Health(reply) => {
                self.answer(reply, self.backend.health());
            }
            Request::Tick => self.tend(),
            Request::Shutdown(blank, reply) => {
                let r = guarded(label, &mut self.backend, |b| b.shutdown(blank));
                match &r {
                    Ok(()) => info!(panel = %label, blank, "panel owner stopped"),
                    Err(e) => {
                        warn!(panel = %label, blank, error = %e, "panel owner stopped after an error")
                    }
                }
                self.answer(reply, r);
                return false;
            }
        }
        true
    }
}
