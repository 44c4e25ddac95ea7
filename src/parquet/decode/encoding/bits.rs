//! The bit-level reading the encodings share (arrow-rs keeps its own in `util/bit_util.rs`):
//! ULEB128 varints (the hybrid encoding's run headers, DELTA_BINARY_PACKED's block headers) and
//! bit-packed values (the hybrid encoding's bit-packed runs, DELTA_BINARY_PACKED's miniblocks).

/// Why a ULEB128 varint could not be read.
pub(crate) enum Varint {
    /// The data ends inside it.
    Truncated,
    /// It runs past 64 bits.
    TooLong,
}

/// The ULEB128 varint at `*pos` (7 bits a byte, least significant first; the high bit says
/// another byte follows); `*pos` moves past the bytes read.
pub(crate) fn uleb128(data: &[u8], pos: &mut usize) -> Result<u64, Varint> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(*pos).ok_or(Varint::Truncated)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(Varint::TooLong)
}

/// The `width`-bit value (`width` ≤ 64) starting at bit `bit` of `data`, bits packed least
/// significant first; bits past the end of `data` read as 0.
#[inline]
pub(crate) fn unpack(data: &[u8], bit: usize, width: usize) -> u64 {
    let byte = bit / 8;
    let shift = bit % 8;
    let word = match data.get(byte..byte + 8) {
        Some(b) => u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        None => {
            // Fewer than 8 bytes left.
            let mut padded = [0u8; 8];
            let tail = data.get(byte..).unwrap_or(&[]);
            padded[..tail.len()].copy_from_slice(tail);
            u64::from_le_bytes(padded)
        }
    };
    if width <= 56 {
        // Within the 8 bytes read at any bit offset: levels and dictionary indices always are,
        // and this one branch on the width keeps their loops as fast as a 32-bit unpacker's.
        return (word >> shift) & ((1u64 << width) - 1);
    }
    unpack_wide(data, byte, shift, width, word)
}

/// `unpack` of a value wider than 56 bits, which may reach into a ninth byte (only
/// DELTA_BINARY_PACKED miniblocks are this wide), kept out of the narrow path's loops.
#[cold]
#[inline(never)]
fn unpack_wide(data: &[u8], byte: usize, shift: usize, width: usize, word: u64) -> u64 {
    let ninth = u64::from(data.get(byte + 8).copied().unwrap_or(0));
    // The ninth byte's bits start at bit `64 - shift` (in two steps: with `shift` 0 they are
    // shifted out, where one shift by 64 would overflow).
    let value = (word >> shift) | (ninth << 1 << (63 - shift));
    value & (u64::MAX >> (64 - width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpack_reads_every_width_at_every_offset_like_reading_bit_by_bit() {
        let data: Vec<u8> = (0..40u32).map(|i| (i * 151 + 7) as u8).collect();
        let bit_at = |i: usize| data.get(i / 8).map_or(0, |b| u64::from((b >> (i % 8)) & 1));
        for width in 0..=64 {
            for bit in (0..data.len() * 8 + 16).step_by(3) {
                let want = (0..width).fold(0u64, |acc, k| acc | (bit_at(bit + k) << k));
                assert_eq!(unpack(&data, bit, width), want, "width {width}, bit {bit}");
            }
        }
    }

    #[test]
    fn uleb128_reads_one_and_several_bytes_and_refuses_truncated_or_overlong_varints() {
        let data = [0x05, 0xe5, 0x8e, 0x26, 0x80];
        let mut pos = 0;
        assert!(matches!(uleb128(&data, &mut pos), Ok(5)));
        assert!(matches!(uleb128(&data, &mut pos), Ok(624_485)));
        assert_eq!(pos, 4);
        assert!(matches!(uleb128(&data, &mut pos), Err(Varint::Truncated)));
        let overlong = [0xff; 11];
        assert!(matches!(uleb128(&overlong, &mut 0), Err(Varint::TooLong)));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert!(matches!(uleb128(&max, &mut 0), Ok(u64::MAX)));
    }
}
