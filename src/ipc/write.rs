//! Writing a `Table` as an Arrow IPC file (Feather v2) or stream with arrow-ipc's writers:
//! buffers 64-byte aligned and, by default, uncompressed, so that the file can be read back
//! memory-mapped without a copy. A path is replaced atomically (`AtomicFile`); a file object
//! gets the whole file in one `write` call. The encoding runs without the GIL on a worker
//! thread, and Ctrl-C stops it between record batches (the parquet writer's
//! `wait_interruptibly`), leaving the destination untouched.

use std::io::Write;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::RecordBatch;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions, StreamWriter};
use arrow_ipc::{CompressionType, MetadataVersion};
use pyo3::prelude::*;

use crate::atomic_file::write_to;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::table::PyTable;

/// The writer options for `compression` ("lz4", "zstd" or none) and `level` (zstd only).
fn options(compression: Option<&str>, level: Option<i32>) -> Result<IpcWriteOptions> {
    let codec = match compression.map(str::to_ascii_lowercase).as_deref() {
        None | Some("uncompressed") | Some("none") => None,
        Some("lz4") | Some("lz4_frame") => Some(CompressionType::LZ4_FRAME),
        Some("zstd") => Some(CompressionType::ZSTD),
        Some(other) => {
            return Err(Error::InvalidInput(format!(
                "unknown IPC compression '{other}' (expected None, 'lz4' or 'zstd')"
            )))
        }
    };
    if level.is_some() && codec != Some(CompressionType::ZSTD) {
        return Err(Error::InvalidInput(
            "compression_level is only supported with compression='zstd'".into(),
        ));
    }
    let bad = |e: arrow_schema::ArrowError| Error::InvalidInput(e.to_string());
    IpcWriteOptions::try_new(64, false, MetadataVersion::V5)
        .and_then(|o| o.try_with_compression(codec))
        .and_then(|o| o.try_with_compression_level(level))
        .map_err(bad)
}

/// Write `table` to `where` (a path or a binary file object) in the IPC `format` ("file" or
/// "stream"); see the module documentation.
#[pyfunction]
#[pyo3(signature = (table, r#where, compression = None, compression_level = None, format = "file", fsync = false))]
pub(crate) fn write_ipc(
    py: Python<'_>,
    table: &Bound<'_, PyTable>,
    r#where: &Bound<'_, PyAny>,
    compression: Option<String>,
    compression_level: Option<i32>,
    format: &str,
    fsync: bool,
) -> PyResult<()> {
    table.borrow().live()?;
    let options = options(compression.as_deref(), compression_level)?;
    let stream = match format {
        "file" | "feather" => false,
        "stream" => true,
        other => {
            return Err(Error::InvalidInput(format!(
                "format must be 'file' or 'stream', not '{other}'"
            ))
            .into())
        }
    };
    let table = table.borrow().clone();
    let progress = Arc::new(Progress::default());
    write_to(
        py,
        r#where,
        "write_ipc",
        &progress,
        fsync,
        |message| Error::InvalidInput(format!("the IPC writer failed: {message}")),
        &|sink| encode(&table, &options, stream, sink, &progress),
    )
}

/// The record batches to write: the table's own, except that a table with a dictionary column
/// whose chunks have different dictionaries (which the file format cannot replace) is written
/// as one batch.
fn batches(table: &PyTable) -> Result<Vec<RecordBatch>> {
    let split_dictionary = table.columns.iter().any(|c| {
        let dictionaries: Vec<_> = c
            .chunks
            .iter()
            .filter_map(|chunk| chunk.as_any_dictionary_opt())
            .map(|d| d.values().to_data())
            .collect();
        dictionaries.windows(2).any(|w| !w[0].ptr_eq(&w[1]))
    });
    if !split_dictionary {
        return table.to_batches();
    }
    let columns = table
        .columns
        .iter()
        .map(|c| c.combined())
        .collect::<Result<Vec<_>>>()?;
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(table.num_rows));
    Ok(vec![RecordBatch::try_new_with_options(
        table.schema.clone(),
        columns,
        &options,
    )?])
}

fn encode(
    table: &PyTable,
    options: &IpcWriteOptions,
    stream: bool,
    sink: &mut (dyn Write + Send),
    progress: &Progress,
) -> Result<()> {
    let schema = table.schema.as_ref();
    let batches = batches(table)?;
    let check = || {
        if progress.cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    };
    if stream {
        let mut writer = StreamWriter::try_new_with_options(sink, schema, options.clone())?;
        for batch in &batches {
            check()?;
            writer.write(batch)?;
        }
        check()?;
        writer.finish()?;
    } else {
        let mut writer = FileWriter::try_new_with_options(sink, schema, options.clone())?;
        for batch in &batches {
            check()?;
            writer.write(batch)?;
        }
        check()?;
        writer.finish()?;
    }
    Ok(())
}
