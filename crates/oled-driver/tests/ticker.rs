//! Tickers on the emulator: the hardware path shows, step for step, what the software path would
//! present, with no bus bytes per step and no RAM written while the chip scrolls; the software path
//! sends only what changed; new text stops a ticker cleanly.

use oled_driver::ticker::{Ticker, TickerPath};
use oled_driver::{Controller, Frame, Panel, PanelSettings, PanelSize, Rotation};
use oled_frame::Strip;
use virtual_ssd1306::{Chip, Mounting, SharedPanel, VirtualSsd1306};

fn emulator(size: PanelSize, rotation: Rotation, chip: Chip) -> SharedPanel {
    SharedPanel::new(
        VirtualSsd1306::with_chip(size, 0x3C, chip)
            .with_mounting(Mounting::from_degrees(rotation.degrees()).unwrap()),
    )
}

/// A strip with something in every column, different from column to column, so that any offset
/// error shows.
fn strip(width: u16, pages: u8) -> Strip {
    let mut s = Strip::new(width, pages).unwrap();
    for x in 0..width {
        s.set_pixel(x, x % (u16::from(pages) * 8), true);
        s.set_pixel(x, (x / 7) % (u16::from(pages) * 8), true);
    }
    s
}

fn background(w: u16, h: u16) -> Frame {
    let mut f = Frame::new(w, h).unwrap();
    for x in 0..w {
        f.set_pixel(x, 0, x % 3 == 0);
        f.set_pixel(x, h - 1, true);
    }
    f
}

#[test]
fn the_hardware_scroll_shows_each_step_as_the_software_path_would() {
    let cases = [
        (PanelSize::W128xH64, Chip::Ssd1306, Controller::Ssd1306),
        (PanelSize::W128xH32, Chip::Ssd1306, Controller::Ssd1306),
        (PanelSize::W96xH16, Chip::Ssd1306, Controller::Ssd1306),
        (PanelSize::W72xH40, Chip::Ssd1306, Controller::Ssd1306),
        (PanelSize::W64xH48, Chip::Ssd1306, Controller::Ssd1306),
        (PanelSize::W128xH64, Chip::Ssd1309, Controller::Ssd1309),
    ];
    for (size, chip, controller) in cases {
        for rotation in [Rotation::Deg0, Rotation::Deg180] {
            let bus = emulator(size, rotation, chip);
            let settings = PanelSettings {
                size,
                rotation,
                controller,
                ..PanelSettings::default()
            };
            let mut panel = Panel::new(bus.clone(), settings);
            let g = panel.geometry();
            let pages = if g.height >= 24 { 2 } else { 1 };
            let ticker = Ticker::new(
                background(g.width, g.height),
                strip(120.max(g.width), pages),
                1,
                30,
            )
            .unwrap();
            let run = panel.start_ticker(&ticker, false).unwrap();
            let what = format!("{size:?} {rotation:?} {chip:?}");
            assert_eq!(run.path, TickerPath::Hardware, "{what}");
            assert_eq!(
                run.ticker.strip().width(),
                128,
                "{what}: padded to the ring"
            );
            let rate = panel.nominal_frame_rate().unwrap();
            assert!(
                (rate - bus.with(|p| p.nominal_frame_rate())).abs() < 1e-9,
                "{what}: the driver's frame rate is the chip's as configured"
            );
            let interval = u32::from(run.interval_frames.unwrap());
            assert_eq!(bus.with(|p| p.visible()), ticker.frame_at(0), "{what}");
            let bytes = bus.with(|p| p.stats().bytes);
            for step in 1..=130u32 {
                bus.with(|p| p.advance_frames(interval));
                assert_eq!(
                    bus.with(|p| p.visible()),
                    run.ticker.frame_at(step),
                    "{what}: step {step}"
                );
            }
            assert_eq!(
                bus.with(|p| p.stats().bytes),
                bytes,
                "{what}: bytes per step"
            );

            // New text stops the scroll before RAM is touched, and shows exactly.
            bus.with(|p| p.advance_frames(interval * 17));
            let next = background(g.width, g.height);
            let cost = panel.present(&next).unwrap();
            assert!(!panel.is_scrolling());
            assert!(!bus.with(|p| p.state().scrolling), "{what}");
            assert_eq!(bus.with(|p| p.visible()), next, "{what}");
            assert_eq!(bus.with(|p| p.stats().data_while_scrolling), 0, "{what}");
            // Only the scrolled pages are sent again (their RAM moved), not the whole panel.
            assert_eq!(cost.pages_touched, pages, "{what}");
        }
    }
}

#[test]
fn the_speed_is_the_nearest_interval_and_a_start_costs_what_it_says() {
    let bus = emulator(PanelSize::W128xH64, Rotation::Deg0, Chip::Ssd1306);
    let mut panel = Panel::new(bus.clone(), PanelSettings::default());
    panel.present(&Frame::new(128, 64).unwrap()).unwrap();
    bus.with(|p| p.reset_stats());
    let t = Ticker::new(Frame::new(128, 64).unwrap(), strip(128, 2), 3, 30).unwrap();
    let run = panel.start_ticker(&t, false).unwrap();
    let rate = panel.nominal_frame_rate().unwrap();
    // 370 kHz / ((1 + 2 + 50) x 64) = 109 frames a second: 4 frames a step is 27.3 columns a
    // second, nearer 30 than 3 frames' 36.4.
    assert!((rate - 109.08).abs() < 0.01, "{rate}");
    assert_eq!(run.interval_frames, Some(4));
    assert!((run.speed - rate / 4.0).abs() < 1e-9);
    let st = bus.with(|p| p.stats());
    assert_eq!(u64::from(run.cost.bytes), st.bytes);
    // The strip's two pages as one window, then the scroll setup and 0x2F in one transaction.
    let setup = 1 + 1 + 8;
    assert!(st.bytes > setup && st.bytes < 2 * 128 + 30, "{st:?}");
    // A second ticker on the same pages: scroll stopped, RAM rewritten, scroll set up again.
    let run2 = panel.start_ticker(&t, false).unwrap();
    assert_eq!(run2.path, TickerPath::Hardware);
    assert_eq!(bus.with(|p| p.stats().data_while_scrolling), 0);
}

#[test]
fn what_the_controller_cannot_scroll_goes_the_software_way_and_sends_only_changes() {
    // Too long for the ring, portrait, an SH1106, or asked for.
    let long = (
        PanelSize::W128xH64,
        Rotation::Deg0,
        Chip::Ssd1306,
        Controller::Ssd1306,
        300,
        false,
    );
    let portrait = (
        PanelSize::W128xH64,
        Rotation::Deg90,
        Chip::Ssd1306,
        Controller::Ssd1306,
        100,
        false,
    );
    let sh1106 = (
        PanelSize::W128xH64,
        Rotation::Deg0,
        Chip::Sh1106,
        Controller::Sh1106 { column_offset: 2 },
        128,
        false,
    );
    let asked = (
        PanelSize::W128xH64,
        Rotation::Deg0,
        Chip::Ssd1306,
        Controller::Ssd1306,
        128,
        true,
    );
    for (size, rotation, chip, controller, width, software) in [long, portrait, sh1106, asked] {
        let bus = emulator(size, rotation, chip);
        let bus = if chip == Chip::Sh1106 {
            SharedPanel::new(
                VirtualSsd1306::with_chip(size, 0x3C, chip)
                    .with_column_offset(2)
                    .with_mounting(Mounting::Rotate0),
            )
        } else {
            bus
        };
        let settings = PanelSettings {
            size,
            rotation,
            controller,
            ..PanelSettings::default()
        };
        let mut panel = Panel::new(bus.clone(), settings);
        let g = panel.geometry();
        let t = Ticker::new(
            Frame::new(g.width, g.height).unwrap(),
            strip(width.max(g.width), 2),
            0,
            25,
        )
        .unwrap();
        let run = panel.start_ticker(&t, software).unwrap();
        let what = format!("{rotation:?} {chip:?} {width}");
        assert_eq!(run.path, TickerPath::Software, "{what}");
        assert!(run.why_software.is_some(), "{what}");
        assert_eq!(run.speed, 25.0);
        for step in 1..40 {
            let before = bus.with(|p| p.stats().bytes);
            let cost = panel.present(&t.frame_at(step)).unwrap();
            assert_eq!(bus.with(|p| p.visible()), t.frame_at(step), "{what}");
            assert!(!cost.full_refresh, "{what}");
            assert_eq!(
                u64::from(cost.bytes),
                bus.with(|p| p.stats().bytes) - before
            );
            // Two pages of a 128-wide strip at most, and their commands.
            assert!(cost.bytes <= 2 * 128 + 24, "{what}: {cost:?}");
        }
    }
}

#[test]
fn a_bus_fault_while_scrolling_reinitialises_and_stops_the_scroll() {
    let bus = emulator(PanelSize::W128xH64, Rotation::Deg0, Chip::Ssd1306);
    let mut panel = Panel::new(bus.clone(), PanelSettings::default());
    let t = Ticker::new(Frame::new(128, 64).unwrap(), strip(128, 2), 3, 30).unwrap();
    panel.start_ticker(&t, false).unwrap();
    bus.with(|p| p.nack_next(1));
    let next = background(128, 64);
    assert!(panel.present(&next).is_err());
    panel.present(&next).unwrap();
    assert!(!bus.with(|p| p.state().scrolling));
    assert_eq!(bus.with(|p| p.visible()), next);
    assert_eq!(bus.with(|p| p.stats().data_while_scrolling), 0);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Random strips, glass sizes, mountings, speeds and waits: whichever path the driver
        /// takes, the glass shows what the software path would present after that many columns,
        /// the hardware path sends nothing while it moves, and no RAM is written while it scrolls.
        #[test]
        fn any_ticker_shows_what_the_software_path_would_128(
            size in 0usize..5,
            flip in any::<bool>(),
            width in 1u16..300,
            pages in 1u8..4,
            top in 0u8..8,
            speed in 1u16..=240,
            seed in any::<u64>(),
            waits in proptest::collection::vec(1u32..40, 1..6),
        ) {
            let size = PanelSize::ALL[size];
            let rotation = if flip { Rotation::Deg180 } else { Rotation::Deg0 };
            let bus = emulator(size, rotation, Chip::Ssd1306);
            let settings = PanelSettings { size, rotation, ..PanelSettings::default() };
            let mut panel = Panel::new(bus.clone(), settings);
            let g = panel.geometry();
            let pages = pages.min((g.height / 8) as u8);
            let top = top % ((g.height / 8) as u8 - pages + 1);
            let mut s = Strip::new(width.max(g.width), pages).unwrap();
            let mut x = seed;
            for col in 0..s.width() {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                s.set_pixel(col, (x >> 59) as u16 % (u16::from(pages) * 8), true);
            }
            let ticker = Ticker::new(background(g.width, g.height), s, top, speed).unwrap();
            let run = panel.start_ticker(&ticker, false).unwrap();
            prop_assert_eq!(run.path == TickerPath::Hardware, ticker.strip().width() <= 128);
            let mut columns = 0u32;
            let bytes = bus.with(|p| p.stats().bytes);
            for wait in waits {
                columns += wait;
                match run.interval_frames {
                    Some(frames) => bus.with(|p| p.advance_frames(wait * u32::from(frames))),
                    None => {
                        panel.present(&run.ticker.frame_at(columns)).unwrap();
                    }
                }
                prop_assert_eq!(bus.with(|p| p.visible()), run.ticker.frame_at(columns));
            }
            if run.path == TickerPath::Hardware {
                prop_assert_eq!(bus.with(|p| p.stats().bytes), bytes);
            }
            let next = background(g.width, g.height);
            panel.present(&next).unwrap();
            prop_assert_eq!(bus.with(|p| p.visible()), next);
            prop_assert_eq!(bus.with(|p| p.stats().data_while_scrolling), 0);
        }
    }
}
