use super::*;

fn lit_bounds(f: &Frame) -> Option<(u16, u16, u16, u16)> {
    let mut b: Option<(u16, u16, u16, u16)> = None;
    for y in 0..f.height() {
        for x in 0..f.width() {
            if f.pixel(x, y) {
                b = Some(match b {
                    None => (x, y, x, y),
                    Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
                });
            }
        }
    }
    b
}

#[test]
fn wraps_on_words_and_breaks_long_words() {
    assert_eq!(wrap("hello big world", 9), vec!["hello big", "world"]);
    assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    assert_eq!(wrap("a\n\nb", 10), vec!["a", "", "b"]);
    assert_eq!(wrap("line\n", 10), vec!["line"]);
    assert_eq!(wrap("", 10), vec![""]);
}

#[test]
fn auto_picks_the_largest_font_that_fits() {
    let s = Style::default();
    assert_eq!(render("12:00:00", &s, 128, 64).font, Font::Large);
    assert_eq!(render("Hello, lattice!", &s, 128, 64).font, Font::Large);
    let pangram =
        "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs. \
                   Sphinx of black quartz, judge my vow.";
    let r = render(pangram, &s, 128, 64);
    assert_eq!(r.font, Font::Small);
    assert!(!r.truncated);
    assert_eq!(r.lines.join(" "), pangram);
}

#[test]
fn text_that_cannot_fit_ends_in_an_ellipsis() {
    let long = "word ".repeat(200);
    let r = render(&long, &Style::default(), 128, 64);
    assert!(r.truncated);
    assert_eq!(r.font, Font::Small);
    let (cols, rows) = Font::Small.grid(128, 64);
    assert_eq!(r.lines.len(), rows);
    assert!(r.lines.last().unwrap().ends_with(ELLIPSIS));
    assert!(r.lines.iter().all(|l| l.chars().count() <= cols));

    let forced = Style {
        font: Font::Large,
        ..Style::default()
    };
    let r = render(
        "one two three four five six seven eight nine ten",
        &forced,
        128,
        64,
    );
    assert_eq!(r.font, Font::Large);
    assert!(r.truncated && r.lines.last().unwrap().ends_with(ELLIPSIS));
}

#[test]
fn non_latin1_becomes_a_visible_replacement() {
    let r = render("Grüße ✓ 日本", &Style::default(), 128, 64);
    assert_eq!(r.replaced, 3);
    assert_eq!(r.lines.concat(), "Grüße \u{FFFD} \u{FFFD}\u{FFFD}");
    // Control characters too, and nothing panics on odd input.
    let r = render("a\u{0007}b\u{200b}\r\nc", &Style::default(), 128, 64);
    assert_eq!(r.lines, vec!["a\u{FFFD}b\u{FFFD}", "c"]);
}

#[test]
fn the_replacement_is_a_box_not_a_question_mark() {
    let style = Style {
        font: Font::Small,
        ..Style::default()
    };
    let boxed = render("\u{2603}", &style, 128, 64).frame;
    let question = render("?", &style, 128, 64).frame;
    let real = render("\u{FFFD}", &style, 128, 64).frame;
    assert_ne!(boxed, question);
    // U+FFFD itself is outside Latin-1 too, so it looks the same as any other replacement.
    assert_eq!(boxed, real);
    // A 5x7 outline: 2 * 5 + 2 * 5 lit pixels.
    let lit = (0..64u16)
        .flat_map(|y| (0..128u16).map(move |x| (x, y)))
        .filter(|&(x, y)| boxed.pixel(x, y))
        .count();
    assert_eq!(lit, 20);
}

#[test]
fn alignment_moves_the_text() {
    let mk = |align, valign| Style {
        font: Font::Small,
        align,
        valign,
        invert: false,
    };
    let (x0, y0, _, _) =
        lit_bounds(&render("Hi", &mk(HAlign::Left, VAlign::Top), 128, 64).frame).unwrap();
    assert!(x0 <= 1 && y0 <= 2);
    let (_, _, x1, y1) =
        lit_bounds(&render("Hi", &mk(HAlign::Right, VAlign::Bottom), 128, 64).frame).unwrap();
    assert!(x1 >= 122 && y1 >= 58);
    let (x0, y0, x1, y1) = lit_bounds(
        &render(
            "Hi",
            &Style {
                font: Font::Small,
                ..Style::default()
            },
            128,
            64,
        )
        .frame,
    )
    .unwrap();
    assert!(
        (x0 + x1) / 2 >= 60 && (x0 + x1) / 2 <= 67,
        "centred: {x0}..{x1}"
    );
    assert!(
        (y0 + y1) / 2 >= 28 && (y0 + y1) / 2 <= 36,
        "middle: {y0}..{y1}"
    );
}

#[test]
fn invert_flips_every_pixel() {
    let plain = render("Hi", &Style::default(), 128, 32).frame;
    let inv = render(
        "Hi",
        &Style {
            invert: true,
            ..Style::default()
        },
        128,
        32,
    )
    .frame;
    assert_eq!(plain.lit_pixels() + inv.lit_pixels(), 128 * 32);
}

#[test]
fn parses_style_words_and_names_the_accepted_ones() {
    assert_eq!("large".parse::<Font>(), Ok(Font::Large));
    assert_eq!("right".parse::<HAlign>(), Ok(HAlign::Right));
    assert_eq!("bottom".parse::<VAlign>(), Ok(VAlign::Bottom));
    assert!("huge"
        .parse::<Font>()
        .unwrap_err()
        .contains("small, medium, large, auto"));
    assert!("up"
        .parse::<VAlign>()
        .unwrap_err()
        .contains("top, middle, bottom"));
}

#[test]
fn renders_for_other_panel_shapes() {
    let r = render("Hello", &Style::default(), 128, 32);
    assert_eq!((r.frame.width(), r.frame.height()), (128, 32));
    let r = render("Hello, lattice!", &Style::default(), 64, 128);
    assert_eq!((r.frame.width(), r.frame.height()), (64, 128));
    assert!(!r.truncated);
}
