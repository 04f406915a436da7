//! The controller proper: command parser, GDDRAM and its address pointer, as the SSD1306 datasheet
//! describes them. The I2C framing (address, control bytes) lives in the crate root; this module only sees
//! the command stream and the data stream.

use serde::Serialize;

/// GDDRAM columns (segments).
pub const COLUMNS: usize = 128;
/// GDDRAM pages of eight rows each.
pub const PAGES: usize = 8;
/// GDDRAM rows (COM lines the chip can drive).
pub const ROWS: usize = PAGES * 8;
/// GDDRAM size in bytes; the same on every SSD1306 whatever glass is attached.
pub const GDDRAM_BYTES: usize = COLUMNS * PAGES;

/// The controller chip on the module. Many modules sold as "SSD1306" carry an SH1106.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Default)]
pub enum Chip {
    /// SSD1306: 128-column GDDRAM, page, horizontal and vertical addressing.
    #[default]
    Ssd1306,
    /// SH1106: 132-column RAM, page addressing only (no 0x20/0x21/0x22: it takes those bytes for
    /// something else), a DC-DC converter (0xAD) instead of the charge pump (0x8D).
    Sh1106,
    /// SSD1309: the SSD1306's command set and 128x64 GDDRAM for a glass with external VCC (its
    /// modules carry a boost converter), so no charge pump (0x8D is not a command: its parameter
    /// then runs as a command of its own), and a command lock: after `0xFD 0x16` it ignores every
    /// command but 0xFD until `0xFD 0x12`.
    Ssd1309,
}

impl Chip {
    /// RAM columns (segments) the chip has.
    pub fn ram_columns(self) -> usize {
        match self {
            Chip::Ssd1306 | Chip::Ssd1309 => COLUMNS,
            Chip::Sh1106 => 132,
        }
    }
}

/// A horizontal scroll setup (0x26 / 0x27 and their six parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ScrollSetup {
    /// 0x27: content moves towards column 0; 0x26: towards column 127.
    pub left: bool,
    /// First and last page that scroll.
    pub pages: (u8, u8),
    /// Frames per one-column step (datasheet table: 2, 3, 4, 5, 25, 64, 128 or 256).
    pub interval: u16,
}

/// Frames per scroll step for the 3-bit interval code of 0x26/0x27 (datasheet, table 9-1).
pub fn scroll_interval(code: u8) -> u16 {
    match code & 0x07 {
        0b000 => 5,
        0b001 => 64,
        0b010 => 128,
        0b011 => 256,
        0b100 => 3,
        0b101 => 4,
        0b110 => 25,
        _ => 2,
    }
}

/// How the address pointer advances after each data byte (command 0x20).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum AddressingMode {
    /// Column first, then page, both wrapping within the window set by 0x21/0x22.
    Horizontal,
    /// Page first, then column, both wrapping within the window.
    Vertical,
    /// Column only, within the page set by 0xB0-0xB7; the reset default.
    Page,
}

/// Everything the command stream has configured, for tests and people to inspect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ControllerState {
    /// 0xAF (on) / 0xAE (off, the reset state).
    pub display_on: bool,
    /// 0xA7: lit and dark swapped.
    pub inverted: bool,
    /// 0xA5: every pixel lit whatever GDDRAM holds.
    pub entire_on: bool,
    /// 0x81 parameter.
    pub contrast: u8,
    /// 0x20 parameter.
    pub addressing_mode: AddressingMode,
    /// 0xA1: column 127 drives SEG0.
    pub segment_remap: bool,
    /// 0xC8: COM lines scanned from COM[N-1] to COM0.
    pub com_reversed: bool,
    /// Multiplex ratio N: the number of rows driven (the 0xA8 parameter plus one, 16..=64).
    pub mux: u8,
    /// 0xD3 parameter: vertical shift by COM.
    pub display_offset: u8,
    /// 0x40-0x7F: the GDDRAM row shown on the first scan line.
    pub start_line: u8,
    /// 0xDA bit 4: alternative (interleaved) COM pin configuration.
    pub com_alternative: bool,
    /// 0xDA bit 5: COM left/right remap.
    pub com_left_right_remap: bool,
    /// 0x8D bit 2: the internal charge pump that common modules need to light at all.
    pub charge_pump: bool,
    /// 0xD5 parameter (oscillator frequency and divide ratio), kept as sent.
    pub clock: u8,
    /// 0xD9 parameter (pre-charge phases), kept as sent.
    pub precharge: u8,
    /// 0xDB parameter (VCOMH deselect level), kept as sent.
    pub vcomh: u8,
    /// 0x2F / 0x2E: horizontal scroll running ([`Controller::advance_frames`] moves it).
    pub scrolling: bool,
    /// The last horizontal scroll setup (0x26 right / 0x27 left), if any.
    pub scroll: Option<ScrollSetup>,
    /// Frames counted towards the scroll's next step.
    pub scroll_frames: u32,
    /// SSD1309 command lock (0xFD 0x16): every command but 0xFD is ignored.
    pub locked: bool,
    /// Column window `(start, end)` for horizontal/vertical addressing (0x21).
    pub column_window: (u8, u8),
    /// Page window `(start, end)` for horizontal/vertical addressing (0x22).
    pub page_window: (u8, u8),
    /// Where the next data byte goes: column.
    pub column: u8,
    /// Where the next data byte goes: page.
    pub page: u8,
    /// Command bytes the SSD1306 does not know; ignored like the chip does.
    pub unknown_commands: u64,
    /// The most recent unknown command byte.
    pub last_unknown: Option<u8>,
}

impl ControllerState {
    /// The state right after power-on or a hardware reset (datasheet, command table "Reset" column).
    pub fn power_on() -> Self {
        Self {
            display_on: false,
            inverted: false,
            entire_on: false,
            contrast: 0x7F,
            addressing_mode: AddressingMode::Page,
            segment_remap: false,
            com_reversed: false,
            mux: 64,
            display_offset: 0,
            start_line: 0,
            com_alternative: true,
            com_left_right_remap: false,
            charge_pump: false,
            clock: 0x80,
            precharge: 0x22,
            vcomh: 0x20,
            scrolling: false,
            scroll: None,
            scroll_frames: 0,
            locked: false,
            column_window: (0, 127),
            page_window: (0, 7),
            column: 0,
            page: 0,
            unknown_commands: 0,
            last_unknown: None,
        }
    }
}

impl Default for ControllerState {
    fn default() -> Self {
        Self::power_on()
    }
}

/// A multi-byte command waiting for its parameters. Parameters arrive as further command bytes, possibly in
/// later transactions (many drivers send one byte per transaction), so this outlives a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    opcode: u8,
    need: u8,
    got: u8,
    params: [u8; 6],
}

/// What a command byte did that the bus layer counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    DisplayOff,
}

/// GDDRAM plus the registers that the command stream sets.
#[derive(Clone, PartialEq, Eq)]
pub struct Controller {
    /// RAM, page-major: `page * chip.ram_columns() + column`.
    pub gddram: Vec<u8>,
    pub state: ControllerState,
    /// Which chip this is: decides what the command bytes mean.
    pub chip: Chip,
    /// The first segment the glass is wired to (an SH1106 module's 128 columns usually start at 2
    /// of its 132); a property of the module, not of the command stream.
    pub column_offset: usize,
    pending: Option<Pending>,
}

impl Default for Controller {
    fn default() -> Self {
        Self::new()
    }
}

/// Parameter bytes that follow an SH1106 opcode, or `None` for bytes it does not know (taken as
/// one-byte no-ops, so the parameters of an SSD1306 command then run as commands of their own).
fn sh1106_parameter_count(opcode: u8) -> Option<u8> {
    Some(match opcode {
        0x00..=0x1F => 0, // column address nibbles
        0x30..=0x33 => 0, // pump voltage
        0x40..=0x7F => 0, // display start line
        0x81 => 1,        // contrast
        0xA0 | 0xA1 => 0, // segment remap
        0xA4..=0xA7 => 0, // entire display on, normal/inverse
        0xA8 => 1,        // multiplex ratio
        0xAD => 1,        // DC-DC control (0x8B on, 0x8A off)
        0xAE | 0xAF => 0, // display off / on
        0xB0..=0xB7 => 0, // page address
        0xC0..=0xCF => 0, // COM scan direction (bit 3)
        0xD3 | 0xD5 | 0xD9 | 0xDA | 0xDB => 1,
        0xE0 | 0xE3 | 0xEE => 0, // read-modify-write, NOP, end
        _ => return None,
    })
}

/// Parameter bytes that follow an opcode, or `None` for bytes the SSD1306 does not know.
fn parameter_count(opcode: u8) -> Option<u8> {
    Some(match opcode {
        0x00..=0x1F => 0,        // page-mode column start nibbles
        0x20 => 1,               // addressing mode
        0x21 | 0x22 => 2,        // column / page window
        0x26 | 0x27 => 6,        // horizontal scroll setup
        0x29 | 0x2A => 5,        // vertical and horizontal scroll setup
        0x2E | 0x2F => 0,        // scroll off / on
        0x40..=0x7F => 0,        // display start line
        0x81 => 1,               // contrast
        0x8D => 1,               // charge pump
        0xA0 | 0xA1 => 0,        // segment remap
        0xA3 => 2,               // vertical scroll area
        0xA4..=0xA7 => 0,        // entire display on, normal/inverse
        0xA8 => 1,               // multiplex ratio
        0xAD => 1,               // internal IREF (SSD1306B; the ssd1306 crate sends it for 72x40)
        0xAE | 0xAF => 0,        // display off / on
        0xB0..=0xB7 => 0,        // page-mode page start
        0xC0 | 0xC8 => 0,        // COM scan direction
        0xD3 | 0xD5 | 0xD9 => 1, // offset, clock, pre-charge
        0xDA | 0xDB => 1,        // COM pins, VCOMH
        0xE3 => 0,               // NOP
        _ => return None,
    })
}

impl Controller {
    /// A controller right after power-on: registers at their reset values, GDDRAM dark. (Real GDDRAM
    /// powers up with noise; dark keeps snapshots deterministic.)
    pub fn new() -> Self {
        Self::with_chip(Chip::Ssd1306)
    }

    /// A `chip` right after power-on.
    pub fn with_chip(chip: Chip) -> Self {
        Self {
            gddram: vec![0; chip.ram_columns() * PAGES],
            state: ControllerState::power_on(),
            chip,
            column_offset: match chip {
                Chip::Ssd1306 | Chip::Ssd1309 => 0,
                Chip::Sh1106 => 2,
            },
            pending: None,
        }
    }

    /// One byte of the command stream: an opcode or a parameter of the pending one.
    pub fn command(&mut self, byte: u8) -> Effect {
        if let Some(mut p) = self.pending.take() {
            p.params[usize::from(p.got)] = byte;
            p.got += 1;
            if p.got < p.need {
                self.pending = Some(p);
                return Effect::None;
            }
            return self.execute(p.opcode, &p.params[..usize::from(p.need)]);
        }
        if self.chip == Chip::Ssd1309 && self.state.locked && byte != 0xFD {
            // Locked: the interface takes no command but the unlock.
            return Effect::None;
        }
        let count = match self.chip {
            Chip::Ssd1306 => parameter_count(byte),
            Chip::Sh1106 => sh1106_parameter_count(byte),
            Chip::Ssd1309 => match byte {
                0xFD => Some(1),
                0x8D => None,
                b => parameter_count(b),
            },
        };
        match count {
            Some(0) => self.execute(byte, &[]),
            Some(need) => {
                self.pending = Some(Pending {
                    opcode: byte,
                    need,
                    got: 0,
                    params: [0; 6],
                });
                Effect::None
            }
            None => {
                self.state.unknown_commands += 1;
                self.state.last_unknown = Some(byte);
                Effect::None
            }
        }
    }

    /// `frames` display frames pass. A running horizontal scroll moves its pages one column per
    /// interval, around the 128-column ring; the chip does that in GDDRAM itself, which is why the
    /// datasheet asks for RAM to be rewritten after 0x2E (here RAM simply stays where it scrolled to).
    pub fn advance_frames(&mut self, frames: u32) {
        let s = &mut self.state;
        let Some(setup) = s
            .scroll
            .filter(|_| s.scrolling && self.chip != Chip::Sh1106)
        else {
            return;
        };
        let total = s.scroll_frames.saturating_add(frames);
        let steps = total / u32::from(setup.interval.max(1));
        s.scroll_frames = total % u32::from(setup.interval.max(1));
        let (first, last) = setup.pages;
        let columns = self.chip.ram_columns();
        let shift = (steps as usize) % columns;
        if shift == 0 {
            return;
        }
        for page in usize::from(first)..=usize::from(last.max(first)).min(PAGES - 1) {
            let row = &mut self.gddram[page * columns..(page + 1) * columns];
            if setup.left {
                row.rotate_left(shift);
            } else {
                row.rotate_right(shift);
            }
        }
    }

    /// Display frames per second at the nominal oscillator frequency (370 kHz at the reset setting;
    /// the oscillator's tolerance and 0xD5's frequency code are not modelled): Fosc / (D x K x mux),
    /// with D from 0xD5's divide ratio and K = the two pre-charge phases of 0xD9 + 50 clocks.
    pub fn nominal_frame_rate(&self) -> f64 {
        let s = &self.state;
        let d = f64::from((s.clock & 0x0F) + 1);
        let k = f64::from((s.precharge & 0x0F).max(1) + (s.precharge >> 4).max(1)) + 50.0;
        370_000.0 / (d * k * f64::from(s.mux.max(1)))
    }

    /// One byte of the data stream: stored at the pointer, which then advances per the addressing mode.
    pub fn data(&mut self, byte: u8) {
        let s = &mut self.state;
        let columns = self.chip.ram_columns();
        let idx = usize::from(s.page) * columns + usize::from(s.column);
        if let Some(cell) = self.gddram.get_mut(idx) {
            *cell = byte;
        }
        let (c0, c1) = s.column_window;
        let (p0, p1) = s.page_window;
        match s.addressing_mode {
            AddressingMode::Horizontal => {
                if s.column >= c1 {
                    s.column = c0;
                    s.page = if s.page >= p1 { p0 } else { s.page + 1 };
                } else {
                    s.column += 1;
                }
            }
            AddressingMode::Vertical => {
                if s.page >= p1 {
                    s.page = p0;
                    s.column = if s.column >= c1 { c0 } else { s.column + 1 };
                } else {
                    s.page += 1;
                }
            }
            // Datasheet figure 10-1: the column wraps to 0 at the end of the page, the page never changes.
            AddressingMode::Page => s.column = ((usize::from(s.column) + 1) % columns) as u8,
        }
    }

    fn execute(&mut self, opcode: u8, p: &[u8]) -> Effect {
        let param = |i: usize| p.get(i).copied().unwrap_or(0);
        if self.chip == Chip::Sh1106 {
            return self.execute_sh1106(opcode, param(0));
        }
        let s = &mut self.state;
        match opcode {
            // Nibbles and page start only act in page addressing mode, as the datasheet specifies.
            0x00..=0x0F if s.addressing_mode == AddressingMode::Page => {
                s.column = (s.column & 0x70) | (opcode & 0x0F);
            }
            0x10..=0x1F if s.addressing_mode == AddressingMode::Page => {
                s.column = (s.column & 0x0F) | ((opcode & 0x07) << 4);
            }
            0xB0..=0xB7 if s.addressing_mode == AddressingMode::Page => s.page = opcode & 0x07,
            0x20 => {
                // 0b11 is invalid; the chip keeps its mode.
                s.addressing_mode = match param(0) & 0x03 {
                    0 => AddressingMode::Horizontal,
                    1 => AddressingMode::Vertical,
                    2 => AddressingMode::Page,
                    _ => s.addressing_mode,
                }
            }
            0x21 => {
                s.column_window = (param(0) & 0x7F, param(1) & 0x7F);
                s.column = s.column_window.0;
            }
            0x22 => {
                s.page_window = (param(0) & 0x07, param(1) & 0x07);
                s.page = s.page_window.0;
            }
            0x26 | 0x27 => {
                s.scroll = Some(ScrollSetup {
                    left: opcode == 0x27,
                    pages: (param(1) & 0x07, param(3) & 0x07),
                    interval: scroll_interval(param(2)),
                });
            }
            0x2E => s.scrolling = false,
            0x2F => {
                s.scrolling = true;
                s.scroll_frames = 0;
            }
            0x8D => s.charge_pump = param(0) & 0x04 != 0,
            // SSD1309 command lock: 0x16 locks, 0x12 unlocks (bit 2).
            0xFD => s.locked = param(0) & 0x04 != 0,
            // The commands both chips share; scroll setup, vertical scroll area, IREF, NOP and
            // page-mode commands outside page mode consume their parameters and change nothing.
            _ => return self.execute_shared(opcode, param(0)),
        }
        Effect::None
    }

    /// The SH1106's command set: page addressing only, an 8-bit column (up to 131), DC-DC instead
    /// of the charge pump; what it shares with the SSD1306 means the same.
    fn execute_sh1106(&mut self, opcode: u8, param: u8) -> Effect {
        let s = &mut self.state;
        match opcode {
            0x00..=0x0F => s.column = (s.column & 0xF0) | (opcode & 0x0F),
            0x10..=0x1F => s.column = (s.column & 0x0F) | ((opcode & 0x0F) << 4),
            0xB0..=0xB7 => s.page = opcode & 0x07,
            0xAD => s.charge_pump = param & 0x01 != 0,
            _ => return self.execute_shared(opcode, param),
        }
        Effect::None
    }

    /// What the SSD1306 and the SH1106 both understand, the same way (one parameter at most).
    fn execute_shared(&mut self, opcode: u8, param: u8) -> Effect {
        let s = &mut self.state;
        match opcode {
            0x40..=0x7F => s.start_line = opcode & 0x3F,
            0x81 => s.contrast = param,
            0xA0 | 0xA1 => s.segment_remap = opcode & 1 != 0,
            0xA4 | 0xA5 => s.entire_on = opcode & 1 != 0,
            0xA6 | 0xA7 => s.inverted = opcode & 1 != 0,
            0xA8 => {
                // Ratios below 16 are invalid and ignored.
                let v = param & 0x3F;
                if v >= 15 {
                    s.mux = v + 1;
                }
            }
            0xAE => {
                s.display_on = false;
                return Effect::DisplayOff;
            }
            0xAF => s.display_on = true,
            // Bit 3 decides; the SSD1306 knows only 0xC0 and 0xC8 (the parser drops the rest).
            0xC0..=0xCF => s.com_reversed = opcode & 0x08 != 0,
            0xD3 => s.display_offset = param & 0x3F,
            0xD5 => s.clock = param,
            0xD9 => s.precharge = param,
            0xDA => {
                s.com_alternative = param & 0x10 != 0;
                s.com_left_right_remap = param & 0x20 != 0;
            }
            0xDB => s.vcomh = param,
            _ => {}
        }
        Effect::None
    }

    /// True while a multi-byte command still waits for parameter bytes.
    #[cfg(test)]
    pub fn awaiting_parameters(&self) -> bool {
        self.pending.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmds(c: &mut Controller, bytes: &[u8]) {
        for b in bytes {
            c.command(*b);
        }
    }

    fn datas(c: &mut Controller, bytes: impl IntoIterator<Item = u8>) {
        for b in bytes {
            c.data(b);
        }
    }

    fn at(c: &Controller, page: usize, col: usize) -> u8 {
        c.gddram[page * COLUMNS + col]
    }

    #[test]
    fn power_on_is_page_mode_display_off() {
        let c = Controller::new();
        assert_eq!(c.state.addressing_mode, AddressingMode::Page);
        assert!(!c.state.display_on);
        assert_eq!(c.state.contrast, 0x7F);
        assert_eq!(c.state.mux, 64);
        assert!(c.gddram.iter().all(|b| *b == 0));
    }

    #[test]
    fn horizontal_mode_fills_the_window_and_wraps() {
        let mut c = Controller::new();
        // Window: columns 10..=12, pages 2..=3.
        cmds(&mut c, &[0x20, 0x00, 0x21, 10, 12, 0x22, 2, 3]);
        datas(&mut c, 1..=6);
        assert_eq!(
            [at(&c, 2, 10), at(&c, 2, 11), at(&c, 2, 12)],
            [1, 2, 3],
            "page 2 first"
        );
        assert_eq!([at(&c, 3, 10), at(&c, 3, 11), at(&c, 3, 12)], [4, 5, 6]);
        // The seventh byte wraps to the window's start.
        c.data(7);
        assert_eq!(at(&c, 2, 10), 7);
        assert_eq!((c.state.column, c.state.page), (11, 2));
        // Nothing outside the window was touched.
        let lit = c.gddram.iter().filter(|b| **b != 0).count();
        assert_eq!(lit, 6);
    }

    #[test]
    fn vertical_mode_goes_down_then_right() {
        let mut c = Controller::new();
        cmds(&mut c, &[0x20, 0x01, 0x21, 0, 1, 0x22, 5, 7]);
        datas(&mut c, 1..=6);
        assert_eq!([at(&c, 5, 0), at(&c, 6, 0), at(&c, 7, 0)], [1, 2, 3]);
        assert_eq!([at(&c, 5, 1), at(&c, 6, 1), at(&c, 7, 1)], [4, 5, 6]);
        // The seventh byte wraps to column 0, page 5.
        c.data(7);
        assert_eq!(at(&c, 5, 0), 7);
        assert_eq!((c.state.column, c.state.page), (0, 6));
    }

    #[test]
    fn full_window_horizontal_covers_gddram_in_order() {
        let mut c = Controller::new();
        cmds(&mut c, &[0x20, 0x00, 0x21, 0, 127, 0x22, 0, 7]);
        datas(&mut c, (0..GDDRAM_BYTES).map(|i| (i % 251) as u8));
        for (i, b) in c.gddram.iter().enumerate() {
            assert_eq!(*b, (i % 251) as u8);
        }
        assert_eq!((c.state.column, c.state.page), (0, 0));
    }

    #[test]
    fn page_mode_uses_nibbles_and_never_changes_page() {
        let mut c = Controller::new();
        // Page 3, column 0x7E via lower nibble E and upper nibble 7.
        cmds(&mut c, &[0xB3, 0x0E, 0x17]);
        assert_eq!((c.state.column, c.state.page), (0x7E, 3));
        datas(&mut c, [1, 2, 3]);
        assert_eq!(at(&c, 3, 126), 1);
        assert_eq!(at(&c, 3, 127), 2);
        assert_eq!(at(&c, 3, 0), 3, "column wraps to 0 within the page");
        assert_eq!(at(&c, 4, 0), 0);
        assert_eq!(c.state.page, 3);
        // Upper nibble alone keeps the lower one.
        cmds(&mut c, &[0x12]);
        assert_eq!(c.state.column, 0x21);
    }

    #[test]
    fn page_commands_outside_page_mode_do_not_move_the_pointer() {
        let mut c = Controller::new();
        cmds(
            &mut c,
            &[0x20, 0x00, 0x21, 4, 20, 0x22, 1, 6, 0xB5, 0x03, 0x11],
        );
        assert_eq!((c.state.column, c.state.page), (4, 1));
        assert_eq!(c.state.unknown_commands, 0);
    }

    #[test]
    fn window_commands_reset_the_pointer() {
        let mut c = Controller::new();
        cmds(&mut c, &[0x20, 0x00]);
        datas(&mut c, [9; 5]);
        cmds(&mut c, &[0x21, 100, 127]);
        assert_eq!(c.state.column, 100);
        cmds(&mut c, &[0x22, 6, 7]);
        assert_eq!((c.state.column, c.state.page), (100, 6));
    }

    #[test]
    fn parameters_mask_like_the_chip() {
        let mut c = Controller::new();
        cmds(&mut c, &[0x21, 0xFF, 0xFF, 0x22, 0xFF, 0x09]);
        assert_eq!(c.state.column_window, (127, 127));
        assert_eq!(c.state.page_window, (7, 1));
        // An inverted window must not panic, data stays inside GDDRAM.
        cmds(&mut c, &[0x20, 0x00]);
        datas(&mut c, 0..=255);
        cmds(&mut c, &[0x20, 0x01]);
        datas(&mut c, 0..=255);
    }

    #[test]
    fn multi_byte_commands_take_their_parameters() {
        let mut c = Controller::new();
        cmds(&mut c, &[0x81]);
        assert!(c.awaiting_parameters());
        cmds(&mut c, &[0xAF]); // a parameter, not "display on"
        assert_eq!(c.state.contrast, 0xAF);
        assert!(!c.state.display_on);
        cmds(
            &mut c,
            &[0xA8, 0x1F, 0xD3, 0x05, 0xDA, 0x02, 0x8D, 0x14, 0xD5, 0x80],
        );
        cmds(&mut c, &[0xD9, 0xF1, 0xDB, 0x40]);
        let s = c.state;
        assert_eq!(s.mux, 32);
        assert_eq!(s.display_offset, 5);
        assert!(!s.com_alternative && !s.com_left_right_remap);
        assert!(s.charge_pump);
        assert_eq!((s.clock, s.precharge, s.vcomh), (0x80, 0xF1, 0x40));
        // Scroll setups swallow all their parameters (0xAE inside must not switch the display off).
        cmds(&mut c, &[0xAF, 0x26, 0x00, 0x00, 0x07, 0xAE, 0x00, 0xFF]);
        cmds(&mut c, &[0x29, 0x00, 0x00, 0x07, 0xAE, 0x01]);
        cmds(&mut c, &[0xA3, 0xAE, 0xAE, 0x2F]);
        assert!(c.state.display_on);
        assert!(c.state.scrolling);
        cmds(&mut c, &[0x2E, 0xE3, 0xAD, 0x30]);
        assert!(!c.state.scrolling);
        assert_eq!(c.state.unknown_commands, 0);
        assert!(!c.awaiting_parameters());
    }

    #[test]
    fn simple_commands_set_registers() {
        let mut c = Controller::new();
        cmds(&mut c, &[0xAF, 0xA7, 0xA5, 0xA1, 0xC8, 0x52]);
        let s = c.state;
        assert!(s.display_on && s.inverted && s.entire_on && s.segment_remap && s.com_reversed);
        assert_eq!(s.start_line, 0x12);
        assert_eq!(c.command(0xAE), Effect::DisplayOff);
        cmds(&mut c, &[0xA6, 0xA4, 0xA0, 0xC0]);
        let s = c.state;
        assert!(
            !s.display_on && !s.inverted && !s.entire_on && !s.segment_remap && !s.com_reversed
        );
    }

    #[test]
    fn invalid_parameters_are_ignored() {
        let mut c = Controller::new();
        cmds(&mut c, &[0x20, 0x03, 0xA8, 0x05]);
        assert_eq!(c.state.addressing_mode, AddressingMode::Page);
        assert_eq!(c.state.mux, 64);
    }

    #[test]
    fn unknown_commands_are_counted_and_ignored() {
        let mut c = Controller::new();
        let before = c.state;
        cmds(&mut c, &[0xFF, 0x23, 0xC4, 0x80]);
        assert_eq!(c.state.unknown_commands, 4);
        assert_eq!(c.state.last_unknown, Some(0x80));
        assert_eq!(
            ControllerState {
                unknown_commands: 0,
                last_unknown: None,
                ..c.state
            },
            before
        );
    }
}
