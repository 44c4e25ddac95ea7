//! Flat columns decoded page by page straight into exactly sized output buffers, each value
//! written once: strings and binaries (read plain or as Arrow dictionaries) and fixed-width
//! numbers (INT32, INT64, FLOAT, DOUBLE read as the Arrow type with the same bits; INT96
//! timestamps converted to nanoseconds as pyarrow converts them).
//!
//! The parquet crate reads the pages (headers, decompression); the levels and the values in
//! the PLAIN and dictionary encodings are decoded here, into buffers allocated once at their
//! final size, row groups in parallel where each has its own region of the output:
//! - fixed-width values: rows × width;
//! - string/binary characters: the writer's `unencoded_byte_array_data_bytes` size statistic
//!   in the footer, or, where a writer did not record it, a first pass over the pages that
//!   counts without writing;
//! - dictionary codes: one per row, from the row counts; the row groups' dictionaries are merged
//!   as they are met (pyarrow's category order: the first row group's dictionary, then each new
//!   value in the order it appears).
//!
//! A filtered read's row selection is applied as the slots go by (`Selected`): pages holding no
//! selected row are skipped without being fetched, using the offset index where the file has one.
//!
//! Anything else (nested or repeated columns, DELTA or BYTE_STREAM_SPLIT encodings, types whose
//! bits arrow-rs converts) is left to arrow-rs (`read`, `strings`,
//! `dictionary`): `read` here then answers `None`.

use std::collections::HashMap;
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::types::*;
use arrow_array::{ArrayRef, DictionaryArray, GenericByteArray, PrimitiveArray};
use arrow_buffer::{
    ArrowNativeType, BooleanBufferBuilder, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer,
};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
use parquet::basic::{Encoding, LogicalType, TimeUnit as ParquetTimeUnit, Type as PhysicalType};
use parquet::column::page::{Page, PageReader};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::serialized_reader::SerializedPageReader;

use crate::error::{panic_message, Result};
use crate::parquet::dictionary::{dispatch, ByteDictionary};
use crate::parquet::source::Handle;

mod encoding;
mod halt;

use self::encoding::delta::DeltaStrings;
use self::encoding::dictionary::Dictionary;
use self::encoding::hybrid::Hybrid;
use self::encoding::plain::{read_u32, PlainStrings};
use self::encoding::ByteValues;
use self::halt::{corrupt, short_page, Halt, Step};

/// The column (its single leaf) to decode.
pub struct Column<'a> {
    meta: &'a ParquetMetaData,
    leaf: usize,
    /// Bytes per value of a fixed-width physical type; `None` for BYTE_ARRAY.
    width: Option<usize>,
    max_def: i16,
    row_groups: &'a [usize],
    rows: usize,
    /// Row groups decoded at once.
    threads: usize,
    /// Per row group (same order as `row_groups`): the runs of rows to keep, or `None` for all.
    selections: Vec<Option<Vec<RowSelector>>>,
}

impl<'a> Column<'a> {
    /// The leaf of top-level column `root` if it is a flat BYTE_ARRAY, INT32, INT64, FLOAT or
    /// DOUBLE column in the encodings handled here; `None` sends the column to arrow-rs.
    pub fn plan(
        meta: &'a ParquetMetaData,
        root: usize,
        row_groups: &'a [usize],
        rows: usize,
        threads: usize,
        selection: Option<&RowSelection>,
    ) -> Option<Self> {
        let descr = meta.file_metadata().schema_descr();
        let mut leaves = (0..descr.num_columns()).filter(|&l| descr.get_column_root_idx(l) == root);
        let leaf = leaves.next()?;
        if leaves.next().is_some() {
            return None;
        }
        let column = descr.column(leaf);
        let width = match column.physical_type() {
            PhysicalType::BYTE_ARRAY => None,
            PhysicalType::INT32 | PhysicalType::FLOAT => Some(4),
            PhysicalType::INT64 | PhysicalType::DOUBLE => Some(8),
            PhysicalType::INT96 => Some(INT96),
            _ => return None,
        };
        if column.max_rep_level() != 0
            || column.max_def_level() > 1
            || column.self_type().is_group()
        {
            return None;
        }
        // BIT_PACKED is listed by old writers for levels a flat column does not have, or has
        // RLE-encoded; each data page's level encoding is checked as it is read.
        #[allow(deprecated)]
        let handled = |e: Encoding| {
            e == Encoding::BIT_PACKED
                || matches!(
                    e,
                    Encoding::PLAIN
                        | Encoding::PLAIN_DICTIONARY
                        | Encoding::RLE_DICTIONARY
                        | Encoding::RLE
                )
                || (width.is_none()
                    && matches!(
                        e,
                        Encoding::DELTA_LENGTH_BYTE_ARRAY | Encoding::DELTA_BYTE_ARRAY
                    ))
        };
        let encodings_ok = row_groups.iter().all(|&rg| {
            rg < meta.num_row_groups() && meta.row_group(rg).column(leaf).encodings().all(handled)
        });
        if !encodings_ok {
            return None;
        }
        // The selection spans the row groups in order: cut it at their boundaries.
        let mut rest = selection.cloned();
        let mut selections = Vec::with_capacity(row_groups.len());
        for &rg in row_groups {
            let n = usize::try_from(meta.row_group(rg).num_rows()).ok()?;
            selections.push(rest.as_mut().map(|r| r.split_off(n).into()));
        }
        Some(Column {
            meta,
            leaf,
            width,
            max_def: column.max_def_level(),
            row_groups,
            rows,
            threads,
            selections,
        })
    }

    /// The byte length of each row group's values, where every row group's footer records it.
    fn recorded_bytes(&self) -> Option<Vec<usize>> {
        self.row_groups
            .iter()
            .map(|&rg| {
                let n = self
                    .meta
                    .row_group(rg)
                    .column(self.leaf)
                    .unencoded_byte_array_data_bytes()?;
                usize::try_from(n).ok()
            })
            .collect()
    }

    /// Feed every slot of the column to `sink`, row group by row group.
    fn walk<S: Sink>(&self, handle: &Arc<Handle>, sink: &mut S) -> Step {
        for &rg in self.row_groups {
            self.walk_group(handle, rg, sink)?;
        }
        Ok(())
    }

    fn group_rows(&self, rg: usize) -> Step<usize> {
        usize::try_from(self.meta.row_group(rg).num_rows())
            .map_err(|_| corrupt(format!("row group {rg} has a negative row count")))
    }

    /// The selection of row group `rg` (by its position in `row_groups`), if rows are filtered.
    fn selection(&self, rg: usize) -> Option<&[RowSelector]> {
        let k = self.row_groups.iter().position(|&g| g == rg)?;
        self.selections.get(k)?.as_deref()
    }

    /// The rows of `rg` this read keeps.
    fn kept_rows(&self, rg: usize) -> Step<usize> {
        match self.selection(rg) {
            Some(runs) => Ok(runs.iter().filter(|r| !r.skip).map(|r| r.row_count).sum()),
            None => self.group_rows(rg),
        }
    }

    /// Feed every slot of row group `rg` to `sink`.
    fn walk_group<S: Sink>(&self, handle: &Arc<Handle>, rg: usize, sink: &mut S) -> Step {
        match self.selection(rg) {
            Some(runs) => {
                let mut selected = Selected::new(runs, sink);
                self.walk_pages(handle, rg, &mut selected)
            }
            None => self.walk_pages(handle, rg, sink),
        }
    }

    /// Feed every slot of row group `rg` to `sink`; with a selection, data pages holding no
    /// selected row are skipped unread (their bytes are never fetched).
    fn walk_pages<S: Sink>(&self, handle: &Arc<Handle>, rg: usize, sink: &mut S) -> Step {
        let group = self.meta.row_group(rg);
        let rows = self.group_rows(rg)?;
        let locations = self
            .meta
            .offset_index()
            .and_then(|index| index.get(rg)?.get(self.leaf))
            .map(|index| index.page_locations().clone());
        let mut pages =
            SerializedPageReader::new(handle.clone(), group.column(self.leaf), rows, locations)?;
        let mut dictionary: Option<Dictionary> = None;
        let mut slots: usize = 0;
        loop {
            if let Some(n) = sink.skippable()? {
                match pages.peek_next_page()? {
                    Some(m) if !m.is_dict => {
                        let len = m.num_rows.or(m.num_levels).unwrap_or(usize::MAX);
                        if len <= n {
                            pages.skip_next_page()?;
                            sink.skip(len)?;
                            slots += len;
                            continue;
                        }
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            let Some(page) = pages.get_next_page()? else {
                break;
            };
            let (levels, values, n, encoding) = match &page {
                Page::DictionaryPage {
                    buf,
                    num_values,
                    encoding,
                    ..
                } => {
                    if !matches!(encoding, Encoding::PLAIN | Encoding::PLAIN_DICTIONARY) {
                        return Err(Halt::Fallback);
                    }
                    let d = Dictionary::parse(buf.clone(), *num_values as usize, self.width)?;
                    sink.dictionary(&d)?;
                    dictionary = Some(d);
                    continue;
                }
                Page::DataPage {
                    buf,
                    num_values,
                    encoding,
                    def_level_encoding,
                    ..
                } => {
                    if self.max_def == 0 {
                        (None, &buf[..], *num_values, *encoding)
                    } else {
                        if *def_level_encoding != Encoding::RLE {
                            return Err(Halt::Fallback);
                        }
                        let len = read_u32(buf, 0)
                            .ok_or_else(|| corrupt("data page too short for its levels"))?
                            as usize;
                        let end = len
                            .checked_add(4)
                            .filter(|&e| e <= buf.len())
                            .ok_or_else(|| corrupt("definition levels overrun the page"))?;
                        (Some(&buf[4..end]), &buf[end..], *num_values, *encoding)
                    }
                }
                Page::DataPageV2 {
                    buf,
                    num_values,
                    encoding,
                    def_levels_byte_len,
                    rep_levels_byte_len,
                    ..
                } => {
                    let rep = *rep_levels_byte_len as usize;
                    let end = rep
                        .checked_add(*def_levels_byte_len as usize)
                        .filter(|&e| e <= buf.len())
                        .ok_or_else(|| corrupt("levels overrun the page"))?;
                    let levels = (self.max_def > 0).then(|| &buf[rep..end]);
                    (levels, &buf[end..], *num_values, *encoding)
                }
            };
            let n = n as usize;
            let dictionary = dictionary.as_ref();
            decode_page(levels, values, n, encoding, self.width, dictionary, sink)?;
            slots += n;
        }
        if slots != rows {
            return Err(corrupt(format!(
                "row group {rg} holds {slots} values where its metadata promises {rows} rows"
            )));
        }
        Ok(())
    }
}

/// Where the slots of the data pages go.
trait Sink {
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

/// The next `out.len()` definition levels, or `None` where every slot is valid (no levels, or
/// one run of valid levels covering them all).
fn next_levels<'s>(defs: &mut Option<Hybrid<'_>>, out: &'s mut [u32]) -> Step<Option<&'s [u32]>> {
    let Some(d) = defs else { return Ok(None) };
    if d.skip_repeated(out.len(), 1)? {
        return Ok(None);
    }
    d.read(out)?;
    Ok(Some(out))
}

/// `Sink::masked_plain` slot by slot: a null where the level is 0, else the next value.
fn masked_plain_each<S: Sink + ?Sized>(
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

/// Slots decoded at a time (levels and indices go through small reused scratch arrays).
const CHUNK: usize = 4096;

fn decode_page<S: Sink>(
    levels: Option<&[u8]>,
    values: &[u8],
    n: usize,
    encoding: Encoding,
    width: Option<usize>,
    dictionary: Option<&Dictionary>,
    sink: &mut S,
) -> Step {
    let mut defs = levels.map(|l| Hybrid::new(l, 1));
    let mut level_scratch = [0u32; CHUNK];
    let mut index_scratch = [0u32; CHUNK];
    match (encoding, width) {
        (Encoding::PLAIN, Some(w)) => {
            let mut pos = 0;
            let mut left = n;
            while left > 0 {
                let m = left.min(CHUNK);
                let levels = next_levels(&mut defs, &mut level_scratch[..m])?;
                match levels.filter(|l| l.contains(&0)) {
                    None => {
                        let end = pos + m * w;
                        sink.plain_run(values.get(pos..end).ok_or_else(short_page)?, m)?;
                        pos = end;
                    }
                    Some(levels) => {
                        let rest = values.get(pos..).ok_or_else(short_page)?;
                        pos += sink.masked_plain(levels, rest, w)?;
                    }
                }
                left -= m;
            }
        }
        (Encoding::PLAIN, None) => {
            let mut strings = PlainStrings {
                data: values,
                pos: 0,
            };
            byte_slots(&mut defs, &mut level_scratch, n, &mut strings, sink)?;
        }
        (Encoding::DELTA_LENGTH_BYTE_ARRAY | Encoding::DELTA_BYTE_ARRAY, None) => {
            let incremental = encoding == Encoding::DELTA_BYTE_ARRAY;
            let mut strings = DeltaStrings::new(values, n, incremental)?;
            byte_slots(&mut defs, &mut level_scratch, n, &mut strings, sink)?;
        }
        (Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY, _) => {
            let dictionary = dictionary
                .ok_or_else(|| corrupt("dictionary-encoded page without a dictionary"))?;
            let (&width, rest) = values
                .split_first()
                .ok_or_else(|| corrupt("empty dictionary-encoded page"))?;
            if width > 32 {
                return Err(corrupt(format!("dictionary index width {width} > 32")));
            }
            let mut indices_reader = Hybrid::new(rest, width as u32);
            let mut left = n;
            while left > 0 {
                let m = left.min(CHUNK);
                match next_levels(&mut defs, &mut level_scratch[..m])? {
                    Some(levels) => {
                        let valid = levels.iter().filter(|&&l| l != 0).count();
                        let indices = &mut index_scratch[..valid];
                        indices_reader.read(indices)?;
                        if valid == m {
                            sink.entries(dictionary, indices)?;
                        } else {
                            sink.masked_entries(levels, dictionary, indices)?;
                        }
                    }
                    None => {
                        indices_reader.read(&mut index_scratch[..m])?;
                        sink.entries(dictionary, &index_scratch[..m])?;
                    }
                }
                left -= m;
            }
        }
        _ => return Err(Halt::Fallback),
    }
    Ok(())
}

/// `n` slots of a byte-array page: nulls where the levels say so, else the next value.
fn byte_slots<S: Sink>(
    defs: &mut Option<Hybrid<'_>>,
    level_scratch: &mut [u32; CHUNK],
    n: usize,
    values: &mut impl ByteValues,
    sink: &mut S,
) -> Step {
    let mut left = n;
    while left > 0 {
        let m = left.min(CHUNK);
        let levels = next_levels(defs, &mut level_scratch[..m])?;
        for i in 0..m {
            if levels.is_some_and(|l| l[i] == 0) {
                sink.null()?;
            } else {
                sink.value(values.next_value()?)?;
            }
        }
        left -= m;
    }
    Ok(())
}

/// Passes on to `inner` only the slots a row selection keeps.
struct Selected<'r, 's, S> {
    runs: std::slice::Iter<'r, RowSelector>,
    /// Slots left in the current run, and whether they are kept.
    left: usize,
    keep: bool,
    inner: &'s mut S,
}

impl<'r, 's, S: Sink> Selected<'r, 's, S> {
    fn new(runs: &'r [RowSelector], inner: &'s mut S) -> Self {
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
struct Count {
    bytes: usize,
}

impl Sink for Count {
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

/// One row group's share of a string column's final buffers: its values' bytes and the offsets
/// of its rows, written in place (row groups decode in parallel into disjoint regions).
struct Region<'a, O> {
    values: &'a mut [MaybeUninit<u8>],
    written: usize,
    /// Bytes of the values before this region.
    base: usize,
    offsets: &'a mut [MaybeUninit<O>],
    slots: usize,
    validity: Option<BooleanBufferBuilder>,
    nulls: usize,
}

impl<O: ArrowNativeType> Region<'_, O> {
    #[inline]
    fn push_offset(&mut self, valid: bool) -> Step {
        let slot = self
            .offsets
            .get_mut(self.slots)
            .ok_or_else(|| corrupt("a row group holds more values than rows"))?;
        // Offsets fit: the column's total size was checked against the offset type.
        slot.write(O::usize_as(self.base + self.written));
        self.slots += 1;
        if let Some(v) = self.validity.as_mut() {
            v.append(valid);
        }
        Ok(())
    }

    /// Whether the region was written completely (a footer may misstate the values' size).
    fn complete(&self) -> bool {
        self.written == self.values.len() && self.slots == self.offsets.len()
    }
}

impl<O: ArrowNativeType> Sink for Region<'_, O> {
    #[inline]
    fn null(&mut self) -> Step {
        self.nulls += 1;
        self.push_offset(false)
    }
    #[inline]
    fn value(&mut self, bytes: &[u8]) -> Step {
        // More bytes than the footer promised: arrow-rs reads the column instead.
        write_at(self.values, &mut self.written, bytes, || Halt::Fallback)?;
        self.push_offset(true)
    }
}

/// Copy `bytes` into `region` at `*at` and move `*at` past them; `overflow` when they do not fit.
#[inline]
fn write_at(
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

/// Bytes of an INT96 value: nanoseconds of the day (8, little-endian), then the Julian day (4).
const INT96: usize = 12;

/// Julian day number of 1970-01-01.
const JULIAN_UNIX_EPOCH: i64 = 2_440_588;

/// An INT96 timestamp as nanoseconds since the epoch, computed as pyarrow does: the Julian day
/// unsigned, the arithmetic wrapping (so out-of-range values wrap the same way).
fn int96_nanos(bytes: &[u8]) -> Step<i64> {
    let bytes: &[u8; INT96] = bytes.try_into().map_err(|_| short_page())?;
    let nanos = i64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ]);
    let day = i64::from(u32::from_le_bytes([
        bytes[8], bytes[9], bytes[10], bytes[11],
    ]));
    Ok((day - JULIAN_UNIX_EPOCH)
        .wrapping_mul(86_400_000_000_000)
        .wrapping_add(nanos))
}

/// One row group's region of a fixed-width column's values.
struct Fixed<'a> {
    values: &'a mut [MaybeUninit<u8>],
    written: usize,
    width: usize,
    /// Values are 12-byte INT96 timestamps, written as i64 nanoseconds.
    int96: bool,
    validity: Option<BooleanBufferBuilder>,
    nulls: usize,
}

impl Fixed<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Step {
        write_at(self.values, &mut self.written, bytes, || {
            corrupt("a row group holds more values than rows")
        })
    }
}

impl Sink for Fixed<'_> {
    #[inline]
    fn null(&mut self) -> Step {
        const ZERO: [u8; 16] = [0; 16];
        self.nulls += 1;
        if let Some(v) = self.validity.as_mut() {
            v.append(false);
        }
        self.put(&ZERO[..self.width])
    }
    #[inline]
    fn value(&mut self, bytes: &[u8]) -> Step {
        if let Some(v) = self.validity.as_mut() {
            v.append(true);
        }
        if self.int96 {
            return self.put(&int96_nanos(bytes)?.to_le_bytes());
        }
        self.put(bytes)
    }
    fn plain_run(&mut self, bytes: &[u8], count: usize) -> Step {
        if self.int96 {
            for value in bytes.chunks_exact(INT96).take(count) {
                self.value(value)?;
            }
            return Ok(());
        }
        if let Some(v) = self.validity.as_mut() {
            v.append_n(count, true);
        }
        self.put(bytes)
    }
    fn masked_plain(&mut self, levels: &[u32], values: &[u8], width: usize) -> Step<usize> {
        match (self.int96, width) {
            (false, 4) => self.scatter::<4>(levels, values),
            (false, 8) => self.scatter::<8>(levels, values),
            // Slot by slot (INT96 converts each value).
            _ => masked_plain_each(self, levels, values, width),
        }
    }
    fn entries(&mut self, dictionary: &Dictionary, indices: &[u32]) -> Step {
        if self.int96 {
            for &index in indices {
                self.entry(dictionary, index)?;
            }
            return Ok(());
        }
        match self.width {
            4 => self.gather::<4>(dictionary, indices),
            8 => self.gather::<8>(dictionary, indices),
            _ => Err(Halt::Fallback),
        }
    }
}

impl Fixed<'_> {
    /// One slot per level: the next `W`-byte value where the level is 1, zeros (a null) where
    /// it is 0; validity appended 64 slots at a time. Returns the bytes of `values` taken.
    fn scatter<const W: usize>(&mut self, levels: &[u32], values: &[u8]) -> Step<usize> {
        let end = self.written + levels.len() * W;
        let target = self
            .values
            .get_mut(self.written..end)
            .ok_or_else(|| corrupt("a row group holds more values than rows"))?;
        let valid = levels.iter().filter(|&&l| l != 0).count();
        let source = values
            .get(..valid * W)
            .ok_or_else(short_page)?
            .as_chunks::<W>()
            .0;
        let mut next = source.iter();
        for (slot, &level) in target.as_chunks_mut::<W>().0.iter_mut().zip(levels) {
            match level {
                0 => slot.write_copy_of_slice(&[0u8; W]),
                _ => slot.write_copy_of_slice(next.next().ok_or_else(short_page)?),
            };
        }
        if let Some(v) = self.validity.as_mut() {
            for word in levels.chunks(64) {
                let bits = word
                    .iter()
                    .enumerate()
                    .fold(0u64, |acc, (i, &l)| acc | (u64::from(l != 0) << i));
                v.append_packed_range(0..word.len(), &bits.to_le_bytes());
            }
        }
        self.nulls += levels.len() - valid;
        self.written = end;
        Ok(valid * W)
    }

    /// Copy the dictionary values of `indices` (`W` bytes each) into the region.
    fn gather<const W: usize>(&mut self, dictionary: &Dictionary, indices: &[u32]) -> Step {
        let end = self.written + indices.len() * W;
        let target = self
            .values
            .get_mut(self.written..end)
            .ok_or_else(|| corrupt("a row group holds more values than rows"))?;
        let table = dictionary
            .page
            .get(..dictionary.len * W)
            .filter(|_| dictionary.width == Some(W))
            .ok_or_else(|| corrupt("dictionary of another width"))?;
        let (table, _) = table.as_chunks::<W>();
        for (slot, &index) in target.as_chunks_mut::<W>().0.iter_mut().zip(indices) {
            let value = table
                .get(index as usize)
                .ok_or_else(|| dictionary.out_of_range(index))?;
            slot.write_copy_of_slice(value);
        }
        self.written = end;
        if let Some(v) = self.validity.as_mut() {
            v.append_n(indices.len(), true);
        }
        Ok(())
    }
}

/// Writes dictionary codes into a buffer of one code per row, merging the row groups'
/// dictionaries into one.
struct Codes<K: ArrowDictionaryKeyType> {
    codes: Vec<K::Native>,
    validity: Option<BooleanBufferBuilder>,
    nulls: usize,
    /// The merged dictionary's characters and end offsets.
    merged: Vec<u8>,
    ends: Vec<usize>,
    index: HashMap<Box<[u8]>, K::Native>,
    /// The current row group's dictionary index → merged code.
    mapping: Vec<K::Native>,
}

impl<K: ArrowDictionaryKeyType> Codes<K> {
    fn code_of(&mut self, bytes: &[u8]) -> Step<K::Native> {
        if let Some(&code) = self.index.get(bytes) {
            return Ok(code);
        }
        // More distinct values than the key type can index: arrow-rs decides what to do.
        let code = K::Native::from_usize(self.index.len()).ok_or(Halt::Fallback)?;
        self.merged.extend_from_slice(bytes);
        self.ends.push(self.merged.len());
        self.index.insert(bytes.into(), code);
        Ok(code)
    }
}

impl<K: ArrowDictionaryKeyType> Sink for Codes<K> {
    fn dictionary(&mut self, dictionary: &Dictionary) -> Step {
        let mut mapping = std::mem::take(&mut self.mapping);
        mapping.clear();
        for entry in dictionary.entries() {
            mapping.push(self.code_of(entry)?);
        }
        self.mapping = mapping;
        Ok(())
    }
    #[inline]
    fn null(&mut self) -> Step {
        self.codes.push(K::Native::default());
        if let Some(v) = self.validity.as_mut() {
            v.append(false);
        }
        self.nulls += 1;
        Ok(())
    }
    #[inline]
    fn value(&mut self, bytes: &[u8]) -> Step {
        let code = self.code_of(bytes)?;
        self.codes.push(code);
        if let Some(v) = self.validity.as_mut() {
            v.append(true);
        }
        Ok(())
    }
    #[inline]
    fn entry(&mut self, _dictionary: &Dictionary, index: u32) -> Step {
        let code = *self.mapping.get(index as usize).ok_or_else(|| {
            corrupt(format!(
                "dictionary index {index} out of range (the dictionary has {} values)",
                self.mapping.len()
            ))
        })?;
        self.codes.push(code);
        if let Some(v) = self.validity.as_mut() {
            v.append(true);
        }
        Ok(())
    }
}

/// Decode `column` as `data_type` (string/binary, or a dictionary of them); `None` where the
/// column needs arrow-rs. `open` gives a fresh file handle for each pass over the pages.
pub fn read(
    column: &Column<'_>,
    data_type: &DataType,
    files: &Files<'_>,
) -> Result<Option<ArrayRef>> {
    let descr = column
        .meta
        .file_metadata()
        .schema_descr()
        .column(column.leaf);
    let physical = descr.physical_type();
    let result = match data_type {
        _ if column.width.is_some() => match (physical, data_type) {
            (PhysicalType::INT32, DataType::Int32 | DataType::UInt32 | DataType::Date32) => {
                fixed::<i32>(column, files, data_type)
            }
            (PhysicalType::FLOAT, DataType::Float32) => fixed::<f32>(column, files, data_type),
            (PhysicalType::INT64, DataType::Int64 | DataType::UInt64) => {
                fixed::<i64>(column, files, data_type)
            }
            (PhysicalType::DOUBLE, DataType::Float64) => fixed::<f64>(column, files, data_type),
            (PhysicalType::INT96, DataType::Timestamp(TimeUnit::Nanosecond, _)) => {
                fixed::<i64>(column, files, data_type)
            }
            // Only where the file stores the unit asked for (no conversion of the values).
            (PhysicalType::INT64, DataType::Timestamp(unit, _))
                if stored_unit(descr.logical_type_ref()) == Some(*unit) =>
            {
                fixed::<i64>(column, files, data_type)
            }
            _ => Err(Halt::Fallback),
        },
        DataType::Utf8 => strings::<GenericStringType<i32>>(column, files),
        DataType::LargeUtf8 => strings::<GenericStringType<i64>>(column, files),
        DataType::Binary => strings::<GenericBinaryType<i32>>(column, files),
        DataType::LargeBinary => strings::<GenericBinaryType<i64>>(column, files),
        DataType::Dictionary(key, value) => {
            struct Decode<'a, 'b>(&'a Column<'b>, &'a Files<'a>);
            impl ByteDictionary for Decode<'_, '_> {
                type Out = Step<ArrayRef>;
                fn visit<K: ArrowDictionaryKeyType, V: ByteArrayType>(self) -> Self::Out {
                    codes::<K, V>(self.0, self.1)
                }
            }
            dispatch(key, value, Decode(column, files)).unwrap_or(Err(Halt::Fallback))
        }
        _ => Err(Halt::Fallback),
    };
    match result {
        Ok(array) => Ok(Some(array)),
        Err(Halt::Fallback) => Ok(None),
        Err(Halt::Failed(e)) => Err(e),
    }
}

/// The unit of a Parquet TIMESTAMP logical type.
fn stored_unit(logical: Option<&LogicalType>) -> Option<TimeUnit> {
    match logical {
        Some(LogicalType::Timestamp(t)) => Some(match t.unit {
            ParquetTimeUnit::MILLIS => TimeUnit::Millisecond,
            ParquetTimeUnit::MICROS => TimeUnit::Microsecond,
            ParquetTimeUnit::NANOS => TimeUnit::Nanosecond,
        }),
        _ => None,
    }
}

/// How each pass over a column's pages gets a file handle of its own.
pub struct Files<'a> {
    pub open: &'a (dyn Fn() -> Result<Handle> + Sync),
    /// Called once before a counting pass (it fetches the column's pages a second time).
    pub again: &'a (dyn Fn() + Sync),
}

fn validity(column: &Column<'_>) -> Option<BooleanBufferBuilder> {
    (column.max_def > 0).then(|| BooleanBufferBuilder::new(column.rows))
}

fn nulls(validity: Option<BooleanBufferBuilder>, count: usize) -> Option<NullBuffer> {
    match (validity, count) {
        (Some(mut v), n) if n > 0 => Some(NullBuffer::new(v.finish())),
        _ => None,
    }
}

fn strings<T: ByteArrayType>(column: &Column<'_>, files: &Files<'_>) -> Step<ArrayRef>
where
    T::Offset: ArrowNativeType,
{
    let groups = column.row_groups;
    let rows = groups
        .iter()
        .map(|&rg| column.kept_rows(rg))
        .collect::<Step<Vec<usize>>>()?;
    let filtered = column.selections.iter().any(Option::is_some);
    let sizes = match column.recorded_bytes().filter(|_| !filtered) {
        Some(sizes) => sizes,
        None => {
            (files.again)();
            parallel(groups.to_vec(), column.threads, |rg| {
                let mut count = Count::default();
                column.walk_group(&Arc::new((files.open)()?), rg, &mut count)?;
                Ok(count.bytes)
            })?
        }
    };
    let total = sizes
        .iter()
        .try_fold(0usize, |a, &b| a.checked_add(b))
        .ok_or(Halt::Fallback)?;
    let total_rows: usize = rows.iter().sum();
    if total_rows != column.rows || T::Offset::from_usize(total).is_none() {
        return Err(Halt::Fallback); // e.g. too large for 32-bit offsets: arrow-rs reports it
    }
    let mut values: Vec<u8> = Vec::new();
    // A footer can lie: ask without aborting, and leave the column to arrow-rs if refused.
    values
        .try_reserve_exact(total)
        .map_err(|_| Halt::Fallback)?;
    let mut offsets: Vec<T::Offset> = Vec::new();
    offsets
        .try_reserve_exact(total_rows + 1)
        .map_err(|_| Halt::Fallback)?;

    crate::alloc::prefer_huge_pages(values.spare_capacity_mut());
    crate::alloc::prefer_huge_pages(offsets.spare_capacity_mut());
    // Carve both buffers into one region per row group.
    let (first, mut offset_space) = offsets
        .spare_capacity_mut()
        .split_first_mut()
        .ok_or(Halt::Fallback)?;
    first.write(T::Offset::usize_as(0));
    let mut value_space = &mut values.spare_capacity_mut()[..total];
    let mut regions = Vec::with_capacity(groups.len());
    let mut base = 0;
    for ((&rg, &n), &size) in groups.iter().zip(&rows).zip(&sizes) {
        let (v, rest) = value_space.split_at_mut(size);
        value_space = rest;
        let (o, rest) = offset_space.split_at_mut(n);
        offset_space = rest;
        let region = Region::<T::Offset> {
            values: v,
            written: 0,
            base,
            offsets: o,
            slots: 0,
            validity: (column.max_def > 0).then(|| BooleanBufferBuilder::new(n)),
            nulls: 0,
        };
        regions.push((rg, region));
        base += size;
    }
    let filled = parallel(regions, column.threads, |(rg, mut region)| {
        column.walk_group(&Arc::new((files.open)()?), rg, &mut region)?;
        if !region.complete() {
            return Err(Halt::Fallback); // fewer bytes than the footer promised
        }
        Ok((region.validity, region.nulls))
    })?;
    // SAFETY: every region was written completely (`Region::complete`: each byte of its values
    // and each of its offsets), the regions tile `values[..total]` and `offsets[1..]`, and
    // `offsets[0]` was written above, so both buffers are initialised up to these lengths.
    unsafe {
        values.set_len(total);
        offsets.set_len(total_rows + 1);
    }
    let nulls = join_validity(filled, total_rows);
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    let array = GenericByteArray::<T>::try_new(offsets, Buffer::from_vec(values), nulls)
        .map_err(|e| corrupt(format!("invalid values: {e}")))?;
    Ok(Arc::new(array))
}

/// The validity of the whole column from its row groups' (`None` when nothing is null).
fn join_validity(
    parts: Vec<(Option<BooleanBufferBuilder>, usize)>,
    rows: usize,
) -> Option<NullBuffer> {
    let null_count: usize = parts.iter().map(|(_, n)| n).sum();
    (null_count > 0).then(|| {
        let mut all = BooleanBufferBuilder::new(rows);
        for (validity, _) in parts {
            if let Some(mut v) = validity {
                all.append_buffer(&v.finish());
            }
        }
        NullBuffer::new(all.finish())
    })
}

/// A fixed-width column (`T`'s bits are the Parquet values') decoded into one buffer of
/// rows × width, each row group into its own region, in parallel; typed as `data_type`.
fn fixed<T: ArrowNativeType>(
    column: &Column<'_>,
    files: &Files<'_>,
    data_type: &DataType,
) -> Step<ArrayRef> {
    let width = std::mem::size_of::<T>();
    let int96 = column.width == Some(INT96) && width == 8;
    if column.width != Some(width) && !int96 {
        return Err(Halt::Fallback);
    }
    let groups = column.row_groups;
    let rows = groups
        .iter()
        .map(|&rg| column.kept_rows(rg))
        .collect::<Step<Vec<usize>>>()?;
    let total_rows: usize = rows.iter().sum();
    if total_rows != column.rows {
        return Err(Halt::Fallback);
    }
    let mut values: Vec<T> = Vec::new();
    values
        .try_reserve_exact(total_rows)
        .map_err(|_| Halt::Fallback)?;
    let space = &mut values.spare_capacity_mut()[..total_rows];
    crate::alloc::prefer_huge_pages(space);
    // SAFETY: the same memory viewed as bytes: `MaybeUninit<u8>` has no alignment or validity
    // requirement, and the length covers exactly the `total_rows` values of `T`.
    let mut space: &mut [MaybeUninit<u8>] =
        unsafe { std::slice::from_raw_parts_mut(space.as_mut_ptr().cast(), total_rows * width) };
    let mut regions = Vec::with_capacity(groups.len());
    for (&rg, &n) in groups.iter().zip(&rows) {
        let (region, rest) = space.split_at_mut(n * width);
        space = rest;
        let sink = Fixed {
            values: region,
            written: 0,
            width,
            int96,
            validity: (column.max_def > 0).then(|| BooleanBufferBuilder::new(n)),
            nulls: 0,
        };
        regions.push((rg, sink));
    }
    let filled = parallel(regions, column.threads, |(rg, mut sink)| {
        column.walk_group(&Arc::new((files.open)()?), rg, &mut sink)?;
        if sink.written != sink.values.len() {
            return Err(corrupt(format!(
                "row group {rg} holds fewer values than its metadata promises"
            )));
        }
        Ok((sink.validity, sink.nulls))
    })?;
    // SAFETY: every region was written completely (checked above: each of its bytes), and the
    // regions tile the first `total_rows` values; any bit pattern is a valid `T` (a primitive
    // integer or float).
    unsafe { values.set_len(total_rows) };
    let nulls = join_validity(filled, total_rows);
    let data = arrow_data::ArrayData::try_new(
        data_type.clone(),
        total_rows,
        nulls.map(|n| n.into_inner().into_inner()),
        0,
        vec![Buffer::from_vec(values)],
        vec![],
    )
    .map_err(|e| corrupt(format!("invalid values: {e}")))?;
    Ok(arrow_array::make_array(data))
}

/// `f` over `tasks` on up to `threads` threads; the results in the tasks' order, or the first
/// error (an error before a fallback: a file that is corrupt is reported as such).
fn parallel<T: Send, R: Send>(
    tasks: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> Step<R> + Sync,
) -> Step<Vec<R>> {
    let n = tasks.len();
    if threads <= 1 || n <= 1 {
        return tasks.into_iter().map(f).collect();
    }
    let queue = Mutex::new(tasks.into_iter().enumerate());
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    let halted: Mutex<Option<Halt>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..threads.min(n) {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some((i, task)) = next else { break };
                    let outcome = catch_unwind(AssertUnwindSafe(|| f(task))).unwrap_or_else(|p| {
                        Err(corrupt(format!(
                            "the Parquet decoder failed on malformed data ({})",
                            panic_message(p.as_ref())
                        )))
                    });
                    match outcome {
                        Ok(r) => {
                            if let Ok(mut all) = results.lock() {
                                all[i] = Some(r);
                            }
                        }
                        Err(h) => {
                            stop.store(true, Ordering::Relaxed);
                            if let Ok(mut first) = halted.lock() {
                                if !matches!(*first, Some(Halt::Failed(_))) {
                                    *first = Some(h);
                                }
                            }
                        }
                    }
                }
            });
        }
    });
    if let Some(h) = halted.into_inner().ok().flatten() {
        return Err(h);
    }
    results
        .into_inner()
        .ok()
        .and_then(|all| all.into_iter().collect::<Option<Vec<R>>>())
        .ok_or_else(|| corrupt("a decoding thread stopped early"))
}

fn codes<K: ArrowDictionaryKeyType, V: ByteArrayType>(
    column: &Column<'_>,
    files: &Files<'_>,
) -> Step<ArrayRef> {
    let mut codes = Vec::with_capacity(column.rows);
    crate::alloc::prefer_huge_pages(codes.spare_capacity_mut());
    let mut sink = Codes::<K> {
        codes,
        validity: validity(column),
        nulls: 0,
        merged: Vec::new(),
        ends: Vec::new(),
        index: HashMap::new(),
        mapping: Vec::new(),
    };
    column.walk(&Arc::new((files.open)()?), &mut sink)?;
    let Codes {
        codes,
        validity,
        nulls: null_count,
        merged,
        ends,
        ..
    } = sink;
    let offsets = std::iter::once(0)
        .chain(ends)
        .map(V::Offset::from_usize)
        .collect::<Option<Vec<_>>>()
        .ok_or(Halt::Fallback)?;
    // Validates the offsets and, for strings, UTF-8.
    let values = GenericByteArray::<V>::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(merged),
        None,
    )
    .map_err(|e| corrupt(format!("invalid dictionary values: {e}")))?;
    let keys = PrimitiveArray::<K>::new(codes.into(), nulls(validity, null_count));
    let array = DictionaryArray::<K>::try_new(keys, Arc::new(values))
        .map_err(|e| corrupt(format!("invalid dictionary: {e}")))?;
    Ok(Arc::new(array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parquet::read::load_metadata;
    use crate::parquet::source::Source;
    use arrow_array::cast::AsArray;
    use arrow_array::{Array, BinaryArray, RecordBatch, StringArray};
    use arrow_schema::{Field, Schema};
    use bytes::Bytes;
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};

    /// Write `array` with `props`, decode it here: (the array, whether the footer recorded the
    /// values' size, the column's maximum definition level). `None` when the column was left to arrow-rs.
    fn decode(array: ArrayRef, props: WriterProperties) -> Option<(ArrayRef, bool, i16)> {
        let nullable = array.null_count() > 0;
        decode_as(array, props, nullable)
    }

    fn decode_as(
        array: ArrayRef,
        props: WriterProperties,
        nullable: bool,
    ) -> Option<(ArrayRef, bool, i16)> {
        decode_selected(array, props, nullable, None)
    }

    fn decode_selected(
        array: ArrayRef,
        props: WriterProperties,
        nullable: bool,
        selection: Option<&RowSelection>,
    ) -> Option<(ArrayRef, bool, i16)> {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "v",
            array.data_type().clone(),
            nullable,
        )]));
        let batch = RecordBatch::try_new(schema.clone(), vec![array]).expect("batch");
        let mut file = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut file, schema, Some(props)).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        let source = Source::Memory(Bytes::from(file));
        let meta = load_metadata(&source).expect("metadata");
        let rgs: Vec<usize> = (0..meta.metadata().num_row_groups()).collect();
        let rows = selection.map_or(batch.num_rows(), |s| s.row_count());
        let column = Column::plan(meta.metadata(), 0, &rgs, rows, 2, selection)?;
        let recorded = column.recorded_bytes().is_some();
        let dt = meta.schema().field(0).data_type().clone();
        let files = Files {
            open: &|| source.open(),
            again: &|| (),
        };
        let out = read(&column, &dt, &files).expect("decode")?;
        Some((out, recorded, column.max_def))
    }

    fn strings(n: usize) -> Vec<Option<String>> {
        (0..n)
            .map(|i| (i % 7 != 3).then(|| format!("value-{}", (i * 7919) % 1000).repeat(i % 3)))
            .collect()
    }

    fn props() -> parquet::file::properties::WriterPropertiesBuilder {
        WriterProperties::builder()
            .set_max_row_group_row_count(Some(7_000))
            .set_data_page_row_count_limit(500)
            .set_write_batch_size(250)
    }

    #[test]
    fn strings_decode_exactly_sized_in_every_handled_layout() {
        let values = strings(20_000);
        let input: ArrayRef = Arc::new(StringArray::from(values.clone()));
        let layouts = [
            ("dictionary, sizes in the footer", props().build(), true),
            (
                "dictionary, no statistics: counted first",
                props()
                    .set_statistics_enabled(EnabledStatistics::None)
                    .build(),
                false,
            ),
            (
                "plain, data page v2",
                props()
                    .set_dictionary_enabled(false)
                    .set_encoding(Encoding::PLAIN)
                    .set_writer_version(WriterVersion::PARQUET_2_0)
                    .build(),
                true,
            ),
            (
                "dictionary falling back to plain within a chunk",
                props().set_dictionary_page_size_limit(600).build(),
                true,
            ),
        ];
        for (name, p, recorded) in layouts {
            let (out, was_recorded, _) = decode(input.clone(), p).expect(name);
            assert_eq!(was_recorded, recorded, "{name}");
            assert_eq!(out.as_ref(), input.as_ref(), "{name}");
            let out = out.as_string::<i32>();
            assert_eq!(
                out.values().capacity(),
                out.values().len(),
                "{name}: exact size"
            );
        }
    }

    #[test]
    fn required_binary_columns_decode_without_validity() {
        let values: Vec<Vec<u8>> = (0..3_000u32)
            .map(|i| i.to_le_bytes().repeat((i % 4) as usize))
            .collect();
        let input: ArrayRef = Arc::new(BinaryArray::from_iter_values(values));
        let (out, _, max_def) = decode(input.clone(), props().build()).expect("handled");
        assert_eq!(max_def, 0, "a required column: pages without levels");
        assert_eq!(out.as_ref(), input.as_ref());
        assert!(out.nulls().is_none());
    }

    #[test]
    fn dictionaries_of_several_row_groups_merge_in_first_seen_order() {
        let values = strings(20_000);
        let plain = StringArray::from(values.clone());
        let dict: DictionaryArray<Int32Type> = values.iter().map(|v| v.as_deref()).collect();
        for p in [
            props().build(),
            props().set_dictionary_page_size_limit(600).build(),
        ] {
            let (out, _, _) = decode(Arc::new(dict.clone()), p).expect("handled");
            let out = out.as_dictionary::<Int32Type>();
            let decoded = arrow_cast::cast(out, &DataType::Utf8).expect("cast");
            assert_eq!(decoded.as_ref(), &plain as &dyn Array);
            // Each distinct value once, first appearances first.
            let mut seen = std::collections::HashSet::new();
            let first_seen: Vec<&str> = values
                .iter()
                .flatten()
                .map(|s| s.as_str())
                .filter(|s| seen.insert(*s))
                .collect();
            let merged: Vec<&str> = out.values().as_string::<i32>().iter().flatten().collect();
            assert_eq!(merged, first_seen);
            assert_eq!(out.keys().values().len(), values.len());
        }
    }

    #[test]
    fn fixed_width_columns_decode_in_place() {
        use arrow_array::{Float64Array, Int32Array, Int64Array, TimestampMillisecondArray};
        let n = 20_000;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from_iter_values(
                (0..n).map(|i| (i * 7919) % 500),
            )),
            Arc::new(Int64Array::from_iter_values((0..n as i64).map(|i| i * i))),
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| (i % 300) as f64 / 7.0),
            )),
            Arc::new(
                TimestampMillisecondArray::from_iter_values((0..n as i64).map(|i| i * 1_000))
                    .with_timezone("Europe/Berlin"),
            ),
        ];
        let layouts = [
            props().build(),
            props().set_dictionary_enabled(false).build(),
            props()
                .set_encoding(Encoding::PLAIN)
                .set_writer_version(WriterVersion::PARQUET_2_0)
                .set_dictionary_page_size_limit(600)
                .build(),
        ];
        for input in columns {
            for (p, nullable) in layouts
                .iter()
                .flat_map(|p| [(p.clone(), false), (p.clone(), true)])
            {
                let (out, _, max_def) = decode_as(input.clone(), p, nullable).expect("handled");
                assert_eq!(max_def, i16::from(nullable));
                assert_eq!(out.as_ref(), input.as_ref());
                let data = out.to_data();
                assert_eq!(
                    data.buffers()[0].capacity(),
                    data.buffers()[0].len(),
                    "exact"
                );
            }
        }
    }

    #[test]
    fn fixed_width_nulls_decode_here_and_converted_values_go_to_arrow_rs() {
        use arrow_array::{Float64Array, Int16Array};
        let values = (0..5_000).map(|i| (i % 9 != 4).then_some(f64::from(i) / 4.0));
        let with_nulls: ArrayRef = Arc::new(values.collect::<Float64Array>());
        for p in [
            props().build(),
            props().set_dictionary_enabled(false).build(),
        ] {
            let (out, _, max_def) = decode(with_nulls.clone(), p).expect("handled");
            assert_eq!(max_def, 1);
            assert_eq!(out.as_ref(), with_nulls.as_ref());
        }
        // INT32 narrowed to int16 by arrow-rs: not the stored bits.
        let narrowed: ArrayRef = Arc::new(Int16Array::from(vec![1i16, -2, 3]));
        assert!(decode(narrowed, props().build()).is_none());
    }

    #[test]
    fn a_footer_misstating_the_strings_size_sends_the_column_to_arrow_rs() {
        use parquet::file::metadata::ParquetMetaData;
        let input: ArrayRef = Arc::new(StringArray::from(strings(20_000)));
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Utf8, true)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![input]).expect("batch");
        let mut file = Vec::new();
        let mut writer =
            ArrowWriter::try_new(&mut file, schema, Some(props().build())).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        let source = Source::Memory(Bytes::from(file));
        let meta = load_metadata(&source).expect("metadata");
        let files = Files {
            open: &|| source.open(),
            again: &|| (),
        };
        // Too small (the values overflow their region), too large (the region is left partly
        // unwritten), absurd (the reservation is refused instead of aborting the process).
        let lies: [&dyn Fn(i64) -> i64; 3] = [&|n| n - 1, &|n| n + 1, &|_| i64::MAX / 2];
        for lie in lies {
            let mut builder = meta.metadata().as_ref().clone().into_builder();
            let groups: Vec<_> = meta
                .metadata()
                .row_groups()
                .iter()
                .map(|g| {
                    let chunk = g.column(0).clone();
                    let told = chunk.unencoded_byte_array_data_bytes().map(lie);
                    let chunk = chunk
                        .into_builder()
                        .set_unencoded_byte_array_data_bytes(told)
                        .build()
                        .expect("chunk");
                    g.clone()
                        .into_builder()
                        .set_column_metadata(vec![chunk])
                        .build()
                        .expect("row group")
                })
                .collect();
            builder = builder.set_row_groups(groups);
            let lying: ParquetMetaData = builder.build();
            let rgs: Vec<usize> = (0..lying.num_row_groups()).collect();
            let column = Column::plan(&lying, 0, &rgs, 20_000, 2, None).expect("planned");
            assert!(column.recorded_bytes().is_some());
            let out = read(&column, &DataType::Utf8, &files).expect("no error");
            assert!(
                out.is_none(),
                "left to arrow-rs, never written from a wrong size"
            );
        }
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

    #[test]
    fn delta_string_encodings_decode_here_and_delta_integers_go_to_arrow_rs() {
        use arrow_array::Int64Array;
        let input: ArrayRef = Arc::new(StringArray::from(strings(5_000)));
        for encoding in [
            Encoding::DELTA_BYTE_ARRAY,
            Encoding::DELTA_LENGTH_BYTE_ARRAY,
        ] {
            let p = props()
                .set_dictionary_enabled(false)
                .set_encoding(encoding)
                .build();
            let (out, _, _) = decode(input.clone(), p).expect("handled");
            assert_eq!(out.as_ref(), input.as_ref(), "{encoding}");
        }
        let ints: ArrayRef = Arc::new(Int64Array::from_iter_values(0..1_000));
        let p = props()
            .set_dictionary_enabled(false)
            .set_encoding(Encoding::DELTA_BINARY_PACKED)
            .build();
        assert!(decode(ints, p).is_none());
    }
}
