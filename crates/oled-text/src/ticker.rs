//! Tickers: a line longer than the panel, drawn once as a [`Strip`] for the panel's driver to move.

use embedded_graphics::{
    mono_font::MonoTextStyle,
    pixelcolor::BinaryColor,
    prelude::*,
    text::{Baseline, Text},
};
use oled_frame::{Frame, Strip, MAX_STRIP_COLUMNS};

use crate::{blank, sanitize, tofu, Font, Style, VAlign, ELLIPSIS, REPLACEMENT};

/// Blank character cells after the text, before it comes round again.
pub const TICKER_GAP_CHARS: usize = 3;

/// A ticker as drawn: the strip that moves, where it sits, and the first picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedTicker {
    /// The panel's first picture: the strip from its column 0 on, on an otherwise empty frame.
    pub frame: Frame,
    /// The whole line and the gap after it, at least as wide as the panel (a short text leaves on the
    /// left before it comes back on the right).
    pub strip: Strip,
    /// The frame's page the strip's first page is on.
    pub top_page: u8,
    /// The concrete font used (never `Auto`).
    pub font: Font,
    /// The text as one line (line breaks become spaces), as drawn.
    pub line: String,
    /// True when the line was longer than a strip can be and ends in an ellipsis.
    pub truncated: bool,
    /// Characters that were drawn as [`REPLACEMENT`].
    pub replaced: usize,
}

/// Draws `text` as one line for a ticker on a `width` x `height` panel: `Auto` takes the largest
/// font whose whole pages fit the panel's height; `valign` places the strip; `align` does not apply
/// (a ticker starts at the left edge); `invert` lights the rest of the panel too.
///
/// ```
/// use oled_text::{render_ticker, Font, Style};
///
/// let t = render_ticker("a line far too long for one small panel", &Style::default(), 128, 64);
/// assert_eq!(t.font, Font::Large);
/// assert_eq!((t.strip.pages(), t.top_page), (3, 2)); // 20 rows in 3 pages, in the middle
/// assert_eq!(t.strip.width(), (39 + 3) * 10); // the text, then a gap of three cells
/// assert!(t.frame.lit_pixels() > 0);
/// ```
pub fn render_ticker(text: &str, style: &Style, width: u16, height: u16) -> RenderedTicker {
    let frame = blank(width, height);
    let (width, height) = (frame.width(), frame.height());
    let (clean, replaced) = sanitize(text);
    let line: String = clean.split('\n').collect::<Vec<_>>().join(" ");
    let font = match style.font {
        Font::Auto => Font::CONCRETE
            .into_iter()
            .find(|f| pages_of(*f) * 8 <= height)
            .unwrap_or(Font::Small),
        f => f,
    };
    let mono = font.mono();
    let cw = mono.character_size.width + mono.character_spacing;
    let pages = u8::try_from(pages_of(font)).unwrap_or(1);
    let max_chars = usize::from(MAX_STRIP_COLUMNS) / cw as usize - TICKER_GAP_CHARS;
    let mut chars: Vec<char> = line.chars().collect();
    let truncated = chars.len() > max_chars;
    if truncated {
        chars.truncate(max_chars - ELLIPSIS.len());
        chars.extend(ELLIPSIS.chars());
    }
    let line: String = chars.iter().collect();
    let columns = (chars.len() + TICKER_GAP_CHARS) * cw as usize;
    let strip_width = u16::try_from(columns)
        .unwrap_or(MAX_STRIP_COLUMNS)
        .clamp(width, MAX_STRIP_COLUMNS);
    let mut strip = Strip::new(strip_width, pages)
        .or_else(|_| Strip::new(width, 1))
        .unwrap_or_else(|_| unreachable!("a frame's width is a strip width"));
    let y = (i32::from(pages) * 8 - mono.character_size.height as i32) / 2;
    let text_style = MonoTextStyle::new(mono, BinaryColor::On);
    // Cell by cell through a small frame: the same drawing code as `render`, not a second copy
    // for strips (the component is measured in bytes).
    let mut buf = [0u8; 4];
    for (i, c) in chars.iter().enumerate() {
        let Ok(mut cell) = Frame::new(cw as u16, u16::from(pages) * 8) else {
            break;
        };
        // Drawing into a Frame cannot fail (its error type is Infallible).
        if *c == REPLACEMENT {
            let _ = tofu(mono, Point::new(0, y)).draw(&mut cell);
        } else {
            let glyph: &str = c.encode_utf8(&mut buf);
            let _ = Text::with_baseline(glyph, Point::new(0, y), text_style, Baseline::Top)
                .draw(&mut cell);
        }
        strip.blit((i * cw as usize) as u16, &cell);
    }
    let panel_pages = height / 8;
    let spare = panel_pages.saturating_sub(u16::from(pages));
    let top_page = match style.valign {
        VAlign::Top => 0,
        VAlign::Middle => spare / 2,
        VAlign::Bottom => spare,
    } as u8;
    let mut frame = frame;
    if style.invert {
        strip.invert();
        frame.fill(true);
    }
    strip.paint(0, &mut frame, u16::from(top_page));
    RenderedTicker {
        frame,
        strip,
        top_page,
        font,
        line,
        truncated,
        replaced,
    }
}

/// Whole pages a line of `font` takes.
fn pages_of(font: Font) -> u16 {
    (font.mono().character_size.height as u16).div_ceil(8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HAlign;

    #[test]
    fn the_strip_is_the_line_then_a_gap_and_never_narrower_than_the_panel() {
        let t = render_ticker("Hi", &Style::default(), 128, 64);
        assert_eq!(t.strip.width(), 128, "padded to the panel");
        let long = "x".repeat(40);
        let t = render_ticker(
            &long,
            &Style {
                font: Font::Small,
                ..Style::default()
            },
            128,
            64,
        );
        assert_eq!(t.strip.width(), 43 * 6);
        assert_eq!(t.strip.pages(), 2);
        // The gap is dark, the text is not.
        for x in 240..258 {
            assert!((0..16).all(|y| !t.strip.pixel(x, y)), "column {x}");
        }
        assert!((0..240).any(|x| (0..16).any(|y| t.strip.pixel(x, y))));
    }

    #[test]
    fn cell_by_cell_is_the_same_picture_as_the_line_drawn_whole() {
        let style = Style {
            font: Font::Medium,
            ..Style::default()
        };
        let t = render_ticker("Hi, there! \u{1F600}", &style, 128, 64);
        let mut whole = Frame::new(128, 16).unwrap();
        let mono = Font::Medium.mono();
        let _ = Text::with_baseline(
            "Hi, there!  ",
            Point::new(0, 1),
            MonoTextStyle::new(mono, BinaryColor::On),
            Baseline::Top,
        )
        .draw(&mut whole);
        let _ = tofu(mono, Point::new(8 * 11, 1)).draw(&mut whole);
        for x in 0..128 {
            for y in 0..16 {
                assert_eq!(t.strip.pixel(x, y), whole.pixel(x, y), "({x}, {y})");
            }
        }
    }

    #[test]
    fn auto_takes_the_largest_font_whose_pages_fit() {
        assert_eq!(
            render_ticker("long line", &Style::default(), 128, 32).font,
            Font::Large
        );
        let t = render_ticker("long line", &Style::default(), 96, 16);
        assert_eq!((t.font, t.strip.pages(), t.top_page), (Font::Medium, 2, 0));
    }

    #[test]
    fn line_breaks_become_spaces_and_the_first_picture_is_the_strip_at_zero() {
        let t = render_ticker(
            "a\nb",
            &Style {
                valign: VAlign::Bottom,
                align: HAlign::Right,
                ..Style::default()
            },
            128,
            64,
        );
        assert_eq!(t.line, "a b");
        assert_eq!(t.top_page, 5);
        let mut want = Frame::new(128, 64).unwrap();
        t.strip.paint(0, &mut want, 5);
        assert_eq!(t.frame, want);
    }

    #[test]
    fn inverted_tickers_light_the_rest_of_the_panel() {
        let t = render_ticker(
            "abc",
            &Style {
                invert: true,
                ..Style::default()
            },
            128,
            64,
        );
        assert!(t.frame.page(0).iter().all(|b| *b == 0xFF));
        assert!(t.strip.pixel(127, 0), "the gap is lit");
    }

    #[test]
    fn a_line_longer_than_any_strip_ends_in_an_ellipsis() {
        let t = render_ticker(&"w".repeat(5000), &Style::default(), 128, 64);
        assert!(t.truncated);
        assert!(t.line.ends_with(ELLIPSIS));
        assert!(t.strip.width() <= MAX_STRIP_COLUMNS);
        let t = render_ticker("\u{1F600} ok", &Style::default(), 128, 64);
        assert_eq!(t.replaced, 1);
    }
}
