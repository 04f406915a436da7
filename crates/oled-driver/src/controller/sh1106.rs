//! The SH1106 (132 columns of RAM, 128 shown; page addressing only).

use crate::settings::{PanelSettings, Rotation};
use crate::CONTROL_COMMANDS;

/// The SH1106's initialisation as one command transaction: what the `sh1106` crate's
/// `init_column_mode` sends (clock, multiplex, offset, start line, DC-DC on, rotation, COM pins,
/// pre-charge, VCOMH, resume from RAM), with the contrast, inversion and power asked for.
pub(crate) fn sh1106_init(
    s: &PanelSettings,
    contrast: u8,
    inverted: bool,
    power_on: bool,
) -> Vec<u8> {
    let height = s.size.height() as u8;
    let (remap, com) = match s.rotation {
        Rotation::Deg0 => (0xA1, 0xC8),
        Rotation::Deg90 => (0xA0, 0xC8),
        Rotation::Deg180 => (0xA0, 0xC0),
        Rotation::Deg270 => (0xA1, 0xC0),
    };
    let com_pins = if height > 32 { 0x12 } else { 0x02 };
    vec![
        CONTROL_COMMANDS,
        0xAE,
        0xD5,
        0x80,
        0xA8,
        height - 1,
        0xD3,
        0x00,
        0x40,
        0xAD,
        0x8B,
        remap,
        com,
        0xDA,
        com_pins,
        0x81,
        contrast,
        0xD9,
        0xF1,
        0xDB,
        0x40,
        0xA4,
        if inverted { 0xA7 } else { 0xA6 },
        if power_on { 0xAF } else { 0xAE },
    ]
}
