//! Walking a column chunk's pages: `pages` reads each page (header, decompression, checked
//! against the chunk and the read's limits); here the levels are split from the values (data page v1: length-prefixed RLE levels; v2:
//! level lengths in the header), the values are decoded by their encoding and every slot is fed
//! to a `Sink`. With a row selection, data pages holding no selected row are skipped unread.

use std::sync::Arc;

use parquet::basic::Encoding;

use crate::parquet::decode::column::Column;
use crate::parquet::decode::encoding::delta::DeltaStrings;
use crate::parquet::decode::encoding::dictionary::Dictionary;
use crate::parquet::decode::encoding::hybrid::Hybrid;
use crate::parquet::decode::encoding::plain::{read_u32, PlainStrings};
use crate::parquet::decode::encoding::ByteValues;
use crate::parquet::decode::halt::{corrupt, short_page, Halt, Step};
use crate::parquet::decode::sink::{Selected, Sink};
use crate::parquet::pages::{Page, PageReader};
use crate::parquet::source::Handle;

impl Column<'_> {
    /// Feed every slot of the column to `sink`, row group by row group.
    pub(super) fn walk<S: Sink>(&self, handle: &Arc<Handle>, sink: &mut S) -> Step {
        for &rg in self.row_groups {
            self.walk_group(handle, rg, sink)?;
        }
        Ok(())
    }

    /// Feed every slot of row group `rg` to `sink`.
    pub(super) fn walk_group<S: Sink>(
        &self,
        handle: &Arc<Handle>,
        rg: usize,
        sink: &mut S,
    ) -> Step {
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
        let rows = self.group_rows(rg)?;
        let mut pages = PageReader::new(handle, self.meta, rg, self.leaf, self.limits)?;
        if S::FINAL {
            pages = pages.releasing();
        }
        let mut dictionary: Option<Dictionary> = None;
        let mut slots: usize = 0;
        loop {
            if let Some(n) = sink.skippable()? {
                if let Some(skipped) = pages.skip_if_at_most(n)? {
                    sink.skip(skipped)?;
                    slots += skipped;
                    continue;
                }
            }
            let Some(page) = pages.next_page()? else {
                break;
            };
            let (levels, values, n, encoding) = match &page {
                Page::Dictionary {
                    buf,
                    num_values,
                    encoding,
                } => {
                    if !matches!(encoding, Encoding::PLAIN | Encoding::PLAIN_DICTIONARY) {
                        return Err(Halt::Fallback);
                    }
                    let d = Dictionary::parse(buf.clone(), *num_values, self.width)?;
                    sink.dictionary(&d)?;
                    dictionary = Some(d);
                    continue;
                }
                Page::Data {
                    buf,
                    num_values,
                    encoding,
                    def_level_encoding,
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
                Page::DataV2 {
                    def_levels,
                    values,
                    num_values,
                    encoding,
                    ..
                } => {
                    let levels = (self.max_def > 0).then_some(&def_levels[..]);
                    (levels, &values[..], *num_values, *encoding)
                }
            };
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
