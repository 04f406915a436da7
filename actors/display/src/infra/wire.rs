//! The wRPC encoding of the `oled-lattice:panel/panel` calls the component makes (see `wit/panel`).
//!
//! The component calls the panel through `wrpc:rpc/invoker` rather than a plain import, so that it can
//! wait with a deadline of its own and turn a Pi that does not answer into an HTTP 504 instead of a
//! trap. That means encoding parameters and decoding results by hand, as wRPC puts them on the wire:
//! `u8` and `bool` as one byte, other integers as unsigned LEB128, strings and `list<u8>` as a LEB128
//! length and the bytes, records field by field, variants as a LEB128 case index and the payload,
//! `option` and `result` as a tag byte (0 none/ok, 1 some/err) and the payload.
//!
//! Pure: compiled and tested natively.

use crate::domain::{PanelError, PanelInfo, PresentCost, TickerDraw, TickerRun};

/// The panel's interface instance as the provider serves it.
pub const PANEL_INSTANCE: &str = "oled-lattice:panel/panel@0.1.0";
/// The panel's inspect interface (what the glass shows, as text).
pub const INSPECT_INSTANCE: &str = "oled-lattice:panel/inspect@0.1.0";

/// Why bytes could not be decoded (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// More bytes are needed.
    Short,
    /// The bytes are not a value of the expected type.
    Bad(String),
}

/// `Ok(None)` while the value is incomplete.
pub type Decoded<T> = Result<Option<T>, String>;

fn finish<T>(r: Result<T, WireError>) -> Decoded<T> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(WireError::Short) => Ok(None),
        Err(WireError::Bad(why)) => Err(why),
    }
}

fn leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    // Frames and texts are far below 4 GiB; a longer one would be refused by the provider anyway.
    leb(out, u32::try_from(b.len()).unwrap_or(u32::MAX));
    out.extend_from_slice(b);
}

/// Parameters of `present(frame)`.
pub fn present_params(frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + 5);
    bytes(&mut out, frame);
    out
}

/// Parameters of `present-text(frame, text)`.
pub fn present_text_params(frame: &[u8], text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + text.len() + 10);
    bytes(&mut out, frame);
    bytes(&mut out, text.as_bytes());
    out
}

/// Parameters of `present-sized(width, height, frame, text)`.
pub fn present_sized_params(width: u16, height: u16, frame: &[u8], text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + text.len() + 16);
    leb(&mut out, u32::from(width));
    leb(&mut out, u32::from(height));
    bytes(&mut out, frame);
    bytes(&mut out, text.as_bytes());
    out
}

/// Parameters of `present-ticker(ticker, text)`: the `ticker` record field by field, then the text.
pub fn present_ticker_params(t: &TickerDraw<'_>, text: &str) -> Vec<u8> {
    let strip = t.strip.as_bytes();
    let mut out = Vec::with_capacity(t.frame.len() + strip.len() + text.len() + 32);
    leb(&mut out, u32::from(t.width));
    leb(&mut out, u32::from(t.height));
    bytes(&mut out, t.frame);
    leb(&mut out, u32::from(t.strip.width()));
    out.push(t.strip.pages());
    bytes(&mut out, strip);
    out.push(t.top_page);
    leb(&mut out, u32::from(t.speed));
    out.push(u8::from(t.software));
    bytes(&mut out, text.as_bytes());
    out
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b, at: 0 }
    }

    fn byte(&mut self) -> Result<u8, WireError> {
        let v = *self.b.get(self.at).ok_or(WireError::Short)?;
        self.at += 1;
        Ok(v)
    }

    fn leb(&mut self, max_bits: u32) -> Result<u32, WireError> {
        let mut v: u64 = 0;
        for shift in (0..).step_by(7) {
            if shift >= 35 {
                return Err(WireError::Bad("LEB128 integer too long".into()));
            }
            let b = self.byte()?;
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                break;
            }
        }
        if v >> max_bits != 0 {
            return Err(WireError::Bad(format!(
                "{v} does not fit in {max_bits} bits"
            )));
        }
        Ok(v as u32)
    }

    fn bool(&mut self) -> Result<bool, WireError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(WireError::Bad(format!("bool byte {b}"))),
        }
    }

    fn string(&mut self) -> Result<String, WireError> {
        let n = self.leb(32)? as usize;
        let end = self.at.checked_add(n).ok_or(WireError::Short)?;
        let s = self.b.get(self.at..end).ok_or(WireError::Short)?;
        self.at = end;
        String::from_utf8(s.to_vec()).map_err(|_| WireError::Bad("string is not UTF-8".into()))
    }

    fn tag(&mut self, what: &str) -> Result<bool, WireError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(WireError::Bad(format!("{what} tag {b}"))),
        }
    }

    /// `option<string>`: a tag, then the string when it is there.
    fn option_string(&mut self) -> Result<Option<String>, WireError> {
        if self.tag("option")? {
            Ok(Some(self.string()?))
        } else {
            Ok(None)
        }
    }

    fn done<T>(&self, v: T) -> Result<T, WireError> {
        if self.at == self.b.len() {
            Ok(v)
        } else {
            Err(WireError::Bad(format!(
                "{} bytes after the value",
                self.b.len() - self.at
            )))
        }
    }

    fn panel_error(&mut self) -> Result<PanelError, WireError> {
        let case = self.leb(32)?;
        let msg = self.string()?;
        match case {
            0 => Ok(PanelError::BadFrame(msg)),
            1 => Ok(PanelError::Bus(msg)),
            2 => Ok(PanelError::Absent(msg)),
            3 => Ok(PanelError::Invalid(msg)),
            n => Err(WireError::Bad(format!("panel-error case {n}"))),
        }
    }

    /// `result<T, panel-error>` with `ok` read by `f`.
    fn result<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, WireError>,
    ) -> Result<Result<T, PanelError>, WireError> {
        if self.tag("result")? {
            Ok(Err(self.panel_error()?))
        } else {
            Ok(Ok(f(self)?))
        }
    }
}

/// Results of `present` and `present-text`: `result<present-cost, panel-error>`.
pub fn decode_present(b: &[u8]) -> Decoded<Result<PresentCost, PanelError>> {
    let mut r = Reader::new(b);
    finish(
        r.result(|r| {
            Ok(PresentCost {
                bytes: r.leb(32)?,
                transactions: r.leb(32)?,
                pages_touched: r.byte()?,
                full_refresh: r.bool()?,
                unsaved: r.option_string()?,
            })
        })
        .and_then(|v| r.done(v)),
    )
}

/// Results of `present-ticker`: `result<ticker-run, panel-error>` (present-cost, path, speed in
/// thousandths of a column a second, why software).
pub fn decode_ticker_run(b: &[u8]) -> Decoded<Result<TickerRun, PanelError>> {
    let mut r = Reader::new(b);
    finish(
        r.result(|r| {
            let bus = PresentCost {
                bytes: r.leb(32)?,
                transactions: r.leb(32)?,
                pages_touched: r.byte()?,
                full_refresh: r.bool()?,
                unsaved: r.option_string()?,
            };
            let path = r.string()?;
            let speed = f64::from(r.leb(32)?) / 1000.0;
            let why_software = r.option_string()?;
            Ok(TickerRun {
                path,
                speed,
                why_software,
                bus,
            })
        })
        .and_then(|v| r.done(v)),
    )
}

/// Results of `info`: `result<panel-info, panel-error>`.
pub fn decode_info(b: &[u8]) -> Decoded<Result<PanelInfo, PanelError>> {
    let mut r = Reader::new(b);
    finish(
        r.result(|r| {
            Ok(PanelInfo {
                width: r.leb(16)? as u16,
                height: r.leb(16)? as u16,
                driver: r.string()?,
                backend: r.string()?,
                bus: r.string()?,
                address: r.byte()?,
                rotation: r.leb(16)? as u16,
                unsaved: r.option_string()?,
            })
        })
        .and_then(|v| r.done(v)),
    )
}

/// Results of `last-text`: `result<option<string>, panel-error>`.
pub fn decode_last_text(b: &[u8]) -> Decoded<Result<Option<String>, PanelError>> {
    let mut r = Reader::new(b);
    finish(
        r.result(|r| {
            if r.tag("option")? {
                Ok(Some(r.string()?))
            } else {
                Ok(None)
            }
        })
        .and_then(|v| r.done(v)),
    )
}

/// Results of `shown`: `result<shown-frame, panel-error>` (width, height, the frame's bytes).
pub fn decode_shown(b: &[u8]) -> Decoded<Result<oled_frame::Frame, PanelError>> {
    let mut r = Reader::new(b);
    let read = r.result(|r| {
        let (w, h) = (r.leb(16)? as u16, r.leb(16)? as u16);
        let n = r.leb(32)? as usize;
        let end = r.at.checked_add(n).ok_or(WireError::Short)?;
        let bytes = r.b.get(r.at..end).ok_or(WireError::Short)?.to_vec();
        r.at = end;
        oled_frame::Frame::from_bytes(w, h, bytes).map_err(|e| WireError::Bad(e.to_string()))
    });
    finish(read.and_then(|v| r.done(v)))
}

/// Results of `inspect.ascii`: a bare `string` (no error case: the provider writes its errors into it).
pub fn decode_ascii(b: &[u8]) -> Decoded<Result<String, PanelError>> {
    let mut r = Reader::new(b);
    finish(r.string().and_then(|v| r.done(Ok(v))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_result() {
        let mut ok = vec![0, 8, 8, 8];
        ok.extend_from_slice(&[0xFF, 0, 0, 0, 0, 0, 0, 0x81]);
        let f = decode_shown(&ok).unwrap().unwrap().unwrap();
        assert_eq!((f.width(), f.height(), f.lit_pixels()), (8, 8, 10));
        assert_eq!(decode_shown(&ok[..6]), Ok(None));
        assert!(
            decode_shown(&[0, 8, 8, 3, 1, 2, 3]).is_err(),
            "3 bytes are no 8x8 frame"
        );
        let err = decode_shown(&[1, 2, 4, b'g', b'o', b'n', b'e'])
            .unwrap()
            .unwrap();
        assert_eq!(err, Err(PanelError::Absent("gone".into())));
    }

    #[test]
    fn ascii_result() {
        assert_eq!(
            decode_ascii(&[3, b'#', b'.', b'\n']),
            Ok(Some(Ok("#.\n".to_string())))
        );
        assert_eq!(decode_ascii(&[3, b'#']), Ok(None));
        assert!(decode_ascii(&[1, b'#', 0]).is_err());
    }

    #[test]
    fn parameters() {
        assert_eq!(present_params(&[7, 8]), vec![2, 7, 8]);
        let frame = vec![0xAB; 1024];
        let p = present_params(&frame);
        assert_eq!(&p[..2], &[0x80, 0x08], "1024 as LEB128");
        assert_eq!(p.len(), 1026);
        assert_eq!(
            present_text_params(&[1], "hé"),
            vec![1, 1, 3, b'h', 0xC3, 0xA9]
        );
        // u16 as LEB128: 128 takes two bytes, 64 one.
        assert_eq!(
            present_sized_params(128, 64, &[9], "a"),
            vec![0x80, 0x01, 64, 1, 9, 1, b'a']
        );
    }

    #[test]
    fn present_results() {
        // ok { bytes: 1036, transactions: 3, pages-touched: 8, full-refresh: true, unsaved: none }
        let ok = [0, 0x8C, 0x08, 3, 8, 1, 0];
        let want = PresentCost {
            bytes: 1036,
            transactions: 3,
            pages_touched: 8,
            full_refresh: true,
            unsaved: None,
        };
        assert_eq!(decode_present(&ok), Ok(Some(Ok(want.clone()))));
        for n in 0..ok.len() {
            assert_eq!(decode_present(&ok[..n]), Ok(None), "prefix {n}");
        }
        // The same, with unsaved: some("full")
        let unsaved = [0, 0x8C, 0x08, 3, 8, 1, 1, 4, b'f', b'u', b'l', b'l'];
        assert_eq!(
            decode_present(&unsaved),
            Ok(Some(Ok(PresentCost {
                unsaved: Some("full".into()),
                ..want
            })))
        );
        // err(bus("NACK"))
        let err = [1, 1, 4, b'N', b'A', b'C', b'K'];
        assert_eq!(
            decode_present(&err),
            Ok(Some(Err(PanelError::Bus("NACK".into()))))
        );
        assert!(decode_present(&[2]).is_err());
        assert!(decode_present(&[1, 9, 0]).is_err());
        assert!(
            decode_present(&[0, 1, 1, 1, 1, 0, 0xFF]).is_err(),
            "trailing byte"
        );
    }

    #[test]
    fn info_and_last_text_results() {
        let mut b = vec![0, 0x80, 0x01, 64];
        for s in ["ssd1306", "virtual", "/dev/i2c-1"] {
            b.push(s.len() as u8);
            b.extend_from_slice(s.as_bytes());
        }
        b.extend_from_slice(&[0x3C, 0xB4, 0x01, 0]);
        let info = decode_info(&b).unwrap().unwrap().unwrap();
        assert_eq!((info.width, info.height, info.rotation), (128, 64, 180));
        assert_eq!((info.driver.as_str(), info.address), ("ssd1306", 0x3C));
        assert_eq!(decode_info(&b[..b.len() - 1]), Ok(None));

        assert_eq!(decode_last_text(&[0, 0]), Ok(Some(Ok(None))));
        assert_eq!(
            decode_last_text(&[0, 1, 2, b'h', b'i']),
            Ok(Some(Ok(Some("hi".into()))))
        );
        assert_eq!(
            decode_last_text(&[1, 2, 1, b'x']),
            Ok(Some(Err(PanelError::Absent("x".into()))))
        );
        assert!(decode_last_text(&[0, 1, 1, 0xFF]).is_err(), "not UTF-8");
    }

    #[test]
    fn ticker_parameters_and_result() {
        let mut strip = oled_frame::Strip::new(130, 1).unwrap();
        strip.set_pixel(0, 0, true);
        let t = TickerDraw {
            width: 8,
            height: 8,
            frame: &[1, 2, 3, 4, 5, 6, 7, 8],
            strip: &strip,
            top_page: 0,
            speed: 300,
            software: true,
        };
        let p = present_ticker_params(&t, "go");
        assert_eq!(&p[..11], &[8, 8, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            &p[11..16],
            &[0x82, 0x01, 1, 0x82, 0x01],
            "130 columns, 1 page, 130 bytes"
        );
        assert_eq!(p[16], 1);
        assert_eq!(&p[16 + 130..], &[0, 0xAC, 0x02, 1, 2, b'g', b'o']);
        // ok { cost {300, 2, 2, false, none}, "hardware", 27273, none }
        let mut ok = vec![0, 0xAC, 0x02, 2, 2, 0, 0, 8];
        ok.extend_from_slice(b"hardware");
        ok.extend_from_slice(&[0x89, 0xD5, 0x01, 0]);
        let run = decode_ticker_run(&ok).unwrap().unwrap().unwrap();
        assert_eq!((run.path.as_str(), run.bus.bytes), ("hardware", 300));
        assert!((run.speed - 27.273).abs() < 1e-9, "{}", run.speed);
        assert_eq!(run.why_software, None);
        for n in 0..ok.len() {
            assert_eq!(decode_ticker_run(&ok[..n]), Ok(None), "prefix {n}");
        }
        let mut sw = ok[..ok.len() - 1].to_vec();
        sw.extend_from_slice(&[1, 2, b'n', b'o']);
        let run = decode_ticker_run(&sw).unwrap().unwrap().unwrap();
        assert_eq!(run.why_software.as_deref(), Some("no"));
    }

    #[test]
    fn leb128_limits() {
        let mut r = Reader::new(&[0x80, 0x80, 0x04]);
        assert!(matches!(r.leb(16), Err(WireError::Bad(_))));
        let mut r = Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
        assert!(matches!(r.leb(32), Err(WireError::Bad(_))));
        let mut out = Vec::new();
        leb(&mut out, u32::MAX);
        assert_eq!(Reader::new(&out).leb(32), Ok(u32::MAX));
    }
}
