//! Use cases: what the display does, against a [`Panel`] port. The port is implemented over the lattice
//! in `infra` and by a fake in tests; nothing here knows about WIT, wRPC or HTTP.

pub mod fleet;

use crate::core::{self, Font, HAlign, Style, VAlign};
use serde::Serialize;

/// What the panel says about itself (mirrors `oled-lattice:panel/types.panel-info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PanelInfo {
    pub width: u16,
    pub height: u16,
    pub driver: String,
    pub backend: String,
    pub bus: String,
    pub address: u8,
    pub rotation: u16,
    /// Why the panel's state cannot be saved now (the last save failed); absent when it can.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsaved: Option<String>,
}

/// What one update cost on the bus, and whether the panel's state was kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PresentCost {
    pub bytes: u32,
    pub transactions: u32,
    pub pages_touched: u8,
    pub full_refresh: bool,
    /// Why the panel's state could not be saved after this change (the panel shows it, but a
    /// restart would bring back an older picture); absent when it was saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsaved: Option<String>,
}

/// How a ticker runs, as the panel's provider said (mirrors `oled-lattice:panel/types.ticker-run`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickerRun {
    /// `hardware` (the controller scrolls by itself) or `software` (the provider steps).
    pub path: String,
    /// Columns a second as it runs.
    pub speed: f64,
    /// Why the software path was taken, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_software: Option<String>,
    /// What starting it cost on the bus.
    pub bus: PresentCost,
}

/// A ticker drawn for a panel: what crosses the lattice, once (mirrors
/// `oled-lattice:panel/types.ticker`).
#[derive(Debug, Clone, Copy)]
pub struct TickerDraw<'a> {
    pub width: u16,
    pub height: u16,
    /// The first picture.
    pub frame: &'a [u8],
    pub strip: &'a oled_frame::Strip,
    pub top_page: u8,
    /// Columns a second.
    pub speed: u16,
    /// The software path even where the controller could scroll.
    pub software: bool,
}

/// How a ticker is asked for: its speed and whether to keep off the controller's own scroll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickerOptions {
    /// Columns a second, 1 to [`MAX_TICKER_SPEED`].
    pub speed: u16,
    /// Step in software even where the controller could scroll (for comparisons).
    pub software: bool,
}

/// A ticker's speed unless asked otherwise: about five characters of the small font a second.
pub const DEFAULT_TICKER_SPEED: u16 = 30;
/// Fastest ticker, columns a second (the provider's limit too).
pub const MAX_TICKER_SPEED: u16 = 240;

impl Default for TickerOptions {
    fn default() -> Self {
        Self {
            speed: DEFAULT_TICKER_SPEED,
            software: false,
        }
    }
}

/// What a ticker use case did, for the caller.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownTicker {
    pub text: String,
    pub font: &'static str,
    pub truncated: bool,
    pub replaced: usize,
    pub width: u16,
    pub height: u16,
    /// Columns the line and its gap take: what loops.
    pub columns: u16,
    pub ticker: TickerRun,
}

/// Why the panel refused (mirrors `oled-lattice:panel/types.panel-error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PanelError {
    #[error("panel rejected the frame: {0}")]
    BadFrame(String),
    #[error("I2C bus error: {0}")]
    Bus(String),
    #[error("panel absent: {0}")]
    Absent(String),
    #[error("invalid request to the panel: {0}")]
    Invalid(String),
    /// The panel's provider is not on the lattice or its link is down: nobody answered.
    #[error("panel unreachable: {0}")]
    Unreachable(String),
    /// The call was sent but no answer came in time (a link that stalls).
    #[error("panel did not answer in time: {0}")]
    TimedOut(String),
}

/// The port: any panel that takes whole frames.
pub trait Panel {
    fn info(&self) -> Result<PanelInfo, PanelError>;
    /// Shows `frame`; `text` is what it says, kept with the panel (so it outlives this component).
    fn present(&self, frame: &[u8], text: Option<&str>) -> Result<PresentCost, PanelError>;
    /// The text of the frame on the panel, as its presenter gave it.
    fn last_text(&self) -> Result<Option<String>, PanelError>;
    /// What the glass shows, one text line per pixel row (`#` lit, `.` dark), as the panel reads it
    /// back.
    fn ascii(&self) -> Result<String, PanelError>;
    /// Night mode and burn-in care as the panel's provider applies them now, and the ticker it runs.
    fn activity(&self) -> Result<Activity, PanelError>;
    /// The picture the panel holds, as presented (after rotation), from its provider's memory.
    fn shown(&self) -> Result<oled_frame::Frame, PanelError>;
    /// [`Panel::present`] of a frame drawn for `width` x `height`: `BadFrame` unless that is the
    /// panel's size.
    fn present_sized(
        &self,
        width: u16,
        height: u16,
        frame: &[u8],
        text: &str,
    ) -> Result<PresentCost, PanelError>;
    /// Starts a ticker saying `text`: `BadFrame` unless it was drawn for the panel's size.
    fn present_ticker(&self, ticker: &TickerDraw<'_>, text: &str) -> Result<TickerRun, PanelError>;
}

/// What a use case did, for the caller (HTTP body, `wash call` answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shown {
    pub text: String,
    pub font: &'static str,
    pub lines: usize,
    pub truncated: bool,
    pub replaced: usize,
    pub width: u16,
    pub height: u16,
    pub bus: PresentCost,
}

/// Night mode and burn-in care of a panel (its provider decides; see the panel's config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Care {
    /// `awake`, `dimmed` or `off`.
    pub level: String,
    /// Inside its quiet hours.
    pub quiet: bool,
    /// Display offset in rows (the pixel shift).
    pub offset: u8,
}

/// What the panel's provider is doing on its own: night mode and burn-in care, and a ticker.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Activity {
    pub care: Care,
    /// The ticker running, if one is.
    #[serde(default)]
    pub ticker: Option<TickerNow>,
}

/// A ticker as its provider reports it running.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TickerNow {
    /// `hardware` or `software`.
    pub path: String,
    /// Columns a second.
    pub speed: f64,
    /// Columns the picture loops over.
    pub columns: u16,
    /// Seconds since it started.
    pub running_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub component: &'static str,
    pub version: &'static str,
    pub panel: PanelInfo,
    pub fonts: [&'static str; 4],
    pub max_text_bytes: usize,
    /// The text on the panel, as the panel itself remembers it (survives restarts of everything).
    pub last_text: Option<String>,
    /// The demo screen's title (the component's `title` config; a deployment can name itself).
    pub title: String,
    /// Night mode and burn-in care now, when the panel's link carries its inspect interface.
    pub care: Option<Care>,
    /// The ticker running, if one is.
    pub ticker: Option<TickerNow>,
}

/// Longest text accepted, in bytes; larger requests are refused rather than cut.
pub const MAX_TEXT_BYTES: usize = 4096;

pub use crate::core::DEMO_TEXT;

/// `WIDTHxHEIGHT` (e.g. `128x64`), each 1-128.
pub fn parse_size(s: &str) -> Option<(u16, u16)> {
    let (w, h) = s.trim().split_once(['x', 'X'])?;
    let (w, h) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    ((1..=128).contains(&w) && (1..=128).contains(&h)).then_some((w, h))
}

pub struct Display<P> {
    panel: P,
    /// The size to draw for without asking the panel first (the component's `panel-size` config).
    hint: Option<(u16, u16)>,
    /// The demo screen's title, when configured.
    title: Option<String>,
}

impl<P: Panel> Display<P> {
    pub fn new(panel: P) -> Self {
        Self {
            panel,
            hint: None,
            title: None,
        }
    }

    /// The demo screen's title instead of the default (`None` keeps the default).
    pub fn with_title(mut self, title: Option<String>) -> Self {
        self.title = title.filter(|t| !t.trim().is_empty());
        self
    }

    fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(core::DEMO_TITLE)
    }

    /// Draws for `hint` without asking the panel its size first: one round trip to the Pi instead of
    /// two. The frame goes with its size (`present-sized`), so a panel of another size refuses it
    /// (`bad-frame`, nothing shown), even one of the same byte length turned a quarter; then the panel
    /// is asked and the frame drawn again. A wrong hint costs time, never a wrong picture.
    pub fn with_size_hint(mut self, hint: Option<(u16, u16)>) -> Self {
        self.hint = hint;
        self
    }

    /// Draws with `draw` for the hinted size, or the panel's own, and presents it with `text`.
    fn present_drawn<R>(
        &self,
        text: &str,
        draw: impl Fn(u16, u16) -> (oled_frame::Frame, R),
    ) -> Result<(PresentCost, u16, u16, R), PanelError> {
        if let Some((w, h)) = self.hint {
            let (frame, r) = draw(w, h);
            match self.panel.present_sized(w, h, frame.as_bytes(), text) {
                Err(PanelError::BadFrame(_)) => {} // another size: ask the panel below
                other => return other.map(|cost| (cost, w, h, r)),
            }
        }
        let info = self.panel.info()?;
        let (frame, r) = draw(info.width, info.height);
        let cost = self.panel.present(frame.as_bytes(), Some(text))?;
        Ok((cost, info.width, info.height, r))
    }

    /// Renders `text` for the panel's size and shows it.
    pub fn show(&self, text: &str, style: &Style) -> Result<Shown, PanelError> {
        let (bus, width, height, r) = self.present_drawn(text, |w, h| {
            let r = core::render(text, style, w, h);
            (r.frame.clone(), r)
        })?;
        Ok(Shown {
            text: text.to_string(),
            font: r.font.name(),
            lines: r.lines.len(),
            truncated: r.truncated,
            replaced: r.replaced,
            width,
            height,
            bus,
        })
    }

    /// Shows `text` as a ticker: drawn once as a strip for the panel's size, moved by the panel's
    /// provider (by the controller itself where it can).
    pub fn ticker(
        &self,
        text: &str,
        style: &Style,
        options: TickerOptions,
    ) -> Result<ShownTicker, PanelError> {
        if !(1..=MAX_TICKER_SPEED).contains(&options.speed) {
            return Err(PanelError::Invalid(format!(
                "ticker speed {} is not 1-{MAX_TICKER_SPEED} columns a second",
                options.speed
            )));
        }
        let send = |w: u16, h: u16| {
            let r = core::render_ticker(text, style, w, h);
            let draw = TickerDraw {
                width: w,
                height: h,
                frame: r.frame.as_bytes(),
                strip: &r.strip,
                top_page: r.top_page,
                speed: options.speed,
                software: options.software,
            };
            let run = self.panel.present_ticker(&draw, text)?;
            Ok::<_, PanelError>(ShownTicker {
                text: text.to_string(),
                font: r.font.name(),
                truncated: r.truncated,
                replaced: r.replaced,
                width: w,
                height: h,
                columns: r.strip.width(),
                ticker: run,
            })
        };
        if let Some((w, h)) = self.hint {
            match send(w, h) {
                Err(PanelError::BadFrame(_)) => {} // another size: ask the panel below
                other => return other,
            }
        }
        let info = self.panel.info()?;
        send(info.width, info.height)
    }

    pub fn clear(&self) -> Result<PresentCost, PanelError> {
        self.present_drawn("", |w, h| (core::blank(w, h), ()))
            .map(|(cost, ..)| cost)
    }

    pub fn status(&self) -> Result<Status, PanelError> {
        let panel = self.panel.info()?;
        let last_text = self.panel.last_text()?;
        let activity = self.panel.activity().ok();
        Ok(Status {
            component: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            panel,
            fonts: ["small", "medium", "large", "auto"],
            max_text_bytes: MAX_TEXT_BYTES,
            last_text,
            title: self.title().to_string(),
            care: activity.as_ref().map(|a| a.care.clone()),
            ticker: activity.and_then(|a| a.ticker),
        })
    }

    /// What the panel's glass shows, read back from the panel (`#` lit, `.` dark).
    pub fn ascii(&self) -> Result<String, PanelError> {
        self.panel.ascii()
    }

    /// The picture the panel holds (the live view's image).
    pub fn shown(&self) -> Result<oled_frame::Frame, PanelError> {
        self.panel.shown()
    }

    /// A screen that shows the path the pixels took: a frame, the title, and the panel's size.
    pub fn demo(&self) -> Result<PresentCost, PanelError> {
        let title = self.title().to_string();
        self.present_drawn(DEMO_TEXT, |w, h| (core::demo_titled(w, h, &title), ()))
            .map(|(cost, ..)| cost)
    }
}

/// A style built from optional request words; unknown words are errors that name the accepted ones.
pub fn style_from(
    font: Option<&str>,
    align: Option<&str>,
    valign: Option<&str>,
    invert: Option<bool>,
) -> Result<Style, String> {
    Ok(Style {
        font: font.map(str::parse).transpose()?.unwrap_or(Font::Auto),
        align: align.map(str::parse).transpose()?.unwrap_or(HAlign::Center),
        valign: valign
            .map(str::parse)
            .transpose()?
            .unwrap_or(VAlign::Middle),
        invert: invert.unwrap_or(false),
    })
}

#[cfg(test)]
pub mod fake;

#[cfg(test)]
mod tests {
    use super::fake::FakePanel;
    use super::*;

    #[test]
    fn show_renders_at_the_panels_size_and_presents_once() {
        let panel = FakePanel::new(128, 32);
        let d = Display::new(&panel);
        let shown = d.show("Hello", &Style::default()).unwrap();
        assert_eq!((shown.width, shown.height), (128, 32));
        let frames = panel.frames();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].len(), 128 * 32 / 8);
        assert_eq!(
            frames[0],
            core::render("Hello", &Style::default(), 128, 32)
                .frame
                .into_bytes()
        );
    }

    #[test]
    fn a_size_hint_saves_asking_and_a_wrong_one_costs_a_retry_not_a_wrong_picture() {
        let panel = FakePanel::new(128, 64);
        let d = Display::new(&panel).with_size_hint(Some((128, 64)));
        d.show("Hi", &Style::default()).unwrap();
        d.clear().unwrap();
        assert_eq!(panel.info_calls(), 0);
        assert_eq!(panel.frames().len(), 2);

        // Portrait panel, landscape hint: the same 1,024 bytes, refused by size, then redrawn.
        let portrait = FakePanel::new(64, 128);
        let d = Display::new(&portrait).with_size_hint(Some((128, 64)));
        let shown = d.show("Hi", &Style::default()).unwrap();
        assert_eq!((shown.width, shown.height), (64, 128));
        assert_eq!(portrait.info_calls(), 1);
        assert_eq!(
            portrait.frames(),
            vec![core::render("Hi", &Style::default(), 64, 128)
                .frame
                .into_bytes()]
        );
    }

    #[test]
    fn a_ticker_is_drawn_once_for_the_panel_and_its_speed_checked() {
        let panel = FakePanel::new(128, 32);
        let d = Display::new(&panel).with_size_hint(Some((128, 64)));
        let t = d
            .ticker(
                "a line longer than the panel",
                &Style::default(),
                TickerOptions::default(),
            )
            .unwrap();
        assert_eq!((t.width, t.height), (128, 32), "a wrong hint costs a retry");
        assert_eq!(t.ticker.path, "software");
        let sent = panel.tickers();
        assert_eq!(sent.len(), 1);
        let want = core::render_ticker("a line longer than the panel", &Style::default(), 128, 32);
        assert_eq!(
            sent[0],
            (want.strip.clone(), want.top_page, DEFAULT_TICKER_SPEED)
        );
        assert_eq!(
            d.status().unwrap().last_text.as_deref(),
            Some("a line longer than the panel")
        );
        for speed in [0, MAX_TICKER_SPEED + 1] {
            let e = d.ticker(
                "x",
                &Style::default(),
                TickerOptions {
                    speed,
                    software: false,
                },
            );
            assert!(matches!(e, Err(PanelError::Invalid(_))), "{speed}");
        }
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("128x64"), Some((128, 64)));
        assert_eq!(parse_size(" 64X128 "), Some((64, 128)));
        for bad in ["", "128", "0x64", "129x64", "axb", "128x64x2", "-1x8"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn clear_presents_a_dark_frame() {
        let panel = FakePanel::new(128, 64);
        Display::new(&panel).clear().unwrap();
        assert!(panel.frames()[0].iter().all(|b| *b == 0));
    }

    #[test]
    fn demo_draws_something_within_the_panel() {
        for (w, h) in [(128, 64), (128, 32), (64, 128)] {
            let panel = FakePanel::new(w, h);
            Display::new(&panel).demo().unwrap();
            let f = &panel.frames()[0];
            assert_eq!(f.len(), usize::from(w) * usize::from(h) / 8);
            assert!(f.iter().any(|b| *b != 0));
        }
    }

    #[test]
    fn panel_errors_reach_the_caller_untouched() {
        let panel = FakePanel::new(128, 64);
        panel.fail_with(PanelError::Bus("NACK at 0x3c".into()));
        let err = Display::new(&panel)
            .show("x", &Style::default())
            .unwrap_err();
        assert_eq!(err, PanelError::Bus("NACK at 0x3c".into()));
        let panel = FakePanel::absent();
        assert!(matches!(
            Display::new(&panel).status(),
            Err(PanelError::Absent(_))
        ));
    }

    #[test]
    fn status_reports_the_panel() {
        let panel = FakePanel::new(128, 64);
        let s = Display::new(&panel).status().unwrap();
        assert_eq!(s.panel.driver, "ssd1306");
        assert_eq!(s.max_text_bytes, MAX_TEXT_BYTES);
        assert_eq!(s.last_text, None);
    }

    #[test]
    fn the_last_text_is_the_panels() {
        let panel = FakePanel::new(128, 64);
        let d = Display::new(&panel);
        d.show("Hello", &Style::default()).unwrap();
        assert_eq!(d.status().unwrap().last_text.as_deref(), Some("Hello"));
        d.clear().unwrap();
        assert_eq!(d.status().unwrap().last_text.as_deref(), Some(""));
        d.demo().unwrap();
        assert_eq!(d.status().unwrap().last_text.as_deref(), Some(DEMO_TEXT));
        // A new component instance (after a restart) asks the same panel.
        assert_eq!(
            Display::new(&panel).status().unwrap().last_text.as_deref(),
            Some(DEMO_TEXT)
        );
    }

    #[test]
    fn style_words_are_checked() {
        assert_eq!(
            style_from(None, None, None, None).unwrap(),
            Style::default()
        );
        let s = style_from(Some("small"), Some("left"), Some("top"), Some(true)).unwrap();
        assert_eq!(
            (s.font, s.align, s.valign, s.invert),
            (Font::Small, HAlign::Left, VAlign::Top, true)
        );
        assert!(style_from(Some("huge"), None, None, None).is_err());
    }
}
