//! Text in, frame out, for small monochrome panels: word wrap, alignment, the largest font that fits,
//! an ellipsis when nothing fits, and a visible box for what the fonts cannot draw. No I/O and no
//! runtime: the display component of oled-lattice runs it inside a WebAssembly component, the
//! benchmarks and tests natively.
//!
//! Layout is done here because those are the decisions a person notices; glyphs come from
//! embedded-graphics' Latin-1 mono fonts, frames are [`oled_frame::Frame`]s (SSD1306 GDDRAM order).
//!
//! ```
//! use oled_text::{render, Font, Style};
//!
//! let r = render("12:00:00", &Style::default(), 128, 64);
//! assert_eq!(r.font, Font::Large); // the largest font at which it fits
//! assert_eq!(r.lines, ["12:00:00"]);
//! assert!(!r.truncated && r.frame.lit_pixels() > 0);
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use embedded_graphics::{
    mono_font::{iso_8859_1, MonoFont, MonoTextStyle},
    pixelcolor::BinaryColor,
    prelude::*,
    primitives::{Line, PrimitiveStyle, Rectangle, RoundedRectangle},
    text::{Alignment, Baseline, Text},
};
use oled_frame::Frame;

mod ticker;
pub use ticker::{render_ticker, RenderedTicker, TICKER_GAP_CHARS};

/// What stands in for a character the fonts cannot draw (outside Latin-1, or a control character).
/// It is drawn as an empty box ("tofu"), so it cannot be mistaken for a real `?`, and it keeps its
/// Unicode meaning in [`Rendered::lines`].
pub const REPLACEMENT: char = '\u{FFFD}';
/// What ends text that did not fit.
pub const ELLIPSIS: &str = "...";

/// Font sizes, smallest to largest. `Auto` picks the largest at which the whole text fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Font {
    /// 6x10 pixels a character.
    Small,
    /// 8x13.
    Medium,
    /// 10x20.
    Large,
    /// The largest of the three at which the whole text fits.
    #[default]
    Auto,
}

/// Where lines sit across the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HAlign {
    /// Against the left edge.
    Left,
    /// Centred.
    #[default]
    Center,
    /// Against the right edge.
    Right,
}

/// Where the block of lines sits down the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VAlign {
    /// At the top.
    Top,
    /// Centred.
    #[default]
    Middle,
    /// At the bottom.
    Bottom,
}

/// How to render; the default is what a plain-text request gets: auto font, centred both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// Font size, or `Auto`.
    pub font: Font,
    /// Horizontal alignment of each line.
    pub align: HAlign,
    /// Vertical alignment of the block of lines.
    pub valign: VAlign,
    /// Light text on a dark frame (false) or dark text on a light one (true).
    pub invert: bool,
}

/// A rendered screen and the choices made for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The pixels.
    pub frame: Frame,
    /// The concrete font used (never `Auto`).
    pub font: Font,
    /// The lines as laid out (after wrapping and any ellipsis).
    pub lines: Vec<String>,
    /// True when the text did not fit and ends in an ellipsis.
    pub truncated: bool,
    /// Characters that were drawn as [`REPLACEMENT`].
    pub replaced: usize,
}

impl Font {
    /// The real fonts, largest first: the order `Auto` tries them in.
    pub const CONCRETE: [Font; 3] = [Font::Large, Font::Medium, Font::Small];

    fn mono(self) -> &'static MonoFont<'static> {
        match self {
            Font::Small => &iso_8859_1::FONT_6X10,
            Font::Medium => &iso_8859_1::FONT_8X13,
            Font::Large | Font::Auto => &iso_8859_1::FONT_10X20,
        }
    }

    /// The font's name in requests and status: `small`, `medium`, `large`, `auto`.
    pub fn name(self) -> &'static str {
        match self {
            Font::Small => "small",
            Font::Medium => "medium",
            Font::Large => "large",
            Font::Auto => "auto",
        }
    }

    /// Columns and rows of text this font gives on a panel.
    pub fn grid(self, width: u16, height: u16) -> (usize, usize) {
        let f = self.mono();
        let cw = (f.character_size.width + f.character_spacing) as usize;
        let lh = f.character_size.height as usize;
        (usize::from(width) / cw, usize::from(height) / lh)
    }
}

impl core::str::FromStr for Font {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "small" => Ok(Font::Small),
            "medium" => Ok(Font::Medium),
            "large" => Ok(Font::Large),
            "auto" => Ok(Font::Auto),
            other => Err(format!(
                "font `{other}` is not one of small, medium, large, auto"
            )),
        }
    }
}

impl core::str::FromStr for HAlign {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "left" => Ok(HAlign::Left),
            "center" | "centre" => Ok(HAlign::Center),
            "right" => Ok(HAlign::Right),
            other => Err(format!("align `{other}` is not one of left, center, right")),
        }
    }
}

impl core::str::FromStr for VAlign {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "top" => Ok(VAlign::Top),
            "middle" => Ok(VAlign::Middle),
            "bottom" => Ok(VAlign::Bottom),
            other => Err(format!(
                "valign `{other}` is not one of top, middle, bottom"
            )),
        }
    }
}

/// Maps every character to one the fonts can draw; counts the replacements.
fn sanitize(text: &str) -> (String, usize) {
    let mut replaced = 0;
    let out = text
        .replace("\r\n", "\n")
        .chars()
        .map(|c| match c {
            '\n' => '\n',
            '\t' => ' ',
            c if c.is_control() || u32::from(c) > 0xFF => {
                replaced += 1;
                REPLACEMENT
            }
            c => c,
        })
        .collect();
    (out, replaced)
}

/// Greedy word wrap into lines of at most `cols` characters; words longer than a line are broken.
fn wrap(text: &str, cols: usize) -> Vec<String> {
    let mut lines = Vec::new();
    if cols == 0 {
        return lines;
    }
    for paragraph in text.split('\n') {
        let mut cur = String::new();
        let mut cur_len = 0;
        for word in paragraph.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            while word.len() > cols {
                if cur_len > 0 {
                    lines.push(std::mem::take(&mut cur));
                    cur_len = 0;
                }
                lines.push(word.drain(..cols).collect());
            }
            if word.is_empty() {
                continue;
            }
            if cur_len == 0 {
                cur = word.iter().collect();
                cur_len = word.len();
            } else if cur_len + 1 + word.len() <= cols {
                cur.push(' ');
                cur.extend(word.iter());
                cur_len += 1 + word.len();
            } else {
                lines.push(std::mem::replace(&mut cur, word.iter().collect()));
                cur_len = word.len();
            }
        }
        lines.push(cur);
    }
    // A trailing newline adds no visible line.
    while lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// Cuts `lines` to `rows`, ending the last kept line in an ellipsis.
fn ellipsize(mut lines: Vec<String>, rows: usize, cols: usize) -> Vec<String> {
    lines.truncate(rows);
    if let Some(last) = lines.last_mut() {
        let keep = cols.saturating_sub(ELLIPSIS.len());
        let mut cut: String = last.chars().take(keep).collect();
        while cut.ends_with(' ') {
            cut.pop();
        }
        cut.push_str(ELLIPSIS);
        *last = cut.chars().take(cols).collect();
    }
    lines
}

/// Lays out `text` and draws it onto a `width` x `height` frame.
pub fn render(text: &str, style: &Style, width: u16, height: u16) -> Rendered {
    let (clean, replaced) = sanitize(text);
    let candidates: &[Font] = match style.font {
        Font::Auto => &Font::CONCRETE,
        Font::Small => &[Font::Small],
        Font::Medium => &[Font::Medium],
        Font::Large => &[Font::Large],
    };

    let mut chosen = None;
    for &font in candidates {
        let (cols, rows) = font.grid(width, height);
        let lines = wrap(&clean, cols);
        if rows > 0 && lines.len() <= rows {
            chosen = Some((font, lines, false));
            break;
        }
    }
    let (font, lines, truncated) = chosen.unwrap_or_else(|| {
        // Nothing fits: the smallest candidate, cut with an ellipsis so nothing is silently lost.
        let font = candidates[candidates.len() - 1];
        let (cols, rows) = font.grid(width, height);
        (font, ellipsize(wrap(&clean, cols), rows, cols), true)
    });

    let frame = draw(&lines, font, style, width, height);
    Rendered {
        frame,
        font,
        lines,
        truncated,
        replaced,
    }
}

fn draw(lines: &[String], font: Font, style: &Style, width: u16, height: u16) -> Frame {
    // Sizes come from the panel; a bad size is the panel's bug, so fall back to the common 128x64.
    let mut frame = Frame::new(width, height)
        .or_else(|_| Frame::new(128, 64))
        .unwrap_or_else(|_| unreachable!("128x64 is a valid frame size"));
    let mono = font.mono();
    let cw = (mono.character_size.width + mono.character_spacing) as i32;
    let lh = mono.character_size.height as i32;
    let (w, h) = (i32::from(frame.width()), i32::from(frame.height()));
    let block = lh * lines.len() as i32;
    let top = match style.valign {
        VAlign::Top => 0,
        VAlign::Middle => (h - block) / 2,
        VAlign::Bottom => h - block,
    }
    .max(0);
    let text_style = MonoTextStyle::new(mono, BinaryColor::On);
    for (i, line) in lines.iter().enumerate() {
        let len = cw * line.chars().count() as i32;
        let x = match style.align {
            HAlign::Left => 0,
            HAlign::Center => (w - len) / 2,
            HAlign::Right => w - len,
        }
        .max(0);
        let y = top + lh * i as i32;
        // The font would draw REPLACEMENT as its own '?': leave its cell empty and box it below.
        let printable: String = line
            .chars()
            .map(|c| if c == REPLACEMENT { ' ' } else { c })
            .collect();
        // Drawing into a Frame cannot fail (its error type is Infallible).
        let _ = Text::with_baseline(&printable, Point::new(x, y), text_style, Baseline::Top)
            .draw(&mut frame);
        for (col, _) in line.chars().enumerate().filter(|&(_, c)| c == REPLACEMENT) {
            let _ = tofu(mono, Point::new(x + cw * col as i32, y)).draw(&mut frame);
        }
    }
    if style.invert {
        frame.invert();
    }
    frame
}

/// The box drawn for [`REPLACEMENT`] in the character cell at `cell`: one pixel in from the cell's
/// right and bottom edges (where the fonts keep their spacing) and two from its top.
fn tofu(
    mono: &MonoFont<'static>,
    cell: Point,
) -> embedded_graphics::primitives::Styled<Rectangle, PrimitiveStyle<BinaryColor>> {
    let size = mono.character_size;
    Rectangle::new(
        cell + Point::new(0, 2),
        Size::new(size.width.saturating_sub(1), size.height.saturating_sub(3)),
    )
    .into_styled(PrimitiveStyle::with_stroke(BinaryColor::On, 1))
}

/// A dark frame of the panel's size.
pub fn blank(width: u16, height: u16) -> Frame {
    Frame::new(width, height)
        .or_else(|_| Frame::new(128, 64))
        .unwrap_or_else(|_| unreachable!("128x64 is a valid frame size"))
}

/// What `last_text` reads after the demo screen.
pub const DEMO_TEXT: &str = "(demo screen)";

/// The title the demo screen shows unless told otherwise.
pub const DEMO_TITLE: &str = "oled-lattice";

/// The demo screen: a rounded frame, the title, the path the pixels took and the panel's size. It
/// depends on the size only, so a caller that knows the size draws it without asking the panel.
///
/// ```
/// let f = oled_text::demo(128, 64);
/// assert!(f.lit_pixels() > 100);
/// ```
pub fn demo(width: u16, height: u16) -> Frame {
    demo_titled(width, height, DEMO_TITLE)
}

/// [`demo`] with another title (a deployment's own name, say; cut to what fits).
///
/// ```
/// assert_ne!(oled_text::demo_titled(128, 64, "v0.1.1"), oled_text::demo(128, 64));
/// ```
pub fn demo_titled(width: u16, height: u16, title: &str) -> Frame {
    if width < 100 || height < 32 {
        return demo_compact(width, height, title);
    }
    let (w, h) = (width, height);
    let mut f = blank(w, h);
    let (wi, hi) = (i32::from(f.width()), i32::from(f.height()));
    let thin = PrimitiveStyle::with_stroke(BinaryColor::On, 1);
    // Drawing into a Frame cannot fail (Infallible); results are ignored on purpose.
    let _ = RoundedRectangle::with_equal_corners(
        Rectangle::new(
            Point::zero(),
            Size::new(f.width().into(), f.height().into()),
        ),
        Size::new(6, 6),
    )
    .into_styled(thin)
    .draw(&mut f);
    let title_style = MonoTextStyle::new(&iso_8859_1::FONT_8X13, BinaryColor::On);
    let small = MonoTextStyle::new(&iso_8859_1::FONT_6X10, BinaryColor::On);
    // As many characters as fit inside the frame, 8 px each.
    let fits = usize::try_from((wi - 8).max(8) / 8).unwrap_or(1);
    let title: String = sanitize(title).0.chars().take(fits).collect();
    let _ = Text::with_alignment(
        &title,
        Point::new(wi / 2, 14),
        title_style,
        Alignment::Center,
    )
    .draw(&mut f);
    let _ = Line::new(Point::new(8, 18), Point::new(wi - 9, 18))
        .into_styled(thin)
        .draw(&mut f);
    let lines = ["wasm -> lattice", &format!("ssd1306 {w}x{h}")];
    for (i, l) in lines.iter().enumerate() {
        let _ = Text::with_alignment(
            l,
            Point::new(wi / 2, 31 + 11 * i as i32),
            small,
            Alignment::Center,
        )
        .draw(&mut f);
    }
    if hi >= 64 {
        let _ = Text::with_alignment(
            "-> i2c -> OLED",
            Point::new(wi / 2, 53),
            small,
            Alignment::Center,
        )
        .draw(&mut f);
    }
    f
}

/// The demo screen for the small glasses (96x16, 72x40, 64x48 and portrait ones): the title in the
/// small font, and where there is room a frame and the size.
fn demo_compact(width: u16, height: u16, title: &str) -> Frame {
    let mut f = blank(width, height);
    let (wi, hi) = (i32::from(f.width()), i32::from(f.height()));
    let small = MonoTextStyle::new(&iso_8859_1::FONT_6X10, BinaryColor::On);
    let fits = usize::try_from((wi - 4).max(6) / 6).unwrap_or(1);
    let title: String = sanitize(title).0.chars().take(fits).collect();
    if hi < 32 {
        // One line: the title in the middle, nothing else fits.
        let _ = Text::with_alignment(
            &title,
            Point::new(wi / 2, hi / 2 + 3),
            small,
            Alignment::Center,
        )
        .draw(&mut f);
        return f;
    }
    let thin = PrimitiveStyle::with_stroke(BinaryColor::On, 1);
    let _ = RoundedRectangle::with_equal_corners(
        Rectangle::new(
            Point::zero(),
            Size::new(f.width().into(), f.height().into()),
        ),
        Size::new(4, 4),
    )
    .into_styled(thin)
    .draw(&mut f);
    let _ =
        Text::with_alignment(&title, Point::new(wi / 2, 11), small, Alignment::Center).draw(&mut f);
    let _ = Line::new(Point::new(4, 14), Point::new(wi - 5, 14))
        .into_styled(thin)
        .draw(&mut f);
    let _ = Text::with_alignment(
        &format!("{width}x{height}"),
        Point::new(wi / 2, 26),
        small,
        Alignment::Center,
    )
    .draw(&mut f);
    if hi >= 48 {
        let _ = Text::with_alignment("-> OLED", Point::new(wi / 2, 38), small, Alignment::Center)
            .draw(&mut f);
    }
    f
}

#[cfg(test)]
mod tests;
