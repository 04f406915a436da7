//! A hardware ticker: the controller's horizontal scroll, when it can show the ticker.

use std::borrow::Cow;

use embedded_hal::i2c::I2c;
use oled_frame::Frame;

use crate::settings::{Controller, PRECHARGE};
use crate::stats::PresentCost;
use crate::{PanelError, CONTROL_COMMANDS};

use super::Panel;

impl<I: I2c> Panel<I> {
    /// Display frames a second at the controller's nominal oscillator frequency (370 kHz), with the
    /// clock divide, pre-charge phases and multiplex ratio this driver sets: what a hardware scroll's
    /// speed follows. A real chip's oscillator may differ by some per cent; the SSD1309's init sets
    /// a higher oscillator code (0xD5 0xA0) whose frequency this does not model, so its real rate is
    /// likely higher (the emulator models the same nominal rate, and tests hold the two equal).
    /// `None` for the SH1106, which has no horizontal scroll.
    pub fn nominal_frame_rate(&self) -> Option<f64> {
        let (phases, mux) = match self.settings.controller {
            // The ssd1306 crate's pre-charge: phase 1 of one clock, phase 2 of PRECHARGE.
            Controller::Ssd1306 => (1 + PRECHARGE, self.settings.size.height()),
            // Our own init's 0xD9 0xD3: 3 and 13 clocks.
            Controller::Ssd1309 => (3 + 13, 64),
            Controller::Sh1106 { .. } => return None,
        };
        Some(370_000.0 / ((f64::from(phases) + 50.0) * f64::from(mux)))
    }

    /// Why this panel cannot move `ticker` by its own horizontal scroll, or `None` when it can.
    pub fn hardware_refusal(&self, ticker: &crate::ticker::Ticker) -> Option<String> {
        if matches!(self.settings.controller, Controller::Sh1106 { .. }) {
            return Some("the SH1106 has no horizontal scroll".to_string());
        }
        if self.settings.rotation.is_portrait() {
            return Some(
                "the panel is mounted portrait: its controller scrolls across the text".to_string(),
            );
        }
        let ring = crate::ticker::RING_COLUMNS;
        if ticker.strip().width() > ring {
            return Some(format!(
                "the strip is {} columns, longer than the controller's {ring}-column ring",
                ticker.strip().width()
            ));
        }
        None
    }

    /// Starts `ticker`: on the hardware path when the controller can scroll it and `software` is
    /// false (the strip is written to the scrolled pages of its RAM ring, then 0x27 and 0x2F: no bus
    /// bytes after that), otherwise on the software path (its first picture is presented, and the
    /// caller presents [`TickerRun::frame_at`](crate::ticker::TickerRun::frame_at) at each
    /// step). A running scroll is stopped first. Anything presented later stops it.
    pub fn start_ticker(
        &mut self,
        ticker: &crate::ticker::Ticker,
        software: bool,
    ) -> Result<crate::ticker::TickerRun, PanelError> {
        use crate::ticker::{nearest_interval, TickerPath, TickerRun, RING_COLUMNS};
        let g = self.geometry();
        let bg = ticker.background();
        if (bg.width(), bg.height()) != (g.width, g.height) {
            return Err(PanelError::BadFrame(format!(
                "a ticker drawn for {}x{}; this panel is {}x{} (after rotation)",
                bg.width(),
                bg.height(),
                g.width,
                g.height
            )));
        }
        let refusal = self.hardware_refusal(ticker);
        let ring = if software {
            None
        } else {
            refusal
                .as_ref()
                .map_or_else(|| ticker.padded(RING_COLUMNS), |_| None)
        };
        let (Some(ring), Some(rate)) = (ring, self.nominal_frame_rate()) else {
            let cost = self.present(&ticker.frame_at(0))?;
            return Ok(TickerRun {
                ticker: ticker.clone(),
                path: TickerPath::Software,
                speed: f64::from(ticker.speed()),
                interval_frames: None,
                why_software: if software {
                    Some("asked for".to_string())
                } else {
                    refusal
                },
                cost,
            });
        };
        let (frames, code, speed) = nearest_interval(rate, f64::from(ticker.speed()));
        let first = ring.frame_at(0);
        let top = ring.top_page();
        let bottom = top + ring.strip().pages() - 1;
        let cost = self.measured(|p| {
            let cost = p.send_frame(Cow::Borrowed(&first))?;
            if p.settings.size.width() < RING_COLUMNS {
                // The ring's columns off the glass, where the text waits before it scrolls in.
                let off = u32::from(p.settings.ram_offset());
                let mut data = vec![crate::CONTROL_DATA];
                for page in 0..ring.strip().pages() {
                    for c in 0..u32::from(RING_COLUMNS) {
                        let at = (c + u32::from(RING_COLUMNS) - off) % u32::from(RING_COLUMNS);
                        data.push(ring.strip().column_byte(at, page));
                    }
                }
                p.cursor = p.cursor.forgotten();
                p.raw(&[
                    CONTROL_COMMANDS,
                    0x20,
                    0x00,
                    0x21,
                    0,
                    127,
                    0x22,
                    top,
                    bottom,
                ])?;
                p.raw(&data)?;
            }
            p.raw(&[
                CONTROL_COMMANDS,
                0x27,
                0x00,
                top,
                code,
                bottom,
                0x00,
                0xFF,
                0x2F,
            ])?;
            p.scrolling = Some((u16::from(top), u16::from(bottom)));
            Ok(cost)
        })?;
        Ok(TickerRun {
            ticker: ring,
            path: TickerPath::Hardware,
            speed,
            interval_frames: Some(frames),
            why_software: None,
            cost,
        })
    }

    /// Stops a hardware scroll (0x2E) and writes the pages it moved back as they were at its start.
    /// Nothing is sent when no scroll runs. Presenting a frame does the same on its way.
    pub fn stop_ticker(&mut self) -> Result<PresentCost, PanelError> {
        if self.scrolling.is_none() {
            return Ok(PresentCost::default());
        }
        self.measured(|p| match p.gddram.clone() {
            Some(g) => p.send_frame(Cow::Owned(g)),
            None => {
                p.halt_scroll(None)?;
                Ok(PresentCost::default())
            }
        })
    }

    /// True while the controller's horizontal scroll runs (a hardware ticker).
    pub fn is_scrolling(&self) -> bool {
        self.scrolling.is_some()
    }

    /// Stops a running scroll before RAM is written: the pages it moved are then unknown, so they are
    /// made to differ from `target` everywhere and the next plan sends them whole.
    pub(super) fn halt_scroll(&mut self, target: Option<&Frame>) -> Result<(), PanelError> {
        let Some((top, bottom)) = self.scrolling else {
            return Ok(());
        };
        self.raw(&[CONTROL_COMMANDS, 0x2E])?;
        self.scrolling = None;
        match (self.gddram.take(), target) {
            (Some(g), Some(t)) if (g.width(), g.height()) == (t.width(), t.height()) => {
                let (w, h) = (g.width(), g.height());
                let mut bytes = g.into_bytes();
                for page in top..=bottom.min(t.pages().saturating_sub(1)) {
                    let at = usize::from(page) * usize::from(w);
                    for (b, want) in bytes[at..at + usize::from(w)].iter_mut().zip(t.page(page)) {
                        *b = !*want;
                    }
                }
                self.gddram = Frame::from_bytes(w, h, bytes).ok();
            }
            _ => self.gddram = None,
        }
        Ok(())
    }
}
