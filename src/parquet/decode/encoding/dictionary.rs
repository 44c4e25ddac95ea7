//! The dictionary page of a dictionary-encoded column chunk (PLAIN values), looked up by the
//! indices the data pages carry (RLE_DICTIONARY / PLAIN_DICTIONARY).

use bytes::Bytes;

use crate::parquet::decode::encoding::plain::plain_value;
use crate::parquet::decode::halt::{corrupt, Halt, Step};

/// A dictionary page: its values as ranges of the decompressed page.
pub(crate) struct Dictionary {
    pub(crate) page: Bytes,
    /// Byte-array entries (empty for fixed-width values, found by position).
    ranges: Vec<(usize, usize)>,
    pub(crate) width: Option<usize>,
    pub(crate) len: usize,
}

impl Dictionary {
    pub(crate) fn parse(page: Bytes, n: usize, width: Option<usize>) -> Step<Self> {
        if let Some(w) = width {
            if n.checked_mul(w).is_none_or(|len| len > page.len()) {
                return Err(corrupt("dictionary page shorter than its values"));
            }
            return Ok(Dictionary {
                page,
                ranges: Vec::new(),
                width,
                len: n,
            });
        }
        // Each entry takes at least its 4-byte length: a lying count cannot allocate more.
        let mut ranges = Vec::with_capacity(n.min(page.len() / 4));
        let mut pos = 0;
        for _ in 0..n {
            let (start, end) = plain_value(&page, pos)
                .ok_or_else(|| corrupt("dictionary page ends inside a value"))?;
            ranges.push((start, end));
            pos = end;
        }
        Ok(Dictionary {
            page,
            ranges,
            width: None,
            len: n,
        })
    }

    pub(crate) fn out_of_range(&self, index: u32) -> Halt {
        corrupt(format!(
            "dictionary index {index} out of range (the dictionary has {} values)",
            self.len
        ))
    }

    #[inline]
    pub(crate) fn get(&self, index: u32) -> Step<&[u8]> {
        let i = index as usize;
        if i >= self.len {
            return Err(self.out_of_range(index));
        }
        Ok(match self.width {
            Some(w) => &self.page[i * w..i * w + w],
            None => {
                let (s, e) = self.ranges[i];
                &self.page[s..e]
            }
        })
    }

    /// The entries, as byte slices, for the codes sink.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len as u32).filter_map(|i| self.get(i).ok())
    }
}
