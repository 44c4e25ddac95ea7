//! colbridge's native core: Arrow arrays built and owned in Rust, lent to Python through the
//! buffer protocol and the Arrow C data interface. This file only registers the pieces.

mod adapters;
mod alloc;
mod array;
mod atomic_file;
mod buffer;
mod chunked;
mod datatype;
mod error;
mod ffi;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod interop;
mod ipc;
mod parquet;
mod progress;
#[cfg(feature = "remote")]
mod remote;
mod schema;
mod table;

use std::sync::Arc;

use arrow_schema::Field;
use pyo3::prelude::*;

use crate::array::PyArray;
use crate::chunked::PyChunkedArray;
use crate::table::PyTable;

// Old path of `schema`, still used by the parquet modules; remove once they import `schema`.

/// Build an `Array` from a Python iterable, inferring the type unless `type` is given.
#[pyfunction]
#[pyo3(signature = (obj, r#type = None))]
fn array_from_sequence(
    obj: &Bound<'_, PyAny>,
    r#type: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    let dt = r#type.map(schema::extract_type).transpose()?;
    Ok(PyArray::new(array::from_py::array_from_sequence(obj, dt)?))
}

/// Build an `Array` of `type` over the memory of a buffer-protocol object (no copy), with an
/// optional NumPy-style boolean mask (True = null).
#[pyfunction]
#[pyo3(signature = (obj, r#type, mask = None))]
fn array_from_buffer(
    obj: &Bound<'_, PyAny>,
    r#type: &Bound<'_, PyAny>,
    mask: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    let dt = schema::extract_type(r#type)?;
    Ok(PyArray::new(buffer::import::array_from_buffer(
        obj, dt, mask,
    )?))
}

/// A dictionary array of int32 `indices` into `dictionary` (no copy of either; arrays that
/// share one `dictionary` concatenate without merging it). Indices are checked.
#[pyfunction]
fn dictionary_from_indices(
    indices: &Bound<'_, PyArray>,
    dictionary: &Bound<'_, PyArray>,
) -> PyResult<PyArray> {
    let keys = indices
        .get()
        .array
        .as_any()
        .downcast_ref::<arrow_array::Int32Array>()
        .ok_or_else(|| error::Error::InvalidInput("dictionary indices must be int32".into()))?
        .clone();
    let array = arrow_array::DictionaryArray::try_new(keys, dictionary.get().array.clone())
        .map_err(error::Error::from)?;
    Ok(PyArray::new(Arc::new(array)))
}

/// Import any `__arrow_c_array__` / `__arrow_c_stream__` producer as chunks (no copy), fully
/// validated unless `validate` is false.
#[pyfunction]
#[pyo3(signature = (obj, validate = true))]
fn chunked_from_arrow(obj: &Bound<'_, PyAny>, validate: bool) -> PyResult<PyChunkedArray> {
    let (chunks, field) = ffi::import_chunks(obj, validate)?;
    Ok(PyChunkedArray::try_new(chunks, field)?)
}

/// A `ChunkedArray` from arrays of one type (no copy).
#[pyfunction]
fn chunked_from_arrays(arrays: Vec<Bound<'_, PyArray>>) -> PyResult<PyChunkedArray> {
    let field = arrays
        .first()
        .map(|a| a.get().field.clone())
        .ok_or_else(|| error::Error::InvalidInput("need at least one chunk".into()))?;
    Ok(PyChunkedArray::try_new(
        arrays.iter().map(|a| a.get().array.clone()).collect(),
        field,
    )?)
}

/// Import any table-like producer (`__arrow_c_stream__` of record batches) as a `Table`, fully
/// validated unless `validate` is false.
#[pyfunction]
#[pyo3(signature = (obj, validate = true))]
fn table_from_arrow(obj: &Bound<'_, PyAny>, validate: bool) -> PyResult<PyTable> {
    let (schema, batches) = ffi::import_batches(obj, validate)?;
    Ok(PyTable::from_batches(schema, &batches)?)
}

/// A `Table` from column names and columns (`Array` or `ChunkedArray` each).
#[pyfunction]
fn table_from_columns(names: Vec<String>, columns: Vec<Bound<'_, PyAny>>) -> PyResult<PyTable> {
    let mut cols = Vec::with_capacity(columns.len());
    for (name, c) in names.iter().zip(&columns) {
        if let Ok(a) = c.cast::<PyArray>() {
            let a = a.get();
            let field = Arc::new(Field::new(name, a.array.data_type().clone(), true));
            cols.push(PyChunkedArray::try_new(vec![a.array.clone()], field)?);
        } else {
            cols.push(c.cast::<PyChunkedArray>()?.get().clone());
        }
    }
    Ok(table::table_from_columns(names, cols)?)
}

#[pymodule]
fn _colbridge(m: &Bound<'_, PyModule>) -> PyResult<()> {
    alloc::configure();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<buffer::PyBuffer>()?;
    m.add_class::<schema::PyDataType>()?;
    m.add_class::<schema::PyField>()?;
    m.add_class::<schema::PySchema>()?;
    m.add_class::<PyArray>()?;
    m.add_class::<PyChunkedArray>()?;
    m.add_class::<PyTable>()?;
    #[cfg(feature = "remote")]
    m.add_class::<remote::PyRemoteFile>()?;
    #[cfg(feature = "remote")]
    m.add_function(wrap_pyfunction!(remote::list_objects, m)?)?;
    m.add_function(wrap_pyfunction!(alloc::release_memory, m)?)?;
    m.add_function(wrap_pyfunction!(array_from_sequence, m)?)?;
    m.add_function(wrap_pyfunction!(array_from_buffer, m)?)?;
    m.add_function(wrap_pyfunction!(chunked_from_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(table_from_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(chunked_from_arrays, m)?)?;
    m.add_function(wrap_pyfunction!(dictionary_from_indices, m)?)?;
    m.add_function(wrap_pyfunction!(table_from_columns, m)?)?;
    m.add_function(wrap_pyfunction!(adapters::_adapter_targets, m)?)?;
    parquet::register(m)?;
    ipc::register(m)?;
    Ok(())
}
