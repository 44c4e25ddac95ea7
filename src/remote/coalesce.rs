//! How the byte ranges a read plans (`crate::parquet::ranges`) become fetches: nearby ranges
//! merged into runs, long runs split.

use std::ops::Range;

/// How ranges become fetches.
#[derive(Debug, Clone, Copy)]
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

/// The pieces one request's bytes are kept in: `request` cut at every one of `cuts` inside it
/// (where the planned ranges begin and end) and into parts of at most `most` bytes, so that
/// each piece can be dropped as soon as the decoders are past it.
pub(crate) fn pieces(request: &Range<u64>, cuts: &[u64], most: u64) -> Vec<Range<u64>> {
    let mut inner: Vec<u64> = cuts
        .iter()
        .copied()
        .filter(|&c| request.start < c && c < request.end)
        .collect();
    inner.sort_unstable();
    inner.dedup();
    let step = most.max(1);
    let mut out = Vec::new();
    let mut at = request.start;
    for end in inner.into_iter().chain([request.end]) {
        while at < end {
            let next = at.saturating_add(step).min(end);
            out.push(at..next);
            at = next;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn pieces_cut_at_boundaries_and_size() {
        // Cuts outside the request or at its ends are ignored; repeated cuts count once.
        let cuts = [0, 50, 120, 120, 300, 400, 900];
        assert_eq!(
            pieces(&(100..400), &cuts, 1000),
            vec![100..120, 120..300, 300..400]
        );
        // A part longer than `most` is split.
        assert_eq!(
            pieces(&(100..400), &cuts, 100),
            vec![100..120, 120..220, 220..300, 300..400]
        );
        assert_eq!(pieces(&(5..5), &cuts, 10), Vec::<Range<u64>>::new());
    }
}
