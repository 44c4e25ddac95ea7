//! `Table`: a schema and equally long columns (each a `ChunkedArray`), exported as an Arrow C
//! stream of record batches whose boundaries are the union of the columns' chunk boundaries.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::adapters::Adapter;
use crate::array::preview_values;
use crate::chunked::PyChunkedArray;
use crate::datatype::type_name;
use crate::error::{Error, Result};
use crate::ffi;
use crate::schema::{field_index, PySchema};

/// A table of named columns.
///
/// Example:
///     >>> t = colbridge.table({"a": [1, 2], "b": ["x", "y"]})
///     >>> t.num_rows, t.column_names
///     (2, ['a', 'b'])
#[pyclass(name = "Table", module = "colbridge")]
#[derive(Clone)]
pub(crate) struct PyTable {
    pub(crate) schema: SchemaRef,
    pub(crate) columns: Vec<PyChunkedArray>,
    pub(crate) num_rows: usize,
    /// Set once `to_pandas(self_destruct=True)` has given the table's memory to a DataFrame,
    /// which may have written into it: from then on the table refuses every use.
    handed_over: bool,
    /// Set on the table `to_pandas(self_destruct=True)` builds from the columns it was given
    /// alone: the only table `_for_pandas` converts in place.
    given_alone: bool,
}

impl PyTable {
    pub(crate) fn try_new(
        schema: SchemaRef,
        columns: Vec<PyChunkedArray>,
        num_rows: Option<usize>,
    ) -> Result<Self> {
        let num_rows = num_rows
            .or_else(|| columns.first().map(|c| c.len()))
            .unwrap_or(0);
        for (f, c) in schema.fields().iter().zip(&columns) {
            if c.len() != num_rows {
                return Err(Error::InvalidInput(format!(
                    "column '{}' has {} rows, expected {num_rows}",
                    f.name(),
                    c.len()
                )));
            }
        }
        Ok(Self {
            schema,
            columns,
            num_rows,
            handed_over: false,
            given_alone: false,
        })
    }

    /// `Ok` unless `to_pandas(self_destruct=True)` gave the table's memory away.
    pub(crate) fn live(&self) -> Result<()> {
        if self.handed_over {
            return Err(Error::InvalidInput(
                "this Table was converted by to_pandas(self_destruct=True): its memory belongs \
                 to that DataFrame now"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Whether nothing but this table holds its columns' memory: no chunk handed out as a
    /// Python object or kept by another table, no buffer viewed, exported or sliced elsewhere.
    fn holds_alone(&self) -> bool {
        self.columns
            .iter()
            .flat_map(|c| &c.chunks)
            .all(|a| Arc::strong_count(a) == 1 && !crate::buffer::export::is_shared(a.as_ref()))
    }

    pub(crate) fn from_batches(schema: SchemaRef, batches: &[RecordBatch]) -> Result<Self> {
        let columns = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let chunks = batches
                    .iter()
                    .map(|b| b.column(i).clone())
                    .filter(|c| !c.is_empty() || batches.len() == 1)
                    .collect();
                PyChunkedArray::try_new(chunks, f.clone())
            })
            .collect::<Result<Vec<_>>>()?;
        let rows = batches.iter().map(|b| b.num_rows()).sum();
        Self::try_new(schema, columns, Some(rows))
    }

    /// Record batches over all columns, split where any column's chunks split (zero-copy).
    pub(crate) fn to_batches(&self) -> Result<Vec<RecordBatch>> {
        let mut bounds: Vec<usize> = vec![0, self.num_rows];
        for col in &self.columns {
            let mut at = 0;
            for c in &col.chunks {
                at += c.len();
                bounds.push(at);
            }
        }
        bounds.sort_unstable();
        bounds.dedup();
        let mut batches = Vec::with_capacity(bounds.len());
        for w in bounds.windows(2) {
            let (start, end) = (w[0], w[1]);
            let columns: Vec<ArrayRef> = self
                .columns
                .iter()
                .map(|c| slice_chunked(c, start, end - start))
                .collect();
            let options = RecordBatchOptions::new().with_row_count(Some(end - start));
            batches.push(RecordBatch::try_new_with_options(
                self.schema.clone(),
                columns,
                &options,
            )?);
        }
        if batches.is_empty() {
            batches.push(RecordBatch::new_empty(self.schema.clone()));
        }
        Ok(batches)
    }
}

/// The rows `start .. start + len` of a column that lie within one chunk (callers split at
/// chunk boundaries, so this is always a zero-copy slice).
fn slice_chunked(col: &PyChunkedArray, start: usize, len: usize) -> ArrayRef {
    let mut at = 0;
    for c in &col.chunks {
        if start < at + c.len() || (len == 0 && start == at) {
            if start == at && len == c.len() {
                // The whole chunk: no slice, so arrow-rs need not recount the nulls.
                return c.clone();
            }
            return c.slice(start - at, len.min(c.len() - (start - at)));
        }
        at += c.len();
    }
    arrow_array::new_empty_array(col.field.data_type())
}

#[pymethods]
impl PyTable {
    /// The table's schema.
    #[getter]
    fn schema(&self) -> PyResult<PySchema> {
        self.live()?;
        Ok(PySchema(self.schema.clone()))
    }

    /// Number of rows.
    #[getter]
    fn num_rows(&self) -> PyResult<usize> {
        self.live()?;
        Ok(self.num_rows)
    }

    /// Number of columns.
    #[getter]
    fn num_columns(&self) -> PyResult<usize> {
        self.live()?;
        Ok(self.columns.len())
    }

    /// `(num_rows, num_columns)`.
    #[getter]
    fn shape(&self) -> PyResult<(usize, usize)> {
        self.live()?;
        Ok((self.num_rows, self.columns.len()))
    }

    /// The column names, in order.
    #[getter]
    fn column_names(&self) -> PyResult<Vec<String>> {
        self.live()?;
        Ok(self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect())
    }

    /// The columns, as `ChunkedArray` objects (no copy).
    #[getter]
    fn columns(&self) -> PyResult<Vec<PyChunkedArray>> {
        self.live()?;
        Ok(self.columns.clone())
    }

    /// Bytes of memory the columns' buffers occupy.
    #[getter]
    fn nbytes(&self) -> PyResult<usize> {
        self.live()?;
        Ok(self
            .columns
            .iter()
            .flat_map(|c| &c.chunks)
            .map(|a| a.get_buffer_memory_size())
            .sum())
    }

    /// A column by position or name.
    ///
    /// Example:
    ///     >>> colbridge.table({"a": [1, 2]}).column("a").to_pylist()
    ///     [1, 2]
    fn column(&self, key: &Bound<'_, PyAny>) -> PyResult<PyChunkedArray> {
        self.live()?;
        Ok(self.columns[field_index(&self.schema, key)?].clone())
    }

    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<PyChunkedArray> {
        self.column(key)
    }

    fn __len__(&self) -> PyResult<usize> {
        self.live()?;
        Ok(self.num_rows)
    }

    /// A table with only the given columns, in that order (no copy).
    ///
    /// Example:
    ///     >>> colbridge.table({"a": [1], "b": [2]}).select(["b"]).column_names
    ///     ['b']
    fn select(&self, columns: Vec<Bound<'_, PyAny>>) -> PyResult<PyTable> {
        self.live()?;
        let mut fields = Vec::with_capacity(columns.len());
        let mut cols = Vec::with_capacity(columns.len());
        for key in &columns {
            let i = field_index(&self.schema, key)?;
            fields.push(self.schema.fields()[i].clone());
            cols.push(self.columns[i].clone());
        }
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            self.schema.metadata().clone(),
        ));
        Ok(PyTable::try_new(schema, cols, Some(self.num_rows))?)
    }

    /// The same columns (no copy) with the schema's key-value metadata replaced by `metadata`
    /// (`None` removes it), as pyarrow's `Table.replace_schema_metadata`. The metadata is
    /// written to Parquet files (e.g. the `pandas` key `write_parquet` stores for a DataFrame).
    ///
    /// Example:
    ///     >>> t = colbridge.table({"a": [1]}).replace_schema_metadata({"origin": "test"})
    ///     >>> t.schema.metadata
    ///     {'origin': 'test'}
    #[pyo3(signature = (metadata = None))]
    fn replace_schema_metadata(
        &self,
        metadata: Option<std::collections::HashMap<String, String>>,
    ) -> PyResult<PyTable> {
        self.live()?;
        let schema = Arc::new(Schema::new_with_metadata(
            self.schema.fields().clone(),
            metadata.unwrap_or_default(),
        ));
        Ok(PyTable::try_new(
            schema,
            self.columns.clone(),
            Some(self.num_rows),
        )?)
    }

    /// Rows `offset .. offset + length` (no copy).
    ///
    /// Example:
    ///     >>> colbridge.table({"a": [1, 2, 3]}).slice(1).to_pydict()
    ///     {'a': [2, 3]}
    #[pyo3(signature = (offset = 0, length = None))]
    fn slice(&self, offset: usize, length: Option<usize>) -> PyResult<PyTable> {
        self.live()?;
        let offset = offset.min(self.num_rows);
        let length = length
            .unwrap_or(self.num_rows - offset)
            .min(self.num_rows - offset);
        let columns = self
            .columns
            .iter()
            .map(|c| {
                let mut out = Vec::new();
                let mut at = 0;
                for chunk in &c.chunks {
                    let (s, e) = (at.max(offset), (at + chunk.len()).min(offset + length));
                    if s < e {
                        out.push(chunk.slice(s - at, e - s));
                    }
                    at += chunk.len();
                }
                PyChunkedArray {
                    chunks: out,
                    field: c.field.clone(),
                }
            })
            .collect();
        Ok(PyTable::try_new(
            self.schema.clone(),
            columns,
            Some(length),
        )?)
    }

    /// The columns as a dict of Python lists.
    ///
    /// Example:
    ///     >>> colbridge.table({"a": [1], "b": ["x"]}).to_pydict()
    ///     {'a': [1], 'b': ['x']}
    fn to_pydict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.live()?;
        let out = PyDict::new(py);
        for (f, c) in self.schema.fields().iter().zip(&self.columns) {
            out.set_item(f.name(), c.to_pylist(py)?)?;
        }
        Ok(out)
    }

    /// The rows as a list of dicts.
    ///
    /// Example:
    ///     >>> colbridge.table({"a": [1, 2]}).to_pylist()
    ///     [{'a': 1}, {'a': 2}]
    fn to_pylist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.live()?;
        let cols: Vec<Bound<'py, PyList>> = self
            .columns
            .iter()
            .map(|c| c.to_pylist(py))
            .collect::<PyResult<_>>()?;
        let rows = PyList::empty(py);
        for i in 0..self.num_rows {
            let row = PyDict::new(py);
            for (f, c) in self.schema.fields().iter().zip(&cols) {
                row.set_item(f.name(), c.get_item(i)?)?;
            }
            rows.append(row)?;
        }
        Ok(rows)
    }

    /// Rechunk every column into one contiguous array (a copy only where a column has
    /// several chunks).
    ///
    /// Example:
    ///     >>> t = colbridge.table({"a": colbridge.chunked_array([[1], [2]])})
    ///     >>> t.combine_chunks().column("a").num_chunks
    ///     1
    fn combine_chunks(&self, py: Python<'_>) -> PyResult<PyTable> {
        self.live()?;
        let this = self.clone();
        let columns = py.detach(move || {
            this.columns
                .iter()
                .map(|c| {
                    Ok(PyChunkedArray {
                        chunks: vec![c.combined()?],
                        field: c.field.clone(),
                    })
                })
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(PyTable::try_new(
            self.schema.clone(),
            columns,
            Some(self.num_rows),
        )?)
    }

    fn _repr_html_<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Adapter::TableHtml.call(slf.py(), (slf,), None)
    }

    fn __repr__(&self) -> String {
        if self.live().is_err() {
            return "colbridge.Table (its memory given to a DataFrame by \
                    to_pandas(self_destruct=True))"
                .into();
        }
        let mut out = format!(
            "colbridge.Table ({} rows x {} columns)\n",
            self.num_rows,
            self.columns.len()
        );
        for (f, c) in self.schema.fields().iter().zip(&self.columns) {
            let first = c
                .chunks
                .first()
                .cloned()
                .unwrap_or_else(|| arrow_array::new_empty_array(f.data_type()));
            out.push_str(&format!(
                "{}: {}\n  {}\n",
                f.name(),
                type_name(f.data_type()),
                preview_values(&first, 5)
            ));
        }
        out.trim_end().to_string()
    }

    /// A pandas DataFrame whose numeric, temporal and dictionary columns share the Arrow
    /// buffers (one block per column). The frame behaves like any other: writing to it copies
    /// the touched column first (pandas Copy-on-Write), never writing into shared memory.
    ///
    /// `self_destruct=True` (pyarrow's keyword) gives the table's memory to the frame, which
    /// then owns it as if pandas had allocated it: integer columns with nulls become float64 in
    /// their own buffer, string columns get the 64-bit offsets pandas' `str` holds (so pandas
    /// does not cast them, holding both), and nothing is copied to protect the table, which
    /// refuses every use afterwards. Where something else still holds the memory (a column or view taken from
    /// the table, another table, a C data export) or `types_mapper` or `dtype_backend` is given,
    /// the frame shares it as without the keyword; the table is unusable either way.
    ///
    /// Example:
    ///     >>> df = colbridge.table({"a": [1, 2]}).to_pandas()
    ///     >>> df["a"].tolist()
    ///     [1, 2]
    ///     >>> t = colbridge.table({"a": [1, None]})
    ///     >>> t.to_pandas(self_destruct=True)["a"].tolist()
    ///     [1.0, nan]
    #[pyo3(signature = (types_mapper = None, dtype_backend = None, self_destruct = false))]
    fn to_pandas<'py>(
        slf: Bound<'py, Self>,
        types_mapper: Option<Bound<'py, PyAny>>,
        dtype_backend: Option<Bound<'py, PyAny>>,
        self_destruct: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        slf.borrow().live()?;
        if !self_destruct {
            return Adapter::PandasDataFrame.call(py, (slf, types_mapper, dtype_backend), None);
        }
        let mut this = slf.borrow_mut();
        let hand_over = types_mapper.is_none() && dtype_backend.is_none() && this.holds_alone();
        // Refuse every later use before the memory can change; a table given away alone keeps
        // none of it, so that the conversion can work in its buffers (`_for_pandas`).
        this.handed_over = true;
        let columns = if hand_over {
            std::mem::take(&mut this.columns)
        } else {
            this.columns.clone()
        };
        let mut table = PyTable::try_new(this.schema.clone(), columns, Some(this.num_rows))?;
        table.given_alone = hand_over;
        drop(this);
        let kwargs = PyDict::new(py);
        kwargs.set_item("hand_over", hand_over)?;
        kwargs.set_item("consume", hand_over)?;
        Adapter::PandasDataFrame.call(
            py,
            (Bound::new(py, table)?, types_mapper, dtype_backend),
            Some(&kwargs),
        )
    }

    /// For `to_pandas(self_destruct=True)` on a table nothing else holds: each single-chunk
    /// column but those named in `keep` converted in its own buffers to what pandas' default
    /// backend holds (`interop::pandas::for_pandas`); the names of the columns converted.
    fn _for_pandas(&mut self, py: Python<'_>, keep: Vec<String>) -> PyResult<Vec<String>> {
        self.live()?;
        if !self.given_alone {
            // Converting changes the columns' types: only for the table built to be converted.
            return Err(Error::InvalidInput(
                "_for_pandas converts only the table to_pandas(self_destruct=True) builds".into(),
            )
            .into());
        }
        let mut converted_names = Vec::new();
        let mut fields = Vec::with_capacity(self.columns.len());
        for (field, column) in self.schema.fields().iter().zip(self.columns.iter_mut()) {
            if column.chunks.len() == 1 && !keep.contains(field.name()) {
                let chunks = std::mem::take(&mut column.chunks);
                column.chunks = py.detach(move || {
                    chunks
                        .into_iter()
                        .map(crate::interop::pandas::for_pandas)
                        .collect::<Result<Vec<_>>>()
                })?;
                converted_names.push(field.name().clone());
                let converted = column.chunks.first().map(|c| c.data_type().clone());
                if let Some(dt) = converted.filter(|dt| dt != field.data_type()) {
                    column.field = Arc::new(field.as_ref().clone().with_data_type(dt));
                    fields.push(column.field.clone());
                    continue;
                }
            }
            fields.push(field.clone());
        }
        self.schema = Arc::new(Schema::new_with_metadata(
            fields,
            self.schema.metadata().clone(),
        ));
        Ok(converted_names)
    }

    /// A Polars DataFrame over the same memory (through the Arrow C stream).
    ///
    /// Example:
    ///     >>> colbridge.table({"a": [1, 2]}).to_polars().shape
    ///     (2, 1)
    fn to_polars<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Adapter::PolarsDataFrame.call(slf.py(), (slf,), None)
    }

    /// The (legacy) DataFrame interchange protocol object, for
    /// `pandas.api.interchange.from_dataframe` and `polars.from_dataframe`.
    #[pyo3(signature = (nan_as_null = false, allow_copy = true))]
    fn __dataframe__<'py>(
        slf: Bound<'py, Self>,
        nan_as_null: bool,
        allow_copy: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        Adapter::InterchangeDataFrame.call(slf.py(), (slf, nan_as_null, allow_copy), None)
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.live()?;
        ffi::export_schema_capsule(py, self.schema.as_ref())
    }

    /// `__arrow_c_stream__` through the Arrow C device interface, marked as CPU memory.
    #[pyo3(signature = (requested_schema = None, **kwargs))]
    fn __arrow_c_device_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
        kwargs: Option<Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        ffi::check_kwargs(kwargs.as_ref())?;
        ffi::device_stream_capsule(self.__arrow_c_stream__(py, requested_schema)?)
    }

    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.live()?;
        let batches = self.to_batches()?;
        ffi::export_batches_stream(py, self.schema.clone(), batches, requested_schema.as_ref())
    }
}

/// A table from named columns.
pub(crate) fn table_from_columns(
    names: Vec<String>,
    columns: Vec<PyChunkedArray>,
) -> Result<PyTable> {
    if names.len() != columns.len() {
        return Err(Error::InvalidInput("need one name per column".into()));
    }
    let mut fields = Vec::with_capacity(names.len());
    let mut cols = Vec::with_capacity(names.len());
    for (name, c) in names.into_iter().zip(columns) {
        let field = Arc::new(c.field.as_ref().clone().with_name(name));
        fields.push(field.clone());
        cols.push(PyChunkedArray {
            chunks: c.chunks,
            field,
        });
    }
    PyTable::try_new(Arc::new(Schema::new(fields)), cols, None)
}
