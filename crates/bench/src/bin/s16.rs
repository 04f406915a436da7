//! S16: sixteen display updates on the I2C bus, three systems in one run, all counted by the same
//! recording bus (our virtual SSD1306):
//! - ours: the component's text core and the `oled-driver` update path, in process;
//! - the 2022 wasmCloud Pi demo's path and luma.oled: commands named by `OLED_S16_DEMO` and
//!   `OLED_S16_LUMA` (set by `scripts/bench-s16.sh`), run here on the same scenario; they print
//!   their I2C writes (`init`, `step N`, `w ADDR HEX`) and this program replays them into an emulator.
//!
//! For every system: bytes (one address byte per transaction plus the payload), transactions,
//! display-off commands, wire time, and the floor: the GDDRAM bytes each step changed on that
//! system's own panel (the first step counts the whole GDDRAM, as nothing is known before it).
//! The protocol bound adds what no plan can avoid over the SSD1306's I2C protocol (see [`bound`]).
//! A benchmark: it prints, it never fails on a figure; it fails when a system cannot be run.
//!
//! `./scripts/bench.sh s16 [scenario-file]` (default `scenarios/s16.txt`).

use std::process::Command;

use anyhow::{bail, Context, Result};
use embedded_hal::i2c::I2c as _;
use oled_driver::{Controller, Panel, PanelSettings};
use oled_frame::Frame;
use oled_text::{blank, render, Style};
use virtual_ssd1306::{Chip, PanelSize, SharedPanel, VirtualSsd1306};

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

/// Bytes, transactions and display-off of one step, and its floor.
#[derive(Default, Clone, Copy)]
struct Figures {
    bytes: u64,
    transactions: u64,
    display_off: u64,
    floor: u64,
    /// GDDRAM data bytes among `bytes` (the rest is addressing, commands and framing).
    data: u64,
    /// The least any plan can send over the SSD1306's I2C protocol for this step (see [`bound`]).
    bound: u64,
}

impl std::ops::AddAssign for Figures {
    fn add_assign(&mut self, o: Self) {
        self.data += o.data;
        self.bound += o.bound;
        self.bytes += o.bytes;
        self.transactions += o.transactions;
        self.display_off += o.display_off;
        self.floor += o.floor;
    }
}

/// One system's run: what it sent once before the first update, per step, and when it ended.
struct Run {
    name: &'static str,
    init: Figures,
    steps: Vec<Figures>,
    exit: Figures,
}

/// Where a peer's writes belong.
#[derive(Clone, Copy, PartialEq)]
enum Section {
    Init,
    Step(usize),
    Exit,
}

impl Run {
    fn total(&self) -> Figures {
        let mut t = Figures::default();
        for s in &self.steps {
            t += *s;
        }
        t
    }
}

/// GDDRAM bytes that differ; with nothing known before (`None`), all of them.
fn changed(before: Option<&[u8]>, after: &[u8]) -> u64 {
    match before {
        None => after.len() as u64,
        Some(b) => b.iter().zip(after).filter(|(x, y)| x != y).count() as u64,
    }
}

/// A lower bound on the bytes of any update from `before` to `after` over the SSD1306's I2C
/// protocol: the changed bytes; for every unchanged gap between two changed runs on one page, the
/// gap itself or 4 bytes, whichever is less (skipping it ends the data transaction, and the next
/// one costs at least an address byte, one command with its control byte and a data control byte;
/// no addressing mode jumps over the middle of a page); and one address and control byte for the
/// data. With nothing known before, every byte must be written.
fn bound(before: Option<&[u8]>, after: &[u8]) -> u64 {
    let Some(before) = before else {
        return after.len() as u64 + 2;
    };
    let mut total = 0u64;
    let mut any = false;
    for (old, new) in before.chunks(128).zip(after.chunks(128)) {
        let mut last_changed: Option<usize> = None;
        for (x, (a, b)) in old.iter().zip(new).enumerate() {
            if a != b {
                total += 1;
                any = true;
                if let Some(l) = last_changed {
                    total += ((x - l - 1) as u64).min(4);
                }
                last_changed = Some(x);
            }
        }
    }
    if any {
        total + 2
    } else {
        0
    }
}

/// Counts what an emulated panel saw between two points.
struct Meter {
    shared: SharedPanel,
    stats: virtual_ssd1306::BusStats,
    gddram: Vec<u8>,
}

impl Meter {
    fn new(shared: SharedPanel) -> Self {
        let (stats, gddram) = shared.with(|p| (p.stats(), glass_ram(p)));
        Self {
            shared,
            stats,
            gddram,
        }
    }

    /// Figures since the last call; the floor counts every byte on the first step.
    fn take(&mut self, first: bool) -> Figures {
        let (stats, gddram) = self.shared.with(|p| (p.stats(), glass_ram(p)));
        let f = Figures {
            bytes: stats.bytes - self.stats.bytes,
            transactions: stats.transactions - self.stats.transactions,
            display_off: stats.display_off - self.stats.display_off,
            data: stats.data_bytes - self.stats.data_bytes,
            floor: changed((!first).then_some(self.gddram.as_slice()), &gddram),
            bound: bound((!first).then_some(self.gddram.as_slice()), &gddram),
        };
        self.stats = stats;
        self.gddram = gddram;
        f
    }
}

/// The RAM behind the glass, 128 columns a page (an SH1106's 132-column RAM without the columns
/// no glass shows).
fn glass_ram(p: &VirtualSsd1306) -> Vec<u8> {
    let columns = p.chip().ram_columns();
    let offset = p.column_offset();
    p.gddram()
        .chunks(columns)
        .flat_map(|page| page[offset..offset + 128].iter().copied())
        .collect()
}

/// Runs a peer's command on the scenario and replays the writes it prints into a fresh emulator.
fn peer(name: &'static str, var: &str, scenario: &str) -> Result<Run> {
    let cmd = std::env::var(var)
        .with_context(|| format!("{var} is not set: run this through ./scripts/bench.sh s16"))?;
    let mut words = cmd.split_whitespace();
    let program = words.next().with_context(|| format!("{var} is empty"))?;
    let out = Command::new(program)
        .args(words)
        .arg(scenario)
        .output()
        .with_context(|| format!("running {name}: {cmd}"))?;
    if !out.status.success() {
        bail!(
            "{name} ({cmd}) failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8(out.stdout).context("peer output is not UTF-8")?;

    let shared = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
    let mut meter = Meter::new(shared.clone());
    let mut run = Run {
        name,
        init: Figures::default(),
        steps: Vec::new(),
        exit: Figures::default(),
    };
    let mut section = Section::Init;
    let close = |section: Section, run: &mut Run, meter: &mut Meter| {
        let f = meter.take(section == Section::Step(1));
        match section {
            Section::Init => run.init += f,
            Section::Step(_) => run.steps.push(f),
            Section::Exit => run.exit += Figures { floor: 0, ..f },
        }
    };
    for (n, line) in text.lines().enumerate() {
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some("init"), None, None) => {}
            (Some("step"), Some(k), None) => {
                close(section, &mut run, &mut meter);
                section = Section::Step(
                    k.parse()
                        .with_context(|| format!("{name} line {}", n + 1))?,
                );
            }
            (Some("exit"), None, None) => {
                close(section, &mut run, &mut meter);
                section = Section::Exit;
            }
            (Some("w"), Some(addr), Some(hex)) => {
                let addr = u8::from_str_radix(addr, 16)?;
                let bytes = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .with_context(|| format!("{name} line {}: bad hex", n + 1))?;
                shared
                    .clone()
                    .write(addr, &bytes)
                    .map_err(|e| anyhow::anyhow!("{name} line {}: {e:?}", n + 1))?;
            }
            _ => bail!("{name} line {}: unexpected {line:?}", n + 1),
        }
    }
    close(section, &mut run, &mut meter);
    Ok(run)
}

fn ours(steps: &[Step], chip: Chip) -> Result<Run> {
    let (emulator, settings, name) = match chip {
        Chip::Ssd1306 => (
            VirtualSsd1306::new(PanelSize::W128xH64, 0x3C),
            PanelSettings::default(),
            "oled-lattice (ours)",
        ),
        Chip::Sh1106 => (
            VirtualSsd1306::with_chip(PanelSize::W128xH64, 0x3C, Chip::Sh1106),
            PanelSettings {
                controller: Controller::Sh1106 { column_offset: 2 },
                ..PanelSettings::default()
            },
            "oled-lattice on an SH1106 (ours)",
        ),
        Chip::Ssd1309 => (
            VirtualSsd1306::with_chip(PanelSize::W128xH64, 0x3C, Chip::Ssd1309),
            PanelSettings {
                controller: Controller::Ssd1309,
                ..PanelSettings::default()
            },
            "oled-lattice on an SSD1309 (ours)",
        ),
    };
    let shared = SharedPanel::new(emulator);
    let mut panel = Panel::new(shared.clone(), settings);
    let (w, h) = (panel.geometry().width, panel.geometry().height);
    let style = Style::default();
    let mut meter = Meter::new(shared.clone());
    panel.init().context("init")?;
    let init = meter.take(false);
    let init = Figures { floor: 0, ..init };

    println!(
        "{:>4}  {:>6} {:>5} {:>7} {:>7} {:>7} {:>9} {:>9} {:>4}  update ({name})",
        "step", "bytes", "txns", "floor", "resent", "address", "@100kHz", "@400kHz", "off"
    );
    let mut figures = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let (frame, label): (Frame, String) = match step {
            Step::Show(t) => (render(t, &style, w, h).frame, format!("show {t:?}")),
            Step::Clear => (blank(w, h), "clear".to_string()),
        };
        panel
            .present(&frame)
            .with_context(|| format!("step {}", i + 1))?;
        let f = meter.take(i == 0);
        if shared.with(|p| p.visible()) != frame {
            bail!("step {}: the panel does not show the rendered frame", i + 1);
        }
        let label: String = label.chars().take(60).collect();
        println!(
            "{:>4}  {:>6} {:>5} {:>7} {:>7} {:>7} {:>7.2}ms {:>7.2}ms {:>4}  {label}",
            i + 1,
            f.bytes,
            f.transactions,
            f.floor,
            f.data - f.floor,
            f.bytes - f.data,
            wire_ms(f.bytes, f.transactions, 100e3),
            wire_ms(f.bytes, f.transactions, 400e3),
            f.display_off
        );
        figures.push(f);
    }
    Ok(Run {
        name,
        init,
        steps: figures,
        exit: Figures::default(),
    })
}

fn main() -> Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/s16.txt").to_string()
    });
    let steps = parse(&std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?)?;
    println!(
        "scenario: {path} ({} steps), panel 128x64 at 0x3C; every system counted by the virtual SSD1306",
        steps.len()
    );
    let ours_sh1106 = ours(&steps, Chip::Sh1106)?;
    println!();
    let ours_ssd1309 = ours(&steps, Chip::Ssd1309)?;
    println!();
    let ours = ours(&steps, Chip::Ssd1306)?;
    let runs = [
        peer("2022 wasmCloud Pi demo", "OLED_S16_DEMO", &path)?,
        peer("luma.oled", "OLED_S16_LUMA", &path)?,
        ours_sh1106,
        ours_ssd1309,
        ours,
    ];
    for r in &runs {
        if r.steps.len() != steps.len() {
            bail!(
                "{}: {} steps for a scenario of {}",
                r.name,
                r.steps.len(),
                steps.len()
            );
        }
    }
    let ours_total = runs[runs.len() - 1].total();
    println!(
        "ours over the floor: {} bytes resent unchanged (cheaper than skipping them), {} bytes of addressing and framing",
        ours_total.data - ours_total.floor,
        ours_total.bytes - ours_total.data
    );

    println!();
    println!(
        "| system | bytes | transactions | display-off | wire @100 kHz | wire @400 kHz | floor | bytes / floor | protocol bound | bytes / bound | bytes / ours |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &runs {
        let t = r.total();
        println!(
            "| {} | {} | {} | {} | {:.1} ms | {:.1} ms | {} | {:.2} | {} | {:.2} | {:.2} |",
            r.name,
            t.bytes,
            t.transactions,
            t.display_off,
            wire_ms(t.bytes, t.transactions, 100e3),
            wire_ms(t.bytes, t.transactions, 400e3),
            t.floor,
            t.bytes as f64 / t.floor.max(1) as f64,
            t.bound,
            t.bytes as f64 / t.bound.max(1) as f64,
            t.bytes as f64 / ours_total.bytes.max(1) as f64,
        );
    }
    println!();
    for r in &runs {
        println!(
            "not in the table, {}: before the first update {} bytes, {} transactions, {} display-off; \
             at exit {} bytes, {} transactions, {} display-off",
            r.name,
            r.init.bytes,
            r.init.transactions,
            r.init.display_off,
            r.exit.bytes,
            r.exit.transactions,
            r.exit.display_off
        );
    }
    println!(
        "S16 total: {} bytes, {} transactions, {} display-off",
        ours_total.bytes, ours_total.transactions, ours_total.display_off
    );
    Ok(())
}
