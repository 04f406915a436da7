//! S16: sixteen display updates replayed through the component's text core and the provider's update
//! path into the virtual SSD1306, counting what crosses the I2C bus. A benchmark: it prints, it never fails
//! on a figure.
//!
//! `cargo run --release -p oled-bench --bin s16 [scenario-file]` (default `scenarios/s16.txt`).

use anyhow::{bail, Context, Result};
use oled_display::core::{blank, render, Style};
use oled_driver::{Panel, PanelSettings};
use oled_frame::Frame;
use virtual_ssd1306::{PanelSize, SharedPanel, VirtualSsd1306};

/// Reference figures for S16, measured the same way (bytes incl. one address byte per transaction).
const REFERENCES: [(&str, u64, u64, u64); 2] = [
    ("2022 wasmCloud Pi demo", 19_552, 1_328, 16),
    ("luma.oled", 16_544, 32, 0),
];
const TARGET_BYTES: u64 = 2_500;

enum Step {
    Show(String),
    Clear,
}

fn parse(text: &str) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(t) = line.strip_prefix("show:") {
            steps.push(Step::Show(t.to_string()));
        } else if line.trim() == "clear" {
            steps.push(Step::Clear);
        } else {
            bail!(
                "line {}: expected `show:TEXT` or `clear`, got {line:?}",
                n + 1
            );
        }
    }
    Ok(steps)
}

/// Seconds on the wire: 9 clocks per byte (8 bits + ACK), 2 per transaction (start, stop).
fn wire_ms(bytes: u64, transactions: u64, hz: f64) -> f64 {
    (9.0 * bytes as f64 + 2.0 * transactions as f64) / hz * 1e3
}

fn changed_bytes(old: Option<&Frame>, new: &Frame) -> usize {
    match old {
        None => new.as_bytes().len(), // unknown GDDRAM: every byte must be written
        Some(o) => o
            .as_bytes()
            .iter()
            .zip(new.as_bytes())
            .filter(|(a, b)| a != b)
            .count(),
    }
}

fn main() -> Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/s16.txt").to_string()
    });
    let steps = parse(&std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?)?;

    let shared = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
    let mut panel = Panel::new(shared.clone(), PanelSettings::default());
    let (w, h) = (panel.geometry().width, panel.geometry().height);
    let style = Style::default();

    let init = panel.init().context("init")?;
    let s = shared.with(|p| p.stats());
    println!(
        "scenario: {path} ({} steps), panel 128x64 at 0x3C, font auto, centred",
        steps.len()
    );
    println!(
        "init (once, at provider start): {} bytes, {} transactions, {} display-off",
        init.bytes, s.transactions, s.display_off
    );
    shared.with(|p| p.reset_stats());

    println!(
        "{:>4}  {:>6} {:>5} {:>7} {:>9} {:>9} {:>4}  update",
        "step", "bytes", "txns", "floor", "@100kHz", "@400kHz", "off"
    );
    let (mut bytes, mut txns, mut floor, mut off) = (0u64, 0u64, 0usize, 0u64);
    let mut shown: Option<Frame> = None;
    for (i, step) in steps.iter().enumerate() {
        let (frame, label) = match step {
            Step::Show(t) => (render(t, &style, w, h).frame, format!("show {t:?}")),
            Step::Clear => (blank(w, h), "clear".to_string()),
        };
        let before = shared.with(|p| p.stats());
        panel
            .present(&frame)
            .with_context(|| format!("step {}", i + 1))?;
        let after = shared.with(|p| p.stats());
        let (b, t, d) = (
            after.bytes - before.bytes,
            after.transactions - before.transactions,
            after.display_off - before.display_off,
        );
        let fl = changed_bytes(shown.as_ref(), &frame);
        let label: String = label.chars().take(60).collect();
        println!(
            "{:>4}  {:>6} {:>5} {:>7} {:>7.2}ms {:>7.2}ms {:>4}  {label}",
            i + 1,
            b,
            t,
            fl,
            wire_ms(b, t, 100e3),
            wire_ms(b, t, 400e3),
            d
        );
        if shared.with(|p| p.visible()) != frame {
            bail!("step {}: the panel does not show the rendered frame", i + 1);
        }
        bytes += b;
        txns += t;
        floor += fl;
        off += d;
        shown = Some(frame);
    }

    println!();
    println!(
        "wire time: {:.1} ms at 100 kHz, {:.1} ms at 400 kHz",
        wire_ms(bytes, txns, 100e3),
        wire_ms(bytes, txns, 400e3)
    );
    println!("floor (GDDRAM bytes that changed, first frame in full): {floor} bytes");
    println!(
        "overhead over the floor: {} bytes ({:.0}%)",
        bytes as i64 - floor as i64,
        (bytes as f64 / floor.max(1) as f64 - 1.0) * 100.0
    );
    for (name, b, t, k) in REFERENCES {
        println!(
            "reference {name}: {b} bytes, {t} transactions, {k} display-off ({:.1}x ours)",
            b as f64 / bytes.max(1) as f64
        );
    }
    println!(
        "target: at most {TARGET_BYTES} bytes -> {}",
        if bytes <= TARGET_BYTES {
            "met"
        } else {
            "not met (see the floor above)"
        }
    );
    println!("S16 total: {bytes} bytes, {txns} transactions, {off} display-off");
    Ok(())
}
