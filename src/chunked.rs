//! `ChunkedArray`: one column as a sequence of arrays of the same type.

use arrow_array::{Array, ArrayRef};
use arrow_schema::FieldRef;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::adapters::Adapter;
use crate::array::{normalize_index, to_py, PyArray};
use crate::datatype::type_name;
use crate::error::Error;
use crate::ffi;
use crate::interop::dlpack;
use crate::schema::{PyDataType, PyField};

/// A column made of one or more `Array` chunks of one type.
///
/// Example:
///     >>> col = colbridge.table({"a": [1, 2]}).column("a")
///     >>> col.num_chunks, col.to_pylist()
///     (1, [1, 2])
#[pyclass(name = "ChunkedArray", module = "colbridge", frozen, sequence)]
#[derive(Clone)]
pub(crate) struct PyChunkedArray {
    pub(crate) chunks: Vec<ArrayRef>,
    pub(crate) field: FieldRef,
}

impl PyChunkedArray {
    pub(crate) fn try_new(chunks: Vec<ArrayRef>, field: FieldRef) -> Result<Self, Error> {
        if let Some(bad) = chunks.iter().find(|c| c.data_type() != field.data_type()) {
            return Err(Error::InvalidInput(format!(
                "chunk of type {} in a column of type {}",
                type_name(bad.data_type()),
                type_name(field.data_type())
            )));
        }
        Ok(Self { chunks, field })
    }

    pub(crate) fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.len()).sum()
    }

    /// One contiguous array: the chunk itself when there is one (no copy), else a concatenation.
    pub(crate) fn combined(&self) -> Result<ArrayRef, Error> {
        match self.chunks.as_slice() {
            [one] => Ok(one.clone()),
            [] => Ok(arrow_array::new_empty_array(self.field.data_type())),
            many => {
                let refs: Vec<&dyn Array> = many.iter().map(|c| c.as_ref()).collect();
                Ok(arrow_select::concat::concat(&refs)?)
            }
        }
    }
}

#[pymethods]
impl PyChunkedArray {
    /// The Arrow data type.
    #[getter]
    fn r#type(&self) -> PyDataType {
        PyDataType(self.field.data_type().clone())
    }

    /// The field (name, type, nullability) of the column.
    #[getter]
    fn field(&self) -> PyField {
        PyField(self.field.clone())
    }

    /// The chunks, as `Array` objects (no copy).
    #[getter]
    fn chunks(&self) -> Vec<PyArray> {
        self.chunks
            .iter()
            .map(|c| PyArray::with_field(c.clone(), self.field.clone()))
            .collect()
    }

    /// Number of chunks.
    #[getter]
    fn num_chunks(&self) -> usize {
        self.chunks.len()
    }

    /// The chunk at an index (negative counts from the end).
    ///
    /// Example:
    ///     >>> colbridge.chunked_array([[1], [2, 3]]).chunk(1).to_pylist()
    ///     [2, 3]
    fn chunk(&self, i: isize) -> PyResult<PyArray> {
        let i = normalize_index(i, self.chunks.len())?;
        Ok(PyArray::with_field(
            self.chunks[i].clone(),
            self.field.clone(),
        ))
    }

    /// Number of null values over all chunks.
    #[getter]
    fn null_count(&self) -> usize {
        self.chunks.iter().map(crate::array::null_count).sum()
    }

    /// Bytes of memory the chunks' buffers occupy.
    #[getter]
    fn nbytes(&self) -> usize {
        self.chunks.iter().map(|c| c.get_buffer_memory_size()).sum()
    }

    /// One contiguous `Array` (zero-copy when there is a single chunk).
    ///
    /// Example:
    ///     >>> colbridge.table({"a": [1, 2]}).column("a").combine_chunks().to_pylist()
    ///     [1, 2]
    fn combine_chunks(&self, py: Python<'_>) -> PyResult<PyArray> {
        let this = self.clone();
        let array = py.detach(move || this.combined())?;
        Ok(PyArray::with_field(array, self.field.clone()))
    }

    /// The values of all chunks as one Python list.
    ///
    /// Example:
    ///     >>> colbridge.chunked_array([[1], [2]]).to_pylist()
    ///     [1, 2]
    pub(crate) fn to_pylist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for c in &self.chunks {
            for v in to_py::to_pylist(py, c)?.iter() {
                out.append(v)?;
            }
        }
        Ok(out)
    }

    fn __len__(&self) -> usize {
        self.len()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, i: isize) -> PyResult<Bound<'py, PyAny>> {
        let mut i = normalize_index(i, self.len())?;
        for c in &self.chunks {
            if i < c.len() {
                return to_py::value_to_py(py, c, i);
            }
            i -= c.len();
        }
        Err(pyo3::exceptions::PyIndexError::new_err(
            "index out of range",
        ))
    }

    /// Whether any chunk's memory is also referenced elsewhere (see `Array.is_shared`).
    #[getter]
    fn is_shared(&self) -> bool {
        self.chunks
            .iter()
            .any(|c| crate::buffer::export::is_shared(c.as_ref()))
    }

    fn _repr_html_<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Adapter::ArrayHtml.call(slf.py(), (slf,), None)
    }

    fn __repr__(&self) -> String {
        format!(
            "colbridge.ChunkedArray<{}> len={} chunks={}",
            type_name(self.field.data_type()),
            self.len(),
            self.chunks.len()
        )
    }

    /// A NumPy array of the values: a read-only view of the Arrow buffer for fixed-width types
    /// without nulls, otherwise a copy as pyarrow makes it (NaN/NaT for nulls, objects for
    /// strings and nested types). `zero_copy_only=True` raises `ZeroCopyError` instead of copying.
    ///
    /// Example:
    ///     >>> colbridge.chunked_array([[1.5], [2.5]]).to_numpy()
    ///     array([1.5, 2.5])
    #[pyo3(signature = (zero_copy_only = false))]
    fn to_numpy<'py>(slf: Bound<'py, Self>, zero_copy_only: bool) -> PyResult<Bound<'py, PyAny>> {
        Adapter::ChunkedToNumpy.call(slf.py(), (slf, zero_copy_only), None)
    }

    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(
        slf: Bound<'py, Self>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Adapter::DunderArray.call(slf.py(), (slf, dtype, copy), None)
    }

    /// A pandas Series sharing the Arrow memory where pandas can (see `Table.to_pandas`).
    ///
    /// Example:
    ///     >>> colbridge.chunked_array([[1, 2]]).to_pandas().tolist()
    ///     [1, 2]
    #[pyo3(signature = (**kwargs))]
    fn to_pandas<'py>(
        slf: Bound<'py, Self>,
        kwargs: Option<Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Adapter::PandasSeries.call(slf.py(), (slf,), kwargs.as_ref())
    }

    /// A Polars Series over the same memory (through the Arrow C stream).
    ///
    /// Example:
    ///     >>> colbridge.chunked_array([[1, 2]]).to_polars().to_list()
    ///     [1, 2]
    fn to_polars<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Adapter::PolarsSeries.call(slf.py(), (slf,), None)
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ffi::export_schema_capsule(py, self.field.as_ref())
    }

    /// A one-chunk column as a DLPack capsule, as `Array.__dlpack__`; several chunks are
    /// refused (`combine_chunks()` first), or combined into a private copy with `copy=True`.
    ///
    /// Example:
    ///     >>> np.from_dlpack(colbridge.chunked_array([[1, 2]]))
    ///     array([1, 2])
    #[pyo3(signature = (*, stream = None, max_version = None, dl_device = None, copy = None))]
    fn __dlpack__<'py>(
        &self,
        py: Python<'py>,
        stream: Option<Bound<'py, PyAny>>,
        max_version: Option<(u32, u32)>,
        dl_device: Option<(i32, i32)>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = dlpack::Request::new(stream.as_ref(), max_version, dl_device, copy)?;
        let (array, private) = match self.chunks.as_slice() {
            [one] => (one.clone(), false),
            [] => (arrow_array::new_empty_array(self.field.data_type()), true),
            _ if copy == Some(true) => {
                let this = self.clone();
                (py.detach(move || this.combined())?, true)
            }
            chunks => {
                return Err(Error::DLPack(format!(
                    "the column has {} chunks and DLPack holds one buffer: call \
                     combine_chunks() first, or pass copy=True",
                    chunks.len()
                ))
                .into())
            }
        };
        dlpack::export(py, &array, "the column", &request, private)
    }

    /// The device of `__dlpack__`'s memory: `(1, 0)`, the CPU.
    fn __dlpack_device__(&self) -> (i32, i32) {
        (dlpack::CPU, 0)
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
        ffi::export_chunks_stream(
            py,
            self.chunks.clone(),
            self.field.clone(),
            requested_schema.as_ref(),
        )
    }
}
