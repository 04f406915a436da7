//! From GDDRAM and registers to what a person sees: the glass (segment and COM wiring of a common module)
//! and a PNG that looks like the module.

use crate::controller::{Controller, ROWS};
use crate::{Mounting, PanelSize};
use oled_frame::Frame;

/// Which COM pin the chip drives for logical COM index `j` under a COM pin configuration (0xDA).
/// Sequential: pin j. Alternative: even indices on COM0-31, odd ones on COM32-63. Left/right remap swaps
/// the two halves.
fn com_pin(j: usize, alternative: bool, left_right: bool) -> usize {
    let pin = if alternative { j / 2 + 32 * (j % 2) } else { j };
    if left_right {
        pin ^ 32
    } else {
        pin
    }
}

/// Inverse of [`com_pin`].
fn com_index(pin: usize, alternative: bool, left_right: bool) -> usize {
    let q = if left_right { pin ^ 32 } else { pin };
    if alternative {
        if q < 32 {
            2 * q
        } else {
            2 * (q - 32) + 1
        }
    } else {
        q
    }
}

/// For each glass row (top to bottom as mounted), the GDDRAM row it shows, or `None` for a row the chip
/// does not drive (beyond the multiplex ratio).
///
/// The glass is wired for the COM configuration its size needs ([`PanelSize::com_alternative`]: 128x64,
/// 72x40 and 64x48 alternative, 128x32 and 96x16 sequential)
/// and mounted so that with 0xC8 the first scan line is on top. A mismatched 0xDA therefore interleaves
/// rows, as on real modules. Offset (0xD3) shifts along the scan direction; start line (0x40) picks the
/// GDDRAM row of the first scan line.
fn glass_rows(c: &Controller, size: PanelSize) -> Vec<Option<usize>> {
    let s = &c.state;
    let h = usize::from(size.height());
    let n = usize::from(s.mux).clamp(1, ROWS);
    let wired_alternative = size.com_alternative();
    (0..h)
        .map(|y| {
            let pin = com_pin(h - 1 - y, wired_alternative, false);
            let j = com_index(pin, s.com_alternative, s.com_left_right_remap);
            let d = usize::from(s.display_offset);
            let k = if s.com_reversed {
                (ROWS + n - 1 + d - j) % ROWS
            } else {
                (j + d) % ROWS
            };
            (k < n).then(|| (k + usize::from(s.start_line)) % ROWS)
        })
        .collect()
}

/// The image on the glass, landscape (panel width x height), before any mounting rotation.
pub fn glass(c: &Controller, size: PanelSize) -> Frame {
    let w = size.width();
    let mut f = Frame::blank(size, false);
    let s = &c.state;
    // A common SSD1306 or SH1106 module has no external VCC: without its charge pump (or DC-DC) it
    // stays dark. An SSD1309 module brings its own.
    if !s.display_on || !(s.charge_pump || c.chip == crate::Chip::Ssd1309) {
        return f;
    }
    let rows = glass_rows(c, size);
    for (y, row) in rows.iter().enumerate() {
        // Undriven COM lines stay dark even when inverted or entirely on.
        let Some(row) = *row else { continue };
        for x in 0..usize::from(w) {
            // The module is mounted with SEG127 on the left, so 0xA1 puts column 0 there.
            // The glass is wired to `offset..offset + 128` of the chip's segments (an SH1106's 132
            // usually at 2); the segment remap decides which RAM column drives a segment.
            let ram = c.chip.ram_columns();
            let seg = c.column_offset + x;
            let col = if s.segment_remap { seg } else { ram - 1 - seg };
            let bit =
                c.gddram.get((row / 8) * ram + col).copied().unwrap_or(0) >> (row % 8) & 1 == 1;
            let lit = s.entire_on || (bit != s.inverted);
            if lit {
                f.set_pixel(x as u16, y as u16, true);
            }
        }
    }
    f
}

/// The glass as a person sees it on a module mounted at `mounting`: portrait for 90 and 270 degrees.
/// The rotations match the `ssd1306` crate's `DisplayRotation`: an image drawn with `RotateN` is upright on
/// a module mounted at `RotateN`.
pub fn mounted(glass: &Frame, mounting: Mounting) -> Frame {
    let (gw, gh) = (glass.width(), glass.height());
    let (w, h) = match mounting {
        Mounting::Rotate0 | Mounting::Rotate180 => (gw, gh),
        Mounting::Rotate90 | Mounting::Rotate270 => (gh, gw),
    };
    let mut f = Frame::new(w, h).expect("a rotated panel is a valid frame size");
    for y in 0..h {
        for x in 0..w {
            let (gx, gy) = match mounting {
                Mounting::Rotate0 => (x, y),
                Mounting::Rotate90 => (gw - 1 - y, x),
                Mounting::Rotate180 => (gw - 1 - x, gh - 1 - y),
                Mounting::Rotate270 => (y, gh - 1 - x),
            };
            if glass.pixel(gx, gy) {
                f.set_pixel(x, y, true);
            }
        }
    }
    f
}

/// Largest accepted scale; keeps a mistaken argument from allocating gigabytes.
pub const MAX_SCALE: u32 = 32;

const BEZEL: [u8; 3] = [34, 36, 40];
const BEZEL_EDGE: [u8; 3] = [58, 61, 66];
const GLASS: [u8; 3] = [7, 9, 13];
const DARK_PIXEL: [u8; 3] = [15, 19, 27];
const LIT_PIXEL: [u8; 3] = [205, 232, 255];

/// Palette indices of the module picture. Six colours make an indexed PNG a few kilobytes.
const I_BEZEL_EDGE: u8 = 0;
const I_BEZEL: u8 = 1;
const I_GLASS: u8 = 2;
const I_DARK: u8 = 3;
const I_LIT: u8 = 4;

/// The module picture as palette indices plus its palette: bezel, glass, one square per pixel with a
/// 1-px gap. Returns `(width, height, indices, rgb palette)`.
fn module_indexed(frame: &Frame, scale: u32, contrast: u8) -> (u32, u32, Vec<u8>, Vec<u8>) {
    let s = scale.clamp(1, MAX_SCALE) as usize;
    let bezel = 3 * s;
    let margin = 2 * s;
    let (fw, fh) = (usize::from(frame.width()), usize::from(frame.height()));
    let w = fw * s + 2 * (bezel + margin);
    let h = fh * s + 2 * (bezel + margin);
    let mut idx = Vec::with_capacity(w * h);
    // Every output row is one of a few kinds: the bezel's edge, the bezel, the glass margin, or a row of
    // LEDs (each LED row is `s` output rows: `s - 1` alike, then the gap). Build each kind once, copy it.
    let edge_row = vec![I_BEZEL_EDGE; w];
    let mut bezel_row = vec![I_BEZEL; w];
    bezel_row[0] = I_BEZEL_EDGE;
    bezel_row[w - 1] = I_BEZEL_EDGE;
    let mut glass_row = bezel_row.clone();
    glass_row[bezel..w - bezel].fill(I_GLASS);
    let mut led_row = glass_row.clone();
    for y in 0..h {
        if y == 0 || y == h - 1 {
            idx.extend_from_slice(&edge_row);
        } else if y < bezel || y >= h - bezel {
            idx.extend_from_slice(&bezel_row);
        } else {
            let gy = y - bezel;
            if gy < margin || gy >= fh * s + margin {
                idx.extend_from_slice(&glass_row);
                continue;
            }
            let (py, iy) = ((gy - margin) / s, (gy - margin) % s);
            if s > 1 && iy == s - 1 {
                idx.extend_from_slice(&glass_row);
                continue;
            }
            if iy == 0 {
                for px in 0..fw {
                    let on = frame.pixel(px as u16, py as u16);
                    let x0 = bezel + margin + px * s;
                    let lit = if on { I_LIT } else { I_DARK };
                    led_row[x0..x0 + s].fill(lit);
                    if s > 1 {
                        led_row[x0 + s - 1] = I_GLASS;
                    }
                }
            }
            idx.extend_from_slice(&led_row);
        }
    }
    // Contrast dims a little, as on the real panel: 0 gives 70% of full brightness.
    let level = 0.7 + 0.3 * f32::from(contrast) / 255.0;
    let lit = LIT_PIXEL.map(|v| (f32::from(v) * level).round() as u8);
    let palette = [BEZEL_EDGE, BEZEL, GLASS, DARK_PIXEL, lit].concat();
    (w as u32, h as u32, idx, palette)
}

/// RGB pixels of `frame` drawn as a module. Returns `(width, height, rgb)`.
#[cfg(test)]
fn module_rgb(frame: &Frame, scale: u32, contrast: u8) -> (u32, u32, Vec<u8>) {
    let (w, h, idx, palette) = module_indexed(frame, scale, contrast);
    let rgb = idx
        .iter()
        .flat_map(|i| {
            let i = usize::from(*i) * 3;
            [palette[i], palette[i + 1], palette[i + 2]]
        })
        .collect();
    (w, h, rgb)
}

/// PNG bytes of `frame` drawn as a module (indexed colour).
pub fn module_png(frame: &Frame, scale: u32, contrast: u8) -> Result<Vec<u8>, png::EncodingError> {
    let (w, h, idx, palette) = module_indexed(frame, scale, contrast);
    // Five colours: four bits a pixel, two pixels a byte (high nibble first), rows padded to a byte;
    // half the bytes to compress.
    let packed: Vec<u8> = idx
        .chunks(w as usize)
        .flat_map(|row| {
            row.chunks(2)
                .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0))
        })
        .collect();
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Four);
        enc.set_palette(palette);
        // Written after every change that a person could see: fast beats small here.
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header()?;
        writer.write_image_data(&packed)?;
        writer.finish()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn com_pin_mapping_round_trips() {
        for alt in [false, true] {
            for lr in [false, true] {
                let mut seen = [false; 64];
                for j in 0..64 {
                    let p = com_pin(j, alt, lr);
                    assert!(!seen[p]);
                    seen[p] = true;
                    assert_eq!(com_index(p, alt, lr), j);
                }
            }
        }
        assert_eq!(com_pin(1, true, false), 32);
        assert_eq!(com_pin(2, true, false), 1);
    }

    #[test]
    fn module_geometry() {
        let f = Frame::new(128, 32).unwrap();
        let (w, h, rgb) = module_rgb(&f, 4, 0xFF);
        assert_eq!((w, h), (128 * 4 + 40, 32 * 4 + 40));
        assert_eq!(rgb.len(), (w * h * 3) as usize);
    }

    #[test]
    fn lit_pixels_are_squares_with_a_gap() {
        let mut f = Frame::new(8, 8).unwrap();
        f.set_pixel(0, 0, true);
        let (w, _, rgb) = module_rgb(&f, 4, 0xFF);
        let at = |x: usize, y: usize| {
            let i = (y * w as usize + x) * 3;
            [rgb[i], rgb[i + 1], rgb[i + 2]]
        };
        let origin = 12 + 8; // bezel + margin at scale 4
        for d in 0..3 {
            assert_eq!(at(origin + d, origin + d), LIT_PIXEL);
        }
        assert_eq!(at(origin + 3, origin), GLASS);
        assert_eq!(at(origin + 4, origin), DARK_PIXEL);
        assert_eq!(at(0, 0), BEZEL_EDGE);
        assert_eq!(at(5, 5), BEZEL);
    }

    #[test]
    fn contrast_dims_a_little() {
        let mut f = Frame::new(8, 8).unwrap();
        f.fill(true);
        let (w, _, rgb) = module_rgb(&f, 2, 0);
        let i = (10 * w as usize + 10) * 3;
        assert!(rgb[i + 2] < 255 && rgb[i + 2] > 150);
    }
}
