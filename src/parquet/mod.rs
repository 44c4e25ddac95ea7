//! Parquet: reading, file inspection, batch streaming and writing. The Python entry points
//! (`read_parquet`, `register`) live here; the layers are in the submodules, bottom up:
//! - `source` (file handles; progress and cancellation are `crate::progress`), `parallel` (the
//!   work queue and the panic guard), `limits` (how large a footer, a page and a read may be);
//! - `thrift` (the footer and page headers, every count checked), `metadata` (the footer, the
//!   `ARROW:schema` hint), `filter` (DNF filters);
//! - `pages` (a chunk's pages, each checked before it is fetched) and `compression` (pages
//!   decompressed to exactly their stated size);
//! - `decode/` (colbridge's own page decoder) and `arrow_rs/` (what arrow-rs decodes, assembled
//!   exactly), sharing `byte_dictionary`;
//! - `plan` (columns, row groups, the filter's row selection), `read` (one task per column),
//!   `block` (the numeric columns into one 2-D block, `read_numpy`);
//! - `file` (`ParquetFile`), `stream` (batches, C stream), `write`, `ranges` (the byte ranges
//!   a read plans, for object storage), `fuzz` (the fuzz targets' Parquet side).

mod arrow_rs;
mod block;
mod byte_dictionary;
mod compression;
mod decode;
mod file;
mod filter;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod fuzz;
mod limits;
mod metadata;
mod pages;
mod parallel;
mod plan;
pub(crate) mod ranges;
mod read;
mod source;
mod stream;
mod thrift;
mod write;

use std::sync::Arc;

use arrow_array::ArrayRef;
use parquet::arrow::arrow_reader::ArrowReaderMetadata;
use pyo3::prelude::*;

use crate::array::PyArray;
use crate::chunked::PyChunkedArray;
use crate::table::PyTable;

use self::filter::Filter;
use self::limits::Limits;
use self::read::{Decoded, ReadOptions};
use self::source::Source;
use crate::progress::{wait_interruptibly, Progress};

/// Split each column into chunks of `batch_size` rows (zero-copy slices).
fn into_table(decoded: Decoded, batch_size: Option<usize>) -> crate::error::Result<PyTable> {
    let columns = decoded
        .columns
        .into_iter()
        .zip(decoded.schema.fields())
        .map(|(array, field)| {
            let chunks: Vec<ArrayRef> = match batch_size {
                Some(n) if n > 0 && array.len() > n => (0..array.len())
                    .step_by(n)
                    .map(|start| array.slice(start, n.min(array.len() - start)))
                    .collect(),
                _ => vec![array],
            };
            PyChunkedArray::try_new(chunks, field.clone())
        })
        .collect::<crate::error::Result<Vec<_>>>()?;
    PyTable::try_new(decoded.schema, columns, Some(decoded.num_rows))
}

/// Read `source` as `options` ask, with the filter given as its Python DNF form.
pub(crate) fn read_with(
    py: Python<'_>,
    source: Source,
    options: ReadOptions,
    filters: Option<&Bound<'_, PyAny>>,
    on_progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Decoded> {
    plan_and_run(py, source, options, filters, on_progress, read::read)
}

/// Load `source`'s footer, parse the filter against its schema, then run `work` (a reader over
/// the file, its metadata and the options) on a decoding thread, interruptibly.
fn plan_and_run<R: Send>(
    py: Python<'_>,
    source: Source,
    mut options: ReadOptions,
    filters: Option<&Bound<'_, PyAny>>,
    on_progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(
            &Source,
            &ArrowReaderMetadata,
            &ReadOptions,
            &Arc<Progress>,
        ) -> crate::error::Result<R>
        + Send,
) -> PyResult<R> {
    let meta = {
        let source = source.clone();
        let limits = options.limits;
        py.detach(move || metadata::load_metadata(&source, &limits))?
    };
    options.filter = match filters {
        Some(f) if !f.is_none() => Some(Filter::from_py(f, meta.schema())?),
        _ => None,
    };
    let progress = Arc::new(Progress::default());
    wait_interruptibly(py, &progress, on_progress, || {
        work(&source, &meta, &options, &progress)
    })
}

/// Read a Parquet file into a `Table` with one contiguous array per column.
///
/// With `pandas_sentinels` (used by `read_pandas`), nulls are then replaced by pandas' sentinels
/// (NaN for floats, NaT for temporal types, -1 for dictionary codes) in the freshly decoded,
/// uniquely owned buffers, in place, and strings are decoded as `large_string` (pandas' own
/// layout), so building the DataFrame needs no second copy. With `keep_integers` as well,
/// integer columns with nulls are decoded as float64 with NaN, except the
/// columns it names (which the pandas metadata restores as masked integer arrays).
#[pyfunction]
#[allow(clippy::too_many_arguments)] // mirrors the keyword arguments of the Python API
#[pyo3(signature = (source, columns = None, row_groups = None, filters = None, batch_size = None, use_threads = true, on_progress = None, pandas_sentinels = false, keep_integers = None, max_footer_bytes = None, max_page_bytes = None, max_decoded_bytes = None))]
fn read_parquet(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    columns: Option<Vec<String>>,
    row_groups: Option<Vec<usize>>,
    filters: Option<&Bound<'_, PyAny>>,
    batch_size: Option<usize>,
    use_threads: bool,
    on_progress: Option<&Bound<'_, PyAny>>,
    pandas_sentinels: bool,
    keep_integers: Option<Vec<String>>,
    max_footer_bytes: Option<u64>,
    max_page_bytes: Option<u64>,
    max_decoded_bytes: Option<u64>,
) -> PyResult<PyTable> {
    let source = Source::from_py(source)?;
    let options = ReadOptions {
        columns,
        row_groups,
        use_threads,
        limits: Limits::new(max_footer_bytes, max_page_bytes, max_decoded_bytes),
        // pandas keeps strings with 64-bit offsets: decode them so, and hand them over as is.
        large_strings: pandas_sentinels,
        // pandas' categorical codes are as narrow as the number of categories allows.
        narrow_codes: pandas_sentinels,
        // pandas' default backend gives int32 columns with nulls as float64 with NaN.
        ints_with_nulls_as_floats: pandas_sentinels && keep_integers.is_some(),
        keep_integers: keep_integers.unwrap_or_default(),
        ..ReadOptions::default()
    };
    let mut decoded = read_with(py, source, options, filters, on_progress)?;
    if pandas_sentinels {
        let columns = std::mem::take(&mut decoded.columns);
        decoded.columns = py.detach(move || {
            columns
                .into_iter()
                .map(crate::interop::pandas::fill_sentinels)
                .collect::<crate::error::Result<Vec<_>>>()
        })?;
    }
    Ok(into_table(decoded, batch_size)?)
}

/// Read the selected numeric columns of a Parquet file into one block (`read_numpy`): the
/// values as one flat array of rows × columns (column after column, no nulls), the columns'
/// names and the number of rows.
#[pyfunction]
#[allow(clippy::too_many_arguments)] // mirrors the keyword arguments of the Python API
#[pyo3(signature = (source, columns = None, row_groups = None, filters = None, dtype = "float64", nulls = "nan", use_threads = true, on_progress = None, max_footer_bytes = None, max_page_bytes = None, max_decoded_bytes = None))]
fn read_block(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    columns: Option<Vec<String>>,
    row_groups: Option<Vec<usize>>,
    filters: Option<&Bound<'_, PyAny>>,
    dtype: &str,
    nulls: &str,
    use_threads: bool,
    on_progress: Option<&Bound<'_, PyAny>>,
    max_footer_bytes: Option<u64>,
    max_page_bytes: Option<u64>,
    max_decoded_bytes: Option<u64>,
) -> PyResult<(PyArray, Vec<String>, usize)> {
    let dtype = block::BlockType::parse(dtype)?;
    let nulls = match nulls {
        "nan" => block::BlockNulls::Nan,
        "raise" => block::BlockNulls::Raise,
        other => {
            return Err(crate::error::Error::InvalidInput(format!(
                "nulls='{other}': use 'nan' or 'raise'"
            ))
            .into())
        }
    };
    let source = Source::from_py(source)?;
    let options = ReadOptions {
        columns,
        row_groups,
        use_threads,
        limits: Limits::new(max_footer_bytes, max_page_bytes, max_decoded_bytes),
        ..ReadOptions::default()
    };
    let block = plan_and_run(
        py,
        source,
        options,
        filters,
        on_progress,
        move |source, meta, options, progress| {
            block::read_block(source, meta, options, progress, dtype, nulls)
        },
    )?;
    Ok((PyArray::new(block.values), block.names, block.rows))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(read_block, m)?)?;
    m.add_function(wrap_pyfunction!(write::write_parquet, m)?)?;
    m.add_class::<file::PyParquetFile>()?;
    m.add_class::<stream::PyBatchReader>()?;
    Ok(())
}
