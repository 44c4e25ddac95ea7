//! The bit-level reading the encodings share (arrow-rs keeps its own in `util/bit_util.rs`):
//! ULEB128 varints (the hybrid encoding's run headers, DELTA_BINARY_PACKED's block headers).

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

#[cfg(test)]
mod tests {
    use super::*;

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
