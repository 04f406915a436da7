//! Bad input, fuzzed with fixed case counts (in each test's name, so the output says how many ran):
//! the provider's config parser, the state-file loader, the emulated controller, the window planner.
//! No panic anywhere; every refusal is an error that says what is wrong.

use std::collections::HashMap;

use embedded_hal::i2c::I2c as _;
use oled_driver::ticker::Ticker;
use oled_frame::{plan_cost, plan_windows, Frame, Strip, Window, WINDOW_OVERHEAD_BYTES};
use oled_panel_provider::config::{PanelConfig, KEYS};
use oled_panel_provider::state::{PanelState, SavedTicker};
use proptest::prelude::*;
use virtual_ssd1306::{PanelSize, SharedPanel, VirtualSsd1306};

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(KEYS.to_vec()).prop_map(str::to_string),
        proptest::sample::select(KEYS.to_vec())
            .prop_map(|k| k.to_ascii_uppercase().replace('_', "-")),
        "[a-z_-]{0,12}",
        any::<String>(),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-fA-Fx]{0,6}",
        proptest::sample::select(vec![
            "i2c", "virtual", "0x3C", "0x3d", "60", "128x64", "128x32", "90", "270", "true", "no",
            "",
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn config_parser_3000_random_maps(map in proptest::collection::hash_map(key(), value(), 0..12)) {
        let map: HashMap<String, String> = map;
        match PanelConfig::from_map(&map) {
            Ok(c) => {
                // Whatever was accepted is a usable configuration.
                prop_assert!(matches!(c.address, 0x3C | 0x3D));
                let _ = c.device_key();
                let _ = c.settings().geometry();
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(KEYS.contains(&e.key), "{msg}");
                prop_assert!(msg.contains(&format!("`{}`", e.key)) && msg.contains("accepted values"), "{msg}");
            }
        }
        let _ = PanelConfig::unknown_keys(&map);
    }
}

fn sample_state() -> PanelState {
    let mut frame = Frame::new(128, 64).unwrap();
    frame.set_pixel(1, 2, true);
    PanelState {
        frame,
        rotation: 0,
        contrast: 7,
        config_contrast: 95,
        power_on: true,
        inverted: false,
        text: Some("fuzz".into()),
        ticker: Some(SavedTicker {
            ticker: Ticker::new(Frame::new(128, 64).unwrap(), strip(), 3, 30).unwrap(),
            software: false,
        }),
    }
}

fn strip() -> Strip {
    let mut s = Strip::new(130, 2).unwrap();
    s.set_pixel(129, 15, true);
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn state_loader_3000_random_files(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        // Random bytes are refused with a reason (a valid file by chance would need a matching CRC).
        if let Err(why) = PanelState::decode(&bytes) {
            prop_assert!(!why.is_empty());
        }
    }

    #[test]
    fn state_loader_3000_damaged_files_with_a_good_checksum(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        // Damage the checksum cannot see (a bug that wrote a wrong but checksummed file): every
        // length, count and flag in it is checked; a refusal says why, and nothing panics.
        let mut bytes = sample_state().encode();
        bytes.truncate(bytes.len() - 4);
        for (at, v) in edits {
            let i = at % bytes.len();
            bytes[i] = v;
        }
        bytes.truncate(1 + cut % bytes.len());
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        if let Err(why) = PanelState::decode(&bytes) {
            prop_assert!(!why.is_empty());
        }
    }

    #[test]
    fn state_loader_3000_damaged_files(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        let mut bytes = sample_state().encode();
        for (at, v) in edits {
            let i = at % bytes.len();
            bytes[i] = v;
        }
        bytes.truncate(1 + cut % bytes.len());
        match PanelState::decode(&bytes) {
            Ok(s) => prop_assert_eq!(s, sample_state()),
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn emulator_2000_random_transaction_streams(
        txs in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..40)
    ) {
        let mut panel = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
        for (to_us, payload) in txs {
            let address = if to_us { 0x3C } else { 0x3D };
            let _ = panel.write(address, &payload);
        }
        // Whatever the bytes, the controller stays inspectable.
        let (visible, stats) = panel.with(|p| (p.visible(), p.stats()));
        prop_assert_eq!((visible.width(), visible.height()), (128, 64));
        prop_assert!(stats.bytes >= stats.transactions);
    }
}

fn frame_from(bytes: &[u8]) -> Frame {
    Frame::from_bytes(128, 64, bytes.to_vec()).unwrap()
}

/// A frame that differs from `base` in a few random places: planners see sparse changes most.
fn changed(base: &[u8], edits: &[(usize, u8)]) -> Vec<u8> {
    let mut b = base.to_vec();
    for (at, v) in edits {
        let i = at % b.len();
        b[i] = *v;
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn window_planner_2000_random_frame_pairs(
        old in proptest::collection::vec(any::<u8>(), 1024),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..60),
        dense in any::<bool>(),
        other in proptest::collection::vec(any::<u8>(), 1024),
    ) {
        let old_f = frame_from(&old);
        let new_f = frame_from(&if dense { other } else { changed(&old, &edits) });
        let plan = plan_windows(&old_f, &new_f, WINDOW_OVERHEAD_BYTES);
        // Applying the plan to the old frame gives the new one.
        let mut got = old_f.as_bytes().to_vec();
        for w in &plan {
            let data = w.data(&new_f);
            let mut k = 0;
            for p in w.page_start..=w.page_end {
                for c in w.col_start..=w.col_end {
                    got[usize::from(p) * 128 + usize::from(c)] = data[k];
                    k += 1;
                }
            }
        }
        prop_assert_eq!(&got[..], new_f.as_bytes());
        // And it never costs more than sending the whole frame.
        let full = plan_cost(&[Window::full(&new_f)], WINDOW_OVERHEAD_BYTES);
        prop_assert!(plan_cost(&plan, WINDOW_OVERHEAD_BYTES) <= full);
        if old_f == new_f {
            prop_assert!(plan.is_empty());
        }
    }
}
