//! The update path: one SSD1306 on one I2C bus, driven through the `ssd1306` crate.
//!
//! [`Panel`] is generic over any embedded-hal 1.0 [`I2c`], so the same code drives a Linux `I2cdev`, the
//! virtual SSD1306 and test mocks. It keeps the frame the panel holds and sends only what changed: the
//! diff is planned by [`oled_frame::plan_windows`] in GDDRAM space, and each window costs exactly
//! [`oled_frame::WINDOW_OVERHEAD_BYTES`] on the bus beyond its data, thanks to [`BusLink`] sending every
//! command batch and every data block as a single I2C transaction.
//!
//! A bus fault forgets what the panel holds: the next call re-initialises it and sends the whole frame.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard};

use display_interface::{DataFormat, DisplayError, WriteOnlyDataCommand};
use embedded_hal::i2c::{ErrorKind, I2c, NoAcknowledgeSource};
use oled_frame::{plan_windows, Frame, Window, WINDOW_OVERHEAD_BYTES};
use serde::Serialize;
use ssd1306::command::AddrMode;
use ssd1306::mode::BasicMode;
use ssd1306::prelude::{Brightness, DisplayRotation};
use ssd1306::size::{DisplaySize128x32, DisplaySize128x64};
use ssd1306::Ssd1306;

/// Control byte that starts a transaction of commands (Co=0, D/C#=0).
pub const CONTROL_COMMANDS: u8 = 0x00;
/// Control byte that starts a transaction of GDDRAM data (Co=0, D/C#=1).
pub const CONTROL_DATA: u8 = 0x40;
/// The contrast the `ssd1306` driver's init sets (`Brightness::NORMAL`). Configuring it costs nothing
/// extra at init; any other level adds one brightness update (two command transactions).
pub const DEFAULT_CONTRAST: u8 = 0x5F;
/// Pre-charge phase 2 sent with every contrast change, as the driver's predefined levels use.
const PRECHARGE: u8 = 2;

/// The glass sizes this provider drives: one list with the emulator's (`oled-frame`).
pub use oled_frame::PanelSize;

/// Hardware rotation, as the `ssd1306` crate applies it (segment remap and COM scan direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub enum Rotation {
    #[default]
    Deg0,
    Deg90,
    Deg180,
    Deg270,
}

impl Rotation {
    pub fn from_degrees(degrees: u16) -> Option<Self> {
        match degrees {
            0 => Some(Rotation::Deg0),
            90 => Some(Rotation::Deg90),
            180 => Some(Rotation::Deg180),
            270 => Some(Rotation::Deg270),
            _ => None,
        }
    }

    pub fn degrees(self) -> u16 {
        match self {
            Rotation::Deg0 => 0,
            Rotation::Deg90 => 90,
            Rotation::Deg180 => 180,
            Rotation::Deg270 => 270,
        }
    }

    /// Portrait: the logical frame is the GDDRAM transposed.
    pub fn is_portrait(self) -> bool {
        matches!(self, Rotation::Deg90 | Rotation::Deg270)
    }

    fn driver(self) -> DisplayRotation {
        match self {
            Rotation::Deg0 => DisplayRotation::Rotate0,
            Rotation::Deg90 => DisplayRotation::Rotate90,
            Rotation::Deg180 => DisplayRotation::Rotate180,
            Rotation::Deg270 => DisplayRotation::Rotate270,
        }
    }
}

/// What the panel is and how it is set up at initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct PanelSettings {
    pub size: PanelSize,
    pub rotation: Rotation,
    /// 7-bit I2C address.
    pub address: u8,
    /// Contrast 0-255 applied at every (re)initialisation.
    pub contrast: u8,
}

impl Default for PanelSettings {
    fn default() -> Self {
        Self {
            size: PanelSize::W128xH64,
            rotation: Rotation::Deg0,
            address: 0x3C,
            contrast: DEFAULT_CONTRAST,
        }
    }
}

impl PanelSettings {
    /// Size of the frames `present` takes for these settings.
    pub fn geometry(&self) -> PanelGeometry {
        let (w, h) = (self.size.width(), self.size.height());
        let (width, height) = if self.rotation.is_portrait() {
            (h, w)
        } else {
            (w, h)
        };
        PanelGeometry {
            width,
            height,
            size: self.size,
            rotation: self.rotation,
            address: self.address,
        }
    }
}

/// Geometry of the frames [`Panel::present`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PanelGeometry {
    /// Logical width and height (after rotation).
    pub width: u16,
    pub height: u16,
    pub size: PanelSize,
    pub rotation: Rotation,
    pub address: u8,
}

/// What one call put on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PresentCost {
    /// Bytes of acknowledged transactions: one address byte each plus the payload.
    pub bytes: u32,
    /// Acknowledged write transactions.
    pub transactions: u32,
    /// GDDRAM pages that received data.
    pub pages_touched: u8,
    /// Windows (rectangles of GDDRAM) sent.
    pub windows: u32,
    /// The whole frame was sent because the panel's content was unknown (first contact, after a fault).
    pub full_refresh: bool,
    /// The panel was (re)initialised during this call; its bytes are included above.
    pub initialised: bool,
}

/// Why a panel call failed; the variants are those of the `panel-error` in the WIT contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PanelError {
    /// The frame does not have the panel's logical size.
    #[error("bad frame: {0}")]
    BadFrame(String),
    /// The bus reported an error; the panel will be re-initialised and fully redrawn on the next call.
    #[error("bus error: {0}")]
    Bus(String),
    /// The configured bus or panel is not there.
    #[error("panel absent: {0}")]
    Absent(String),
    /// An argument or configuration out of range.
    #[error("invalid: {0}")]
    Invalid(String),
}

/// Running totals over the panel's life, for `inspect.stats` and benchmarks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PanelStats {
    /// Successful `present` calls, including those that sent nothing.
    pub updates: u64,
    /// Successful `present` calls whose frame was already on the panel.
    pub unchanged: u64,
    /// Acknowledged bytes and transactions, everything included (init, commands, data).
    pub bytes: u64,
    pub transactions: u64,
    /// Calls that failed on the bus.
    pub errors: u64,
    pub last_error: Option<String>,
    /// Presents that sent the whole frame.
    pub full_refreshes: u64,
    /// Initialisation sequences sent (first contact and recoveries).
    pub inits: u64,
}

/// Counters and the last fault of a [`BusLink`], shared with the [`Panel`] that owns the driver.
#[derive(Debug, Default)]
struct LinkState {
    transactions: u64,
    bytes: u64,
    fault: Option<String>,
    /// The last fault was a NACK of the address: nothing answers there (unplugged, wrong address).
    fault_absent: bool,
}

/// The display interface the `ssd1306` driver writes through: every `send_commands` is one transaction
/// `[0x00, commands…]`, every `send_data` one transaction `[0x40, data…]`, whatever the length.
pub struct BusLink<I> {
    i2c: I,
    address: u8,
    buf: Vec<u8>,
    state: Arc<Mutex<LinkState>>,
}

impl<I: I2c> BusLink<I> {
    fn new(i2c: I, address: u8, state: Arc<Mutex<LinkState>>) -> Self {
        Self {
            i2c,
            address,
            buf: Vec::with_capacity(1 + 1024),
            state,
        }
    }

    fn transaction(&mut self, control: u8, payload: DataFormat<'_>) -> Result<(), DisplayError> {
        self.buf.clear();
        self.buf.push(control);
        match payload {
            DataFormat::U8(bytes) => self.buf.extend_from_slice(bytes),
            DataFormat::U8Iter(iter) => self.buf.extend(iter),
            _ => return Err(DisplayError::DataFormatNotImplemented),
        }
        if self.buf.len() == 1 {
            return Ok(());
        }
        let result = self.i2c.write(self.address, &self.buf);
        let mut state = lock(&self.state);
        match result {
            Ok(()) => {
                state.transactions += 1;
                state.bytes += 1 + self.buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                state.fault = Some(describe_i2c_error(&e, self.address));
                state.fault_absent = matches!(
                    embedded_hal::i2c::Error::kind(&e),
                    ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)
                );
                Err(DisplayError::BusWriteError)
            }
        }
    }
}

impl<I: I2c> WriteOnlyDataCommand for BusLink<I> {
    fn send_commands(&mut self, cmd: DataFormat<'_>) -> Result<(), DisplayError> {
        self.transaction(CONTROL_COMMANDS, cmd)
    }

    fn send_data(&mut self, buf: DataFormat<'_>) -> Result<(), DisplayError> {
        self.transaction(CONTROL_DATA, buf)
    }
}

fn lock(state: &Mutex<LinkState>) -> MutexGuard<'_, LinkState> {
    // Counters only: a poisoned lock holds nothing half-done worth refusing.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn describe_i2c_error<E: embedded_hal::i2c::Error>(e: &E, address: u8) -> String {
    let what = match e.kind() {
        ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address) => {
            format!("no acknowledge from address {address:#04x} (panel unplugged or wrong address)")
        }
        ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data) => {
            format!("address {address:#04x} did not acknowledge data")
        }
        ErrorKind::NoAcknowledge(_) => format!("no acknowledge from address {address:#04x}"),
        ErrorKind::ArbitrationLoss => "arbitration lost".to_string(),
        ErrorKind::Bus => "bus error".to_string(),
        ErrorKind::Overrun => "overrun".to_string(),
        _ => "I2C error".to_string(),
    };
    format!("{what}: {e:?}")
}

/// The driver for each glass size (the `ssd1306` crate types the size).
enum Driver<I> {
    Tall(Ssd1306<BusLink<I>, DisplaySize128x64, BasicMode>),
    Short(Ssd1306<BusLink<I>, DisplaySize128x32, BasicMode>),
}

/// Runs `$body` with `$d` bound to the driver, whichever size it is.
macro_rules! with_driver {
    ($driver:expr, $d:ident => $body:expr) => {
        match $driver {
            Driver::Tall($d) => $body,
            Driver::Short($d) => $body,
        }
    };
}

/// One SSD1306 panel on a bus, with the frame it holds.
///
/// Nothing is sent before [`Panel::init`] or the first call that needs the panel (which initialises it).
/// Every call is synchronous and owns the bus for its duration; share a panel through a single owner
/// (see `owner`), never by interleaving calls.
pub struct Panel<I> {
    driver: Driver<I>,
    link: Arc<Mutex<LinkState>>,
    settings: PanelSettings,
    initialised: bool,
    /// What GDDRAM holds (landscape, page-major), if known.
    gddram: Option<Frame>,
    contrast: u8,
    power_on: bool,
    inverted: bool,
    stats: PanelStats,
}

impl<I: I2c> Panel<I> {
    /// A panel at `settings.address` on `i2c`. Sends nothing.
    pub fn new(i2c: I, settings: PanelSettings) -> Self {
        let link_state = Arc::new(Mutex::new(LinkState::default()));
        let link = BusLink::new(i2c, settings.address, Arc::clone(&link_state));
        let rotation = settings.rotation.driver();
        let driver = match settings.size {
            PanelSize::W128xH64 => Driver::Tall(Ssd1306::new(link, DisplaySize128x64, rotation)),
            PanelSize::W128xH32 => Driver::Short(Ssd1306::new(link, DisplaySize128x32, rotation)),
        };
        Self {
            driver,
            link: link_state,
            settings,
            initialised: false,
            gddram: None,
            contrast: settings.contrast,
            power_on: true,
            inverted: false,
            stats: PanelStats::default(),
        }
    }

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
        Frame::new(g.width, g.height).expect("panel sizes are valid frame sizes")
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
            g.transposed()
        } else {
            g.clone()
        })
    }

    /// The panel's GDDRAM as last sent (landscape, page-major), if known.
    pub fn gddram(&self) -> Option<&Frame> {
        self.gddram.as_ref()
    }

    pub fn contrast(&self) -> u8 {
        self.contrast
    }

    pub fn is_on(&self) -> bool {
        self.power_on
    }

    pub fn is_inverted(&self) -> bool {
        self.inverted
    }

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
            Cow::Owned(frame.transposed())
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

    /// Contrast 0-255. Initialises the panel first if needed.
    pub fn set_contrast(&mut self, level: u8) -> Result<PresentCost, PanelError> {
        self.contrast = level;
        self.measured(|p| {
            if p.ensure_init()? {
                return Ok(PresentCost {
                    initialised: true,
                    ..PresentCost::default()
                });
            }
            p.command(|d| d.set_brightness(Brightness::custom(PRECHARGE, level)))?;
            Ok(PresentCost::default())
        })
    }

    /// Display on or off; GDDRAM is kept while off.
    pub fn set_power(&mut self, on: bool) -> Result<PresentCost, PanelError> {
        self.power_on = on;
        self.measured(|p| {
            if p.ensure_init()? {
                return Ok(PresentCost {
                    initialised: true,
                    ..PresentCost::default()
                });
            }
            p.command(|d| d.set_display_on(on))?;
            Ok(PresentCost::default())
        })
    }

    /// Hardware inversion.
    pub fn set_invert(&mut self, inverted: bool) -> Result<PresentCost, PanelError> {
        self.inverted = inverted;
        self.measured(|p| {
            if p.ensure_init()? {
                return Ok(PresentCost {
                    initialised: true,
                    ..PresentCost::default()
                });
            }
            p.command(|d| d.set_invert(inverted))?;
            Ok(PresentCost::default())
        })
    }

    /// Sets contrast, power and inversion without touching the bus, for a panel not initialised yet: the
    /// next initialisation applies them in its one sequence (used to restore a saved state with a single
    /// initialisation). On an initialised panel this is the same as the three setters.
    pub fn preset(
        &mut self,
        contrast: u8,
        power_on: bool,
        inverted: bool,
    ) -> Result<(), PanelError> {
        if self.initialised {
            if contrast != self.contrast {
                self.set_contrast(contrast)?;
            }
            if inverted != self.inverted {
                self.set_invert(inverted)?;
            }
            if power_on != self.power_on {
                self.set_power(power_on)?;
            }
            return Ok(());
        }
        self.contrast = contrast;
        self.power_on = power_on;
        self.inverted = inverted;
        Ok(())
    }

    /// Changes the rotation in place: the driver's segment remap and COM scan direction (two command
    /// transactions), no re-initialisation, no display-off. The datasheet says a segment remap only
    /// applies to data written after it, so the GDDRAM is then written again, whole and unchanged: the
    /// picture turns without going dark. Between landscape and portrait the logical size changes, and
    /// until the next `present` of the new size the panel shows the same GDDRAM read the new way.
    pub fn set_rotation(&mut self, rotation: Rotation) -> Result<PresentCost, PanelError> {
        if rotation == self.settings.rotation {
            return Ok(PresentCost::default());
        }
        self.settings.rotation = rotation;
        if !self.initialised {
            // The driver records the rotation before sending anything, and the next initialisation
            // applies it; what it sends now goes to a panel that will be initialised anyway.
            let _ = with_driver!(&mut self.driver, d => d.set_rotation(rotation.driver()));
            return Ok(PresentCost::default());
        }
        let held = self.gddram.take();
        self.measured(|p| {
            p.command(|d| d.set_rotation(rotation.driver()))?;
            match held {
                Some(g) => p.send_frame(Cow::Owned(g)),
                None => Ok(PresentCost::default()),
            }
        })
    }

    /// Forgets what the panel holds, as after a fault: the next call re-initialises and redraws everything.
    pub fn mark_unknown(&mut self) {
        self.initialised = false;
        self.gddram = None;
    }

    /// Gives the bus back.
    pub fn release(self) -> I {
        with_driver!(self.driver, d => d.release().i2c)
    }

    /// Runs `f`, measures what it put on the bus, books it in the totals and turns a fault into a `bus`
    /// error with the panel marked unknown.
    fn measured(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<PresentCost, PanelError>,
    ) -> Result<PresentCost, PanelError> {
        let (tx0, bytes0) = {
            let mut s = lock(&self.link);
            s.fault = None;
            s.fault_absent = false;
            (s.transactions, s.bytes)
        };
        let result = f(self);
        let (tx1, bytes1) = {
            let s = lock(&self.link);
            (s.transactions, s.bytes)
        };
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
                if matches!(e, PanelError::Bus(_) | PanelError::Absent(_)) {
                    self.mark_unknown();
                    self.stats.last_error = Some(e.to_string());
                }
                if matches!(e, PanelError::Bus(_)) {
                    self.stats.errors += 1;
                }
                Err(e)
            }
        }
    }

    /// Maps a driver error to what the bus said: `absent` when nothing acknowledged the address (the
    /// panel is unplugged or elsewhere), `bus` for any other fault.
    fn bus_error(&self, e: DisplayError) -> PanelError {
        let mut link = lock(&self.link);
        let fault = link.fault.take();
        let absent = std::mem::take(&mut link.fault_absent);
        let what = fault.unwrap_or_else(|| format!("display interface error: {e:?}"));
        if absent {
            PanelError::Absent(what)
        } else {
            PanelError::Bus(what)
        }
    }

    fn command(
        &mut self,
        f: impl FnOnce(&mut dyn PanelCommands) -> Result<(), DisplayError>,
    ) -> Result<(), PanelError> {
        let r = with_driver!(&mut self.driver, d => f(d));
        r.map_err(|e| self.bus_error(e))
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
        self.stats.inits += 1;
        let (contrast, inverted, power_on) = (self.contrast, self.inverted, self.power_on);
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
        let (windows, full_refresh) = match &self.gddram {
            Some(old) => (plan_windows(old, &target, WINDOW_OVERHEAD_BYTES), false),
            None => (vec![Window::full(&target)], true),
        };
        let mut pages: u16 = 0;
        for w in &windows {
            let data = w.data(&target);
            let start = (as_u8(w.col_start), as_u8(w.page_start * 8));
            let end = (as_u8(w.col_end + 1), as_u8((w.page_end + 1) * 8));
            self.command(|d| {
                d.set_draw_area(start, end)?;
                d.draw(&data)
            })?;
            for p in w.page_start..=w.page_end {
                pages |= 1 << p;
            }
        }
        self.gddram = Some(target.into_owned());
        Ok(PresentCost {
            pages_touched: pages.count_ones() as u8,
            windows: windows.len() as u32,
            full_refresh,
            initialised,
            ..PresentCost::default()
        })
    }
}

fn as_u8(v: u16) -> u8 {
    // GDDRAM coordinates: columns 0..=128 and rows 0..=64, always in range.
    u8::try_from(v).unwrap_or(u8::MAX)
}

fn saturate(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The driver calls the panel uses, object-safe so one closure serves both glass sizes.
trait PanelCommands {
    fn init_horizontal(&mut self) -> Result<(), DisplayError>;
    fn set_brightness(&mut self, b: Brightness) -> Result<(), DisplayError>;
    fn set_display_on(&mut self, on: bool) -> Result<(), DisplayError>;
    fn set_invert(&mut self, inverted: bool) -> Result<(), DisplayError>;
    fn set_rotation(&mut self, rotation: DisplayRotation) -> Result<(), DisplayError>;
    fn set_draw_area(&mut self, start: (u8, u8), end: (u8, u8)) -> Result<(), DisplayError>;
    fn draw(&mut self, data: &[u8]) -> Result<(), DisplayError>;
}

impl<DI, SIZE> PanelCommands for Ssd1306<DI, SIZE, BasicMode>
where
    DI: WriteOnlyDataCommand,
    SIZE: ssd1306::size::DisplaySize,
{
    fn init_horizontal(&mut self) -> Result<(), DisplayError> {
        self.init_with_addr_mode(AddrMode::Horizontal)
    }

    fn set_brightness(&mut self, b: Brightness) -> Result<(), DisplayError> {
        Ssd1306::set_brightness(self, b)
    }

    fn set_display_on(&mut self, on: bool) -> Result<(), DisplayError> {
        Ssd1306::set_display_on(self, on)
    }

    fn set_invert(&mut self, inverted: bool) -> Result<(), DisplayError> {
        Ssd1306::set_invert(self, inverted)
    }

    fn set_rotation(&mut self, rotation: DisplayRotation) -> Result<(), DisplayError> {
        Ssd1306::set_rotation(self, rotation)
    }

    fn set_draw_area(&mut self, start: (u8, u8), end: (u8, u8)) -> Result<(), DisplayError> {
        Ssd1306::set_draw_area(self, start, end)
    }

    fn draw(&mut self, data: &[u8]) -> Result<(), DisplayError> {
        Ssd1306::draw(self, data)
    }
}
