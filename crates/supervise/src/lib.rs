//! A process supervisor with systemd's restart semantics, for the local lattice.
//!
//! On the Pi, systemd restarts a crashed host or leaf NATS (`scripts/pi/systemd/*.service`). The
//! local lattice and the fault bench run the same programs without systemd, so that a killed
//! process comes back the same way there, this crate reads the restart settings of the very unit
//! file the Pi installs ([`Policy::from_unit`]) and applies them ([`Supervisor`]):
//!
//! - `Restart=` `no` | `on-failure` | `always` (also `on-abnormal`), decided per exit by
//!   [`Policy::restarts_after`] as systemd does: a clean exit is code 0 or one of the signals
//!   SIGHUP, SIGINT, SIGTERM, SIGPIPE;
//! - `RestartSec=` (default 100 ms), `TimeoutStopSec=` (default 90 s);
//! - `StartLimitIntervalSec=` / `StartLimitBurst=` (defaults 10 s / 5 starts): a process that keeps
//!   crashing is given up ([`StartLimit`]);
//! - stopping is `KillMode=mixed`: SIGTERM to the main process, SIGKILL to its whole process group
//!   when it has not ended within `TimeoutStopSec=`.
//!
//! ```
//! use std::time::Duration;
//! use oled_supervise::{Exit, Policy, Restart};
//!
//! let unit = "[Service]\nExecStart=/usr/local/bin/wasmcloud-host\nRestart=on-failure\nRestartSec=3s\n";
//! let policy = Policy::from_unit(unit).unwrap();
//! assert_eq!(policy.restart, Restart::OnFailure);
//! assert_eq!(policy.restart_sec, Duration::from_secs(3));
//! assert!(policy.restarts_after(Exit::Signal(9)));   // kill -9: a failure
//! assert!(!policy.restarts_after(Exit::Signal(15))); // SIGTERM: a clean stop
//! assert!(!policy.restarts_after(Exit::Code(0)));
//! ```

mod policy;
mod run;

pub use policy::{parse_timespan, Exit, Policy, Restart, StartLimit, UnitError};
pub use run::{Controls, Event, Supervisor, SupervisorError};
