//! Writing a `Table` (or any Arrow stream) to Parquet with arrow-rs' `ArrowWriter`.

use parquet::arrow::ArrowWriter;
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::{Error, Result};
use crate::table::PyTable;

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

/// Write `table` to `where` (a path or a binary file object).
#[pyfunction]
#[pyo3(signature = (table, r#where, compression = Some("zstd".to_string()), compression_level = None, row_group_size = None, write_statistics = true))]
pub(crate) fn write_parquet(
    py: Python<'_>,
    table: &Bound<'_, PyTable>,
    r#where: &Bound<'_, PyAny>,
    compression: Option<String>,
    compression_level: Option<i32>,
    row_group_size: Option<usize>,
    write_statistics: bool,
) -> PyResult<()> {
    let table = table.get().clone();
    let mut props = WriterProperties::builder().set_compression(parse_compression(
        compression.as_deref(),
        compression_level,
    )?);
    if let Some(n) = row_group_size {
        if n == 0 {
            return Err(Error::InvalidInput("row_group_size must be positive".into()).into());
        }
        props = props.set_max_row_group_row_count(Some(n));
    }
    if !write_statistics {
        props = props.set_statistics_enabled(parquet::file::properties::EnabledStatistics::None);
    }
    let props = props.build();
    let encode = |sink: &mut (dyn std::io::Write + Send)| -> Result<()> {
        let mut writer = ArrowWriter::try_new(sink, table.schema.clone(), Some(props.clone()))?;
        for batch in table.to_batches()? {
            writer.write(&batch)?;
        }
        writer.close()?;
        Ok(())
    };
    if r#where.hasattr("write")? && !r#where.hasattr("__fspath__")? {
        let mut out: Vec<u8> = Vec::new();
        py.detach(|| encode(&mut out))?;
        r#where.call_method1("write", (PyBytes::new(py, &out),))?;
        return Ok(());
    }
    let path: std::path::PathBuf = py
        .import("os")?
        .call_method1("fspath", (r#where,))?
        .extract()?;
    py.detach(|| {
        let file = std::fs::File::create(&path)?;
        let mut buffered = std::io::BufWriter::new(file);
        encode(&mut buffered)?;
        std::io::Write::flush(&mut buffered)?;
        Ok::<(), Error>(())
    })?;
    Ok(())
}
