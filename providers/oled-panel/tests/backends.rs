//! Both backends as the configuration builds them: `i2c` on a bus that is not there answers `absent` (never
//! a fallback), `virtual` publishes a PNG snapshot a person can watch.

use std::collections::HashMap;
use std::path::PathBuf;

use oled_frame::Frame;
use oled_panel_provider::backend;
use oled_panel_provider::config::PanelConfig;
use oled_panel_provider::owner;
use oled_panel_provider::PanelError;

fn config(pairs: &[(&str, &str)]) -> PanelConfig {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    PanelConfig::from_map(&map).unwrap()
}

const MISSING_BUS: &str = "/dev/i2c-oled-lattice-test-missing";

#[test]
fn i2c_on_a_missing_bus_is_absent_everywhere() {
    let mut b = backend::build(&config(&[("backend", "i2c"), ("bus", MISSING_BUS)]));
    let info = b.info();
    assert_eq!((info.backend, info.bus.as_str()), ("i2c", MISSING_BUS));
    assert_eq!((info.width, info.height, info.address), (128, 64, 0x3C));

    for r in [
        b.start(None).map(drop),
        b.present(&[0; 1024]).map(drop),
        b.set_contrast(10),
        b.set_power(true),
        b.set_invert(true),
    ] {
        match r {
            Err(PanelError::Absent(msg)) => assert!(msg.contains(MISSING_BUS), "{msg}"),
            other => panic!("expected absent, got {other:?}"),
        }
    }
    assert!(b.ascii().contains(MISSING_BUS));
    let stats = b.stats();
    assert_eq!(stats.errors, 5);
    assert!(stats.last_error.unwrap().contains(MISSING_BUS));
    assert_eq!(stats.bytes, 0);
    b.shutdown(true).unwrap();
}

#[tokio::test]
async fn i2c_on_a_missing_bus_through_the_owner() {
    let b = backend::build(&config(&[("bus", MISSING_BUS), ("size", "128x32")]));
    let (handle, _thread) = owner::spawn("absent", b).unwrap();
    let err = handle.present(vec![0; 512]).await.unwrap_err();
    assert!(matches!(err, PanelError::Absent(_)), "{err:?}");
    // Geometry is known from the configuration, so components can still render.
    let info = handle.info().await.unwrap();
    assert_eq!((info.width, info.height), (128, 32));
    let stats = handle.stats().await.unwrap();
    assert_eq!(stats.backend, "i2c");
    assert!(stats.panel.errors >= 2); // start and present
}

#[cfg(target_os = "linux")]
#[test]
fn i2c_on_a_file_that_is_not_a_bus_is_absent() {
    // The path exists but is no I2C adapter: opening it as one fails, and that is an absent bus.
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("i2c-fake");
    std::fs::write(&fake, b"").unwrap();
    let mut b = backend::build(&config(&[("bus", fake.to_str().unwrap())]));
    match b.present(&[0; 1024]) {
        Err(PanelError::Absent(msg)) => assert!(msg.contains("i2c-fake"), "{msg}"),
        other => panic!("expected absent, got {other:?}"),
    }
}

#[test]
fn virtual_publishes_a_snapshot_after_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let png: PathBuf = dir.path().join("panel.png");
    let mut b = backend::build(&config(&[
        ("backend", "virtual"),
        ("snapshot", png.to_str().unwrap()),
        ("rotation", "180"),
    ]));
    let info = b.info();
    assert_eq!(info.backend, "virtual");
    assert_eq!(info.bus, png.display().to_string());
    assert_eq!(info.rotation, 180);

    b.start(None).unwrap();
    assert!(
        !png.exists(),
        "written when the owner publishes, once per batch"
    );
    b.publish();
    assert!(png.exists(), "the start (dark frame) is snapshotted");

    let mut f = Frame::new(128, 64).unwrap();
    f.set_pixel(0, 0, true);
    std::fs::remove_file(&png).unwrap();
    b.present(f.as_bytes()).unwrap();
    b.publish();
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(b.ascii().starts_with("#......"), "{}", b.ascii());

    // Nothing changed: no new snapshot.
    std::fs::remove_file(&png).unwrap();
    b.present(f.as_bytes()).unwrap();
    b.publish();
    assert!(!png.exists());
    // A refused frame changes nothing either.
    assert!(matches!(
        b.present(&[1, 2, 3]),
        Err(PanelError::BadFrame(_))
    ));
    b.publish();
    assert!(!png.exists());
    // Inversion changes what a person sees.
    b.set_invert(true).unwrap();
    b.publish();
    assert!(png.exists());
    assert!(b.ascii().starts_with(".#####"));
}

#[test]
fn virtual_without_snapshot_writes_nothing_and_answers_at_its_address() {
    let mut b = backend::build(&config(&[
        ("backend", "virtual"),
        ("snapshot", ""),
        ("address", "0x3D"),
        ("size", "128x32"),
        ("rotation", "90"),
    ]));
    let info = b.info();
    assert_eq!((info.width, info.height, info.address), (32, 128, 0x3D));
    b.start(None).unwrap();
    let mut f = Frame::new(32, 128).unwrap();
    f.set_pixel(31, 0, true);
    b.present(f.as_bytes()).unwrap();
    let first_line = b.ascii().lines().next().unwrap().to_string();
    assert_eq!(first_line, format!("{}#", ".".repeat(31)));
    assert!(matches!(
        b.present(&[0; 1024]),
        Err(PanelError::BadFrame(msg)) if msg.contains("512")
    ));
}
