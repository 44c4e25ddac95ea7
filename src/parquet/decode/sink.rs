//! Where decoded slots go. A `Sink` takes a page's slots one by one (`null`, `value`, `entry`)
//! or in runs (`plain_run`, `entries`, the masked variants) so that a sink writing fixed-width
//! values can copy whole runs. `Selected` wraps a sink and passes on only the rows a filter
//! keeps; `Count` measures the bytes of a column's values where the footer does not say.
//! `Validity` is the validity bookkeeping every writing sink shares.

use std::mem::MaybeUninit;

use arrow_buffer::{BooleanBufferBuilder, NullBuffer};
use parquet::arrow::arrow_reader::RowSelector;

use crate::parquet::decode::encoding::dictionary::Dictionary;
use crate::parquet::decode::halt::{corrupt, short_page, Halt, Step};

/// Where the slots of the data pages go.
pub(super) trait Sink {
    /// Whether this sink is the column's last pass over its pages (not a count ahead of it):
    /// a remote source may then drop the bytes behind it.
    const FINAL: bool = true;
    /// A new dictionary page (the next row group's).
    fn dictionary(&mut self, _dictionary: &Dictionary) -> Step {
        Ok(())
    }
    fn null(&mut self) -> Step;
    fn value(&mut self, bytes: &[u8]) -> Step;
    fn entry(&mut self, dictionary: &Dictionary, index: u32) -> Step {
        let bytes = dictionary.get(index)?;
        self.value(bytes)
    }
    /// How many of the next slots are not wanted (a page this short may be skipped unread).
    fn skippable(&mut self) -> Step<Option<usize>> {
        Ok(None)
    }
    /// `n` slots of a page skipped unread.
    fn skip(&mut self, _n: usize) -> Step {
        Err(corrupt("a page was skipped where every row is wanted"))
    }
    /// Valid values, one per dictionary index.
    fn entries(&mut self, dictionary: &Dictionary, indices: &[u32]) -> Step {
        for &index in indices {
            self.entry(dictionary, index)?;
        }
        Ok(())
    }
    /// Slots with nulls (`levels`, 0 = null), the valid ones taken from `values` (back to back,
    /// `width` bytes each).
    /// Returns how many values were taken.
    fn masked_plain(&mut self, levels: &[u32], values: &[u8], width: usize) -> Step<usize> {
        masked_plain_each(self, levels, values, width)
    }
    /// Slots with nulls (`levels`, 0 = null), the valid ones given by dictionary `indices`.
    fn masked_entries(&mut self, levels: &[u32], dictionary: &Dictionary, indices: &[u32]) -> Step {
        let mut next = indices.iter();
        for &level in levels {
            if level == 0 {
                self.null()?;
            } else {
                let &index = next.next().ok_or_else(short_page)?;
                self.entry(dictionary, index)?;
            }
        }
        Ok(())
    }
    /// `count` valid fixed-width values, back to back.
    fn plain_run(&mut self, bytes: &[u8], count: usize) -> Step {
        let width = bytes.len() / count.max(1);
        for value in bytes.chunks_exact(width.max(1)).take(count) {
            self.value(value)?;
        }
        Ok(())
    }
}

/// `Sink::masked_plain` slot by slot: a null where the level is 0, else the next value.
pub(super) fn masked_plain_each<S: Sink + ?Sized>(
    sink: &mut S,
    levels: &[u32],
    values: &[u8],
    width: usize,
) -> Step<usize> {
    let mut pos = 0;
    for &level in levels {
        if level == 0 {
            sink.null()?;
        } else {
            let value = values.get(pos..pos + width).ok_or_else(short_page)?;
            sink.value(value)?;
            pos += width;
        }
    }
    Ok(pos)
}

/// Passes on to `inner` only the slots a row selection keeps.
pub(super) struct Selected<'r, 's, S> {
    runs: std::slice::Iter<'r, RowSelector>,
    /// Slots left in the current run, and whether they are kept.
    left: usize,
    keep: bool,
    inner: &'s mut S,
}

impl<'r, 's, S: Sink> Selected<'r, 's, S> {
    pub(super) fn new(runs: &'r [RowSelector], inner: &'s mut S) -> Self {
        Selected {
            runs: runs.iter(),
            left: 0,
            keep: false,
            inner,
        }
    }

    /// The next run with slots in it: (slots, kept); past the selection's end nothing is kept.
    fn run(&mut self) -> (usize, bool) {
        while self.left == 0 {
            match self.runs.next() {
                Some(r) => (self.left, self.keep) = (r.row_count, !r.skip),
                None => return (usize::MAX, false),
            }
        }
        (self.left, self.keep)
    }

    /// Consume one slot: whether it is kept.
    #[inline]
    fn take(&mut self) -> bool {
        let (_, keep) = self.run();
        self.left = self.left.saturating_sub(1);
        keep
    }

    /// Split `count` slots at the selection's run boundaries: `f(inner, start, len)` for each
    /// kept run.
    fn split(&mut self, count: usize, mut f: impl FnMut(&mut S, usize, usize) -> Step) -> Step {
        let mut start = 0;
        while start < count {
            let (left, keep) = self.run();
            let n = left.min(count - start);
            if keep {
                f(self.inner, start, n)?;
            }
            self.left = self.left.saturating_sub(n);
            start += n;
        }
        Ok(())
    }
}

impl<S: Sink> Sink for Selected<'_, '_, S> {
    const FINAL: bool = S::FINAL;
    fn dictionary(&mut self, dictionary: &Dictionary) -> Step {
        self.inner.dictionary(dictionary)
    }
    fn null(&mut self) -> Step {
        if self.take() {
            self.inner.null()?;
        }
        Ok(())
    }
    fn value(&mut self, bytes: &[u8]) -> Step {
        if self.take() {
            self.inner.value(bytes)?;
        }
        Ok(())
    }
    fn entry(&mut self, dictionary: &Dictionary, index: u32) -> Step {
        if self.take() {
            self.inner.entry(dictionary, index)?;
        }
        Ok(())
    }
    fn entries(&mut self, dictionary: &Dictionary, indices: &[u32]) -> Step {
        self.split(indices.len(), |inner, start, n| {
            inner.entries(dictionary, &indices[start..start + n])
        })
    }
    fn plain_run(&mut self, bytes: &[u8], count: usize) -> Step {
        let width = bytes.len() / count.max(1);
        self.split(count, |inner, start, n| {
            inner.plain_run(&bytes[start * width..(start + n) * width], n)
        })
    }
    fn skippable(&mut self) -> Step<Option<usize>> {
        let (left, keep) = self.run();
        Ok((!keep).then_some(left))
    }
    fn skip(&mut self, n: usize) -> Step {
        let (left, keep) = self.run();
        if keep || n > left {
            return Err(corrupt("skipped a page holding selected rows"));
        }
        self.left -= n;
        Ok(())
    }
}

/// Counts the bytes of the values (the first pass where the footer does not record them).
#[derive(Default)]
pub(super) struct Count {
    pub(super) bytes: usize,
}

impl Sink for Count {
    const FINAL: bool = false;
    #[inline]
    fn null(&mut self) -> Step {
        Ok(())
    }
    #[inline]
    fn value(&mut self, bytes: &[u8]) -> Step {
        self.bytes += bytes.len();
        Ok(())
    }
}

/// Copy `bytes` into `region` at `*at` and move `*at` past them; `overflow` when they do not fit.
#[inline]
pub(super) fn write_at(
    region: &mut [MaybeUninit<u8>],
    at: &mut usize,
    bytes: &[u8],
    overflow: impl FnOnce() -> Halt,
) -> Step {
    let end = *at + bytes.len();
    region
        .get_mut(*at..end)
        .ok_or_else(overflow)?
        .write_copy_of_slice(bytes);
    *at = end;
    Ok(())
}

/// The validity of the slots a sink writes (arrow-rs keeps the same in its
/// `DefinitionLevelBuffer`): a bit per slot where the column can hold nulls at all, and how many
/// slots were null.
pub(super) struct Validity {
    bits: Option<BooleanBufferBuilder>,
    nulls: usize,
}

impl Validity {
    /// For `slots` slots of a column that can hold nulls if `nullable` (a maximum definition
    /// level above 0); a column that cannot keeps no bits.
    pub(super) fn new(nullable: bool, slots: usize) -> Self {
        Validity {
            // At most 8 MiB up front (64 Mi slots); the bits grow past that as they are written.
            bits: nullable.then(|| BooleanBufferBuilder::new(slots.min(1 << 26))),
            nulls: 0,
        }
    }

    #[inline]
    pub(super) fn valid(&mut self) {
        if let Some(bits) = self.bits.as_mut() {
            bits.append(true);
        }
    }

    #[inline]
    pub(super) fn valid_n(&mut self, n: usize) {
        if let Some(bits) = self.bits.as_mut() {
            bits.append_n(n, true);
        }
    }

    #[inline]
    pub(super) fn null(&mut self) {
        self.nulls += 1;
        if let Some(bits) = self.bits.as_mut() {
            bits.append(false);
        }
    }

    /// One slot per definition level (0 = null), `nulls` of them null; the bits are appended
    /// 64 at a time.
    pub(super) fn levels(&mut self, levels: &[u32], nulls: usize) {
        if let Some(bits) = self.bits.as_mut() {
            for word in levels.chunks(64) {
                let packed = word
                    .iter()
                    .enumerate()
                    .fold(0u64, |acc, (i, &l)| acc | (u64::from(l != 0) << i));
                bits.append_packed_range(0..word.len(), &packed.to_le_bytes());
            }
        }
        self.nulls += nulls;
    }

    /// The validity of the slots (`None` when none is null).
    pub(super) fn finish(self) -> Option<NullBuffer> {
        match (self.bits, self.nulls) {
            (Some(mut bits), n) if n > 0 => Some(NullBuffer::new(bits.finish())),
            _ => None,
        }
    }

    /// The validity of a whole column of `rows` rows from its row groups' parts, in order
    /// (`None` when none is null).
    pub(super) fn join(parts: Vec<Validity>, rows: usize) -> Option<NullBuffer> {
        let null_count: usize = parts.iter().map(|p| p.nulls).sum();
        (null_count > 0).then(|| {
            let mut all = BooleanBufferBuilder::new(rows);
            for part in parts {
                if let Some(mut bits) = part.bits {
                    all.append_buffer(&bits.finish());
                }
            }
            NullBuffer::new(all.finish())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::types::Int32Type;
    use arrow_array::{ArrayRef, DictionaryArray, StringArray};
    use arrow_schema::DataType;
    use parquet::arrow::arrow_reader::RowSelection;

    use super::*;
    use crate::parquet::decode::testing::{decode_selected, props, strings};

    #[test]
    fn validity_joins_row_groups_bit_by_bit_and_is_none_without_nulls() {
        let mut first = Validity::new(true, 3);
        first.valid();
        first.null();
        first.valid_n(1);
        let levels: Vec<u32> = (0..70).map(|i| u32::from(i % 3 != 0)).collect();
        let mut second = Validity::new(true, levels.len());
        second.levels(&levels, 24);
        let joined = Validity::join(vec![first, second], 73).expect("nulls");
        let want: Vec<bool> = [true, false, true]
            .into_iter()
            .chain(levels.iter().map(|&l| l != 0))
            .collect();
        assert_eq!(joined.iter().collect::<Vec<_>>(), want);
        assert_eq!(joined.null_count(), 25);

        let mut all_valid = Validity::new(true, 2);
        all_valid.valid_n(2);
        assert!(all_valid.finish().is_none());
        let mut required = Validity::new(false, 2);
        required.valid_n(2);
        assert!(Validity::join(vec![required], 2).is_none());
    }

    #[test]
    fn row_selections_keep_exactly_the_selected_rows() {
        use arrow_array::{BooleanArray, Float64Array};
        let n = 20_000;
        // Runs that start and end inside pages, skip whole pages and cross row groups.
        let selectors = vec![
            RowSelector::skip(3),
            RowSelector::select(1_200),
            RowSelector::skip(6_000),
            RowSelector::select(1),
            RowSelector::skip(1_500),
            RowSelector::select(2_796),
            RowSelector::skip(8_500),
        ];
        let selection = RowSelection::from(selectors.clone());
        let mask: BooleanArray = selectors
            .iter()
            .flat_map(|s| std::iter::repeat_n(Some(!s.skip), s.row_count))
            .collect();
        let strings: ArrayRef = Arc::new(StringArray::from(strings(n)));
        let dict: DictionaryArray<Int32Type> = strings.as_string::<i32>().iter().collect();
        let numbers: ArrayRef = Arc::new(Float64Array::from_iter_values(
            (0..n).map(|i| i as f64 / 3.0),
        ));
        for input in [strings, Arc::new(dict) as ArrayRef, numbers] {
            let want = arrow_select::filter::filter(input.as_ref(), &mask).expect("filter");
            for p in [
                props().build(),
                props().set_dictionary_enabled(false).build(),
            ] {
                let nullable = input.null_count() > 0;
                let (out, _, _) =
                    decode_selected(input.clone(), p, nullable, Some(&selection)).expect("handled");
                if let DataType::Dictionary(..) = out.data_type() {
                    let got = arrow_cast::cast(&out, &DataType::Utf8).expect("cast");
                    let want = arrow_cast::cast(&want, &DataType::Utf8).expect("cast");
                    assert_eq!(got.as_ref(), want.as_ref());
                } else {
                    assert_eq!(out.as_ref(), want.as_ref());
                }
            }
        }
    }
}
