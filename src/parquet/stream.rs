//! Streaming a Parquet file batch by batch, as a Python iterator and as an Arrow C stream.
//! Decoding happens lazily inside the stream's `get_next`, a C callback, so every step runs
//! under a panic guard: a panic there would abort the process.

use std::sync::Mutex;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use pyo3::prelude::*;

use crate::error::{Error, Result};
use crate::parquet::arrow_rs::check_chunks;
use crate::parquet::limits::Limits;
use crate::parquet::metadata::{expected_rows, short_read_message};
use crate::parquet::parallel::{guard, guarded};
use crate::parquet::source::Source;
use crate::table::PyTable;

/// Batches of some row groups of a file, read by arrow-rs: the row groups' page headers are
/// checked (`arrow_rs::check_chunks`) when the reader is opened, the rows it yields are held to
/// what the footer promises, and every step is panic-guarded.
pub(crate) struct GuardedReader {
    inner: ParquetRecordBatchReader,
    what: String,
    /// Rows yielded so far, and the rows the footer promises.
    seen: usize,
    promised: usize,
    schema: SchemaRef,
    failed: bool,
}

impl GuardedReader {
    /// Batches of `roots` in row groups `rgs`, `batch_size` rows at most.
    pub(crate) fn open(
        source: &Source,
        meta: &ArrowReaderMetadata,
        roots: Vec<usize>,
        rgs: Vec<usize>,
        batch_size: usize,
        limits: Limits,
    ) -> Result<Self> {
        let what = source.describe();
        let promised = expected_rows(meta, &rgs)?;
        let inner = guarded(&what, || {
            let handle = source.open()?;
            let metadata = meta.metadata();
            let cap = check_chunks(&handle, metadata, &roots, &rgs, limits, None)?;
            let mask = ProjectionMask::roots(metadata.file_metadata().schema_descr(), roots);
            Ok(
                ParquetRecordBatchReaderBuilder::new_with_metadata(handle, meta.clone())
                    .with_projection(mask)
                    .with_row_groups(rgs)
                    .with_batch_size(batch_size.min(cap).max(1))
                    .build()?,
            )
        })?;
        let schema = inner.schema();
        Ok(GuardedReader {
            inner,
            what,
            seen: 0,
            promised,
            schema,
            failed: false,
        })
    }

    /// The next batch: `Ok(None)` once every row group is read.
    fn step(&mut self) -> Result<Option<RecordBatch>> {
        match self.inner.next() {
            Some(batch) => {
                let batch = batch?;
                self.seen += batch.num_rows();
                Ok(Some(batch))
            }
            None if self.seen != self.promised => Err(Error::Corrupt(format!(
                "{}: {}",
                self.what,
                short_read_message(self.seen, self.promised)
            ))),
            None => Ok(None),
        }
    }
}

impl Iterator for GuardedReader {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let outcome = guard(|| self.step())
            .unwrap_or_else(|panicked| Err(Error::Corrupt(format!("{}: {panicked}", self.what))));
        match outcome {
            Ok(Some(batch)) => Some(Ok(batch)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(ArrowError::ExternalError(Box::new(e))))
            }
        }
    }
}

impl RecordBatchReader for GuardedReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// Batches of a Parquet file; iterate it (each item a one-batch `Table`) or hand it to any
/// Arrow consumer through `__arrow_c_stream__` (consumes it).
///
/// Example:
///     >>> import polars as pl
///     >>> reader = colbridge.ParquetFile("data.parquet").iter_batches(batch_size=400)
///     >>> pl.DataFrame(reader).shape  # streamed to Polars batch by batch
///     (1000, 2)
#[pyclass(name = "BatchReader", module = "colbridge")]
pub(crate) struct PyBatchReader {
    reader: Mutex<Option<GuardedReader>>,
    schema: SchemaRef,
}

impl PyBatchReader {
    pub(crate) fn open(
        source: &Source,
        meta: &ArrowReaderMetadata,
        roots: Vec<usize>,
        rgs: Vec<usize>,
        batch_size: usize,
        limits: Limits,
    ) -> Result<Self> {
        let reader = GuardedReader::open(source, meta, roots, rgs, batch_size, limits)?;
        let schema = reader.schema.clone();
        Ok(Self {
            reader: Mutex::new(Some(reader)),
            schema,
        })
    }

    fn take(&self) -> Result<GuardedReader> {
        self.reader
            .lock()
            .ok()
            .and_then(|mut r| r.take())
            .ok_or_else(|| Error::InvalidInput("this BatchReader was already consumed".into()))
    }
}

#[pymethods]
impl PyBatchReader {
    /// The Arrow schema of the batches.
    #[getter]
    fn schema(&self) -> crate::schema::PySchema {
        crate::schema::PySchema(self.schema.clone())
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyTable>> {
        let mut guard = self
            .reader
            .lock()
            .map_err(|_| Error::Parquet("reader poisoned".into()))?;
        let Some(reader) = guard.as_mut() else {
            return Ok(None);
        };
        match py.detach(|| reader.next()) {
            None => {
                *guard = None;
                Ok(None)
            }
            Some(Err(e)) => {
                *guard = None;
                Err(Error::from(e).into())
            }
            Some(Ok(batch)) => Ok(Some(PyTable::from_batches(batch.schema(), &[batch])?)),
        }
    }

    /// Read all remaining batches into one `Table` (one chunk per batch).
    ///
    /// Example:
    ///     >>> t = colbridge.ParquetFile("data.parquet").iter_batches(batch_size=400).read_all()
    ///     >>> t.num_rows, t.column("x").num_chunks
    ///     (1000, 3)
    fn read_all(&self, py: Python<'_>) -> PyResult<PyTable> {
        let reader = self.take()?;
        let schema = reader.schema.clone();
        let batches = py
            .detach(|| reader.collect::<std::result::Result<Vec<_>, ArrowError>>())
            .map_err(Error::from)?;
        Ok(PyTable::from_batches(schema, &batches)?)
    }

    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if requested_schema.as_ref().is_some_and(|r| !r.is_none()) {
            let batches = self.read_all(py)?.to_batches()?;
            return crate::ffi::export_batches_stream(
                py,
                self.schema.clone(),
                batches,
                requested_schema.as_ref(),
            );
        }
        crate::ffi::export_reader_stream(py, Box::new(self.take()?))
    }
}
