//! Columns that cannot be used where they lie in the file: compressed buffers (LZ4 frame or
//! zstd) are decompressed and big-endian buffers byte-swapped into one new, 64-byte aligned
//! body, described by a new, uncompressed record batch message that arrow-ipc then decodes as
//! it decodes any other.
//!
//! A compressed buffer states its decompressed size in its first eight bytes; that number is
//! the file's to choose, so nothing is reserved from it: the output grows with what the
//! decompressor really produces (at most doubling, in steps of at most 1 MiB), a failed
//! allocation is an error rather than an abort, and a buffer that decompresses to more or fewer
//! bytes than it states is corrupt.

use std::io::Read;

use arrow_buffer::Buffer;
use arrow_ipc as fb;
use flatbuffers::FlatBufferBuilder;

use super::layout::{BatchLayout, Swap};

/// The codecs of the IPC format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    Lz4Frame,
    Zstd,
}

impl Codec {
    /// The codec a batch declares, if any; an unknown one is an error.
    pub(crate) fn of(batch: &fb::RecordBatch<'_>) -> Result<Option<Codec>, String> {
        let Some(compression) = batch.compression() else {
            return Ok(None);
        };
        if compression.method() != fb::BodyCompressionMethod::BUFFER {
            return Err(format!(
                "unsupported body compression method {}",
                compression.method().0
            ));
        }
        match compression.codec() {
            fb::CompressionType::LZ4_FRAME => Ok(Some(Codec::Lz4Frame)),
            fb::CompressionType::ZSTD => Ok(Some(Codec::Zstd)),
            other => Err(format!("unsupported compression codec {}", other.0)),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Codec::Lz4Frame => "lz4",
            Codec::Zstd => "zstd",
        }
    }
}

/// A record batch message (flatbuffer bytes) and the body it describes.
pub(crate) struct Rewritten {
    pub(crate) message: Vec<u8>,
    pub(crate) body: Buffer,
}

/// Growth step of a decompression's output.
const STEP: usize = 1 << 20;
/// Buffers start at multiples of this in the new body, as the IPC writers align them.
const ALIGN: usize = 64;

/// The `columns` (schema positions, ascending) of `batch`, decompressed with `codec` and
/// swapped where the layout says so, as a message of those columns alone.
pub(crate) fn rewrite(
    batch: &fb::RecordBatch<'_>,
    body: &[u8],
    layout: &BatchLayout,
    columns: &[usize],
    codec: Option<Codec>,
) -> Result<Rewritten, String> {
    let nodes = batch.nodes().ok_or("a record batch without field nodes")?;
    let buffers = batch.buffers().ok_or("a record batch without buffers")?;
    let variadic = batch.variadicBufferCounts();
    let mut out: Vec<u8> = Vec::new();
    let mut new_nodes = Vec::new();
    let mut new_buffers = Vec::new();
    let mut new_variadic = Vec::new();
    for &c in columns {
        let column = layout.columns.get(c).ok_or("a column outside the layout")?;
        new_nodes.extend(column.nodes.clone().map(|i| *nodes.get(i)));
        if let Some(v) = variadic {
            new_variadic.extend(column.variadic.clone().map(|i| v.get(i)));
        }
        for used in &column.buffers {
            let b = buffers.get(used.index);
            // The layout checked that the buffer lies in the body.
            let (offset, length) = (b.offset() as usize, b.length() as usize);
            let src = &body[offset..offset + length];
            let padding = out.len().next_multiple_of(ALIGN) - out.len();
            grow(&mut out, padding)?;
            out.resize(out.len() + padding, 0);
            let start = out.len();
            match codec {
                Some(codec) if !src.is_empty() => decompress(codec, src, &mut out)?,
                _ => {
                    grow(&mut out, src.len())?;
                    out.extend_from_slice(src);
                }
            }
            let written = out.len() - start;
            if written < used.min_len {
                return Err(format!(
                    "a buffer decompresses to {written} bytes where its column's length needs {}",
                    used.min_len
                ));
            }
            if !written.is_multiple_of(used.unit) {
                return Err(format!(
                    "a buffer decompresses to {written} bytes, not a whole number of its {}-byte \
                     values",
                    used.unit
                ));
            }
            swap_to_little_endian(&mut out[start..], used.swap);
            new_buffers.push(fb::Buffer::new(start as i64, written as i64));
        }
    }
    let mut fbb = FlatBufferBuilder::new();
    let nodes = fbb.create_vector(&new_nodes);
    let buffers = fbb.create_vector(&new_buffers);
    let variadic = (!new_variadic.is_empty()).then(|| fbb.create_vector(&new_variadic));
    let mut builder = fb::RecordBatchBuilder::new(&mut fbb);
    builder.add_length(batch.length());
    builder.add_nodes(nodes);
    builder.add_buffers(buffers);
    if let Some(variadic) = variadic {
        builder.add_variadicBufferCounts(variadic);
    }
    let root = builder.finish();
    fbb.finish_minimal(root);
    Ok(Rewritten {
        message: fbb.finished_data().to_vec(),
        body: Buffer::from_vec(out),
    })
}

/// Reserve `additional` bytes, failing cleanly when memory runs out.
fn grow(out: &mut Vec<u8>, additional: usize) -> Result<(), String> {
    out.try_reserve(additional).map_err(|_| {
        format!(
            "out of memory decompressing the file ({} bytes decompressed so far)",
            out.len()
        )
    })
}

/// Append the decompressed bytes of one compressed buffer (its 8-byte length prefix, then
/// the codec's frame; a prefix of -1 means stored raw) to `out`.
fn decompress(codec: Codec, src: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(
        src.get(..8)
            .ok_or("a compressed buffer without its prefix")?,
    );
    let frame = &src[8..];
    let stated = i64::from_le_bytes(prefix);
    if stated == -1 {
        grow(out, frame.len())?;
        out.extend_from_slice(frame);
        return Ok(());
    }
    let stated = usize::try_from(stated)
        .map_err(|_| format!("a compressed buffer states {stated} bytes"))?;
    if stated == 0 {
        return Ok(());
    }
    let outcome = match codec {
        Codec::Lz4Frame => read_exactly(lz4_flex::frame::FrameDecoder::new(frame), stated, out),
        Codec::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(frame)
                .map_err(|e| format!("cannot start zstd: {e}"))?;
            read_exactly(decoder, stated, out)
        }
    };
    outcome.map_err(|e| format!("a {} buffer does not decompress: {e}", codec.name()))
}

/// Read exactly `stated` bytes from `reader` into `out`, growing it as bytes arrive; more or
/// fewer is an error.
fn read_exactly(mut reader: impl Read, stated: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let mut done = 0;
    while done < stated {
        let step = (stated - done).min(STEP);
        grow(out, step)?;
        let at = out.len();
        out.resize(at + step, 0);
        let mut filled = 0;
        while filled < step {
            match reader.read(&mut out[at + filled..at + step]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    out.truncate(at + filled);
                    return Err(e.to_string());
                }
            }
        }
        out.truncate(at + filled);
        done += filled;
        if filled < step {
            return Err(format!("it holds {done} bytes, not the {stated} it states"));
        }
    }
    let mut probe = [0u8; 1];
    match reader.read(&mut probe) {
        Ok(0) => Ok(()),
        Ok(_) => Err(format!("it holds more than the {stated} bytes it states")),
        Err(e) => Err(e.to_string()),
    }
}

/// Turn big-endian elements into little-endian ones in place.
pub(crate) fn swap_to_little_endian(bytes: &mut [u8], swap: Swap) {
    match swap {
        Swap::None => {}
        Swap::Width(w) => bytes.chunks_exact_mut(w).for_each(<[u8]>::reverse),
        Swap::DayTime => bytes.chunks_exact_mut(4).for_each(<[u8]>::reverse),
        Swap::MonthDayNano => {
            for element in bytes.chunks_exact_mut(16) {
                element[0..4].reverse();
                element[4..8].reverse();
                element[8..16].reverse();
            }
        }
        Swap::Views => {
            for view in bytes.chunks_exact_mut(16) {
                let mut length = [0u8; 4];
                length.copy_from_slice(&view[0..4]);
                view[0..4].reverse();
                if i32::from_be_bytes(length) > 12 {
                    view[8..12].reverse();
                    view[12..16].reverse();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_elements_become_little_endian() {
        let mut ints = 0x0102_0304_i32.to_be_bytes().to_vec();
        swap_to_little_endian(&mut ints, Swap::Width(4));
        assert_eq!(ints, 0x0102_0304_i32.to_le_bytes());

        let mut interval = Vec::new();
        interval.extend(3_i32.to_be_bytes());
        interval.extend((-2_i32).to_be_bytes());
        interval.extend(7_i64.to_be_bytes());
        swap_to_little_endian(&mut interval, Swap::MonthDayNano);
        assert_eq!(&interval[0..4], 3_i32.to_le_bytes());
        assert_eq!(&interval[4..8], (-2_i32).to_le_bytes());
        assert_eq!(&interval[8..16], 7_i64.to_le_bytes());
    }

    #[test]
    fn views_swap_their_integers_but_not_their_bytes() {
        let mut inline = Vec::new();
        inline.extend(5_i32.to_be_bytes());
        inline.extend(b"hello\0\0\0\0\0\0\0");
        swap_to_little_endian(&mut inline, Swap::Views);
        assert_eq!(&inline[0..4], 5_i32.to_le_bytes());
        assert_eq!(&inline[4..9], b"hello");

        let mut long = Vec::new();
        long.extend(20_i32.to_be_bytes());
        long.extend(b"pref");
        long.extend(1_i32.to_be_bytes());
        long.extend(64_i32.to_be_bytes());
        swap_to_little_endian(&mut long, Swap::Views);
        assert_eq!(&long[0..4], 20_i32.to_le_bytes());
        assert_eq!(&long[4..8], b"pref");
        assert_eq!(&long[8..12], 1_i32.to_le_bytes());
        assert_eq!(&long[12..16], 64_i32.to_le_bytes());
    }

    #[test]
    fn a_buffer_stating_more_bytes_than_it_holds_is_refused_without_reserving_them() {
        let frame = zstd::encode_all(&b"abc"[..], 1).expect("zstd");
        let mut src = (1_i64 << 40).to_le_bytes().to_vec();
        src.extend(frame);
        let mut out = Vec::new();
        let err = decompress(Codec::Zstd, &src, &mut out).expect_err("a lie");
        assert!(err.contains("holds 3 bytes"), "{err}");
        assert!(out.capacity() < 1 << 22);
    }
}
