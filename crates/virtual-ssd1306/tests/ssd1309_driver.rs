//! The SSD1309 model against real drivers: the `ssd1309` crate's init and flush show exactly as
//! drawn in every rotation, with every byte a command the chip knows and no charge pump; the same
//! driver leaves an SSD1306 module dark (it has no external VCC without 0x8D); the `ssd1306`
//! crate, which many people point at SSD1309 modules, works on it too, its one unknown byte (0x8D)
//! counted; and the command lock ignores everything but the unlock.

use display_interface_i2c_04::I2CInterface;
use embedded_hal::i2c::I2c as _;
use ssd1309::prelude::*;
use virtual_ssd1306::{Chip, Mounting, PanelSize, SharedPanel, VirtualSsd1306};

mod common;
use common::{assert_shows_pattern, pattern, Bus};

fn panel(chip: Chip, mounting: Mounting) -> SharedPanel {
    SharedPanel::new(
        VirtualSsd1306::with_chip(PanelSize::W128xH64, 0x3C, chip).with_mounting(mounting),
    )
}

/// Draws the pattern with the `ssd1309` crate at `rotation` onto `shared`.
fn draw_with_ssd1309_crate(shared: &SharedPanel, rotation: DisplayRotation) -> (u32, u32) {
    let interface = I2CInterface::new(Bus(shared.clone()), 0x3C, 0x40);
    let mut display: GraphicsMode<_> = ssd1309::Builder::new()
        .with_rotation(rotation)
        .connect(interface)
        .into();
    display.init().unwrap();
    let (w, h) = display.get_dimensions();
    let (w, h) = (u32::from(w), u32::from(h));
    for y in 0..h {
        for x in 0..w {
            display.set_pixel(x, y, u8::from(pattern(x, y, w, h)));
        }
    }
    display.flush().unwrap();
    (w, h)
}

#[test]
fn the_ssd1309_crates_frames_show_as_drawn_in_every_rotation() {
    for (rotation, mounting) in [
        (DisplayRotation::Rotate0, Mounting::Rotate0),
        (DisplayRotation::Rotate90, Mounting::Rotate90),
        (DisplayRotation::Rotate180, Mounting::Rotate180),
        (DisplayRotation::Rotate270, Mounting::Rotate270),
    ] {
        let shared = panel(Chip::Ssd1309, mounting);
        let (w, h) = draw_with_ssd1309_crate(&shared, rotation);
        assert_shows_pattern(&shared, w, h, &format!("{mounting:?}"));
        let s = shared.with(|p| p.state());
        assert!(s.display_on && !s.charge_pump && !s.locked, "{s:?}");
        assert_eq!(s.unknown_commands, 0, "every byte is an SSD1309 command");
    }
}

#[test]
fn an_ssd1306_stays_dark_under_an_ssd1309_driver() {
    let shared = panel(Chip::Ssd1306, Mounting::Rotate0);
    draw_with_ssd1309_crate(&shared, DisplayRotation::Rotate0);
    assert!(shared.with(|p| p.state().display_on));
    assert_eq!(
        shared.with(|p| p.visible().lit_pixels()),
        0,
        "no charge pump: a common SSD1306 module has no VCC of its own"
    );
}

#[test]
fn the_ssd1306_crate_works_on_an_ssd1309_except_its_charge_pump_byte() {
    use ssd1306::{prelude::*, I2CDisplayInterface, Ssd1306};
    let shared = panel(Chip::Ssd1309, Mounting::Rotate0);
    let interface = I2CDisplayInterface::new(shared.clone());
    let mut display = Ssd1306::new(interface, DisplaySize128x64, DisplayRotation::Rotate0)
        .into_buffered_graphics_mode();
    display.init().unwrap();
    for y in 0..64u32 {
        for x in 0..128u32 {
            display.set_pixel(x, y, pattern(x, y, 128, 64));
        }
    }
    display.flush().unwrap();
    assert_shows_pattern(&shared, 128, 64, "the ssd1306 crate on an SSD1309");
    let s = shared.with(|p| p.state());
    // 0x8D is no SSD1309 command; its parameter 0x14 then runs as a column nibble (harmless).
    assert_eq!((s.unknown_commands, s.last_unknown), (1, Some(0x8D)));
}

#[test]
fn the_command_lock_ignores_everything_but_the_unlock() {
    let shared = panel(Chip::Ssd1309, Mounting::Rotate0);
    let mut bus = shared.clone();
    bus.write(0x3C, &[0x00, 0xAF, 0xFD, 0x16, 0xAE, 0x81, 0x10, 0xA7])
        .unwrap();
    let s = shared.with(|p| p.state());
    assert!(
        s.locked && s.display_on && !s.inverted && s.contrast == 0x7F,
        "{s:?}"
    );
    bus.write(0x3C, &[0x00, 0xFD, 0x12, 0xAE]).unwrap();
    let s = shared.with(|p| p.state());
    assert!(!s.locked && !s.display_on, "{s:?}");
    assert_eq!(s.unknown_commands, 0);
}
