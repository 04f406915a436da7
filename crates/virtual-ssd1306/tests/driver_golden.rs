//! The emulator driven by the real `ssd1306` 0.10 driver, exactly as the provider drives hardware.
//!
//! The correctness check is `visible() == the same drawing in an oled_frame::Frame` for every rotation and
//! size: the emulator must show upright whatever the driver drew. The golden PNGs in `tests/golden/` are
//! for people and for catching rendering regressions; `UPDATE_GOLDEN=1` rewrites them.

use display_interface::DisplayError;
use embedded_graphics::{
    mono_font::{ascii::FONT_6X10, MonoTextStyle},
    pixelcolor::BinaryColor,
    prelude::*,
    primitives::{Circle, PrimitiveStyle, Rectangle, Triangle},
    text::{Baseline, Text},
};
use embedded_hal::i2c::I2c;
use oled_frame::Frame;
use ssd1306::{mode::DisplayConfig, prelude::*, I2CDisplayInterface, Ssd1306};
use std::path::PathBuf;
use virtual_ssd1306::{BusStats, Mounting, PanelSize, SharedPanel, VirtualSsd1306, DEFAULT_SCALE};

/// Bytes the driver's `init()` puts on the bus: 17 one-command transactions (address + control byte +
/// 1 or 2 command bytes), 26 command bytes in all.
const INIT: BusStats = BusStats {
    transactions: 17,
    bytes: 17 * 2 + 26,
    data_bytes: 0,
    command_bytes: 26,
    display_off: 1,
    nacks: 0,
    data_while_scrolling: 0,
};

/// A full flush: a column-window and a page-window transaction (address, control, 3 command bytes each),
/// then the data in 16-byte transactions (address, control, 16 data bytes), page by page.
fn full_flush(pages: u64) -> BusStats {
    let data_transactions = pages * 128 / 16;
    BusStats {
        transactions: 2 + data_transactions,
        bytes: 2 * 5 + data_transactions * 18,
        data_bytes: pages * 128,
        command_bytes: 6,
        display_off: 0,
        nacks: 0,
        data_while_scrolling: 0,
    }
}

fn on() -> PrimitiveStyle<BinaryColor> {
    PrimitiveStyle::with_stroke(BinaryColor::On, 1)
}

/// A picture that shows orientation at a glance: a border, text in the top-left corner, an arrow pointing
/// up, a circle bottom-right and a checkerboard bottom, left of centre.
fn scene<D: DrawTarget<Color = BinaryColor>>(d: &mut D, label: &str) -> Result<(), D::Error> {
    let size = d.bounding_box().size;
    let (w, h) = (size.width as i32, size.height as i32);
    Rectangle::new(Point::zero(), size)
        .into_styled(on())
        .draw(d)?;
    let text = MonoTextStyle::new(&FONT_6X10, BinaryColor::On);
    Text::with_baseline(label, Point::new(3, 3), text, Baseline::Top).draw(d)?;
    Text::with_baseline("TOP", Point::new(3, 14), text, Baseline::Top).draw(d)?;
    // Arrow pointing up, right of centre.
    let ax = w / 2 + 8;
    Triangle::new(
        Point::new(ax, 4),
        Point::new(ax - 6, 14),
        Point::new(ax + 6, 14),
    )
    .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
    .draw(d)?;
    Rectangle::new(Point::new(ax - 1, 14), Size::new(3, 10))
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
        .draw(d)?;
    Circle::new(Point::new(w - 22, h - 22), 18)
        .into_styled(on())
        .draw(d)?;
    for y in 0..8 {
        for x in 0..12 {
            if (x + y) % 2 == 0 {
                Pixel(Point::new(w / 2 - 24 + x, h - 12 + y), BinaryColor::On).draw(d)?;
            }
        }
    }
    Ok(())
}

/// A small change for the partial-flush test: a filled block inside the border.
fn change<D: DrawTarget<Color = BinaryColor>>(d: &mut D) -> Result<(), D::Error> {
    Rectangle::new(Point::new(30, 20), Size::new(6, 5))
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
        .draw(d)
}

/// The same drawing in a plain frame: what a person must see.
fn reference(width: u32, height: u32, label: &str, changed: bool) -> Frame {
    let mut f = Frame::new(width as u16, height as u16).unwrap();
    scene(&mut f, label).unwrap();
    if changed {
        change(&mut f).unwrap();
    }
    f
}

/// Fills GDDRAM with noise over the bus (page addressing, the reset default), as a module powers up with
/// garbage: the driver's first flush must overwrite every visible byte.
fn power_on_noise(bus: &mut SharedPanel, address: u8) {
    let mut x: u32 = 0x1234_5678;
    for page in 0..8u8 {
        bus.write(address, &[0x00, 0xB0 | page, 0x00, 0x10])
            .unwrap();
        let mut t = vec![0x40];
        for _ in 0..128 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            t.push(x as u8);
        }
        bus.write(address, &t).unwrap();
    }
    bus.with(|p| p.reset_stats());
}

fn rotation(m: Mounting) -> DisplayRotation {
    match m {
        Mounting::Rotate0 => DisplayRotation::Rotate0,
        Mounting::Rotate90 => DisplayRotation::Rotate90,
        Mounting::Rotate180 => DisplayRotation::Rotate180,
        Mounting::Rotate270 => DisplayRotation::Rotate270,
    }
}

/// Everything one run observed.
struct Run {
    panel: SharedPanel,
    init: BusStats,
    first_flush: BusStats,
    dims: (u32, u32),
    /// Stats of the flush after a small change, when asked for.
    second_flush: Option<BusStats>,
}

fn drive<SIZE: DisplaySize>(
    display_size: SIZE,
    size: PanelSize,
    mounting: Mounting,
    address: u8,
    label: &str,
    partial: bool,
) -> Run {
    let panel = SharedPanel::new(VirtualSsd1306::new(size, address).with_mounting(mounting));
    let mut bus = panel.clone();
    power_on_noise(&mut bus, address);
    let interface = I2CDisplayInterface::new_custom_address(bus, address);
    let mut display =
        Ssd1306::new(interface, display_size, rotation(mounting)).into_buffered_graphics_mode();
    display.init().unwrap();
    let init = panel.with(|p| {
        let s = p.stats();
        p.reset_stats();
        s
    });
    let (w, h) = display.dimensions();
    scene(&mut display, label).unwrap();
    display.flush().unwrap();
    let first_flush = panel.with(|p| {
        let s = p.stats();
        p.reset_stats();
        s
    });
    let second_flush = partial.then(|| {
        change(&mut display).unwrap();
        display.flush().unwrap();
        panel.with(|p| p.stats())
    });
    Run {
        panel,
        init,
        first_flush,
        dims: (u32::from(w), u32::from(h)),
        second_flush,
    }
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    // Palette expanded to RGB: the comparison is of colours, whatever the encoding.
    let mut dec = png::Decoder::new(bytes);
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Compares the panel's PNG with `tests/golden/<name>.png` pixel by pixel, or writes it with
/// `UPDATE_GOLDEN=1`. A mismatch leaves the actual image next to the test binary's temp dir for a look.
fn golden(panel: &SharedPanel, name: &str) {
    let path = golden_dir().join(format!("{name}.png"));
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(golden_dir()).unwrap();
        panel.with(|p| p.write_png(&path, DEFAULT_SCALE)).unwrap();
        return;
    }
    let actual = panel.with(|p| p.png(DEFAULT_SCALE));
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if decode(&actual) != decode(&expected) {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.actual.png"));
        std::fs::write(&out, &actual).unwrap();
        panic!(
            "{name}: the panel differs from {}; actual image at {}",
            path.display(),
            out.display()
        );
    }
}

fn assert_shows(run: &Run, label: &str, changed: bool) {
    let expected = reference(run.dims.0, run.dims.1, label, changed);
    let visible = run.panel.with(|p| p.visible());
    assert_eq!(
        visible,
        expected,
        "what a person sees differs from the drawing:\n{}\nexpected:\n{}",
        visible.to_ascii(),
        expected.to_ascii()
    );
    assert_eq!(run.panel.with(|p| p.ascii()), expected.to_ascii());
}

const MOUNTINGS: [Mounting; 4] = [
    Mounting::Rotate0,
    Mounting::Rotate90,
    Mounting::Rotate180,
    Mounting::Rotate270,
];

#[test]
fn w128x64_all_rotations_are_upright() {
    for m in MOUNTINGS {
        let label = format!("R{}", m.degrees());
        let run = drive(
            DisplaySize128x64,
            PanelSize::W128xH64,
            m,
            0x3C,
            &label,
            false,
        );
        assert_shows(&run, &label, false);
        assert_eq!(run.init, INIT, "{m:?}");
        assert_eq!(run.first_flush, full_flush(8), "{m:?}");
        let state = run.panel.with(|p| p.state());
        assert!(state.display_on && state.charge_pump && !state.inverted);
        assert_eq!(state.unknown_commands, 0);
        assert_eq!(state.mux, 64);
        golden(&run.panel, &format!("128x64_rot{}", m.degrees()));
    }
}

#[test]
fn w128x32_all_rotations_are_upright() {
    for m in MOUNTINGS {
        let label = format!("R{}", m.degrees());
        let run = drive(
            DisplaySize128x32,
            PanelSize::W128xH32,
            m,
            0x3C,
            &label,
            false,
        );
        assert_shows(&run, &label, false);
        assert_eq!(run.init, INIT, "{m:?}");
        assert_eq!(run.first_flush, full_flush(4), "{m:?}");
        let state = run.panel.with(|p| p.state());
        assert_eq!(state.mux, 32);
        assert!(!state.com_alternative);
        if m == Mounting::Rotate0 {
            golden(&run.panel, "128x32_rot0");
        }
    }
}

/// The small glasses (96x16, 72x40 at RAM columns 28-99, 64x48 at 32-95) driven by the `ssd1306`
/// crate in every rotation: the emulator shows what was drawn, with the crate's own multiplex, COM
/// wiring and column offsets, and no command it does not know (the 72x40's internal IREF included).
#[test]
fn small_glasses_all_rotations_are_upright() {
    fn check<SIZE: DisplaySize + Copy>(display_size: SIZE, size: PanelSize) {
        for m in MOUNTINGS {
            let label = format!("R{}", m.degrees());
            let run = drive(display_size, size, m, 0x3C, &label, true);
            assert_shows(&run, &label, true);
            let state = run.panel.with(|p| p.state());
            assert_eq!(state.unknown_commands, 0, "{size:?} {m:?}");
            assert_eq!(state.mux, size.height() as u8, "{size:?} {m:?}");
            assert_eq!(
                state.com_alternative,
                size.com_alternative(),
                "{size:?} {m:?}"
            );
            if m == Mounting::Rotate0 {
                golden(&run.panel, &format!("{}_rot0", size.name()));
            }
        }
    }
    check(DisplaySize96x16, PanelSize::W96xH16);
    check(DisplaySize72x40, PanelSize::W72xH40);
    check(DisplaySize64x48, PanelSize::W64xH48);
}

#[test]
fn alternate_address_0x3d() {
    let run = drive(
        DisplaySize128x64,
        PanelSize::W128xH64,
        Mounting::Rotate0,
        0x3D,
        "0x3D",
        false,
    );
    assert_shows(&run, "0x3D", false);
    assert_eq!(run.panel.with(|p| p.address()), 0x3D);
    golden(&run.panel, "128x64_addr3d");
}

#[test]
fn driver_at_the_wrong_address_fails_cleanly() {
    let panel = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3D));
    let interface = I2CDisplayInterface::new(panel.clone()); // 0x3C
    let mut display = Ssd1306::new(interface, DisplaySize128x64, DisplayRotation::Rotate0)
        .into_buffered_graphics_mode();
    assert!(matches!(display.init(), Err(DisplayError::BusWriteError)));
    let stats = panel.with(|p| p.stats());
    assert_eq!((stats.transactions, stats.nacks, stats.bytes), (1, 1, 1));
    assert!(!panel.with(|p| p.state().display_on));
}

#[test]
fn partial_flush_sends_less_and_shows_the_change() {
    for m in MOUNTINGS {
        let label = format!("R{}", m.degrees());
        let run = drive(
            DisplaySize128x64,
            PanelSize::W128xH64,
            m,
            0x3C,
            &label,
            true,
        );
        assert_shows(&run, &label, true);
        let second = run.second_flush.unwrap();
        assert!(
            second.bytes < run.first_flush.bytes / 10,
            "{m:?}: {second:?} vs {:?}",
            run.first_flush
        );
        assert!(second.data_bytes > 0);
        if m == Mounting::Rotate0 {
            // 6 columns over pages 2..=3 (rows 20..=24): two 5-byte window transactions, then one data
            // transaction of 6 bytes per page.
            assert_eq!(
                second,
                BusStats {
                    transactions: 4,
                    bytes: 2 * 5 + 2 * (2 + 6),
                    data_bytes: 12,
                    command_bytes: 6,
                    display_off: 0,
                    nacks: 0,
                    data_while_scrolling: 0,
                }
            );
            golden(&run.panel, "128x64_rot0_partial");
        }
    }
}

#[test]
fn display_states_through_the_driver() {
    let run = drive(
        DisplaySize128x64,
        PanelSize::W128xH64,
        Mounting::Rotate0,
        0x3C,
        "inv",
        false,
    );
    let bus = run.panel.clone();
    let interface = I2CDisplayInterface::new(bus);
    // A second driver instance over the same panel only to send commands; BasicMode keeps GDDRAM.
    let mut d = Ssd1306::new(interface, DisplaySize128x64, DisplayRotation::Rotate0);
    let lit = reference(128, 64, "inv", false).lit_pixels();
    d.set_invert(true).unwrap();
    assert_eq!(run.panel.with(|p| p.visible().lit_pixels()), 128 * 64 - lit);
    golden(&run.panel, "128x64_inverted");
    d.set_invert(false).unwrap();
    d.set_display_on(false).unwrap();
    assert_eq!(run.panel.with(|p| p.visible().lit_pixels()), 0);
    d.set_display_on(true).unwrap();
    assert_eq!(run.panel.with(|p| p.visible().lit_pixels()), lit);
    d.set_brightness(Brightness::DIMMEST).unwrap();
    assert_eq!(run.panel.with(|p| p.state().contrast), 0);
    let stats = run.panel.with(|p| p.stats());
    assert_eq!(stats.display_off, 1);
}

/// Pins down what the driver sends, transaction by transaction: a driver upgrade that changes it shows up
/// here before it shows up as a wrong picture.
#[test]
fn init_and_flush_transactions_per_rotation_and_size() {
    fn run<SIZE: DisplaySize>(display_size: SIZE, size: PanelSize, m: Mounting) -> Vec<Vec<u8>> {
        let panel = SharedPanel::new(VirtualSsd1306::new(size, 0x3C));
        panel.with(|p| p.set_logging(true));
        let interface = I2CDisplayInterface::new(panel.clone());
        let mut display =
            Ssd1306::new(interface, display_size, rotation(m)).into_buffered_graphics_mode();
        display.init().unwrap();
        display.flush().unwrap();
        panel
            .with(|p| p.take_log())
            .into_iter()
            .map(|t| t.bytes)
            .collect()
    }
    for (size, com, mux, last_page) in [
        (PanelSize::W128xH64, 0x12, 0x3F, 7u8),
        (PanelSize::W128xH32, 0x02, 0x1F, 3),
    ] {
        for m in MOUNTINGS {
            let (seg, scan) = match m {
                Mounting::Rotate0 => (0xA1, 0xC8),
                Mounting::Rotate90 => (0xA0, 0xC8),
                Mounting::Rotate180 => (0xA0, 0xC0),
                Mounting::Rotate270 => (0xA1, 0xC0),
            };
            let init: Vec<Vec<u8>> = [
                &[0xAE][..],
                &[0xD5, 0x80],
                &[0xA8, mux],
                &[0xD3, 0x00],
                &[0x40],
                &[0x8D, 0x14],
                &[0x20, 0x00],
                &[0xDA, com],
                &[seg],
                &[scan],
                &[0xD9, 0x21],
                &[0x81, 0x5F],
                &[0xDB, 0x40],
                &[0xA4],
                &[0xA6],
                &[0x2E],
                &[0xAF],
            ]
            .iter()
            .map(|c| [&[0x00][..], c].concat())
            .collect();
            let log = match size {
                PanelSize::W128xH64 => run(DisplaySize128x64, size, m),
                PanelSize::W128xH32 => run(DisplaySize128x32, size, m),
                other => panic!("{other:?} is not in this table"),
            };
            assert_eq!(log[..17], init[..], "{size:?} {m:?}");
            assert_eq!(log[17], vec![0x00, 0x21, 0, 127], "{size:?} {m:?}");
            assert_eq!(log[18], vec![0x00, 0x22, 0, last_page], "{size:?} {m:?}");
            let data = &log[19..];
            assert_eq!(data.len(), (usize::from(last_page) + 1) * 8);
            assert!(data.iter().all(|t| t.len() == 17 && t[0] == 0x40));
        }
    }
}
