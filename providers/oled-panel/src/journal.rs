//! A bounded journal of the updates that reached the glass: when, and the text each carried (its
//! first [`TEXT_CHARS`] characters), read with `inspect.journal`.
//!
//! The fault bench's judge ([`oled_bench::judge`](../../oled_bench/judge/index.html)) compares it
//! with what callers were told: an update acknowledged with a 200 that is not in the journal was
//! lost. So that a provider killed mid-run does not forget what it showed before, the journal is kept
//! beside the panel's state file (`<state file>.journal`, one `<unix ms>\t<text>` line an update),
//! appended when the state is saved, before the answers it acknowledges are sent; a provider that
//! starts reads it back. Off unless the `journal` config key asks for it (entries kept).
//!
//! ```
//! use oled_panel_provider::journal::Journal;
//! let mut j = Journal::new(2, None);
//! j.record("one", 10);
//! j.record("two", 20);
//! j.record("three", 30);
//! assert_eq!(j.to_json(), r#"{"capacity":2,"dropped":1,"entries":[{"at_ms":20,"text":"two"},{"at_ms":30,"text":"three"}]}"#);
//! ```

use std::collections::VecDeque;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::PathBuf;

use serde::Serialize;

/// How much of each text the journal keeps: enough to tell updates apart.
pub const TEXT_CHARS: usize = 64;

/// One update on the glass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// When its frame was on the glass (Unix time, ms).
    pub at_ms: u64,
    /// The first [`TEXT_CHARS`] characters of its text ("" for none).
    pub text: String,
}

/// The last `capacity` updates on the glass, optionally kept in a file.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    entries: VecDeque<Entry>,
    /// Entries recorded since the last [`Journal::save`].
    unsaved: usize,
    /// Entries that fell out of the window since the journal began.
    dropped: u64,
    file: Option<PathBuf>,
    lines_in_file: usize,
}

#[derive(Serialize)]
struct View<'a> {
    capacity: usize,
    dropped: u64,
    entries: &'a VecDeque<Entry>,
}

impl Journal {
    /// A journal of `capacity` entries; with a `file`, what it already holds is read back (a
    /// missing or unreadable file is an empty journal, lines that do not parse are skipped).
    pub fn new(capacity: usize, file: Option<PathBuf>) -> Self {
        let mut j = Self {
            capacity,
            entries: VecDeque::new(),
            unsaved: 0,
            dropped: 0,
            file,
            lines_in_file: 0,
        };
        if let Some(text) = j.file.as_ref().and_then(|f| fs::read_to_string(f).ok()) {
            for line in text.lines() {
                j.lines_in_file += 1;
                if let Some((at, t)) = line.split_once('\t') {
                    if let Ok(at_ms) = at.parse() {
                        j.push(Entry {
                            at_ms,
                            text: t.to_string(),
                        });
                    }
                }
            }
        }
        j
    }

    /// How many entries it keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether it keeps anything (capacity above zero).
    pub fn is_on(&self) -> bool {
        self.capacity > 0
    }

    fn push(&mut self, e: Entry) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(e);
    }

    /// Records that an update carrying `text` reached the glass at `at_ms`. Tabs and line breaks
    /// in the text are kept as spaces.
    pub fn record(&mut self, text: &str, at_ms: u64) {
        if !self.is_on() {
            return;
        }
        let text: String = text
            .chars()
            .take(TEXT_CHARS)
            .map(|c| {
                if c == '\t' || c == '\n' || c == '\r' {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        self.push(Entry { at_ms, text });
        self.unsaved = (self.unsaved + 1).min(self.capacity);
    }

    /// Appends the entries recorded since the last save to the file (when there is one); once the
    /// file holds twice the capacity, it is rewritten with the last `capacity` entries only.
    pub fn save(&mut self) -> io::Result<()> {
        let Some(path) = &self.file else {
            self.unsaved = 0;
            return Ok(());
        };
        if self.unsaved == 0 {
            return Ok(());
        }
        let lines = |entries: &mut dyn Iterator<Item = &Entry>| -> String {
            entries
                .map(|e| format!("{}\t{}\n", e.at_ms, e.text))
                .collect()
        };
        if self.lines_in_file + self.unsaved > 2 * self.capacity {
            let tmp = path.with_extension("journal.tmp");
            if let Err(e) = fs::write(&tmp, lines(&mut self.entries.iter()))
                .and_then(|()| fs::rename(&tmp, path))
            {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
            self.lines_in_file = self.entries.len();
        } else {
            let new = self.entries.len() - self.unsaved;
            let mut f = OpenOptions::new().create(true).append(true).open(path)?;
            f.write_all(lines(&mut self.entries.iter().skip(new)).as_bytes())?;
            self.lines_in_file += self.unsaved;
        }
        self.unsaved = 0;
        Ok(())
    }

    /// `{"capacity":N,"dropped":D,"entries":[{"at_ms":..,"text":".."},...]}`, oldest first.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&View {
            capacity: self.capacity,
            dropped: self.dropped,
            entries: &self.entries,
        })
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_keeps_nothing() {
        let mut j = Journal::new(0, None);
        j.record("x", 1);
        assert_eq!(j.to_json(), r#"{"capacity":0,"dropped":0,"entries":[]}"#);
    }

    #[test]
    fn long_text_is_cut_and_tabs_become_spaces() {
        let mut j = Journal::new(4, None);
        j.record(&format!("a\tb\n{}", "x".repeat(100)), 5);
        let json: serde_json::Value = serde_json::from_str(&j.to_json()).unwrap();
        let t = json["entries"][0]["text"].as_str().unwrap();
        assert_eq!(t.chars().count(), TEXT_CHARS);
        assert!(t.starts_with("a b x"));
    }

    #[test]
    fn a_restarted_journal_reads_back_what_was_saved_and_the_file_stays_bounded() {
        let dir = std::env::temp_dir().join(format!("oled-journal-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("panel.journal");
        let _ = fs::remove_file(&path);
        let mut j = Journal::new(3, Some(path.clone()));
        for i in 0..10u64 {
            j.record(&format!("u{i}"), i);
            j.save().unwrap();
        }
        let lines = fs::read_to_string(&path).unwrap().lines().count();
        assert!(lines <= 6, "{lines} lines in the file");
        // Recorded but not saved: a provider killed now never acknowledged it.
        j.record("unsaved", 99);
        let again = Journal::new(3, Some(path.clone()));
        let texts: Vec<_> = again.entries.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["u7", "u8", "u9"]);
        // A damaged line is skipped, the rest is read.
        fs::write(&path, "garbage\n5\tfive\n").unwrap();
        assert_eq!(Journal::new(3, Some(path)).entries.len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
