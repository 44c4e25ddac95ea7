//! Parquet's RLE / bit-packed hybrid encoding: runs of one repeated value or of bit-packed
//! groups of 8 values, each behind a ULEB128 header. Definition levels and dictionary indices
//! use it.

use crate::parquet::decode::encoding::bits::{uleb128, unpack, Varint};
use crate::parquet::decode::halt::{corrupt, Step};

/// Parquet's RLE / bit-packed hybrid encoding (definition levels, dictionary indices).
pub(crate) struct Hybrid<'a> {
    data: &'a [u8],
    pos: usize,
    width: u32,
    repeat_left: usize,
    repeat_value: u32,
    packed_left: usize,
    packed_bit: usize,
}

impl<'a> Hybrid<'a> {
    pub(crate) fn new(data: &'a [u8], width: u32) -> Self {
        Hybrid {
            data,
            pos: 0,
            width,
            repeat_left: 0,
            repeat_value: 0,
            packed_left: 0,
            packed_bit: 0,
        }
    }

    fn next_run(&mut self) -> Step {
        let header = uleb128(self.data, &mut self.pos).map_err(|e| match e {
            Varint::Truncated => corrupt("run header past the end of the page"),
            Varint::TooLong => corrupt("run header longer than 64 bits"),
        })?;
        let count = usize::try_from(header >> 1).map_err(|_| corrupt("run too long"))?;
        if header & 1 == 1 {
            // `count` groups of 8 values, `width` bytes per group; a last run may be cut short.
            let bytes = count.saturating_mul(self.width as usize);
            let available = (self.data.len() - self.pos).min(bytes);
            self.packed_left = if self.width == 0 {
                count.saturating_mul(8)
            } else {
                (available * 8 / self.width as usize).min(count.saturating_mul(8))
            };
            self.packed_bit = self.pos * 8;
            self.pos += available;
        } else {
            let bytes = self.width.div_ceil(8) as usize;
            let raw = self
                .data
                .get(self.pos..self.pos + bytes)
                .ok_or_else(|| corrupt("repeated value past the end of the page"))?;
            let mut value = [0u8; 4];
            value[..bytes].copy_from_slice(raw);
            self.pos += bytes;
            self.repeat_value = u32::from_le_bytes(value);
            self.repeat_left = count;
        }
        Ok(())
    }

    /// Consume the next `n` values if they all lie in one run repeating `value` (the common
    /// "no nulls here" case of definition levels, decided without writing them out).
    pub(crate) fn skip_repeated(&mut self, n: usize, value: u32) -> Step<bool> {
        if self.repeat_left == 0 && self.packed_left == 0 && self.pos < self.data.len() {
            self.next_run()?;
        }
        if self.repeat_left >= n && self.repeat_value == value {
            self.repeat_left -= n;
            return Ok(true);
        }
        Ok(false)
    }

    /// Fill `out` with the next values.
    pub(crate) fn read(&mut self, out: &mut [u32]) -> Step {
        let mut i = 0;
        while i < out.len() {
            if self.repeat_left > 0 {
                let k = self.repeat_left.min(out.len() - i);
                out[i..i + k].fill(self.repeat_value);
                self.repeat_left -= k;
                i += k;
            } else if self.packed_left > 0 {
                let k = self.packed_left.min(out.len() - i);
                let width = self.width as usize;
                let mut done = 0;
                if width == 1 && self.packed_bit.is_multiple_of(8) {
                    // Definition levels: a byte holds 8 of them.
                    let bytes = self.data.get(self.packed_bit / 8..).unwrap_or(&[]);
                    let full = (k / 8).min(bytes.len());
                    for (eight, &byte) in out[i..i + full * 8].chunks_exact_mut(8).zip(bytes) {
                        for (bit, slot) in eight.iter_mut().enumerate() {
                            *slot = u32::from((byte >> bit) & 1);
                        }
                    }
                    self.packed_bit += full * 8;
                    done = full * 8;
                }
                let slots = out[i + done..i + k].iter_mut();
                for slot in slots {
                    // Levels and dictionary indices are at most 32 bits wide.
                    *slot = unpack(self.data, self.packed_bit, width) as u32;
                    self.packed_bit += width;
                }
                self.packed_left -= k;
                i += k;
            } else {
                if self.pos >= self.data.len() {
                    return Err(corrupt("fewer levels or indices than values in a page"));
                }
                self.next_run()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parquet::decode::halt::Halt;

    #[test]
    fn hybrid_decodes_repeated_and_bit_packed_runs() {
        // A run of 5 × 3 (width 2), then one bit-packed group of 8 values 0..=3,0..=3.
        let mut data = vec![5 << 1, 3];
        data.push((1 << 1) | 1);
        data.extend_from_slice(&[0b11_10_01_00, 0b11_10_01_00]);
        let mut h = Hybrid::new(&data, 2);
        let mut out = [0u32; 13];
        assert!(h.read(&mut out).is_ok());
        assert_eq!(out, [3, 3, 3, 3, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
        let mut more = [0u32; 1];
        assert!(matches!(h.read(&mut more), Err(Halt::Failed(_))));
    }
}
