//! Page decompression that never trusts a size it has not checked.
//!
//! A page header states the page's decompressed size, and several codecs state it again in
//! their own framing; a file can lie in both. The parquet crate reserves the stated size before
//! decompressing (a 3 KB file claiming a 2 GiB page reserved 2 GiB, shared/FACTS.md and issue
//! 10). Here the output is reserved only up to what the compressed bytes can produce with that
//! codec (snappy at most ~21x, LZ4 blocks ~255x, measured with pyarrow's codecs on zeros), and
//! the codecs without a useful bound (gzip, zstd, brotli, LZ4 frames: 1,000-650,000x) are
//! streamed, so memory grows only with output that really comes out, and stops one byte past
//! the size the header promised.

use std::io::Read;

/// The codecs of Parquet's `CompressionCodec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    Uncompressed,
    Snappy,
    Gzip,
    Lzo,
    Brotli,
    /// The deprecated `LZ4`: Hadoop's framing of LZ4 blocks (or, from some writers, an LZ4 frame
    /// or a bare block).
    Lz4Hadoop,
    Zstd,
    Lz4Raw,
}

/// Largest output per input byte of a snappy block: a 3-byte copy emits up to 64 bytes.
const SNAPPY_RATIO: usize = 22;
/// Largest output per input byte of an LZ4 block (each 0xFF length byte adds 255).
const LZ4_RATIO: usize = 256;
/// What a streamed decompression reserves up front, per input byte (it grows past this only
/// as output really comes out).
const STREAM_GUESS: usize = 8;

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Failed(pub(crate) String);

type Result<T> = std::result::Result<T, Failed>;

fn failed<T>(what: impl Into<String>) -> Result<T> {
    Err(Failed(what.into()))
}

fn reserve(out: &mut Vec<u8>, n: usize) -> Result<()> {
    out.try_reserve_exact(n)
        .or_else(|_| failed(format!("cannot reserve {n} bytes for a decompressed page")))
}

fn wrong_size<T>(got: usize, expected: usize) -> Result<T> {
    failed(format!(
        "page didn't decompress to expected size: {got} bytes where the page header says {expected}"
    ))
}

/// Decompress one page's `input` into `out` (appended), which must come to exactly `expected`
/// bytes.
pub(crate) fn decompress(
    codec: Codec,
    input: &[u8],
    expected: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    let start = out.len();
    match codec {
        Codec::Uncompressed => {
            if input.len() != expected {
                return wrong_size(input.len(), expected);
            }
            reserve(out, expected)?;
            out.extend_from_slice(input);
        }
        Codec::Snappy => {
            let stated =
                snap::raw::decompress_len(input).or_else(|e| failed(format!("snappy: {e}")))?;
            if stated != expected {
                return wrong_size(stated, expected);
            }
            bounded(input, expected, SNAPPY_RATIO, "snappy")?;
            reserve(out, expected)?;
            out.resize(start + expected, 0);
            let n = snap::raw::Decoder::new()
                .decompress(input, &mut out[start..])
                .or_else(|e| failed(format!("snappy: {e}")))?;
            if n != expected {
                out.truncate(start);
                return wrong_size(n, expected);
            }
        }
        Codec::Lz4Raw => {
            bounded(input, expected, LZ4_RATIO, "LZ4")?;
            lz4_block(input, expected, out)?;
        }
        Codec::Lz4Hadoop => {
            let before = out.len();
            if lz4_hadoop(input, expected, out).is_err() {
                out.truncate(before);
                // Older writers put an LZ4 frame, or a bare block, under the same codec name.
                if streamed(
                    lz4_flex::frame::FrameDecoder::new(input),
                    input,
                    expected,
                    out,
                )
                .is_err()
                {
                    out.truncate(before);
                    bounded(input, expected, LZ4_RATIO, "LZ4")?;
                    lz4_block(input, expected, out)?;
                }
            }
        }
        Codec::Gzip => streamed(
            flate2::read::MultiGzDecoder::new(input),
            input,
            expected,
            out,
        )?,
        Codec::Brotli => streamed(
            brotli::Decompressor::new(input, 64 << 10),
            input,
            expected,
            out,
        )?,
        Codec::Zstd => match zstd::zstd_safe::get_frame_content_size(input) {
            // The frame states its size (the usual case): one call into a buffer of that size.
            Ok(Some(stated)) => {
                if stated != expected as u64 {
                    return wrong_size(usize::try_from(stated).unwrap_or(usize::MAX), expected);
                }
                reserve(out, expected)?;
                let n = zstd::bulk::Decompressor::new()
                    .and_then(|mut d| d.decompress_to_buffer(input, out))
                    .or_else(|e| failed(format!("zstd: {e}")))?;
                if n != expected {
                    out.truncate(start);
                    return wrong_size(n, expected);
                }
            }
            // Otherwise streamed, with zstd's own limit on the window it may allocate.
            _ => streamed(
                zstd::stream::read::Decoder::with_buffer(input)
                    .or_else(|e| failed(format!("zstd: {e}")))?,
                input,
                expected,
                out,
            )?,
        },
        Codec::Lzo => return failed("the LZO codec is not supported"),
    }
    Ok(())
}

fn bounded(input: &[u8], expected: usize, ratio: usize, name: &str) -> Result<()> {
    let most = input.len().saturating_mul(ratio).saturating_add(64);
    if expected > most {
        return failed(format!(
            "a page claims {expected} bytes decompressed from {} {name}-compressed bytes, more \
             than {name} can produce",
            input.len()
        ));
    }
    Ok(())
}

fn lz4_block(input: &[u8], expected: usize, out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    reserve(out, expected)?;
    out.resize(start + expected, 0);
    let n = lz4_flex::block::decompress_into(input, &mut out[start..])
        .or_else(|e| failed(format!("LZ4: {e}")))?;
    if n != expected {
        out.truncate(start);
        return wrong_size(n, expected);
    }
    Ok(())
}

/// Hadoop's LZ4 framing: blocks, each prefixed by its decompressed and compressed sizes (4 bytes
/// big-endian each).
fn lz4_hadoop(mut input: &[u8], expected: usize, out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    while !input.is_empty() {
        let (Some(head), rest) = (input.get(..8), input.get(8..).unwrap_or(&[])) else {
            return failed("LZ4 (Hadoop): a truncated block header");
        };
        let size = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let (plain, packed) = (size(&head[..4]), size(&head[4..]));
        let block = rest
            .get(..packed)
            .ok_or_else(|| Failed("LZ4 (Hadoop): a block past the page's end".into()))?;
        if plain > expected - (out.len() - start) {
            return wrong_size(out.len() - start + plain, expected);
        }
        bounded(block, plain, LZ4_RATIO, "LZ4")?;
        lz4_block(block, plain, out)?;
        input = &rest[packed..];
    }
    if out.len() - start != expected {
        return wrong_size(out.len() - start, expected);
    }
    Ok(())
}

/// Stream `decoder` into `out`, reading at most one byte more than `expected`.
fn streamed(decoder: impl Read, input: &[u8], expected: usize, out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    reserve(
        out,
        expected.min(input.len().saturating_mul(STREAM_GUESS) + (64 << 10)),
    )?;
    let limit = u64::try_from(expected)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    decoder
        .take(limit)
        .read_to_end(out)
        .or_else(|e| failed(format!("corrupt compressed page: {e}")))?;
    let n = out.len() - start;
    if n != expected {
        out.truncate(start);
        return wrong_size(n, expected);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn sample() -> Vec<u8> {
        (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    fn compress(codec: Codec, data: &[u8]) -> Vec<u8> {
        match codec {
            Codec::Uncompressed => data.to_vec(),
            Codec::Snappy => snap::raw::Encoder::new()
                .compress_vec(data)
                .expect("snappy"),
            Codec::Lz4Raw => lz4_flex::block::compress(data),
            Codec::Lz4Hadoop => {
                let block = lz4_flex::block::compress(data);
                let mut out = (data.len() as u32).to_be_bytes().to_vec();
                out.extend((block.len() as u32).to_be_bytes());
                out.extend(block);
                out
            }
            Codec::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).expect("gzip");
                e.finish().expect("gzip")
            }
            Codec::Brotli => {
                let mut out = Vec::new();
                {
                    let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                    w.write_all(data).expect("brotli");
                }
                out
            }
            Codec::Zstd => zstd::bulk::compress(data, 3).expect("zstd"),
            Codec::Lzo => Vec::new(),
        }
    }

    const CODECS: [Codec; 7] = [
        Codec::Uncompressed,
        Codec::Snappy,
        Codec::Lz4Raw,
        Codec::Lz4Hadoop,
        Codec::Gzip,
        Codec::Brotli,
        Codec::Zstd,
    ];

    #[test]
    fn every_codec_round_trips_to_the_stated_size() {
        let data = sample();
        for codec in CODECS {
            let packed = compress(codec, &data);
            let mut out = Vec::new();
            decompress(codec, &packed, data.len(), &mut out).expect("decompress");
            assert_eq!(out, data, "{codec:?}");
        }
    }

    #[test]
    fn a_wrong_stated_size_is_an_error_and_reserves_nothing_large() {
        let data = sample();
        for codec in CODECS {
            let packed = compress(codec, &data);
            for claim in [data.len() - 1, data.len() + 1, i32::MAX as usize] {
                let mut out = Vec::new();
                assert!(
                    decompress(codec, &packed, claim, &mut out).is_err(),
                    "{codec:?} claiming {claim}"
                );
                assert!(
                    out.capacity() < 4 * data.len() + (1 << 20),
                    "{codec:?}: {}",
                    out.capacity()
                );
            }
        }
    }

    #[test]
    fn garbage_is_an_error() {
        let junk: Vec<u8> = (0..1000u32).map(|i| (i * 7919 % 256) as u8).collect();
        for codec in CODECS {
            let mut out = Vec::new();
            let _ = decompress(codec, &junk, 5000, &mut out);
            let _ = decompress(codec, &junk[..3], 5000, &mut out);
        }
    }
}
