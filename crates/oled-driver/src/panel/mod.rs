//! [`Panel`]: one SSD1306 (or SH1106, SSD1309) on one I2C bus, with the frame it holds.
//!
//! This file brings the panel up and presents frames; `control` changes its registers without a
//! redraw, `scroll` runs a hardware ticker.

mod control;
mod scroll;

use std::borrow::Cow;

use display_interface::DisplayError;
use embedded_hal::i2c::{ErrorKind, I2c, NoAcknowledgeSource};
use oled_frame::{Frame, PanelSize, Window};
use ssd1306::prelude::Brightness;
use ssd1306::size::{
    DisplaySize128x32, DisplaySize128x64, DisplaySize64x48, DisplaySize72x40, DisplaySize96x16,
};
use ssd1306::Ssd1306;

use crate::bus::{self, BusLink, LinkState};
use crate::controller::{sh1106_init, ssd1309_init, PanelCommands};
use crate::plan::{self, Block, Cursor};
use crate::settings::{Controller, PanelGeometry, PanelSettings, DEFAULT_CONTRAST, PRECHARGE};
use crate::stats::{saturate, PanelStats, PresentCost};
use crate::PanelError;

/// One SSD1306 panel on a bus, with the frame it holds.
///
/// Nothing is sent before [`Panel::init`] or the first call that needs the panel (which initialises it).
/// Every call is synchronous and owns the bus for its duration; share a panel through a single owner
/// (a thread or task that serialises calls), never by interleaving calls.
///
/// ```
/// use oled_driver::{Panel, PanelSettings};
/// use virtual_ssd1306::{PanelSize, SharedPanel, VirtualSsd1306};
///
/// let bus = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
/// let mut panel = Panel::new(bus.clone(), PanelSettings::default());
/// let mut frame = panel.blank_frame();
/// frame.set_pixel(3, 5, true);
/// let first = panel.present(&frame)?; // initialises, then sends the whole frame
/// assert!(first.initialised && first.full_refresh);
/// frame.set_pixel(4, 5, true);
/// let next = panel.present(&frame)?; // one byte changed: a few bytes on the bus
/// assert!(next.bytes < 16, "{next:?}");
/// assert_eq!(bus.with(|p| p.visible()), frame);
/// # Ok::<(), oled_driver::PanelError>(())
/// ```
pub struct Panel<I> {
    i2c: I,
    link: LinkState,
    buf: Vec<u8>,
    settings: PanelSettings,
    initialised: bool,
    /// What GDDRAM holds (landscape, page-major), if known.
    gddram: Option<Frame>,
    /// Where the controller's address pointer is, if known.
    cursor: Cursor,
    contrast: u8,
    power_on: bool,
    inverted: bool,
    stats: PanelStats,
    /// What night mode and burn-in care put on the chip, when that differs from the settings above
    /// (`None`: the chip has those, with display offset 0).
    care: Option<ChipCare>,
    /// The GDDRAM pages the controller's horizontal scroll is moving (a hardware ticker), if it runs.
    scrolling: Option<(u16, u16)>,
}

/// The registers care changes: contrast, display on/off, display offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChipCare {
    contrast: u8,
    on: bool,
    offset: u8,
}

impl<I: I2c> Panel<I> {
    /// A panel at `settings.address` on `i2c`. Sends nothing.
    pub fn new(i2c: I, settings: PanelSettings) -> Self {
        Self {
            i2c,
            link: LinkState::default(),
            buf: Vec::with_capacity(1 + 1024),
            settings,
            initialised: false,
            gddram: None,
            cursor: settings.cursor(),
            contrast: settings.contrast,
            power_on: true,
            inverted: false,
            stats: PanelStats::default(),
            care: None,
            scrolling: None,
        }
    }

    /// The settings in force (rotation included).
    pub fn settings(&self) -> PanelSettings {
        self.settings
    }

    /// Size of the frames `present` takes, after rotation.
    pub fn geometry(&self) -> PanelGeometry {
        self.settings.geometry()
    }

    /// Bytes a frame for `present` has.
    pub fn frame_len(&self) -> usize {
        oled_frame::byte_len(self.settings.size.width(), self.settings.size.height())
    }

    /// A dark frame of the panel's logical size.
    pub fn blank_frame(&self) -> Frame {
        let g = self.geometry();
        Frame::blank(g.size, g.rotation.is_portrait())
    }

    /// True once initialised and until a bus fault.
    pub fn is_initialised(&self) -> bool {
        self.initialised
    }

    /// Whether the last contact with the panel went well, without touching the bus (health checks
    /// come every few seconds and must not add traffic). After a bus fault it is the fault, until a
    /// call re-initialises the panel.
    pub fn health(&self) -> Result<(), String> {
        if self.initialised {
            return Ok(());
        }
        match &self.stats.last_error {
            Some(e) => Err(e.clone()),
            None => Err("not initialised yet".to_string()),
        }
    }

    /// The frame the panel holds in its logical orientation, if known.
    pub fn shown(&self) -> Option<Frame> {
        let g = self.gddram.as_ref()?;
        Some(if self.settings.rotation.is_portrait() {
            g.transposed().ok()?
        } else {
            g.clone()
        })
    }

    /// The panel's GDDRAM as last sent (landscape, page-major), if known.
    pub fn gddram(&self) -> Option<&Frame> {
        self.gddram.as_ref()
    }

    /// Contrast last asked for, 0-255.
    pub fn contrast(&self) -> u8 {
        self.contrast
    }

    /// Display on (not sleeping).
    pub fn is_on(&self) -> bool {
        self.power_on
    }

    /// Hardware inversion on.
    pub fn is_inverted(&self) -> bool {
        self.inverted
    }

    /// Running totals.
    pub fn stats(&self) -> &PanelStats {
        &self.stats
    }

    /// (Re)initialises the panel: the driver's init sequence in horizontal addressing, then the contrast,
    /// inversion and power state last asked for. GDDRAM is not cleared by it, so the next `present` sends
    /// the whole frame.
    pub fn init(&mut self) -> Result<PresentCost, PanelError> {
        self.measured(|p| {
            p.init_sequence()?;
            Ok(PresentCost {
                initialised: true,
                ..PresentCost::default()
            })
        })
    }

    /// Shows `frame` (logical orientation, see [`Panel::geometry`]): sends the windows that differ from what
    /// the panel holds, nothing if it is identical, everything if the panel's content is unknown.
    pub fn present(&mut self, frame: &Frame) -> Result<PresentCost, PanelError> {
        let g = self.geometry();
        if frame.width() != g.width || frame.height() != g.height {
            return Err(PanelError::BadFrame(format!(
                "expected a {}x{} frame ({} bytes), got {}x{}",
                g.width,
                g.height,
                self.frame_len(),
                frame.width(),
                frame.height()
            )));
        }
        let target = if self.settings.rotation.is_portrait() {
            Cow::Owned(
                frame
                    .transposed()
                    .map_err(|e| PanelError::BadFrame(e.to_string()))?,
            )
        } else {
            Cow::Borrowed(frame)
        };
        let result = self.measured(|p| p.send_frame(target));
        if let Ok(cost) = &result {
            self.stats.updates += 1;
            if cost.full_refresh {
                self.stats.full_refreshes += 1;
            }
            if cost.windows == 0 {
                self.stats.unchanged += 1;
            }
        }
        result
    }

    /// [`Panel::present`] for bytes from the wire: `width * height / 8` bytes page-major, logical size.
    pub fn present_bytes(&mut self, bytes: &[u8]) -> Result<PresentCost, PanelError> {
        let g = self.geometry();
        let frame = Frame::from_bytes(g.width, g.height, bytes.to_vec())
            .map_err(|e| PanelError::BadFrame(e.to_string()))?;
        self.present(&frame)
    }

    /// Gives the bus back.
    pub fn release(self) -> I {
        self.i2c
    }

    /// Runs `f`, measures what it put on the bus, books it in the totals and turns a fault into a `bus`
    /// error with the panel marked unknown.
    fn measured(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<PresentCost, PanelError>,
    ) -> Result<PresentCost, PanelError> {
        self.link.fault = None;
        let (tx0, bytes0) = (self.link.transactions, self.link.bytes);
        let result = f(self);
        let (tx1, bytes1) = (self.link.transactions, self.link.bytes);
        self.stats.transactions += tx1 - tx0;
        self.stats.bytes += bytes1 - bytes0;
        match result {
            Ok(mut cost) => {
                cost.transactions = saturate(tx1 - tx0);
                cost.bytes = saturate(bytes1 - bytes0);
                Ok(cost)
            }
            Err(e) => {
                // A panel that did not answer may have lost power: re-initialise it next time.
                if matches!(e, PanelError::Bus { .. } | PanelError::Absent(_)) {
                    self.mark_unknown();
                    self.stats.last_error = Some(e.to_string());
                }
                if matches!(e, PanelError::Bus { .. }) {
                    self.stats.errors += 1;
                }
                Err(e)
            }
        }
    }

    /// Maps a driver error to what the bus said: `absent` when nothing acknowledged the address (the
    /// panel is unplugged or elsewhere), `bus` for any other fault.
    fn bus_error(&mut self, e: Option<DisplayError>) -> PanelError {
        match self.link.fault.take() {
            Some((ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address), detail)) => {
                PanelError::Absent(detail)
            }
            Some((kind, detail)) => PanelError::Bus { kind, detail },
            None => PanelError::Bus {
                kind: ErrorKind::Other,
                detail: format!("display interface error: {e:?}"),
            },
        }
    }

    /// Runs driver calls of the `ssd1306` crate on a driver lent the bus for this call (it sends
    /// nothing when made; its rotation is the panel's).
    fn command(
        &mut self,
        f: impl FnOnce(&mut dyn PanelCommands) -> Result<(), DisplayError>,
    ) -> Result<(), PanelError> {
        let rotation = self.settings.rotation.driver();
        let link = BusLink {
            i2c: &mut self.i2c,
            address: self.settings.address,
            buf: &mut self.buf,
            state: &mut self.link,
        };
        let r = match self.settings.size {
            PanelSize::W128xH64 => f(&mut Ssd1306::new(link, DisplaySize128x64, rotation)),
            PanelSize::W128xH32 => f(&mut Ssd1306::new(link, DisplaySize128x32, rotation)),
            PanelSize::W96xH16 => f(&mut Ssd1306::new(link, DisplaySize96x16, rotation)),
            PanelSize::W72xH40 => f(&mut Ssd1306::new(link, DisplaySize72x40, rotation)),
            PanelSize::W64xH48 => f(&mut Ssd1306::new(link, DisplaySize64x48, rotation)),
        };
        r.map_err(|e| self.bus_error(Some(e)))
    }

    /// One raw write transaction of an encoded plan.
    fn raw(&mut self, payload: &[u8]) -> Result<(), PanelError> {
        bus::write(
            &mut self.i2c,
            self.settings.address,
            payload,
            &mut self.link,
        )
        .map_err(|()| self.bus_error(None))
    }

    /// Initialises if needed; true if it did.
    fn ensure_init(&mut self) -> Result<bool, PanelError> {
        if self.initialised {
            return Ok(false);
        }
        self.init_sequence()?;
        Ok(true)
    }

    fn init_sequence(&mut self) -> Result<(), PanelError> {
        self.mark_unknown();
        // Every initialisation stops a horizontal scroll (0x2E is in each sequence, the crate's too).
        self.scrolling = None;
        // The driver's init leaves the pointer wherever it likes: the next block sets it in full.
        self.stats.inits += 1;
        let (contrast, inverted, power_on) = (self.contrast, self.inverted, self.power_on);
        let own_init = match self.settings.controller {
            Controller::Sh1106 { .. } => {
                Some(sh1106_init(&self.settings, contrast, inverted, power_on))
            }
            Controller::Ssd1309 => Some(ssd1309_init(&self.settings, contrast, inverted, power_on)),
            Controller::Ssd1306 => None,
        };
        if let Some(init) = own_init {
            self.raw(&init)?;
            self.initialised = true;
            return Ok(());
        }
        self.command(|d| {
            d.init_horizontal()?;
            if contrast != DEFAULT_CONTRAST {
                d.set_brightness(Brightness::custom(PRECHARGE, contrast))?;
            }
            if inverted {
                d.set_invert(true)?;
            }
            if !power_on {
                d.set_display_on(false)?;
            }
            Ok(())
        })?;
        self.initialised = true;
        Ok(())
    }

    fn send_frame(&mut self, target: Cow<'_, Frame>) -> Result<PresentCost, PanelError> {
        let initialised = self.ensure_init()?;
        // RAM is written only with the scroll stopped (datasheet, 0x2E).
        self.halt_scroll(Some(&target))?;
        let (blocks, full_refresh) = match (&self.gddram, self.settings.controller) {
            (Some(old), _) => (plan::plan(old, &target, self.cursor), false),
            (None, Controller::Ssd1306 | Controller::Ssd1309) => {
                (vec![Block::Window(Window::full(&target))], true)
            }
            (None, Controller::Sh1106 { .. }) => (plan::full_pages(&target), true),
        };
        let mut payloads = Vec::new();
        let after = plan::encode(&blocks, &target, self.cursor, &mut payloads);
        // Until every transaction is acknowledged, neither GDDRAM nor the pointer is known.
        self.gddram = None;
        self.cursor = self.settings.cursor();
        for p in &payloads {
            self.raw(p)?;
        }
        self.cursor = after;
        let mut pages: u16 = 0;
        for b in &blocks {
            for p in b.pages() {
                pages |= 1 << p;
            }
        }
        self.gddram = Some(target.into_owned());
        Ok(PresentCost {
            pages_touched: pages.count_ones() as u8,
            windows: blocks.len() as u32,
            full_refresh,
            initialised,
            ..PresentCost::default()
        })
    }
}
