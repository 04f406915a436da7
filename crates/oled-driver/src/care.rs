//! Night mode and burn-in care, decided without a clock of its own: given how long the panel has been
//! idle, the local time of day and how long it has been running, [`CarePolicy::state`] says how the
//! panel should be now (awake, dimmed or off; quiet hours or not; which display offset), and
//! [`crate::Panel::apply_care`] puts that on the chip with a few command bytes, never a redraw.
//!
//! ```
//! use std::time::Duration;
//! use oled_driver::care::{CarePolicy, Level, Moment};
//!
//! let policy = CarePolicy {
//!     dim_after: Some(Duration::from_secs(5 * 60)),
//!     off_after: Some(Duration::from_secs(30 * 60)),
//!     ..CarePolicy::default()
//! };
//! let idle = |minutes: u64| Moment { idle: Duration::from_secs(minutes * 60), ..Moment::default() };
//! assert_eq!(policy.state(&idle(1), 0).level, Level::Awake);
//! assert_eq!(policy.state(&idle(6), 0).level, Level::Dimmed);
//! assert_eq!(policy.state(&idle(31), 0).level, Level::Off);
//! ```

use std::time::Duration;

/// Hours of the local day with their own contrast, e.g. 22:00-07:00 (may wrap past midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct QuietHours {
    /// Minute of the day they start (0-1439).
    pub start: u16,
    /// Minute of the day they end (exclusive).
    pub end: u16,
    /// Contrast during them (at most the panel's own).
    pub contrast: u8,
}

impl QuietHours {
    /// `HH:MM-HH:MM` (24-hour clock, local time), with the contrast to use.
    ///
    /// ```
    /// use oled_driver::care::QuietHours;
    /// let q = QuietHours::parse("22:00-07:30", 1).unwrap();
    /// assert!(q.contains(23 * 60) && q.contains(7 * 60 + 29) && !q.contains(12 * 60));
    /// assert!(QuietHours::parse("25:00-07:00", 1).is_err());
    /// ```
    pub fn parse(spec: &str, contrast: u8) -> Result<Self, String> {
        let minute = |s: &str| -> Option<u16> {
            let (h, m) = s.trim().split_once(':')?;
            if h.is_empty() || h.len() > 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60).then_some(h * 60 + m)
        };
        let bad = || format!("`{spec}` is not HH:MM-HH:MM (24-hour clock, e.g. 22:00-07:00)");
        let (a, b) = spec.split_once('-').ok_or_else(bad)?;
        let (start, end) = (minute(a).ok_or_else(bad)?, minute(b).ok_or_else(bad)?);
        if start == end {
            return Err(format!(
                "`{spec}`: quiet hours that start when they end are empty"
            ));
        }
        Ok(Self {
            start,
            end,
            contrast,
        })
    }

    /// Whether `minute` of the local day is inside them.
    pub fn contains(&self, minute: u16) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

/// What a panel's owner asks for (all optional; the default does nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CarePolicy {
    /// Dim after this long without an update.
    pub dim_after: Option<Duration>,
    /// Contrast while dimmed (at most the panel's own).
    pub dim_contrast: u8,
    /// Switch the display off after this long without an update (GDDRAM is kept).
    pub off_after: Option<Duration>,
    /// Hours with their own contrast.
    pub quiet: Option<QuietHours>,
    /// Move the picture by a row every this long (display offset, 0xD3): 0, 1, 2, 1, 0, ...
    pub shift_every: Option<Duration>,
}

/// Time as the policy sees it: supplied by the caller (the provider's clock, a test's fake one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Moment {
    /// Since the last update (or wake-up).
    pub idle: Duration,
    /// Minute of the local day, when the local time is known.
    pub local_minute: Option<u16>,
    /// Since the panel's owner started: the pixel shift's phase.
    pub running: Duration,
}

/// How lit the panel should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum Level {
    /// As configured.
    #[default]
    Awake,
    /// At the dim contrast.
    Dimmed,
    /// Display off.
    Off,
}

impl Level {
    /// As a status shows it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Awake => "awake",
            Level::Dimmed => "dimmed",
            Level::Off => "off",
        }
    }
}

/// How the panel should be now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CareState {
    /// Awake, dimmed or off.
    pub level: Level,
    /// Inside the quiet hours.
    pub quiet: bool,
    /// Display offset in rows (0 when no shift is asked for, or the picture would leave the glass).
    pub offset: u8,
}

/// The pixel shift's cycle of display offsets.
const SHIFT_CYCLE: [u8; 4] = [0, 1, 2, 1];

impl CarePolicy {
    /// Whether the policy asks for anything at all.
    pub fn is_active(&self) -> bool {
        self.dim_after.is_some()
            || self.off_after.is_some()
            || self.quiet.is_some()
            || self.shift_every.is_some()
    }

    /// How the panel should be at `now`. `free_rows` is how many rows the picture leaves dark where
    /// a display offset wraps them (the first RAM rows, [`crate::Panel::free_rows`]): the shift never
    /// moves a lit pixel off the glass.
    pub fn state(&self, now: &Moment, free_rows: u8) -> CareState {
        let level = match (self.off_after, self.dim_after) {
            (Some(off), _) if now.idle >= off => Level::Off,
            (_, Some(dim)) if now.idle >= dim => Level::Dimmed,
            _ => Level::Awake,
        };
        let quiet = match (self.quiet, now.local_minute) {
            (Some(q), Some(m)) => q.contains(m),
            _ => false,
        };
        let offset = match self.shift_every {
            Some(every) if !every.is_zero() => {
                let phase = now.running.as_secs() / every.as_secs().max(1);
                let wanted = SHIFT_CYCLE[(phase % SHIFT_CYCLE.len() as u64) as usize];
                wanted.min(free_rows)
            }
            _ => 0,
        };
        CareState {
            level,
            quiet,
            offset,
        }
    }

    /// The contrast for `state` on a panel whose own contrast is `own`: dimming and quiet hours only
    /// ever lower it.
    pub fn contrast(&self, state: &CareState, own: u8) -> u8 {
        let mut c = own;
        if state.level == Level::Dimmed {
            c = c.min(self.dim_contrast);
        }
        if let (true, Some(q)) = (state.quiet, self.quiet) {
            c = c.min(q.contrast);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn minutes(m: u64) -> Duration {
        Duration::from_secs(m * 60)
    }

    #[test]
    fn dim_then_off_then_awake_again() {
        let p = CarePolicy {
            dim_after: Some(minutes(5)),
            dim_contrast: 10,
            off_after: Some(minutes(20)),
            ..CarePolicy::default()
        };
        let at = |idle| {
            p.state(
                &Moment {
                    idle: minutes(idle),
                    ..Moment::default()
                },
                0,
            )
        };
        assert_eq!(at(0).level, Level::Awake);
        assert_eq!(at(5).level, Level::Dimmed);
        assert_eq!(p.contrast(&at(5), 200), 10);
        assert_eq!(p.contrast(&at(5), 3), 3, "dimming never brightens");
        assert_eq!(at(20).level, Level::Off);
        assert!(!CarePolicy::default().is_active());
    }

    #[test]
    fn quiet_hours_lower_the_contrast_in_local_time() {
        let p = CarePolicy {
            quiet: Some(QuietHours::parse("22:00-07:00", 1).unwrap()),
            ..CarePolicy::default()
        };
        let at = |m| {
            p.state(
                &Moment {
                    local_minute: Some(m),
                    ..Moment::default()
                },
                0,
            )
        };
        assert!(at(23 * 60).quiet && at(0).quiet && at(6 * 60 + 59).quiet);
        assert!(!at(7 * 60).quiet && !at(12 * 60).quiet);
        assert_eq!(p.contrast(&at(23 * 60), 95), 1);
        // Unknown local time: no quiet hours.
        assert!(!p.state(&Moment::default(), 0).quiet);
    }

    #[test]
    fn the_shift_cycles_and_stays_inside_the_free_rows() {
        let p = CarePolicy {
            shift_every: Some(minutes(10)),
            ..CarePolicy::default()
        };
        let at = |run, free| {
            p.state(
                &Moment {
                    running: minutes(run),
                    ..Moment::default()
                },
                free,
            )
            .offset
        };
        assert_eq!(
            [at(0, 8), at(10, 8), at(20, 8), at(30, 8), at(40, 8)],
            [0, 1, 2, 1, 0]
        );
        assert_eq!(at(20, 1), 1, "only as far as the picture leaves dark rows");
        assert_eq!(at(20, 0), 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any string: a clean refusal or hours that round-trip through their own minutes.
        #[test]
        fn quiet_hours_parser_2000_random_specs(spec in "[0-9:\\- ]{0,14}") {
            if let Ok(q) = QuietHours::parse(&spec, 1) {
                prop_assert!(q.start < 1440 && q.end < 1440 && q.start != q.end);
                prop_assert!(q.contains(q.start) && !q.contains(q.end));
            }
        }
    }
}
