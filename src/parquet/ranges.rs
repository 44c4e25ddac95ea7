//! The byte ranges a planned read touches, for sources where every fetch is a round trip
//! (object storage, `crate::remote`): the selected column chunks or, where a filter selected
//! rows and the file has an offset index, only the pages holding selected rows (with each
//! chunk's dictionary page); then merged into the runs that are fetched.

use std::ops::Range;

use parquet::arrow::arrow_reader::{ArrowReaderMetadata, RowSelection};
use parquet::file::page_index::offset_index::PageLocation;

/// The ranges of the chunks of `roots` in `rgs`, in the order the decoders read them (column
/// by column, each column's row groups in order), not merged. `selection` holds the rows of
/// `rgs`, in that order, that the read keeps.
pub(crate) fn planned(
    meta: &ArrowReaderMetadata,
    roots: &[usize],
    rgs: &[usize],
    selection: Option<&RowSelection>,
) -> Vec<Range<u64>> {
    let md = meta.metadata();
    let descr = md.file_metadata().schema_descr();
    let kept = selection.map(kept_rows);
    // Each row group's rows, and those of them the selection keeps.
    let mut base = 0u64;
    let groups: Vec<Group> = rgs
        .iter()
        .map(|&rg| {
            let n = u64::try_from(md.row_group(rg).num_rows()).unwrap_or(0);
            let here = kept
                .as_ref()
                .map(|kept| rows_within(kept, base..base.saturating_add(n)));
            base = base.saturating_add(n);
            (rg, n, here)
        })
        .collect();
    let mut out = Vec::new();
    for &root in roots {
        for (rg, n, here) in &groups {
            let group = md.row_group(*rg);
            for (leaf, chunk) in group.columns().iter().enumerate() {
                if descr.get_column_root_idx(leaf) != root {
                    continue;
                }
                let pages = md
                    .offset_index()
                    .and_then(|index| index.get(*rg)?.get(leaf))
                    .map(|index| index.page_locations().as_slice());
                chunk_ranges(chunk.byte_range(), pages, here.as_deref(), *n, &mut out);
            }
        }
    }
    out
}

/// A row group of the read: its index, its rows, and those of them the selection keeps.
type Group = (usize, u64, Option<Vec<Range<u64>>>);

/// A chunk's ranges: all of it, or (with the rows kept and its pages' locations) its dictionary
/// page and the pages holding kept rows.
fn chunk_ranges(
    (start, len): (u64, u64),
    pages: Option<&[PageLocation]>,
    rows: Option<&[Range<u64>]>,
    n: u64,
    out: &mut Vec<Range<u64>>,
) {
    let (Some(rows), Some(pages)) = (rows, pages.filter(|p| !p.is_empty())) else {
        out.push(start..start.saturating_add(len));
        return;
    };
    let first = u64::try_from(pages[0].offset).unwrap_or(start);
    if first > start {
        out.push(start..first); // the dictionary page
    }
    for (i, page) in pages.iter().enumerate() {
        let lo = u64::try_from(page.first_row_index).unwrap_or(0);
        let hi = pages
            .get(i + 1)
            .and_then(|next| u64::try_from(next.first_row_index).ok())
            .unwrap_or(n);
        if rows.iter().any(|r| r.start < hi && lo < r.end) {
            let at = u64::try_from(page.offset).unwrap_or(0);
            let size = u64::try_from(page.compressed_page_size).unwrap_or(0);
            out.push(at..at.saturating_add(size));
        }
    }
}

/// The row intervals `selection` keeps, counted from the first row of the read's row groups.
fn kept_rows(selection: &RowSelection) -> Vec<Range<u64>> {
    let mut out: Vec<Range<u64>> = Vec::new();
    let mut at = 0u64;
    for selector in selection.iter() {
        let next = at.saturating_add(selector.row_count as u64);
        if !selector.skip && next > at {
            match out.last_mut() {
                Some(last) if last.end == at => last.end = next,
                _ => out.push(at..next),
            }
        }
        at = next;
    }
    out
}

/// The parts of `kept` inside `group`, counted from the group's first row.
fn rows_within(kept: &[Range<u64>], group: Range<u64>) -> Vec<Range<u64>> {
    kept.iter()
        .filter(|r| r.start < group.end && group.start < r.end)
        .map(|r| r.start.max(group.start) - group.start..r.end.min(group.end) - group.start)
        .collect()
}

/// How ranges become fetches.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
pub(crate) struct Coalesce {
    /// A gap this small between two ranges is fetched rather than paid for with a request.
    pub(crate) hole: u64,
    /// A gap up to this size is fetched too where it is at most an eighth of the run it joins
    /// (so merging never adds more than about 1/8 to the bytes fetched).
    pub(crate) max_hole: u64,
    /// Runs longer than this are split, so that one large chunk is fetched by several requests
    /// in flight.
    pub(crate) max_run: u64,
}

impl Default for Coalesce {
    fn default() -> Self {
        // Arrow C++ pre-buffers with 8 KiB holes; object_store merges gaps up to 1 MiB.
        Coalesce {
            hole: 8 << 10,
            max_hole: 1 << 20,
            max_run: 8 << 20,
        }
    }
}

#[cfg_attr(not(feature = "remote"), allow(dead_code))]
impl Coalesce {
    /// `ranges` clipped to `size`, merged and split, in their order (the order they are needed
    /// in): a range joins the run before it where it starts at or after that run's end, within
    /// a gap worth fetching.
    pub(crate) fn runs(&self, mut ranges: Vec<Range<u64>>, size: u64) -> Vec<Range<u64>> {
        for r in &mut ranges {
            r.end = r.end.min(size);
        }
        ranges.retain(|r| r.start < r.end);
        let mut merged: Vec<Range<u64>> = Vec::new();
        for r in ranges {
            if let Some(last) = merged.last_mut().filter(|last| r.start >= last.end) {
                let gap = r.start - last.end;
                let joined = r.end - last.start;
                if gap <= self.hole || (gap <= self.max_hole && gap.saturating_mul(8) <= joined) {
                    last.end = last.end.max(r.end);
                    continue;
                }
            }
            merged.push(r);
        }
        let step = self.max_run.max(1);
        let mut out = Vec::new();
        for r in merged {
            let mut at = r.start;
            while at < r.end {
                let end = at.saturating_add(step).min(r.end);
                out.push(at..end);
                at = end;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::arrow::arrow_reader::RowSelector;

    #[test]
    fn runs_merge_small_gaps_and_split_long_runs() {
        let c = Coalesce {
            hole: 10,
            max_hole: 100,
            max_run: 1000,
        };
        // 0..50 and 55..60 merge (gap 5); 60..400 joins too (gap 0); 1000..1100 is 600 away
        // from a 400-byte run: more than an eighth, so a run of its own; 20..30 comes after
        // it in the order asked for, so it is a run of its own too (order is kept).
        let runs = c.runs(vec![0..50, 55..60, 60..400, 1000..1100, 20..30], 5000);
        assert_eq!(runs, vec![0..400, 1000..1100, 20..30]);
        // A gap of 90 joins a run of 800 (90 * 8 <= 890).
        assert_eq!(c.runs(vec![0..800, 890..900], 5000), vec![0..900]);
        // Split at max_run; clipped to the size; empty ranges dropped.
        assert_eq!(
            c.runs(vec![0..2500, 7..7], 2200),
            vec![0..1000, 1000..2000, 2000..2200]
        );
    }

    #[test]
    fn kept_rows_per_group() {
        let sel = RowSelection::from(vec![
            RowSelector::skip(5),
            RowSelector::select(10),
            RowSelector::select(2),
            RowSelector::skip(3),
            RowSelector::select(1),
        ]);
        let kept = kept_rows(&sel);
        assert_eq!(kept, vec![5..17, 20..21]);
        assert_eq!(rows_within(&kept, 0..10), vec![5..10]);
        assert_eq!(rows_within(&kept, 10..30), vec![0..7, 10..11]);
        assert!(rows_within(&kept, 30..40).is_empty());
    }
}
