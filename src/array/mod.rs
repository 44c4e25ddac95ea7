//! `Array`: one Arrow array of any type, built from Python objects, NumPy memory or any Arrow
//! producer, and exported both as typed buffers and through the C data interface.

pub(crate) mod from_py;
pub(crate) mod to_py;

// Old path of `buffer::import`, still used by the parquet modules; remove once they import it
// from `buffer`.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Field, FieldRef};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PySlice};

use crate::adapters::Adapter;
use crate::buffer::{export, PyBuffer};
use crate::datatype::type_name;
use crate::error::Error;
use crate::ffi;
use crate::interop::dlpack;
use crate::schema::{extract_type, PyDataType, PyField};

/// One contiguous Arrow array.
///
/// Example:
///     >>> arr = colbridge.array([1, None, 3])
///     >>> arr.type, arr.null_count
///     (DataType(int64), 1)
#[pyclass(name = "Array", module = "colbridge", frozen, sequence)]
#[derive(Clone)]
pub(crate) struct PyArray {
    pub(crate) array: ArrayRef,
    pub(crate) field: FieldRef,
}

impl PyArray {
    pub(crate) fn new(array: ArrayRef) -> Self {
        let field = Arc::new(Field::new("", array.data_type().clone(), true));
        Self { array, field }
    }

    pub(crate) fn with_field(array: ArrayRef, field: FieldRef) -> Self {
        Self { array, field }
    }
}

/// Nulls as pyarrow counts them: every slot of a `null`-typed array is null (arrow-rs reports
/// 0 there, as a NullArray has no validity bitmap); other types count their validity bitmap.
pub(crate) fn null_count(array: &ArrayRef) -> usize {
    match array.data_type() {
        DataType::Null => array.len(),
        _ => array.null_count(),
    }
}

/// A short, comma-separated preview of an array's first values.
pub(crate) fn preview_values(array: &ArrayRef, limit: usize) -> String {
    let options = FormatOptions::default().with_null("null");
    let Ok(fmt) = ArrayFormatter::try_new(array.as_ref(), &options) else {
        return String::from("[...]");
    };
    let shown: Vec<String> = (0..array.len().min(limit))
        .map(|i| fmt.value(i).to_string())
        .collect();
    let more = if array.len() > limit { ", ..." } else { "" };
    format!("[{}{}]", shown.join(", "), more)
}

/// Normalise a possibly negative index into `0..len`.
pub(crate) fn normalize_index(i: isize, len: usize) -> PyResult<usize> {
    let j = if i < 0 { i + len as isize } else { i };
    if j < 0 || j as usize >= len {
        return Err(pyo3::exceptions::PyIndexError::new_err(format!(
            "index {i} out of range for length {len}"
        )));
    }
    Ok(j as usize)
}

#[pymethods]
impl PyArray {
    /// The Arrow data type.
    #[getter]
    fn r#type(&self) -> PyDataType {
        PyDataType(self.array.data_type().clone())
    }

    /// The field (name, type, nullability) this array was imported or built with.
    #[getter]
    fn field(&self) -> PyField {
        PyField(self.field.clone())
    }

    /// Number of null values.
    #[getter]
    fn null_count(&self) -> usize {
        null_count(&self.array)
    }

    /// Offset of this (possibly sliced) array into its buffers, in elements.
    #[getter]
    fn offset(&self) -> usize {
        self.array.offset()
    }

    /// Bytes of memory the array's buffers occupy.
    #[getter]
    fn nbytes(&self) -> usize {
        self.array.get_buffer_memory_size()
    }

    /// All buffers in Arrow C data interface order (validity first), `None` where absent.
    ///
    /// Example:
    ///     >>> [b.kind if b else None for b in colbridge.array(["a", None]).buffers()]
    ///     ['validity', 'offsets', 'data']
    fn buffers(&self) -> Vec<Option<PyBuffer>> {
        export::all_buffers(&self.array)
    }

    /// The validity bitmap (bit-packed, with `bit_offset`), or None when there are no nulls.
    #[getter]
    fn validity(&self) -> Option<PyBuffer> {
        export::validity(self.array.as_ref())
    }

    /// The values buffer of a fixed-width, boolean or dictionary (indices) array.
    #[getter]
    fn values(&self) -> Option<PyBuffer> {
        export::values(self.array.as_ref())
    }

    /// The offsets of a string, binary or list array.
    #[getter]
    fn offsets(&self) -> Option<PyBuffer> {
        export::offsets(self.array.as_ref())
    }

    /// The bytes of a string or binary array.
    #[getter]
    fn data(&self) -> Option<PyBuffer> {
        export::data(self.array.as_ref())
    }

    /// The dictionary (distinct values) of a dictionary array.
    #[getter]
    fn dictionary(&self) -> Option<PyArray> {
        self.array
            .as_any_dictionary_opt()
            .map(|d| PyArray::new(d.values().clone()))
    }

    /// The indices (codes) of a dictionary array.
    #[getter]
    fn indices(&self) -> Option<PyArray> {
        self.array
            .as_any_dictionary_opt()
            .map(|d| PyArray::new(Arc::new(d.keys().slice(0, d.keys().len()))))
    }

    /// The child values of a list array, or the columns of a struct array.
    ///
    /// Example:
    ///     >>> colbridge.array([[1, 2], [3]]).flatten()[0].to_pylist()
    ///     [1, 2, 3]
    fn flatten(&self) -> PyResult<Vec<PyArray>> {
        Ok(match self.array.data_type() {
            DataType::List(_) => {
                let l = self.array.as_list::<i32>();
                let start = l.value_offsets()[0] as usize;
                let end = l.value_offsets()[l.len()] as usize;
                vec![PyArray::new(l.values().slice(start, end - start))]
            }
            DataType::LargeList(_) => {
                let l = self.array.as_list::<i64>();
                let start = l.value_offsets()[0] as usize;
                let end = l.value_offsets()[l.len()] as usize;
                vec![PyArray::new(l.values().slice(start, end - start))]
            }
            DataType::Struct(fields) => self
                .array
                .as_struct()
                .columns()
                .iter()
                .zip(fields.iter())
                .map(|(c, f)| PyArray::with_field(c.clone(), f.clone()))
                .collect(),
            other => {
                return Err(Error::UnsupportedType(format!(
                    "flatten() needs a list or struct array, not {}",
                    type_name(other)
                ))
                .into())
            }
        })
    }

    /// A zero-copy slice.
    ///
    /// Example:
    ///     >>> colbridge.array([1, 2, 3, 4]).slice(1, 2).to_pylist()
    ///     [2, 3]
    #[pyo3(signature = (offset = 0, length = None))]
    fn slice(&self, offset: usize, length: Option<usize>) -> PyArray {
        let len = self.array.len();
        let offset = offset.min(len);
        let length = length.unwrap_or(len - offset).min(len - offset);
        PyArray::with_field(self.array.slice(offset, length), self.field.clone())
    }

    /// Convert to another type (safe cast: overflow or truncation raises).
    ///
    /// Example:
    ///     >>> colbridge.array([1, 2]).cast("float64").to_pylist()
    ///     [1.0, 2.0]
    fn cast(&self, target: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        let dt = extract_type(target)?;
        let out = arrow_cast::cast_with_options(
            &self.array,
            &dt,
            &arrow_cast::CastOptions {
                safe: false,
                ..Default::default()
            },
        )
        .map_err(|e| Error::Cast(e.to_string()))?;
        Ok(PyArray::new(out))
    }

    /// The values as a Python list.
    ///
    /// Example:
    ///     >>> colbridge.array([1, None]).to_pylist()
    ///     [1, None]
    fn to_pylist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        to_py::to_pylist(py, &self.array)
    }

    /// True when both arrays have the same type and values.
    ///
    /// Example:
    ///     >>> colbridge.array([1, 2]).equals(colbridge.array([1, 2]))
    ///     True
    fn equals(&self, other: &PyArray) -> bool {
        self.array.to_data() == other.array.to_data()
    }

    fn __len__(&self) -> usize {
        self.array.len()
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(slice) = key.cast::<PySlice>() {
            let ind = slice.indices(self.array.len() as isize)?;
            if ind.step != 1 {
                return Err(Error::InvalidInput(
                    "only step 1 slices are zero-copy; use take".into(),
                )
                .into());
            }
            let length = ind.slicelength;
            return Ok(Bound::new(py, self.slice(ind.start as usize, Some(length)))?.into_any());
        }
        let i = normalize_index(key.extract::<isize>()?, self.array.len())?;
        to_py::value_to_py(py, &self.array, i)
    }

    /// Whether the array's memory is also referenced elsewhere (a NumPy view, an export to
    /// pyarrow/Polars, a slice or another array).
    #[getter]
    fn is_shared(&self) -> bool {
        export::is_shared(self.array.as_ref())
    }

    fn _repr_html_<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Adapter::ArrayHtml.call(slf.py(), (slf,), None)
    }

    fn __repr__(&self) -> String {
        let preview = preview_values(&self.array, 10);
        format!(
            "colbridge.Array<{}> len={} nulls={}\n{}",
            type_name(self.array.data_type()),
            self.array.len(),
            null_count(&self.array),
            preview
        )
    }

    /// A NumPy array of the values: a read-only view of the Arrow buffer for fixed-width types
    /// without nulls, otherwise a copy as pyarrow makes it (NaN/NaT for nulls, objects for
    /// strings and nested types). `zero_copy_only=True` raises `ZeroCopyError` instead of copying.
    ///
    /// Example:
    ///     >>> colbridge.array([1.5, 2.5]).to_numpy()
    ///     array([1.5, 2.5])
    #[pyo3(signature = (zero_copy_only = false))]
    fn to_numpy<'py>(slf: Bound<'py, Self>, zero_copy_only: bool) -> PyResult<Bound<'py, PyAny>> {
        Adapter::ArrayToNumpy.call(slf.py(), (slf, zero_copy_only), None)
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
    ///     >>> colbridge.array([1, 2]).to_pandas().tolist()
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
    ///     >>> colbridge.array([1, 2]).to_polars().to_list()
    ///     [1, 2]
    fn to_polars<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Adapter::PolarsSeries.call(slf.py(), (slf,), None)
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ffi::export_schema_capsule(py, self.field.as_ref())
    }

    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(
            ffi::export_array_capsules(py, &self.array, &self.field, requested_schema.as_ref())?
                .into_any(),
        )
    }

    /// The array as a DLPack capsule (the array API's `__dlpack__`), sharing the values of a
    /// null-free numeric or temporal array read-only (see `np.from_dlpack`); `copy=True` exports
    /// a private, writable copy instead.
    ///
    /// Example:
    ///     >>> v = np.from_dlpack(colbridge.array([1.5, 2.5]))
    ///     >>> v, v.flags.writeable
    ///     (array([1.5, 2.5]), False)
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
        dlpack::export(py, &self.array, "the array", &request, false)
    }

    /// The device of `__dlpack__`'s memory: `(1, 0)`, the CPU.
    fn __dlpack_device__(&self) -> (i32, i32) {
        (dlpack::CPU, 0)
    }

    /// `__arrow_c_array__` through the Arrow C device interface, marked as CPU memory.
    #[pyo3(signature = (requested_schema = None, **kwargs))]
    fn __arrow_c_device_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
        kwargs: Option<Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        ffi::check_kwargs(kwargs.as_ref())?;
        let pair =
            ffi::export_array_capsules(py, &self.array, &self.field, requested_schema.as_ref())?;
        Ok(ffi::device_array_capsules(pair)?.into_any())
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
            vec![self.array.clone()],
            self.field.clone(),
            requested_schema.as_ref(),
        )
    }
}
