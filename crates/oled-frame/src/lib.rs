//! Frames as the SSD1306 keeps them, shared by the component (which draws) and the provider (which sends).
//!
//! A frame is page-major: byte `page * width + x` holds the eight pixels of column `x` in rows
//! `page * 8 ..= page * 8 + 7`, bit 0 on top. That is the controller's GDDRAM layout, so a frame goes on the
//! bus without reshuffling and two frames can be diffed byte by byte into what the bus must carry.
//! A [`Strip`] is the same layout wider than any panel, for tickers.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod diff;
mod size;
mod strip;

pub use diff::{diff_runs, plan_cost, plan_windows, Run, Window, WINDOW_OVERHEAD_BYTES};
pub use size::PanelSize;
pub use strip::{Strip, MAX_STRIP_COLUMNS};

use embedded_graphics_core::{
    draw_target::DrawTarget,
    geometry::{OriginDimensions, Size},
    pixelcolor::BinaryColor,
    Pixel,
};

/// Why a frame could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The size is not one a frame can have.
    #[error("frame size {width}x{height} is not supported: width 1-128, height a multiple of 8 up to 128")]
    BadSize {
        /// Width asked for.
        width: u16,
        /// Height asked for.
        height: u16,
    },
    /// A strip size that is not supported.
    #[error(
        "strip size {width} columns x {pages} pages is not supported: 1-4096 columns, 1-16 pages"
    )]
    BadStrip {
        /// Columns asked for.
        width: u16,
        /// Pages asked for.
        pages: u8,
    },
    /// Bytes from elsewhere do not fill a frame of that size exactly.
    #[error("a {width}x{height} frame is {expected} bytes, got {actual}")]
    BadLength {
        /// Width of the frame.
        width: u16,
        /// Height of the frame.
        height: u16,
        /// Bytes such a frame has.
        expected: usize,
        /// Bytes received.
        actual: usize,
    },
}

/// A 1-bit frame in GDDRAM order.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    width: u16,
    height: u16,
    bytes: Vec<u8>,
}

impl core::fmt::Debug for Frame {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Frame({}x{}, {} lit)",
            self.width,
            self.height,
            self.lit_pixels()
        )
    }
}

impl Frame {
    /// A dark frame.
    pub fn new(width: u16, height: u16) -> Result<Self, FrameError> {
        check_size(width, height)?;
        Ok(Self {
            width,
            height,
            bytes: vec![0; byte_len(width, height)],
        })
    }

    /// A dark frame the size of `size`'s glass, landscape or (`portrait`) turned a quarter. Every
    /// glass size is a valid frame size either way round, so this cannot fail.
    pub fn blank(size: PanelSize, portrait: bool) -> Self {
        let (w, h) = (size.width(), size.height());
        let (width, height) = if portrait { (h, w) } else { (w, h) };
        Self {
            width,
            height,
            bytes: vec![0; byte_len(width, height)],
        }
    }

    /// Wraps bytes received from elsewhere (the wire), checking their length.
    pub fn from_bytes(width: u16, height: u16, bytes: Vec<u8>) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let expected = byte_len(width, height);
        if bytes.len() != expected {
            return Err(FrameError::BadLength {
                width,
                height,
                expected,
                actual: bytes.len(),
            });
        }
        Ok(Self {
            width,
            height,
            bytes,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u16 {
        self.height
    }

    /// Number of 8-row pages.
    pub fn pages(&self) -> u16 {
        self.height / 8
    }

    /// The bytes, page-major (GDDRAM order).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes, page-major, without copying.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The bytes of one page, column 0 first; past the last page, an empty slice.
    pub fn page(&self, page: u16) -> &[u8] {
        let w = usize::from(self.width);
        let start = usize::from(page) * w;
        self.bytes.get(start..start + w).unwrap_or(&[])
    }

    /// Pixel at (x, y); outside the frame reads as dark.
    pub fn pixel(&self, x: u16, y: u16) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        bit(&self.bytes, self.width, x, y)
    }

    /// Sets one pixel; outside the frame it is ignored, as drawing APIs expect.
    pub fn set_pixel(&mut self, x: u16, y: u16, on: bool) {
        if x >= self.width || y >= self.height {
            return;
        }
        set_bit(&mut self.bytes, self.width, x, y, on);
    }

    /// Every pixel on or off.
    pub fn fill(&mut self, on: bool) {
        let v = if on { 0xFF } else { 0x00 };
        self.bytes.iter_mut().for_each(|b| *b = v);
    }

    /// Flips every pixel (software inversion, for rendering).
    pub fn invert(&mut self) {
        self.bytes.iter_mut().for_each(|b| *b = !*b);
    }

    /// How many pixels are on.
    pub fn lit_pixels(&self) -> u32 {
        self.bytes.iter().map(|b| b.count_ones()).sum()
    }

    /// Text art, `#` lit and `.` dark, one line per pixel row.
    pub fn to_ascii(&self) -> String {
        ascii(self.width, self.height, |x, y| self.pixel(x, y))
    }

    /// The same image for a panel rotated by 90 or 270 degrees: (x, y) becomes (y, x).
    /// Used where a logical portrait frame must be laid into a landscape GDDRAM. The width becomes
    /// the height, so it must be a multiple of 8 (every portrait panel size is): otherwise
    /// [`FrameError::BadSize`].
    pub fn transposed(&self) -> Result<Frame, FrameError> {
        check_size(self.height, self.width)?;
        let mut t = Frame {
            width: self.height,
            height: self.width,
            bytes: vec![0; byte_len(self.height, self.width)],
        };
        for y in 0..self.height {
            for x in 0..self.width {
                if self.pixel(x, y) {
                    t.set_pixel(y, x, true);
                }
            }
        }
        Ok(t)
    }
}

fn check_size(width: u16, height: u16) -> Result<(), FrameError> {
    if width == 0 || width > 128 || height == 0 || height > 128 || height % 8 != 0 {
        return Err(FrameError::BadSize { width, height });
    }
    Ok(())
}

/// Pixel (x, y) of page-major bytes `width` columns wide (inside them: callers check bounds).
fn bit(bytes: &[u8], width: u16, x: u16, y: u16) -> bool {
    bytes[usize::from(y / 8) * usize::from(width) + usize::from(x)] & (1 << (y % 8)) != 0
}

/// Sets pixel (x, y) of page-major bytes `width` columns wide (inside them).
fn set_bit(bytes: &mut [u8], width: u16, x: u16, y: u16, on: bool) {
    let idx = usize::from(y / 8) * usize::from(width) + usize::from(x);
    if on {
        bytes[idx] |= 1 << (y % 8);
    } else {
        bytes[idx] &= !(1 << (y % 8));
    }
}

/// Hands each drawn pixel at non-negative coordinates to `set` (what a draw target does).
fn draw_each<I>(pixels: I, mut set: impl FnMut(u16, u16, bool))
where
    I: IntoIterator<Item = Pixel<BinaryColor>>,
{
    for Pixel(p, c) in pixels {
        if let (Ok(x), Ok(y)) = (u16::try_from(p.x), u16::try_from(p.y)) {
            set(x, y, c.is_on());
        }
    }
}

/// Text art of `width` x `rows` pixels: `#` lit, `.` dark, one line per row.
fn ascii(width: u16, rows: u16, pixel: impl Fn(u16, u16) -> bool) -> String {
    let mut out = String::with_capacity((usize::from(width) + 1) * usize::from(rows));
    for y in 0..rows {
        for x in 0..width {
            out.push(if pixel(x, y) { '#' } else { '.' });
        }
        out.push('\n');
    }
    out
}

/// Bytes in a frame of that size.
pub fn byte_len(width: u16, height: u16) -> usize {
    usize::from(width) * usize::from(height) / 8
}

impl OriginDimensions for Frame {
    fn size(&self) -> Size {
        Size::new(u32::from(self.width), u32::from(self.height))
    }
}

impl DrawTarget for Frame {
    type Color = BinaryColor;
    type Error = core::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        draw_each(pixels, |x, y, on| self.set_pixel(x, y, on));
        Ok(())
    }

    fn clear(&mut self, color: Self::Color) -> Result<(), Self::Error> {
        self.fill(color.is_on());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::{
        prelude::*,
        primitives::{Line, PrimitiveStyle},
    };

    #[test]
    fn sizes_are_checked() {
        assert!(Frame::new(128, 64).is_ok());
        assert!(Frame::new(128, 32).is_ok());
        assert_eq!(
            Frame::new(100, 7),
            Err(FrameError::BadSize {
                width: 100,
                height: 7
            })
        );
        assert!(matches!(
            Frame::from_bytes(128, 64, vec![0; 10]),
            Err(FrameError::BadLength {
                expected: 1024,
                actual: 10,
                ..
            })
        ));
    }

    #[test]
    fn pixels_land_in_gddram_order() {
        let mut f = Frame::new(128, 64).unwrap();
        f.set_pixel(0, 0, true);
        f.set_pixel(5, 9, true);
        f.set_pixel(127, 63, true);
        f.set_pixel(500, 500, true); // ignored
        assert_eq!(f.as_bytes()[0], 0b0000_0001);
        assert_eq!(f.as_bytes()[128 + 5], 0b0000_0010);
        assert_eq!(f.as_bytes()[1023], 0b1000_0000);
        assert_eq!(f.lit_pixels(), 3);
    }

    #[test]
    fn draws_with_embedded_graphics() {
        let mut f = Frame::new(128, 32).unwrap();
        Line::new(Point::new(0, 0), Point::new(127, 0))
            .into_styled(PrimitiveStyle::with_stroke(BinaryColor::On, 1))
            .draw(&mut f)
            .unwrap();
        assert!(f.page(0).iter().all(|b| *b == 1));
        assert!(f.page(1).iter().all(|b| *b == 0));
    }

    #[test]
    fn transposes_for_portrait() {
        let mut f = Frame::new(64, 128).unwrap();
        f.set_pixel(3, 100, true);
        let t = f.transposed().unwrap();
        assert_eq!((t.width(), t.height()), (128, 64));
        assert!(t.pixel(100, 3));
        assert_eq!(t.transposed().unwrap(), f);
    }

    #[test]
    fn a_width_that_cannot_become_a_height_is_an_error_not_a_panic() {
        for w in [1u16, 7, 100, 127] {
            let mut f = Frame::new(w, 64).unwrap();
            f.set_pixel(w - 1, 63, true);
            assert!(
                matches!(f.transposed(), Err(FrameError::BadSize { .. })),
                "{w}"
            );
        }
    }

    #[test]
    fn pages_past_the_last_are_empty() {
        let f = Frame::new(128, 32).unwrap();
        assert_eq!(f.page(3).len(), 128);
        assert!(f.page(4).is_empty());
        assert!(f.page(u16::MAX).is_empty());
    }

    #[test]
    fn ascii_shows_rows() {
        let mut f = Frame::new(8, 8).unwrap();
        f.set_pixel(1, 0, true);
        assert!(f.to_ascii().starts_with(".#......\n"));
    }
}
