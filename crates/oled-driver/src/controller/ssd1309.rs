//! The SSD1309 (128x64, its own VCC, no charge pump).

use crate::settings::{PanelSettings, Rotation};
use crate::CONTROL_COMMANDS;

/// The SSD1309's initialisation as one command transaction: unlock (0xFD 0x12: a module may have
/// been locked), then what the `ssd1309` crate relies on and sets (clock, multiplex, offset, start
/// line, rotation, COM pins, pre-charge, scroll off; VCOMH stays at its reset value, as the crate
/// leaves it), horizontal addressing as for the
/// SSD1306, and the contrast, inversion and power asked for. No charge pump: the module has its VCC.
pub(crate) fn ssd1309_init(
    s: &PanelSettings,
    contrast: u8,
    inverted: bool,
    power_on: bool,
) -> Vec<u8> {
    let (remap, com) = match s.rotation {
        Rotation::Deg0 => (0xA1, 0xC8),
        Rotation::Deg90 => (0xA0, 0xC8),
        Rotation::Deg180 => (0xA0, 0xC0),
        Rotation::Deg270 => (0xA1, 0xC0),
    };
    vec![
        CONTROL_COMMANDS,
        0xFD,
        0x12,
        0xAE,
        0xD5,
        0xA0,
        0xA8,
        0x3F,
        0xD3,
        0x00,
        0x40,
        remap,
        com,
        0xDA,
        0x12,
        0x81,
        contrast,
        0xD9,
        0xD3,
        0x2E,
        0x20,
        0x00,
        0xA4,
        if inverted { 0xA7 } else { 0xA6 },
        if power_on { 0xAF } else { 0xAE },
    ]
}
