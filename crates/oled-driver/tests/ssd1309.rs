//! The SSD1309 path: our one-transaction initialisation leaves the chip as the `ssd1309` crate's
//! does (and unlocks a locked one), and our plans, the SSD1306's, show every frame exactly on the
//! emulated SSD1309 in every rotation, with no charge pump, no unknown command and no blink.

use display_interface_i2c_04::I2CInterface;
use embedded_hal::i2c::I2c as _;
use oled_driver::{Controller, Panel, PanelSettings, Rotation};
use oled_frame::Frame;
use ssd1309::prelude::*;
use virtual_ssd1306::{Chip, Mounting, PanelSize, SharedPanel, VirtualSsd1306};

mod common;
use common::Bus;

fn ssd1309_panel(mounting: Mounting) -> SharedPanel {
    SharedPanel::new(
        VirtualSsd1306::with_chip(PanelSize::W128xH64, 0x3C, Chip::Ssd1309).with_mounting(mounting),
    )
}

fn settings(rotation: Rotation) -> PanelSettings {
    PanelSettings {
        controller: Controller::Ssd1309,
        rotation,
        contrast: 0x6F, // the ssd1309 crate's
        ..PanelSettings::default()
    }
}

fn frame(width: u16, height: u16, seed: u64) -> Frame {
    let mut f = Frame::new(width, height).unwrap();
    let mut x = seed | 1;
    for _ in 0..(seed % 700) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f.set_pixel(
            (x % u64::from(width)) as u16,
            ((x >> 8) % u64::from(height)) as u16,
            true,
        );
    }
    f
}

#[test]
fn our_init_leaves_the_chip_as_the_ssd1309_crates_does() {
    let theirs = ssd1309_panel(Mounting::Rotate0);
    let interface = I2CInterface::new(Bus(theirs.clone()), 0x3C, 0x40);
    let mut display: GraphicsMode<_> = ssd1309::Builder::new().connect(interface).into();
    display.init().unwrap();

    // Ours, on a module someone left locked.
    let ours = ssd1309_panel(Mounting::Rotate0);
    ours.clone().write(0x3C, &[0x00, 0xFD, 0x16]).unwrap();
    let mut panel = Panel::new(ours.clone(), settings(Rotation::Deg0));
    let init = panel.init().unwrap();
    assert_eq!(init.transactions, 1, "one command transaction");

    let (mut a, b) = (theirs.with(|p| p.state()), ours.with(|p| p.state()));
    // Where the pointer stands and how it advances are not configuration: we use horizontal
    // addressing, the crate page addressing.
    a.column = b.column;
    a.page = b.page;
    a.addressing_mode = b.addressing_mode;
    assert_eq!(a, b);
    assert!(!b.locked && b.display_on && !b.charge_pump);
    assert_eq!(b.unknown_commands, 0);
}

#[test]
fn plans_show_every_frame_on_an_ssd1309_in_every_rotation() {
    for (rotation, mounting) in [
        (Rotation::Deg0, Mounting::Rotate0),
        (Rotation::Deg90, Mounting::Rotate90),
        (Rotation::Deg180, Mounting::Rotate180),
        (Rotation::Deg270, Mounting::Rotate270),
    ] {
        let shared = ssd1309_panel(mounting);
        let mut panel = Panel::new(shared.clone(), settings(rotation));
        let g = panel.geometry();
        for seed in 0..50u64 {
            let f = frame(g.width, g.height, seed * 7919);
            let before = shared.with(|p| p.stats());
            let cost = panel.present(&f).unwrap();
            let after = shared.with(|p| p.stats());
            assert_eq!(u64::from(cost.bytes), after.bytes - before.bytes);
            assert_eq!(shared.with(|p| p.visible()), f, "{rotation:?} seed {seed}");
        }
        let s = shared.with(|p| p.state());
        assert_eq!(s.unknown_commands, 0);
        assert_eq!(shared.with(|p| p.stats()).display_off, 1, "only the init's");
    }
}
