//! The single owner task: concurrent callers are served whole, one after the other; faults and panics in a
//! call never stop it; shutdown leaves the panel as configured. No NATS.

use std::path::Path;

use oled_driver::plan::{self, Block, Cursor};
use oled_frame::{Frame, Window};
use oled_panel_provider::backend::{I2cBackend, VirtualBackend};
use oled_panel_provider::config::{BackendKind, PanelConfig};
use oled_panel_provider::owner;
use oled_panel_provider::PanelError;
use virtual_ssd1306::{SharedPanel, Transaction, VirtualSsd1306};

fn virtual_config() -> PanelConfig {
    PanelConfig {
        backend: BackendKind::Virtual,
        snapshot: None,
        ..PanelConfig::default()
    }
}

fn logged_emulator() -> SharedPanel {
    let mut p = VirtualSsd1306::new(virtual_ssd1306::PanelSize::W128xH64, 0x3C);
    p.set_logging(true);
    SharedPanel::new(p)
}

/// Task `k`'s frame number `i`: a few marks that differ from every other task's and iteration's frames.
fn frame_for(k: u16, i: u16) -> Frame {
    let mut f = Frame::new(128, 64).unwrap();
    for j in 0..4 {
        f.set_pixel((k * 13 + i * 5 + j * 31) % 128, (k * 7 + j * 17) % 64, true);
    }
    f.set_pixel(k, 63, true);
    f.set_pixel(127 - i, 0, true);
    f
}

/// The transactions a present from `old` to `new` must produce from `cursor` (where the previous
/// update left the controller's pointer), and the cursor after them.
fn expected_transactions(old: &Frame, new: &Frame, cursor: Cursor) -> (Vec<Vec<u8>>, Cursor) {
    let blocks = plan::plan(old, new, cursor);
    let mut out = Vec::new();
    let after = plan::encode(&blocks, new, cursor, &mut out);
    (out, after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_presents_are_served_whole_never_interleaved() {
    const TASKS: u16 = 8;
    const EACH: u16 = 15;
    let shared = logged_emulator();
    let backend = VirtualBackend::with_shared(&virtual_config(), shared.clone());
    let (handle, thread) = owner::spawn("test", Box::new(backend)).unwrap();

    let mut tasks = Vec::new();
    for k in 0..TASKS {
        let h = handle.clone();
        tasks.push(tokio::spawn(async move {
            let mut costs = Vec::new();
            for i in 0..EACH {
                let frame = frame_for(k, i);
                let cost = h.present(frame.as_bytes().to_vec()).await.unwrap();
                costs.push((frame, cost));
                tokio::task::yield_now().await;
            }
            costs
        }));
    }
    let mut pending: Vec<(Frame, oled_panel_provider::PresentCost)> = Vec::new();
    for t in tasks {
        pending.extend(t.await.unwrap());
    }
    handle.shutdown(false).await.unwrap();
    tokio::task::spawn_blocking(move || thread.join().unwrap())
        .await
        .unwrap();

    let log: Vec<Transaction> = shared.with(|p| p.take_log());
    // The owner started the panel: init (17 command transactions) and a dark full frame.
    assert!(log[..17].iter().all(|t| t.bytes[0] == 0x00));
    let dark = Frame::new(128, 64).unwrap();
    let mut full = Vec::new();
    let mut cursor = plan::encode(
        &[Block::Window(Window::full(&dark))],
        &dark,
        Cursor::unknown(),
        &mut full,
    );
    assert_eq!(log[17].bytes, full[0]);
    assert_eq!(log[18].bytes.len(), 1025);
    let mut pos = 19;
    let mut state = dark;
    let total = pending.len();

    // Replay: each next stretch of the log must be exactly one caller's whole update from the state the
    // panel was in. An interleaving would leave a stretch that no single present explains.
    while !pending.is_empty() {
        let found = pending.iter().position(|(frame, cost)| {
            let (want, _) = expected_transactions(&state, frame, cursor);
            want.len() == cost.transactions as usize
                && log.len() >= pos + want.len()
                && log[pos..pos + want.len()]
                    .iter()
                    .zip(&want)
                    .all(|(t, w)| t.bytes == *w)
        });
        let Some(idx) = found else {
            panic!(
                "log position {pos}: no single present explains the next transactions ({} of {total} matched)",
                total - pending.len()
            );
        };
        let (frame, cost) = pending.remove(idx);
        pos += cost.transactions as usize;
        cursor = expected_transactions(&state, &frame, cursor).1;
        state = frame;
    }
    assert_eq!(pos, log.len(), "nothing else went on the bus");
    assert_eq!(shared.with(|p| p.visible()), state);
}

#[tokio::test]
async fn the_owner_reports_info_ascii_and_stats() {
    let shared = logged_emulator();
    let backend = VirtualBackend::with_shared(&virtual_config(), shared.clone());
    let (handle, _thread) = owner::spawn("test", Box::new(backend)).unwrap();
    let info = handle.info().await.unwrap();
    assert_eq!(
        (info.width, info.height, info.backend, info.driver),
        (128, 64, "virtual", "ssd1306")
    );

    let mut f = Frame::new(128, 64).unwrap();
    f.set_pixel(1, 0, true);
    let cost = handle.present(f.as_bytes().to_vec()).await.unwrap();
    // Page 0, column 1, after the start's full frame: page addressing (5 commands) and 1 data byte.
    assert_eq!(cost.bytes, 7 + 3);
    assert!(handle.ascii().await.starts_with(".#...."));

    let bad = handle.present(vec![0; 3]).await.unwrap_err();
    assert!(matches!(bad, PanelError::BadFrame(_)));

    let stats = handle.stats().await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&stats.to_json()).unwrap();
    for key in [
        "updates",
        "bytes",
        "transactions",
        "errors",
        "last_error",
        "backend",
        "full_refreshes",
    ] {
        assert!(json.get(key).is_some(), "{key} missing in {json}");
    }
    assert_eq!(json["backend"], "virtual");
    // The start's dark frame and our present.
    assert_eq!(json["updates"], 2);
    assert_eq!(json["full_refreshes"], 1);
    assert_eq!(json["bytes"], 60 + 1036 + 10);
    assert_eq!(json["errors"], 0);
    // Where the owner's time went: one timed present, and batches flushed.
    assert_eq!(json["timing"]["presents"], 2, "{json}");
    assert!(json["timing"]["batches"].as_u64().unwrap() >= 2, "{json}");

    handle.shutdown(false).await.unwrap();
    assert!(matches!(
        handle.present(f.as_bytes().to_vec()).await,
        Err(PanelError::Absent(_))
    ));
}

#[tokio::test]
async fn faults_come_back_typed_and_the_owner_keeps_going() {
    let shared = logged_emulator();
    let backend = VirtualBackend::with_shared(&virtual_config(), shared.clone());
    let (handle, _thread) = owner::spawn("test", Box::new(backend)).unwrap();
    handle.info().await.unwrap(); // the start has run
    assert_eq!(handle.health().await, Ok(()));

    let mut f = Frame::new(128, 64).unwrap();
    f.set_pixel(3, 3, true);
    shared.with(|p| p.set_present(false));
    // Nothing acknowledges the address: the panel is absent (unplugged), not a bus fault.
    let err = handle.present(f.as_bytes().to_vec()).await.unwrap_err();
    assert!(matches!(err, PanelError::Absent(_)), "{err:?}");
    // Unhealthy with the fault until a call brings the panel back; asking sends nothing.
    let sent = shared.with(|p| p.stats().transactions);
    let why = handle.health().await.unwrap_err();
    assert!(why.contains("panel absent"), "{why}");
    assert_eq!(shared.with(|p| p.stats().transactions), sent);
    assert!(matches!(
        handle.set_contrast(1).await,
        Err(PanelError::Absent(_))
    ));

    shared.with(|p| p.set_present(true));
    let cost = handle.present(f.as_bytes().to_vec()).await.unwrap();
    assert!(cost.full_refresh);
    assert_eq!(shared.with(|p| p.visible()), f);
    assert_eq!(handle.health().await, Ok(()));
    let stats = handle.stats().await.unwrap();
    // An absent panel is not counted as a bus error; the last fault is still reported.
    assert_eq!(stats.panel.errors, 0);
    assert!(stats.panel.last_error.unwrap().contains("panel absent"));
}

/// A bus that panics on any transaction longer than a command: a driver bug, as far as the owner knows.
struct PanickyBus;

impl embedded_hal::i2c::ErrorType for PanickyBus {
    type Error = embedded_hal::i2c::ErrorKind;
}

impl embedded_hal::i2c::I2c for PanickyBus {
    fn transaction(
        &mut self,
        _address: u8,
        operations: &mut [embedded_hal::i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        let len: usize = operations
            .iter()
            .map(|o| match o {
                embedded_hal::i2c::Operation::Write(b) => b.len(),
                embedded_hal::i2c::Operation::Read(b) => b.len(),
            })
            .sum();
        assert!(len < 100, "boom");
        Ok(())
    }
}

#[tokio::test]
async fn a_panic_inside_a_call_is_a_bus_error_not_a_dead_provider() {
    let config = PanelConfig::default();
    let backend = I2cBackend::<PanickyBus>::new(&config, |_: &Path| Ok(PanickyBus));
    let (handle, _thread) = owner::spawn("panicky", Box::new(backend)).unwrap();
    let err = handle.present(vec![0; 1024]).await.unwrap_err();
    match err {
        PanelError::Bus { detail, .. } => assert!(detail.contains("boom"), "{detail}"),
        other => panic!("{other:?}"),
    }
    // Still serving, and small calls (re-init included) work.
    handle.set_contrast(3).await.unwrap();
    handle.info().await.unwrap();
    assert!(!handle.is_closed());
}

#[tokio::test]
async fn shutdown_keeps_the_last_frame_or_blanks_when_asked() {
    for blank in [false, true] {
        let shared = logged_emulator();
        let backend = VirtualBackend::with_shared(&virtual_config(), shared.clone());
        let (handle, thread) = owner::spawn("test", Box::new(backend)).unwrap();
        let mut f = Frame::new(128, 64).unwrap();
        f.fill(true);
        handle.present(f.as_bytes().to_vec()).await.unwrap();
        handle.shutdown(blank).await.unwrap();
        tokio::task::spawn_blocking(move || thread.join().unwrap())
            .await
            .unwrap();
        let visible = shared.with(|p| p.visible());
        if blank {
            assert_eq!(visible.lit_pixels(), 0);
            assert!(!shared.with(|p| p.state()).display_on);
            // GDDRAM is kept.
            assert!(shared.with(|p| p.gddram().iter().all(|b| *b == 0xFF)));
        } else {
            assert_eq!(visible, f);
        }
    }
}

#[test]
fn dropping_every_handle_stops_the_owner() {
    let backend = VirtualBackend::with_shared(&virtual_config(), logged_emulator());
    let (handle, thread) = owner::spawn("test", Box::new(backend)).unwrap();
    drop(handle);
    thread.join().unwrap();
}
