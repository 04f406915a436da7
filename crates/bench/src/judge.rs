//! The fault judge, update by update: what callers were told against what the panel presented.
//!
//! A bench records every update it sends ([`Sent`]: its id, when it was sent and answered, the
//! status and the reason given) and reads the provider's journal of what reached the glass
//! ([`Presented`]: id and time). [`judge`] then counts, per update:
//!
//! - **lost**: acknowledged (200) and never presented;
//! - **out of order**: acknowledged, presented, but after an update that was sent only once it had
//!   been acknowledged (the panel went back to older text);
//! - **late**: a 200 that took longer than [`Rules::answer_within_ms`];
//! - **unclear**: any other answer that is not a 503/504 with a reason within the same bound, and any
//!   call without an answer (hung).
//!
//! A row survives only when all four are zero. Pure: no clock, no I/O, so the harness stage feeds it
//! recorded histories with a planted loss or a late 200 and sees it say so.
//!
//! ```
//! use oled_bench::judge::{judge, Presented, Rules, Sent};
//! let sent = [Sent::answered(1, 0, 40, 200, ""), Sent::answered(2, 100, 130, 200, "")];
//! let glass = [Presented { id: 1, at_ms: 30 }];
//! let v = judge(&sent, &glass, &Rules::default());
//! assert_eq!(v.lost, vec![2]);
//! assert!(!v.survived());
//! ```

use serde_json::Value;

/// One update a bench sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The update's id, unique within a run.
    pub id: u64,
    /// When it was sent (ms, any epoch shared with [`Presented::at_ms`]).
    pub sent_ms: u64,
    /// When its answer arrived; `None`: no answer at all (hung).
    pub done_ms: Option<u64>,
    /// The HTTP status (wRPC callers: 200, or 503/504 for an error they were given).
    pub status: Option<u16>,
    /// The reason the answer gave (body or error text); empty when none.
    pub reason: String,
}

impl Sent {
    /// An update that was answered.
    pub fn answered(id: u64, sent_ms: u64, done_ms: u64, status: u16, reason: &str) -> Self {
        Self {
            id,
            sent_ms,
            done_ms: Some(done_ms),
            status: Some(status),
            reason: reason.to_string(),
        }
    }

    /// An update that never got an answer.
    pub fn hung(id: u64, sent_ms: u64) -> Self {
        Self {
            id,
            sent_ms,
            done_ms: None,
            status: None,
            reason: String::new(),
        }
    }

    fn acknowledged(&self) -> bool {
        self.status == Some(200)
    }

    fn took_ms(&self) -> Option<u64> {
        self.done_ms.map(|d| d.saturating_sub(self.sent_ms))
    }
}

/// One entry of the provider's journal: update `id` reached the glass at `at_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presented {
    /// The update's id.
    pub id: u64,
    /// When its frame was on the glass (ms, same epoch as [`Sent::sent_ms`]).
    pub at_ms: u64,
}

/// The bounds the judge holds answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Every answer, a 200 or an error, must arrive within this.
    pub answer_within_ms: u64,
}

impl Default for Rules {
    /// 5 s: a caller gets a clear answer within it, or the row fails.
    fn default() -> Self {
        Self {
            answer_within_ms: 5_000,
        }
    }
}

/// What the judge found; [`Verdict::survived`] when nothing of it is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Updates sent.
    pub sent: usize,
    /// Updates answered 200.
    pub acknowledged: usize,
    /// Clear refusals: 503/504 with a reason, in time.
    pub refused_clearly: usize,
    /// Ids acknowledged and never presented.
    pub lost: Vec<u64>,
    /// Ids presented after an update that was sent only once they had been acknowledged.
    pub out_of_order: Vec<u64>,
    /// Ids answered 200 too late.
    pub late: Vec<u64>,
    /// Ids with any other answer, or none.
    pub unclear: Vec<u64>,
}

impl Verdict {
    /// Nothing lost, out of order, late or unclear.
    pub fn survived(&self) -> bool {
        self.lost.is_empty()
            && self.out_of_order.is_empty()
            && self.late.is_empty()
            && self.unclear.is_empty()
    }

    /// One line: the counts, and the first few ids of each kind of failure.
    pub fn summary(&self) -> String {
        fn ids(name: &str, v: &[u64]) -> String {
            if v.is_empty() {
                return String::new();
            }
            let shown: Vec<String> = v.iter().take(5).map(u64::to_string).collect();
            format!(
                "; {name}: {}{}",
                shown.join(","),
                if v.len() > 5 { ",…" } else { "" }
            )
        }
        format!(
            "{} sent, {} acknowledged, {} refused clearly, {} lost, {} out of order, {} late, {} unclear{}{}{}{}",
            self.sent,
            self.acknowledged,
            self.refused_clearly,
            self.lost.len(),
            self.out_of_order.len(),
            self.late.len(),
            self.unclear.len(),
            ids("lost", &self.lost),
            ids("out of order", &self.out_of_order),
            ids("late", &self.late),
            ids("unclear", &self.unclear),
        )
    }
}

/// Judges one run: every update sent against the journal of what was presented.
pub fn judge(sent: &[Sent], presented: &[Presented], rules: &Rules) -> Verdict {
    let mut v = Verdict {
        sent: sent.len(),
        ..Verdict::default()
    };
    // The first time each id reached the glass.
    let mut first_at = std::collections::HashMap::new();
    for p in presented {
        first_at.entry(p.id).or_insert(p.at_ms);
    }
    for s in sent {
        let in_time = s.took_ms().is_some_and(|t| t <= rules.answer_within_ms);
        match s.status {
            Some(200) => {
                v.acknowledged += 1;
                if !in_time {
                    v.late.push(s.id);
                }
                if !first_at.contains_key(&s.id) {
                    v.lost.push(s.id);
                }
            }
            Some(503 | 504) if in_time && !s.reason.trim().is_empty() => v.refused_clearly += 1,
            _ => v.unclear.push(s.id),
        }
    }
    // Out of order: A acknowledged before B was sent, both presented, B before A.
    let mut acked: Vec<(&Sent, u64)> = sent
        .iter()
        .filter(|s| s.acknowledged())
        .filter_map(|s| Some((s, *first_at.get(&s.id)?)))
        .collect();
    acked.sort_by_key(|(s, _)| s.sent_ms);
    for (a, a_at) in &acked {
        let Some(a_done) = a.done_ms else { continue };
        let overtaken = acked
            .iter()
            .any(|(b, b_at)| b.sent_ms > a_done && b_at < a_at);
        if overtaken {
            v.out_of_order.push(a.id);
        }
    }
    v
}

/// Reads a recorded history: a JSON object `{"sent": [...], "presented": [...]}` with the fields
/// of [`Sent`] and [`Presented`] (`done_ms` and `status` may be null).
///
/// ```
/// let h = r#"{"sent":[{"id":1,"sent_ms":0,"done_ms":9,"status":200,"reason":""}],
///             "presented":[{"id":1,"at_ms":5}]}"#;
/// let (sent, glass) = oled_bench::judge::parse_history(h).unwrap();
/// assert_eq!((sent.len(), glass.len()), (1, 1));
/// ```
pub fn parse_history(json: &str) -> Result<(Vec<Sent>, Vec<Presented>), String> {
    let root: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let list = |key: &str| -> Result<Vec<Value>, String> {
        root.get(key)
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| format!("no array '{key}'"))
    };
    let num = |v: &Value, key: &str| -> Result<u64, String> {
        v.get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("an entry without a number '{key}': {v}"))
    };
    let sent = list("sent")?
        .iter()
        .map(|s| {
            Ok(Sent {
                id: num(s, "id")?,
                sent_ms: num(s, "sent_ms")?,
                done_ms: s.get("done_ms").and_then(Value::as_u64),
                status: s
                    .get("status")
                    .and_then(Value::as_u64)
                    .and_then(|x| u16::try_from(x).ok()),
                reason: s
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            })
        })
        .collect::<Result<_, String>>()?;
    let presented = list("presented")?
        .iter()
        .map(|p| {
            Ok(Presented {
                id: num(p, "id")?,
                at_ms: num(p, "at_ms")?,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok((sent, presented))
}

/// The entries of a provider's journal (the JSON of `inspect.journal`): `(text, at_ms)`, oldest
/// first, and how many entries fell out of its window since it began.
///
/// ```
/// let j = r#"{"capacity":4,"dropped":0,"entries":[{"at_ms":5,"text":"h0-1 r7"}]}"#;
/// let (entries, dropped) = oled_bench::judge::parse_journal(j).unwrap();
/// assert_eq!((entries, dropped), (vec![("h0-1 r7".to_string(), 5)], 0));
/// ```
pub fn parse_journal(json: &str) -> Result<(Vec<(String, u64)>, u64), String> {
    let root: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    if let Some(e) = root.get("error") {
        return Err(format!("the provider says: {e}"));
    }
    if root.get("capacity").and_then(Value::as_u64) == Some(0) {
        return Err("the provider keeps no journal (its config has no `journal`)".into());
    }
    let entries = root
        .get("entries")
        .and_then(Value::as_array)
        .ok_or("no 'entries' array")?
        .iter()
        .filter_map(|e| {
            Some((
                e.get("text")?.as_str()?.to_string(),
                e.get("at_ms")?.as_u64()?,
            ))
        })
        .collect();
    Ok((
        entries,
        root.get("dropped").and_then(Value::as_u64).unwrap_or(0),
    ))
}

/// One update of a bench run told apart by its text (unique within the run), and what its caller
/// was told.
#[derive(Debug, Clone, Copy)]
pub struct TextUpdate<'a> {
    /// The update's text, as the provider's journal records it.
    pub text: &'a str,
    /// As [`Sent::sent_ms`].
    pub sent_ms: u64,
    /// As [`Sent::done_ms`].
    pub done_ms: Option<u64>,
    /// As [`Sent::status`].
    pub status: Option<u16>,
    /// As [`Sent::reason`].
    pub reason: &'a str,
}

/// Judges the `updates` of a run that began at `since_ms` against a provider's journal (the JSON
/// of `inspect.journal`). An error when the journal cannot vouch for the whole run: none kept, or
/// entries of the run already dropped from its window.
///
/// ```
/// use oled_bench::judge::{judge_journal, Rules, TextUpdate};
/// let up = |text, sent_ms| TextUpdate { text, sent_ms, done_ms: Some(sent_ms + 9), status: Some(200), reason: "" };
/// let journal = r#"{"capacity":9,"dropped":0,"entries":[{"at_ms":3,"text":"old"},{"at_ms":15,"text":"a"}]}"#;
/// let v = judge_journal(&[up("a", 10), up("b", 20)], journal, 10, &Rules::default()).unwrap();
/// assert_eq!(v.lost, vec![1]);
/// ```
pub fn judge_journal(
    updates: &[TextUpdate],
    journal: &str,
    since_ms: u64,
    rules: &Rules,
) -> Result<Verdict, String> {
    let (entries, dropped) = parse_journal(journal)?;
    if dropped > 0 && entries.first().is_some_and(|(_, at)| *at > since_ms) {
        return Err(format!(
            "the journal dropped {dropped} entries, some of them from this run: raise the provider's `journal`"
        ));
    }
    let ids: std::collections::HashMap<&str, u64> = updates
        .iter()
        .enumerate()
        .map(|(i, u)| (u.text, i as u64))
        .collect();
    let presented: Vec<Presented> = entries
        .iter()
        .filter(|(_, at)| *at >= since_ms)
        .filter_map(|(text, at)| {
            Some(Presented {
                id: *ids.get(text.as_str())?,
                at_ms: *at,
            })
        })
        .collect();
    let sent: Vec<Sent> = updates
        .iter()
        .enumerate()
        .map(|(i, u)| Sent {
            id: i as u64,
            sent_ms: u.sent_ms,
            done_ms: u.done_ms,
            status: u.status,
            reason: u.reason.to_string(),
        })
        .collect();
    Ok(judge(&sent, &presented, rules))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(id: u64, sent: u64, done: u64) -> Sent {
        Sent::answered(id, sent, done, 200, "")
    }
    fn at(id: u64, at_ms: u64) -> Presented {
        Presented { id, at_ms }
    }

    #[test]
    fn every_update_presented_in_order_survives() {
        let sent = [ok(1, 0, 20), ok(2, 50, 70), ok(3, 100, 130)];
        let v = judge(
            &sent,
            &[at(1, 10), at(2, 60), at(3, 120)],
            &Rules::default(),
        );
        assert!(v.survived(), "{}", v.summary());
        assert_eq!(v.acknowledged, 3);
    }

    #[test]
    fn an_acknowledged_update_missing_from_the_journal_is_lost() {
        let sent = [ok(1, 0, 20), ok(2, 50, 70), ok(3, 100, 130)];
        let v = judge(&sent, &[at(1, 10), at(3, 120)], &Rules::default());
        assert_eq!(v.lost, vec![2]);
        assert!(!v.survived());
    }

    #[test]
    fn a_refused_update_that_never_landed_is_not_lost() {
        let sent = [
            ok(1, 0, 20),
            Sent::answered(2, 50, 4_000, 504, "the panel did not answer in time"),
        ];
        let v = judge(&sent, &[at(1, 10)], &Rules::default());
        assert!(v.survived(), "{}", v.summary());
        assert_eq!(v.refused_clearly, 1);
    }

    #[test]
    fn a_late_200_fails() {
        let sent = [ok(1, 0, 20), ok(2, 50, 6_000)];
        let v = judge(&sent, &[at(1, 10), at(2, 5_900)], &Rules::default());
        assert_eq!(v.late, vec![2]);
        assert!(!v.survived());
    }

    #[test]
    fn an_error_without_a_reason_or_of_another_kind_or_hung_is_unclear() {
        let sent = [
            Sent::answered(1, 0, 4_800, 408, ""),
            Sent::answered(2, 0, 100, 503, " "),
            Sent::answered(3, 0, 6_000, 504, "late refusal"),
            Sent::hung(4, 0),
            Sent::answered(5, 0, 100, 503, "the link to the Pi is down"),
        ];
        let v = judge(&sent, &[], &Rules::default());
        assert_eq!(v.unclear, vec![1, 2, 3, 4]);
        assert_eq!(v.refused_clearly, 1);
    }

    #[test]
    fn an_older_update_presented_after_a_newer_one_is_out_of_order() {
        // 1 was acknowledged at 20, 2 was sent at 50: 1 must not reach the glass after 2.
        let sent = [ok(1, 0, 20), ok(2, 50, 70)];
        let v = judge(&sent, &[at(2, 60), at(1, 65)], &Rules::default());
        assert_eq!(v.out_of_order, vec![1]);
        // Overlapping updates (2 sent before 1 was answered) may land in either order.
        let sent = [ok(1, 0, 80), ok(2, 50, 90)];
        let v = judge(&sent, &[at(2, 60), at(1, 65)], &Rules::default());
        assert!(v.survived(), "{}", v.summary());
    }

    #[test]
    fn a_journal_that_cannot_vouch_for_the_run_is_an_error() {
        let up = |text| TextUpdate {
            text,
            sent_ms: 100,
            done_ms: Some(110),
            status: Some(200),
            reason: "",
        };
        let overflowed = r#"{"capacity":1,"dropped":5,"entries":[{"at_ms":150,"text":"b"}]}"#;
        let e = judge_journal(&[up("a"), up("b")], overflowed, 100, &Rules::default());
        assert!(e.unwrap_err().contains("raise"));
        let off = r#"{"capacity":0,"dropped":0,"entries":[]}"#;
        assert!(judge_journal(&[up("a")], off, 100, &Rules::default()).is_err());
        let refused = r#"{"error":"Absent(\"no panel\")"}"#;
        assert!(judge_journal(&[up("a")], refused, 100, &Rules::default())
            .unwrap_err()
            .contains("provider says"));
        // Dropped entries all from before the run: the run is whole.
        let older = r#"{"capacity":2,"dropped":5,"entries":[{"at_ms":50,"text":"x"},{"at_ms":105,"text":"a"}]}"#;
        let v = judge_journal(&[up("a")], older, 100, &Rules::default()).unwrap();
        assert!(v.survived(), "{}", v.summary());
    }

    #[test]
    fn histories_parse_and_bad_ones_say_why() {
        let (s, p) = parse_history(
            r#"{"sent":[{"id":7,"sent_ms":1,"done_ms":null,"status":null}],"presented":[]}"#,
        )
        .unwrap();
        assert_eq!(s, vec![Sent::hung(7, 1)]);
        assert!(p.is_empty());
        assert!(parse_history("{").unwrap_err().contains("not JSON"));
        assert!(parse_history(r#"{"sent":[]}"#)
            .unwrap_err()
            .contains("presented"));
        assert!(parse_history(r#"{"sent":[{"sent_ms":1}],"presented":[]}"#)
            .unwrap_err()
            .contains("'id'"));
    }
}
