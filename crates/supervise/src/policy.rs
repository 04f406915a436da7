//! What a unit file says about restarts, and how systemd applies it to one exit.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// systemd's `Restart=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// `no` (the default): never restarted.
    No,
    /// `on-failure`: restarted after a non-zero exit code or an unclean signal.
    OnFailure,
    /// `on-abnormal`: restarted after an unclean signal only.
    OnAbnormal,
    /// `always`: restarted after every exit.
    Always,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// It was ended by this signal.
    Signal(i32),
}

impl Exit {
    /// A clean exit as systemd counts it: code 0, or SIGHUP, SIGINT, SIGTERM or SIGPIPE.
    pub fn is_clean(self) -> bool {
        match self {
            Exit::Code(c) => c == 0,
            Exit::Signal(s) => {
                [libc::SIGHUP, libc::SIGINT, libc::SIGTERM, libc::SIGPIPE].contains(&s)
            }
        }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "signal {s}"),
        }
    }
}

/// A unit file that cannot be read as one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnitError {
    /// A restart setting with a value systemd would not take either.
    #[error("line {line}: {key}={value}: {why}")]
    Value {
        /// 1-based line number in the unit file.
        line: usize,
        /// The setting.
        key: String,
        /// Its value.
        value: String,
        /// What is wrong with it.
        why: String,
    },
    /// No `[Service]` section: not a service unit.
    #[error("no [Service] section")]
    NoService,
}

/// The restart settings of one service unit, with systemd's defaults for those it leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `Restart=`.
    pub restart: Restart,
    /// `RestartSec=`: the pause before a restart.
    pub restart_sec: Duration,
    /// `TimeoutStopSec=`: how long a stop waits after SIGTERM before SIGKILL.
    pub timeout_stop: Duration,
    /// `StartLimitIntervalSec=`: the window the burst is counted in (zero: no limit).
    pub start_limit_interval: Duration,
    /// `StartLimitBurst=`: starts allowed within the window.
    pub start_limit_burst: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            restart: Restart::No,
            restart_sec: Duration::from_millis(100),
            timeout_stop: Duration::from_secs(90),
            start_limit_interval: Duration::from_secs(10),
            start_limit_burst: 5,
        }
    }
}

impl Policy {
    /// Reads the restart settings of a unit file's text (`[Service]`, and the start limits from
    /// `[Unit]` too). Other settings are ignored; a restart setting with a bad value is an error.
    pub fn from_unit(text: &str) -> Result<Policy, UnitError> {
        let mut p = Policy::default();
        let mut section = String::new();
        let mut service = false;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') && line.ends_with(']') {
                section = line[1..line.len() - 1].to_string();
                service |= section == "Service";
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            let bad = |why: String| UnitError::Value {
                line: i + 1,
                key: key.to_string(),
                value: value.to_string(),
                why,
            };
            match (section.as_str(), key) {
                ("Service", "Restart") => {
                    p.restart = match value {
                        "no" => Restart::No,
                        "on-failure" => Restart::OnFailure,
                        "on-abnormal" => Restart::OnAbnormal,
                        "always" => Restart::Always,
                        other => return Err(bad(format!("{other:?} is not supported here"))),
                    }
                }
                ("Service", "RestartSec") => p.restart_sec = parse_timespan(value).map_err(bad)?,
                ("Service", "TimeoutStopSec") => {
                    p.timeout_stop = parse_timespan(value).map_err(bad)?
                }
                ("Unit" | "Service", "StartLimitIntervalSec" | "StartLimitInterval") => {
                    p.start_limit_interval = parse_timespan(value).map_err(bad)?
                }
                ("Unit" | "Service", "StartLimitBurst") => {
                    p.start_limit_burst = value.parse().map_err(|e| bad(format!("{e}")))?
                }
                _ => {}
            }
        }
        if service {
            Ok(p)
        } else {
            Err(UnitError::NoService)
        }
    }

    /// Whether systemd would start the process again after it ended this way.
    pub fn restarts_after(&self, exit: Exit) -> bool {
        match self.restart {
            Restart::No => false,
            Restart::Always => true,
            Restart::OnFailure => !exit.is_clean(),
            Restart::OnAbnormal => matches!(exit, Exit::Signal(_)) && !exit.is_clean(),
        }
    }
}

/// Parses a systemd time span: `3s`, `500ms`, `1min 30s`, `2h`, a bare number of seconds, or
/// `infinity` (taken as a very long time).
///
/// ```
/// use std::time::Duration;
/// use oled_supervise::parse_timespan;
/// assert_eq!(parse_timespan("1min 30s"), Ok(Duration::from_secs(90)));
/// assert_eq!(parse_timespan("250ms"), Ok(Duration::from_millis(250)));
/// assert!(parse_timespan("3 fortnights").is_err());
/// ```
pub fn parse_timespan(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "infinity" {
        return Ok(Duration::from_secs(u64::from(u32::MAX)));
    }
    if text.is_empty() {
        return Err("an empty time span".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("{text:?}: expected a number at {rest:?}"));
        }
        let n: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{text:?}: bad number {:?}", &rest[..digits]))?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "" | "s" | "sec" | "second" | "seconds" => 1.0,
            "ms" | "msec" => 1e-3,
            "us" | "usec" => 1e-6,
            "m" | "min" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86400.0,
            other => return Err(format!("{text:?}: unknown unit {other:?}")),
        };
        total += Duration::from_secs_f64(n * scale);
    }
    Ok(total)
}

/// systemd's start rate limit: at most `burst` starts within `interval`.
///
/// ```
/// use std::time::{Duration, Instant};
/// use oled_supervise::StartLimit;
/// let mut limit = StartLimit::new(Duration::from_secs(10), 2);
/// let t = Instant::now();
/// assert!(limit.allow(t));
/// assert!(limit.allow(t + Duration::from_secs(1)));
/// assert!(!limit.allow(t + Duration::from_secs(2)));  // a third start within 10 s
/// assert!(limit.allow(t + Duration::from_secs(12)));  // the first two have left the window
/// ```
#[derive(Debug, Clone)]
pub struct StartLimit {
    interval: Duration,
    burst: u32,
    starts: VecDeque<Instant>,
}

impl StartLimit {
    /// A limit of `burst` starts within `interval`; a zero interval or burst means no limit.
    pub fn new(interval: Duration, burst: u32) -> Self {
        StartLimit {
            interval,
            burst,
            starts: VecDeque::new(),
        }
    }

    /// Counts a start at `now`, or refuses it when the window already holds `burst` starts.
    pub fn allow(&mut self, now: Instant) -> bool {
        if self.interval.is_zero() || self.burst == 0 {
            return true;
        }
        while let Some(first) = self.starts.front() {
            if now.saturating_duration_since(*first) >= self.interval {
                self.starts.pop_front();
            } else {
                break;
            }
        }
        if self.starts.len() >= self.burst as usize {
            return false;
        }
        self.starts.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST_UNIT: &str = include_str!("../../../scripts/pi/systemd/wasmcloud-host.service");
    const LEAF_UNIT: &str = include_str!("../../../scripts/pi/systemd/nats-leaf.service");
    const WADM_UNIT: &str = include_str!("../../../scripts/pi/systemd/laptop/oled-wadm.service");

    #[test]
    fn the_pi_units_policies() {
        let host = Policy::from_unit(HOST_UNIT).unwrap();
        assert_eq!(host.restart, Restart::OnFailure);
        assert_eq!(host.restart_sec, Duration::from_secs(3));
        assert_eq!(host.timeout_stop, Duration::from_secs(30));
        let leaf = Policy::from_unit(LEAF_UNIT).unwrap();
        assert_eq!(
            (leaf.restart, leaf.restart_sec),
            (Restart::OnFailure, Duration::from_secs(2))
        );
        let wadm = Policy::from_unit(WADM_UNIT).unwrap();
        assert_eq!(wadm.restart, Restart::Always);
        assert_eq!(wadm.timeout_stop, Duration::from_secs(90));
    }

    #[test]
    fn clean_and_unclean_exits() {
        let p = Policy {
            restart: Restart::OnFailure,
            ..Policy::default()
        };
        assert!(p.restarts_after(Exit::Code(1)));
        assert!(p.restarts_after(Exit::Signal(libc::SIGKILL)));
        assert!(p.restarts_after(Exit::Signal(libc::SIGSEGV)));
        assert!(!p.restarts_after(Exit::Signal(libc::SIGINT)));
        let a = Policy {
            restart: Restart::OnAbnormal,
            ..Policy::default()
        };
        assert!(!a.restarts_after(Exit::Code(1)));
        assert!(a.restarts_after(Exit::Signal(libc::SIGABRT)));
        assert!(!Policy::default().restarts_after(Exit::Signal(libc::SIGKILL)));
    }

    #[test]
    fn bad_units() {
        assert_eq!(
            Policy::from_unit("[Unit]\nDescription=x\n"),
            Err(UnitError::NoService)
        );
        let e = Policy::from_unit("[Service]\nRestart=sometimes\n").unwrap_err();
        assert!(
            e.to_string().starts_with("line 2: Restart=sometimes"),
            "{e}"
        );
        assert!(Policy::from_unit("[Service]\nRestartSec=soon\n").is_err());
        // Settings in other sections do not count.
        let p = Policy::from_unit("[Install]\nRestart=always\n[Service]\n").unwrap();
        assert_eq!(p.restart, Restart::No);
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_timespan("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_timespan("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_timespan("").is_err());
        assert!(parse_timespan("s").is_err());
    }
}
