//! Bus-level tests: control bytes, addressing, faults, counters and what the glass shows.

use super::*;
use embedded_hal::i2c::Error as _;

const A: u8 = 0x3C;

fn panel() -> VirtualSsd1306 {
    VirtualSsd1306::new(PanelSize::W128xH64, A)
}

/// The minimum a common module needs to show GDDRAM upright: charge pump, remaps, display on,
/// horizontal addressing.
fn lit_panel(size: PanelSize) -> VirtualSsd1306 {
    let mut p = VirtualSsd1306::new(size, A);
    let mux = (size.height() - 1) as u8;
    let com = if size == PanelSize::W128xH64 {
        0x12
    } else {
        0x02
    };
    p.write(
        A,
        &[
            0x00, 0x8D, 0x14, 0xA8, mux, 0xDA, com, 0xA1, 0xC8, 0xAF, 0x20, 0x00,
        ],
    )
    .unwrap();
    p.reset_stats();
    p
}

/// Writes `data` over the whole GDDRAM window from (0, 0).
fn fill(p: &mut VirtualSsd1306, data: &[u8]) {
    p.write(A, &[0x00, 0x21, 0, 127, 0x22, 0, 7]).unwrap();
    let mut t = vec![0x40];
    t.extend_from_slice(data);
    p.write(A, &t).unwrap();
}

#[test]
fn co_zero_command_stream() {
    let mut p = panel();
    p.write(A, &[0x00, 0xAF, 0x81, 0x10, 0xA7]).unwrap();
    let s = p.state();
    assert!(s.display_on && s.inverted);
    assert_eq!(s.contrast, 0x10);
    assert_eq!(
        p.stats(),
        BusStats {
            transactions: 1,
            bytes: 6,
            command_bytes: 4,
            ..BusStats::default()
        }
    );
}

#[test]
fn co_one_command_then_control_byte() {
    let mut p = panel();
    // One command, one command, then the rest is data.
    p.write(A, &[0x80, 0xAF, 0x80, 0xA7, 0x40, 0x01, 0x02])
        .unwrap();
    assert!(p.state().display_on && p.state().inverted);
    assert_eq!(&p.gddram()[..3], &[0x01, 0x02, 0x00]);
    let st = p.stats();
    assert_eq!((st.command_bytes, st.data_bytes, st.bytes), (2, 2, 8));
}

#[test]
fn co_one_data_then_control_byte() {
    let mut p = panel();
    // Data, data, then a command stream: the 0xAF must be a command, not data.
    p.write(A, &[0xC0, 0x11, 0xC0, 0x22, 0x00, 0xAF, 0xA7])
        .unwrap();
    assert_eq!(&p.gddram()[..3], &[0x11, 0x22, 0x00]);
    assert!(p.state().display_on && p.state().inverted);
    let st = p.stats();
    assert_eq!((st.command_bytes, st.data_bytes), (2, 2));
}

#[test]
fn multi_byte_command_across_single_command_control_bytes() {
    let mut p = panel();
    p.write(A, &[0x80, 0x81, 0x80, 0x33, 0x80, 0xA7]).unwrap();
    assert_eq!(p.state().contrast, 0x33);
    assert!(p.state().inverted);
}

#[test]
fn multi_byte_command_across_transactions() {
    let mut p = panel();
    p.write(A, &[0x00, 0x21]).unwrap();
    p.write(A, &[0x00, 5]).unwrap();
    p.write(A, &[0x00, 10, 0x20, 0x00]).unwrap();
    assert_eq!(p.state().column_window, (5, 10));
    assert_eq!(p.state().addressing_mode, AddressingMode::Horizontal);
    assert_eq!(p.state().column, 5);
}

#[test]
fn data_follows_the_window_across_transactions() {
    // The ssd1306 crate sends data in 16-byte transactions; the pointer must carry over.
    let mut p = panel();
    p.write(A, &[0x00, 0x20, 0x00, 0x21, 120, 127, 0x22, 6, 7])
        .unwrap();
    for chunk in (1..=16u8).collect::<Vec<_>>().chunks(5) {
        let mut t = vec![0x40];
        t.extend_from_slice(chunk);
        p.write(A, &t).unwrap();
    }
    let g = p.gddram();
    assert_eq!(&g[6 * 128 + 120..6 * 128 + 128], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(
        &g[7 * 128 + 120..7 * 128 + 128],
        &[9, 10, 11, 12, 13, 14, 15, 16]
    );
    assert_eq!(g.iter().filter(|b| **b != 0).count(), 16);
}

#[test]
fn page_mode_over_the_bus() {
    let mut p = panel(); // page addressing is the reset default
    p.write(A, &[0x00, 0xB2, 0x05, 0x10]).unwrap();
    p.write(A, &[0x40, 0xAA, 0xBB]).unwrap();
    assert_eq!(p.gddram()[2 * 128 + 5], 0xAA);
    assert_eq!(p.gddram()[2 * 128 + 6], 0xBB);
}

#[test]
fn unknown_commands_are_recorded() {
    let mut p = panel();
    p.write(A, &[0x00, 0xFF, 0xAF, 0xFC]).unwrap();
    assert_eq!(p.state().unknown_commands, 2);
    assert_eq!(p.state().last_unknown, Some(0xFC));
    assert!(p.state().display_on);
}

#[test]
fn wrong_address_is_nacked_and_changes_nothing() {
    let mut p = panel();
    let err = p.write(0x3D, &[0x00, 0xAF]).unwrap_err();
    assert_eq!(err, BusError::NoDevice { address: 0x3D });
    assert_eq!(
        err.kind(),
        ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)
    );
    assert!(!p.state().display_on);
    assert_eq!(
        p.stats(),
        BusStats {
            transactions: 1,
            bytes: 1,
            nacks: 1,
            ..BusStats::default()
        }
    );
}

#[test]
fn alternate_address_answers() {
    let mut p = VirtualSsd1306::new(PanelSize::W128xH32, 0x3D);
    assert_eq!(p.address(), 0x3D);
    p.write(0x3D, &[0x00, 0xAF]).unwrap();
    assert!(p.write(0x3C, &[0x00, 0xAE]).is_err());
    assert!(p.state().display_on);
}

#[test]
fn reads_are_errors_not_panics() {
    let mut p = panel();
    let mut buf = [0u8; 4];
    let err = p.read(A, &mut buf).unwrap_err();
    assert_eq!(err, BusError::ReadNotSupported);
    assert_eq!(err.kind(), ErrorKind::Other);
    // A write-read applies the write, then fails at the read's address phase.
    let err = p.write_read(A, &[0x00, 0xAF], &mut buf).unwrap_err();
    assert_eq!(err, BusError::ReadNotSupported);
    assert!(p.state().display_on);
    // Reading another address is a plain NACK.
    assert_eq!(
        p.read(0x50, &mut buf).unwrap_err(),
        BusError::NoDevice { address: 0x50 }
    );
    let st = p.stats();
    assert_eq!((st.transactions, st.bytes, st.nacks), (4, 6, 1));
}

#[test]
fn adjacent_writes_are_one_transaction() {
    let mut p = panel();
    p.set_logging(true);
    p.transaction(
        A,
        &mut [Operation::Write(&[0x00, 0x81]), Operation::Write(&[0x44])],
    )
    .unwrap();
    assert_eq!(p.state().contrast, 0x44);
    assert_eq!(
        p.take_log(),
        vec![Transaction {
            address: A,
            bytes: vec![0x00, 0x81, 0x44]
        }]
    );
    assert_eq!(p.stats().transactions, 1);
    // An empty transaction is an address probe.
    p.transaction(A, &mut []).unwrap();
    assert_eq!(p.stats().bytes, 5);
}

#[test]
fn injected_nacks_drop_whole_transactions() {
    let mut p = panel();
    p.nack_next(2);
    assert_eq!(p.pending_nacks(), 2);
    for _ in 0..2 {
        let err = p.write(A, &[0x00, 0xAF]).unwrap_err();
        assert_eq!(err, BusError::InjectedNack);
        assert_eq!(
            err.kind(),
            ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)
        );
        assert!(!p.state().display_on, "a NACKed transaction is not applied");
    }
    p.write(A, &[0x00, 0xAF]).unwrap();
    assert!(p.state().display_on);
    let st = p.stats();
    assert_eq!(
        (st.transactions, st.bytes, st.nacks, st.command_bytes),
        (3, 5, 2, 1)
    );
}

#[test]
fn wrong_address_does_not_use_up_injected_nacks() {
    let mut p = panel();
    p.nack_next(1);
    assert!(p.write(0x3D, &[0x00]).is_err());
    assert_eq!(p.pending_nacks(), 1);
}

#[test]
fn unplugged_panel_nacks_until_plugged_back() {
    let mut p = lit_panel(PanelSize::W128xH64);
    p.set_present(false);
    assert!(!p.is_present());
    for _ in 0..3 {
        assert_eq!(
            p.write(A, &[0x00, 0xAE]).unwrap_err(),
            BusError::NoDevice { address: A }
        );
    }
    assert!(p.state().display_on);
    p.set_present(true);
    p.write(A, &[0x00, 0xAE]).unwrap();
    assert!(!p.state().display_on);
    let st = p.stats();
    assert_eq!((st.transactions, st.nacks, st.display_off), (4, 3, 1));
}

#[test]
fn counters_are_exact() {
    let mut p = panel();
    p.write(A, &[0x00, 0xAE, 0x20, 0x00, 0xAE]).unwrap(); // 4 command bytes, 2 display-off
    p.write(A, &[0x40, 1, 2, 3]).unwrap(); // 3 data bytes
    p.write(A, &[0x80, 0xAF, 0xC0, 9]).unwrap(); // 1 command, 1 data
    let _ = p.write(0x10, &[0x00, 0xAE]); // NACK: 1 byte
    assert_eq!(
        p.stats(),
        BusStats {
            transactions: 4,
            bytes: 6 + 5 + 5 + 1,
            data_bytes: 4,
            command_bytes: 5,
            display_off: 2,
            nacks: 1,
            data_while_scrolling: 0,
        }
    );
    p.reset_stats();
    assert_eq!(p.stats(), BusStats::default());
    assert!(p.state().display_on, "reset_stats keeps the controller");
}

#[test]
fn log_is_off_by_default_and_take_clears_it() {
    let mut p = panel();
    p.write(A, &[0x00, 0xAF]).unwrap();
    assert!(p.take_log().is_empty());
    p.set_logging(true);
    p.write(A, &[0x40, 1]).unwrap();
    let _ = p.write(0x3D, &[0x40, 2]);
    assert_eq!(
        p.take_log(),
        vec![Transaction {
            address: A,
            bytes: vec![0x40, 1]
        }]
    );
    assert!(p.take_log().is_empty());
}

#[test]
fn power_cycle_resets_the_chip_not_the_bus() {
    let mut p = lit_panel(PanelSize::W128xH64);
    fill(&mut p, &[0xFF; 1024]);
    p.power_cycle();
    assert_eq!(p.state(), ControllerState::power_on());
    assert!(p.gddram().iter().all(|b| *b == 0));
    assert!(p.stats().bytes > 0);
}

#[test]
fn upright_with_remap_and_reversed_com() {
    let mut p = lit_panel(PanelSize::W128xH64);
    let mut data = [0u8; 1024];
    data[0] = 0x01; // column 0, row 0
    data[7 * 128 + 127] = 0x80; // column 127, row 63
    data[128 + 3] = 0x04; // column 3, row 10
    fill(&mut p, &data);
    let v = p.visible();
    assert_eq!((v.width(), v.height()), (128, 64));
    assert!(v.pixel(0, 0) && v.pixel(127, 63) && v.pixel(3, 10));
    assert_eq!(v.lit_pixels(), 3);
    assert_eq!(v.as_bytes(), p.gddram(), "upright glass is GDDRAM itself");
}

#[test]
fn a0_mirrors_and_c0_flips() {
    let mut p = lit_panel(PanelSize::W128xH64);
    let mut data = [0u8; 1024];
    data[128 + 3] = 0x04; // column 3, row 10
    fill(&mut p, &data);
    p.write(A, &[0x00, 0xA0]).unwrap();
    assert!(p.visible().pixel(124, 10));
    p.write(A, &[0x00, 0xC0]).unwrap();
    assert!(p.visible().pixel(124, 53));
    p.write(A, &[0x00, 0xA1]).unwrap();
    assert!(p.visible().pixel(3, 53));
    assert_eq!(p.visible().lit_pixels(), 1);
}

#[test]
fn display_states() {
    let mut p = lit_panel(PanelSize::W128xH64);
    let mut data = [0u8; 1024];
    data[0] = 0x01;
    fill(&mut p, &data);
    assert_eq!(p.visible().lit_pixels(), 1);
    p.write(A, &[0x00, 0xA7]).unwrap();
    assert_eq!(p.visible().lit_pixels(), 128 * 64 - 1);
    p.write(A, &[0x00, 0xA6, 0xA5]).unwrap();
    assert_eq!(p.visible().lit_pixels(), 128 * 64);
    p.write(A, &[0x00, 0xAE]).unwrap();
    assert_eq!(
        p.visible().lit_pixels(),
        0,
        "display off is dark whatever else"
    );
    p.write(A, &[0x00, 0xAF, 0xA4, 0x8D, 0x10]).unwrap();
    assert_eq!(p.visible().lit_pixels(), 0, "no charge pump, no light");
    p.write(A, &[0x00, 0x8D, 0x14]).unwrap();
    assert_eq!(p.visible().lit_pixels(), 1);
    // GDDRAM is kept while off.
    assert_eq!(p.gddram()[0], 0x01);
}

#[test]
fn panel_128x32_shows_the_first_four_pages() {
    let mut p = lit_panel(PanelSize::W128xH32);
    let mut data = [0u8; 1024];
    data[0] = 0x01; // row 0
    data[3 * 128 + 5] = 0x80; // row 31
    data[4 * 128 + 9] = 0x01; // row 32: not on this glass
    fill(&mut p, &data);
    let v = p.visible();
    assert_eq!((v.width(), v.height()), (128, 32));
    assert!(v.pixel(0, 0) && v.pixel(5, 31));
    assert_eq!(v.lit_pixels(), 2);
    // C0 flips within the 32 driven rows.
    p.write(A, &[0x00, 0xC0]).unwrap();
    assert!(p.visible().pixel(0, 31) && p.visible().pixel(5, 0));
}

#[test]
fn wrong_com_configuration_interleaves_rows() {
    // 128x32 glass driven with the 128x64 alternative configuration: only every other row, as on a real
    // module set up for the wrong size.
    let mut p = lit_panel(PanelSize::W128xH32);
    p.write(A, &[0x00, 0xDA, 0x12]).unwrap();
    fill(&mut p, &[0xFF; 1024]);
    let v = p.visible();
    assert!(v.lit_pixels() < 128 * 32);
    assert!(v.lit_pixels() > 0);
}

#[test]
fn start_line_and_offset_scroll_vertically() {
    let mut p = lit_panel(PanelSize::W128xH64);
    let mut data = [0u8; 1024];
    data[128] = 0x01; // row 8
    fill(&mut p, &data);
    p.write(A, &[0x00, 0x48]).unwrap(); // start line 8: row 8 on top
    assert!(p.visible().pixel(0, 0));
    p.write(A, &[0x00, 0x40, 0xD3, 0x04]).unwrap(); // offset 4: row 8 four lines up
    assert!(p.visible().pixel(0, 4));
    // A smaller multiplex ratio leaves the rest of the glass dark, even inverted.
    p.write(A, &[0x00, 0xD3, 0x00, 0xA8, 15, 0xA7]).unwrap();
    assert_eq!(p.visible().lit_pixels(), 128 * 16 - 1);
}

#[test]
fn mounting_turns_the_view() {
    let mut p = lit_panel(PanelSize::W128xH64);
    let mut data = [0u8; 1024];
    data[0] = 0x01; // glass (0, 0): top left
    fill(&mut p, &data);
    let cases = [
        (Mounting::Rotate0, (128, 64), (0, 0)),
        (Mounting::Rotate90, (64, 128), (0, 127)),
        (Mounting::Rotate180, (128, 64), (127, 63)),
        (Mounting::Rotate270, (64, 128), (63, 0)),
    ];
    for (m, (w, h), (x, y)) in cases {
        p.set_mounting(m);
        assert_eq!(p.mounting(), m);
        assert_eq!(Mounting::from_degrees(m.degrees()), Some(m));
        let v = p.visible();
        assert_eq!((v.width(), v.height()), (w, h), "{m:?}");
        assert!(v.pixel(x, y), "{m:?}");
        assert_eq!(v.lit_pixels(), 1);
        assert_eq!(p.glass().width(), 128);
    }
    assert_eq!(Mounting::from_degrees(45), None);
}

#[test]
fn ascii_is_the_frame_format_of_visible() {
    let mut p = lit_panel(PanelSize::W128xH32);
    fill(&mut p, &[0x01; 1024]);
    let a = p.ascii();
    assert_eq!(a, p.visible().to_ascii());
    assert_eq!(a.lines().count(), 32);
    assert_eq!(a.lines().next(), Some("#".repeat(128).as_str()));
    assert_eq!(a.lines().nth(1), Some(".".repeat(128).as_str()));
}

fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut dec = png::Decoder::new(bytes);
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn png_is_the_visible_image() {
    let mut p = lit_panel(PanelSize::W128xH64);
    let mut data = [0u8; 1024];
    data[0] = 0x01;
    fill(&mut p, &data);
    let (w, h, rgb) = decode_png(&p.png(DEFAULT_SCALE));
    assert_eq!((w, h), (128 * 4 + 40, 64 * 4 + 40));
    let px = |x: u32, y: u32| {
        let i = ((y * w + x) * 3) as usize;
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    };
    // First pixel lit, its neighbour dark.
    assert!(px(20, 20)[2] > 150);
    assert!(px(24, 20)[2] < 50);
    // Absurd scales are clamped rather than allocating without bound.
    let (w0, _, _) = decode_png(&p.png(0));
    assert_eq!(w0, 128 + 10);
    let (wmax, _, _) = decode_png(&p.png(u32::MAX));
    assert_eq!(wmax, (128 + 10) * MAX_SCALE);
}

#[test]
fn write_png_replaces_atomically() {
    let dir = std::env::temp_dir().join(format!("virtual-ssd1306-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("panel.png");
    let p = lit_panel(PanelSize::W128xH32);
    p.write_png(&path, 2).unwrap();
    p.write_png(&path, 2).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), p.png(2));
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("panel.png")]);
    assert!(p.write_png(&dir.join("missing/panel.png"), 2).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shared_panel_survives_a_poisoned_lock() {
    let shared = SharedPanel::new(panel());
    let mut bus = shared.clone();
    let s2 = shared.clone();
    let r =
        std::thread::spawn(move || s2.with(|_| panic!("a reader panicked while holding the lock")))
            .join();
    assert!(r.is_err());
    bus.write(A, &[0x00, 0xAF]).unwrap();
    assert!(shared.with(|p| p.state().display_on));
    assert_eq!(
        bus.write(0x3D, &[0x00]).unwrap_err().kind(),
        ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)
    );
    assert!(format!("{shared:?}").contains("SharedPanel"));
}

#[test]
fn panel_sizes() {
    assert_eq!(
        PanelSize::from_dimensions(128, 32),
        Some(PanelSize::W128xH32)
    );
    assert_eq!(PanelSize::from_dimensions(64, 32), None);
    assert_eq!(
        (PanelSize::W128xH64.width(), PanelSize::W128xH64.height()),
        (128, 64)
    );
}
