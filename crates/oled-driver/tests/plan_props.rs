//! The planner against the emulator, on random frames: whatever the frames and wherever the
//! controller's pointer was left, the glass shows the new frame, the reported cost is what crossed the
//! bus, and no plan costs more than the whole frame. 256 cases.

use oled_driver::plan::{cost, plan, Block, Cursor};
use oled_driver::{Frame, Panel, PanelSettings, Rotation};
use oled_frame::Window;
use proptest::prelude::*;
use virtual_ssd1306::{Mounting, PanelSize, SharedPanel, VirtualSsd1306};

/// A 128x64 frame of sparse dots, dense noise or a few filled boxes (text-like), from a seed.
fn frame(kind: u8, seed: u64) -> Frame {
    sized(128, 64, kind, seed)
}

/// The same kinds of frame at any size.
fn sized(width: u16, height: u16, kind: u8, seed: u64) -> Frame {
    let (w, h) = (u64::from(width), u64::from(height));
    let mut f = Frame::new(width, height).unwrap();
    let mut x = seed | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    match kind % 3 {
        0 => {
            for _ in 0..(next() % 40) {
                let v = next();
                f.set_pixel((v % w) as u16, ((v >> 8) % h) as u16, true);
            }
        }
        1 => {
            for _ in 0..(next() % 3000) {
                let v = next();
                f.set_pixel((v % w) as u16, ((v >> 8) % h) as u16, v & (1 << 20) != 0);
            }
        }
        _ => {
            for _ in 0..(next() % 12) {
                let v = next();
                let (x0, y0) = ((v % w) as u16, ((v >> 8) % h) as u16);
                let (bw, bh) = (((v >> 16) % 30) as u16 + 1, ((v >> 24) % 12) as u16 + 1);
                for yy in y0..(y0 + bh).min(height) {
                    for xx in x0..(x0 + bw).min(width) {
                        f.set_pixel(xx, yy, (xx + yy) % 3 != 0);
                    }
                }
            }
        }
    }
    f
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn plans_reach_the_frame_at_the_cost_reported_256(
        k in 0u8..9, seeds in proptest::array::uniform3(any::<u64>())
    ) {
        let shared = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
        let mut panel = Panel::new(shared.clone(), PanelSettings::default());
        panel.init().unwrap();
        shared.with(|p| p.reset_stats());
        // Three frames in a row, so the pointer is left by a real plan before the last one.
        for (i, seed) in seeds.iter().enumerate() {
            let target = frame(k / 3 + i as u8, *seed);
            let before = shared.with(|p| p.stats());
            let c = panel.present(&target).unwrap();
            let after = shared.with(|p| p.stats());
            prop_assert_eq!(u64::from(c.bytes), after.bytes - before.bytes);
            prop_assert_eq!(u64::from(c.transactions), after.transactions - before.transactions);
            prop_assert!(c.bytes <= 1036, "{:?}", c);
            prop_assert_eq!(after.display_off, 0);
            prop_assert_eq!(shared.with(|p| p.visible()), target);
        }
    }

    /// Every glass size in every rotation: small glasses sit at RAM columns 28, 32 or mirrored,
    /// so a run that ends at RAM column 127 leaves the pointer outside the glass.
    #[test]
    fn every_size_and_rotation_shows_its_frames_256(
        size in 0usize..5, rot in 0u16..4, k in 0u8..9, seeds in proptest::array::uniform3(any::<u64>())
    ) {
        let size = PanelSize::ALL[size];
        let rotation = [Rotation::Deg0, Rotation::Deg90, Rotation::Deg180, Rotation::Deg270][usize::from(rot)];
        let emulator = VirtualSsd1306::new(size, 0x3C)
            .with_mounting(Mounting::from_degrees(rotation.degrees()).unwrap());
        let shared = SharedPanel::new(emulator);
        let settings = PanelSettings { size, rotation, ..PanelSettings::default() };
        let mut panel = Panel::new(shared.clone(), settings);
        let g = panel.geometry();
        for (i, seed) in seeds.iter().enumerate() {
            let target = sized(g.width, g.height, k / 3 + i as u8, *seed);
            let before = shared.with(|p| p.stats());
            let c = panel.present(&target).unwrap();
            let after = shared.with(|p| p.stats());
            prop_assert_eq!(u64::from(c.bytes), after.bytes - before.bytes);
            prop_assert_eq!(shared.with(|p| p.visible()), target, "{:?} {:?}", size, rotation);
        }
    }

    #[test]
    fn no_plan_costs_more_than_the_whole_frame_256(
        a in (0u8..3, any::<u64>()), b in (0u8..3, any::<u64>())
    ) {
        let (old, new) = (frame(a.0, a.1), frame(b.0, b.1));
        let blocks = plan(&old, &new, Cursor::unknown());
        let full = cost(&[Block::Window(Window::full(&new))], Cursor::unknown());
        prop_assert!(cost(&blocks, Cursor::unknown()) <= full);
        prop_assert_eq!(blocks.is_empty(), old == new);
    }
}
