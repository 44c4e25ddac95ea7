//! The byte ranges a planned read touches, for sources where every fetch is a round trip
//! (object storage, `crate::remote`): the selected column chunks or, where a filter selected
//! rows and the file has an offset index, only the pages holding selected rows (with each
//! chunk's dictionary page), which `crate::remote` merges into the runs it fetches.

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

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::arrow::arrow_reader::RowSelector;

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
