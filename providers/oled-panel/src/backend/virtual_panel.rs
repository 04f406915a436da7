//! The emulated panel, with PNG snapshots of what it shows.

use std::cell::Cell;
use std::time::{Duration, Instant};

use oled_driver::care::{CarePolicy, CareState};
use oled_driver::Controller;
use tracing::warn;
use virtual_ssd1306::{Chip, Mounting, SharedPanel, VirtualSsd1306, DEFAULT_SCALE};

use crate::config::PanelConfig;
use crate::state::PanelState;
use oled_driver::ticker::{Ticker, TickerRun};
use oled_driver::{Panel, PanelError, PanelStats, PresentCost};

use super::{
    panel_state, reconfigure_panel, shutdown_panel, start_panel, BackendInfo, PanelBackend,
};

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
