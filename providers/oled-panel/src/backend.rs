//! The two backends behind one trait: a real SSD1306 on a Linux I2C bus, and the virtual SSD1306 with PNG
//! snapshots. Both drive the panel through the same [`Panel`] update path; the backend only decides where
//! the bus comes from and what a person can look at.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use oled_driver::care::{CarePolicy, CareState};
use oled_driver::Controller;
use serde::Serialize;
use tracing::{error, info, warn};
use virtual_ssd1306::{Chip, Mounting, SharedPanel, VirtualSsd1306, DEFAULT_SCALE};

use crate::config::{BackendKind, PanelConfig};
use crate::state::PanelState;
use oled_driver::ticker::{Ticker, TickerRun};
use oled_driver::{Panel, PanelError, PanelGeometry, PanelStats, PresentCost};

/// What `info` reports about a panel, whatever the backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendInfo {
    pub width: u16,
    pub height: u16,
    pub driver: &'static str,
    pub backend: &'static str,
    /// Bus device (`i2c`) or snapshot path (`virtual`).
    pub bus: String,
    pub address: u8,
    pub rotation: u16,
}

impl BackendInfo {
    fn new(g: PanelGeometry, controller: Controller, backend: &'static str, bus: String) -> Self {
        Self {
            width: g.width,
            height: g.height,
            driver: match controller {
                Controller::Ssd1306 => "ssd1306",
                Controller::Sh1106 { .. } => "sh1106",
                Controller::Ssd1309 => "ssd1309",
            },
            backend,
            bus,
            address: g.address,
            rotation: g.rotation.degrees(),
        }
    }
}

/// One panel as the owner task sees it. Every method runs on the owner's thread, one at a time.
pub trait PanelBackend: Send + 'static {
    fn info(&self) -> BackendInfo;
    /// Brings the panel up at start with one initialisation: the saved state if there is one (its
    /// contrast, power, inversion and frame), else a dark frame. Failing here is logged, not fatal: the
    /// owner tries again before the next call.
    fn start(&mut self, saved: Option<&PanelState>) -> Result<PresentCost, PanelError>;
    /// Applies a configuration of the same device in place (contrast, rotation, snapshot, shutdown
    /// behaviour): no re-initialisation, the picture stays.
    fn reconfigure(&mut self, config: &PanelConfig) -> Result<(), PanelError>;
    /// What the panel shows now and how, when known (not after a fault until the next good call); the
    /// text is left for the owner to fill in.
    fn state(&self) -> Option<PanelState>;
    fn present(&mut self, frame: &[u8]) -> Result<PresentCost, PanelError>;
    fn set_contrast(&mut self, level: u8) -> Result<(), PanelError>;
    fn set_power(&mut self, on: bool) -> Result<(), PanelError>;
    fn set_invert(&mut self, inverted: bool) -> Result<(), PanelError>;
    /// The panel's contents as text art.
    fn ascii(&self) -> String;
    fn stats(&self) -> PanelStats;
    /// `Err(reason)` while the panel is absent or its last contact failed; never touches the bus.
    fn health(&self) -> Result<(), String>;
    /// Leaves the panel showing its last frame, or switched off if `blank`.
    fn shutdown(&mut self, blank: bool) -> Result<(), PanelError>;
    /// Forgets what the panel holds: the next call re-initialises it and sends the whole frame.
    fn forget(&mut self);
    /// Night mode and burn-in care asked for by the configuration.
    fn care_policy(&self) -> CarePolicy;
    /// Puts `state` on the chip (only the registers that differ); nothing on a panel not up.
    fn apply_care(
        &mut self,
        policy: &CarePolicy,
        state: &CareState,
    ) -> Result<PresentCost, PanelError>;
    /// Rows the picture leaves dark where a display offset wraps them.
    fn free_rows(&self) -> u8;
    /// The picture the panel holds (as presented), if known; never touches the bus.
    fn shown(&self) -> Option<oled_driver::Frame>;

    /// Starts a ticker: the controller's own scroll where it can, the software path otherwise (or
    /// when `software`); the owner presents the software path's steps.
    fn start_ticker(&mut self, ticker: &Ticker, software: bool) -> Result<TickerRun, PanelError>;
    /// Stops a hardware scroll and puts its pages back (nothing when none runs).
    fn stop_ticker(&mut self) -> Result<(), PanelError>;

    /// Makes the result of the calls since the last publish visible outside the process (the
    /// virtual panel's PNG snapshot). The owner calls it once per batch, before answering.
    fn publish(&mut self) {}
}

/// Builds the backend a configuration asks for. Never falls back from one backend to the other: an `i2c`
/// backend whose bus is missing stays `i2c` and answers `absent`.
pub fn build(config: &PanelConfig) -> Box<dyn PanelBackend> {
    match config.backend {
        BackendKind::Virtual => Box::new(VirtualBackend::new(config)),
        BackendKind::I2c => build_i2c(config),
    }
}

#[cfg(target_os = "linux")]
fn build_i2c(config: &PanelConfig) -> Box<dyn PanelBackend> {
    Box::new(I2cBackend::new(config, linux::open))
}

#[cfg(not(target_os = "linux"))]
fn build_i2c(config: &PanelConfig) -> Box<dyn PanelBackend> {
    Box::new(I2cBackend::<NoBus>::new(config, |path: &Path| {
        Err(format!(
            "{}: I2C bus devices are only supported on Linux",
            path.display()
        ))
    }))
}

/// A dark frame for `start`, in text art as `ascii` shows it when nothing is known.
fn unknown_ascii(g: PanelGeometry, why: &str) -> String {
    format!(
        "(panel content unknown: {why}; {}x{} logical)\n",
        g.width, g.height
    )
}

/// Ascii of what the panel was last sent, in its logical orientation.
fn panel_ascii<I: embedded_hal::i2c::I2c>(panel: &Panel<I>) -> String {
    match panel.shown() {
        Some(frame) => frame.to_ascii(),
        None => unknown_ascii(
            panel.geometry(),
            "nothing presented since the last (re)initialisation",
        ),
    }
}

fn start_panel<I: embedded_hal::i2c::I2c>(
    panel: &mut Panel<I>,
    config: &PanelConfig,
    saved: Option<&PanelState>,
) -> Result<PresentCost, PanelError> {
    let mut frame = panel.blank_frame();
    if let Some(s) = saved {
        // A contrast set in the configuration since the state was saved wins over the remembered one.
        let contrast = if s.config_contrast == config.contrast {
            s.contrast
        } else {
            config.contrast
        };
        panel.preset(contrast, s.power_on, s.inverted)?;
        if (s.frame.width(), s.frame.height()) == (frame.width(), frame.height()) {
            frame = s.frame.clone();
        } else {
            warn!(
                saved = %format!("{}x{}", s.frame.width(), s.frame.height()),
                now = %format!("{}x{}", frame.width(), frame.height()),
                "the saved picture does not fit the panel's configured size; starting blank"
            );
        }
    }
    let init = panel.init()?;
    let mut cost = panel.present(&frame)?;
    cost.bytes += init.bytes;
    cost.transactions += init.transactions;
    cost.initialised = true;
    Ok(cost)
}

fn panel_state<I: embedded_hal::i2c::I2c>(
    panel: &Panel<I>,
    config: &PanelConfig,
) -> Option<PanelState> {
    Some(PanelState {
        frame: panel.shown()?,
        rotation: panel.settings().rotation.degrees(),
        contrast: panel.contrast(),
        config_contrast: config.contrast,
        power_on: panel.is_on(),
        inverted: panel.is_inverted(),
        text: None,
        ticker: None,
    })
}

/// The in-place part of a configuration change, on a panel that is there.
fn reconfigure_panel<I: embedded_hal::i2c::I2c>(
    panel: &mut Panel<I>,
    old: &PanelConfig,
    new: &PanelConfig,
) -> Result<(), PanelError> {
    if new.rotation != panel.settings().rotation {
        panel.set_rotation(new.rotation)?;
    }
    if new.contrast != old.contrast && new.contrast != panel.contrast() {
        panel.set_contrast(new.contrast)?;
    }
    Ok(())
}

fn shutdown_panel<I: embedded_hal::i2c::I2c>(
    panel: &mut Panel<I>,
    blank: bool,
) -> Result<(), PanelError> {
    if blank {
        panel.set_power(false)?;
    }
    Ok(())
}

/// Opens a bus device; the error says why it is absent.
pub type Opener<I> = fn(&Path) -> Result<I, String>;

/// A real panel on a Linux I2C bus device (`/dev/i2c-N`). While the device cannot be opened every call
/// answers `absent` (and opening is tried again on each call, so a bus that appears later is picked up).
pub struct I2cBackend<I> {
    config: PanelConfig,
    open: Opener<I>,
    panel: Result<Panel<I>, String>,
    /// Calls refused because the bus is absent, counted into stats.
    absent_calls: u64,
}

impl<I: embedded_hal::i2c::I2c + Send + 'static> I2cBackend<I> {
    pub fn new(config: &PanelConfig, open: Opener<I>) -> Self {
        let mut b = Self {
            config: config.clone(),
            open,
            panel: Err(String::new()),
            absent_calls: 0,
        };
        b.panel = b.try_open();
        b
    }

    fn try_open(&self) -> Result<Panel<I>, String> {
        let path = PathBuf::from(&self.config.bus);
        match (self.open)(&path) {
            Ok(i2c) => {
                info!(bus = %self.config.bus, address = self.config.address, "opened I2C bus");
                Ok(Panel::new(i2c, self.config.settings()))
            }
            Err(why) => {
                error!(
                    backend = "i2c",
                    bus = %self.config.bus,
                    reason = %why,
                    "I2C bus is absent; every present will answer `absent` (no fallback to another backend)"
                );
                Err(why)
            }
        }
    }

    /// The panel, opening the bus if it was absent.
    fn panel(&mut self) -> Result<&mut Panel<I>, PanelError> {
        if self.panel.is_err() {
            let path = PathBuf::from(&self.config.bus);
            if let Ok(i2c) = (self.open)(&path) {
                info!(bus = %self.config.bus, "I2C bus appeared");
                self.panel = Ok(Panel::new(i2c, self.config.settings()));
            }
        }
        match &mut self.panel {
            Ok(p) => Ok(p),
            Err(why) => {
                self.absent_calls += 1;
                Err(PanelError::Absent(format!(
                    "I2C bus {} cannot be used: {why}",
                    self.config.bus
                )))
            }
        }
    }

    fn geometry(&self) -> PanelGeometry {
        self.config.settings().geometry()
    }
}

impl<I: embedded_hal::i2c::I2c + Send + 'static> PanelBackend for I2cBackend<I> {
    fn info(&self) -> BackendInfo {
        BackendInfo::new(
            self.geometry(),
            self.config.controller,
            "i2c",
            self.config.bus.clone(),
        )
    }

    fn start(&mut self, saved: Option<&PanelState>) -> Result<PresentCost, PanelError> {
        let config = self.config.clone();
        start_panel(self.panel()?, &config, saved)
    }

    fn reconfigure(&mut self, config: &PanelConfig) -> Result<(), PanelError> {
        let old = std::mem::replace(&mut self.config, config.clone());
        match &mut self.panel {
            Ok(p) => reconfigure_panel(p, &old, config),
            // Opened later with the new configuration.
            Err(_) => Ok(()),
        }
    }

    fn state(&self) -> Option<PanelState> {
        panel_state(self.panel.as_ref().ok()?, &self.config)
    }

    fn present(&mut self, frame: &[u8]) -> Result<PresentCost, PanelError> {
        self.panel()?.present_bytes(frame)
    }

    fn set_contrast(&mut self, level: u8) -> Result<(), PanelError> {
        self.panel()?.set_contrast(level).map(drop)
    }

    fn care_policy(&self) -> CarePolicy {
        self.config.care
    }

    fn apply_care(
        &mut self,
        policy: &CarePolicy,
        state: &CareState,
    ) -> Result<PresentCost, PanelError> {
        match &mut self.panel {
            Ok(p) => p.apply_care(policy, state),
            Err(_) => Ok(PresentCost::default()),
        }
    }

    fn free_rows(&self) -> u8 {
        self.panel.as_ref().map_or(0, |p| p.free_rows())
    }

    fn shown(&self) -> Option<oled_driver::Frame> {
        self.panel.as_ref().ok()?.shown()
    }

    fn set_power(&mut self, on: bool) -> Result<(), PanelError> {
        self.panel()?.set_power(on).map(drop)
    }

    fn set_invert(&mut self, inverted: bool) -> Result<(), PanelError> {
        self.panel()?.set_invert(inverted).map(drop)
    }

    fn ascii(&self) -> String {
        match &self.panel {
            Ok(p) => panel_ascii(p),
            Err(why) => unknown_ascii(
                self.geometry(),
                &format!("I2C bus {} absent: {why}", self.config.bus),
            ),
        }
    }

    fn stats(&self) -> PanelStats {
        match &self.panel {
            Ok(p) => p.stats().clone(),
            Err(why) => PanelStats {
                errors: self.absent_calls,
                last_error: Some(format!("panel absent: I2C bus {}: {why}", self.config.bus)),
                ..PanelStats::default()
            },
        }
    }

    fn health(&self) -> Result<(), String> {
        match &self.panel {
            Ok(p) => p.health(),
            Err(why) => Err(format!("I2C bus {} absent: {why}", self.config.bus)),
        }
    }

    fn shutdown(&mut self, blank: bool) -> Result<(), PanelError> {
        match &mut self.panel {
            Ok(p) => shutdown_panel(p, blank),
            Err(_) => Ok(()),
        }
    }

    fn forget(&mut self) {
        if let Ok(p) = &mut self.panel {
            p.mark_unknown();
        }
    }

    fn start_ticker(&mut self, ticker: &Ticker, software: bool) -> Result<TickerRun, PanelError> {
        self.panel()?.start_ticker(ticker, software)
    }

    fn stop_ticker(&mut self) -> Result<(), PanelError> {
        match &mut self.panel {
            Ok(p) => p.stop_ticker().map(drop),
            Err(_) => Ok(()),
        }
    }
}

/// The emulated panel. A clone of its [`SharedPanel`] goes to the driver; this backend keeps another to
/// render the ASCII view and the PNG snapshot written after every change.
pub struct VirtualBackend {
    config: PanelConfig,
    panel: Panel<SharedPanel>,
    shared: SharedPanel,
    /// What a person sees changed since the snapshot was last written.
    unpublished: bool,
    /// Up to when the emulator's display frames have been counted: a hardware ticker's scroll moves
    /// with them, as on the chip.
    frames_until: Cell<Instant>,
}

impl VirtualBackend {
    pub fn new(config: &PanelConfig) -> Self {
        let size = config.size;
        let mounting =
            Mounting::from_degrees(config.rotation.degrees()).unwrap_or(Mounting::Rotate0);
        // The emulated module answers at the configured address, like the real one.
        let emulator = match config.controller {
            Controller::Ssd1306 => VirtualSsd1306::new(size, config.address),
            Controller::Sh1106 { column_offset } => {
                VirtualSsd1306::with_chip(size, config.address, Chip::Sh1106)
                    .with_column_offset(usize::from(column_offset))
            }
            Controller::Ssd1309 => VirtualSsd1306::with_chip(size, config.address, Chip::Ssd1309),
        }
        .with_mounting(mounting);
        Self::with_shared(config, SharedPanel::new(emulator))
    }

    /// Over an emulator made elsewhere (tests inject faults through their own clone).
    pub fn with_shared(config: &PanelConfig, shared: SharedPanel) -> Self {
        Self {
            config: config.clone(),
            panel: Panel::new(shared.clone(), config.settings()),
            shared,
            unpublished: false,
            frames_until: Cell::new(Instant::now()),
        }
    }

    /// Lets the emulator's display frames pass up to now (its scroll moves as a chip's would).
    fn catch_up(&self) {
        let since = self.frames_until.get();
        let frames = self.shared.with(|p| p.advance(since.elapsed()));
        if frames > 0 {
            let rate = self.shared.with(|p| p.nominal_frame_rate()).max(1.0);
            self.frames_until
                .set(since + Duration::from_secs_f64(f64::from(frames) / rate));
        }
    }

    pub fn shared(&self) -> &SharedPanel {
        &self.shared
    }

    /// Applies the fault switch (`fault_file`) before a call that reaches the bus.
    fn apply_fault(&self) {
        self.catch_up();
        let Some(path) = &self.config.fault_file else {
            return;
        };
        let fault = std::fs::read_to_string(path).unwrap_or_default();
        let mut words = fault.split_whitespace();
        let (absent, nack, slow) = match words.next() {
            Some("absent") => (true, false, 0),
            Some("nack") => (false, true, 0),
            Some("slow") => (
                false,
                false,
                words
                    .next()
                    .and_then(|w| w.parse::<u64>().ok())
                    .unwrap_or(1000),
            ),
            _ => (false, false, 0),
        };
        self.shared.with(|p| {
            p.set_present(!absent);
            p.nack_next(if nack { u32::MAX } else { 0 });
        });
        if slow > 0 {
            std::thread::sleep(std::time::Duration::from_millis(slow.min(60_000)));
        }
    }

    fn snapshot(&self) {
        let Some(path) = &self.config.snapshot else {
            return;
        };
        self.catch_up();
        if let Err(e) = self.shared.with(|p| p.write_png(path, DEFAULT_SCALE)) {
            warn!(path = %path.display(), error = %e, "could not write the panel snapshot");
        }
    }

    /// Marks the snapshot out of date after a call that may have changed what the panel shows (also
    /// after a failed one: a fault can leave a half-drawn frame, and that is what a person should see).
    fn after<T>(
        &mut self,
        r: Result<T, PanelError>,
        changed: impl FnOnce(&T) -> bool,
    ) -> Result<T, PanelError> {
        if r.as_ref().map_or(true, changed) {
            self.unpublished = true;
        }
        r
    }
}

impl PanelBackend for VirtualBackend {
    fn publish(&mut self) {
        if std::mem::take(&mut self.unpublished) {
            self.snapshot();
        }
    }

    fn info(&self) -> BackendInfo {
        BackendInfo::new(
            self.panel.geometry(),
            self.config.controller,
            "virtual",
            self.config.location(),
        )
    }

    fn start(&mut self, saved: Option<&PanelState>) -> Result<PresentCost, PanelError> {
        self.apply_fault();
        let r = start_panel(&mut self.panel, &self.config, saved);
        self.after(r, |_| true)
    }

    fn reconfigure(&mut self, config: &PanelConfig) -> Result<(), PanelError> {
        let old = std::mem::replace(&mut self.config, config.clone());
        if config.rotation != old.rotation {
            // The emulated module is mounted the way the configuration says the real one is.
            let mounting =
                Mounting::from_degrees(config.rotation.degrees()).unwrap_or(Mounting::Rotate0);
            self.shared.with(|p| p.set_mounting(mounting));
        }
        let r = reconfigure_panel(&mut self.panel, &old, config);
        self.after(r, |_| true)
    }

    fn state(&self) -> Option<PanelState> {
        panel_state(&self.panel, &self.config)
    }

    fn present(&mut self, frame: &[u8]) -> Result<PresentCost, PanelError> {
        self.apply_fault();
        let r = self.panel.present_bytes(frame);
        if matches!(r, Err(PanelError::BadFrame(_))) {
            return r;
        }
        self.after(r, |c| c.windows > 0)
    }

    fn set_contrast(&mut self, level: u8) -> Result<(), PanelError> {
        self.apply_fault();
        let r = self.panel.set_contrast(level).map(drop);
        self.after(r, |_| true)
    }

    fn care_policy(&self) -> CarePolicy {
        self.config.care
    }

    fn apply_care(
        &mut self,
        policy: &CarePolicy,
        state: &CareState,
    ) -> Result<PresentCost, PanelError> {
        self.apply_fault();
        let r = self.panel.apply_care(policy, state);
        self.after(r, |c| c.bytes > 0)
    }

    fn free_rows(&self) -> u8 {
        self.panel.free_rows()
    }

    fn shown(&self) -> Option<oled_driver::Frame> {
        self.panel.shown()
    }

    fn set_power(&mut self, on: bool) -> Result<(), PanelError> {
        self.apply_fault();
        let r = self.panel.set_power(on).map(drop);
        self.after(r, |_| true)
    }

    fn set_invert(&mut self, inverted: bool) -> Result<(), PanelError> {
        self.apply_fault();
        let r = self.panel.set_invert(inverted).map(drop);
        self.after(r, |_| true)
    }

    fn ascii(&self) -> String {
        self.catch_up();
        self.shared.with(|p| p.ascii())
    }

    fn stats(&self) -> PanelStats {
        self.panel.stats().clone()
    }

    fn health(&self) -> Result<(), String> {
        self.panel.health()
    }

    fn shutdown(&mut self, blank: bool) -> Result<(), PanelError> {
        let r = shutdown_panel(&mut self.panel, blank);
        self.after(r, |_| blank)
    }

    fn forget(&mut self) {
        self.panel.mark_unknown();
    }

    fn start_ticker(&mut self, ticker: &Ticker, software: bool) -> Result<TickerRun, PanelError> {
        self.apply_fault();
        let r = self.panel.start_ticker(ticker, software);
        self.after(r, |_| true)
    }

    fn stop_ticker(&mut self) -> Result<(), PanelError> {
        self.apply_fault();
        let r = self.panel.stop_ticker().map(drop);
        self.after(r, |_| true)
    }
}

/// A bus that is never there, for builds without Linux I2C.
#[cfg(not(target_os = "linux"))]
pub struct NoBus;

#[cfg(not(target_os = "linux"))]
impl embedded_hal::i2c::ErrorType for NoBus {
    type Error = embedded_hal::i2c::ErrorKind;
}

#[cfg(not(target_os = "linux"))]
impl embedded_hal::i2c::I2c for NoBus {
    fn transaction(
        &mut self,
        _address: u8,
        _operations: &mut [embedded_hal::i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        Err(embedded_hal::i2c::ErrorKind::NoAcknowledge(
            embedded_hal::i2c::NoAcknowledgeSource::Address,
        ))
    }
}

#[cfg(target_os = "linux")]
pub mod linux {
    //! The Linux I2C bus device.
    use std::path::Path;

    pub use linux_embedded_hal::I2cdev;

    /// Opens `/dev/i2c-N`; a missing or unusable device is the reason the panel is absent.
    pub fn open(path: &Path) -> Result<I2cdev, String> {
        if !path.exists() {
            return Err(format!(
                "{} does not exist (is I2C enabled, e.g. dtparam=i2c_arm=on, and i2c-dev loaded?)",
                path.display()
            ));
        }
        I2cdev::new(path).map_err(|e| format!("{}: {e}", path.display()))
    }
}
