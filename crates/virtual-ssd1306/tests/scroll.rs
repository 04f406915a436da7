//! Horizontal scroll against the `ssd1306` crate's own commands (`HScrollSetup`, `EnableScroll`):
//! once running, the pages in the range move one column per interval around the 128-column ring, the
//! others stay, and after 0x2E the picture stays where it scrolled to (the datasheet's "rewrite RAM").
//! The foundation of a ticker that costs no bus bytes per step.

use oled_frame::Frame;
use ssd1306::command::{Command, HScrollDir, NFrames, Page};
use ssd1306::{prelude::*, I2CDisplayInterface, Ssd1306};
use virtual_ssd1306::{PanelSize, SharedPanel, VirtualSsd1306};

/// Something in every page, asymmetric, so any wrong move shows.
fn pattern(x: u32, y: u32) -> bool {
    (x + 3 * y) % 11 == 0 || (x < 9 && y < 9) || x == 127
}

/// `f` with the rows of pages `first..=last` moved `by` columns right (negative: left), wrapping.
fn rotated(f: &Frame, first: u16, last: u16, by: i32) -> Frame {
    let mut out = f.clone();
    for y in 0..f.height() {
        if !(first * 8..(last + 1) * 8).contains(&y) {
            continue;
        }
        for x in 0..f.width() {
            let from = (i32::from(x) - by).rem_euclid(i32::from(f.width()));
            out.set_pixel(x, y, f.pixel(from as u16, y));
        }
    }
    out
}

/// The pattern drawn and flushed by the crate; the panel and what it shows.
fn drawn() -> (SharedPanel, Frame) {
    let panel = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
    let interface = I2CDisplayInterface::new(panel.clone());
    let mut display = Ssd1306::new(interface, DisplaySize128x64, DisplayRotation::Rotate0)
        .into_buffered_graphics_mode();
    display.init().unwrap();
    for y in 0..64 {
        for x in 0..128 {
            display.set_pixel(x, y, pattern(x, y));
        }
    }
    display.flush().unwrap();
    let shown = panel.with(|p| p.visible());
    (panel, shown)
}

#[test]
fn the_crates_right_scroll_moves_its_pages_one_column_per_interval() {
    let (panel, before) = drawn();
    let mut iface = I2CDisplayInterface::new(panel.clone());
    Command::HScrollSetup(
        HScrollDir::LeftToRight,
        Page::Page2,
        Page::Page5,
        NFrames::F2,
    )
    .send(&mut iface)
    .unwrap();
    Command::EnableScroll(true).send(&mut iface).unwrap();
    let bytes_before = panel.with(|p| p.stats()).bytes;

    // 21 frames at 2 frames a step: 10 columns, the odd frame counted towards the next.
    panel.with(|p| p.advance_frames(21));
    let moved = panel.with(|p| p.visible());
    // Pages 2-5 moved 10 columns to the right around the ring (on a module mounted as the crate's
    // Rotate0 says), the rest did not.
    assert_eq!(moved, rotated(&before, 2, 5, 10), "{}", moved.to_ascii());
    assert_ne!(moved, before);
    panel.with(|p| p.advance_frames(1));
    let eleven = panel.with(|p| p.visible());
    assert_eq!(eleven, rotated(&before, 2, 5, 11));
    assert_eq!(
        panel.with(|p| p.stats()).bytes,
        bytes_before,
        "no bus bytes per step"
    );

    // Stopped: the picture stays where it scrolled to, and frames no longer move it.
    Command::EnableScroll(false).send(&mut iface).unwrap();
    panel.with(|p| p.advance_frames(100));
    assert_eq!(panel.with(|p| p.visible()), eleven);
    assert_eq!(panel.with(|p| p.state()).unknown_commands, 0);
}

#[test]
fn left_and_right_are_opposite_and_a_full_turn_is_home() {
    let (panel, home) = drawn();
    let mut iface = I2CDisplayInterface::new(panel.clone());
    let run = |dir: HScrollDir, frames: u32, iface: &mut _| {
        Command::HScrollSetup(dir, Page::Page0, Page::Page7, NFrames::F3)
            .send(iface)
            .unwrap();
        Command::EnableScroll(true).send(iface).unwrap();
        panel.with(|p| p.advance_frames(frames));
        Command::EnableScroll(false).send(iface).unwrap();
    };
    run(HScrollDir::LeftToRight, 3 * 7, &mut iface);
    assert_ne!(panel.with(|p| p.visible()), home);
    run(HScrollDir::RightToLeft, 3 * 7, &mut iface);
    assert_eq!(panel.with(|p| p.visible()), home, "7 right then 7 left");
    run(HScrollDir::LeftToRight, 3 * 128, &mut iface);
    assert_eq!(
        panel.with(|p| p.visible()),
        home,
        "128 columns: once around the ring"
    );
    // The interval: 3 frames a step at about 105 frames per second at the reset clock.
    let fps = panel.with(|p| p.nominal_frame_rate());
    assert!((90.0..130.0).contains(&fps), "{fps}");
}
