//! The two backends behind one trait: a real SSD1306 on a Linux I2C bus, and the virtual SSD1306 with PNG
//! snapshots. Both drive the panel through the same [`Panel`] update path; the backend only decides where
//! the bus comes from and what a person can look at.
//!
//! `i2c` has the real panel's backend, `virtual_panel` the emulated one; this file the trait, what
//! both report, and the steps they share over a [`Panel`].

mod i2c;
mod virtual_panel;

#[cfg(not(target_os = "linux"))]
pub use i2c::NoBus;
pub use i2c::{I2cBackend, Opener};
pub use virtual_panel::VirtualBackend;

use oled_driver::care::{CarePolicy, CareState};
use oled_driver::Controller;
use serde::Serialize;
use tracing::warn;

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
