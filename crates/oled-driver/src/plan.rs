//! What to send so the panel goes from one frame to the next, at the least cost on the bus.
//!
//! The SSD1306 offers two ways to aim a block of GDDRAM data:
//! - **page addressing** (`0x20 0x02`): `0xB0 | page` and two column nibbles, three command bytes at most,
//!   and fewer when the pointer is already on that page or column. Data runs along one page.
//! - **horizontal addressing** (`0x20 0x00`): a window, `0x21 c0 c1 0x22 p0 p1`, six command bytes; data
//!   fills it page by page. Worth it for blocks over several pages (a glyph two pages tall).
//!
//! A few command bytes go in the same transaction as the data when that is cheaper: a control byte with
//! Co=1 carries one command, so `[0x80, cmd, 0x40, data…]` costs 2 bytes per command and saves the second
//! transaction's address byte. [`encode`] chooses per block, knowing where the controller's pointer is,
//! and counts every byte exactly as the bus will carry it; [`plan`] compares whole plans by that count:
//! an optimal page-addressing plan per page (dynamic programming over which gaps to bridge), windows
//! merged for blocks over several pages, and the whole frame.

use oled_frame::{diff_runs, plan_windows, Frame, Run, Window};

/// Columns of GDDRAM, whatever the glass shows.
const COLUMNS: u16 = 128;

/// One block of GDDRAM data and how it is aimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// Columns `start..=end` of one page, in page addressing.
    Run {
        /// GDDRAM page, 0-7.
        page: u16,
        /// First column.
        start: u16,
        /// Last column.
        end: u16,
    },
    /// A window of columns by pages, in horizontal addressing.
    Window(Window),
}

impl Block {
    /// Data bytes the block carries.
    pub fn area(&self) -> usize {
        match self {
            Block::Run { start, end, .. } => usize::from(end - start + 1),
            Block::Window(w) => w.area(),
        }
    }

    /// The block's bytes from `frame`, in the order the controller takes them.
    pub fn data(&self, frame: &Frame) -> Vec<u8> {
        match *self {
            Block::Run { page, start, end } => {
                frame.page(page)[usize::from(start)..=usize::from(end)].to_vec()
            }
            Block::Window(w) => w.data(frame),
        }
    }

    /// GDDRAM pages the block writes.
    pub fn pages(&self) -> core::ops::RangeInclusive<u16> {
        match *self {
            Block::Run { page, .. } => page..=page,
            Block::Window(w) => w.page_start..=w.page_end,
        }
    }
}

/// Addressing mode of the controller (command 0x20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Page,
    Horizontal,
}

/// Where the controller's address pointer is, as far as this side knows: after initialisation or a
/// fault nothing is known and the next block sets everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    mode: Option<Mode>,
    page: Option<u16>,
    column: Option<u16>,
    /// The horizontal window (columns, pages) last set, while in horizontal mode.
    window: Option<((u16, u16), (u16, u16))>,
    /// RAM column of the glass's column 0 (an SH1106 module's 2, a 72x40 SSD1306's 28).
    offset: u16,
    /// Columns after which the pointer wraps to 0, in glass columns.
    wrap: u16,
    /// Page addressing is all the controller has (an SH1106).
    page_only: bool,
}

impl Default for Cursor {
    fn default() -> Self {
        Self::unknown()
    }
}

impl Cursor {
    /// An SSD1306 with nothing known: the state after initialisation.
    pub fn unknown() -> Self {
        Self::ssd1306(0)
    }

    /// An SSD1306 whose glass's first column is RAM column `ram_offset` (a small glass wired to
    /// the middle segments: 72x40 at 28, 64x48 at 32), with nothing known of its pointer.
    ///
    /// ```
    /// use oled_driver::plan::{cost, plan, Cursor};
    /// use oled_frame::Frame;
    ///
    /// let old = Frame::new(72, 40).unwrap();
    /// let mut new = old.clone();
    /// new.set_pixel(0, 0, true);
    /// // The same plan as on a 128-wide glass; only the column numbers it sends differ.
    /// let at_28 = Cursor::ssd1306(28);
    /// assert_eq!(cost(&plan(&old, &new, at_28), at_28), 7 + 3);
    /// ```
    pub fn ssd1306(ram_offset: u8) -> Self {
        Self {
            mode: None,
            page: None,
            column: None,
            window: None,
            offset: u16::from(ram_offset),
            // Nothing a plan writes reaches RAM column 127 on a glass that starts later.
            wrap: COLUMNS - u16::from(ram_offset),
            page_only: false,
        }
    }

    /// An SH1106 (page addressing only, 132 RAM columns) whose glass starts at RAM column
    /// `column_offset`, with nothing known of its pointer. Plans for it use [`plan_page_only`].
    pub fn sh1106(column_offset: u8) -> Self {
        Self {
            mode: Some(Mode::Page),
            offset: u16::from(column_offset),
            // Nothing a plan writes reaches the end of its 132 columns.
            wrap: 132 - u16::from(column_offset),
            page_only: true,
            ..Self::unknown()
        }
    }

    /// The same kind of controller with nothing known of its pointer (after a fault or an
    /// initialisation).
    pub fn forgotten(self) -> Self {
        Self {
            mode: if self.is_page_only() {
                Some(Mode::Page)
            } else {
                None
            },
            page: None,
            column: None,
            window: None,
            ..self
        }
    }

    /// Page addressing is all this controller has (an SH1106).
    pub fn is_page_only(&self) -> bool {
        self.page_only
    }
}

/// One I2C write: the bytes after the address byte.
pub type Payload = Vec<u8>;

/// Bytes on the bus for `payloads`: one address byte each plus the payload.
pub fn bus_bytes(payloads: &[Payload]) -> usize {
    payloads.iter().map(|p| 1 + p.len()).sum()
}

/// The command bytes `block` needs from `cursor`, and the cursor after its data.
fn commands(block: &Block, cursor: &Cursor) -> (Vec<u8>, Cursor) {
    let mut cmds = Vec::with_capacity(8);
    match *block {
        Block::Run { page, start, end } => {
            let mut known = *cursor;
            if known.mode != Some(Mode::Page) {
                cmds.extend_from_slice(&[0x20, 0x02]);
                known = Cursor {
                    mode: Some(Mode::Page),
                    ..cursor.forgotten()
                };
            }
            if known.page != Some(page) {
                cmds.push(0xB0 | (page as u8 & 0x07));
            }
            // The nibbles address RAM columns: the glass's plus the module's offset.
            let ram = |c: u16| c + cursor.offset;
            let (lo, hi) = (ram(start) as u8 & 0x0F, (ram(start) >> 4) as u8 & 0x0F);
            match known.column {
                Some(c) if c == start => {}
                Some(c) => {
                    if (ram(c) as u8 & 0x0F) != lo {
                        cmds.push(lo);
                    }
                    if ((ram(c) >> 4) as u8 & 0x0F) != hi {
                        cmds.push(0x10 | hi);
                    }
                }
                None => cmds.extend_from_slice(&[lo, 0x10 | hi]),
            }
            let after = Cursor {
                mode: Some(Mode::Page),
                page: Some(page),
                // Datasheet 10.1.3: in page addressing the column wraps within the page, to RAM
                // column 0, which is a glass column only when the glass starts there.
                column: if end + 1 < cursor.wrap {
                    Some(end + 1)
                } else {
                    (cursor.offset == 0).then_some(0)
                },
                window: None,
                ..*cursor
            };
            (cmds, after)
        }
        Block::Window(w) => {
            let mut known = *cursor;
            if known.mode != Some(Mode::Horizontal) {
                cmds.extend_from_slice(&[0x20, 0x00]);
                known = Cursor {
                    mode: Some(Mode::Horizontal),
                    ..cursor.forgotten()
                };
            }
            let (cols, pages) = ((w.col_start, w.col_end), (w.page_start, w.page_end));
            let same_cols = known.window.map(|(c, _)| c) == Some(cols);
            let same_pages = known.window.map(|(_, p)| p) == Some(pages);
            if !(same_cols && known.column == Some(w.col_start)) {
                // The window addresses RAM columns: the glass's plus the module's offset.
                let (c0, c1) = (w.col_start + cursor.offset, w.col_end + cursor.offset);
                cmds.extend_from_slice(&[0x21, c0 as u8, c1 as u8]);
            }
            if !(same_pages && known.page == Some(w.page_start)) {
                cmds.extend_from_slice(&[0x22, w.page_start as u8, w.page_end as u8]);
            }
            // A window written in full leaves the pointer back at its start.
            let after = Cursor {
                mode: Some(Mode::Horizontal),
                page: Some(w.page_start),
                column: Some(w.col_start),
                window: Some((cols, pages)),
                ..*cursor
            };
            (cmds, after)
        }
    }
}

/// The transactions for one block: its commands (Co=1 control bytes in the data transaction when
/// that is fewer bytes or as many in fewer transactions, otherwise a command transaction first) and
/// its data.
fn encode_block(block: &Block, data: &[u8], cursor: &Cursor, out: &mut Vec<Payload>) -> Cursor {
    let (cmds, after) = commands(block, cursor);
    // Co=1 form: 2 bytes per command, one transaction. Separate: a transaction of 2 + k bytes.
    // 2k <= k + 2 exactly when k <= 2.
    let mut payload = Vec::with_capacity(2 * cmds.len() + 1 + data.len());
    if cmds.len() <= 2 {
        for c in &cmds {
            payload.extend_from_slice(&[0x80, *c]);
        }
    } else {
        let mut t = Vec::with_capacity(1 + cmds.len());
        t.push(crate::CONTROL_COMMANDS);
        t.extend_from_slice(&cmds);
        out.push(t);
    }
    payload.push(crate::CONTROL_DATA);
    payload.extend_from_slice(data);
    out.push(payload);
    after
}

/// Every transaction that takes the panel through `blocks` of `frame`, from `cursor`; returns the
/// cursor after them.
pub fn encode(blocks: &[Block], frame: &Frame, cursor: Cursor, out: &mut Vec<Payload>) -> Cursor {
    let mut c = cursor;
    for b in blocks {
        c = encode_block(b, &b.data(frame), &c, out);
    }
    c
}

/// Bus bytes of `blocks` from `cursor`, without building them.
pub fn cost(blocks: &[Block], cursor: Cursor) -> usize {
    let mut c = cursor;
    let mut total = 0;
    for b in blocks {
        let (cmds, after) = commands(b, &c);
        let k = cmds.len();
        // Address + data control byte + data, plus the commands in the cheaper form.
        total += 2 + b.area() + if k <= 2 { 2 * k } else { 2 + k };
        c = after;
    }
    total
}

/// The best page-addressing plan for one page's changed `runs` (in column order), from `cursor`:
/// which gaps to resend and which to skip. Exact for this cost model (dynamic programming over
/// the last block's end).
fn page_runs(runs: &[Run], cursor: Cursor) -> Vec<Block> {
    let n = runs.len();
    if n == 0 {
        return Vec::new();
    }
    // best[j] = (cost, start of the last block) for runs[..j], cursor after it.
    let mut best: Vec<(usize, usize, Cursor)> = Vec::with_capacity(n + 1);
    best.push((0, 0, cursor));
    for j in 1..=n {
        let mut pick: Option<(usize, usize, Cursor)> = None;
        for i in 0..j {
            let (base, _, from) = best[i];
            let block = Block::Run {
                page: runs[i].page,
                start: runs[i].start,
                end: runs[j - 1].end,
            };
            let (cmds, after) = commands(&block, &from);
            let k = cmds.len();
            let c = base + 2 + block.area() + if k <= 2 { 2 * k } else { 2 + k };
            if pick.is_none_or(|p| c < p.0) {
                pick = Some((c, i, after));
            }
        }
        // j >= 1, so the loop ran at least once.
        best.push(pick.unwrap_or((usize::MAX, 0, cursor)));
    }
    let mut blocks = Vec::new();
    let mut j = n;
    while j > 0 {
        let i = best[j].1;
        blocks.push(Block::Run {
            page: runs[i].page,
            start: runs[i].start,
            end: runs[j - 1].end,
        });
        j = i;
    }
    blocks.reverse();
    blocks
}

/// Page addressing throughout, each page planned by [`page_runs`].
fn page_plan(runs: &[Run], cursor: Cursor) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut c = cursor;
    let mut i = 0;
    while i < runs.len() {
        let page = runs[i].page;
        let j = runs[i..]
            .iter()
            .position(|r| r.page != page)
            .map_or(runs.len(), |k| i + k);
        let planned = page_runs(&runs[i..j], c);
        let mut out = Vec::new();
        // The cursor after this page, for the next page's plan.
        for b in &planned {
            c = commands(b, &c).1;
            out.push(*b);
        }
        blocks.extend(out);
        i = j;
    }
    blocks
}

/// Windows from the greedy merge: blocks over several pages in horizontal addressing, and the runs
/// left on single pages planned per page.
fn window_plan(
    old: &Frame,
    new: &Frame,
    runs: &[Run],
    overhead: usize,
    cursor: Cursor,
) -> Vec<Block> {
    let windows = plan_windows(old, new, overhead);
    let tall: Vec<Window> = windows
        .iter()
        .copied()
        .filter(|w| w.page_count() > 1)
        .collect();
    let inside = |r: &Run| {
        tall.iter().any(|w| {
            w.page_start <= r.page
                && r.page <= w.page_end
                && w.col_start <= r.start
                && r.end <= w.col_end
        })
    };
    let rest: Vec<Run> = runs.iter().copied().filter(|r| !inside(r)).collect();
    let mut blocks = page_plan(&rest, cursor);
    // Runs first, then windows: one mode switch at most.
    blocks.extend(tall.into_iter().map(Block::Window));
    blocks
}

/// Every page of `frame` as one run each: the whole frame for a controller with page addressing only.
pub fn full_pages(frame: &Frame) -> Vec<Block> {
    (0..frame.pages())
        .map(|page| Block::Run {
            page,
            start: 0,
            end: frame.width() - 1,
        })
        .collect()
}

/// [`plan`] for a controller with page addressing only (an SH1106, see [`Cursor::sh1106`]): the
/// per-page plan or every page whole, whichever costs less.
pub fn plan_page_only(old: &Frame, new: &Frame, cursor: Cursor) -> Vec<Block> {
    let runs = diff_runs(old, new);
    if runs.is_empty() {
        return Vec::new();
    }
    let pages = page_plan(&runs, cursor);
    let full = full_pages(new);
    if cost(&pages, cursor) <= cost(&full, cursor) {
        pages
    } else {
        full
    }
}

/// The plan with the fewest bus bytes from `cursor` to take the panel from `old` to `new` (same
/// size): nothing when they are equal, never more than the whole frame as one window.
///
/// ```
/// use oled_driver::plan::{cost, plan, Cursor};
/// use oled_frame::Frame;
///
/// let old = Frame::new(128, 64).unwrap();
/// let mut new = old.clone();
/// new.set_pixel(10, 3, true); // one byte of page 0 changes
/// let blocks = plan(&old, &new, Cursor::unknown());
/// // Mode, page and column (3 commands) in one transaction, then 1 data byte:
/// // [addr 0x00 0x20 0x02 0xB0 0x0A 0x10] [addr 0x40 byte]
/// assert_eq!(cost(&blocks, Cursor::unknown()), 7 + 3);
/// ```
pub fn plan(old: &Frame, new: &Frame, cursor: Cursor) -> Vec<Block> {
    if cursor.is_page_only() {
        return plan_page_only(old, new, cursor);
    }
    let runs = diff_runs(old, new);
    if runs.is_empty() {
        return Vec::new();
    }
    let full = vec![Block::Window(Window::full(new))];
    let mut best = (cost(&full, cursor), full);
    let mut consider = |blocks: Vec<Block>| {
        let c = cost(&blocks, cursor);
        if c < best.0 {
            best = (c, blocks);
        }
    };
    consider(page_plan(&runs, cursor));
    if old.width() == new.width() && old.height() == new.height() {
        for overhead in [6, 10, 14] {
            consider(window_plan(old, new, &runs, overhead, cursor));
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame::new(128, 64).unwrap()
    }

    /// Applies the plan to a copy of `old` as the controller would, from the blocks alone.
    fn apply(old: &Frame, new: &Frame, blocks: &[Block]) -> Vec<u8> {
        let mut g = old.as_bytes().to_vec();
        for b in blocks {
            let data = b.data(new);
            let mut it = data.iter();
            let (cols, pages) = match *b {
                Block::Run { page, start, end } => ((start, end), (page, page)),
                Block::Window(w) => ((w.col_start, w.col_end), (w.page_start, w.page_end)),
            };
            for p in pages.0..=pages.1 {
                for c in cols.0..=cols.1 {
                    g[usize::from(p) * 128 + usize::from(c)] = *it.next().unwrap();
                }
            }
        }
        g
    }

    #[test]
    fn equal_frames_need_nothing() {
        let a = frame();
        assert!(plan(&a, &a.clone(), Cursor::unknown()).is_empty());
    }

    #[test]
    fn a_second_run_on_the_same_page_needs_only_its_column() {
        let a = frame();
        let mut b = frame();
        b.set_pixel(2, 0, true);
        b.set_pixel(100, 0, true);
        let blocks = plan(&a, &b, Cursor::unknown());
        assert_eq!(blocks.len(), 2);
        let mut out = Vec::new();
        encode(&blocks, &b, Cursor::unknown(), &mut out);
        assert_eq!(
            out,
            vec![
                vec![0x00, 0x20, 0x02, 0xB0, 0x02, 0x10],
                vec![0x40, 0x01],
                // Column 100 = 0x64 from 3 = 0x03: both nibbles, in Co=1 form.
                vec![0x80, 0x04, 0x80, 0x16, 0x40, 0x01],
            ]
        );
        assert_eq!(bus_bytes(&out), cost(&blocks, Cursor::unknown()));
    }

    #[test]
    fn small_gaps_are_resent() {
        let a = frame();
        let mut b = frame();
        b.set_pixel(2, 0, true);
        b.set_pixel(5, 0, true); // gap of 2: cheaper to resend than a new transaction
        let blocks = plan(&a, &b, Cursor::unknown());
        assert_eq!(
            blocks,
            vec![Block::Run {
                page: 0,
                start: 2,
                end: 5
            }]
        );
    }

    #[test]
    fn a_tall_glyph_is_one_window() {
        let a = frame();
        let mut b = frame();
        for y in 4..28 {
            for x in 40..48 {
                b.set_pixel(x, y, (x + y) % 3 == 0);
            }
        }
        let blocks = plan(&a, &b, Cursor::unknown());
        assert!(
            matches!(blocks.as_slice(), [Block::Window(_)]),
            "{blocks:?}"
        );
        assert_eq!(apply(&a, &b, &blocks), b.as_bytes());
    }

    #[test]
    fn never_more_than_the_whole_frame() {
        let mut a = frame();
        let b = frame();
        a.fill(true);
        let blocks = plan(&a, &b, Cursor::unknown());
        let full = cost(&[Block::Window(Window::full(&b))], Cursor::unknown());
        assert!(cost(&blocks, Cursor::unknown()) <= full);
        assert_eq!(apply(&a, &b, &blocks), b.as_bytes());
    }

    #[test]
    fn encoded_bytes_are_the_cost() {
        let mut a = frame();
        let mut b = frame();
        for i in 0..300u16 {
            a.set_pixel((i * 37) % 128, (i * 11) % 64, true);
            b.set_pixel((i * 53) % 128, (i * 7) % 64, true);
        }
        for start in [
            Cursor::unknown(),
            commands(
                &Block::Run {
                    page: 3,
                    start: 9,
                    end: 9,
                },
                &Cursor::unknown(),
            )
            .1,
        ] {
            let blocks = plan(&a, &b, start);
            let mut out = Vec::new();
            encode(&blocks, &b, start, &mut out);
            assert_eq!(bus_bytes(&out), cost(&blocks, start));
            assert_eq!(apply(&a, &b, &blocks), b.as_bytes());
        }
    }
}
