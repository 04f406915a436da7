//! Tickers: a strip wider than the panel, moving right to left, looping.
//!
//! Two ways to move it, chosen per ticker by [`Panel::start_ticker`](crate::Panel::start_ticker):
//! - **hardware**: the SSD1306 (and SSD1309) scrolls pages of its RAM around its 128-column ring by
//!   itself (0x27, then 0x2F), a column every 2 to 256 frames. Zero bus bytes per step, but only for a
//!   strip that fits the ring, only across the RAM's columns (landscape mountings), and only at the
//!   speeds the frame intervals give.
//! - **software**: the owner of the panel presents the window at each step
//!   ([`TickerRun::frame_at`]); the planner sends only what changed. Any strip, any speed, any
//!   controller and mounting, at a cost in bus bytes per step.
//!
//! The datasheet asks for RAM to be written only while the scroll is stopped:
//! [`Panel::stop_ticker`](crate::Panel::stop_ticker) stops it (0x2E) and rewrites the scrolled pages
//! before anything else is sent.
//!
//! ```
//! use oled_driver::{ticker::{Ticker, TickerPath}, Panel, PanelSettings, Frame};
//! use oled_frame::Strip;
//! use virtual_ssd1306::{PanelSize, SharedPanel, VirtualSsd1306};
//!
//! let bus = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
//! let mut panel = Panel::new(bus.clone(), PanelSettings::default());
//! let mut strip = Strip::new(128, 2)?;
//! strip.set_pixel(10, 3, true);
//! let ticker = Ticker::new(Frame::new(128, 64)?, strip, 3, 20)?;
//! let run = panel.start_ticker(&ticker, false)?;
//! assert_eq!(run.path, TickerPath::Hardware);
//! let before = bus.with(|p| p.stats().bytes);
//! let frames = bus.with(|p| p.advance(std::time::Duration::from_secs(2))); // two seconds pass
//! assert_eq!(bus.with(|p| p.stats().bytes), before, "no bytes per step");
//! let steps = frames / run.interval_frames.unwrap() as u32;
//! assert_eq!(bus.with(|p| p.visible()), run.ticker.frame_at(steps));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use oled_frame::{Frame, Strip};

use crate::{PanelError, PresentCost};

/// Fastest ticker, in columns per second: faster than anyone reads, and well within a 400 kHz bus
/// for the software path.
pub const MAX_TICKER_SPEED: u16 = 240;

/// Shortest time between two software steps: a faster ticker moves several columns a step.
pub const MIN_STEP: Duration = Duration::from_millis(25);

/// Columns of the SSD1306's RAM: the ring its horizontal scroll turns.
pub const RING_COLUMNS: u16 = 128;

/// A ticker as its owner keeps it: what is around the strip, the strip, where it is, how fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticker {
    background: Frame,
    strip: Strip,
    top_page: u8,
    speed: u16,
}

impl Ticker {
    /// A ticker of `strip` on `background` (a frame of the panel's logical size: what the rest of the
    /// panel shows), from page `top_page` on, at `speed` columns a second (1 to [`MAX_TICKER_SPEED`]).
    /// Refused when the strip does not fit under `top_page` or is narrower than the frame.
    pub fn new(
        background: Frame,
        strip: Strip,
        top_page: u8,
        speed: u16,
    ) -> Result<Self, PanelError> {
        if !(1..=MAX_TICKER_SPEED).contains(&speed) {
            return Err(PanelError::Invalid(format!(
                "ticker speed {speed} is not 1-{MAX_TICKER_SPEED} columns a second"
            )));
        }
        if u16::from(top_page) + u16::from(strip.pages()) > background.pages() {
            return Err(PanelError::BadFrame(format!(
                "a strip of {} pages from page {top_page} does not fit a panel of {} pages",
                strip.pages(),
                background.pages()
            )));
        }
        if strip.width() < background.width() {
            return Err(PanelError::BadFrame(format!(
                "a strip of {} columns is narrower than the panel's {}",
                strip.width(),
                background.width()
            )));
        }
        Ok(Self {
            background,
            strip,
            top_page,
            speed,
        })
    }

    /// The picture after `offset` columns of travel: the strip's window from column `offset`
    /// (wrapping) on the background.
    pub fn frame_at(&self, offset: u32) -> Frame {
        let mut f = self.background.clone();
        self.strip.paint(offset, &mut f, u16::from(self.top_page));
        f
    }

    /// The strip.
    pub fn strip(&self) -> &Strip {
        &self.strip
    }

    /// What the rest of the panel shows.
    pub fn background(&self) -> &Frame {
        &self.background
    }

    /// The page the strip starts on.
    pub fn top_page(&self) -> u8 {
        self.top_page
    }

    /// Columns a second asked for.
    pub fn speed(&self) -> u16 {
        self.speed
    }

    /// The same ticker on a strip padded to `width` columns (the hardware ring).
    pub(crate) fn padded(&self, width: u16) -> Option<Ticker> {
        Some(Ticker {
            strip: self.strip.padded(width)?,
            ..self.clone()
        })
    }
}

/// How a ticker moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum TickerPath {
    /// The controller scrolls its own RAM: no bus bytes per step.
    Hardware,
    /// The panel's owner presents each step; the planner sends what changed.
    Software,
}

impl TickerPath {
    /// `hardware` or `software`.
    pub fn name(self) -> &'static str {
        match self {
            TickerPath::Hardware => "hardware",
            TickerPath::Software => "software",
        }
    }
}

/// A ticker started on a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct TickerRun {
    /// The ticker as it runs (on the hardware path, its strip padded to the 128-column ring).
    pub ticker: Ticker,
    /// How it moves.
    pub path: TickerPath,
    /// Columns a second as it runs: on the hardware path the nearest the frame intervals give, at the
    /// controller's nominal oscillator frequency (a real chip's may differ by some per cent).
    pub speed: f64,
    /// Hardware path: display frames per one-column step.
    pub interval_frames: Option<u16>,
    /// Why the software path was taken, when the hardware path was asked for.
    pub why_software: Option<String>,
    /// What starting it put on the bus.
    pub cost: PresentCost,
}

impl TickerRun {
    /// Columns travelled after `elapsed`.
    pub fn offset_at(&self, elapsed: Duration) -> u32 {
        let columns = (elapsed.as_secs_f64() * self.speed).floor();
        let ring = f64::from(self.ticker.strip.width());
        (columns % ring) as u32
    }

    /// The picture after `elapsed`.
    pub fn frame_at(&self, elapsed: Duration) -> Frame {
        self.ticker.frame_at(self.offset_at(elapsed))
    }

    /// Software path: how often to present the next step (one column, or more for fast tickers).
    pub fn step_period(&self) -> Option<Duration> {
        (self.path == TickerPath::Software)
            .then(|| Duration::from_secs_f64(1.0 / self.speed.max(0.01)).max(MIN_STEP))
    }
}

/// Display frames per scroll step, with their 3-bit codes for 0x26/0x27 (datasheet table 10-3).
pub const SCROLL_INTERVALS: [(u16, u8); 8] = [
    (2, 0b111),
    (3, 0b100),
    (4, 0b101),
    (5, 0b000),
    (25, 0b110),
    (64, 0b001),
    (128, 0b010),
    (256, 0b011),
];

/// The frame interval whose speed at `frame_rate` frames a second is nearest `speed` columns a
/// second (nearest by ratio): its frames, its code, the speed it gives.
///
/// ```
/// let (frames, code, speed) = oled_driver::ticker::nearest_interval(100.0, 30.0);
/// assert_eq!((frames, code), (3, 0b100));
/// assert!((speed - 33.3).abs() < 0.1);
/// ```
pub fn nearest_interval(frame_rate: f64, speed: f64) -> (u16, u8, f64) {
    let mut best = (SCROLL_INTERVALS[0].0, SCROLL_INTERVALS[0].1, f64::INFINITY);
    let mut best_err = f64::INFINITY;
    for (frames, code) in SCROLL_INTERVALS {
        let s = frame_rate / f64::from(frames);
        let err = (s / speed.max(1e-9)).ln().abs();
        if err < best_err {
            best_err = err;
            best = (frames, code, s);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(width: u16) -> Strip {
        let mut s = Strip::new(width, 2).unwrap();
        s.set_pixel(0, 0, true);
        s
    }

    #[test]
    fn tickers_are_checked() {
        let bg = Frame::new(128, 32).unwrap();
        assert!(Ticker::new(bg.clone(), strip(200), 2, 30).is_ok());
        assert!(matches!(
            Ticker::new(bg.clone(), strip(200), 3, 30),
            Err(PanelError::BadFrame(_))
        ));
        assert!(matches!(
            Ticker::new(bg.clone(), strip(100), 0, 30),
            Err(PanelError::BadFrame(_))
        ));
        for speed in [0, MAX_TICKER_SPEED + 1] {
            assert!(matches!(
                Ticker::new(bg.clone(), strip(200), 0, speed),
                Err(PanelError::Invalid(_))
            ));
        }
    }

    #[test]
    fn offsets_follow_the_clock_and_loop() {
        let t = Ticker::new(Frame::new(128, 32).unwrap(), strip(200), 0, 30).unwrap();
        let run = TickerRun {
            ticker: t,
            path: TickerPath::Software,
            speed: 30.0,
            interval_frames: None,
            why_software: None,
            cost: PresentCost::default(),
        };
        assert_eq!(run.offset_at(Duration::from_millis(999)), 29);
        assert_eq!(
            run.offset_at(Duration::from_secs(7)),
            10,
            "210 columns on a 200 ring"
        );
        assert!(
            run.frame_at(Duration::from_secs(10)).pixel(100, 0),
            "300 columns: offset 100"
        );
        assert_eq!(run.step_period(), Some(Duration::from_secs_f64(1.0 / 30.0)));
    }

    #[test]
    fn intervals_are_the_nearest_by_ratio() {
        assert_eq!(nearest_interval(100.0, 1000.0).0, 2);
        assert_eq!(nearest_interval(100.0, 0.01).0, 256);
        assert_eq!(nearest_interval(100.0, 4.0).0, 25);
    }
}
