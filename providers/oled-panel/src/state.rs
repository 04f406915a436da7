//! Durable panel state: what a panel last showed, so that a provider restart, a host restart or a reboot
//! brings the picture back without anybody calling.
//!
//! One small file per panel in the `state_dir`, replaced atomically after each change (write a temporary
//! file in the same folder, fsync it, rename it over the old one, fsync the folder), so a crash at any
//! moment leaves either the old state or the new one, never a mix. The file carries a checksum: a
//! truncated, corrupt or foreign file is refused with a [`StateError`] that names it, and the caller
//! starts blank.
//!
//! Layout (little-endian): magic `OLEDST`, format version (1), logical width and height (u16),
//! rotation in degrees (u16), contrast, contrast from the configuration, power, inverted (u8 each),
//! text length (u32, `u32::MAX` for none) and UTF-8 text, frame length (u32) and the frame (page-major,
//! logical orientation); from version 2 a ticker flag (u8) and, when set, the ticker: its page (u8),
//! speed (u16), software flag (u8), strip width (u16) and pages (u8), the strip's bytes and the
//! background (a frame's bytes); then a CRC-32 of everything before it. A state without a ticker is
//! written as version 1, which the previous release reads: rolling a provider back keeps the picture.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use oled_driver::ticker::Ticker;
use oled_frame::{Frame, Strip};

use crate::config::DeviceKey;

const MAGIC: &[u8; 6] = b"OLEDST";
const VERSION: u8 = 2;
/// The first format, without a ticker; still read.
const VERSION_1: u8 = 1;
/// Largest text kept with a frame; longer captions are cut at a character boundary.
pub const MAX_TEXT_BYTES: usize = 4096;
/// No state file is larger than this (two 128x128 frames, the widest strip and the longest text,
/// with room to spare).
const MAX_FILE_BYTES: u64 = 192 * 1024;
const NO_TEXT: u32 = u32::MAX;

/// What a panel showed and how, as it is kept across restarts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelState {
    /// The frame last acknowledged to a caller, in its logical orientation.
    pub frame: Frame,
    /// Rotation in degrees the frame was presented with.
    pub rotation: u16,
    /// Contrast in effect (set by a call or by the configuration).
    pub contrast: u8,
    /// The configuration's contrast when this state was written: when the configuration has changed
    /// since, the new configuration wins over the remembered contrast.
    pub config_contrast: u8,
    pub power_on: bool,
    pub inverted: bool,
    /// The text the frame shows, when the caller said so.
    pub text: Option<String>,
    /// The ticker running, so that it runs again after a restart.
    pub ticker: Option<SavedTicker>,
}

/// A ticker as kept across restarts: the ticker and whether the software path was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedTicker {
    pub ticker: Ticker,
    pub software: bool,
}

/// Why a state file was not used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state file {path} is not usable: {why}")]
    Corrupt { path: PathBuf, why: String },
}

impl PanelState {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let frame = self.frame.as_bytes();
        let text = self.text.as_deref().map(|t| cut(t, MAX_TEXT_BYTES));
        let mut out = Vec::with_capacity(32 + frame.len() + text.map_or(0, str::len));
        out.extend_from_slice(MAGIC);
        // The oldest format that holds this state: a provider rolled back to the previous release
        // still reads a state without a ticker (it refuses format 2, and would start blank).
        out.push(if self.ticker.is_some() {
            VERSION
        } else {
            VERSION_1
        });
        out.extend_from_slice(&self.frame.width().to_le_bytes());
        out.extend_from_slice(&self.frame.height().to_le_bytes());
        out.extend_from_slice(&self.rotation.to_le_bytes());
        out.extend_from_slice(&[
            self.contrast,
            self.config_contrast,
            u8::from(self.power_on),
            u8::from(self.inverted),
        ]);
        match text {
            Some(t) => {
                out.extend_from_slice(&(t.len() as u32).to_le_bytes());
                out.extend_from_slice(t.as_bytes());
            }
            None => out.extend_from_slice(&NO_TEXT.to_le_bytes()),
        }
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(frame);
        match &self.ticker {
            None => {}
            Some(t) => {
                let strip = t.ticker.strip();
                out.push(1);
                out.push(t.ticker.top_page());
                out.extend_from_slice(&t.ticker.speed().to_le_bytes());
                out.push(u8::from(t.software));
                out.extend_from_slice(&strip.width().to_le_bytes());
                out.push(strip.pages());
                out.extend_from_slice(strip.as_bytes());
                out.extend_from_slice(t.ticker.background().as_bytes());
            }
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parses a file's bytes; every defect is an error saying what is wrong, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < MAGIC.len() + 1 + 4 {
            return Err(format!("too short ({} bytes)", bytes.len()));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        let mut r = Reader { bytes: body, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err("not an oled-lattice state file (bad magic)".to_string());
        }
        let version = r.u8()?;
        if version != VERSION && version != VERSION_1 {
            return Err(format!("format version {version}, expected {VERSION}"));
        }
        if crc32fast::hash(body) != crc {
            return Err("checksum mismatch (truncated or corrupt)".to_string());
        }
        let width = r.u16()?;
        let height = r.u16()?;
        let rotation = r.u16()?;
        let contrast = r.u8()?;
        let config_contrast = r.u8()?;
        let power_on = r.bool()?;
        let inverted = r.bool()?;
        let text = match r.u32()? {
            NO_TEXT => None,
            n if n as usize > MAX_TEXT_BYTES => return Err(format!("text of {n} bytes")),
            n => Some(
                String::from_utf8(r.take(n as usize)?.to_vec())
                    .map_err(|_| "text is not UTF-8".to_string())?,
            ),
        };
        let len = r.u32()? as usize;
        let frame = Frame::from_bytes(width, height, r.take(len)?.to_vec())
            .map_err(|e| format!("frame: {e}"))?;
        let ticker = if version == VERSION_1 || !r.bool()? {
            None
        } else {
            let top_page = r.u8()?;
            let speed = r.u16()?;
            let software = r.bool()?;
            let (columns, pages) = (r.u16()?, r.u8()?);
            let n = usize::from(columns) * usize::from(pages);
            let strip = Strip::from_bytes(columns, pages, r.take(n)?.to_vec())
                .map_err(|e| format!("ticker strip: {e}"))?;
            let background = Frame::from_bytes(width, height, r.take(len)?.to_vec())
                .map_err(|e| format!("ticker background: {e}"))?;
            let ticker = Ticker::new(background, strip, top_page, speed)
                .map_err(|e| format!("ticker: {e}"))?;
            Some(SavedTicker { ticker, software })
        };
        if r.at != body.len() {
            return Err(format!("{} bytes after the frame", body.len() - r.at));
        }
        if !matches!(rotation, 0 | 90 | 180 | 270) {
            return Err(format!("rotation {rotation}"));
        }
        Ok(Self {
            frame,
            rotation,
            contrast,
            config_contrast,
            power_on,
            inverted,
            text,
            ticker,
        })
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| format!("ends early at byte {} (wanted {n} more)", self.at))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn bool(&mut self) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(format!("flag byte {v}")),
        }
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Where one panel's state lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// The state file of `device` in `dir`: one file per device, named after it.
    pub fn for_device(dir: &Path, device: &DeviceKey) -> Self {
        let name: String = format!(
            "{}-{}-{:02x}",
            device.backend, device.location, device.address
        )
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
        Self {
            path: dir.join(format!("panel-{}.state", name.trim_matches('_'))),
        }
    }

    /// A state file at an exact path.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal kept beside it ([`crate::journal`]): the same name, ending `.journal`.
    pub fn journal_path(&self) -> PathBuf {
        self.path.with_extension("journal")
    }

    /// The saved state; `Ok(None)` when there is none yet.
    pub fn load(&self) -> Result<Option<PanelState>, StateError> {
        let io = |source| StateError::Io {
            path: self.path.clone(),
            source,
        };
        let meta = match fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        if meta.len() > MAX_FILE_BYTES {
            return Err(StateError::Corrupt {
                path: self.path.clone(),
                why: format!("{} bytes, more than any state file has", meta.len()),
            });
        }
        let bytes = fs::read(&self.path).map_err(io)?;
        PanelState::decode(&bytes)
            .map(Some)
            .map_err(|why| StateError::Corrupt {
                path: self.path.clone(),
                why,
            })
    }

    /// Replaces the saved state atomically: temporary file, fsync, rename, fsync of the folder.
    pub fn save(&self, state: &PanelState) -> Result<(), StateError> {
        self.write(state, true)
    }

    /// [`StateFile::save`] without waiting for the disk: the new file is complete and in place (a
    /// crash of this process, or of any other, cannot leave a mix of old and new), but only
    /// [`StateFile::sync`] makes it survive a power cut. The owner answers a caller after this and
    /// syncs in the background, because one fsync can take seconds on a busy SD card.
    pub fn replace(&self, state: &PanelState) -> Result<(), StateError> {
        self.write(state, false)
    }

    /// Flushes the file and its folder to the disk.
    pub fn sync(&self) -> Result<(), StateError> {
        let io = |source| StateError::Io {
            path: self.path.clone(),
            source,
        };
        File::open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        if let Ok(d) = File::open(self.dir()) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    fn write(&self, state: &PanelState, durable: bool) -> Result<(), StateError> {
        let io = |source| StateError::Io {
            path: self.path.clone(),
            source,
        };
        let dir = self.dir();
        fs::create_dir_all(dir).map_err(io)?;
        let mut tmp_name = self.path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(".tmp");
        let tmp = dir.join(tmp_name);
        let written = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(&state.encode())?;
            if durable {
                f.sync_all()?;
            }
            drop(f);
            fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            // A full disk or a refused rename leaves no half-written temporary file behind.
            let _ = fs::remove_file(&tmp);
            return Err(io(e));
        }
        // The rename is durable once the folder is; a folder that cannot be opened (odd filesystems)
        // still has the new file, only perhaps not yet on disk.
        if durable {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PanelState {
        let mut frame = Frame::new(128, 64).unwrap();
        frame.set_pixel(3, 5, true);
        frame.set_pixel(127, 63, true);
        PanelState {
            frame,
            rotation: 180,
            contrast: 200,
            config_contrast: 95,
            power_on: true,
            inverted: true,
            text: Some("Grüße, 21.5 °C".to_string()),
            ticker: None,
        }
    }

    fn with_ticker() -> PanelState {
        let mut strip = Strip::new(300, 2).unwrap();
        strip.set_pixel(299, 15, true);
        let mut background = Frame::new(128, 64).unwrap();
        background.set_pixel(0, 0, true);
        PanelState {
            ticker: Some(SavedTicker {
                ticker: Ticker::new(background, strip, 5, 42).unwrap(),
                software: true,
            }),
            ..sample()
        }
    }

    #[test]
    fn round_trip() {
        let s = sample();
        assert_eq!(PanelState::decode(&s.encode()).unwrap(), s);
        let none = PanelState { text: None, ..s };
        assert_eq!(PanelState::decode(&none.encode()).unwrap(), none);
        let t = with_ticker();
        assert_eq!(PanelState::decode(&t.encode()).unwrap(), t);
    }

    #[test]
    fn a_state_without_a_ticker_is_written_as_format_1_and_format_2_without_one_is_read() {
        // Format 1 (what the previous release reads): no ticker flag after the frame.
        let v1 = sample().encode();
        assert_eq!(v1[6], 1);
        assert_eq!(with_ticker().encode()[6], 2);
        // Format 2 with the flag at 0, as a later writer may make it.
        let mut v2 = v1[..v1.len() - 4].to_vec();
        v2[6] = 2;
        v2.push(0);
        let crc = crc32fast::hash(&v2);
        v2.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(PanelState::decode(&v2).unwrap(), sample());
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let bytes = with_ticker().encode();
        for len in 0..bytes.len() {
            assert!(PanelState::decode(&bytes[..len]).is_err(), "length {len}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert!(PanelState::decode(&b).is_err(), "byte {i}");
        }
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let s = PanelState {
            text: Some("é".repeat(MAX_TEXT_BYTES)),
            ..sample()
        };
        let back = PanelState::decode(&s.encode()).unwrap();
        let text = back.text.unwrap();
        assert!(text.len() <= MAX_TEXT_BYTES && text.chars().all(|c| c == 'é'));
    }

    #[test]
    fn a_failed_save_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = DeviceKey {
            backend: "i2c",
            location: "/dev/i2c-1".to_string(),
            address: 0x3C,
        };
        let file = StateFile::for_device(dir.path(), &key);
        // The state file's path is a folder: the rename into place fails.
        fs::create_dir_all(file.path()).unwrap();
        assert!(file.save(&sample()).is_err());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn save_load_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let key = DeviceKey {
            backend: "i2c",
            location: "/dev/i2c-1".to_string(),
            address: 0x3C,
        };
        let file = StateFile::for_device(&dir.path().join("sub"), &key);
        assert!(file.path().ends_with("panel-i2c__dev_i2c_1_3c.state"));
        assert!(file.load().unwrap().is_none());
        file.save(&sample()).unwrap();
        assert_eq!(file.load().unwrap(), Some(sample()));
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");

        fs::write(file.path(), b"garbage").unwrap();
        let e = file.load().unwrap_err().to_string();
        assert!(e.contains("panel-i2c__dev_i2c_1_3c.state"), "{e}");
        let mut truncated = sample().encode();
        truncated.truncate(40);
        fs::write(file.path(), truncated).unwrap();
        assert!(matches!(file.load(), Err(StateError::Corrupt { .. })));
        fs::write(file.path(), vec![0u8; 100_000]).unwrap();
        assert!(matches!(file.load(), Err(StateError::Corrupt { .. })));
    }
}
