//! What the owner answers with besides costs: a ticker as asked for and as started, and the
//! panel's statistics for `inspect.stats`.

use serde::Serialize;

use oled_driver::care::CareState;
use oled_driver::ticker::{Ticker, TickerPath};
use oled_driver::{Frame, PanelError, PanelStats, PresentCost};
use oled_frame::Strip;

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
    pub(super) fn ticker(self, width: u16, height: u16) -> Result<Ticker, PanelError> {
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
