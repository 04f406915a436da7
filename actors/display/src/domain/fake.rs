//! A panel that records what it was given, for tests of the use cases and the API.

use super::{Panel, PanelError, PanelInfo, PresentCost};
use std::cell::{Cell, RefCell};

pub struct FakePanel {
    info: Option<PanelInfo>,
    frames: RefCell<Vec<Vec<u8>>>,
    text: RefCell<Option<String>>,
    fail: RefCell<Option<PanelError>>,
    unsaved: RefCell<Option<String>>,
    info_calls: Cell<u32>,
    tickers: RefCell<Vec<(oled_frame::Strip, u8, u16)>>,
}

impl FakePanel {
    pub fn new(width: u16, height: u16) -> Self {
        Self {
            info: Some(PanelInfo {
                width,
                height,
                driver: "ssd1306".into(),
                backend: "virtual".into(),
                bus: "fake".into(),
                address: 0x3C,
                rotation: 0,
                unsaved: None,
            }),
            frames: RefCell::default(),
            text: RefCell::default(),
            fail: RefCell::default(),
            unsaved: RefCell::default(),
            info_calls: Cell::default(),
            tickers: RefCell::default(),
        }
    }

    pub fn absent() -> Self {
        Self {
            info: None,
            frames: RefCell::default(),
            text: RefCell::default(),
            fail: RefCell::default(),
            unsaved: RefCell::default(),
            info_calls: Cell::default(),
            tickers: RefCell::default(),
        }
    }

    pub fn fail_with(&self, e: PanelError) {
        *self.fail.borrow_mut() = Some(e);
    }

    /// From now on, every present and info says the panel's state could not be saved, with `why`.
    pub fn unsaved(&self, why: &str) {
        *self.unsaved.borrow_mut() = Some(why.to_string());
    }

    /// How often the panel was asked its info.
    pub fn info_calls(&self) -> u32 {
        self.info_calls.get()
    }

    /// Tickers started: strip, page, speed.
    pub fn tickers(&self) -> Vec<(oled_frame::Strip, u8, u16)> {
        self.tickers.borrow().clone()
    }

    pub fn frames(&self) -> Vec<Vec<u8>> {
        self.frames.borrow().clone()
    }
}

impl FakePanel {
    fn own_info(&self) -> Result<PanelInfo, PanelError> {
        let mut info = self
            .info
            .clone()
            .ok_or_else(|| PanelError::Absent("no panel on /dev/i2c-9".into()))?;
        info.unsaved = self.unsaved.borrow().clone();
        Ok(info)
    }
}

impl Panel for &FakePanel {
    fn info(&self) -> Result<PanelInfo, PanelError> {
        self.info_calls.set(self.info_calls.get() + 1);
        self.own_info()
    }

    fn present_sized(
        &self,
        width: u16,
        height: u16,
        frame: &[u8],
        text: &str,
    ) -> Result<PresentCost, PanelError> {
        let info = self.own_info()?;
        if (info.width, info.height) != (width, height) {
            return Err(PanelError::BadFrame(format!(
                "a {width}x{height} frame for a {}x{} panel",
                info.width, info.height
            )));
        }
        self.present(frame, Some(text))
    }

    fn present_ticker(
        &self,
        t: &super::TickerDraw<'_>,
        text: &str,
    ) -> Result<super::TickerRun, PanelError> {
        let bus = self.present_sized(t.width, t.height, t.frame, text)?;
        self.tickers
            .borrow_mut()
            .push((t.strip.clone(), t.top_page, t.speed));
        Ok(super::TickerRun {
            path: if t.software || t.strip.width() > 128 {
                "software".into()
            } else {
                "hardware".into()
            },
            speed: f64::from(t.speed),
            why_software: None,
            bus,
        })
    }

    fn last_text(&self) -> Result<Option<String>, PanelError> {
        self.own_info()?;
        Ok(self.text.borrow().clone())
    }

    fn activity(&self) -> Result<super::Activity, PanelError> {
        self.own_info()?;
        Ok(super::Activity {
            care: super::Care {
                level: "awake".to_string(),
                quiet: false,
                offset: 0,
            },
            ticker: None,
        })
    }

    fn shown(&self) -> Result<oled_frame::Frame, PanelError> {
        let info = self.own_info()?;
        let frames = self.frames.borrow();
        match frames.last() {
            Some(bytes) => oled_frame::Frame::from_bytes(info.width, info.height, bytes.clone()),
            None => oled_frame::Frame::new(info.width, info.height),
        }
        .map_err(|e| PanelError::Invalid(e.to_string()))
    }

    fn ascii(&self) -> Result<String, PanelError> {
        let info = self.own_info()?;
        let frames = self.frames.borrow();
        let frame = match frames.last() {
            Some(bytes) => oled_frame::Frame::from_bytes(info.width, info.height, bytes.clone())
                .map_err(|e| PanelError::Invalid(e.to_string()))?,
            None => oled_frame::Frame::new(info.width, info.height)
                .map_err(|e| PanelError::Invalid(e.to_string()))?,
        };
        Ok(frame.to_ascii())
    }

    fn present(&self, frame: &[u8], text: Option<&str>) -> Result<PresentCost, PanelError> {
        if let Some(e) = self.fail.borrow().clone() {
            return Err(e);
        }
        let info = self.own_info()?;
        let expected = usize::from(info.width) * usize::from(info.height) / 8;
        if frame.len() != expected {
            return Err(PanelError::BadFrame(format!(
                "expected {expected} bytes, got {}",
                frame.len()
            )));
        }
        self.frames.borrow_mut().push(frame.to_vec());
        *self.text.borrow_mut() = text.map(str::to_string);
        Ok(PresentCost {
            bytes: frame.len() as u32 + 14,
            transactions: 3,
            pages_touched: 8,
            full_refresh: false,
            unsaved: self.unsaved.borrow().clone(),
        })
    }
}
