//! The SH1106 path: our initialisation leaves the chip as the `sh1106` crate's does, our page-only
//! plans (no addressing-mode commands, columns offset by 2) show every frame exactly on the emulated
//! SH1106, and they cost far less than the crate's full flush.

use oled_driver::{Controller, Panel, PanelSettings};
use oled_frame::Frame;
use sh1106::prelude::*;
use virtual_ssd1306::{Chip, PanelSize, SharedPanel, VirtualSsd1306};

mod common;
use common::Bus;

fn sh1106_panel() -> SharedPanel {
    SharedPanel::new(VirtualSsd1306::with_chip(
        PanelSize::W128xH64,
        0x3C,
        Chip::Sh1106,
    ))
}

fn settings() -> PanelSettings {
    PanelSettings {
        controller: Controller::Sh1106 { column_offset: 2 },
        contrast: 0x80, // the sh1106 crate's
        ..PanelSettings::default()
    }
}

fn frame(seed: u64) -> Frame {
    let mut f = Frame::new(128, 64).unwrap();
    let mut x = seed | 1;
    for _ in 0..(seed % 700) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f.set_pixel((x % 128) as u16, ((x >> 8) % 64) as u16, true);
    }
    f
}

#[test]
fn our_init_leaves_the_chip_as_the_sh1106_crates_does() {
    let theirs = sh1106_panel();
    let mut display: GraphicsMode<_> = sh1106::Builder::new()
        .connect_i2c(Bus(theirs.clone()))
        .into();
    display.init().unwrap();

    let ours = sh1106_panel();
    let mut panel = Panel::new(ours.clone(), settings());
    let init = panel.init().unwrap();
    assert_eq!(init.transactions, 1, "one command transaction");

    let (mut a, b) = (theirs.with(|p| p.state()), ours.with(|p| p.state()));
    // Where the pointer stands is not configuration.
    a.column = b.column;
    a.page = b.page;
    assert_eq!(a, b);
    assert_eq!(b.unknown_commands, 0);
}

#[test]
fn page_only_plans_show_every_frame_on_an_sh1106() {
    let shared = sh1106_panel();
    let mut panel = Panel::new(shared.clone(), settings());
    panel.init().unwrap();
    shared.with(|p| p.reset_stats());
    for seed in 0..200u64 {
        let f = frame(seed * 7919);
        let before = shared.with(|p| p.stats());
        let cost = panel.present(&f).unwrap();
        let after = shared.with(|p| p.stats());
        assert_eq!(u64::from(cost.bytes), after.bytes - before.bytes);
        assert_eq!(shared.with(|p| p.visible()), f, "frame {seed}");
    }
    let s = shared.with(|p| p.state());
    assert_eq!(s.unknown_commands, 0, "nothing an SH1106 does not know");
    assert_eq!(shared.with(|p| p.stats().display_off), 0);
}

#[test]
fn a_one_pixel_change_is_a_few_bytes_where_the_crate_sends_the_frame() {
    let mut f = Frame::new(128, 64).unwrap();
    let theirs = sh1106_panel();
    let mut display: GraphicsMode<_> = sh1106::Builder::new()
        .connect_i2c(Bus(theirs.clone()))
        .into();
    display.init().unwrap();
    display.flush().unwrap();
    theirs.with(|p| p.reset_stats());
    display.set_pixel(40, 20, 1);
    display.flush().unwrap();
    let theirs_bytes = theirs.with(|p| p.stats().bytes);

    let ours = sh1106_panel();
    let mut panel = Panel::new(ours.clone(), settings());
    panel.present(&f).unwrap();
    f.set_pixel(40, 20, true);
    let cost = panel.present(&f).unwrap();
    assert_eq!(ours.with(|p| p.visible()), theirs.with(|p| p.visible()));
    // Page, both column nibbles (column 42 with the offset) and one data byte.
    assert!(cost.bytes <= 10, "{cost:?}");
    assert!(
        theirs_bytes > 1000,
        "the crate's flush: {theirs_bytes} bytes"
    );
}
