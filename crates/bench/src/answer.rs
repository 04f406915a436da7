//! One answer a fault bench caller got, how it counts, and when the lattice recovered.

use std::time::Duration;

/// An answer later than this is "slow": a caller is promised a clear answer within it.
pub const CLEAR_WITHIN: Duration = Duration::from_secs(5);
/// No answer within this is "hung".
pub const HUNG_AFTER: Duration = Duration::from_secs(15);
/// A wRPC caller's own deadline, as `wash call --timeout-ms` gives one: a caller whose own NATS
/// server is frozen or gone can hear from nobody else, so it is its client that says "no answer in
/// time" (the same 4.8 s as the HTTP link's `timeout_ms`). An HTTP caller has no such deadline here:
/// the HTTP server must answer it, and one that does not within [`HUNG_AFTER`] is hung.
pub const WRPC_CALLER_DEADLINE: Duration = Duration::from_millis(4800);

/// One update and what its caller got.
#[derive(Debug, Clone)]
pub struct Answer {
    /// What the panel should read if this update is the last: the text, the demo's, or "" for clear.
    pub expect: String,
    /// When it was sent (ms since the Unix epoch).
    pub sent_ms: u64,
    /// When its answer came (or the caller gave up).
    pub done_ms: u64,
    /// HTTP status; wRPC: 200 or 0 for an error answer; `None` when hung.
    pub status: Option<u16>,
    /// The answer's body or error, starting with `wrpc:` for a wRPC caller.
    pub detail: String,
}

impl Answer {
    /// A refusal a caller can act on: within [`CLEAR_WITHIN`], HTTP 503/504 with a reason in the
    /// body, or a wRPC error answer with its reason. Anything else that is not a 200 is unclear
    /// (the platform's 408 with an empty body, a 500, a dropped connection).
    ///
    /// ```
    /// use oled_bench::answer::Answer;
    /// let a = |status, ms, detail: &str| Answer { expect: String::new(), sent_ms: 0, done_ms: ms, status, detail: detail.into() };
    /// assert!(a(Some(503), 20, r#"{"error":"panel unreachable"}"#).refused_clearly());
    /// assert!(!a(Some(408), 4800, "").refused_clearly());
    /// assert!(!a(Some(504), 6000, "late").refused_clearly());
    /// ```
    pub fn refused_clearly(&self) -> bool {
        let quick = self.done_ms.saturating_sub(self.sent_ms) <= CLEAR_WITHIN.as_millis() as u64;
        let reason = !self.detail.trim().is_empty();
        match self.status {
            Some(503 | 504) => quick && reason,
            Some(0) => quick && reason && self.detail.starts_with("wrpc:"),
            _ => false,
        }
    }

    /// A deadline answer (HTTP 504, or the same error over wRPC): the frame may still reach the panel.
    pub fn may_land_late(&self) -> bool {
        self.status == Some(504)
            || (self.status == Some(0) && self.detail.contains("did not answer in time"))
    }
}

/// Recovery: from the fault's end `fault_end` (a kill is a moment: its end is its start) to the
/// first 200 of an update sent after it and after every failed update, so that a lucky call between
/// failures does not count; `None` when no such 200 came. Nothing failed: 0.
pub fn recovery_ms(answers: &[Answer], fault_end: u64) -> Option<u64> {
    let last_failure_sent = answers
        .iter()
        .filter(|x| x.status != Some(200))
        .map(|x| x.sent_ms)
        .max();
    let Some(last) = last_failure_sent else {
        return Some(0);
    };
    answers
        .iter()
        .filter(|x| x.status == Some(200) && x.sent_ms >= fault_end && x.sent_ms > last)
        .map(|x| x.done_ms)
        .min()
        .map(|d| d.saturating_sub(fault_end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(sent_ms: u64, done_ms: u64, status: u16) -> Answer {
        Answer {
            expect: String::new(),
            sent_ms,
            done_ms,
            status: Some(status),
            detail: "x".into(),
        }
    }

    #[test]
    fn recovery_waits_for_the_last_failure() {
        // Killed at 1000: a lucky 200 at 1100, failures until 3000, steady from 3500.
        let answers = [
            a(1_100, 1_150, 200),
            a(2_000, 2_010, 503),
            a(3_000, 3_010, 503),
            a(3_500, 3_540, 200),
        ];
        assert_eq!(recovery_ms(&answers, 1_000), Some(2_540));
        assert_eq!(recovery_ms(&answers[..3], 1_000), None);
        assert_eq!(recovery_ms(&[a(0, 10, 200)], 1_000), Some(0));
    }
}
