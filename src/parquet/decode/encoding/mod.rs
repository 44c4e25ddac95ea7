//! The value encodings of Parquet pages, decoded from the page's bytes (arrow-rs keeps the same
//! codecs in `parquet/src/encodings/`):
//! - `hybrid`: the RLE / bit-packed hybrid (definition levels, dictionary indices);
//! - `plain`: PLAIN values (fixed width back to back; byte arrays as length + bytes);
//! - `dictionary`: a dictionary page's values, looked up by index;
//! - `delta`: DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY strings over DELTA_BINARY_PACKED
//!   lengths;
//! - `bits`: the ULEB128 varints they share.

mod bits;
pub(super) mod delta;
pub(super) mod dictionary;
pub(super) mod hybrid;
pub(super) mod plain;

use crate::parquet::decode::halt::Step;

/// Byte-array values of a page, one after the other.
pub(crate) trait ByteValues {
    fn next_value(&mut self) -> Step<&[u8]>;
}
