//! The provider's own layers without NATS: `init` with named config, link config per component, the wRPC
//! handlers called directly as the generated `serve` would call them, shutdown.

use std::collections::HashMap;

use oled_frame::Frame;
use oled_panel_provider::bindings::exports::oled_lattice::panel::inspect::Handler as Inspect;
use oled_panel_provider::bindings::exports::oled_lattice::panel::panel::Handler as PanelApi;
use oled_panel_provider::bindings::oled_lattice::panel::types::PanelError;
use oled_panel_provider::provider::OledPanelProvider;
use wasmcloud_provider_sdk::core::secrets::SecretValue;
use wasmcloud_provider_sdk::{Context, Provider, ProviderInitConfig};

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

struct Init {
    config: HashMap<String, String>,
    secrets: HashMap<String, SecretValue>,
}

impl ProviderInitConfig for Init {
    fn get_provider_id(&self) -> &str {
        "oled-panel-test"
    }

    fn get_config(&self) -> &HashMap<String, String> {
        &self.config
    }

    fn get_secrets(&self) -> &HashMap<String, SecretValue> {
        &self.secrets
    }
}

fn init(pairs: &[(&str, &str)]) -> Init {
    Init {
        config: map(pairs),
        secrets: HashMap::new(),
    }
}

fn from(component: &str) -> Option<Context> {
    Some(Context {
        component: Some(component.to_string()),
        ..Context::default()
    })
}

/// A call from `component` over its link `link_name`, as the host sends it (`link-name` header).
fn over(component: &str, link_name: &str) -> Option<Context> {
    Some(Context {
        component: Some(component.to_string()),
        tracing: HashMap::from([("link-name".to_string(), link_name.to_string())]),
    })
}

fn bytes(f: &Frame) -> wit_bindgen_wrpc::bytes::Bytes {
    wit_bindgen_wrpc::bytes::Bytes::copy_from_slice(f.as_bytes())
}

#[tokio::test]
async fn init_rejects_invalid_config_naming_the_key() {
    for (key, value) in [("address", "0xZZ"), ("size", "100x7"), ("rotation", "45")] {
        let p = OledPanelProvider::default();
        let err = p
            .init(init(&[("backend", "virtual"), (key, value)]))
            .await
            .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains(&format!("`{key}`")), "{msg}");
        assert!(msg.contains(value), "{msg}");
        assert!(msg.contains("accepted values"), "{msg}");
    }
}

#[tokio::test]
async fn calls_before_init_are_absent() {
    let p = OledPanelProvider::default();
    let r = PanelApi::present(&p, None, bytes(&Frame::new(128, 64).unwrap()))
        .await
        .unwrap();
    assert!(matches!(r, Err(PanelError::Absent(_))), "{r:?}");
}

#[tokio::test]
async fn a_virtual_panel_served_through_the_handlers() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("panel.png");
    let p = OledPanelProvider::default();
    p.init(init(&[
        ("backend", "virtual"),
        ("snapshot", png.to_str().unwrap()),
        ("contrast", "200"),
    ]))
    .await
    .unwrap();

    let info = PanelApi::info(&p, None).await.unwrap().unwrap();
    assert_eq!((info.width, info.height, info.rotation), (128, 64, 0));
    assert_eq!(
        (info.driver.as_str(), info.backend.as_str()),
        ("ssd1306", "virtual")
    );
    assert_eq!(info.bus, png.display().to_string());
    assert_eq!(info.address, 0x3C);

    let mut f = Frame::new(128, 64).unwrap();
    f.set_pixel(2, 0, true);
    let cost = PanelApi::present(&p, from("display"), bytes(&f))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (cost.bytes, cost.transactions, cost.pages_touched),
        (10, 2, 1)
    );
    assert!(!cost.full_refresh);
    let same = PanelApi::present(&p, None, bytes(&f))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((same.bytes, same.transactions), (0, 0));

    let bad = PanelApi::present(
        &p,
        None,
        wit_bindgen_wrpc::bytes::Bytes::from_static(b"short"),
    )
    .await
    .unwrap();
    match bad {
        Err(PanelError::BadFrame(msg)) => assert!(msg.contains("1024"), "{msg}"),
        other => panic!("{other:?}"),
    }

    PanelApi::set_contrast(&p, None, 10).await.unwrap().unwrap();
    PanelApi::set_invert(&p, None, false)
        .await
        .unwrap()
        .unwrap();
    PanelApi::set_power(&p, None, true).await.unwrap().unwrap();

    let ascii = Inspect::ascii(&p, None).await.unwrap();
    assert_eq!(ascii.lines().count(), 64);
    assert!(ascii.starts_with("..#....."));
    let stats: serde_json::Value =
        serde_json::from_str(&Inspect::stats(&p, None).await.unwrap()).unwrap();
    assert_eq!(stats["backend"], "virtual");
    assert_eq!(stats["updates"], 3); // start, present, identical present
    assert_eq!(stats["full_refreshes"], 1);
    assert_eq!(stats["errors"], 0);
    assert!(stats["last_error"].is_null());
    // init 60 + contrast at init 8, dark frame 1036, one pixel 10, contrast 8, invert 3, power 3.
    assert_eq!(stats["bytes"], 60 + 8 + 1036 + 10 + 8 + 3 + 3);
    assert!(png.exists());

    p.shutdown().await.unwrap();
    let after = PanelApi::present(&p, None, bytes(&f)).await.unwrap();
    assert!(matches!(after, Err(PanelError::Absent(_))));
}

#[tokio::test]
async fn an_absent_i2c_bus_is_reported_in_every_present() {
    let p = OledPanelProvider::default();
    p.init(init(&[
        ("backend", "i2c"),
        ("bus", "/dev/i2c-oled-lattice-missing"),
    ]))
    .await
    .unwrap();
    for _ in 0..3 {
        let r = PanelApi::present(&p, None, bytes(&Frame::new(128, 64).unwrap()))
            .await
            .unwrap();
        match r {
            Err(PanelError::Absent(msg)) => assert!(msg.contains("/dev/i2c-oled-lattice-missing")),
            other => panic!("{other:?}"),
        }
    }
    let info = PanelApi::info(&p, None).await.unwrap().unwrap();
    assert_eq!(info.backend, "i2c");
    let stats: serde_json::Value =
        serde_json::from_str(&Inspect::stats(&p, None).await.unwrap()).unwrap();
    assert_eq!(stats["backend"], "i2c");
    assert!(stats["last_error"].as_str().unwrap().contains("absent"));
    p.shutdown().await.unwrap();
}

#[tokio::test]
async fn link_config_selects_or_rejects_a_panel_per_component() {
    let dir = tempfile::tempdir().unwrap();
    let main_png = dir.path().join("main.png");
    let second_png = dir.path().join("second.png");
    let p = OledPanelProvider::default();
    p.init(init(&[
        ("backend", "virtual"),
        ("snapshot", main_png.to_str().unwrap()),
    ]))
    .await
    .unwrap();

    // A link without config uses the provider's panel.
    p.link("plain", &HashMap::new()).await.unwrap();
    // A second panel at 0x3D, rotated, with its own snapshot.
    p.link(
        "portrait",
        &map(&[
            ("address", "0x3D"),
            ("rotation", "90"),
            ("snapshot", second_png.to_str().unwrap()),
        ]),
    )
    .await
    .unwrap();
    // Same device as the provider's panel, different geometry: refused.
    let conflict = p
        .link("rotator", &map(&[("rotation", "180")]))
        .await
        .unwrap_err();
    assert!(conflict.contains("conflicts"), "{conflict}");
    // Invalid values: refused with the key named.
    let invalid = p
        .link("broken", &map(&[("size", "100x7")]))
        .await
        .unwrap_err();
    assert!(
        invalid.contains("`size`") && invalid.contains("128x64, 128x32, 96x16"),
        "{invalid}"
    );
    // A second virtual panel on the same snapshot file: refused.
    let clash = p
        .link("clash", &map(&[("address", "0x3D")]))
        .await
        .unwrap_err();
    assert!(clash.contains("snapshot"), "{clash}");

    let plain = PanelApi::info(&p, from("plain")).await.unwrap().unwrap();
    assert_eq!((plain.width, plain.height, plain.address), (128, 64, 0x3C));
    let portrait = PanelApi::info(&p, from("portrait")).await.unwrap().unwrap();
    assert_eq!(
        (portrait.width, portrait.height, portrait.address),
        (64, 128, 0x3D)
    );
    assert_eq!(portrait.bus, second_png.display().to_string());
    let unlinked = PanelApi::info(&p, from("wash-call"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unlinked.address, 0x3C);
    for c in ["rotator", "broken", "clash"] {
        match PanelApi::present(&p, from(c), bytes(&Frame::new(128, 64).unwrap()))
            .await
            .unwrap()
        {
            Err(PanelError::Invalid(msg)) => assert!(msg.contains(c), "{msg}"),
            other => panic!("{c}: {other:?}"),
        }
    }

    // Each component draws on its own panel.
    let mut tall = Frame::new(64, 128).unwrap();
    tall.set_pixel(0, 127, true);
    PanelApi::present(&p, from("portrait"), bytes(&tall))
        .await
        .unwrap()
        .unwrap();
    let ascii = Inspect::ascii(&p, from("portrait")).await.unwrap();
    assert_eq!(ascii.lines().count(), 128);
    assert!(ascii.lines().last().unwrap().starts_with('#'));
    assert_eq!(
        Inspect::ascii(&p, None).await.unwrap().matches('#').count(),
        0
    );

    // Unlinking frees the second panel; the component falls back to the provider's panel.
    p.unlink("portrait").await;
    let after = PanelApi::info(&p, from("portrait")).await.unwrap().unwrap();
    assert_eq!(after.address, 0x3C);
    // Unlinking a refused link clears its refusal.
    p.unlink("broken").await;
    assert!(PanelApi::info(&p, from("broken")).await.unwrap().is_ok());
    p.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_config_update_reconfigures_the_panel() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("p.png");
    let snapshot = png.to_str().unwrap();
    let p = OledPanelProvider::default();
    p.init(init(&[("backend", "virtual"), ("snapshot", snapshot)]))
        .await
        .unwrap();
    assert_eq!(PanelApi::info(&p, None).await.unwrap().unwrap().width, 128);

    let update = map(&[
        ("backend", "virtual"),
        ("snapshot", snapshot),
        ("rotation", "270"),
    ]);
    p.on_config_update(&update).await.unwrap();
    let info = PanelApi::info(&p, None).await.unwrap().unwrap();
    assert_eq!((info.width, info.height, info.rotation), (64, 128, 270));

    // An invalid update is refused and the panel keeps going as it was.
    let bad = map(&[("backend", "virtual"), ("rotation", "45")]);
    let err = p.on_config_update(&bad).await.unwrap_err();
    assert!(format!("{err:#}").contains("`rotation`"));
    assert_eq!(
        PanelApi::info(&p, None).await.unwrap().unwrap().rotation,
        270
    );
    p.shutdown().await.unwrap();
}

#[tokio::test]
async fn health_follows_the_panel() {
    let p = OledPanelProvider::default();
    let h = p.health().await;
    assert!(h.healthy, "{h:?}");

    p.init(init(&[("backend", "virtual")])).await.unwrap();
    let h = p.health().await;
    assert!(h.healthy, "{h:?}");
    assert!(h.message.unwrap_or_default().starts_with("ok: "));

    // A bus that is not there: unhealthy, and the message says which bus and why.
    let p = OledPanelProvider::default();
    p.init(init(&[
        ("backend", "i2c"),
        ("bus", "/dev/oled-lattice-no-such-i2c"),
    ]))
    .await
    .unwrap();
    let h = p.health().await;
    assert!(!h.healthy, "{h:?}");
    let msg = h.message.unwrap_or_default();
    assert!(
        msg.contains("/dev/oled-lattice-no-such-i2c") && msg.contains("absent"),
        "{msg}"
    );
    p.stop().await;
}

/// Two panels on one bus (0x3C and 0x3D), one component, two links by name: each call goes to the
/// panel of the link it came over; the default link is another route; unlinking one name leaves
/// the others.
#[tokio::test]
async fn named_links_from_one_component_reach_their_own_panels() {
    let dir = tempfile::tempdir().unwrap();
    let left = dir.path().join("left.png");
    let right = dir.path().join("right.png");
    let p = OledPanelProvider::default();
    p.init(init(&[
        ("backend", "virtual"),
        ("snapshot", left.to_str().unwrap()),
    ]))
    .await
    .unwrap();
    let right_cfg = map(&[("address", "0x3D"), ("snapshot", right.to_str().unwrap())]);
    p.link_named("display", "kitchen-left", &HashMap::new())
        .await
        .unwrap();
    p.link_named("display", "kitchen-right", &right_cfg)
        .await
        .unwrap();
    p.link("display", &HashMap::new()).await.unwrap();

    let l = PanelApi::info(&p, over("display", "kitchen-left"))
        .await
        .unwrap()
        .unwrap();
    let r = PanelApi::info(&p, over("display", "kitchen-right"))
        .await
        .unwrap()
        .unwrap();
    let d = PanelApi::info(&p, over("display", "default"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((l.address, r.address, d.address), (0x3C, 0x3D, 0x3C));

    let mut dot = Frame::new(128, 64).unwrap();
    dot.set_pixel(5, 5, true);
    PanelApi::present_text(
        &p,
        over("display", "kitchen-right"),
        bytes(&dot),
        "right".into(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        PanelApi::last_text(&p, over("display", "kitchen-right"))
            .await
            .unwrap()
            .unwrap(),
        Some("right".to_string())
    );
    assert_eq!(
        Inspect::ascii(&p, over("display", "kitchen-left"))
            .await
            .unwrap()
            .matches('#')
            .count(),
        0,
        "the other panel on the bus is untouched"
    );

    // Unlinking one name leaves the others; calls over it fall back to the provider's panel.
    p.unlink_named("display", "kitchen-right").await;
    let after = PanelApi::info(&p, over("display", "kitchen-right"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.address, 0x3C);
    let still = PanelApi::info(&p, over("display", "kitchen-left"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.address, 0x3C);
    p.shutdown().await.unwrap();
}

/// Night mode through the provider, on its real clock (the owner ticks once a second): dimmed after
/// `dim_after`, off after `off_after`, awake again with the next update; inspect.stats says so.
#[tokio::test]
async fn night_mode_dims_switches_off_and_wakes_on_the_next_update() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("night.png");
    let p = OledPanelProvider::default();
    p.init(init(&[
        ("backend", "virtual"),
        ("snapshot", png.to_str().unwrap()),
        ("dim_after", "0.02"), // 1.2 s
        ("dim_contrast", "3"),
        ("off_after", "0.06"), // 3.6 s
    ]))
    .await
    .unwrap();
    let level = |stats: String| -> String {
        let v: serde_json::Value = serde_json::from_str(&stats).unwrap();
        v["care"]["level"].as_str().unwrap_or("?").to_string()
    };
    let mut dot = Frame::new(128, 64).unwrap();
    dot.set_pixel(9, 9, true);
    PanelApi::present(&p, None, bytes(&dot))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(level(Inspect::stats(&p, None).await.unwrap()), "awake");
    let wait_for = |want: &'static str| {
        let p = p.clone();
        async move {
            for _ in 0..80 {
                if level(Inspect::stats(&p, None).await.unwrap()) == want {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            false
        }
    };
    assert!(wait_for("dimmed").await, "dimmed after 1.2 s idle");
    assert!(wait_for("off").await, "off after 3.6 s idle");
    assert_eq!(
        Inspect::ascii(&p, None).await.unwrap().matches('#').count(),
        0,
        "dark while off"
    );
    PanelApi::present(&p, None, bytes(&dot))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        level(Inspect::stats(&p, None).await.unwrap()),
        "awake",
        "the update woke it"
    );
    assert_eq!(
        Inspect::ascii(&p, None).await.unwrap().matches('#').count(),
        1
    );
    p.shutdown().await.unwrap();
}
