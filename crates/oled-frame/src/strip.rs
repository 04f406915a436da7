//! Strips: pictures wider than any panel, for tickers.
//!
//! A frame is at most 128 columns (the controller's RAM), but a ticker's line is as long as its text.
//! A [`Strip`] is that line, drawn once, a few pages high and up to [`MAX_STRIP_COLUMNS`] wide, in the
//! same page-major order as a [`Frame`]: whoever animates it cuts windows out of it, and a window
//! that runs past the end wraps to the start (a ticker loops).

use embedded_graphics_core::{
    draw_target::DrawTarget,
    geometry::{OriginDimensions, Size},
    pixelcolor::BinaryColor,
    Pixel,
};

use crate::{ascii, bit, draw_each, set_bit, Frame, FrameError};

/// Widest strip: 4,096 columns, some 400 characters of the largest font, 680 of the smallest.
pub const MAX_STRIP_COLUMNS: u16 = 4096;

/// A 1-bit picture `width` columns wide and `pages` pages (8 rows each) high, page-major: byte
/// `page * width + x` holds column `x` of that page, bit 0 on top.
///
/// ```
/// use oled_frame::{Frame, Strip};
///
/// let mut strip = Strip::new(300, 2)?;
/// strip.set_pixel(299, 0, true); // the strip's last column
/// let mut frame = Frame::new(128, 32)?;
/// strip.paint(299, &mut frame, 1); // a window from column 299 on, wrapping, onto pages 1-2
/// assert!(frame.pixel(0, 8));
/// assert_eq!(frame.lit_pixels(), 1);
/// # Ok::<(), oled_frame::FrameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Strip {
    width: u16,
    pages: u8,
    bytes: Vec<u8>,
}

impl core::fmt::Debug for Strip {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Strip({}x{} pages)", self.width, self.pages)
    }
}

fn check(width: u16, pages: u8) -> Result<(), FrameError> {
    if width == 0 || width > MAX_STRIP_COLUMNS || pages == 0 || pages > 16 {
        return Err(FrameError::BadStrip { width, pages });
    }
    Ok(())
}

impl Strip {
    /// A dark strip; `width` 1-4096 columns, `pages` 1-16.
    pub fn new(width: u16, pages: u8) -> Result<Self, FrameError> {
        check(width, pages)?;
        Ok(Self {
            width,
            pages,
            bytes: vec![0; usize::from(width) * usize::from(pages)],
        })
    }

    /// Wraps bytes received from elsewhere (the wire), checking their length.
    pub fn from_bytes(width: u16, pages: u8, bytes: Vec<u8>) -> Result<Self, FrameError> {
        check(width, pages)?;
        let expected = usize::from(width) * usize::from(pages);
        if bytes.len() != expected {
            return Err(FrameError::BadLength {
                width,
                height: u16::from(pages) * 8,
                expected,
                actual: bytes.len(),
            });
        }
        Ok(Self {
            width,
            pages,
            bytes,
        })
    }

    /// Columns.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Pages (8-row bands).
    pub fn pages(&self) -> u8 {
        self.pages
    }

    /// The bytes, page-major.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Pixel at (x, y); outside the strip reads as dark.
    pub fn pixel(&self, x: u16, y: u16) -> bool {
        if x >= self.width || y >= u16::from(self.pages) * 8 {
            return false;
        }
        bit(&self.bytes, self.width, x, y)
    }

    /// Sets one pixel; outside the strip it is ignored.
    pub fn set_pixel(&mut self, x: u16, y: u16, on: bool) {
        if x >= self.width || y >= u16::from(self.pages) * 8 {
            return;
        }
        set_bit(&mut self.bytes, self.width, x, y, on);
    }

    /// Flips every pixel.
    pub fn invert(&mut self) {
        self.bytes.iter_mut().for_each(|b| *b = !*b);
    }

    /// The byte of column `x` (taken modulo the width: the strip loops) in `page`.
    pub fn column_byte(&self, x: u32, page: u8) -> u8 {
        if page >= self.pages {
            return 0;
        }
        let x = (x % u32::from(self.width)) as usize;
        self.bytes[usize::from(page) * usize::from(self.width) + x]
    }

    /// The same strip padded with dark columns to `width` (a ring of that many columns), or `None`
    /// when it is wider already or `width` is not a strip width.
    pub fn padded(&self, width: u16) -> Option<Strip> {
        if width < self.width || width > MAX_STRIP_COLUMNS {
            return None;
        }
        let mut out = Strip::new(width, self.pages).ok()?;
        for page in 0..usize::from(self.pages) {
            let from = page * usize::from(self.width);
            let to = page * usize::from(width);
            out.bytes[to..to + usize::from(self.width)]
                .copy_from_slice(&self.bytes[from..from + usize::from(self.width)]);
        }
        Some(out)
    }

    /// Draws the window that starts at column `offset` (wrapping around the end) across the whole
    /// width of `frame`, onto its pages from `top_page` on. Pages past the frame's bottom are left out.
    pub fn paint(&self, offset: u32, frame: &mut Frame, top_page: u16) {
        let width = frame.width();
        for page in 0..u16::from(self.pages) {
            let target = top_page + page;
            if target >= frame.pages() {
                break;
            }
            for x in 0..width {
                let byte = self.column_byte(offset + u32::from(x), page as u8);
                for bit in 0..8u16 {
                    frame.set_pixel(x, target * 8 + bit, byte & (1 << bit) != 0);
                }
            }
        }
    }

    /// Copies `frame` into the strip with its column 0 at column `x`: as many pages as both have,
    /// columns past the strip's end left out. Drawing a strip cell by cell through frames keeps one
    /// copy of the drawing code where size counts (a WebAssembly component).
    pub fn blit(&mut self, x: u16, frame: &Frame) {
        let pages = u16::from(self.pages).min(frame.pages());
        let width = usize::from(self.width);
        for page in 0..pages {
            let src = frame.page(page);
            let start = usize::from(page) * width + usize::from(x);
            let room = width.saturating_sub(usize::from(x)).min(src.len());
            if let Some(dst) = self.bytes.get_mut(start..start + room) {
                dst.copy_from_slice(&src[..room]);
            }
        }
    }

    /// Text art, `#` lit and `.` dark, one line per pixel row.
    pub fn to_ascii(&self) -> String {
        ascii(self.width, u16::from(self.pages) * 8, |x, y| {
            self.pixel(x, y)
        })
    }
}

impl OriginDimensions for Strip {
    fn size(&self) -> Size {
        Size::new(u32::from(self.width), u32::from(self.pages) * 8)
    }
}

impl DrawTarget for Strip {
    type Color = BinaryColor;
    type Error = core::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        draw_each(pixels, |x, y, on| self.set_pixel(x, y, on));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_lengths_are_checked() {
        assert!(Strip::new(4096, 3).is_ok());
        for (w, p) in [(0, 1), (4097, 1), (10, 0), (10, 17)] {
            assert_eq!(
                Strip::new(w, p),
                Err(FrameError::BadStrip { width: w, pages: p })
            );
        }
        assert!(matches!(
            Strip::from_bytes(300, 2, vec![0; 599]),
            Err(FrameError::BadLength {
                expected: 600,
                actual: 599,
                ..
            })
        ));
    }

    #[test]
    fn windows_wrap_and_land_on_the_pages_asked() {
        let mut s = Strip::new(200, 2).unwrap();
        for x in 0..200 {
            s.set_pixel(x, x % 16, true);
        }
        let mut f = Frame::new(128, 64).unwrap();
        s.paint(150, &mut f, 2);
        for x in 0..128u16 {
            let sx = (150 + x) % 200;
            assert!(f.pixel(x, 16 + sx % 16), "column {x}");
        }
        assert_eq!(f.lit_pixels(), 128);
        // A strip taller than what is left of the frame is cut at its bottom.
        let mut short = Frame::new(128, 16).unwrap();
        s.paint(0, &mut short, 1);
        assert!(short.page(0).iter().all(|b| *b == 0));
        assert_eq!(short.lit_pixels(), 64, "only the strip's first page fits");
    }

    #[test]
    fn frames_blit_into_place_and_are_cut_at_the_end() {
        let mut f = Frame::new(8, 16).unwrap();
        f.fill(true);
        let mut s = Strip::new(20, 1).unwrap();
        s.blit(16, &f);
        assert_eq!(s.as_bytes()[15..], [0, 0xFF, 0xFF, 0xFF, 0xFF]);
        s.blit(40, &f);
        assert_eq!(s.as_bytes().iter().filter(|b| **b != 0).count(), 4);
    }

    #[test]
    fn padding_keeps_the_picture_and_refuses_to_shrink() {
        let mut s = Strip::new(100, 2).unwrap();
        s.set_pixel(99, 15, true);
        let p = s.padded(128).unwrap();
        assert_eq!((p.width(), p.pages()), (128, 2));
        assert!(p.pixel(99, 15));
        assert_eq!(p.as_bytes().iter().map(|b| b.count_ones()).sum::<u32>(), 1);
        assert!(s.padded(99).is_none());
    }
}
