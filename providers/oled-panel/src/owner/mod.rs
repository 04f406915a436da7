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
//!
//! The module's parts: this file has the requests and the handle; `report` the answers' types;
//! `actor` the owner's state and loop; `serve` what it does for each request; `ticker` the threads
//! that wake it (care ticks, ticker steps); `sync` the thread that flushes the state to the disk.

mod actor;
mod report;
mod serve;
mod sync;
mod ticker;

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use crate::backend::BackendInfo;
use crate::backend::PanelBackend;
use crate::config::PanelConfig;
use crate::state::StateFile;
use oled_driver::{PanelError, PresentCost};

pub use report::{StatsReport, TickerAsk, TickerReport, TickerStarted, Timing};

/// Requests waiting for the owner before senders are made to wait.
const QUEUE: usize = 64;
/// Most requests served before their changes are saved and answered.
const BATCH: usize = 64;

type Reply<T> = oneshot::Sender<Result<T, PanelError>>;

/// What a handle (or one of the owner's own threads) asks the owner for, with where the answer goes.
enum Request {
    Info(oneshot::Sender<BackendInfo>),
    /// A frame to show.
    Present {
        frame: Vec<u8>,
        /// What the frame shows, kept with the state.
        text: Option<String>,
        /// The size the caller drew it for, when it said: refused unless it is the panel's.
        size: Option<(u16, u16)>,
        /// The caller's span: the update's trace continues on the owner's thread.
        span: tracing::Span,
        reply: Reply<PresentCost>,
    },
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
    /// Once a second from the owner's care ticker: night mode and burn-in care look at the time.
    Tick,
    /// A ticker to run.
    Ticker {
        ask: Box<TickerAsk>,
        /// What it says, kept with the state.
        text: String,
        /// The caller's span.
        span: tracing::Span,
        reply: Reply<TickerStarted>,
    },
    /// Time for the next step of the software ticker of this generation.
    Step(u64),
}

impl Request {
    /// Whether serving it may need the panel: the owner brings the panel up first (with the saved
    /// state) if that has not happened yet. Reports and care ticks only read what the owner knows.
    fn touches_bus(&self) -> bool {
        !matches!(
            self,
            Request::Info(_)
                | Request::Stats(_)
                | Request::Health(_)
                | Request::Ascii(_)
                | Request::Journal(_)
                | Request::LastText(_)
                | Request::Shown(_)
                | Request::Tick
        )
    }

    /// Whether it comes from the owner's own clock (a care tick, a ticker step): it answers nobody
    /// and changes no state.
    fn is_timer(&self) -> bool {
        matches!(self, Request::Step(_) | Request::Tick)
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
            let mut owner = actor::Owner::new(label, backend, startup.state, cell);
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
        self.ask(|reply| Request::Present {
            frame,
            text,
            size,
            span,
            reply,
        })
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
        self.ask(|reply| Request::Ticker {
            ask: Box::new(ask),
            text,
            span,
            reply,
        })
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
