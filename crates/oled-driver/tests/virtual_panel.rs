//! The update path over the virtual SSD1306: what the emulated glass shows, the transaction log, faults.
//! This is also how a benchmark drives the panel: `Panel<SharedPanel>`, no lattice involved.

use embedded_graphics::mono_font::ascii::FONT_6X10;
use embedded_graphics::mono_font::MonoTextStyle;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use embedded_graphics::text::{Baseline, Text};
use oled_driver::{Frame, Panel, PanelError, PanelSettings, PanelSize, Rotation};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use virtual_ssd1306::{Mounting, SharedPanel, VirtualSsd1306};

fn emulator(size: PanelSize, rotation: Rotation, address: u8) -> SharedPanel {
    let mut p = VirtualSsd1306::new(size, address)
        .with_mounting(Mounting::from_degrees(rotation.degrees()).unwrap());
    p.set_logging(true);
    SharedPanel::new(p)
}

fn text_frame(width: u16, height: u16, text: &str) -> Frame {
    let mut f = Frame::new(width, height).unwrap();
    Text::with_baseline(
        text,
        Point::new(2, 2),
        MonoTextStyle::new(&FONT_6X10, BinaryColor::On),
        Baseline::Top,
    )
    .draw(&mut f)
    .unwrap();
    f
}

fn scatter(width: u16, height: u16, seed: u32) -> Frame {
    let mut f = Frame::new(width, height).unwrap();
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    for _ in 0..60 {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let x = (s >> 8) as u16 % width;
        let y = (s >> 20) as u16 % height;
        f.set_pixel(x, y, true);
    }
    f
}

#[test]
fn the_glass_shows_the_logical_frame_in_every_rotation_and_size() {
    for size in PanelSize::ALL {
        for rotation in [
            Rotation::Deg0,
            Rotation::Deg90,
            Rotation::Deg180,
            Rotation::Deg270,
        ] {
            let shared = emulator(size, rotation, 0x3C);
            let settings = PanelSettings {
                size,
                rotation,
                ..PanelSettings::default()
            };
            let mut panel = Panel::new(shared.clone(), settings);
            let g = panel.geometry();
            let mut frame = text_frame(g.width, g.height, "Hi 42");
            // A mark in a corner, so a flip would show.
            frame.set_pixel(g.width - 1, g.height - 1, true);
            panel.present(&frame).unwrap();
            assert_eq!(
                shared.with(|p| p.visible()),
                frame,
                "{size:?} {rotation:?}:\n{}",
                shared.with(|p| p.ascii())
            );
            // A second, diffed update lands as well.
            let next = scatter(g.width, g.height, 7);
            panel.present(&next).unwrap();
            assert_eq!(shared.with(|p| p.visible()), next, "{size:?} {rotation:?}");
        }
    }
}

#[test]
fn a_one_character_change_sends_only_that_character_cell() {
    let shared = emulator(PanelSize::W128xH64, Rotation::Deg0, 0x3C);
    let mut panel = Panel::new(shared.clone(), PanelSettings::default());
    panel.present(&text_frame(128, 64, "12:34")).unwrap();
    shared.with(|p| {
        p.take_log();
        p.reset_stats();
    });

    let cost = panel.present(&text_frame(128, 64, "12:35")).unwrap();
    let log = shared.with(|p| p.take_log());
    let stats = shared.with(|p| p.stats());
    // One window over two pages, still in horizontal addressing: one command transaction with the
    // column and page ranges, then the data.
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(cost.windows, 1);
    let c = &log[0].bytes;
    assert_eq!((c[0], c[1], c[4]), (0x00, 0x21, 0x22), "{c:?}");
    // The fifth character cell is x 26..=31 (2 + 4 * 6); the glyph rows 2..=11 are pages 0 and 1.
    assert!(c[2] >= 26 && c[3] <= 31, "{c:?}");
    assert_eq!((c[5], c[6]), (0, 1));
    let columns = usize::from(c[3] - c[2] + 1);
    assert_eq!(log[1].bytes.len(), 1 + 2 * columns);
    assert_eq!(cost.bytes as usize, 8 + 2 + 2 * columns);
    assert_eq!(u64::from(cost.bytes), stats.bytes);
    assert_eq!(u64::from(cost.transactions), stats.transactions);
    assert_eq!(stats.display_off, 0);
    assert_eq!(shared.with(|p| p.visible()), text_frame(128, 64, "12:35"));
}

#[test]
fn init_once_no_display_off_during_updates_and_costs_match_the_bus() {
    let shared = emulator(PanelSize::W128xH64, Rotation::Deg0, 0x3C);
    let mut panel = Panel::new(shared.clone(), PanelSettings::default());
    let init = panel.init().unwrap();
    let after_init = shared.with(|p| p.stats());
    assert_eq!(u64::from(init.bytes), after_init.bytes);
    assert_eq!(u64::from(init.transactions), after_init.transactions);
    assert_eq!(after_init.display_off, 1);

    let mut total = u64::from(init.bytes);
    for i in 0..50 {
        let cost = panel.present(&scatter(128, 64, i)).unwrap();
        total += u64::from(cost.bytes);
        assert!(!cost.initialised);
        assert_eq!(cost.full_refresh, i == 0);
    }
    let same = panel.present(&scatter(128, 64, 49)).unwrap();
    assert_eq!((same.bytes, same.transactions), (0, 0));
    let s = shared.with(|p| p.stats());
    assert_eq!(
        s.display_off, 1,
        "only the init sequence switches the display off"
    );
    assert_eq!(s.bytes, total);
    assert_eq!(s.nacks, 0);
    assert_eq!(panel.stats().bytes, total);
    assert_eq!(panel.stats().inits, 1);
}

#[test]
fn full_frame_cost_on_the_emulated_bus() {
    let shared = emulator(PanelSize::W128xH64, Rotation::Deg0, 0x3C);
    let mut panel = Panel::new(shared.clone(), PanelSettings::default());
    let init = panel.init().unwrap();
    let full = panel.present(&scatter(128, 64, 1)).unwrap();
    // Init 17 transactions / 60 bytes; the full frame 2 / 1036 (addressing mode and window in one
    // command transaction, then the data).
    assert_eq!((init.transactions, init.bytes), (17, 60));
    assert_eq!((full.transactions, full.bytes), (2, 1036));
    let stats = shared.with(|p| p.stats());
    assert_eq!(stats.bytes, 60 + 1036);
    assert_eq!(stats.data_bytes, 1024);
}

/// The emulator behind a fuse: after `budget` more transactions the panel is unplugged.
#[derive(Clone)]
struct Fused {
    panel: SharedPanel,
    budget: Arc<AtomicI64>,
}

impl embedded_hal::i2c::ErrorType for Fused {
    type Error = virtual_ssd1306::BusError;
}

impl embedded_hal::i2c::I2c for Fused {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [embedded_hal::i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        if self.budget.fetch_sub(1, Ordering::SeqCst) <= 0 {
            self.panel.with(|p| p.set_present(false));
        }
        self.panel.transaction(address, operations)
    }
}

#[test]
fn a_nack_mid_update_recovers_with_a_full_resend() {
    let shared = emulator(PanelSize::W128xH64, Rotation::Deg0, 0x3C);
    let fused = Fused {
        panel: shared.clone(),
        budget: Arc::new(AtomicI64::new(i64::MAX)),
    };
    let mut panel = Panel::new(fused.clone(), PanelSettings::default());
    let a = text_frame(128, 64, "abc");
    let mut b = text_frame(128, 64, "xbc");
    b.set_pixel(120, 60, true);
    panel.present(&a).unwrap();
    let plan = oled_driver::plan::plan(&a, &b, oled_driver::plan::Cursor::unknown());
    assert!(plan.len() > 1, "the update must take several blocks");

    // The first window goes through, then the panel is gone.
    fused.budget.store(3, Ordering::SeqCst);
    let err = panel.present(&b).unwrap_err();
    // Nothing acknowledges the address any more: the panel is absent until it answers again.
    assert!(matches!(err, PanelError::Absent(_)), "{err:?}");
    assert!(panel.shown().is_none() && !panel.is_initialised());
    let half = shared.with(|p| p.visible());
    assert!(half != a && half != b, "the panel shows a half-drawn frame");

    // Plugged back: re-initialise once and send everything.
    shared.with(|p| p.set_present(true));
    fused.budget.store(i64::MAX, Ordering::SeqCst);
    shared.with(|p| p.reset_stats());
    let cost = panel.present(&b).unwrap();
    assert!(cost.initialised && cost.full_refresh);
    assert_eq!(cost.bytes, 60 + 1036);
    assert_eq!(shared.with(|p| p.stats()).bytes, 60 + 1036);
    assert_eq!(shared.with(|p| p.visible()), b);
    // Absent is not a bus error; the fault is still the last one reported.
    assert_eq!(panel.stats().errors, 0);
    assert!(panel.stats().last_error.is_some());
}

#[test]
fn an_injected_address_nack_is_absent_and_recovers() {
    let shared = emulator(PanelSize::W128xH64, Rotation::Deg0, 0x3C);
    let mut panel = Panel::new(shared.clone(), PanelSettings::default());
    let a = text_frame(128, 64, "a");
    let b = text_frame(128, 64, "b");
    panel.present(&a).unwrap();
    // A bus that drops the first transaction of the update: the column address.
    shared.with(|p| p.nack_next(1));
    let err = panel.present(&b).unwrap_err();
    match err {
        PanelError::Absent(msg) => assert!(msg.contains("0x3c"), "{msg}"),
        other => panic!("{other:?}"),
    }
    let cost = panel.present(&b).unwrap();
    assert!(cost.full_refresh && cost.initialised);
    assert_eq!(shared.with(|p| p.visible()), b);
    assert_eq!(shared.with(|p| p.stats()).display_off, 2);
}

#[test]
fn a_power_cycled_panel_is_redrawn_after_the_fault_it_causes() {
    let shared = emulator(PanelSize::W128xH64, Rotation::Deg0, 0x3C);
    let mut panel = Panel::new(shared.clone(), PanelSettings::default());
    let a = text_frame(128, 64, "before");
    panel.present(&a).unwrap();
    shared.with(|p| {
        p.set_present(false);
        p.power_cycle();
    });
    assert!(panel.present(&text_frame(128, 64, "during")).is_err());
    shared.with(|p| p.set_present(true));
    let after = text_frame(128, 64, "after");
    panel.present(&after).unwrap();
    assert_eq!(shared.with(|p| p.visible()), after);
}

#[test]
fn wrong_address_is_absent_naming_it() {
    let shared = emulator(PanelSize::W128xH64, Rotation::Deg0, 0x3D);
    let mut panel = Panel::new(shared.clone(), PanelSettings::default());
    match panel.init() {
        Err(PanelError::Absent(msg)) => assert!(msg.contains("0x3c"), "{msg}"),
        other => panic!("{other:?}"),
    }
    let mut right = Panel::new(
        shared.clone(),
        PanelSettings {
            address: 0x3D,
            ..PanelSettings::default()
        },
    );
    right.present(&text_frame(128, 64, "3D")).unwrap();
    assert_eq!(shared.with(|p| p.visible()), text_frame(128, 64, "3D"));
}

#[test]
fn invert_power_and_contrast_reach_the_controller() {
    let shared = emulator(PanelSize::W128xH64, Rotation::Deg0, 0x3C);
    let mut panel = Panel::new(shared.clone(), PanelSettings::default());
    panel.present(&text_frame(128, 64, "x")).unwrap();
    panel.set_invert(true).unwrap();
    panel.set_contrast(0x10).unwrap();
    let s = shared.with(|p| p.state());
    assert!(s.inverted);
    assert_eq!(s.contrast, 0x10);
    let mut inverted = text_frame(128, 64, "x");
    inverted.invert();
    assert_eq!(shared.with(|p| p.visible()), inverted);
    panel.set_power(false).unwrap();
    assert_eq!(shared.with(|p| p.visible()).lit_pixels(), 0);
    panel.set_power(true).unwrap();
    assert_eq!(shared.with(|p| p.visible()), inverted);
}
