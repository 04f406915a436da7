//! Running one process under a [`Policy`]: start, wait, restart or give up, stop on request.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::policy::{Exit, Policy, StartLimit};

/// How often the supervisor looks at its process and its stop/restart flags.
const TICK: Duration = Duration::from_millis(50);

/// What happened to the supervised process, as it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Started with this pid (also its process group id).
    Started {
        /// The new process's pid.
        pid: u32,
    },
    /// Ended; restarted after `restart_in` when that is `Some`.
    Exited {
        /// How it ended.
        exit: Exit,
        /// The pause before the restart, or `None` when the policy does not restart it.
        restart_in: Option<Duration>,
    },
    /// Not started again: too many starts within the start limit's window.
    GaveUp {
        /// Starts allowed within the window.
        burst: u32,
        /// The window.
        interval: Duration,
    },
    /// A stop (or restart) was asked for: SIGTERM sent to the process.
    Stopping {
        /// The process being stopped.
        pid: u32,
    },
    /// The process did not end within `TimeoutStopSec=`: SIGKILL sent to its process group.
    Killed {
        /// The process group that got SIGKILL.
        pid: u32,
    },
}

/// Why supervising could not go on.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    /// The command could not be started at all (missing program, no permission).
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: io::Error,
    },
    /// The pid file could not be written.
    #[error("cannot write pid file {path}: {source}")]
    Pidfile {
        /// The pid file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// No command given.
    #[error("no command to supervise")]
    NoCommand,
}

/// One command under one restart policy.
#[derive(Debug, Clone)]
pub struct Supervisor {
    /// The restart policy.
    pub policy: Policy,
    /// The program and its arguments.
    pub command: Vec<OsString>,
    /// A file that always holds the pid of the running process (removed when it is not running).
    pub pidfile: Option<PathBuf>,
}

/// Flags the caller sets (from signal handlers, typically) to steer a running [`Supervisor`].
#[derive(Debug, Default)]
pub struct Controls {
    /// Stop the process (SIGTERM, then SIGKILL after `TimeoutStopSec=`) and return.
    pub stop: AtomicBool,
    /// Stop the process and start it again at once (`systemctl restart`).
    pub restart: AtomicBool,
}

impl Supervisor {
    /// Runs the command until it ends for good: stopped through `controls.stop` (returns the
    /// last exit), ended in a way the policy does not restart, or given up by the start limit.
    /// Every [`Event`] is passed to `on_event` as it happens.
    pub fn run(
        &self,
        controls: &Controls,
        mut on_event: impl FnMut(&Event),
    ) -> Result<Option<Exit>, SupervisorError> {
        let mut limit = StartLimit::new(
            self.policy.start_limit_interval,
            self.policy.start_limit_burst,
        );
        loop {
            if controls.stop.load(Ordering::SeqCst) {
                return Ok(None);
            }
            if !limit.allow(Instant::now()) {
                on_event(&Event::GaveUp {
                    burst: self.policy.start_limit_burst,
                    interval: self.policy.start_limit_interval,
                });
                return Ok(None);
            }
            let mut child = self.spawn()?;
            let pid = child.id();
            on_event(&Event::Started { pid });
            let exit = loop {
                if controls.stop.load(Ordering::SeqCst) {
                    let exit = self.stop(&mut child, &mut on_event);
                    self.clear_pidfile();
                    return Ok(Some(exit));
                }
                if controls.restart.swap(false, Ordering::SeqCst) {
                    self.stop(&mut child, &mut on_event);
                    break None;
                }
                match child.try_wait() {
                    Ok(Some(status)) => break Some(exit_of(status)),
                    Ok(None) => sleep(TICK),
                    Err(_) => sleep(TICK),
                }
            };
            self.clear_pidfile();
            let Some(exit) = exit else {
                continue; // an asked-for restart: at once, as `systemctl restart`
            };
            // What the main process leaves behind (a host's providers) goes with it, as systemd
            // does when a unit's main process ends.
            kill_group(pid, libc::SIGKILL);
            let restart = self.policy.restarts_after(exit);
            on_event(&Event::Exited {
                exit,
                restart_in: restart.then_some(self.policy.restart_sec),
            });
            if !restart {
                return Ok(Some(exit));
            }
            let until = Instant::now() + self.policy.restart_sec;
            while Instant::now() < until {
                if controls.stop.load(Ordering::SeqCst) {
                    return Ok(Some(exit));
                }
                sleep(TICK.min(until.saturating_duration_since(Instant::now())));
            }
        }
    }

    fn spawn(&self) -> Result<Child, SupervisorError> {
        let (program, args) = self
            .command
            .split_first()
            .ok_or(SupervisorError::NoCommand)?;
        let child = Command::new(program)
            .args(args)
            .process_group(0)
            .spawn()
            .map_err(|source| SupervisorError::Spawn {
                program: program.to_string_lossy().into_owned(),
                source,
            })?;
        if let Some(path) = &self.pidfile {
            let tmp = path.with_extension("pid.tmp");
            std::fs::write(&tmp, format!("{}\n", child.id()))
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|source| SupervisorError::Pidfile {
                    path: path.clone(),
                    source,
                })?;
        }
        Ok(child)
    }

    fn clear_pidfile(&self) {
        if let Some(path) = &self.pidfile {
            let _ = std::fs::remove_file(path);
        }
    }

    /// `KillMode=mixed`: SIGTERM to the main process; after `TimeoutStopSec=`, SIGKILL to its
    /// whole group. Then the rest of the group goes too.
    fn stop(&self, child: &mut Child, on_event: &mut impl FnMut(&Event)) -> Exit {
        let pid = child.id();
        on_event(&Event::Stopping { pid });
        signal(pid, libc::SIGTERM);
        let until = Instant::now() + self.policy.timeout_stop;
        let exit = loop {
            match child.try_wait() {
                Ok(Some(status)) => break exit_of(status),
                _ if Instant::now() >= until => {
                    on_event(&Event::Killed { pid });
                    kill_group(pid, libc::SIGKILL);
                    break child
                        .wait()
                        .map(exit_of)
                        .unwrap_or(Exit::Signal(libc::SIGKILL));
                }
                _ => sleep(TICK),
            }
        };
        kill_group(pid, libc::SIGKILL);
        exit
    }
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(sig)) => Exit::Signal(sig),
        (None, None) => Exit::Code(-1),
    }
}

fn signal(pid: u32, sig: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) has no memory-safety preconditions; a gone pid only returns ESRCH.
        unsafe { libc::kill(pid, sig) };
    }
}

fn kill_group(pgid: u32, sig: i32) {
    if let Ok(pgid) = i32::try_from(pgid) {
        if pgid > 1 {
            // SAFETY: as above; a negative pid names the process group.
            unsafe { libc::kill(-pgid, sig) };
        }
    }
}
