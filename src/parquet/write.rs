//! Writing a `Table` to Parquet with arrow-rs' `ArrowWriter`: refused before the disk is
//! touched when a column cannot be written, atomic for paths, interruptible.
//!
//! - Before anything touches the disk, the table's first row is written to memory; if that
//!   fails, each column alone, so a type Parquet cannot hold (a union, on which arrow-rs
//!   panics; a month_day_nano interval) is an `UnsupportedTypeError` naming the column.
//! - A path is written through `AtomicFile`: a temporary file beside it, renamed over it once
//!   the footer is written and flushed (synced with `fsync`). An error, an exception or Ctrl-C
//!   leaves an existing file byte for byte as it was and no temporary file. A file object gets
//!   the whole encoded file in one `write` call at the end; there is no atomicity to offer.
//! - The encoding runs on a worker thread while the Python thread waits without the GIL and
//!   delivers Ctrl-C (`wait_interruptibly`, as for reads); the worker stops at its next check,
//!   made before each slice of at most [`SLICE_BYTES`] of input, so a long write ends within a
//!   slice's encoding time (milliseconds in a release build).

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, FieldRef, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use pyo3::prelude::*;

use crate::progress::Progress;

use crate::atomic_file::write_to;
use crate::chunked::PyChunkedArray;
use crate::datatype::type_name;
use crate::error::{panic_message, Error, Result};
use crate::table::PyTable;

/// Input handed to the encoder between two checks for Ctrl-C.
const SLICE_BYTES: usize = 1 << 20;

fn parse_compression(name: Option<&str>, level: Option<i32>) -> Result<Compression> {
    let bad_level = |e: parquet::errors::ParquetError| {
        Error::InvalidInput(format!("bad compression level: {e}"))
    };
    Ok(match name.map(|s| s.to_ascii_lowercase()).as_deref() {
        None | Some("none") | Some("uncompressed") => Compression::UNCOMPRESSED,
        Some("snappy") => Compression::SNAPPY,
        Some("lz4") => Compression::LZ4_RAW,
        Some("zstd") => Compression::ZSTD(
            level
                .map(ZstdLevel::try_new)
                .transpose()
                .map_err(bad_level)?
                .unwrap_or_default(),
        ),
        Some("gzip") => Compression::GZIP(
            level
                .map(|l| GzipLevel::try_new(l as u32))
                .transpose()
                .map_err(bad_level)?
                .unwrap_or_default(),
        ),
        Some("brotli") => Compression::BROTLI(
            level
                .map(|l| BrotliLevel::try_new(l as u32))
                .transpose()
                .map_err(bad_level)?
                .unwrap_or_default(),
        ),
        Some(other) => {
            return Err(Error::InvalidInput(format!(
                "unknown compression '{other}'"
            )))
        }
    })
}

fn properties(
    compression: Option<&str>,
    compression_level: Option<i32>,
    row_group_size: Option<usize>,
    write_statistics: bool,
) -> Result<WriterProperties> {
    let mut props = WriterProperties::builder()
        .set_compression(parse_compression(compression, compression_level)?);
    if let Some(n) = row_group_size {
        if n == 0 {
            return Err(Error::InvalidInput(
                "row_group_size must be positive".into(),
            ));
        }
        props = props.set_max_row_group_row_count(Some(n));
    }
    if !write_statistics {
        props = props.set_statistics_enabled(EnabledStatistics::None);
    }
    Ok(props.build())
}

/// Write `table` to `where` (a path or a binary file object); see the module documentation.
#[pyfunction]
#[allow(clippy::too_many_arguments)] // mirrors the keyword arguments of the Python API
#[pyo3(signature = (table, r#where, compression = Some("zstd".to_string()), compression_level = None, row_group_size = None, write_statistics = true, fsync = false))]
pub(crate) fn write_parquet(
    py: Python<'_>,
    table: &Bound<'_, PyTable>,
    r#where: &Bound<'_, PyAny>,
    compression: Option<String>,
    compression_level: Option<i32>,
    row_group_size: Option<usize>,
    write_statistics: bool,
    fsync: bool,
) -> PyResult<()> {
    table.borrow().live()?;
    let table = without_view_dictionaries(table.borrow().clone())?;
    let props = properties(
        compression.as_deref(),
        compression_level,
        row_group_size,
        write_statistics,
    )?;
    check_writable(&table, &props)?;
    let progress = Arc::new(Progress::default());
    write_to(
        py,
        r#where,
        "write_parquet",
        &progress,
        fsync,
        |message| Error::Parquet(format!("the Parquet writer failed: {message}")),
        &|sink| encode(&table, &props, sink, &progress),
    )
}

/// Encode every row of `table` into `sink`, in slices of about [`SLICE_BYTES`], stopping with
/// `Error::Cancelled` at the first check after `progress` is cancelled.
fn encode(
    table: &PyTable,
    props: &WriterProperties,
    sink: &mut (dyn Write + Send),
    progress: &Progress,
) -> Result<()> {
    let mut writer = ArrowWriter::try_new(sink, table.schema.clone(), Some(props.clone()))?;
    for batch in table.to_batches()? {
        for part in slices(&batch, SLICE_BYTES) {
            if progress.cancelled() {
                return Err(Error::Cancelled);
            }
            writer.write(&part)?;
        }
    }
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    writer.close()?;
    Ok(())
}

/// `batch` as zero-copy row slices of about `bytes` of input each (one slice when smaller).
fn slices(batch: &RecordBatch, bytes: usize) -> impl Iterator<Item = RecordBatch> + '_ {
    let rows = batch.num_rows();
    let size: usize = batch
        .columns()
        .iter()
        .map(|c| {
            c.to_data()
                .get_slice_memory_size()
                .unwrap_or_else(|_| c.get_buffer_memory_size())
        })
        .sum();
    let step = if size <= bytes {
        rows
    } else {
        // rows * bytes / size, in u128 so the product cannot overflow; below `rows`.
        (rows as u128 * bytes as u128 / size as u128) as usize
    }
    .max(1);
    (0..rows.max(1))
        .step_by(step)
        .map(move |start| batch.slice(start, step.min(rows - start)))
}

/// `table` with every dictionary of string or binary views (also inside lists and structs)
/// turned into a dictionary of plain strings or binary, which is what arrow-rs' writer takes
/// (it panics on the views) and what the Parquet file holds either way; the indices are kept,
/// only the dictionary values are converted.
fn without_view_dictionaries(table: PyTable) -> Result<PyTable> {
    if !table
        .schema
        .fields()
        .iter()
        .any(|f| plain_dictionaries(f.data_type()).is_some())
    {
        return Ok(table);
    }
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (field, column) in table.schema.fields().iter().zip(table.columns) {
        match plain_dictionaries(field.data_type()) {
            Some(to) => {
                let chunks = column
                    .chunks
                    .iter()
                    .map(|c| arrow_cast::cast(c, &to))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let field = Arc::new(field.as_ref().clone().with_data_type(to));
                fields.push(field.clone());
                columns.push(PyChunkedArray::try_new(chunks, field)?);
            }
            None => {
                fields.push(field.clone());
                columns.push(column);
            }
        }
    }
    let schema = Arc::new(Schema::new_with_metadata(
        fields,
        table.schema.metadata().clone(),
    ));
    PyTable::try_new(schema, columns, Some(table.num_rows))
}

/// `dt` with its dictionaries of views made dictionaries of plain strings or binary, or `None`
/// if it has none.
fn plain_dictionaries(dt: &DataType) -> Option<DataType> {
    let child = |f: &FieldRef| {
        plain_dictionaries(f.data_type()).map(|t| Arc::new(f.as_ref().clone().with_data_type(t)))
    };
    match dt {
        DataType::Dictionary(key, values) => {
            let plain = match values.as_ref() {
                DataType::Utf8View => DataType::Utf8,
                DataType::BinaryView => DataType::Binary,
                _ => return None,
            };
            Some(DataType::Dictionary(key.clone(), Box::new(plain)))
        }
        DataType::List(f) => child(f).map(DataType::List),
        DataType::LargeList(f) => child(f).map(DataType::LargeList),
        DataType::FixedSizeList(f, n) => child(f).map(|f| DataType::FixedSizeList(f, *n)),
        DataType::Struct(fields) => {
            let changed: Vec<Option<FieldRef>> = fields.iter().map(child).collect();
            if changed.iter().all(Option::is_none) {
                return None;
            }
            let fields: Vec<FieldRef> = changed
                .into_iter()
                .zip(fields.iter())
                .map(|(c, f)| c.unwrap_or_else(|| f.clone()))
                .collect();
            Some(DataType::Struct(fields.into()))
        }
        _ => None,
    }
}

/// Refuse a column `ArrowWriter` cannot write before anything touches the disk: the table's
/// first row is written to memory, and if that fails each column's alone, to name the culprit.
fn check_writable(table: &PyTable, props: &WriterProperties) -> Result<()> {
    if let Some(field) = table
        .schema
        .fields()
        .iter()
        .find(|f| has_union(f.data_type()))
    {
        // arrow-rs' writer panics on unions (`unimplemented!`): refused without asking it.
        return Err(Error::UnsupportedType(format!(
            "cannot write column '{}' of type {} to Parquet: Parquet has no union type",
            field.name(),
            type_name(field.data_type())
        )));
    }
    let Some(reason) = sample_fails(table.schema.clone(), &table.columns, props)? else {
        return Ok(());
    };
    for (field, column) in table.schema.fields().iter().zip(&table.columns) {
        let schema = Arc::new(Schema::new(vec![field.clone()]));
        if let Some(reason) = sample_fails(schema, std::slice::from_ref(column), props)? {
            return Err(Error::UnsupportedType(format!(
                "cannot write column '{}' of type {} to Parquet: {reason}",
                field.name(),
                type_name(field.data_type())
            )));
        }
    }
    Err(Error::Parquet(format!(
        "the table cannot be written to Parquet: {reason}"
    )))
}

/// Whether `dt` is or holds a union.
fn has_union(dt: &DataType) -> bool {
    match dt {
        DataType::Union(..) => true,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::Map(f, _) => has_union(f.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| has_union(f.data_type())),
        DataType::Dictionary(_, values) => has_union(values),
        DataType::RunEndEncoded(_, values) => has_union(values.data_type()),
        _ => false,
    }
}

/// Why writing the first row of `columns` (no row for an empty table) to memory fails, if it
/// does: an error or a panic of arrow-rs' writer.
fn sample_fails(
    schema: SchemaRef,
    columns: &[PyChunkedArray],
    props: &WriterProperties,
) -> Result<Option<String>> {
    let sample: Vec<ArrayRef> = columns
        .iter()
        .map(|c| match c.chunks.iter().find(|a| !a.is_empty()) {
            Some(a) => a.slice(0, 1),
            None => arrow_array::new_empty_array(c.field.data_type()),
        })
        .collect();
    let rows = sample.first().map_or(0, |a| a.len());
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    let batch = RecordBatch::try_new_with_options(schema.clone(), sample, &options)?;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(props.clone()))?;
        writer.write(&batch)?;
        writer.close().map(drop)
    }));
    Ok(match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(payload) => Some(panic_message(payload.as_ref())),
    })
}

#[cfg(test)]
mod tests {
    use arrow_array::Int64Array;

    use super::*;

    #[test]
    fn large_batches_are_cut_into_slices_of_about_the_given_size() {
        let column: ArrayRef = Arc::new(Int64Array::from_iter_values(0..1000));
        let batch = RecordBatch::try_from_iter([("x", column)]).expect("batch");
        let parts: Vec<RecordBatch> = slices(&batch, 800).collect();
        assert_eq!(parts.len(), 10);
        assert!(parts.iter().all(|p| p.num_rows() == 100));
        assert_eq!(slices(&batch, 1 << 20).count(), 1);
        let empty = batch.slice(0, 0);
        let parts: Vec<RecordBatch> = slices(&empty, 800).collect();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].num_rows(), 0);
    }
}
