//! What the panel shows, pinned as PNGs a person can open. `UPDATE_GOLDEN=1` rewrites them.

use oled_frame::Frame;
use oled_text::{render, Font, HAlign, Style, VAlign};
use std::path::PathBuf;

const SCALE: u32 = 4;

fn to_png(f: &Frame) -> Vec<u8> {
    let (w, h) = (u32::from(f.width()) * SCALE, u32::from(f.height()) * SCALE);
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let on = f.pixel((x / SCALE) as u16, (y / SCALE) as u16);
            rgb.extend_from_slice(if on {
                &[0xd8, 0xf0, 0xff]
            } else {
                &[0x08, 0x0c, 0x18]
            });
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().expect("png header");
        writer.write_image_data(&rgb).expect("png data");
    }
    out
}

fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(bytes);
    let mut reader = dec.read_info().expect("png info");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn check(name: &str, text: &str, style: Style, w: u16, h: u16) {
    let frame = render(text, &style, w, h).frame;
    let png = to_png(&frame);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.png"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &png).expect("write golden");
        return;
    }
    let golden = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert!(
        decode(&golden) == decode(&png),
        "{name}: rendering differs from {}\n{}",
        path.display(),
        frame.to_ascii()
    );
}

fn style(font: Font, align: HAlign, valign: VAlign) -> Style {
    Style {
        font,
        align,
        valign,
        invert: false,
    }
}

#[test]
fn fonts() {
    check(
        "font_small",
        "Small 6x10 font",
        style(Font::Small, HAlign::Center, VAlign::Middle),
        128,
        64,
    );
    check(
        "font_medium",
        "Medium 8x13",
        style(Font::Medium, HAlign::Center, VAlign::Middle),
        128,
        64,
    );
    check(
        "font_large",
        "Large 10x20",
        style(Font::Large, HAlign::Center, VAlign::Middle),
        128,
        64,
    );
    check("font_auto", "Hello, lattice!", Style::default(), 128, 64);
}

#[test]
fn alignment() {
    for (a, an) in [
        (HAlign::Left, "left"),
        (HAlign::Center, "center"),
        (HAlign::Right, "right"),
    ] {
        for (v, vn) in [
            (VAlign::Top, "top"),
            (VAlign::Middle, "middle"),
            (VAlign::Bottom, "bottom"),
        ] {
            check(
                &format!("align_{an}_{vn}"),
                "Align\nme",
                style(Font::Medium, a, v),
                128,
                64,
            );
        }
    }
}

#[test]
fn overflow_and_characters() {
    check(
        "overflow",
        &"The lattice spans a laptop and a Pi. ".repeat(8),
        Style::default(),
        128,
        64,
    );
    check(
        "latin1",
        "Grüße, Ñandú!\nÆØÅ ¿¡ °C ±½",
        Style::default(),
        128,
        64,
    );
    check("replacement", "Snow ☃ 雪 ✓", Style::default(), 128, 64);
    check(
        "newlines",
        "one\ntwo\nthree",
        style(Font::Small, HAlign::Left, VAlign::Top),
        128,
        64,
    );
}

#[test]
fn invert_and_other_sizes() {
    check(
        "invert",
        "Inverted",
        Style {
            invert: true,
            ..Style::default()
        },
        128,
        64,
    );
    check(
        "size_128x32",
        "Temperature: 21.5 C",
        Style::default(),
        128,
        32,
    );
    check(
        "portrait_64x128",
        "Hello, lattice!",
        Style::default(),
        64,
        128,
    );
}

/// The small SSD1306 glasses: text fits or is cut with its marker, and the demo screen keeps its
/// border and title inside the glass.
#[test]
fn small_glasses() {
    for (w, h, text) in [
        (96, 16, "21.5 C kitchen"),
        (72, 40, "Hello, Pi!"),
        (64, 48, "12:34"),
    ] {
        check(&format!("size_{w}x{h}"), text, Style::default(), w, h);
        let demo = oled_text::demo(w, h);
        let png = to_png(&demo);
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/golden/demo_{w}x{h}.png"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &png).expect("write golden");
            continue;
        }
        let golden = std::fs::read(&path).expect("golden demo (UPDATE_GOLDEN=1 creates it)");
        assert!(
            decode(&golden) == decode(&png),
            "demo {w}x{h}\n{}",
            demo.to_ascii()
        );
    }
}
