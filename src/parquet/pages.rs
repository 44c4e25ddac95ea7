//! A column chunk's pages, read by colbridge itself: each header parsed (`thrift`) and checked
//! against the chunk it lies in and the read's limits before its page is fetched, each page
//! decompressed to exactly the size its header states without reserving more than the
//! compressed bytes can produce (`compression`).
//!
//! The parquet crate's page reader reserves whatever a header claims (a 3 KB file claiming a
//! 2 GiB page reserved 2 GiB), so colbridge's decoder reads pages here, and the columns left to
//! arrow-rs are checked here first (`scan_chunk`). Two leniencies follow pyarrow, each for a
//! kind of file that really exists (both in parquet-testing / arrow-testing):
//! - parquet-mr before 1.2.9 understated a chunk's size (PARQUET-816): pages may run up to
//!   100 bytes past the stated end, as in Arrow C++;
//! - pyarrow 2.0 wrote data page v2 values compressed while flagging them uncompressed
//!   (ARROW-17100): a page flagged uncompressed whose compressed and uncompressed sizes differ
//!   cannot be stored plain, so it is decompressed.

use bytes::Bytes;
use parquet::arrow::arrow_reader::RowSelector;
use parquet::basic::{Compression, Encoding, Type as PhysicalType};
use parquet::file::metadata::{ColumnChunkMetaData, ParquetMetaData};
use parquet::file::page_index::offset_index::PageLocation;
use parquet::file::reader::{ChunkReader, Length};

use crate::error::{Error, Result};
use crate::parquet::compression::{decompress, Codec};
use crate::parquet::limits::Limits;
use crate::parquet::source::Handle;
use crate::parquet::thrift::{read_page_header, PageHeader, PageKind};

/// The first read of a page header; a header with large statistics is read again, larger.
const HEADER_GUESS: usize = 128;
/// The largest page header accepted (statistics of long strings make headers large).
const MAX_HEADER: usize = 16 << 20;
/// How far past its stated end an old parquet-mr chunk's pages may run (PARQUET-816).
const PARQUET_816_PADDING: u64 = 100;

/// A page, decompressed.
pub(crate) enum Page {
    Dictionary {
        buf: Bytes,
        num_values: usize,
        encoding: Encoding,
    },
    /// Data page v1: levels (each length-prefixed) and values, as one buffer.
    Data {
        buf: Bytes,
        num_values: usize,
        encoding: Encoding,
        def_level_encoding: Encoding,
    },
    /// Data page v2: the definition levels (never compressed) and the values apart (the
    /// repetition levels of a flat column are empty).
    DataV2 {
        def_levels: Bytes,
        values: Bytes,
        num_values: usize,
        encoding: Encoding,
    },
}

/// A header read ahead of its page.
struct Pending {
    header: PageHeader,
    /// Where the page's body starts.
    body: u64,
}

/// Reads the pages of one column chunk in order.
pub(crate) struct PageReader<'h> {
    handle: &'h Handle,
    pos: u64,
    end: u64,
    codec: Codec,
    limits: Limits,
    /// Smallest size of one dictionary entry (checks a dictionary page's count).
    entry_size: usize,
    /// The offset index's page locations, where the file has them.
    locations: Option<Vec<PageLocation>>,
    rows: usize,
    /// Values (slots) the chunk's data pages have left, from the footer: reading stops there,
    /// as a chunk's stated end may be padded past it (PARQUET-816).
    values_left: usize,
    pending: Option<Pending>,
    /// The row group, for messages.
    what: String,
    /// Where the chunk starts (`end` is where it ends).
    start: u64,
    /// Whether this reader is the decode proper of the chunk (`releasing`): what a remote
    /// source fetched for it may then go page by page as it is read, and all of it at the end.
    /// A reader that only looks (a scan, the dictionary pages) leaves it for the decode.
    releases: bool,
}

impl Drop for PageReader<'_> {
    /// The chunk is read (or given up): what a remote source fetched for it may go.
    fn drop(&mut self) {
        if self.releases {
            self.handle.done(self.start..self.end);
        }
    }
}

fn corrupt(what: &str, message: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{what}: {message}"))
}

/// The codec of a column chunk.
pub(crate) fn codec(compression: Compression) -> Codec {
    match compression {
        Compression::UNCOMPRESSED => Codec::Uncompressed,
        Compression::SNAPPY => Codec::Snappy,
        Compression::GZIP(_) => Codec::Gzip,
        Compression::LZO => Codec::Lzo,
        Compression::BROTLI(_) => Codec::Brotli,
        Compression::LZ4 => Codec::Lz4Hadoop,
        Compression::ZSTD(_) => Codec::Zstd,
        Compression::LZ4_RAW => Codec::Lz4Raw,
    }
}

/// parquet.thrift's `Encoding` numbers.
fn encoding(value: i32, what: &str) -> Result<Encoding> {
    #[allow(deprecated)]
    Ok(match value {
        0 => Encoding::PLAIN,
        2 => Encoding::PLAIN_DICTIONARY,
        3 => Encoding::RLE,
        4 => Encoding::BIT_PACKED,
        5 => Encoding::DELTA_BINARY_PACKED,
        6 => Encoding::DELTA_LENGTH_BYTE_ARRAY,
        7 => Encoding::DELTA_BYTE_ARRAY,
        8 => Encoding::RLE_DICTIONARY,
        9 => Encoding::BYTE_STREAM_SPLIT,
        other => {
            return Err(corrupt(
                what,
                format!("unknown encoding {other} in a page header"),
            ))
        }
    })
}

/// Whether the file was written by a parquet-mr older than 1.2.9 (or one that does not say
/// its version), whose chunk sizes may leave out part of a page (PARQUET-816; Arrow C++ reads
/// up to 100 bytes further for such files).
fn understates_chunks(meta: &ParquetMetaData) -> bool {
    let Some(created_by) = meta.file_metadata().created_by() else {
        return false;
    };
    let Some(rest) = created_by.strip_prefix("parquet-mr") else {
        return false;
    };
    let version = rest
        .trim_start()
        .strip_prefix("version")
        .map(str::trim_start);
    let Some(version) = version else {
        return true;
    };
    let numbers: Vec<u32> = version
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    numbers.as_slice() < [1, 2, 9].as_slice()
}

impl<'h> PageReader<'h> {
    /// The pages of leaf `leaf` in row group `rg`.
    pub(crate) fn new(
        handle: &'h Handle,
        meta: &ParquetMetaData,
        rg: usize,
        leaf: usize,
        limits: Limits,
    ) -> Result<Self> {
        let chunk = meta.row_group(rg).column(leaf);
        let what = format!("row group {rg}");
        let rows = usize::try_from(meta.row_group(rg).num_rows())
            .map_err(|_| corrupt(&what, "a negative row count"))?;
        // A row group without rows has no pages to read (some writers leave its offsets 0).
        let (start, len) = match rows {
            0 => (0, 0),
            _ => chunk_range(chunk, &what)?,
        };
        let file = handle.len();
        let mut end = start
            .checked_add(len)
            .filter(|&end| end <= file)
            .ok_or_else(|| {
                corrupt(
                    &what,
                    format!(
                        "its column chunk at {start}..+{len} lies past the file's end ({file})"
                    ),
                )
            })?;
        if understates_chunks(meta) {
            end = end.saturating_add(PARQUET_816_PADDING).min(file);
        }
        let entry_size = match chunk.column_type() {
            PhysicalType::BOOLEAN => 0,
            PhysicalType::INT32 | PhysicalType::FLOAT => 4,
            PhysicalType::INT64 | PhysicalType::DOUBLE => 8,
            PhysicalType::INT96 => 12,
            PhysicalType::BYTE_ARRAY => 4,
            PhysicalType::FIXED_LEN_BYTE_ARRAY => {
                let descr = meta.file_metadata().schema_descr().column(leaf);
                usize::try_from(descr.type_length()).unwrap_or(0)
            }
        };
        let locations = meta
            .offset_index()
            .and_then(|index| index.get(rg)?.get(leaf))
            .map(|index| index.page_locations().clone());
        Ok(PageReader {
            handle,
            pos: start,
            end,
            codec: codec(chunk.compression()),
            limits,
            entry_size,
            locations,
            rows,
            values_left: usize::try_from(chunk.num_values()).unwrap_or(0),
            pending: None,
            what,
            start,
            releases: false,
        })
    }

    /// This reader is the chunk's decode: the bytes it has read past go from a remote source's
    /// cache as it goes (a slice a page still holds keeps its own bytes alive).
    pub(crate) fn releasing(mut self) -> Self {
        self.releases = true;
        self
    }

    /// The next page's header (read and checked, not yet its body); `None` at the chunk's end.
    fn peek(&mut self) -> Result<Option<&Pending>> {
        if self.pending.is_none() && self.pos < self.end && self.values_left > 0 {
            self.pending = Some(self.read_header()?);
        }
        Ok(self.pending.as_ref())
    }

    fn read_header(&mut self) -> Result<Pending> {
        let available = usize::try_from(self.end - self.pos).unwrap_or(usize::MAX);
        let mut window = HEADER_GUESS.min(available);
        let (header, len) = loop {
            let bytes = self.handle.get_bytes(self.pos, window)?;
            match read_page_header(&bytes) {
                Ok(parsed) => break parsed,
                Err(e) if window >= available.min(MAX_HEADER) => {
                    return Err(corrupt(
                        &self.what,
                        format!("unreadable page header at byte {}: {e}", self.pos),
                    ))
                }
                Err(_) => window = (window * 8).min(available).min(MAX_HEADER),
            }
        };
        let body = self.pos + len as u64;
        let compressed = header.compressed_size as u64;
        if compressed > self.end - body {
            return Err(corrupt(
                &self.what,
                format!(
                    "a page at byte {} claims {compressed} bytes, past the end of its column chunk",
                    self.pos
                ),
            ));
        }
        self.limits.check_page(header.uncompressed_size as u64)?;
        match header.kind {
            PageKind::Dictionary => {
                if header.num_values.saturating_mul(self.entry_size) > header.uncompressed_size {
                    return Err(corrupt(
                        &self.what,
                        format!(
                            "a dictionary page claims {} values in {} bytes",
                            header.num_values, header.uncompressed_size
                        ),
                    ));
                }
            }
            PageKind::DataV2 => {
                let levels = header.def_levels_len.saturating_add(header.rep_levels_len);
                if levels > header.compressed_size || levels > header.uncompressed_size {
                    return Err(corrupt(
                        &self.what,
                        "a data page's levels are longer than the page",
                    ));
                }
                if header.num_rows.unwrap_or(0) > header.num_values
                    || header.num_nulls.unwrap_or(0) > header.num_values
                {
                    return Err(corrupt(
                        &self.what,
                        "a data page claims more rows or nulls than values",
                    ));
                }
            }
            PageKind::Data | PageKind::Index => {}
        }
        Ok(Pending { header, body })
    }

    /// The next page's place in the offset index (its rows and its size, header included)
    /// when the file has one and the next page is in it: known without reading the page.
    fn located(&self) -> Option<(usize, u64)> {
        let locations = self.locations.as_ref()?;
        let k = locations.iter().position(|l| l.offset as u64 == self.pos)?;
        let first = usize::try_from(locations[k].first_row_index).ok()?;
        let next = match locations.get(k + 1) {
            Some(l) => usize::try_from(l.first_row_index).ok()?,
            None => self.rows,
        };
        let size = u64::try_from(locations[k].compressed_page_size).ok()?;
        Some((next.checked_sub(first)?, size))
    }

    /// Skip the next page unread if it is a data page of at most `most` rows: its rows. With an
    /// offset index the page is not even fetched; without one only its header is.
    pub(crate) fn skip_if_at_most(&mut self, most: usize) -> Result<Option<usize>> {
        if self.pending.is_none() && self.pos < self.end {
            if let Some((rows, size)) = self.located() {
                if rows <= most && size <= self.end - self.pos {
                    self.pos += size;
                    self.values_left = self.values_left.saturating_sub(rows);
                    return Ok(Some(rows));
                }
                return Ok(None);
            }
        }
        if self.peek()?.is_none() {
            return Ok(None);
        }
        let Some(pending) = self.pending.take() else {
            return Ok(None);
        };
        let rows = match pending.header.kind {
            PageKind::DataV2 => pending.header.num_rows,
            PageKind::Data => Some(pending.header.num_values),
            _ => None,
        };
        match rows {
            Some(rows) if rows <= most => {
                self.pos = pending.body + pending.header.compressed_size as u64;
                self.values_left = self.values_left.saturating_sub(pending.header.num_values);
                Ok(Some(rows))
            }
            _ => {
                self.pending = Some(pending);
                Ok(None)
            }
        }
    }

    /// The next dictionary or data page, decompressed; `None` at the chunk's end. Index pages
    /// and page types this reader does not know are passed over, as the format allows.
    pub(crate) fn next_page(&mut self) -> Result<Option<Page>> {
        loop {
            if self.peek()?.is_none() {
                return Ok(None);
            }
            let Some(Pending { header, body }) = self.pending.take() else {
                return Ok(None);
            };
            self.pos = body + header.compressed_size as u64;
            if matches!(header.kind, PageKind::Data | PageKind::DataV2) {
                self.values_left = self.values_left.saturating_sub(header.num_values);
            }
            if header.kind == PageKind::Index {
                continue;
            }
            let raw = self.handle.get_bytes(body, header.compressed_size)?;
            if self.releases {
                self.handle.done(self.start..self.pos);
            }
            return self.decode(header, raw).map(Some);
        }
    }

    fn decompressed(&self, raw: &Bytes, size: usize) -> Result<Bytes> {
        if self.codec == Codec::Uncompressed {
            if raw.len() != size {
                return Err(corrupt(
                    &self.what,
                    format!(
                        "an uncompressed page of {} bytes whose header says {size}",
                        raw.len()
                    ),
                ));
            }
            return Ok(raw.clone());
        }
        let mut out = Vec::new();
        decompress(self.codec, raw, size, &mut out).map_err(|e| corrupt(&self.what, e.0))?;
        Ok(Bytes::from(out))
    }

    fn decode(&self, h: PageHeader, raw: Bytes) -> Result<Page> {
        let what = &self.what;
        Ok(match h.kind {
            PageKind::Dictionary => Page::Dictionary {
                buf: self.decompressed(&raw, h.uncompressed_size)?,
                num_values: h.num_values,
                encoding: encoding(h.encoding, what)?,
            },
            PageKind::Data => Page::Data {
                buf: self.decompressed(&raw, h.uncompressed_size)?,
                num_values: h.num_values,
                encoding: encoding(h.encoding, what)?,
                def_level_encoding: encoding(h.def_level_encoding, what)?,
            },
            PageKind::DataV2 => {
                let rep = h.rep_levels_len;
                let levels = rep + h.def_levels_len;
                let packed = raw.slice(levels..);
                let size = h.uncompressed_size - levels;
                // ARROW-17100: values flagged plain but sized as if compressed are compressed.
                let compressed = h.is_compressed || packed.len() != size;
                let values = if size == 0 {
                    Bytes::new()
                } else if compressed && self.codec != Codec::Uncompressed {
                    self.decompressed(&packed, size)?
                } else if packed.len() == size {
                    packed
                } else {
                    return Err(corrupt(
                        what,
                        "an uncompressed data page whose sizes disagree",
                    ));
                };
                Page::DataV2 {
                    def_levels: raw.slice(rep..levels),
                    values,
                    num_values: h.num_values,
                    encoding: encoding(h.encoding, what)?,
                }
            }
            PageKind::Index => return Err(corrupt(what, "an index page where data was expected")),
        })
    }
}

/// The byte range of a column chunk: from its dictionary page where it has one (a
/// `dictionary_page_offset` of 0, or past the first data page, is a writer's placeholder:
/// Dremio; Arrow C++ reads it so too), else its first data page.
fn chunk_range(chunk: &ColumnChunkMetaData, what: &str) -> Result<(u64, u64)> {
    let data = u64::try_from(chunk.data_page_offset())
        .map_err(|_| corrupt(what, "a negative page offset"))?;
    let start = match chunk.dictionary_page_offset() {
        Some(d) if d > 0 && (data == 0 || (d as u64) < data) => d as u64,
        _ => data,
    };
    let len = u64::try_from(chunk.compressed_size())
        .map_err(|_| corrupt(what, "a negative column chunk size"))?;
    Ok((start, len))
}

/// What the pages of a column chunk claim, from their headers alone.
pub(crate) struct ChunkScan {
    /// Values (slots, levels included) in the data pages.
    pub(crate) values: usize,
    /// Rows in the data pages, where every page says (v2 pages).
    pub(crate) rows: Option<usize>,
    /// Decompressed bytes of the data pages.
    pub(crate) bytes: usize,
}

/// Read the page headers of a column chunk without their bodies, checking each as
/// `PageReader` does: the check run before a chunk goes to arrow-rs, whose page reader would
/// trust them. With a row selection and an offset index, the pages holding no selected row
/// (which arrow-rs will not fetch either) are passed over unread, their rows taken from the
/// index.
pub(crate) fn scan_chunk(
    handle: &Handle,
    meta: &ParquetMetaData,
    rg: usize,
    leaf: usize,
    limits: Limits,
    selection: Option<&[RowSelector]>,
) -> Result<ChunkScan> {
    let mut pages = PageReader::new(handle, meta, rg, leaf, limits)?;
    let mut values: usize = 0;
    let mut bytes: usize = 0;
    let mut rows: Option<usize> = Some(0);
    let mut row: usize = 0;
    loop {
        if let (Some(runs), Some((n, size))) = (selection, pages.located()) {
            if !selects_any(runs, row, n) && size <= pages.end - pages.pos {
                pages.pos += size;
                pages.values_left = pages.values_left.saturating_sub(n);
                values = values.saturating_add(n);
                rows = rows.map(|r| r.saturating_add(n));
                row += n;
                continue;
            }
        }
        let Some(pending) = pages.peek()? else {
            break;
        };
        let header = &pending.header;
        if matches!(header.kind, PageKind::Data | PageKind::DataV2) {
            values = values.saturating_add(header.num_values);
            bytes = bytes.saturating_add(header.uncompressed_size);
            let page_rows = match header.kind {
                PageKind::DataV2 => header.num_rows,
                _ => None,
            };
            rows = rows.zip(page_rows).map(|(a, b)| a.saturating_add(b));
            row = row.saturating_add(page_rows.unwrap_or(header.num_values));
        }
        let Some(Pending { header, body }) = pages.pending.take() else {
            break;
        };
        if matches!(header.kind, PageKind::Data | PageKind::DataV2) {
            pages.values_left = pages.values_left.saturating_sub(header.num_values);
        }
        // arrow-rs reserves a page's stated size before decompressing it: where a codec can
        // expand far more than any real page does, see that the page really holds that much.
        let suspicious = header.uncompressed_size > (1 << 20)
            && header.uncompressed_size / 64 > header.compressed_size;
        if suspicious && header.kind != PageKind::Index && pages.codec != Codec::Uncompressed {
            let raw = handle.get_bytes(body, header.compressed_size)?;
            let levels = match header.kind {
                PageKind::DataV2 => header.def_levels_len + header.rep_levels_len,
                _ => 0,
            };
            let mut out = Vec::new();
            decompress(
                pages.codec,
                &raw[levels..],
                header.uncompressed_size - levels,
                &mut out,
            )
            .map_err(|e| corrupt(&pages.what, e.0))?;
        }
        // arrow-rs would read such a page's values as if they were plain (ARROW-17100).
        if header.kind == PageKind::DataV2
            && !header.is_compressed
            && pages.codec != Codec::Uncompressed
            && header.compressed_size != header.uncompressed_size
        {
            return Err(Error::Parquet(format!(
                "{}: a data page flagged uncompressed holds compressed values (written by \
                 pyarrow 2.0, ARROW-17100); colbridge reads such pages only for numbers, \
                 strings and dictionaries",
                pages.what
            )));
        }
        pages.pos = body + header.compressed_size as u64;
    }
    Ok(ChunkScan {
        values,
        rows,
        bytes,
    })
}

/// Whether the selection keeps any of rows `first..first + n`.
fn selects_any(runs: &[RowSelector], first: usize, n: usize) -> bool {
    let mut at = 0usize;
    for run in runs {
        let end = at.saturating_add(run.row_count);
        if !run.skip && end > first && at < first.saturating_add(n) {
            return true;
        }
        if at >= first.saturating_add(n) {
            break;
        }
        at = end;
    }
    false
}
