//! The SH1106 model against the `sh1106` crate: what that driver sends (its init, its full-frame
//! flush in page addressing at column offset 2) shows on the emulated glass exactly as drawn; and a
//! plan made for an SSD1306 (horizontal addressing, 0x20/0x21/0x22) visibly breaks on it, as on a
//! real module.

use embedded_hal::i2c::I2c as _;
use sh1106::prelude::*;
use virtual_ssd1306::{Chip, PanelSize, SharedPanel, VirtualSsd1306};

mod common;
use common::{assert_shows_pattern, Bus};

fn sh1106_panel() -> SharedPanel {
    SharedPanel::new(VirtualSsd1306::with_chip(
        PanelSize::W128xH64,
        0x3C,
        Chip::Sh1106,
    ))
}

fn pattern(x: u32, y: u32) -> bool {
    common::pattern(x, y, 128, 64)
}

#[test]
fn the_sh1106_crates_frames_show_as_drawn() {
    let shared = sh1106_panel();
    let mut display: GraphicsMode<_> = sh1106::Builder::new()
        .connect_i2c(Bus(shared.clone()))
        .into();
    display.init().unwrap();
    for y in 0..64 {
        for x in 0..128 {
            display.set_pixel(x, y, u8::from(pattern(x, y)));
        }
    }
    display.flush().unwrap();
    assert_shows_pattern(&shared, 128, 64, "the sh1106 crate's frame");
    let s = shared.with(|p| p.state());
    assert!(s.display_on && s.charge_pump && s.segment_remap && s.com_reversed);
    assert_eq!(
        s.unknown_commands, 0,
        "every byte the crate sends is an SH1106 command"
    );
}

#[test]
fn an_ssd1306_plan_breaks_on_an_sh1106() {
    let shared = sh1106_panel();
    // An SSD1306-style init and a full frame in horizontal addressing.
    let mut bus = shared.clone();
    bus.write(
        0x3C,
        &[0x00, 0xAE, 0x8D, 0x14, 0x20, 0x00, 0xA1, 0xC8, 0xAF],
    )
    .unwrap();
    bus.write(0x3C, &[0x00, 0x21, 0, 127, 0x22, 0, 7]).unwrap();
    let mut data = vec![0x40];
    data.extend((0..1024).map(|i| if i % 3 == 0 { 0xFF } else { 0x00 }));
    bus.write(0x3C, &data).unwrap();
    let shown = shared.with(|p| p.visible());
    let mut want = oled_frame::Frame::new(128, 64).unwrap();
    for i in 0..1024u16 {
        if i % 3 == 0 {
            for bit in 0..8 {
                want.set_pixel(i % 128, (i / 128) * 8 + bit, true);
            }
        }
    }
    assert_ne!(
        shown, want,
        "the SH1106 has no horizontal addressing: the picture must break"
    );
    assert!(shared.with(|p| p.state().unknown_commands) > 0);
}
