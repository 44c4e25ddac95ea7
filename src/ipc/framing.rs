//! Where the messages are: the file format's footer and blocks, or the stream format's
//! sequence of encapsulated messages. Every offset and length the file states is checked
//! against the file before anything is sliced, and every flatbuffer is verified (bounds, depth,
//! table count) before it is read.
//!
//! File format: `ARROW1` + padding, the stream of messages, the footer flatbuffer, its length
//! (int32) and `ARROW1` again; the footer lists the schema and the blocks (offset, metadata
//! length, body length) of the dictionary and record batches. Stream format: messages one
//! after another, each `0xFFFFFFFF`, a metadata length (int32; pre-1.0 streams omit the
//! marker), the `Message` flatbuffer and its body, ended by a zero length or the end of the file.

use arrow_buffer::Buffer;
use arrow_ipc::{Footer, Message, MessageHeader};

use super::source::FileBytes;
use crate::error::{Error, Result};

/// The magic bytes at both ends of an IPC file.
pub(crate) const MAGIC: &[u8; 6] = b"ARROW1";
const CONTINUATION: [u8; 4] = [0xff; 4];

/// One message: its verified flatbuffer and its body, a slice of the file.
pub(crate) struct Located<'a> {
    pub(crate) message: Message<'a>,
    pub(crate) body: Buffer,
    /// Where the message starts in the file, for error messages.
    pub(crate) at: usize,
}

/// The messages of a file or stream, in the order they are decoded: the schema is taken from
/// the footer (file) or the first message (stream).
pub(crate) enum Layout<'a> {
    File {
        footer: Footer<'a>,
        dictionaries: Vec<Located<'a>>,
        batches: Vec<Located<'a>>,
    },
    Stream {
        schema: Located<'a>,
        /// Dictionary and record batches, in stream order (a later dictionary replaces an
        /// earlier one for the batches after it).
        messages: Vec<Located<'a>>,
    },
}

/// An error about the file's bytes at `at`.
pub(crate) fn corrupt(file: &FileBytes, at: usize, what: impl std::fmt::Display) -> Error {
    Error::Ipc(format!("{}: {what} (at byte {at})", file.describe()))
}

/// Find every message of `file`, as the file format when it starts with `ARROW1`, else as a
/// stream.
pub(crate) fn locate(file: &FileBytes) -> Result<Layout<'_>> {
    let bytes = file.bytes.as_slice();
    if bytes.starts_with(MAGIC) {
        locate_file(file)
    } else {
        locate_stream(file)
    }
}

fn locate_file(file: &FileBytes) -> Result<Layout<'_>> {
    let bytes = file.bytes.as_slice();
    let len = bytes.len();
    if len < 2 * MAGIC.len() + 2 + 4 || !bytes.ends_with(MAGIC) {
        return Err(corrupt(
            file,
            len,
            "the file starts like an Arrow IPC file but does not end with its footer \
             (truncated?)",
        ));
    }
    let trailer = len - MAGIC.len() - 4;
    let footer_len = read_i32(bytes, trailer);
    let footer_start = usize::try_from(footer_len)
        .ok()
        .filter(|&n| n > 0 && n <= trailer.saturating_sub(MAGIC.len() + 2))
        .map(|n| trailer - n)
        .ok_or_else(|| {
            corrupt(
                file,
                trailer,
                format!("the footer length {footer_len} does not fit the file"),
            )
        })?;
    let footer = arrow_ipc::root_as_footer(&bytes[footer_start..trailer])
        .map_err(|e| corrupt(file, footer_start, format!("malformed footer: {e}")))?;
    let blocks = |list: Option<flatbuffers::Vector<'_, arrow_ipc::Block>>, what: &str| {
        list.iter()
            .flatten()
            .map(|block| {
                let located = at_block(file, block, footer_start)?;
                let expected = match what {
                    "dictionary" => MessageHeader::DictionaryBatch,
                    _ => MessageHeader::RecordBatch,
                };
                if located.message.header_type() != expected {
                    return Err(corrupt(
                        file,
                        located.at,
                        format!("the footer's {what} block points at a message of another kind"),
                    ));
                }
                Ok(located)
            })
            .collect::<Result<Vec<_>>>()
    };
    let dictionaries = blocks(footer.dictionaries(), "dictionary")?;
    let batches = blocks(footer.recordBatches(), "record batch")?;
    Ok(Layout::File {
        footer,
        dictionaries,
        batches,
    })
}

/// The message a footer block points at; it must lie before the footer.
fn at_block<'a>(file: &'a FileBytes, block: &arrow_ipc::Block, end: usize) -> Result<Located<'a>> {
    let offset = usize::try_from(block.offset()).ok();
    let meta = usize::try_from(block.metaDataLength()).ok();
    let body = usize::try_from(block.bodyLength()).ok();
    let span = match (offset, meta, body) {
        (Some(o), Some(m), Some(b)) => o
            .checked_add(m)
            .and_then(|x| x.checked_add(b))
            .filter(|&e| e <= end)
            .map(|_| (o, m, b)),
        _ => None,
    };
    let Some((offset, meta, body_len)) = span else {
        return Err(corrupt(
            file,
            end,
            format!(
                "a footer block (offset {}, metadata {} bytes, body {} bytes) lies outside the \
                 file's {end} bytes of messages",
                block.offset(),
                block.metaDataLength(),
                block.bodyLength()
            ),
        ));
    };
    let message = parse_message(file, offset, offset + meta)?.0;
    let stated = message.bodyLength();
    if usize::try_from(stated).ok().is_none_or(|n| n > body_len) {
        return Err(corrupt(
            file,
            offset,
            format!("the message's body length {stated} exceeds its block's {body_len} bytes"),
        ));
    }
    let body = file
        .bytes
        .slice_with_length(offset + meta, usize::try_from(stated).unwrap_or(0));
    Ok(Located {
        message,
        body,
        at: offset,
    })
}

/// Parse the encapsulated message starting at `start`, whose metadata must end by `end`:
/// the message and the offset where its metadata ends (its body starts).
fn parse_message(file: &FileBytes, start: usize, end: usize) -> Result<(Message<'_>, usize)> {
    let bytes = file.bytes.as_slice();
    let truncated = || corrupt(file, start, "truncated message header");
    if end < start.saturating_add(4) || end > bytes.len() {
        return Err(truncated());
    }
    let (len_at, meta_start) = if bytes[start..start + 4] == CONTINUATION {
        if end < start + 8 {
            return Err(truncated());
        }
        (start + 4, start + 8)
    } else {
        (start, start + 4)
    };
    let stated = read_i32(bytes, len_at);
    let meta_end = usize::try_from(stated)
        .ok()
        .filter(|&n| n > 0)
        .and_then(|n| meta_start.checked_add(n))
        .filter(|&e| e <= end)
        .ok_or_else(|| {
            corrupt(
                file,
                start,
                format!("a message's metadata length {stated} does not fit the file"),
            )
        })?;
    let message = arrow_ipc::root_as_message(&bytes[meta_start..meta_end])
        .map_err(|e| corrupt(file, start, format!("malformed message: {e}")))?;
    Ok((message, meta_end))
}

fn locate_stream(file: &FileBytes) -> Result<Layout<'_>> {
    let bytes = file.bytes.as_slice();
    let mut at = 0;
    let mut schema = None;
    let mut messages = Vec::new();
    while at < bytes.len() {
        if bytes.len() - at < 4 {
            return Err(corrupt(file, at, "truncated message header"));
        }
        let marker = bytes[at..at + 4] == CONTINUATION;
        let len_at = if marker { at + 4 } else { at };
        if len_at + 4 > bytes.len() {
            return Err(corrupt(file, at, "truncated message header"));
        }
        if read_i32(bytes, len_at) == 0 {
            break; // end-of-stream marker
        }
        let (message, body_start) = parse_message(file, at, bytes.len())?;
        let stated = message.bodyLength();
        let body_len = usize::try_from(stated)
            .ok()
            .filter(|&n| n <= bytes.len() - body_start)
            .ok_or_else(|| {
                corrupt(
                    file,
                    at,
                    format!(
                        "the message's body of {stated} bytes runs past the end of the file \
                         (truncated?)"
                    ),
                )
            })?;
        let located = Located {
            body: file.bytes.slice_with_length(body_start, body_len),
            message,
            at,
        };
        match (located.message.header_type(), schema.is_some()) {
            (MessageHeader::Schema, false) => schema = Some(located),
            (_, false) => {
                return Err(corrupt(
                    file,
                    at,
                    "not an Arrow IPC file or stream: the first message is not a schema",
                ))
            }
            (MessageHeader::DictionaryBatch | MessageHeader::RecordBatch, true) => {
                messages.push(located)
            }
            (MessageHeader::Schema, true) => {
                return Err(corrupt(file, at, "a second schema message in the stream"))
            }
            (other, true) => {
                return Err(corrupt(
                    file,
                    at,
                    format!(
                        "unsupported message type {}",
                        other.variant_name().unwrap_or("unknown")
                    ),
                ))
            }
        }
        at = body_start + body_len;
    }
    let schema = schema.ok_or_else(|| {
        corrupt(
            file,
            0,
            "not an Arrow IPC file or stream: it holds no schema message",
        )
    })?;
    Ok(Layout::Stream { schema, messages })
}

/// The little-endian int32 at `at` (callers checked that four bytes are there).
fn read_i32(bytes: &[u8], at: usize) -> i32 {
    let mut le = [0u8; 4];
    le.copy_from_slice(&bytes[at..at + 4]);
    i32::from_le_bytes(le)
}
