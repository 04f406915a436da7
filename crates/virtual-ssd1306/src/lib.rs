//! An SSD1306 OLED controller on an emulated I2C bus.
//!
//! It is the one emulated part of the product: the OLED provider drives it through the real `ssd1306`
//! crate exactly as it drives hardware, so what the emulator shows is what the driver really sent. It
//! decodes every write transaction like the chip (control bytes, commands with parameters, GDDRAM
//! addressing), keeps bus statistics, can inject faults, and renders what a person would see as ASCII or
//! as a PNG of the module.
//!
//! The glass is modelled as common modules are built: with segment remap on (0xA1) and COM scan reversed
//! (0xC8), GDDRAM column 0 is the left edge and page 0 the top. See [`Mounting`] for rotated modules.
//!
//! ```
//! use embedded_graphics::{pixelcolor::BinaryColor, prelude::*, primitives::{PrimitiveStyle, Rectangle}};
//! use ssd1306::{prelude::*, I2CDisplayInterface, Ssd1306};
//! use virtual_ssd1306::{Mounting, PanelSize, SharedPanel, VirtualSsd1306};
//!
//! // The driver owns one handle (the bus); the test or the provider keeps another to look at the panel.
//! let panel = SharedPanel::new(
//!     VirtualSsd1306::new(PanelSize::W128xH64, 0x3C).with_mounting(Mounting::Rotate0),
//! );
//! let interface = I2CDisplayInterface::new_custom_address(panel.clone(), 0x3C);
//! let mut display = Ssd1306::new(interface, DisplaySize128x64, DisplayRotation::Rotate0)
//!     .into_buffered_graphics_mode();
//! display.init().unwrap();
//! Rectangle::new(Point::zero(), Size::new(128, 64))
//!     .into_styled(PrimitiveStyle::with_stroke(BinaryColor::On, 1))
//!     .draw(&mut display)
//!     .unwrap();
//! display.flush().unwrap();
//! assert_eq!(panel.with(|p| p.visible().lit_pixels()), 2 * 128 + 2 * 62);
//! assert!(panel.with(|p| p.ascii()).starts_with(&"#".repeat(128)));
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod controller;
mod render;

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use controller::{
    scroll_interval, AddressingMode, Chip, ControllerState, ScrollSetup, COLUMNS, GDDRAM_BYTES,
    PAGES, ROWS,
};
pub use render::MAX_SCALE;

use controller::{Controller, Effect};
use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};
use oled_frame::Frame;
use serde::Serialize;

/// Scale the PNG is usually rendered at: big enough to read text, small enough to glance at.
pub const DEFAULT_SCALE: u32 = 4;

/// The usual 7-bit address (SA0 low).
pub const ADDRESS_PRIMARY: u8 = 0x3C;
/// The alternate 7-bit address (SA0 high).
pub const ADDRESS_ALTERNATE: u8 = 0x3D;

/// The glass attached to the controller, shared with the provider through `oled-frame`.
pub use oled_frame::PanelSize;

/// How the module is mounted in front of the person looking at it, named like the `ssd1306` crate's
/// `DisplayRotation`: an image drawn through that driver with `RotateN` is upright on a module mounted at
/// `RotateN`. The glass itself does not know; this only turns [`VirtualSsd1306::visible`] and the PNG.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum Mounting {
    /// Landscape, as the module is commonly held (header pins up).
    #[default]
    Rotate0,
    /// Portrait, the module turned a quarter counter-clockwise.
    Rotate90,
    /// Landscape, upside down.
    Rotate180,
    /// Portrait, the module turned a quarter clockwise.
    Rotate270,
}

impl Mounting {
    /// From degrees (0, 90, 180, 270), as the panel contract carries rotation.
    pub fn from_degrees(degrees: u16) -> Option<Self> {
        match degrees {
            0 => Some(Mounting::Rotate0),
            90 => Some(Mounting::Rotate90),
            180 => Some(Mounting::Rotate180),
            270 => Some(Mounting::Rotate270),
            _ => None,
        }
    }

    /// The turn in degrees.
    pub fn degrees(self) -> u16 {
        match self {
            Mounting::Rotate0 => 0,
            Mounting::Rotate90 => 90,
            Mounting::Rotate180 => 180,
            Mounting::Rotate270 => 270,
        }
    }
}

/// What went over the bus, so tests and the provider's stats can be checked to the byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BusStats {
    /// Transactions started on the bus (address phases), acknowledged or not.
    pub transactions: u64,
    /// Bytes on the bus: one address byte per transaction plus the payload bytes the device accepted.
    pub bytes: u64,
    /// Bytes decoded as GDDRAM data (control bytes excluded).
    pub data_bytes: u64,
    /// Bytes decoded as commands or command parameters (control bytes excluded).
    pub command_bytes: u64,
    /// Display-off commands (0xAE): a driver that re-inits too often shows up here.
    pub display_off: u64,
    /// Transactions that were not acknowledged (wrong address, unplugged, injected).
    pub nacks: u64,
    /// GDDRAM data bytes written while a horizontal scroll ran: the datasheet forbids it (the chip
    /// moves RAM itself), so a correct driver leaves this at 0.
    pub data_while_scrolling: u64,
}

/// One acknowledged write transaction as it went over the bus.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transaction {
    /// 7-bit address.
    pub address: u8,
    /// Payload after the address byte: control bytes included.
    pub bytes: Vec<u8>,
}

/// Why a bus operation failed, mapped onto embedded-hal's error kinds so drivers react as on hardware.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// Nothing acknowledged the address: wrong address, or the panel is unplugged.
    #[error("no device acknowledged address {address:#04x}")]
    NoDevice {
        /// The address that was not acknowledged.
        address: u8,
    },
    /// A NACK injected by [`VirtualSsd1306::nack_next`].
    #[error("the panel did not acknowledge (injected fault)")]
    InjectedNack,
    /// The SSD1306 has no read path over I2C.
    #[error("the SSD1306 cannot be read over I2C")]
    ReadNotSupported,
}

impl embedded_hal::i2c::Error for BusError {
    fn kind(&self) -> ErrorKind {
        match self {
            BusError::NoDevice { .. } | BusError::InjectedNack => {
                ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)
            }
            BusError::ReadNotSupported => ErrorKind::Other,
        }
    }
}

/// Where the next payload byte of a transaction goes, per the last control byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    /// A control byte is due.
    Control,
    /// Co=0, D/C#=0: every further byte is a command.
    Commands,
    /// Co=0, D/C#=1: every further byte is GDDRAM data.
    Data,
    /// Co=1, D/C#=0: one command byte, then a control byte.
    OneCommand,
    /// Co=1, D/C#=1: one data byte, then a control byte.
    OneData,
}

/// An emulated SSD1306 at one I2C address, with its glass.
#[derive(Clone)]
pub struct VirtualSsd1306 {
    size: PanelSize,
    address: u8,
    mounting: Mounting,
    controller: Controller,
    stats: BusStats,
    logging: bool,
    log: Vec<Transaction>,
    nack_pending: u32,
    present: bool,
}

impl core::fmt::Debug for VirtualSsd1306 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VirtualSsd1306")
            .field("size", &self.size)
            .field("address", &format_args!("{:#04x}", self.address))
            .field("mounting", &self.mounting)
            .field("state", &self.controller.state)
            .field("stats", &self.stats)
            .field("present", &self.present)
            .finish_non_exhaustive()
    }
}

impl VirtualSsd1306 {
    /// A panel just powered on: display off, registers at reset values, GDDRAM dark, landscape mounting.
    /// `address` is the 7-bit address it answers (0x3C or 0x3D on real modules; any value is accepted).
    pub fn new(size: PanelSize, address: u8) -> Self {
        let mut controller = Controller::new();
        // A small glass is wired to the middle segments (72x40: 28-99), as on the modules.
        controller.column_offset = usize::from(size.column_offset());
        Self {
            size,
            address,
            mounting: Mounting::Rotate0,
            controller,
            stats: BusStats::default(),
            logging: false,
            log: Vec::new(),
            nack_pending: 0,
            present: true,
        }
    }

    /// A module with another controller chip (an SH1106 sold as an "SSD1306", say) at `address`;
    /// its glass is wired to the chip's usual segments (an SH1106's columns 2-129).
    pub fn with_chip(size: PanelSize, address: u8, chip: Chip) -> Self {
        let mut p = Self::new(size, address);
        let wired = p.controller.column_offset;
        p.controller = Controller::with_chip(chip);
        // An SSD1306 or SSD1309 keeps the glass's wiring; an SH1106 has its own.
        if chip != Chip::Sh1106 {
            p.controller.column_offset = wired;
        }
        p
    }

    /// The same module with its glass wired from RAM column `offset` (an SH1106 module's is
    /// usually 2, some have 0).
    pub fn with_column_offset(mut self, offset: usize) -> Self {
        self.controller.column_offset = offset;
        self
    }

    /// The first RAM column the glass shows.
    pub fn column_offset(&self) -> usize {
        self.controller.column_offset
    }

    /// `frames` display frames pass: a running horizontal scroll (0x26/0x27, 0x2F) moves.
    pub fn advance_frames(&mut self, frames: u32) {
        self.controller.advance_frames(frames);
    }

    /// `elapsed` time passes, in whole frames at the nominal frame rate
    /// ([`VirtualSsd1306::nominal_frame_rate`]); returns the frames that passed.
    pub fn advance(&mut self, elapsed: std::time::Duration) -> u32 {
        let frames = (elapsed.as_secs_f64() * self.nominal_frame_rate()).floor() as u32;
        self.controller.advance_frames(frames);
        frames
    }

    /// Display frames per second at the nominal oscillator frequency (see the controller's docs).
    pub fn nominal_frame_rate(&self) -> f64 {
        self.controller.nominal_frame_rate()
    }

    /// The controller chip.
    pub fn chip(&self) -> Chip {
        self.controller.chip
    }

    /// The same panel mounted differently (see [`Mounting`]).
    pub fn with_mounting(mut self, mounting: Mounting) -> Self {
        self.mounting = mounting;
        self
    }

    /// Turns the module on the desk (how the glass is viewed), keeping its GDDRAM.
    pub fn set_mounting(&mut self, mounting: Mounting) {
        self.mounting = mounting;
    }

    /// How the module is mounted.
    pub fn mounting(&self) -> Mounting {
        self.mounting
    }

    /// The 7-bit address it answers.
    pub fn address(&self) -> u8 {
        self.address
    }

    /// The glass.
    pub fn size(&self) -> PanelSize {
        self.size
    }

    /// The controller's memory: 1024 bytes, page-major, bit 0 the top row of a page.
    pub fn gddram(&self) -> &[u8] {
        &self.controller.gddram
    }

    /// The glass in its own landscape orientation (128 x panel height), all display state applied.
    pub fn glass(&self) -> Frame {
        render::glass(&self.controller, self.size)
    }

    /// What a person sees: the glass with every display state applied, turned by the mounting (so a
    /// portrait mounting gives a portrait frame).
    pub fn visible(&self) -> Frame {
        render::mounted(&self.glass(), self.mounting)
    }

    /// [`Self::visible`] as text art, `#` lit and `.` dark.
    pub fn ascii(&self) -> String {
        self.visible().to_ascii()
    }

    /// A PNG of the module as a person sees it, each pixel `scale` px wide (clamped to 1..=[`MAX_SCALE`]).
    pub fn png(&self, scale: u32) -> Vec<u8> {
        render::module_png(&self.visible(), scale, self.controller.state.contrast)
            .expect("encoding a correctly sized indexed image into memory cannot fail")
    }

    /// Writes [`Self::png`] to `path` through a temporary file and a rename, so a watcher never reads half
    /// a file.
    pub fn write_png(&self, path: &Path, scale: u32) -> std::io::Result<()> {
        let bytes = self.png(scale);
        let name = path.file_name().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} does not name a file", path.display()),
            )
        })?;
        // Unique per process and call, so two writers never share a temporary file.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(
            ".{}-{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let tmp = path.with_file_name(tmp_name);
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            // Renamed into place whole, so a viewer never reads half a file; not fsynced: it is a
            // view of the panel, not a record (the provider's state file is the record).
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Counters since creation or the last [`VirtualSsd1306::reset_stats`].
    pub fn stats(&self) -> BusStats {
        self.stats
    }

    /// Zeroes the counters.
    pub fn reset_stats(&mut self) {
        self.stats = BusStats::default();
    }

    /// The acknowledged transactions logged since the last call (only while logging is on).
    pub fn take_log(&mut self) -> Vec<Transaction> {
        std::mem::take(&mut self.log)
    }

    /// Logging is off by default so a long-running provider does not grow memory.
    pub fn set_logging(&mut self, on: bool) {
        self.logging = on;
    }

    /// The next `n` transactions to this address fail with an address NACK and change nothing.
    pub fn nack_next(&mut self, n: u32) {
        self.nack_pending = n;
    }

    /// Injected NACKs still to come.
    pub fn pending_nacks(&self) -> u32 {
        self.nack_pending
    }

    /// Unplugged (`false`): every transaction is NACKed until plugged back. The controller keeps its state,
    /// like a module whose bus wires came loose; use [`Self::power_cycle`] for a module that lost power.
    pub fn set_present(&mut self, present: bool) {
        self.present = present;
    }

    /// Whether it is plugged in (answers its address).
    pub fn is_present(&self) -> bool {
        self.present
    }

    /// Power lost and back: registers at reset values (display off, page addressing), GDDRAM dark. Bus
    /// statistics and the log are kept; they belong to the bus, not the chip.
    pub fn power_cycle(&mut self) {
        let offset = self.controller.column_offset;
        self.controller = Controller::with_chip(self.controller.chip);
        self.controller.column_offset = offset;
    }

    /// Registers as the command stream left them.
    pub fn state(&self) -> ControllerState {
        self.controller.state
    }

    /// One write transaction: address phase, then the payload decoded like the chip.
    fn write_transaction(&mut self, address: u8, payload: &[u8]) -> Result<(), BusError> {
        self.stats.transactions += 1;
        self.stats.bytes += 1;
        if !self.present || address != self.address {
            self.stats.nacks += 1;
            return Err(BusError::NoDevice { address });
        }
        if self.nack_pending > 0 {
            self.nack_pending -= 1;
            self.stats.nacks += 1;
            return Err(BusError::InjectedNack);
        }
        self.stats.bytes += payload.len() as u64;
        if self.logging {
            self.log.push(Transaction {
                address,
                bytes: payload.to_vec(),
            });
        }
        self.decode(payload);
        Ok(())
    }

    /// A read: the address byte goes out, then the controller has nothing to say.
    fn read_transaction(&mut self, address: u8) -> BusError {
        self.stats.transactions += 1;
        self.stats.bytes += 1;
        if !self.present || address != self.address {
            self.stats.nacks += 1;
            return BusError::NoDevice { address };
        }
        BusError::ReadNotSupported
    }

    /// Splits a payload into control bytes, commands and data. Each transaction starts with a control byte;
    /// a control byte with Co=1 covers one byte only.
    fn decode(&mut self, payload: &[u8]) {
        let mut stream = Stream::Control;
        for &b in payload {
            stream = match stream {
                Stream::Control => match b & 0xC0 {
                    0x00 => Stream::Commands,
                    0x40 => Stream::Data,
                    0x80 => Stream::OneCommand,
                    _ => Stream::OneData,
                },
                Stream::Commands | Stream::OneCommand => {
                    self.stats.command_bytes += 1;
                    if self.controller.command(b) == Effect::DisplayOff {
                        self.stats.display_off += 1;
                    }
                    if stream == Stream::OneCommand {
                        Stream::Control
                    } else {
                        stream
                    }
                }
                Stream::Data | Stream::OneData => {
                    self.stats.data_bytes += 1;
                    if self.controller.state.scrolling && self.controller.chip != Chip::Sh1106 {
                        self.stats.data_while_scrolling += 1;
                    }
                    self.controller.data(b);
                    if stream == Stream::OneData {
                        Stream::Control
                    } else {
                        stream
                    }
                }
            };
        }
    }
}

impl ErrorType for VirtualSsd1306 {
    type Error = BusError;
}

impl I2c for VirtualSsd1306 {
    /// Adjacent writes are one bus transaction (embedded-hal puts no restart between operations of the
    /// same kind); a read gets its own address phase and fails. Writes before a read have been applied,
    /// as they would be on a real bus.
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Self::Error> {
        if operations.is_empty() {
            // An address-only probe, as `i2cdetect` sends.
            return self.write_transaction(address, &[]);
        }
        let mut payload: Vec<u8> = Vec::new();
        let mut writing = false;
        for op in operations.iter() {
            match op {
                Operation::Write(bytes) => {
                    payload.extend_from_slice(bytes);
                    writing = true;
                }
                Operation::Read(_) => {
                    if writing {
                        self.write_transaction(address, &payload)?;
                    }
                    return Err(self.read_transaction(address));
                }
            }
        }
        self.write_transaction(address, &payload)
    }
}

/// A clonable handle so a driver can own the bus while others read the panel.
#[derive(Clone)]
pub struct SharedPanel(Arc<Mutex<VirtualSsd1306>>);

impl core::fmt::Debug for SharedPanel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.with(|p| f.debug_tuple("SharedPanel").field(p).finish())
    }
}

impl SharedPanel {
    /// Shares `p`.
    pub fn new(p: VirtualSsd1306) -> Self {
        Self(Arc::new(Mutex::new(p)))
    }

    /// Runs `f` on the panel. A panic elsewhere while holding the lock cannot leave the emulator half
    /// updated in a way that matters, so a poisoned lock is recovered rather than spreading the panic.
    pub fn with<R>(&self, f: impl FnOnce(&mut VirtualSsd1306) -> R) -> R {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

impl ErrorType for SharedPanel {
    type Error = BusError;
}

impl I2c for SharedPanel {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Self::Error> {
        self.with(|p| p.transaction(address, operations))
    }
}

#[cfg(test)]
mod tests;
