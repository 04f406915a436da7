//! Exact I2C transactions of the update path, against embedded-hal-mock's eh1 I2C mock: every byte the
//! provider puts on the bus is listed here.

use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::i2c::{Mock, Transaction as T};
use oled_driver::{Frame, Panel, PanelError, PanelSettings, PanelSize, PresentCost, Rotation};

const ADDR: u8 = 0x3C;

fn cmd_at(addr: u8, bytes: &[u8]) -> T {
    let mut v = vec![0x00];
    v.extend_from_slice(bytes);
    T::write(addr, v)
}

fn cmd(bytes: &[u8]) -> T {
    cmd_at(ADDR, bytes)
}

fn data_at(addr: u8, bytes: &[u8]) -> T {
    let mut v = vec![0x40];
    v.extend_from_slice(bytes);
    T::write(addr, v)
}

fn data(bytes: &[u8]) -> T {
    data_at(ADDR, bytes)
}

fn init_sequence(size: PanelSize, rotation: Rotation) -> Vec<T> {
    init_sequence_at(ADDR, size, rotation)
}

/// The `ssd1306` crate's init sequence in horizontal addressing, one transaction per command.
fn init_sequence_at(addr: u8, size: PanelSize, rotation: Rotation) -> Vec<T> {
    let cmd = |b: &[u8]| cmd_at(addr, b);
    let (mux, compins) = match size {
        PanelSize::W128xH64 => (0x3F, 0x12),
        PanelSize::W128xH32 => (0x1F, 0x02),
        PanelSize::W96xH16 => (0x0F, 0x02),
        PanelSize::W72xH40 => (0x27, 0x12),
        PanelSize::W64xH48 => (0x2F, 0x12),
    };
    let (remap, comscan) = match rotation {
        Rotation::Deg0 => (0xA1, 0xC8),
        Rotation::Deg90 => (0xA0, 0xC8),
        Rotation::Deg180 => (0xA0, 0xC0),
        Rotation::Deg270 => (0xA1, 0xC0),
    };
    let mut v = vec![
        cmd(&[0xAE]),       // display off (init only)
        cmd(&[0xD5, 0x80]), // clock
        cmd(&[0xA8, mux]),  // multiplex
        cmd(&[0xD3, 0x00]), // offset
        cmd(&[0x40]),       // start line
        cmd(&[0x8D, 0x14]), // charge pump
        cmd(&[0x20, 0x00]), // horizontal addressing
        cmd(&[0xDA, compins]),
    ];
    if size == PanelSize::W72xH40 {
        v.push(cmd(&[0xAD, 0x30])); // internal IREF, which the 0.42" glass needs
    }
    v.extend([
        cmd(&[remap]),
        cmd(&[comscan]),
        cmd(&[0xD9, 0x21]), // pre-charge
        cmd(&[0x81, 0x5F]), // contrast
        cmd(&[0xDB, 0x40]), // vcomh
        cmd(&[0xA4]),       // resume from RAM
        cmd(&[0xA6]),       // not inverted
        cmd(&[0x2E]),       // scroll off
        cmd(&[0xAF]),       // display on
    ]);
    v
}

/// The whole frame with nothing known of the pointer: horizontal addressing, the window, the data.
fn full(last_page: u8, bytes: &[u8]) -> Vec<T> {
    vec![
        cmd(&[0x20, 0x00, 0x21, 0, 127, 0x22, 0, last_page]),
        data(bytes),
    ]
}

/// A run along one page after a horizontal write: page addressing, the page, both column nibbles
/// (five commands: a transaction of their own), then the data.
fn first_run(page: u8, col: u8, bytes: &[u8]) -> Vec<T> {
    vec![
        cmd(&[0x20, 0x02, 0xB0 | page, col & 0x0F, 0x10 | (col >> 4)]),
        data(bytes),
    ]
}

/// Up to two commands each behind a Co=1 control byte, then the data, in one transaction.
fn co(cmds: &[u8], bytes: &[u8]) -> T {
    let mut v = Vec::new();
    for c in cmds {
        v.extend_from_slice(&[0x80, *c]);
    }
    v.push(0x40);
    v.extend_from_slice(bytes);
    T::write(ADDR, v)
}

fn settings(size: PanelSize, rotation: Rotation) -> PanelSettings {
    PanelSettings {
        size,
        rotation,
        ..PanelSettings::default()
    }
}

/// A 5x7 glyph in one page: what a one-character change of a small font looks like on the bus.
const GLYPH_A: [u8; 5] = [0x7E, 0x11, 0x11, 0x11, 0x7E];
const GLYPH_B: [u8; 5] = [0x7F, 0x49, 0x49, 0x49, 0x36];

fn with_glyph(base: &Frame, x: u16, page: u16, glyph: &[u8; 5]) -> Frame {
    let mut bytes = base.as_bytes().to_vec();
    let w = usize::from(base.width());
    for (i, g) in glyph.iter().enumerate() {
        bytes[usize::from(page) * w + usize::from(x) + i] = *g;
    }
    Frame::from_bytes(base.width(), base.height(), bytes).unwrap()
}

#[test]
fn init_once_then_full_frame_then_only_changed_runs_then_nothing() {
    let dark = Frame::new(128, 64).unwrap();
    let text = with_glyph(&with_glyph(&dark, 10, 0, &GLYPH_A), 16, 0, &GLYPH_A);
    let changed = with_glyph(&text, 16, 0, &GLYPH_B);

    let mut expected = init_sequence(PanelSize::W128xH64, Rotation::Deg0);
    expected.extend(full(7, text.as_bytes()));
    // One character changed: only its columns, along one page.
    expected.extend(first_run(0, 16, &GLYPH_B));
    let mut mock = Mock::new(&expected);

    let mut panel = Panel::new(mock.clone(), PanelSettings::default());
    let init = panel.init().unwrap();
    assert_eq!(init.transactions, 17);
    assert_eq!(init.bytes, 17 * 2 + 26);

    let full = panel.present(&text).unwrap();
    assert_eq!(
        full,
        PresentCost {
            bytes: (10 + 2 + 1024) as u32,
            transactions: 2,
            pages_touched: 8,
            windows: 1,
            full_refresh: true,
            initialised: false,
        }
    );

    let one = panel.present(&changed).unwrap();
    assert_eq!(one.bytes, 7 + 2 + 5);
    assert_eq!(
        (one.transactions, one.pages_touched, one.windows),
        (2, 1, 1)
    );
    assert!(!one.full_refresh);

    // The same frame again: nothing on the bus.
    let same = panel.present(&changed.clone()).unwrap();
    assert_eq!(same, PresentCost::default());

    let stats = panel.stats();
    assert_eq!(
        (
            stats.inits,
            stats.updates,
            stats.unchanged,
            stats.full_refreshes
        ),
        (1, 3, 1, 1)
    );
    assert_eq!(stats.errors, 0);
    mock.done();
}

#[test]
fn the_first_present_initialises_by_itself() {
    let frame = Frame::new(128, 64).unwrap();
    let mut expected = init_sequence(PanelSize::W128xH64, Rotation::Deg0);
    expected.extend(full(7, frame.as_bytes()));
    let mut mock = Mock::new(&expected);
    let mut panel = Panel::new(mock.clone(), PanelSettings::default());
    let cost = panel.present(&frame).unwrap();
    assert!(cost.initialised && cost.full_refresh);
    assert_eq!((cost.transactions, cost.bytes), (17 + 2, 60 + 1036));
    mock.done();
}

#[test]
fn separate_changes_on_one_page_are_separate_runs_unless_resending_the_gap_is_cheaper() {
    let dark = Frame::new(128, 64).unwrap();
    let mut far = dark.clone();
    far.set_pixel(0, 0, true);
    far.set_pixel(100, 0, true);
    let mut near = far.clone();
    near.set_pixel(3, 0, true);
    near.set_pixel(6, 0, true); // gap of two columns: one window beats two

    let mut expected = init_sequence(PanelSize::W128xH64, Rotation::Deg0);
    expected.extend(full(7, dark.as_bytes()));
    expected.extend(first_run(0, 0, &[0x01]));
    // Column 100 (0x64) from column 1: both nibbles, as Co=1 commands in the data transaction.
    expected.push(co(&[0x04, 0x16], &[0x01]));
    // Columns 3-6 from column 101 (0x65): both nibbles again; the two unchanged columns are resent.
    expected.push(co(&[0x03, 0x10], &[0x01, 0x00, 0x00, 0x01]));
    let mut mock = Mock::new(&expected);
    let mut panel = Panel::new(mock.clone(), PanelSettings::default());
    panel.present(&dark).unwrap();
    let two = panel.present(&far).unwrap();
    assert_eq!((two.windows, two.transactions, two.bytes), (2, 3, 10 + 7));
    let merged = panel.present(&near).unwrap();
    assert_eq!(
        (merged.windows, merged.transactions, merged.bytes),
        (1, 1, 6 + 4)
    );
    mock.done();
}

#[test]
fn a_change_across_pages_is_one_window() {
    let dark = Frame::new(128, 64).unwrap();
    let mut tall = dark.clone();
    for y in 6..12 {
        tall.set_pixel(40, y, true);
    }
    let mut expected = init_sequence(PanelSize::W128xH64, Rotation::Deg0);
    expected.extend(full(7, dark.as_bytes()));
    // Still in horizontal addressing: a two-page window is 6 commands, cheaper than two runs.
    expected.push(cmd(&[0x21, 40, 40, 0x22, 0, 1]));
    expected.push(data(&[0xC0, 0x0F]));
    let mut mock = Mock::new(&expected);
    let mut panel = Panel::new(mock.clone(), PanelSettings::default());
    panel.present(&dark).unwrap();
    let cost = panel.present(&tall).unwrap();
    assert_eq!((cost.pages_touched, cost.windows), (2, 1));
    mock.done();
}

#[test]
fn rotation_90_transposes_the_logical_frame_into_gddram() {
    let dark = Frame::new(64, 128).unwrap();
    let mut dot = dark.clone();
    dot.set_pixel(3, 100, true); // logical (x=3, y=100) lands in GDDRAM column 100, page 0, bit 3

    let mut expected = init_sequence(PanelSize::W128xH64, Rotation::Deg90);
    expected.extend(full(7, &[0u8; 1024]));
    expected.extend(first_run(0, 100, &[0x08]));
    let mut mock = Mock::new(&expected);
    let mut panel = Panel::new(mock.clone(), settings(PanelSize::W128xH64, Rotation::Deg90));
    let g = panel.geometry();
    assert_eq!((g.width, g.height), (64, 128));
    panel.present(&dark).unwrap();
    panel.present(&dot).unwrap();
    assert_eq!(panel.shown().unwrap(), dot);
    // A landscape frame is refused on a portrait panel, and nothing is sent.
    assert!(matches!(
        panel.present(&Frame::new(128, 64).unwrap()),
        Err(PanelError::BadFrame(_))
    ));
    mock.done();
}

#[test]
fn rotations_180_and_270_set_the_remap_and_keep_the_diff() {
    for rotation in [Rotation::Deg180, Rotation::Deg270] {
        let portrait = rotation == Rotation::Deg270;
        let (w, h) = if portrait { (64, 128) } else { (128, 64) };
        let dark = Frame::new(w, h).unwrap();
        let mut dot = dark.clone();
        dot.set_pixel(5, 9, true);
        let mut expected = init_sequence(PanelSize::W128xH64, rotation);
        expected.extend(full(7, &[0u8; 1024]));
        if portrait {
            // (5, 9) -> column 9, page 0, bit 5
            expected.extend(first_run(0, 9, &[0x20]));
        } else {
            // (5, 9) -> column 5, page 1, bit 1
            expected.extend(first_run(1, 5, &[0x02]));
        }
        let mut mock = Mock::new(&expected);
        let mut panel = Panel::new(mock.clone(), settings(PanelSize::W128xH64, rotation));
        panel.present(&dark).unwrap();
        panel.present(&dot).unwrap();
        mock.done();
    }
}

#[test]
fn panel_128x32_has_four_pages() {
    let dark = Frame::new(128, 32).unwrap();
    let mut dot = dark.clone();
    dot.set_pixel(127, 31, true);
    let mut expected = init_sequence(PanelSize::W128xH32, Rotation::Deg0);
    expected.extend(full(3, &[0u8; 512]));
    expected.extend(first_run(3, 127, &[0x80]));
    let mut mock = Mock::new(&expected);
    let mut panel = Panel::new(mock.clone(), settings(PanelSize::W128xH32, Rotation::Deg0));
    let full = panel.present(&dark).unwrap();
    assert_eq!(full.bytes, 60 + 10 + 2 + 512);
    assert_eq!(full.pages_touched, 4);
    panel.present(&dot).unwrap();
    assert!(matches!(
        panel.present(&Frame::new(128, 64).unwrap()),
        Err(PanelError::BadFrame(_))
    ));
    mock.done();
}

/// A small glass wired to the middle segments: every column the panel sends is the glass's plus
/// the RAM offset, which mirrors with the segment remap (0 and 270 degrees: the first segment; 90
/// and 180: 128 - width - that), as the `ssd1306` crate addresses it.
#[test]
fn small_glasses_are_addressed_at_their_ram_columns() {
    for (size, rotation, ram) in [
        (PanelSize::W72xH40, Rotation::Deg0, 28u8),
        (PanelSize::W72xH40, Rotation::Deg180, 28),
        (PanelSize::W64xH48, Rotation::Deg0, 32),
        (PanelSize::W96xH16, Rotation::Deg0, 0),
        (PanelSize::W96xH16, Rotation::Deg180, 32),
    ] {
        let (w, h) = (size.width(), size.height());
        let dark = Frame::new(w, h).unwrap();
        let mut dot = dark.clone();
        dot.set_pixel(0, 0, true);
        let last_page = (h / 8 - 1) as u8;
        let mut expected = init_sequence(size, rotation);
        expected.push(cmd(&[
            0x20,
            0x00,
            0x21,
            ram,
            ram + (w - 1) as u8,
            0x22,
            0,
            last_page,
        ]));
        expected.push(data(&vec![0u8; usize::from(w * h / 8)]));
        expected.extend(first_run(0, ram, &[0x01]));
        let mut mock = Mock::new(&expected);
        let mut panel = Panel::new(mock.clone(), settings(size, rotation));
        panel.present(&dark).unwrap();
        panel.present(&dot).unwrap();
        mock.done();
    }
}

#[test]
fn panel_128x32_rotated_90_is_32_wide() {
    let mut expected = init_sequence(PanelSize::W128xH32, Rotation::Deg90);
    let dark = Frame::new(32, 128).unwrap();
    let mut dot = dark.clone();
    dot.set_pixel(31, 127, true); // -> column 127, page 3, bit 7
    expected.extend(full(3, &[0u8; 512]));
    expected.extend(first_run(3, 127, &[0x80]));
    let mut mock = Mock::new(&expected);
    let mut panel = Panel::new(mock.clone(), settings(PanelSize::W128xH32, Rotation::Deg90));
    assert_eq!((panel.geometry().width, panel.geometry().height), (32, 128));
    panel.present(&dark).unwrap();
    panel.present(&dot).unwrap();
    mock.done();
}

#[test]
fn a_nack_mid_update_is_a_bus_error_and_recovery_resends_everything() {
    let dark = Frame::new(128, 64).unwrap();
    let mut a = dark.clone();
    a.set_pixel(10, 10, true);
    let mut b = a.clone();
    b.set_pixel(20, 20, true);

    // A NACK of data (a glitch mid-transfer): a bus fault. (A NACK of the address means nothing is
    // there: `absent`, see the owner's tests.)
    let nack = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data);
    let mut expected = init_sequence(PanelSize::W128xH64, Rotation::Deg0);
    expected.extend(full(7, a.as_bytes()));
    // The update to `b` gets its addressing through, then the data transaction is not acknowledged.
    expected.push(cmd(&[0x20, 0x02, 0xB2, 0x04, 0x11]));
    expected.push(data(&[0x10]).with_error(nack));
    // Still unplugged: the recovery's first command fails too.
    expected.push(cmd(&[0xAE]).with_error(nack));
    // Back: re-initialise once and send the whole frame.
    expected.extend(init_sequence(PanelSize::W128xH64, Rotation::Deg0));
    expected.extend(full(7, b.as_bytes()));
    // And from then on, diffs again.
    expected.extend(first_run(1, 10, &[0x00]));
    let mut mock = Mock::new(&expected);

    let mut panel = Panel::new(mock.clone(), PanelSettings::default());
    panel.present(&a).unwrap();
    let err = panel.present(&b).unwrap_err();
    match &err {
        PanelError::Bus { kind, detail } => {
            assert_eq!(*kind, nack);
            assert!(detail.contains("0x3c"), "{detail}");
        }
        other => panic!("expected a bus error, got {other:?}"),
    }
    assert!(!panel.is_initialised());
    assert!(panel.shown().is_none());
    assert!(matches!(panel.present(&b), Err(PanelError::Bus { .. })));

    let recovered = panel.present(&b).unwrap();
    assert!(recovered.initialised && recovered.full_refresh);
    assert_eq!(recovered.bytes, 60 + 1036);
    let mut c = b.clone();
    c.set_pixel(10, 10, false);
    let next = panel.present(&c).unwrap();
    assert!(!next.full_refresh && !next.initialised);

    let stats = panel.stats();
    assert_eq!(stats.errors, 2);
    assert_eq!(stats.inits, 3);
    assert_eq!(stats.full_refreshes, 2);
    assert!(stats
        .last_error
        .as_deref()
        .unwrap()
        .starts_with("bus error"));
    mock.done();
}

#[test]
fn a_frame_of_the_wrong_length_is_bad_frame_and_sends_nothing() {
    let mut mock = Mock::new(&[]);
    let mut panel = Panel::new(mock.clone(), PanelSettings::default());
    for len in [0usize, 1, 512, 1023, 1025, 4096] {
        match panel.present_bytes(&vec![0xFF; len]) {
            Err(PanelError::BadFrame(msg)) => {
                assert!(msg.contains("1024"), "{msg}");
            }
            other => panic!("expected bad-frame for {len} bytes, got {other:?}"),
        }
    }
    assert_eq!(panel.stats().errors, 0);
    mock.done();
}

#[test]
fn contrast_power_and_invert_are_single_commands_and_survive_reinit() {
    let nack = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data);
    let dark = Frame::new(128, 64).unwrap();
    let mut expected = init_sequence(PanelSize::W128xH64, Rotation::Deg0);
    expected.push(cmd(&[0xD9, 0x21]));
    expected.push(cmd(&[0x81, 0xC0]));
    expected.push(cmd(&[0xA7]));
    expected.push(cmd(&[0xAE]));
    expected.push(cmd(&[0xAF]).with_error(nack));
    // Recovery on the next call re-applies contrast and inversion; power was last asked on, which the
    // init sequence already leaves it.
    expected.extend(init_sequence(PanelSize::W128xH64, Rotation::Deg0));
    expected.push(cmd(&[0xD9, 0x21]));
    expected.push(cmd(&[0x81, 0xC0]));
    expected.push(cmd(&[0xA7]));
    expected.extend(full(7, dark.as_bytes()));
    expected.push(cmd(&[0xA6]));
    let mut mock = Mock::new(&expected);
    let mut panel = Panel::new(mock.clone(), PanelSettings::default());
    panel.init().unwrap();
    let c = panel.set_contrast(0xC0).unwrap();
    assert_eq!((c.transactions, c.bytes), (2, 8));
    let i = panel.set_invert(true).unwrap();
    assert_eq!((i.transactions, i.bytes), (1, 3));
    panel.set_power(false).unwrap();
    assert!(!panel.is_on());
    assert!(matches!(panel.set_power(true), Err(PanelError::Bus { .. })));
    let r = panel.present(&dark).unwrap();
    assert!(r.initialised && r.full_refresh);
    assert_eq!(r.bytes, 60 + 8 + 3 + 1036);
    panel.set_invert(false).unwrap();
    assert!(panel.is_on() && !panel.is_inverted() && panel.contrast() == 0xC0);
    mock.done();
}

#[test]
fn configured_contrast_is_part_of_init() {
    let mut expected = init_sequence(PanelSize::W128xH64, Rotation::Deg0);
    expected.push(cmd(&[0xD9, 0x21]));
    expected.push(cmd(&[0x81, 0xFF]));
    let mut mock = Mock::new(&expected);
    let mut panel = Panel::new(
        mock.clone(),
        PanelSettings {
            contrast: 0xFF,
            ..PanelSettings::default()
        },
    );
    panel.init().unwrap();
    mock.done();
}

#[test]
fn address_0x3d_is_used_on_the_wire() {
    let mut expected = init_sequence_at(0x3D, PanelSize::W128xH64, Rotation::Deg0);
    expected.push(cmd_at(0x3D, &[0x20, 0x00, 0x21, 0, 127, 0x22, 0, 7]));
    expected.push(data_at(0x3D, &[0u8; 1024]));
    let mut mock = Mock::new(&expected);
    let mut panel = Panel::new(
        mock.clone(),
        PanelSettings {
            address: 0x3D,
            ..PanelSettings::default()
        },
    );
    panel.present(&Frame::new(128, 64).unwrap()).unwrap();
    let _bus: Mock = panel.release();
    mock.done();
}
