//! A PNG of a panel's frame, made here: 1-bit grayscale (lit = white), one row per pixel row,
//! deflate "stored" blocks (no compression: a 128x64 frame is about 1.2 KiB anyway). The browser
//! scales it crisply (`image-rendering: pixelated`). Pure; tested against the `png` crate's decoder.

use oled_frame::Frame;

/// CRC-32 (IEEE) as PNG chunks need it.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c: u32 = 0xFFFF_FFFF;
    for part in parts {
        for &b in *part {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
    }
    !c
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &d in data {
        a = (a + u32::from(d)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// The frame as a PNG file.
pub fn png(frame: &Frame) -> Vec<u8> {
    let (w, h) = (usize::from(frame.width()), usize::from(frame.height()));
    let row_bytes = w.div_ceil(8);
    // Filter byte 0 (none), then the row's pixels, most significant bit first.
    let mut raw = Vec::with_capacity(h * (row_bytes + 1));
    for y in 0..h {
        raw.push(0);
        for bx in 0..row_bytes {
            let mut byte = 0u8;
            for bit in 0..8 {
                let x = bx * 8 + bit;
                if x < w && frame.pixel(x as u16, y as u16) {
                    byte |= 0x80 >> bit;
                }
            }
            raw.push(byte);
        }
    }
    // zlib: header, stored blocks of at most 65,535 bytes, Adler-32.
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if raw.is_empty() {
        vec![&[][..]]
    } else {
        raw.chunks(65_535).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(w as u32).to_be_bytes());
    ihdr.extend_from_slice(&(h as u32).to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // 1-bit grayscale, deflate, adaptive filters, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A strong enough validator for a frame: FNV-1a 64 over its size and bytes, as an HTTP entity tag.
pub fn etag(frame: &Frame) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let dims = [frame.width().to_le_bytes(), frame.height().to_le_bytes()].concat();
    for &b in dims.iter().chain(frame.as_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(bytes);
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("its pixels");
        buf.truncate(info.buffer_size());
        assert_eq!(
            (info.color_type, info.bit_depth),
            (png::ColorType::Grayscale, png::BitDepth::One)
        );
        (info.width, info.height, buf)
    }

    #[test]
    fn a_decoder_reads_back_every_pixel() {
        for (w, h) in [(128, 64), (64, 128), (72, 40), (96, 16), (1, 8)] {
            let mut f = Frame::new(w, h).unwrap();
            for i in 0..(u32::from(w) * u32::from(h)) {
                if i % 7 == 0 || i % 11 == 3 {
                    f.set_pixel((i % u32::from(w)) as u16, (i / u32::from(w)) as u16, true);
                }
            }
            let (pw, ph, rows) = decode(&png(&f));
            assert_eq!((pw, ph), (u32::from(w), u32::from(h)));
            let stride = usize::from(w).div_ceil(8);
            for y in 0..h {
                for x in 0..w {
                    let byte = rows[usize::from(y) * stride + usize::from(x) / 8];
                    let lit = byte & (0x80 >> (x % 8)) != 0;
                    assert_eq!(lit, f.pixel(x, y), "{w}x{h} ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn the_etag_changes_with_the_picture_and_only_then() {
        let a = Frame::new(128, 64).unwrap();
        let mut b = a.clone();
        assert_eq!(etag(&a), etag(&b));
        b.set_pixel(3, 3, true);
        assert_ne!(etag(&a), etag(&b));
        assert_ne!(
            etag(&Frame::new(64, 128).unwrap()),
            etag(&a),
            "same bytes, other size"
        );
    }
}
