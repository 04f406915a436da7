//! The single owner of a panel's bus.
//!
//! One OS thread owns the backend (and through it the driver and the bus); everything else holds a
//! [`PanelHandle`] and sends it requests over a bounded channel, each with a oneshot for the answer. So
//! any number of components presenting at once are served one after the other, whole, never interleaved
//! on the bus, and blocking I2C calls never stall the async runtime.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread::JoinHandle;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use crate::backend::{BackendInfo, PanelBackend};
use crate::panel::{PanelError, PanelStats, PresentCost};

/// Requests waiting for the owner before senders are made to wait.
const QUEUE: usize = 64;

type Reply<T> = oneshot::Sender<Result<T, PanelError>>;

enum Request {
    Info(oneshot::Sender<BackendInfo>),
    Present(Vec<u8>, Reply<PresentCost>),
    SetContrast(u8, Reply<()>),
    SetPower(bool, Reply<()>),
    SetInvert(bool, Reply<()>),
    Ascii(oneshot::Sender<String>),
    Stats(oneshot::Sender<StatsReport>),
    Health(oneshot::Sender<Result<(), String>>),
    Shutdown(bool, Reply<()>),
}

/// What `inspect.stats` reports, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsReport {
    pub backend: &'static str,
    pub bus: String,
    pub address: u8,
    pub width: u16,
    pub height: u16,
    pub rotation: u16,
    #[serde(flatten)]
    pub panel: PanelStats,
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
}

/// Starts the owner thread for `backend`: it brings the panel up (initialise, dark frame) and then serves
/// requests until [`PanelHandle::shutdown`] or until every handle is dropped.
pub fn spawn(
    name: &str,
    backend: Box<dyn PanelBackend>,
) -> std::io::Result<(PanelHandle, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let label = name.to_string();
    let thread = std::thread::Builder::new()
        .name(format!("panel {name}"))
        .spawn(move || run(label, backend, rx))?;
    Ok((PanelHandle { tx }, thread))
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
        self.ask(|r| Request::Present(frame, r))
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

    pub async fn stats(&self) -> Option<StatsReport> {
        self.ask(Request::Stats).await
    }

    /// `Err(reason)` while the panel is absent, its last contact failed or the owner has stopped.
    pub async fn health(&self) -> Result<(), String> {
        self.ask(Request::Health)
            .await
            .unwrap_or_else(|| Err(stopped().to_string()))
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
            Err(PanelError::Bus(format!(
                "internal error in the panel driver: {what}"
            )))
        }
    }
}

fn log_result<T>(label: &str, op: &'static str, r: &Result<T, PanelError>) {
    match r {
        Ok(_) => {}
        Err(PanelError::Bus(e)) => {
            warn!(panel = label, op, error = %e, "bus error; the panel will be re-initialised on the next call")
        }
        Err(PanelError::Absent(e)) => debug!(panel = label, op, error = %e, "panel absent"),
        Err(e) => debug!(panel = label, op, error = %e, "request refused"),
    }
}

fn run(label: String, mut backend: Box<dyn PanelBackend>, mut rx: mpsc::Receiver<Request>) {
    let info = backend.info();
    match guarded(&label, &mut backend, |b| b.start()) {
        Ok(cost) => info!(
            panel = %label,
            backend = info.backend,
            bus = %info.bus,
            address = info.address,
            width = info.width,
            height = info.height,
            rotation = info.rotation,
            bytes = cost.bytes,
            transactions = cost.transactions,
            "panel initialised and cleared"
        ),
        Err(e) => error!(
            panel = %label,
            backend = info.backend,
            bus = %info.bus,
            address = info.address,
            error = %e,
            "panel could not be brought up; every call will retry"
        ),
    }

    while let Some(request) = rx.blocking_recv() {
        match request {
            Request::Info(reply) => {
                let _ = reply.send(backend.info());
            }
            Request::Present(frame, reply) => {
                let r = guarded(&label, &mut backend, |b| b.present(&frame));
                if let Ok(cost) = &r {
                    debug!(
                        panel = %label,
                        bytes = cost.bytes,
                        transactions = cost.transactions,
                        windows = cost.windows,
                        pages = cost.pages_touched,
                        full_refresh = cost.full_refresh,
                        "presented"
                    );
                }
                log_result(&label, "present", &r);
                let _ = reply.send(r);
            }
            Request::SetContrast(level, reply) => {
                let r = guarded(&label, &mut backend, |b| b.set_contrast(level));
                log_result(&label, "set-contrast", &r);
                let _ = reply.send(r);
            }
            Request::SetPower(on, reply) => {
                let r = guarded(&label, &mut backend, |b| b.set_power(on));
                log_result(&label, "set-power", &r);
                let _ = reply.send(r);
            }
            Request::SetInvert(inverted, reply) => {
                let r = guarded(&label, &mut backend, |b| b.set_invert(inverted));
                log_result(&label, "set-invert", &r);
                let _ = reply.send(r);
            }
            Request::Ascii(reply) => {
                let text = guarded(&label, &mut backend, |b| Ok(b.ascii()))
                    .unwrap_or_else(|e| format!("({e})\n"));
                let _ = reply.send(text);
            }
            Request::Stats(reply) => {
                let info = backend.info();
                let _ = reply.send(StatsReport {
                    backend: info.backend,
                    bus: info.bus,
                    address: info.address,
                    width: info.width,
                    height: info.height,
                    rotation: info.rotation,
                    panel: backend.stats(),
                });
            }
            Request::Health(reply) => {
                let _ = reply.send(backend.health());
            }
            Request::Shutdown(blank, reply) => {
                let r = guarded(&label, &mut backend, |b| b.shutdown(blank));
                match &r {
                    Ok(()) => info!(panel = %label, blank, "panel owner stopped"),
                    Err(e) => {
                        warn!(panel = %label, blank, error = %e, "panel owner stopped after an error")
                    }
                }
                let _ = reply.send(r);
                break;
            }
        }
    }
    rx.close();
}
