//! What changed between two frames, as the SSD1306 can be told about it.
//!
//! The controller takes data into a rectangular window of columns and pages (horizontal addressing). Every
//! window costs a fixed overhead on the bus (its address commands plus the data transaction's framing), so
//! the cheapest update is not always one window per changed run: a small gap or the page below is sometimes
//! cheaper to resend than to skip. [`plan_windows`] weighs exactly that.

use crate::Frame;

/// Bus bytes one window costs beyond its data when driven through the `ssd1306` crate's `set_draw_area`:
/// two command transactions (address, control, 3 command bytes each) and the data transaction's address and
/// control byte.
pub const WINDOW_OVERHEAD_BYTES: usize = 12;

/// Changed columns `start..=end` within one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// The page.
    pub page: u16,
    /// First changed column.
    pub start: u16,
    /// Last changed column.
    pub end: u16,
}

/// A rectangle of GDDRAM: columns `col_start..=col_end` by pages `page_start..=page_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First column.
    pub col_start: u16,
    /// Last column.
    pub col_end: u16,
    /// First page.
    pub page_start: u16,
    /// Last page.
    pub page_end: u16,
}

impl Window {
    /// Columns the window spans.
    pub fn columns(&self) -> usize {
        usize::from(self.col_end - self.col_start + 1)
    }

    /// Pages the window spans.
    pub fn page_count(&self) -> usize {
        usize::from(self.page_end - self.page_start + 1)
    }

    /// Data bytes the window carries.
    pub fn area(&self) -> usize {
        self.columns() * self.page_count()
    }

    fn union(&self, o: &Window) -> Window {
        Window {
            col_start: self.col_start.min(o.col_start),
            col_end: self.col_end.max(o.col_end),
            page_start: self.page_start.min(o.page_start),
            page_end: self.page_end.max(o.page_end),
        }
    }

    fn contains(&self, o: &Window) -> bool {
        self.col_start <= o.col_start
            && self.col_end >= o.col_end
            && self.page_start <= o.page_start
            && self.page_end >= o.page_end
    }

    /// The window's bytes from `frame` in the order the controller fills it: page by page, left to right.
    pub fn data(&self, frame: &Frame) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.area());
        for p in self.page_start..=self.page_end {
            out.extend_from_slice(
                &frame.page(p)[usize::from(self.col_start)..=usize::from(self.col_end)],
            );
        }
        out
    }

    /// The whole frame as one window.
    pub fn full(frame: &Frame) -> Window {
        Window {
            col_start: 0,
            col_end: frame.width() - 1,
            page_start: 0,
            page_end: frame.pages() - 1,
        }
    }
}

/// Maximal runs of changed columns, page by page. Frames of different sizes differ everywhere.
pub fn diff_runs(old: &Frame, new: &Frame) -> Vec<Run> {
    if old.width() != new.width() || old.height() != new.height() {
        return (0..new.pages())
            .map(|page| Run {
                page,
                start: 0,
                end: new.width() - 1,
            })
            .collect();
    }
    let mut runs = Vec::new();
    for page in 0..new.pages() {
        let (a, b) = (old.page(page), new.page(page));
        let mut start = None;
        for x in 0..=a.len() {
            let changed = x < a.len() && a[x] != b[x];
            match (changed, start) {
                (true, None) => start = Some(x),
                (false, Some(s)) => {
                    runs.push(Run {
                        page,
                        start: s as u16,
                        end: (x - 1) as u16,
                    });
                    start = None;
                }
                _ => {}
            }
        }
    }
    runs
}

/// Above this many windows the pairwise search is skipped: a scattered (noisy) frame would make it
/// quadratic per step, and the owner of the bus must never stall on what a caller sends.
const PAIRWISE_LIMIT: usize = 48;

/// The windows to send so the panel goes from `old` to `new`, at the least bus cost this greedy plan finds
/// for a fixed `overhead` per window. Identical frames give no window; the plan never costs more than
/// sending the whole frame as one window.
pub fn plan_windows(old: &Frame, new: &Frame, overhead: usize) -> Vec<Window> {
    let runs = diff_runs(old, new);
    if runs.is_empty() {
        return Vec::new();
    }
    // Within a page, a gap shorter than a window's overhead is cheaper to resend than to skip.
    let mut windows: Vec<Window> = Vec::with_capacity(runs.len());
    for r in runs {
        match windows.last_mut() {
            Some(w)
                if w.page_start == r.page && usize::from(r.start - w.col_end - 1) < overhead =>
            {
                w.col_end = r.end;
            }
            _ => windows.push(Window {
                col_start: r.start,
                col_end: r.end,
                page_start: r.page,
                page_end: r.page,
            }),
        }
    }

    if windows.len() <= PAIRWISE_LIMIT {
        merge_pairwise(&mut windows, overhead);
    }
    windows.sort_by_key(|w| (w.page_start, w.col_start));

    let full = Window::full(new);
    if plan_cost(&windows, overhead) > full.area() + overhead {
        return vec![full];
    }
    windows
}

/// Merges the pair that saves most, until no merge saves anything.
fn merge_pairwise(windows: &mut Vec<Window>, overhead: usize) {
    loop {
        let mut best: Option<(Window, usize)> = None;
        for i in 0..windows.len() {
            for j in i + 1..windows.len() {
                let u = windows[i].union(&windows[j]);
                // Windows the union swallows stop costing anything.
                let swallowed: usize = windows
                    .iter()
                    .enumerate()
                    .filter(|(k, w)| *k != i && *k != j && u.contains(w))
                    .map(|(_, w)| w.area() + overhead)
                    .sum();
                let before = windows[i].area() + windows[j].area() + 2 * overhead + swallowed;
                let after = u.area() + overhead;
                if after < before {
                    let saving = before - after;
                    if best.is_none_or(|b| saving > b.1) {
                        best = Some((u, saving));
                    }
                }
            }
        }
        let Some((u, _)) = best else { break };
        windows.retain(|w| !u.contains(w));
        windows.push(u);
    }
}

/// Total bytes the plan puts on the bus at `overhead` per window (data plus overhead).
pub fn plan_cost(windows: &[Window], overhead: usize) -> usize {
    windows.iter().map(|w| w.area() + overhead).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame::new(128, 64).unwrap()
    }

    #[test]
    fn identical_frames_send_nothing() {
        let mut a = frame();
        a.set_pixel(10, 10, true);
        assert!(diff_runs(&a, &a.clone()).is_empty());
        assert!(plan_windows(&a, &a.clone(), WINDOW_OVERHEAD_BYTES).is_empty());
    }

    #[test]
    fn runs_are_maximal_per_page() {
        let a = frame();
        let mut b = frame();
        for x in 3..=7 {
            b.set_pixel(x, 0, true);
        }
        b.set_pixel(100, 20, true);
        assert_eq!(
            diff_runs(&a, &b),
            vec![
                Run {
                    page: 0,
                    start: 3,
                    end: 7
                },
                Run {
                    page: 2,
                    start: 100,
                    end: 100
                }
            ]
        );
    }

    #[test]
    fn small_gaps_merge_large_gaps_do_not() {
        let a = frame();
        let mut b = frame();
        b.set_pixel(0, 0, true);
        b.set_pixel(5, 0, true); // gap of 4 < overhead: one window
        b.set_pixel(120, 0, true); // gap of 114: its own window
        let w = plan_windows(&a, &b, WINDOW_OVERHEAD_BYTES);
        assert_eq!(w.len(), 2);
        assert_eq!((w[0].col_start, w[0].col_end), (0, 5));
        assert_eq!((w[1].col_start, w[1].col_end), (120, 120));
    }

    #[test]
    fn a_glyph_over_three_pages_is_one_window() {
        let a = frame();
        let mut b = frame();
        for y in 4..20 {
            for x in 40..50 {
                b.set_pixel(x, y, (x + y) % 2 == 0);
            }
        }
        let w = plan_windows(&a, &b, WINDOW_OVERHEAD_BYTES);
        assert_eq!(
            w,
            vec![Window {
                col_start: 40,
                col_end: 49,
                page_start: 0,
                page_end: 2
            }]
        );
        assert_eq!(w[0].data(&b).len(), 30);
    }

    #[test]
    fn noise_is_planned_quickly_and_never_above_a_full_frame() {
        let mut a = frame();
        let mut b = frame();
        let mut x: u32 = 12345;
        for _ in 0..4000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let (px, py) = (((x >> 8) % 128) as u16, ((x >> 16) % 64) as u16);
            if x & 1 == 0 {
                a.set_pixel(px, py, true)
            } else {
                b.set_pixel(px, py, true)
            }
        }
        // Thousands of scattered runs: the pairwise search is skipped (it would take minutes here).
        let plan = plan_windows(&a, &b, WINDOW_OVERHEAD_BYTES);
        assert!(plan_cost(&plan, WINDOW_OVERHEAD_BYTES) <= 1024 + WINDOW_OVERHEAD_BYTES);
    }

    #[test]
    fn the_plan_reproduces_the_new_frame() {
        let mut a = frame();
        let mut b = frame();
        for i in 0..400u16 {
            a.set_pixel((i * 37) % 128, (i * 11) % 64, true);
            b.set_pixel((i * 53) % 128, (i * 7) % 64, true);
        }
        let plan = plan_windows(&a, &b, WINDOW_OVERHEAD_BYTES);
        let mut panel = a.clone().into_bytes();
        for w in &plan {
            let data = w.data(&b);
            let mut it = data.iter();
            for p in w.page_start..=w.page_end {
                for c in w.col_start..=w.col_end {
                    panel[usize::from(p) * 128 + usize::from(c)] = *it.next().unwrap();
                }
            }
        }
        assert_eq!(panel, b.as_bytes());
        assert!(plan_cost(&plan, WINDOW_OVERHEAD_BYTES) <= 1024 + WINDOW_OVERHEAD_BYTES);
    }
}
