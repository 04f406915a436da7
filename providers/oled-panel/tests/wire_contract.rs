//! The display component encodes its calls to this provider by hand
//! (`actors/display/src/infra/wire.rs`: it calls through `wrpc:rpc/invoker` for a deadline of its
//! own), so the contract in `wit/panel` is written down twice. These tests hold the two together,
//! natively, without a lattice: what the component sends is byte for byte what the encoders that
//! wit-bindgen-wrpc generates from the WIT would send (so this provider's generated decoders read
//! it), and what this provider's generated encoders answer decodes in the component to the same
//! values. The instance names are checked against the WIT's package line. A drift in either the WIT
//! or wire.rs fails here, not only in the e2e stage.

use oled_display::domain;
use oled_display::infra::wire;
use oled_panel_provider::bindings as wit;
use oled_panel_provider::bindings::oled_lattice::panel::types::{
    PanelError, PanelInfo, PresentCost, ShownFrame, Ticker, TickerRun,
};
use proptest::prelude::*;
use wit_bindgen_wrpc::bytes::{Bytes, BytesMut};
use wit_bindgen_wrpc::tokio_util::codec::Encoder as _;
use wit_bindgen_wrpc::wrpc_transport::{Encode, Index};

/// The writer a generated encoder is generic over; nothing in this contract is async (no streams,
/// no futures), so it is never written to.
struct NoStreams;

impl Index<NoStreams> for NoStreams {
    fn index(&self, path: &[usize]) -> wit_bindgen_wrpc::anyhow::Result<NoStreams> {
        wit_bindgen_wrpc::anyhow::bail!(
            "the panel contract has no async values (asked for {path:?})"
        )
    }
}

impl wit_bindgen_wrpc::tokio::io::AsyncWrite for NoStreams {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// `value` as the generated code puts it on the wire.
fn generated<T: Encode<NoStreams>>(value: T) -> Vec<u8> {
    let mut encoder = T::Encoder::default();
    let mut buf = BytesMut::new();
    assert!(
        encoder.encode(value, &mut buf).is_ok(),
        "the generated encoder failed"
    );
    buf.to_vec()
}

/// What the component decodes from `bytes`, which must be one whole value.
fn decoded<T>(decode: fn(&[u8]) -> wire::Decoded<T>, bytes: &[u8]) -> T {
    match decode(bytes) {
        Ok(Some(v)) => v,
        Ok(None) => panic!(
            "the component wants more than the {} bytes sent",
            bytes.len()
        ),
        Err(why) => panic!("the component cannot read what the provider sends: {why}"),
    }
}

fn cost(unsaved: Option<&str>) -> PresentCost {
    PresentCost {
        bytes: 1036,
        transactions: 300,
        pages_touched: 8,
        full_refresh: true,
        unsaved: unsaved.map(str::to_string),
    }
}

fn domain_cost(c: &PresentCost) -> domain::PresentCost {
    domain::PresentCost {
        bytes: c.bytes,
        transactions: c.transactions,
        pages_touched: c.pages_touched,
        full_refresh: c.full_refresh,
        unsaved: c.unsaved.clone(),
    }
}

/// Every case of `panel-error`, with what the component makes of it.
fn errors() -> Vec<(PanelError, domain::PanelError)> {
    vec![
        (
            PanelError::BadFrame("1023 bytes".into()),
            domain::PanelError::BadFrame("1023 bytes".into()),
        ),
        (
            PanelError::Bus("nack at 0x3c".into()),
            domain::PanelError::Bus("nack at 0x3c".into()),
        ),
        (
            PanelError::Absent("no /dev/i2c-1".into()),
            domain::PanelError::Absent("no /dev/i2c-1".into()),
        ),
        (
            PanelError::Invalid("speed 0".into()),
            domain::PanelError::Invalid("speed 0".into()),
        ),
    ]
}

#[test]
fn the_instance_names_are_the_wit_package_s() {
    let wit_text = include_str!("../../../wit/panel/panel.wit");
    let package = wit_text
        .lines()
        .find_map(|l| l.strip_prefix("package "))
        .and_then(|l| l.strip_suffix(';'))
        .expect("wit/panel/panel.wit names its package");
    let (name, version) = package.split_once('@').expect("the package has a version");
    assert_eq!(wire::PANEL_INSTANCE, format!("{name}/panel@{version}"));
    assert_eq!(wire::INSPECT_INSTANCE, format!("{name}/inspect@{version}"));
    assert_eq!(wire::PANEL_INSTANCE, wit::PANEL_INSTANCE);
    assert_eq!(wire::INSPECT_INSTANCE, wit::INSPECT_INSTANCE);
}

#[test]
fn ticker_parameters_are_what_the_generated_code_sends() {
    let strip = oled_frame::Strip::from_bytes(300, 2, (0..600).map(|i| i as u8).collect())
        .expect("a 300x2 strip");
    let frame: Vec<u8> = (0..1024).map(|i| (i * 7) as u8).collect();
    let draw = domain::TickerDraw {
        width: 128,
        height: 64,
        frame: &frame,
        strip: &strip,
        top_page: 3,
        speed: 480,
        software: true,
    };
    let ticker = Ticker {
        width: 128,
        height: 64,
        frame: Bytes::from(frame.clone()),
        strip_width: 300,
        strip_pages: 2,
        strip: Bytes::copy_from_slice(strip.as_bytes()),
        top_page: 3,
        speed: 480,
        software: true,
    };
    assert_eq!(
        wire::present_ticker_params(&draw, "News: wRPC"),
        generated((ticker, "News: wRPC".to_string()))
    );
}

#[test]
fn present_results_decode_to_the_same_values() {
    for unsaved in [None, Some("disk full (os error 28)")] {
        let c = cost(unsaved);
        let bytes = generated(Ok::<_, PanelError>(c.clone()));
        assert_eq!(decoded(wire::decode_present, &bytes), Ok(domain_cost(&c)));
    }
    for (err, want) in errors() {
        let bytes = generated(Err::<PresentCost, _>(err));
        assert_eq!(decoded(wire::decode_present, &bytes), Err(want));
    }
}

#[test]
fn ticker_run_info_last_text_shown_and_ascii_decode_to_the_same_values() {
    let run = TickerRun {
        cost: cost(None),
        path: "hardware".into(),
        millicolumns_per_second: 123_456,
        why_software: Some("a 2-page strip".into()),
    };
    let got = decoded(
        wire::decode_ticker_run,
        &generated(Ok::<_, PanelError>(run)),
    )
    .expect("ok");
    assert_eq!(got.path, "hardware");
    assert!((got.speed - 123.456).abs() < 1e-9, "speed {}", got.speed);
    assert_eq!(got.why_software.as_deref(), Some("a 2-page strip"));
    assert_eq!(got.bus, domain_cost(&cost(None)));

    let info = PanelInfo {
        width: 128,
        height: 32,
        driver: "sh1106".into(),
        backend: "i2c".into(),
        bus: "/dev/i2c-1".into(),
        address: 0x3d,
        rotation: 180,
        unsaved: None,
    };
    assert_eq!(
        decoded(wire::decode_info, &generated(Ok::<_, PanelError>(info))),
        Ok(domain::PanelInfo {
            width: 128,
            height: 32,
            driver: "sh1106".into(),
            backend: "i2c".into(),
            bus: "/dev/i2c-1".into(),
            address: 0x3d,
            rotation: 180,
            unsaved: None,
        })
    );

    for text in [None, Some("Dinner!".to_string())] {
        let bytes = generated(Ok::<_, PanelError>(text.clone()));
        assert_eq!(decoded(wire::decode_last_text, &bytes), Ok(text));
    }

    let pixels: Vec<u8> = (0..512).map(|i| (i * 13) as u8).collect();
    let shown = ShownFrame {
        width: 128,
        height: 32,
        frame: Bytes::from(pixels.clone()),
    };
    let frame = decoded(wire::decode_shown, &generated(Ok::<_, PanelError>(shown))).expect("ok");
    assert_eq!(
        (frame.width(), frame.height(), frame.as_bytes()),
        (128, 32, &pixels[..])
    );

    let ascii = "..##..\n.#..#.".to_string();
    assert_eq!(
        decoded(wire::decode_ascii, &generated(ascii.clone())),
        Ok(ascii)
    );
}

#[test]
fn every_error_case_of_every_call_decodes() {
    for (err, want) in errors() {
        let info = generated(Err::<PanelInfo, _>(err.clone()));
        assert_eq!(decoded(wire::decode_info, &info), Err(want.clone()));
        let run = generated(Err::<TickerRun, _>(err.clone()));
        assert_eq!(
            decoded(wire::decode_ticker_run, &run).err(),
            Some(want.clone())
        );
        let text = generated(Err::<Option<String>, _>(err.clone()));
        assert_eq!(decoded(wire::decode_last_text, &text), Err(want.clone()));
        let shown = generated(Err::<ShownFrame, _>(err));
        assert_eq!(decoded(wire::decode_shown, &shown).err(), Some(want));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The three frame calls, for any frame and text (lengths across the LEB128 boundaries).
    #[test]
    fn frame_parameters_are_what_the_generated_code_sends_300_cases(
        frame in proptest::collection::vec(any::<u8>(), 0..1100),
        text in "\\PC{0,200}",
        width in any::<u16>(),
        height in any::<u16>(),
    ) {
        prop_assert_eq!(
            wire::present_params(&frame),
            generated((Bytes::from(frame.clone()),))
        );
        prop_assert_eq!(
            wire::present_text_params(&frame, &text),
            generated((Bytes::from(frame.clone()), text.clone()))
        );
        prop_assert_eq!(
            wire::present_sized_params(width, height, &frame, &text),
            generated((width, height, Bytes::from(frame), text))
        );
    }

    /// Any present result the provider can send, the component reads back whole.
    #[test]
    fn present_results_round_trip_300_cases(
        bytes in any::<u32>(),
        transactions in any::<u32>(),
        pages in any::<u8>(),
        full in any::<bool>(),
        unsaved in proptest::option::of("\\PC{0,80}"),
    ) {
        let c = PresentCost { bytes, transactions, pages_touched: pages, full_refresh: full, unsaved };
        let got = decoded(wire::decode_present, &generated(Ok::<_, PanelError>(c.clone())));
        prop_assert_eq!(got, Ok(domain_cost(&c)));
    }
}
