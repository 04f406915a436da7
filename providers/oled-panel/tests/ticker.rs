//! Tickers through the panel's owner on the real clock: the hardware path moves with no bus bytes,
//! the software path steps by itself, `shown` follows either, and new text stops a ticker cleanly.

use std::time::Duration;

use oled_driver::ticker::TickerPath;
use oled_frame::{Frame, Strip};
use oled_panel_provider::backend::VirtualBackend;
use oled_panel_provider::config::{BackendKind, PanelConfig};
use oled_panel_provider::owner::{self, TickerAsk};
use virtual_ssd1306::{PanelSize, SharedPanel, VirtualSsd1306};

fn config() -> PanelConfig {
    PanelConfig {
        backend: BackendKind::Virtual,
        snapshot: None,
        ..PanelConfig::default()
    }
}

fn ask(width: u16, speed: u16, software: bool) -> TickerAsk {
    let mut strip = Strip::new(width, 2).unwrap();
    for x in 0..width {
        strip.set_pixel(x, x % 16, true);
    }
    let mut frame = Frame::new(128, 64).unwrap();
    strip.paint(0, &mut frame, 3);
    TickerAsk {
        size: (128, 64),
        frame: frame.into_bytes(),
        strip_width: width,
        strip_pages: 2,
        strip: strip.as_bytes().to_vec(),
        top_page: 3,
        speed,
        software,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hardware_path_moves_without_bytes_and_new_text_stops_it() {
    let shared = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
    let backend = VirtualBackend::with_shared(&config(), shared.clone());
    let (h, thread) = owner::spawn("ticker-hw", Box::new(backend)).unwrap();
    h.ready().await;
    let started = h
        .present_ticker(ask(128, 40, false), "moving".into())
        .await
        .unwrap();
    assert_eq!(started.path, TickerPath::Hardware);
    assert!(started.speed > 20.0 && started.speed < 60.0, "{started:?}");
    let first = h.shown().await.unwrap();
    let bytes = h.stats().await.unwrap().panel.bytes;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = h.shown().await.unwrap();
    let glass = h.ascii().await;
    let stats = h.stats().await.unwrap();
    assert_eq!(stats.panel.bytes, bytes, "no bytes per step");
    assert_ne!(first, later, "shown follows the scroll");
    assert_ne!(glass, first.to_ascii(), "the emulated glass scrolled");
    let report = stats.ticker.expect("the ticker is in the stats");
    assert_eq!((report.path, report.columns), ("hardware", 128));
    assert_eq!(h.last_text().await.as_deref(), Some("moving"));

    // New text: the scroll stops, the scrolled pages are rewritten, the picture is exact.
    let next = Frame::new(128, 64).unwrap();
    h.present_text(next.as_bytes().to_vec(), Some("still".into()))
        .await
        .unwrap();
    assert!(!shared.with(|p| p.state().scrolling));
    assert_eq!(shared.with(|p| p.visible()), next);
    assert_eq!(shared.with(|p| p.stats().data_while_scrolling), 0);
    assert!(h.stats().await.unwrap().ticker.is_none());
    h.shutdown(false).await.unwrap();
    thread.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_software_path_steps_by_itself_until_stopped() {
    let shared = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
    let backend = VirtualBackend::with_shared(&config(), shared.clone());
    let (h, thread) = owner::spawn("ticker-sw", Box::new(backend)).unwrap();
    h.ready().await;
    let started = h
        .present_ticker(ask(300, 40, false), "long".into())
        .await
        .unwrap();
    assert_eq!(started.path, TickerPath::Software);
    assert!(started.why_software.unwrap().contains("300 columns"));
    let first = shared.with(|p| p.visible());
    let bytes = h.stats().await.unwrap().panel.bytes;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let moved = shared.with(|p| p.visible());
    assert_ne!(first, moved, "the provider stepped");
    let stats = h.stats().await.unwrap();
    assert!(stats.panel.bytes > bytes, "steps cost bytes");
    // About 28 steps in 0.7 s at 40 columns a second (fewer if the machine is busy).
    assert!(stats.panel.updates >= 5, "{:?}", stats.panel);

    // A second ticker replaces the first; then clear: no step comes after it.
    h.present_ticker(ask(300, 40, true), "again".into())
        .await
        .unwrap();
    let blank = Frame::new(128, 64).unwrap();
    h.present_text(blank.as_bytes().to_vec(), Some(String::new()))
        .await
        .unwrap();
    let after = h.stats().await.unwrap().panel.updates;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        h.stats().await.unwrap().panel.updates,
        after,
        "stepping stopped"
    );
    assert_eq!(shared.with(|p| p.visible()), blank);
    h.shutdown(false).await.unwrap();
    thread.join().unwrap();
}

#[tokio::test]
async fn a_ticker_for_another_size_or_speed_is_refused_and_nothing_changes() {
    let shared = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
    let backend = VirtualBackend::with_shared(&config(), shared.clone());
    let (h, thread) = owner::spawn("ticker-bad", Box::new(backend)).unwrap();
    h.ready().await;
    let mut wrong = ask(300, 40, false);
    wrong.size = (64, 128);
    assert!(matches!(
        h.present_ticker(wrong, "x".into()).await,
        Err(oled_panel_provider::PanelError::BadFrame(_))
    ));
    assert!(matches!(
        h.present_ticker(ask(300, 0, false), "x".into()).await,
        Err(oled_panel_provider::PanelError::Invalid(_))
    ));
    let mut short = ask(300, 40, false);
    short.strip.truncate(10);
    assert!(h.present_ticker(short, "x".into()).await.is_err());
    assert!(h.stats().await.unwrap().ticker.is_none());
    h.shutdown(false).await.unwrap();
    thread.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticker_runs_again_after_a_restart_and_stopped_stays_stopped() {
    use oled_panel_provider::owner::Startup;
    use oled_panel_provider::state::StateFile;
    let dir = tempfile::tempdir().unwrap();
    let file = StateFile::at(dir.path().join("panel.state"));
    let start = |shared: &SharedPanel| {
        let backend = VirtualBackend::with_shared(&config(), shared.clone());
        owner::spawn_with(
            "ticker-restart",
            Box::new(backend),
            Startup {
                state: Some(file.clone()),
                predecessor: None,
                journal: 0,
            },
        )
        .unwrap()
    };
    let first = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
    let (h, thread) = start(&first);
    h.ready().await;
    h.present_ticker(ask(300, 40, false), "around and around".into())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    h.shutdown(false).await.unwrap();
    thread.join().unwrap();

    // A new process, a panel that lost power: the ticker is back, moving, with its text.
    let second = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
    let (h, thread) = start(&second);
    h.ready().await;
    let report = h
        .stats()
        .await
        .unwrap()
        .ticker
        .expect("the ticker runs again");
    assert_eq!((report.path, report.columns), ("software", 300));
    assert_eq!(h.last_text().await.as_deref(), Some("around and around"));
    let a = second.with(|p| p.visible());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_ne!(a, second.with(|p| p.visible()), "it moves");
    // New text ends it, and a restart after that shows the text, not the ticker.
    let still = Frame::new(128, 64).unwrap();
    h.present_text(still.as_bytes().to_vec(), Some("still".into()))
        .await
        .unwrap();
    h.shutdown(false).await.unwrap();
    thread.join().unwrap();
    let third = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
    let (h, thread) = start(&third);
    h.ready().await;
    assert!(h.stats().await.unwrap().ticker.is_none());
    assert_eq!(third.with(|p| p.visible()), still);
    h.shutdown(false).await.unwrap();
    thread.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panel_switched_off_by_night_mode_gets_no_steps_until_it_wakes() {
    let shared = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
    let mut cfg = config();
    cfg.care.off_after = Some(Duration::from_millis(500));
    let backend = VirtualBackend::with_shared(&cfg, shared.clone());
    let (h, thread) = owner::spawn("ticker-night", Box::new(backend)).unwrap();
    h.ready().await;
    h.present_ticker(ask(300, 40, false), "at night".into())
        .await
        .unwrap();
    // The care ticker looks once a second: off within about 1.5 s of the last update.
    let mut off = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if !shared.with(|p| p.state().display_on) {
            off = true;
            break;
        }
    }
    assert!(off, "night mode switched the panel off");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let bytes = h.stats().await.unwrap().panel.bytes;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        h.stats().await.unwrap().panel.bytes,
        bytes,
        "no steps while off"
    );
    h.shutdown(false).await.unwrap();
    thread.join().unwrap();
}
