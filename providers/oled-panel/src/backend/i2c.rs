//! A real panel on a Linux I2C bus device.

use std::path::{Path, PathBuf};

use oled_driver::care::{CarePolicy, CareState};
use tracing::{error, info};

use crate::config::PanelConfig;
use crate::state::PanelState;
use oled_driver::ticker::{Ticker, TickerRun};
use oled_driver::{Panel, PanelError, PanelGeometry, PanelStats, PresentCost};

use super::{
    panel_ascii, panel_state, reconfigure_panel, shutdown_panel, start_panel, unknown_ascii,
    BackendInfo, PanelBackend,
};

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
