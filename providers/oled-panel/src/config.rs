//! Configuration the wasmCloud way: string maps from named config (read at `init`) and from link config
//! (which may override any key for the linked component).
//!
//! | key                 | accepted                         | default               |
//! |---------------------|----------------------------------|-----------------------|
//! | `backend`           | `i2c`, `virtual`                 | `i2c`                 |
//! | `bus`               | a device path                    | `/dev/i2c-1`          |
//! | `address`           | `0x3C`, `0x3D` (or 60, 61)       | `0x3C`                |
//! | `size`              | `128x64`, `128x32`, `96x16`, `72x40`, `64x48` (SSD1306) | `128x64` |
//! | `rotation`          | `0`, `90`, `180`, `270`          | `0`                   |
//! | `contrast`          | `0`-`255` (or `0x00`-`0xFF`)     | `95` (0x5F)           |
//! | `driver`            | `ssd1306`, `sh1106`, `ssd1309` (the last two 128x64 only) | `ssd1306` |
//! | `column_offset`     | `0`-`4` (`sh1106` only)          | `2`                   |
//! | `snapshot`          | a PNG path, empty for none       | `/tmp/oled-panel.png` |
//! | `blank_on_shutdown` | `true`, `false`                  | `false`               |
//! | `state_dir`         | a folder, empty for none         | none                  |
//! | `fault_file`        | a file path (`virtual` only)     | none                  |
//! | `dim_after`         | minutes idle, then `dim_contrast` (default 1) | never    |
//! | `off_after`         | minutes idle, then display off (woken by the next update) | never |
//! | `quiet_hours`       | `HH:MM-HH:MM` local time, at `quiet_contrast` (default 1) | none |
//! | `shift_every`       | minutes between one-row pixel shifts (display offset) | never |
//! | `journal`           | `0`-`65536` updates kept, with `state_dir` also on disk (`inspect.journal`) | `0` |
//!
//! `state_dir` keeps each panel's last picture (see [`crate::state`]): on the Pi `/var/lib/oled-lattice`.
//! `fault_file` is the virtual panel's fault switch for tests and the fault bench: while the file says
//! `absent` the emulated module is unplugged, `nack` makes it refuse every transaction, `slow MS` delays
//! each call by MS milliseconds; a missing or empty file is a healthy panel.
//!
//! A change of `contrast`, `rotation`, `snapshot`, `blank_on_shutdown` or `state_dir` is applied to the
//! running panel in place (no re-initialisation, the picture stays); a change of `backend`, `bus`,
//! `address` or `size` is another device and starts it afresh.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use oled_driver::{Controller, PanelSettings, PanelSize, Rotation, DEFAULT_CONTRAST};

pub const DEFAULT_BUS: &str = "/dev/i2c-1";
pub const DEFAULT_ADDRESS: u8 = 0x3C;
pub const DEFAULT_SNAPSHOT: &str = "/tmp/oled-panel.png";

/// Every key this provider reads.
pub const KEYS: [&str; 19] = [
    "backend",
    "driver",
    "column_offset",
    "bus",
    "address",
    "size",
    "rotation",
    "contrast",
    "snapshot",
    "blank_on_shutdown",
    "state_dir",
    "fault_file",
    "dim_after",
    "dim_contrast",
    "off_after",
    "quiet_hours",
    "quiet_contrast",
    "shift_every",
    "journal",
];

/// Where the panel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// A real SSD1306 on a Linux I2C bus device.
    I2c,
    /// The emulated SSD1306, with PNG snapshots.
    Virtual,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::I2c => "i2c",
            BackendKind::Virtual => "virtual",
        }
    }
}

/// A configuration value that is not accepted; the message names the key and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config key `{key}`: {value:?} is not accepted; accepted values: {accepted}")]
pub struct ConfigError {
    pub key: &'static str,
    pub value: String,
    pub accepted: &'static str,
}

/// Everything that decides one panel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PanelConfig {
    pub backend: BackendKind,
    /// Bus device for `i2c` (ignored by `virtual`).
    pub bus: String,
    pub address: u8,
    pub size: PanelSize,
    pub rotation: Rotation,
    pub contrast: u8,
    /// The controller chip (`driver`: `ssd1306` or `sh1106`, with `column_offset` for the latter).
    pub controller: Controller,
    /// PNG written after each change by the `virtual` backend; `None` writes nothing.
    pub snapshot: Option<PathBuf>,
    pub blank_on_shutdown: bool,
    /// Folder of the durable panel state; `None` keeps nothing across restarts.
    pub state_dir: Option<PathBuf>,
    /// The virtual panel's fault switch (see the module docs).
    pub fault_file: Option<PathBuf>,
    /// Night mode and burn-in care (`dim_after`, `off_after`, `quiet_hours`, `shift_every`, ...).
    pub care: oled_driver::care::CarePolicy,
    /// Updates kept in the journal of what reached the glass ([`crate::journal`]); 0: none.
    pub journal: usize,
}

impl Default for PanelConfig {
    fn default() -> Self {
        Self {
            backend: BackendKind::I2c,
            bus: DEFAULT_BUS.to_string(),
            address: DEFAULT_ADDRESS,
            size: PanelSize::W128xH64,
            rotation: Rotation::Deg0,
            contrast: DEFAULT_CONTRAST,
            controller: Controller::Ssd1306,
            snapshot: Some(PathBuf::from(DEFAULT_SNAPSHOT)),
            blank_on_shutdown: false,
            state_dir: None,
            fault_file: None,
            journal: 0,
            care: oled_driver::care::CarePolicy {
                dim_contrast: 1,
                ..oled_driver::care::CarePolicy::default()
            },
        }
    }
}

/// Identifies one physical (or emulated) panel: two configs with the same key drive the same device.
/// A virtual panel is keyed by its `bus` name like a real one, so its snapshot path can change in place.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceKey {
    pub backend: &'static str,
    /// The bus device (for `virtual`, the name of its emulated bus).
    pub location: String,
    pub address: u8,
}

impl std::fmt::Display for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} @ {:#04x}",
            self.backend, self.location, self.address
        )
    }
}

impl PanelConfig {
    /// Parses a configuration map over the defaults.
    pub fn from_map(values: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::default().overlay(values)
    }

    /// This configuration with the keys present in `values` replaced (link config over named config).
    pub fn overlay(&self, values: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut c = self.clone();
        for (key, raw) in values {
            let value = raw.trim();
            match normalise_key(key).as_str() {
                "backend" => c.backend = parse_backend(value)?,
                "bus" => {
                    if value.is_empty() {
                        return Err(err("bus", raw, "a bus device path such as /dev/i2c-1"));
                    }
                    c.bus = value.to_string();
                }
                "address" => c.address = parse_address(value)?,
                "size" => c.size = parse_size(value)?,
                "rotation" => c.rotation = parse_rotation(value)?,
                "contrast" => c.contrast = parse_contrast(value)?,
                "driver" => {
                    c.controller = match value.to_ascii_lowercase().as_str() {
                        "ssd1306" => Controller::Ssd1306,
                        "sh1106" => Controller::Sh1106 {
                            column_offset: match c.controller {
                                Controller::Sh1106 { column_offset } => column_offset,
                                Controller::Ssd1306 | Controller::Ssd1309 => 2,
                            },
                        },
                        "ssd1309" => Controller::Ssd1309,
                        _ => return Err(err("driver", raw, "ssd1306, sh1106 or ssd1309")),
                    }
                }
                "snapshot" => {
                    c.snapshot = (!value.is_empty()).then(|| PathBuf::from(value));
                }
                "blank_on_shutdown" => c.blank_on_shutdown = parse_bool(value)?,
                "state_dir" => {
                    c.state_dir = (!value.is_empty()).then(|| PathBuf::from(value));
                }
                "fault_file" => {
                    c.fault_file = (!value.is_empty()).then(|| PathBuf::from(value));
                }
                "dim_after" => c.care.dim_after = parse_minutes("dim_after", value)?,
                "dim_contrast" => {
                    c.care.dim_contrast = parse_contrast(value).map_err(|e| ConfigError {
                        key: "dim_contrast",
                        ..e
                    })?
                }
                "off_after" => c.care.off_after = parse_minutes("off_after", value)?,
                "shift_every" => c.care.shift_every = parse_minutes("shift_every", value)?,
                "journal" => {
                    c.journal = value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|n| *n <= 65_536)
                        .ok_or_else(|| err("journal", value, "an integer 0-65536"))?
                }
                _ => {}
            }
        }
        // After the loop, whatever the order: quiet hours with their contrast.
        let quiet_contrast = match values
            .iter()
            .find(|(k, _)| normalise_key(k) == "quiet_contrast")
        {
            Some((_, v)) => parse_contrast(v).map_err(|e| ConfigError {
                key: "quiet_contrast",
                ..e
            })?,
            None => 1,
        };
        if let Some((_, raw)) = values
            .iter()
            .find(|(k, _)| normalise_key(k) == "quiet_hours")
        {
            c.care.quiet = match raw.trim() {
                "" => None,
                spec => Some(
                    oled_driver::care::QuietHours::parse(spec, quiet_contrast).map_err(|_| {
                        err(
                            "quiet_hours",
                            raw,
                            "HH:MM-HH:MM, local time (e.g. 22:00-07:00)",
                        )
                    })?,
                ),
            };
        }
        // After the loop: `column_offset` means something only for an SH1106, whatever the order.
        if let Some(raw) = values
            .iter()
            .find(|(k, _)| normalise_key(k) == "column_offset")
            .map(|(_, v)| v)
        {
            let offset: u8 = raw.trim().parse().ok().filter(|o| *o <= 4).ok_or_else(|| {
                err(
                    "column_offset",
                    raw,
                    "0 to 4 (an SH1106 module's is usually 2)",
                )
            })?;
            match &mut c.controller {
                Controller::Sh1106 { column_offset } => *column_offset = offset,
                Controller::Ssd1306 | Controller::Ssd1309 => {
                    return Err(err(
                        "column_offset",
                        raw,
                        "nothing with driver ssd1306 or ssd1309 (set driver: sh1106)",
                    ))
                }
            }
        }
        let only_128x64 = match c.controller {
            Controller::Sh1106 { .. } => {
                Some("128x64 with driver sh1106 (SH1106 modules are 128x64)")
            }
            Controller::Ssd1309 => Some("128x64 with driver ssd1309 (SSD1309 modules are 128x64)"),
            Controller::Ssd1306 => None,
        };
        if let Some(accepted) = only_128x64.filter(|_| c.size != PanelSize::W128xH64) {
            return Err(err("size", c.size.name(), accepted));
        }
        Ok(c)
    }

    /// Keys in `values` this provider does not read (worth a warning: likely a typo).
    pub fn unknown_keys(values: &HashMap<String, String>) -> Vec<String> {
        let mut unknown: Vec<String> = values
            .keys()
            .filter(|k| !KEYS.contains(&normalise_key(k).as_str()))
            .cloned()
            .collect();
        unknown.sort();
        unknown
    }

    pub fn settings(&self) -> PanelSettings {
        PanelSettings {
            size: self.size,
            rotation: self.rotation,
            address: self.address,
            contrast: self.contrast,
            controller: self.controller,
        }
    }

    /// Where the panel is: what `info` reports as `bus`.
    pub fn location(&self) -> String {
        match self.backend {
            BackendKind::I2c => self.bus.clone(),
            BackendKind::Virtual => self
                .snapshot
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        }
    }

    pub fn device_key(&self) -> DeviceKey {
        DeviceKey {
            backend: self.backend.name(),
            location: self.bus.clone(),
            address: self.address,
        }
    }

    /// True when `other` drives the same device with the same geometry, so switching to it needs no
    /// re-initialisation: only contrast, rotation, snapshot, shutdown behaviour or state folder differ.
    pub fn same_device(&self, other: &PanelConfig) -> bool {
        self.device_key() == other.device_key()
            && self.size == other.size
            && self.controller == other.controller
    }
}

/// `key=value` arguments (as `oled-panel --check-config address=0x3d size=128x32` takes them) parsed like
/// named config. The error names the offending argument or key.
pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<PanelConfig, String> {
    let mut values = HashMap::new();
    for arg in args {
        let arg = arg.as_ref();
        let Some((key, value)) = arg.split_once('=') else {
            return Err(format!(
                "argument {arg:?} is not key=value; keys: {}",
                KEYS.join(", ")
            ));
        };
        values.insert(key.to_string(), value.to_string());
    }
    if let Some(unknown) = PanelConfig::unknown_keys(&values).first() {
        return Err(format!(
            "config key `{unknown}` is not known; keys: {}",
            KEYS.join(", ")
        ));
    }
    PanelConfig::from_map(&values).map_err(|e| e.to_string())
}

fn normalise_key(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace('-', "_")
}

/// Minutes (decimals allowed: `0.5` is 30 s), more than 0; empty for never.
fn parse_minutes(key: &'static str, v: &str) -> Result<Option<std::time::Duration>, ConfigError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    let m: f64 = v
        .trim()
        .parse()
        .ok()
        .filter(|m: &f64| m.is_finite() && *m > 0.0 && *m <= 525_600.0)
        .ok_or_else(|| {
            err(
                key,
                v,
                "minutes, more than 0 (e.g. 10 or 0.5), empty for never",
            )
        })?;
    Ok(Some(std::time::Duration::from_secs_f64(m * 60.0)))
}

fn err(key: &'static str, value: &str, accepted: &'static str) -> ConfigError {
    ConfigError {
        key,
        value: value.to_string(),
        accepted,
    }
}

fn parse_backend(v: &str) -> Result<BackendKind, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "i2c" => Ok(BackendKind::I2c),
        "virtual" => Ok(BackendKind::Virtual),
        _ => Err(err("backend", v, "i2c, virtual")),
    }
}

fn parse_address(v: &str) -> Result<u8, ConfigError> {
    const ACCEPTED: &str = "0x3C, 0x3D (decimal 60, 61)";
    let lower = v.to_ascii_lowercase();
    let parsed = match lower.strip_prefix("0x") {
        Some(hex) => u8::from_str_radix(hex, 16).ok(),
        None => lower.parse::<u8>().ok(),
    };
    match parsed {
        Some(a @ (0x3C | 0x3D)) => Ok(a),
        _ => Err(err("address", v, ACCEPTED)),
    }
}

fn parse_size(v: &str) -> Result<PanelSize, ConfigError> {
    PanelSize::from_name(v).ok_or_else(|| err("size", v, "128x64, 128x32, 96x16, 72x40, 64x48"))
}

fn parse_rotation(v: &str) -> Result<Rotation, ConfigError> {
    v.parse::<u16>()
        .ok()
        .and_then(Rotation::from_degrees)
        .ok_or_else(|| err("rotation", v, "0, 90, 180, 270"))
}

fn parse_contrast(v: &str) -> Result<u8, ConfigError> {
    let lower = v.to_ascii_lowercase();
    match lower.strip_prefix("0x") {
        Some(hex) => u8::from_str_radix(hex, 16).ok(),
        None => lower.parse::<u8>().ok(),
    }
    .ok_or_else(|| err("contrast", v, "an integer 0-255 (or 0x00-0xFF)"))
}

fn parse_bool(v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(err("blank_on_shutdown", v, "true, false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn driver_and_column_offset() {
        let c = PanelConfig::from_map(&map(&[("driver", "SH1106")])).unwrap();
        assert_eq!(c.controller, Controller::Sh1106 { column_offset: 2 });
        let c =
            PanelConfig::from_map(&map(&[("column_offset", "0"), ("driver", "sh1106")])).unwrap();
        assert_eq!(c.controller, Controller::Sh1106 { column_offset: 0 });
        let c = PanelConfig::from_map(&map(&[("driver", "ssd1309")])).unwrap();
        assert_eq!(c.controller, Controller::Ssd1309);
        for bad in [
            vec![("driver", "ssd1309x")],
            vec![("column_offset", "2")],
            vec![("driver", "sh1106"), ("column_offset", "9")],
            vec![("driver", "sh1106"), ("size", "128x32")],
            vec![("driver", "ssd1309"), ("size", "72x40")],
            vec![("driver", "ssd1309"), ("column_offset", "2")],
        ] {
            let e = PanelConfig::from_map(&map(&bad)).unwrap_err();
            assert!(!e.accepted.is_empty(), "{bad:?}: {e}");
        }
    }

    #[test]
    fn night_mode_keys() {
        use std::time::Duration;
        let c = PanelConfig::from_map(&map(&[
            ("dim_after", "10"),
            ("dim_contrast", "5"),
            ("off_after", "0.5"),
            ("quiet_contrast", "2"),
            ("quiet_hours", "22:30-06:00"),
            ("shift_every", "15"),
        ]))
        .unwrap();
        assert_eq!(c.care.dim_after, Some(Duration::from_secs(600)));
        assert_eq!(c.care.dim_contrast, 5);
        assert_eq!(c.care.off_after, Some(Duration::from_secs(30)));
        assert_eq!(c.care.shift_every, Some(Duration::from_secs(900)));
        let q = c.care.quiet.unwrap();
        assert_eq!((q.start, q.end, q.contrast), (22 * 60 + 30, 6 * 60, 2));
        for (key, value) in [
            ("dim_after", "0"),
            ("off_after", "-1"),
            ("shift_every", "soon"),
            ("quiet_hours", "22-07"),
            ("dim_contrast", "300"),
            ("journal", "70000"),
            ("journal", "lots"),
        ] {
            let e = PanelConfig::from_map(&map(&[(key, value)])).unwrap_err();
            assert_eq!(e.key, key, "{e}");
        }
        // Night mode is applied in place: same device.
        assert!(c.same_device(&PanelConfig::default()));
    }

    #[test]
    fn defaults() {
        let c = PanelConfig::from_map(&HashMap::new()).unwrap();
        assert_eq!(c, PanelConfig::default());
        assert_eq!(c.backend, BackendKind::I2c);
        assert_eq!(c.bus, "/dev/i2c-1");
        assert_eq!(c.address, 0x3C);
        assert_eq!(c.size, PanelSize::W128xH64);
        assert_eq!(c.rotation, Rotation::Deg0);
        assert_eq!(c.contrast, 0x5F);
        assert_eq!(c.snapshot, Some(PathBuf::from("/tmp/oled-panel.png")));
        assert!(!c.blank_on_shutdown);
    }

    #[test]
    fn every_key_parses() {
        let c = PanelConfig::from_map(&map(&[
            ("backend", "virtual"),
            ("bus", "/dev/i2c-3"),
            ("address", "0x3d"),
            ("size", "128X32"),
            ("rotation", "270"),
            ("contrast", "0xff"),
            ("snapshot", "/var/tmp/panel.png"),
            ("blank_on_shutdown", "true"),
            ("state_dir", "/var/lib/oled-lattice"),
            ("journal", "512"),
        ]))
        .unwrap();
        assert_eq!(
            c,
            PanelConfig {
                backend: BackendKind::Virtual,
                bus: "/dev/i2c-3".into(),
                address: 0x3D,
                size: PanelSize::W128xH32,
                rotation: Rotation::Deg270,
                contrast: 255,
                controller: Controller::Ssd1306,
                snapshot: Some(PathBuf::from("/var/tmp/panel.png")),
                blank_on_shutdown: true,
                state_dir: Some(PathBuf::from("/var/lib/oled-lattice")),
                fault_file: None,
                care: PanelConfig::default().care,
                journal: 512,
            }
        );
        assert_eq!(c.location(), "/var/tmp/panel.png");
        assert_eq!(
            PanelConfig::from_map(&map(&[("address", "60"), ("contrast", "7")]))
                .unwrap()
                .address,
            0x3C
        );
        assert!(
            PanelConfig::from_map(&map(&[("blank-on-shutdown", "yes")]))
                .unwrap()
                .blank_on_shutdown
        );
        assert_eq!(
            PanelConfig::from_map(&map(&[("snapshot", "")]))
                .unwrap()
                .snapshot,
            None
        );
    }

    #[test]
    fn rejections_name_the_key_and_accepted_values() {
        let cases = [
            ("address", "0xZZ", "0x3C, 0x3D"),
            ("address", "0x3E", "0x3C, 0x3D"),
            ("address", "", "0x3C, 0x3D"),
            ("size", "100x7", "128x64, 128x32, 96x16, 72x40, 64x48"),
            ("size", "64x32", "128x64, 128x32, 96x16, 72x40, 64x48"),
            ("rotation", "45", "0, 90, 180, 270"),
            ("rotation", "-90", "0, 90, 180, 270"),
            ("contrast", "256", "0-255"),
            ("contrast", "bright", "0-255"),
            ("backend", "spi", "i2c, virtual"),
            ("backend", "", "i2c, virtual"),
            ("blank_on_shutdown", "maybe", "true, false"),
            ("bus", "  ", "bus device path"),
        ];
        for (key, value, accepted) in cases {
            let e = PanelConfig::from_map(&map(&[(key, value)])).unwrap_err();
            assert_eq!(e.key, key, "{e}");
            let msg = e.to_string();
            assert!(msg.contains(&format!("`{key}`")), "{msg}");
            assert!(msg.contains(&format!("{value:?}")), "{msg}");
            assert!(msg.contains(accepted), "{msg}");
        }
        assert_eq!(
            PanelConfig::from_map(&map(&[("address", "0xZZ")]))
                .unwrap_err()
                .to_string(),
            "config key `address`: \"0xZZ\" is not accepted; accepted values: 0x3C, 0x3D (decimal 60, 61)"
        );
    }

    #[test]
    fn link_config_overrides_named_config() {
        let base =
            PanelConfig::from_map(&map(&[("backend", "virtual"), ("rotation", "90")])).unwrap();
        let linked = base.overlay(&map(&[("address", "0x3D")])).unwrap();
        assert_eq!(linked.backend, BackendKind::Virtual);
        assert_eq!(linked.rotation, Rotation::Deg90);
        assert_eq!(linked.address, 0x3D);
        assert_ne!(linked.device_key(), base.device_key());
        assert_eq!(base.overlay(&HashMap::new()).unwrap(), base);
        assert!(base.overlay(&map(&[("rotation", "45")])).is_err());
    }

    #[test]
    fn command_line_pairs() {
        let c = from_args(&["address=0x3d", "size=128x32"]).unwrap();
        assert_eq!((c.address, c.size), (0x3D, PanelSize::W128xH32));
        assert!(from_args(&["address=0x99"])
            .unwrap_err()
            .contains("`address`"));
        assert!(from_args(&["rotation"]).unwrap_err().contains("key=value"));
        assert!(from_args(&["colour=red"]).unwrap_err().contains("`colour`"));
        assert_eq!(from_args::<&str>(&[]).unwrap(), PanelConfig::default());
    }

    #[test]
    fn unknown_keys_are_reported() {
        assert_eq!(
            PanelConfig::unknown_keys(&map(&[("rotaton", "90"), ("size", "128x64")])),
            vec!["rotaton".to_string()]
        );
        assert!(PanelConfig::unknown_keys(&map(&[("Blank-On-Shutdown", "1")])).is_empty());
    }
}
