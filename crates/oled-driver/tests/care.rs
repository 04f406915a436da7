//! Night mode and burn-in care on the emulated panel, driven by a fake clock: what the glass shows
//! at each moment and the exact bytes each change costs on the bus (a few command bytes, never a
//! redraw).

use std::time::Duration;

use embedded_graphics::mono_font::ascii::FONT_6X10;
use embedded_graphics::mono_font::MonoTextStyle;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use embedded_graphics::text::{Baseline, Text};
use oled_driver::care::{CarePolicy, Level, Moment, QuietHours};
use oled_driver::{Frame, Panel, PanelSettings};
use virtual_ssd1306::{PanelSize, SharedPanel, VirtualSsd1306};

fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

/// Text a few rows below the top: room for the pixel shift.
fn picture(text: &str, top: i32) -> Frame {
    let mut f = Frame::new(128, 64).unwrap();
    Text::with_baseline(
        text,
        Point::new(4, top),
        MonoTextStyle::new(&FONT_6X10, BinaryColor::On),
        Baseline::Top,
    )
    .draw(&mut f)
    .unwrap();
    f
}

/// `f` moved by `dy` rows (content leaving one edge is dropped).
fn moved(f: &Frame, dy: i32) -> Frame {
    let mut out = Frame::new(f.width(), f.height()).unwrap();
    for y in 0..f.height() as i32 {
        for x in 0..f.width() {
            let from = y - dy;
            if (0..f.height() as i32).contains(&from) && f.pixel(x, from as u16) {
                out.set_pixel(x, y as u16, true);
            }
        }
    }
    out
}

struct Rig {
    bus: SharedPanel,
    panel: Panel<SharedPanel>,
    policy: CarePolicy,
}

impl Rig {
    fn new(policy: CarePolicy) -> Self {
        let bus = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
        let panel = Panel::new(bus.clone(), PanelSettings::default());
        Self { bus, panel, policy }
    }

    /// Applies the policy at `now`; the bytes it put on the bus.
    fn at(&mut self, now: Moment) -> u64 {
        let state = self.policy.state(&now, self.panel.free_rows());
        let before = self.bus.with(|p| p.stats()).bytes;
        let cost = self.panel.apply_care(&self.policy, &state).unwrap();
        let after = self.bus.with(|p| p.stats()).bytes;
        assert_eq!(
            u64::from(cost.bytes),
            after - before,
            "reported cost is the bus"
        );
        after - before
    }
}

#[test]
fn dim_off_and_wake_on_the_next_update_cost_a_few_command_bytes() {
    let mut rig = Rig::new(CarePolicy {
        dim_after: Some(minutes(5)),
        dim_contrast: 1,
        off_after: Some(minutes(20)),
        ..CarePolicy::default()
    });
    let hello = picture("Hello", 20);
    rig.panel.present(&hello).unwrap();
    let idle = |m| Moment {
        idle: minutes(m),
        ..Moment::default()
    };

    assert_eq!(rig.at(idle(1)), 0, "awake: nothing to send");
    // Dimmed: address, control byte, 0x81, level.
    assert_eq!(rig.at(idle(5)), 4);
    assert_eq!(rig.bus.with(|p| p.state().contrast), 1);
    assert_eq!(
        rig.bus.with(|p| p.visible()),
        hello,
        "dimmed, the picture stays"
    );
    assert_eq!(rig.at(idle(6)), 0, "nothing more while it stays dimmed");
    // Off: address, control byte, 0xAE.
    assert_eq!(rig.at(idle(20)), 3);
    assert!(!rig.bus.with(|p| p.state().display_on));
    assert_eq!(rig.bus.with(|p| p.visible().lit_pixels()), 0);
    // The next update lands while off, then wakes it: contrast back and 0xAF in one transaction.
    let news = picture("News", 20);
    rig.panel.present(&news).unwrap();
    assert_eq!(rig.at(idle(0)), 5);
    let s = rig.bus.with(|p| p.state());
    assert!(s.display_on && s.contrast == rig.panel.contrast());
    assert_eq!(rig.bus.with(|p| p.visible()), news);
    assert_eq!(
        rig.bus.with(|p| p.stats()).display_off,
        2,
        "the init's and night mode's only"
    );
}

#[test]
fn quiet_hours_use_their_own_contrast_by_local_time() {
    let mut rig = Rig::new(CarePolicy {
        quiet: Some(QuietHours::parse("22:00-07:00", 3).unwrap()),
        ..CarePolicy::default()
    });
    rig.panel.present(&picture("Night", 20)).unwrap();
    let at = |h: u16| Moment {
        local_minute: Some(h * 60),
        ..Moment::default()
    };
    assert_eq!(rig.at(at(21)), 0);
    assert_eq!(rig.at(at(22)), 4);
    assert_eq!(rig.bus.with(|p| p.state().contrast), 3);
    assert_eq!(rig.at(at(3)), 0);
    assert_eq!(rig.at(at(7)), 4);
    assert_eq!(rig.bus.with(|p| p.state().contrast), rig.panel.contrast());
}

#[test]
fn the_pixel_shift_moves_the_picture_by_rows_and_keeps_it_on_the_glass() {
    let mut rig = Rig::new(CarePolicy {
        shift_every: Some(minutes(10)),
        ..CarePolicy::default()
    });
    let text = picture("Burn-in", 20);
    rig.panel.present(&text).unwrap();
    let running = |m| Moment {
        running: minutes(m),
        ..Moment::default()
    };
    assert_eq!(rig.at(running(0)), 0);
    for (m, rows) in [(10, 1), (20, 2), (30, 1), (40, 0)] {
        // Address, control byte, 0xD3, offset.
        assert_eq!(rig.at(running(m)), 4, "minute {m}");
        let shown = rig.bus.with(|p| p.visible());
        assert_eq!(
            shown.lit_pixels(),
            text.lit_pixels(),
            "nothing left the glass"
        );
        assert!(
            shown == moved(&text, rows) || shown == moved(&text, -rows),
            "minute {m}: moved by {rows} rows\n{}",
            shown.to_ascii()
        );
    }
    // A picture that touches the top row: the shift stays at 0 (it would wrap that row around).
    let mut full = picture("Top", 2);
    full.set_pixel(0, 0, true);
    rig.panel.present(&full).unwrap();
    assert_eq!(rig.panel.free_rows(), 0);
    assert_eq!(rig.at(running(20)), 0);
    assert_eq!(rig.bus.with(|p| p.visible()), full);
}

#[test]
fn an_initialisation_puts_the_own_settings_back_and_care_applies_again() {
    let mut rig = Rig::new(CarePolicy {
        dim_after: Some(minutes(1)),
        dim_contrast: 1,
        ..CarePolicy::default()
    });
    rig.panel.present(&picture("x", 20)).unwrap();
    let idle = Moment {
        idle: minutes(2),
        ..Moment::default()
    };
    assert_eq!(rig.at(idle), 4);
    rig.panel.init().unwrap();
    assert_eq!(rig.bus.with(|p| p.state().contrast), rig.panel.contrast());
    rig.panel.present(&picture("x", 20)).unwrap();
    assert_eq!(rig.at(idle), 4, "dimmed again after the re-initialisation");
    assert_eq!(rig.policy.state(&idle, 0).level, Level::Dimmed);
}
