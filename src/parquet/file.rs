//! `ParquetFile`: the schema, footer metadata (row groups, column chunks, codecs, encodings,
//! statistics, sizes) and batch streaming of one Parquet file.

use parquet::arrow::arrow_reader::ArrowReaderMetadata;
use parquet::basic::{Compression, ConvertedType, LogicalType, TimeUnit};
use parquet::file::metadata::{ColumnChunkMetaData, RowGroupMetaData};
use parquet::file::statistics::Statistics;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use pyo3::IntoPyObjectExt;

use crate::adapters::Adapter;
use crate::parquet::filter::Filter;
use crate::parquet::limits::Limits;
use crate::parquet::metadata;
use crate::parquet::plan::{resolve_columns, resolve_row_groups};
use crate::parquet::source::Source;
use crate::parquet::stream::PyBatchReader;
use crate::schema::PySchema;
use crate::table::PyTable;

/// An open Parquet file: inspect it, read it whole, or stream it in batches.
///
/// Example:
///     >>> pf = colbridge.ParquetFile("data.parquet")
///     >>> pf.num_rows, pf.metadata["num_row_groups"]
///     (1000, 1)
#[pyclass(name = "ParquetFile", module = "colbridge", frozen)]
pub(crate) struct PyParquetFile {
    source: Source,
    meta: ArrowReaderMetadata,
    limits: Limits,
}

fn stat_value<'py>(
    py: Python<'py>,
    bytes: Option<&[u8]>,
    stats: &Statistics,
) -> PyResult<Bound<'py, PyAny>> {
    let Some(b) = bytes else {
        return Ok(py.None().into_bound(py));
    };
    Ok(match stats {
        Statistics::Boolean(_) => (b.first().copied().unwrap_or(0) != 0).into_bound_py_any(py)?,
        Statistics::Int32(_) if b.len() == 4 => {
            i32::from_le_bytes([b[0], b[1], b[2], b[3]]).into_bound_py_any(py)?
        }
        Statistics::Int64(_) if b.len() == 8 => {
            i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
                .into_bound_py_any(py)?
        }
        Statistics::Float(_) if b.len() == 4 => {
            f32::from_le_bytes([b[0], b[1], b[2], b[3]]).into_bound_py_any(py)?
        }
        Statistics::Double(_) if b.len() == 8 => {
            f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
                .into_bound_py_any(py)?
        }
        _ => match std::str::from_utf8(b) {
            Ok(s) => s.into_bound_py_any(py)?,
            Err(_) => PyBytes::new(py, b).into_any(),
        },
    })
}

/// The Parquet codec name, without the writer's level (which the file does not record).
fn codec_name(c: Compression) -> &'static str {
    match c {
        Compression::UNCOMPRESSED => "UNCOMPRESSED",
        Compression::SNAPPY => "SNAPPY",
        Compression::GZIP(_) => "GZIP",
        Compression::LZO => "LZO",
        Compression::BROTLI(_) => "BROTLI",
        Compression::LZ4 => "LZ4",
        Compression::ZSTD(_) => "ZSTD",
        Compression::LZ4_RAW => "LZ4_RAW",
    }
}

/// A column's Parquet logical type as parquet-tools names it (`TIMESTAMP(MILLIS, UTC)`, `STRING`,
/// `DECIMAL(9, 2)`), and the unit its integers count for a time or timestamp: statistics are
/// in that stored unit, which need not be the unit of the Arrow type the column decodes to.
fn logical_type(c: &ColumnChunkMetaData) -> (Option<String>, Option<&'static str>) {
    let unit_name = |u: &TimeUnit| match u {
        TimeUnit::MILLIS => "ms",
        TimeUnit::MICROS => "us",
        TimeUnit::NANOS => "ns",
    };
    let descr = c.column_descr();
    match descr.logical_type_ref() {
        Some(LogicalType::Timestamp(t)) => (
            Some(format!(
                "TIMESTAMP({:?}, {})",
                t.unit,
                if t.is_adjusted_to_u_t_c {
                    "UTC"
                } else {
                    "local"
                }
            )),
            Some(unit_name(&t.unit)),
        ),
        Some(LogicalType::Time(t)) => (
            Some(format!(
                "TIME({:?}, {})",
                t.unit,
                if t.is_adjusted_to_u_t_c {
                    "UTC"
                } else {
                    "local"
                }
            )),
            Some(unit_name(&t.unit)),
        ),
        Some(LogicalType::Decimal(d)) => {
            (Some(format!("DECIMAL({}, {})", d.precision, d.scale)), None)
        }
        Some(LogicalType::Integer(i)) => (
            Some(format!(
                "INT({}, {})",
                i.bit_width,
                if i.is_signed { "signed" } else { "unsigned" }
            )),
            None,
        ),
        Some(other) => (Some(format!("{other:?}").to_uppercase()), None),
        None => match descr.converted_type() {
            ConvertedType::NONE => (None, None),
            legacy => {
                let unit = match legacy {
                    ConvertedType::TIMESTAMP_MILLIS | ConvertedType::TIME_MILLIS => Some("ms"),
                    ConvertedType::TIMESTAMP_MICROS | ConvertedType::TIME_MICROS => Some("us"),
                    _ => None,
                };
                (Some(format!("{legacy}")), unit)
            }
        },
    }
}

fn column_dict<'py>(py: Python<'py>, c: &ColumnChunkMetaData) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("path", c.column_path().string())?;
    d.set_item("physical_type", c.column_type().to_string())?;
    let (logical, time_unit) = logical_type(c);
    d.set_item("logical_type", logical)?;
    d.set_item("time_unit", time_unit)?;
    d.set_item("compression", codec_name(c.compression()))?;
    let encodings: Vec<String> = c.encodings().map(|e| e.to_string()).collect();
    d.set_item("encodings", encodings)?;
    d.set_item("num_values", c.num_values())?;
    d.set_item("total_compressed_size", c.compressed_size())?;
    d.set_item("total_uncompressed_size", c.uncompressed_size())?;
    d.set_item("data_page_offset", c.data_page_offset())?;
    d.set_item("dictionary_page_offset", c.dictionary_page_offset())?;
    d.set_item(
        "has_page_index",
        c.column_index_offset().is_some() && c.offset_index_offset().is_some(),
    )?;
    match c.statistics() {
        Some(s) => {
            let st = PyDict::new(py);
            st.set_item("min", stat_value(py, s.min_bytes_opt(), s)?)?;
            st.set_item("max", stat_value(py, s.max_bytes_opt(), s)?)?;
            st.set_item("null_count", s.null_count_opt())?;
            st.set_item("distinct_count", s.distinct_count_opt())?;
            d.set_item("statistics", st)?;
        }
        None => d.set_item("statistics", py.None())?,
    }
    Ok(d)
}

fn row_group_dict<'py>(py: Python<'py>, rg: &RowGroupMetaData) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("num_rows", rg.num_rows())?;
    d.set_item("total_byte_size", rg.total_byte_size())?;
    d.set_item("compressed_size", rg.compressed_size())?;
    let cols = PyList::empty(py);
    for c in rg.columns() {
        cols.append(column_dict(py, c)?)?;
    }
    d.set_item("columns", cols)?;
    Ok(d)
}

#[pymethods]
impl PyParquetFile {
    #[new]
    #[pyo3(signature = (source, *, max_footer_bytes = None, max_page_bytes = None, max_decoded_bytes = None, storage_options = None))]
    fn py_new(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        max_footer_bytes: Option<u64>,
        max_page_bytes: Option<u64>,
        max_decoded_bytes: Option<u64>,
        storage_options: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        // A `file://` URL is its path, a remote URL is opened with `storage_options`; a directory
        // or an unknown scheme is refused with a message pointing at datasets
        // (`colbridge._sources.single_file`).
        let named = source.is_instance_of::<pyo3::types::PyString>()
            || source.hasattr("__fspath__")?
            || storage_options.is_some();
        let source = match named {
            true => {
                Source::from_py(&Adapter::SingleFile.call(py, (source, storage_options), None)?)?
            }
            false => Source::from_py(source)?,
        };
        let limits = Limits::new(max_footer_bytes, max_page_bytes, max_decoded_bytes);
        let meta = {
            let s = source.clone();
            py.detach(move || metadata::load_metadata(&s, &limits))?
        };
        Ok(Self {
            source,
            meta,
            limits,
        })
    }

    /// The Arrow schema the file decodes to.
    #[getter]
    fn schema(&self) -> PySchema {
        PySchema(self.meta.schema().clone())
    }

    /// Number of rows, from the footer.
    #[getter]
    fn num_rows(&self) -> i64 {
        self.meta.metadata().file_metadata().num_rows()
    }

    /// Number of row groups.
    #[getter]
    fn num_row_groups(&self) -> usize {
        self.meta.metadata().num_row_groups()
    }

    /// The footer as a dict: created_by, version, num_rows, key_value_metadata, and per row
    /// group its size and column chunks (physical and logical type, the unit a time or
    /// timestamp is stored in, codec, encodings, statistics as stored, sizes).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let md = self.meta.metadata();
        let fm = md.file_metadata();
        let d = PyDict::new(py);
        d.set_item("created_by", fm.created_by())?;
        d.set_item("version", fm.version())?;
        d.set_item("num_rows", fm.num_rows())?;
        d.set_item("num_columns", fm.schema_descr().num_columns())?;
        d.set_item("num_row_groups", md.num_row_groups())?;
        let kv = PyDict::new(py);
        for entry in fm.key_value_metadata().into_iter().flatten() {
            kv.set_item(&entry.key, entry.value.as_deref())?;
        }
        d.set_item("key_value_metadata", kv)?;
        let groups = PyList::empty(py);
        for rg in md.row_groups() {
            groups.append(row_group_dict(py, rg)?)?;
        }
        d.set_item("row_groups", groups)?;
        Ok(d)
    }

    /// Read the file (or some columns / row groups, optionally filtered) into a `Table`.
    ///
    /// Example:
    ///     >>> colbridge.ParquetFile("data.parquet").read(columns=["x"], row_groups=[0])
    ///     colbridge.Table (1000 rows x 1 columns)
    ///     x: int64
    ///       [0, 1, 2, 3, 4, ...]
    #[pyo3(signature = (columns = None, row_groups = None, filters = None, use_threads = true, on_progress = None))]
    fn read(
        &self,
        py: Python<'_>,
        columns: Option<&Bound<'_, PyAny>>,
        row_groups: Option<Vec<usize>>,
        filters: Option<&Bound<'_, PyAny>>,
        use_threads: bool,
        on_progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTable> {
        let columns = column_names(columns)?;
        let options = crate::parquet::read::ReadOptions {
            columns,
            row_groups,
            use_threads,
            limits: self.limits,
            ..Default::default()
        };
        let decoded =
            crate::parquet::read_with(py, self.source.clone(), options, filters, on_progress)?;
        Ok(crate::parquet::into_table(decoded, None)?)
    }

    /// The row groups (of `row_groups`, default all) whose statistics do not rule `filters`
    /// out: those a filtered read decodes. Reads nothing but the footer already loaded.
    ///
    /// Example:
    ///     >>> pf = colbridge.ParquetFile("data.parquet")
    ///     >>> pf.filter_row_groups([("x", ">", 3)]), pf.filter_row_groups([("x", ">", 100)])
    ///     ([0], [])
    #[pyo3(signature = (filters, row_groups = None))]
    fn filter_row_groups(
        &self,
        filters: &Bound<'_, PyAny>,
        row_groups: Option<Vec<usize>>,
    ) -> PyResult<Vec<usize>> {
        let rgs = resolve_row_groups(&self.meta, &row_groups)?;
        if filters.is_none() {
            return Ok(rgs);
        }
        let filter = Filter::from_py(filters, self.meta.schema())?;
        Ok(filter.prune_row_groups(
            &rgs,
            self.meta.schema(),
            self.meta.parquet_schema(),
            self.meta.metadata(),
        )?)
    }

    /// Stream the file in record batches: a reader that implements `__arrow_c_stream__`
    /// (for Polars, DuckDB, pyarrow) and iterates as `Table` objects of one batch each.
    ///
    /// Example:
    ///     >>> for batch in colbridge.ParquetFile("data.parquet").iter_batches(batch_size=400):
    ///     ...     print(batch.num_rows)
    ///     400
    ///     400
    ///     200
    #[pyo3(signature = (batch_size = 65536, columns = None, row_groups = None))]
    fn iter_batches(
        &self,
        py: Python<'_>,
        batch_size: usize,
        columns: Option<&Bound<'_, PyAny>>,
        row_groups: Option<Vec<usize>>,
    ) -> PyResult<PyBatchReader> {
        let columns = column_names(columns)?;
        let roots = resolve_columns(self.meta.schema(), &columns)?;
        let rgs = resolve_row_groups(&self.meta, &row_groups)?;
        // Opening reads the chunks' first page headers: I/O, without the GIL.
        Ok(py.detach(|| {
            PyBatchReader::open(
                &self.source,
                &self.meta,
                roots,
                rgs,
                batch_size.max(1),
                self.limits,
            )
        })?)
    }

    fn _repr_html_<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        crate::adapters::Adapter::ParquetFileHtml.call(slf.py(), (slf,), None)
    }

    fn __repr__(&self) -> String {
        format!(
            "colbridge.ParquetFile({}: {} rows, {} row groups, {} columns)",
            self.source.describe(),
            self.num_rows(),
            self.num_row_groups(),
            self.meta.schema().fields().len()
        )
    }
}

/// `columns` as a list of names; a string is refused as pandas refuses it (a string is a
/// sequence of one-letter names, never what was meant).
fn column_names(columns: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<String>>> {
    let Some(columns) = columns.filter(|c| !c.is_none()) else {
        return Ok(None);
    };
    if let Ok(name) = columns.cast::<pyo3::types::PyString>() {
        return Err(crate::error::Error::InvalidInput(format!(
            "columns: expected a list of column names, got the string {0} (use columns=[{0}])",
            name.repr()?
        ))
        .into());
    }
    columns.extract().map(Some).map_err(|_| {
        crate::error::Error::InvalidInput(format!(
            "columns: expected a list of column names, got {}",
            columns
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
        .into()
    })
}
