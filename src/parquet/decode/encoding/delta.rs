//! DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY string pages, whose lengths (and prefix
//! lengths) are DELTA_BINARY_PACKED integers. DELTA_BINARY_PACKED integer columns themselves are
//! left to arrow-rs.

use crate::parquet::decode::encoding::bits::{uleb128, unpack, Varint};
use crate::parquet::decode::encoding::ByteValues;
use crate::parquet::decode::halt::{corrupt, short_page, Step};

/// The values of a DELTA_LENGTH_BYTE_ARRAY page (delta-packed lengths, then the bytes) or a
/// DELTA_BYTE_ARRAY page (delta-packed prefix and suffix lengths, then the suffixes; each value
/// is a prefix of the previous one followed by its suffix).
pub(crate) struct DeltaStrings<'a> {
    prefixes: Option<Vec<i64>>,
    lengths: Vec<i64>,
    data: &'a [u8],
    pos: usize,
    next: usize,
    previous: Vec<u8>,
}

impl<'a> DeltaStrings<'a> {
    pub(crate) fn new(page: &'a [u8], limit: usize, incremental: bool) -> Step<Self> {
        let (first, used) = delta_binary_packed(page, limit)?;
        let (prefixes, lengths, start) = if incremental {
            let (suffixes, more) = delta_binary_packed(&page[used..], limit)?;
            if suffixes.len() != first.len() {
                return Err(corrupt(
                    "DELTA_BYTE_ARRAY page with unequal prefix and suffix counts",
                ));
            }
            (Some(first), suffixes, used + more)
        } else {
            (None, first, used)
        };
        Ok(DeltaStrings {
            prefixes,
            lengths,
            data: &page[start..],
            pos: 0,
            next: 0,
            previous: Vec::new(),
        })
    }
}

impl ByteValues for DeltaStrings<'_> {
    fn next_value(&mut self) -> Step<&[u8]> {
        let i = self.next;
        let length = *self.lengths.get(i).ok_or_else(short_page)?;
        let length = usize::try_from(length).map_err(|_| corrupt("negative value length"))?;
        let end = self
            .pos
            .checked_add(length)
            .filter(|&e| e <= self.data.len());
        let bytes = &self.data[self.pos..end.ok_or_else(short_page)?];
        self.pos += length;
        self.next += 1;
        let Some(prefixes) = &self.prefixes else {
            return Ok(bytes);
        };
        let prefix = usize::try_from(prefixes[i])
            .ok()
            .filter(|&p| p <= self.previous.len())
            .ok_or_else(|| corrupt("DELTA_BYTE_ARRAY prefix longer than the previous value"))?;
        self.previous.truncate(prefix);
        self.previous.extend_from_slice(bytes);
        Ok(&self.previous)
    }
}

/// Parquet's DELTA_BINARY_PACKED integers (at most `limit` of them): the values and the bytes
/// they took.
fn delta_binary_packed(data: &[u8], limit: usize) -> Step<(Vec<i64>, usize)> {
    let mut pos = 0;
    let uleb = |pos: &mut usize| {
        uleb128(data, pos).map_err(|e| match e {
            Varint::Truncated => short_page(),
            Varint::TooLong => corrupt("DELTA_BINARY_PACKED header longer than 64 bits"),
        })
    };
    let zigzag = |n: u64| ((n >> 1) as i64) ^ -((n & 1) as i64);
    let block = usize::try_from(uleb(&mut pos)?).map_err(|_| short_page())?;
    let minis = usize::try_from(uleb(&mut pos)?).map_err(|_| short_page())?;
    let total = usize::try_from(uleb(&mut pos)?).map_err(|_| short_page())?;
    let first = zigzag(uleb(&mut pos)?);
    if minis == 0 || block == 0 || block % minis != 0 || (block / minis) % 8 != 0 {
        return Err(corrupt("invalid DELTA_BINARY_PACKED block layout"));
    }
    if total > limit {
        return Err(corrupt(
            "DELTA_BINARY_PACKED page claims more values than the page holds",
        ));
    }
    let per_mini = block / minis;
    // A page's count is checked only as its values are read: reserve no more than its bytes.
    let mut out = Vec::with_capacity(total.min(data.len().saturating_mul(8)));
    if total == 0 {
        return Ok((out, pos));
    }
    out.push(first);
    let mut last = first;
    while out.len() < total {
        let min_delta = zigzag(uleb(&mut pos)?);
        let widths = data.get(pos..pos + minis).ok_or_else(short_page)?;
        pos += minis;
        for &width in widths {
            if out.len() >= total {
                break;
            }
            let width = usize::from(width);
            if width > 64 {
                return Err(corrupt("DELTA_BINARY_PACKED bit width above 64"));
            }
            let bytes = per_mini * width / 8;
            let packed = data.get(pos..pos + bytes).ok_or_else(short_page)?;
            for j in 0..per_mini {
                if out.len() >= total {
                    break;
                }
                let delta = unpack(packed, j * width, width);
                last = last.wrapping_add(min_delta).wrapping_add(delta as i64);
                out.push(last);
            }
            pos += bytes;
        }
    }
    Ok((out, pos))
}
