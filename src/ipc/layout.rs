//! Which field nodes and buffers of a record batch belong to which column, what each buffer
//! holds, and whether the batch's own numbers are consistent with its body, before arrow-ipc
//! reads any of it.
//!
//! A record batch message lists field nodes (length, null count) and buffers (offset, length
//! in the body) in a depth-first walk of the schema; arrow-ipc follows the same walk trusting
//! every number (it panics on a missing buffer or variadic count, slices past a body's end, and
//! reserves a compressed buffer's stated size). The walk here checks, for every node and
//! buffer: lengths and null counts non-negative and consistent, every buffer inside the body,
//! each buffer at least as long as its column's length requires (validity bitmaps, values,
//! offsets, views, union type ids), the exact number of variadic buffer counts, and each
//! top-level column as long as the batch. What it cannot check without reading the values
//! (offsets, UTF-8, dictionary indices, union ids, run ends) is validated by arrow-ipc as each
//! array is built.
//!
//! It also records what the decoder needs to know per column: whether a buffer is compressed
//! (then decompressed into memory), whether one is not aligned for its type where it lies
//! (then copied), and how each buffer is byte-swapped when the file is big-endian.

use std::ops::Range;

use arrow_data::BufferSpec;
use arrow_ipc as fb;
use arrow_schema::{DataType, Field, IntervalUnit, UnionMode};

/// How one buffer's bytes turn from big-endian into little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Swap {
    /// Bytes or bits: nothing to swap.
    None,
    /// Every element is one integer of this many bytes.
    Width(usize),
    /// Interval(DayTime): two int32 per element.
    DayTime,
    /// Interval(MonthDayNano): int32, int32, int64 per element.
    MonthDayNano,
    /// 16-byte views: the length, and for strings longer than 12 bytes the buffer index and
    /// offset (the inline bytes and the prefix stay as they are).
    Views,
}

/// One buffer of a column as the message lists it.
#[derive(Debug, Clone)]
pub(crate) struct BufferUse {
    /// Its position in the message's buffer list.
    pub(crate) index: usize,
    /// The bytes the column's length requires (validated after decompression).
    pub(crate) min_len: usize,
    /// Its length must be a multiple of this (the element size of a typed buffer): arrow-rs
    /// views such a buffer as a slice of elements and panics on a ragged end.
    pub(crate) unit: usize,
    pub(crate) swap: Swap,
}

/// The nodes, buffers and variadic counts of one top-level column.
#[derive(Debug, Clone)]
pub(crate) struct ColumnLayout {
    pub(crate) nodes: Range<usize>,
    pub(crate) buffers: Vec<BufferUse>,
    pub(crate) variadic: Range<usize>,
    /// Some buffer is compressed (not stored raw in a compressed batch).
    pub(crate) compressed: bool,
    /// Some buffer needs byte swapping (big-endian files).
    pub(crate) swapped: bool,
    /// Some buffer is not aligned for its type where it lies in the file.
    pub(crate) misaligned: bool,
}

impl ColumnLayout {
    /// Whether the column must be decompressed or swapped into memory before decoding.
    pub(crate) fn needs_rewrite(&self) -> bool {
        self.compressed || self.swapped
    }
}

/// The batch's columns, in schema order.
pub(crate) struct BatchLayout {
    pub(crate) columns: Vec<ColumnLayout>,
}

/// Walk `batch` against the schema's `fields`; `body` is the batch's body (`address` where it
/// lies in memory, for alignment), `compressed` whether the batch declares a codec and
/// `big_endian` whether buffers are to be swapped. The error says what is inconsistent.
pub(crate) fn plan(
    batch: &fb::RecordBatch<'_>,
    fields: &[&Field],
    body: &[u8],
    compressed: bool,
    big_endian: bool,
    v4_unions: bool,
) -> Result<BatchLayout, String> {
    let length = usize::try_from(batch.length())
        .map_err(|_| format!("a record batch of length {}", batch.length()))?;
    let nodes = batch
        .nodes()
        .ok_or("a record batch without its field nodes")?;
    let buffers = batch
        .buffers()
        .ok_or("a record batch without its buffer list")?;
    let mut walker = Walker {
        nodes,
        buffers,
        variadic: batch.variadicBufferCounts(),
        next_node: 0,
        next_buffer: 0,
        next_variadic: 0,
        body,
        compressed,
        big_endian,
        v4_unions,
        column: None,
    };
    let mut columns = Vec::with_capacity(fields.len());
    for field in fields {
        let (nodes, variadic) = (walker.next_node, walker.next_variadic);
        walker.column = Some(ColumnLayout {
            nodes: 0..0,
            buffers: Vec::new(),
            variadic: 0..0,
            compressed: false,
            swapped: false,
            misaligned: false,
        });
        let top = walker.walk(field, 0)?;
        if top != length {
            return Err(format!(
                "column '{}' has {top} rows in a record batch of {length}",
                field.name()
            ));
        }
        let mut column = walker.column.take().ok_or("lost the column being walked")?;
        column.nodes = nodes..walker.next_node;
        column.variadic = variadic..walker.next_variadic;
        columns.push(column);
    }
    let counts = walker.variadic.map_or(0, |v| v.len());
    if walker.next_variadic != counts {
        return Err(format!(
            "the record batch states {counts} variadic buffer counts for {} view columns",
            walker.next_variadic
        ));
    }
    Ok(BatchLayout { columns })
}

struct Walker<'a, 'b> {
    nodes: flatbuffers::Vector<'a, fb::FieldNode>,
    buffers: flatbuffers::Vector<'a, fb::Buffer>,
    variadic: Option<flatbuffers::Vector<'a, i64>>,
    next_node: usize,
    next_buffer: usize,
    next_variadic: usize,
    body: &'b [u8],
    compressed: bool,
    big_endian: bool,
    /// Metadata version 4: unions have a validity buffer.
    v4_unions: bool,
    column: Option<ColumnLayout>,
}

/// Bytes of a bitmap of `bits` bits.
fn bitmap_len(bits: usize) -> usize {
    bits.div_ceil(8)
}

fn times(len: usize, width: usize) -> Result<usize, String> {
    len.checked_mul(width)
        .ok_or_else(|| format!("{len} values of {width} bytes overflow"))
}

impl Walker<'_, '_> {
    /// The next node: (length, null count).
    fn node(&mut self, field: &Field) -> Result<(usize, usize), String> {
        if self.next_node >= self.nodes.len() {
            return Err(format!(
                "the record batch has too few field nodes for column '{}'",
                field.name()
            ));
        }
        let node = self.nodes.get(self.next_node);
        self.next_node += 1;
        let len = usize::try_from(node.length()).ok();
        let nulls = usize::try_from(node.null_count()).ok();
        match (len, nulls) {
            (Some(len), Some(nulls)) if nulls <= len => Ok((len, nulls)),
            _ => Err(format!(
                "field '{}' has a node of length {} with {} nulls",
                field.name(),
                node.length(),
                node.null_count()
            )),
        }
    }

    /// The next buffer, which must hold `min_len` bytes, a multiple of `unit`, aligned to
    /// `align` for `field`.
    fn buffer(
        &mut self,
        field: &Field,
        min_len: usize,
        (align, unit): (usize, usize),
        swap: Swap,
    ) -> Result<(), String> {
        if self.next_buffer >= self.buffers.len() {
            return Err(format!(
                "the record batch has too few buffers for column '{}'",
                field.name()
            ));
        }
        let index = self.next_buffer;
        let b = self.buffers.get(index);
        self.next_buffer += 1;
        let span = usize::try_from(b.offset())
            .ok()
            .zip(usize::try_from(b.length()).ok())
            .and_then(|(o, l)| Some((o, l, o.checked_add(l)?)))
            .filter(|&(_, _, end)| end <= self.body.len());
        let Some((offset, length, _)) = span else {
            return Err(format!(
                "a buffer of field '{}' (offset {}, length {}) lies outside the body's {} bytes",
                field.name(),
                b.offset(),
                b.length(),
                self.body.len()
            ));
        };
        // Where the bytes the decoder would use start, and how many there are, when they can be
        // used in place: a raw buffer, or one stored uncompressed (length -1) in a compressed
        // batch.
        let stored = if !self.compressed || length == 0 {
            Some((offset, length))
        } else {
            if length < 8 {
                return Err(format!(
                    "a compressed buffer of field '{}' is {length} bytes, shorter than its \
                     length prefix",
                    field.name()
                ));
            }
            let mut prefix = [0u8; 8];
            prefix.copy_from_slice(&self.body[offset..offset + 8]);
            match i64::from_le_bytes(prefix) {
                -1 => Some((offset + 8, length - 8)),
                n if n >= 0 => None,
                n => {
                    return Err(format!(
                        "a compressed buffer of field '{}' states {n} bytes",
                        field.name()
                    ))
                }
            }
        };
        let column = self.column.as_mut().ok_or("no column being walked")?;
        match stored {
            Some((start, len)) => {
                if len < min_len {
                    return Err(format!(
                        "a buffer of field '{}' holds {len} bytes where its length needs {min_len}",
                        field.name()
                    ));
                }
                if !len.is_multiple_of(unit) {
                    return Err(format!(
                        "a buffer of field '{}' holds {len} bytes, not a whole number of its \
                         {unit}-byte values",
                        field.name()
                    ));
                }
                let address = self.body.as_ptr() as usize + start;
                if len > 0 && align > 1 && !address.is_multiple_of(align) {
                    column.misaligned = true;
                }
            }
            None => column.compressed = true,
        }
        let swap = if self.big_endian { swap } else { Swap::None };
        column.swapped |= swap != Swap::None;
        column.buffers.push(BufferUse {
            index,
            min_len,
            unit,
            swap,
        });
        Ok(())
    }

    fn validity(&mut self, field: &Field, len: usize, nulls: usize) -> Result<(), String> {
        let min = if nulls > 0 { bitmap_len(len) } else { 0 };
        self.buffer(field, min, (1, 1), Swap::None)
    }

    /// An offsets (or list-view sizes) buffer of `count` integers of `width` bytes.
    fn integers(&mut self, field: &Field, count: usize, width: usize) -> Result<(), String> {
        self.buffer(
            field,
            times(count, width)?,
            (width, width),
            Swap::Width(width),
        )
    }

    /// Walk one field (and its children); returns the length of its node.
    fn walk(&mut self, field: &Field, depth: usize) -> Result<usize, String> {
        if depth > 64 {
            return Err(format!("field '{}' is nested too deeply", field.name()));
        }
        let dt = field.data_type();
        let (len, nulls) = self.node(field)?;
        match dt {
            DataType::Null => {}
            DataType::Boolean => {
                self.validity(field, len, nulls)?;
                self.buffer(field, bitmap_len(len), (1, 1), Swap::None)?;
            }
            DataType::Utf8 | DataType::Binary | DataType::LargeUtf8 | DataType::LargeBinary => {
                let width = match dt {
                    DataType::Utf8 | DataType::Binary => 4,
                    _ => 8,
                };
                self.validity(field, len, nulls)?;
                let offsets = if len > 0 { len + 1 } else { 0 };
                self.integers(field, offsets, width)?;
                self.buffer(field, 0, (1, 1), Swap::None)?;
            }
            DataType::Utf8View | DataType::BinaryView => {
                let count = self
                    .variadic
                    .filter(|v| self.next_variadic < v.len())
                    .map(|v| v.get(self.next_variadic))
                    .ok_or_else(|| {
                        format!(
                            "no variadic buffer count for view column '{}'",
                            field.name()
                        )
                    })?;
                self.next_variadic += 1;
                let count = usize::try_from(count)
                    .ok()
                    .filter(|&n| n <= self.buffers.len().saturating_sub(self.next_buffer))
                    .ok_or_else(|| {
                        format!(
                            "field '{}' states {count} data buffers, more than the batch has",
                            field.name()
                        )
                    })?;
                self.validity(field, len, nulls)?;
                self.buffer(field, times(len, 16)?, (16, 16), Swap::Views)?;
                for _ in 0..count {
                    self.buffer(field, 0, (1, 1), Swap::None)?;
                }
            }
            DataType::List(child) | DataType::Map(child, _) | DataType::LargeList(child) => {
                let width = if matches!(dt, DataType::LargeList(_)) {
                    8
                } else {
                    4
                };
                self.validity(field, len, nulls)?;
                let offsets = if len > 0 { len + 1 } else { 0 };
                self.integers(field, offsets, width)?;
                self.walk(child, depth + 1)?;
            }
            DataType::ListView(child) | DataType::LargeListView(child) => {
                let width = if matches!(dt, DataType::LargeListView(_)) {
                    8
                } else {
                    4
                };
                self.validity(field, len, nulls)?;
                self.integers(field, len, width)?;
                self.integers(field, len, width)?;
                self.walk(child, depth + 1)?;
            }
            DataType::FixedSizeList(child, _) => {
                self.validity(field, len, nulls)?;
                self.walk(child, depth + 1)?;
            }
            DataType::Struct(children) => {
                self.validity(field, len, nulls)?;
                for child in children {
                    self.walk(child, depth + 1)?;
                }
            }
            DataType::RunEndEncoded(run_ends, values) => {
                self.walk(run_ends, depth + 1)?;
                self.walk(values, depth + 1)?;
            }
            DataType::Dictionary(key, _) => {
                let width = key
                    .primitive_width()
                    .ok_or("a dictionary with a non-integer key")?;
                self.validity(field, len, nulls)?;
                self.buffer(
                    field,
                    times(len, width)?,
                    (width, width),
                    Swap::Width(width),
                )?;
            }
            DataType::Union(children, mode) => {
                if self.v4_unions {
                    self.buffer(field, 0, (1, 1), Swap::None)?;
                }
                self.buffer(field, len, (1, 1), Swap::None)?;
                if *mode == UnionMode::Dense {
                    self.integers(field, len, 4)?;
                }
                for (_, child) in children.iter() {
                    self.walk(child, depth + 1)?;
                }
            }
            _ => {
                let spec = arrow_data::layout(dt);
                let Some(&BufferSpec::FixedWidth {
                    byte_width,
                    alignment,
                }) = spec.buffers.first()
                else {
                    return Err(format!(
                        "field '{}' has a type colbridge cannot read from IPC",
                        field.name()
                    ));
                };
                let swap = match dt {
                    DataType::FixedSizeBinary(_) => Swap::None,
                    DataType::Interval(IntervalUnit::DayTime) => Swap::DayTime,
                    DataType::Interval(IntervalUnit::MonthDayNano) => Swap::MonthDayNano,
                    _ if byte_width > 1 => Swap::Width(byte_width),
                    _ => Swap::None,
                };
                self.validity(field, len, nulls)?;
                let unit = match dt {
                    DataType::FixedSizeBinary(_) => 1,
                    _ => byte_width.max(1),
                };
                self.buffer(field, times(len, byte_width)?, (alignment, unit), swap)?;
            }
        }
        Ok(len)
    }
}
