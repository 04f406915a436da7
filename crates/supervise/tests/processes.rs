//! The supervisor against real processes: restarts after kill -9, none after SIGTERM, a give-up
//! on a crash loop, SIGKILL for a process that ignores SIGTERM.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use oled_supervise::{Controls, Event, Exit, Policy, Restart, Supervisor};

fn sup(restart: Restart, script: &str) -> Supervisor {
    Supervisor {
        policy: Policy {
            restart,
            restart_sec: Duration::from_millis(200),
            timeout_stop: Duration::from_millis(500),
            start_limit_interval: Duration::from_secs(10),
            start_limit_burst: 3,
        },
        command: vec!["sh".into(), "-c".into(), script.into()],
        pidfile: None,
    }
}

/// Runs `s` in a thread; returns its controls, its events so far and the thread.
#[allow(clippy::type_complexity)]
fn spawn(
    s: Supervisor,
) -> (
    Arc<Controls>,
    Arc<Mutex<Vec<Event>>>,
    thread::JoinHandle<Option<Exit>>,
) {
    let controls = Arc::new(Controls::default());
    let events = Arc::new(Mutex::new(Vec::new()));
    let (c, e) = (controls.clone(), events.clone());
    let t = thread::spawn(move || {
        s.run(&c, |ev| e.lock().unwrap().push(ev.clone()))
            .expect("supervising")
    });
    (controls, events, t)
}

fn started(events: &Mutex<Vec<Event>>) -> Vec<u32> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Started { pid } => Some(*pid),
            _ => None,
        })
        .collect()
}

fn wait_for(what: impl Fn() -> bool) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if what() {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    false
}

fn kill(pid: u32, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(pid as i32, sig) };
}

#[test]
fn kill_9_restarts_on_failure_and_sigterm_does_not() {
    let (controls, events, t) = spawn(sup(Restart::OnFailure, "sleep 30"));
    assert!(wait_for(|| started(&events).len() == 1));
    let first = started(&events)[0];
    let t0 = Instant::now();
    kill(first, libc::SIGKILL);
    assert!(wait_for(|| started(&events).len() == 2), "{events:?}");
    // RestartSec= was waited.
    assert!(t0.elapsed() >= Duration::from_millis(200));
    let second = started(&events)[1];
    assert_ne!(first, second);
    kill(second, libc::SIGTERM);
    let exit = t.join().unwrap();
    assert_eq!(exit, Some(Exit::Signal(libc::SIGTERM)));
    assert_eq!(started(&events).len(), 2);
    assert!(!controls.stop.load(Ordering::SeqCst));
}

#[test]
fn restart_no_leaves_a_killed_process_down() {
    let (_c, events, t) = spawn(sup(Restart::No, "sleep 30"));
    assert!(wait_for(|| started(&events).len() == 1));
    kill(started(&events)[0], libc::SIGKILL);
    assert_eq!(t.join().unwrap(), Some(Exit::Signal(libc::SIGKILL)));
    assert_eq!(started(&events).len(), 1);
}

#[test]
fn a_crash_loop_is_given_up() {
    let (_c, events, t) = spawn(sup(Restart::Always, "exit 3"));
    assert_eq!(t.join().unwrap(), None);
    assert_eq!(started(&events).len(), 3);
    assert!(matches!(
        events.lock().unwrap().last(),
        Some(Event::GaveUp { burst: 3, .. })
    ));
}

#[test]
fn a_stop_kills_what_ignores_sigterm() {
    let (controls, events, t) = spawn(sup(Restart::Always, "trap '' TERM; sleep 30 & wait"));
    assert!(wait_for(|| started(&events).len() == 1));
    thread::sleep(Duration::from_millis(100)); // let the shell install its trap
    let t0 = Instant::now();
    controls.stop.store(true, Ordering::SeqCst);
    t.join().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, Event::Killed { .. })));
}

#[test]
fn a_restart_asked_for_starts_at_once() {
    let (controls, events, t) = spawn(sup(Restart::OnFailure, "sleep 30"));
    assert!(wait_for(|| started(&events).len() == 1));
    controls.restart.store(true, Ordering::SeqCst);
    assert!(wait_for(|| started(&events).len() == 2));
    controls.stop.store(true, Ordering::SeqCst);
    t.join().unwrap();
}
