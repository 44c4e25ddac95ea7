//! PLAIN encoding: fixed-width values back to back, byte arrays as a 4-byte little-endian
//! length followed by the bytes.

use crate::parquet::decode::encoding::ByteValues;
use crate::parquet::decode::halt::{corrupt, Step};

#[inline]
pub(crate) fn read_u32(data: &[u8], pos: usize) -> Option<u32> {
    let b = data.get(pos..pos.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The byte range of the PLAIN value (4-byte length, then the bytes) starting at `pos`.
#[inline]
pub(crate) fn plain_value(data: &[u8], pos: usize) -> Option<(usize, usize)> {
    let len = read_u32(data, pos)? as usize;
    let start = pos + 4;
    let end = start.checked_add(len).filter(|&e| e <= data.len())?;
    Some((start, end))
}

/// The values of a PLAIN byte-array page: each a 4-byte length, then its bytes.
pub(crate) struct PlainStrings<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) pos: usize,
}

impl ByteValues for PlainStrings<'_> {
    #[inline]
    fn next_value(&mut self) -> Step<&[u8]> {
        let (start, end) = plain_value(self.data, self.pos)
            .ok_or_else(|| corrupt("data page ends inside a value"))?;
        self.pos = end;
        Ok(&self.data[start..end])
    }
}
