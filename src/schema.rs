//! `DataType`, `Field` and `Schema`: thin Python views of arrow-rs schema objects, and the
//! conversion of user-facing type specs (names, pyarrow types, ...) into a `DataType`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::adapters::Adapter;
use crate::datatype::{parse_type, type_name};
use crate::error::Error;
use crate::ffi;

/// An Arrow data type.
///
/// Example:
///     >>> colbridge.DataType("timestamp[ms, tz=UTC]")
///     DataType(timestamp[ms, tz=UTC])
#[pyclass(name = "DataType", module = "colbridge", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyDataType(pub DataType);

/// A named, typed, nullable slot in a schema.
///
/// Example:
///     >>> colbridge.Field("when", "timestamp[ms]", nullable=False)
///     Field(when: timestamp[ms] not null)
#[pyclass(name = "Field", module = "colbridge", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyField(pub FieldRef);

/// An ordered collection of fields, with optional key/value metadata.
///
/// Example:
///     >>> colbridge.Schema([("a", "int64"), colbridge.Field("b", "string")]).names
///     ['a', 'b']
#[pyclass(name = "Schema", module = "colbridge", frozen, eq, sequence)]
#[derive(Clone, PartialEq)]
pub struct PySchema(pub SchemaRef);

/// Accept a `DataType`, a type name, or anything with `__arrow_c_schema__` (pyarrow types).
pub fn extract_type(obj: &Bound<'_, PyAny>) -> PyResult<DataType> {
    if let Ok(dt) = obj.cast::<PyDataType>() {
        return Ok(dt.get().0.clone());
    }
    if let Ok(name) = obj.extract::<String>() {
        return Ok(parse_type(&name)?);
    }
    if obj.hasattr("__arrow_c_schema__")? {
        return Ok(ffi::import_field(obj)?.data_type().clone());
    }
    Err(Error::UnsupportedType(format!(
        "expected a colbridge.DataType, a type name or an object with __arrow_c_schema__, got {}",
        obj.get_type().name()?
    ))
    .into())
}

#[pymethods]
impl PyDataType {
    #[new]
    fn py_new(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self(extract_type(spec)?))
    }

    /// Width in bits of one value for fixed-width types, else None.
    #[getter]
    fn bit_width(&self) -> Option<usize> {
        match &self.0 {
            DataType::Boolean => Some(1),
            dt => dt.primitive_width().map(|w| w * 8),
        }
    }

    fn __str__(&self) -> String {
        type_name(&self.0)
    }

    fn __repr__(&self) -> String {
        format!("DataType({})", type_name(&self.0))
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.0.hash(&mut h);
        h.finish()
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ffi::export_schema_capsule(py, Field::new("", self.0.clone(), true))
    }
}

#[pymethods]
impl PyField {
    #[new]
    #[pyo3(signature = (name, r#type, nullable = true))]
    fn py_new(name: String, r#type: &Bound<'_, PyAny>, nullable: bool) -> PyResult<Self> {
        Ok(Self(Arc::new(Field::new(
            name,
            extract_type(r#type)?,
            nullable,
        ))))
    }

    /// The field's name.
    #[getter]
    fn name(&self) -> &str {
        self.0.name()
    }

    /// The field's Arrow data type.
    #[getter]
    fn r#type(&self) -> PyDataType {
        PyDataType(self.0.data_type().clone())
    }

    /// Whether the field may hold nulls.
    #[getter]
    fn nullable(&self) -> bool {
        self.0.is_nullable()
    }

    /// Key/value metadata (the field's or the schema's).
    #[getter]
    fn metadata(&self) -> HashMap<String, String> {
        self.0.metadata().clone()
    }

    fn __repr__(&self) -> String {
        let not_null = if self.0.is_nullable() {
            ""
        } else {
            " not null"
        };
        format!(
            "Field({}: {}{})",
            self.0.name(),
            type_name(self.0.data_type()),
            not_null
        )
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ffi::export_schema_capsule(py, self.0.as_ref())
    }
}

#[pymethods]
impl PySchema {
    /// Build a schema from a list of `Field`s or `(name, type)` pairs.
    #[new]
    fn py_new(fields: Vec<Bound<'_, PyAny>>) -> PyResult<Self> {
        let mut out = Vec::with_capacity(fields.len());
        for f in fields {
            if let Ok(field) = f.cast::<PyField>() {
                out.push(field.get().0.clone());
            } else if let Ok(pair) = f.cast::<PyTuple>() {
                let name: String = pair.get_item(0)?.extract()?;
                let dt = extract_type(&pair.get_item(1)?)?;
                out.push(Arc::new(Field::new(name, dt, true)));
            } else {
                return Err(Error::UnsupportedType(
                    "Schema() takes Field objects or (name, type) pairs".into(),
                )
                .into());
            }
        }
        Ok(Self(Arc::new(Schema::new(out))))
    }

    /// The fields' names, in order.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.0.fields().iter().map(|f| f.name().clone()).collect()
    }

    /// The fields' data types, in order.
    #[getter]
    fn types(&self) -> Vec<PyDataType> {
        self.0
            .fields()
            .iter()
            .map(|f| PyDataType(f.data_type().clone()))
            .collect()
    }

    /// Key/value metadata (the field's or the schema's).
    #[getter]
    fn metadata(&self) -> HashMap<String, String> {
        self.0.metadata().clone()
    }

    /// The field at an index or with a name.
    ///
    /// Example:
    ///     >>> colbridge.Schema([("a", "int64")]).field("a")
    ///     Field(a: int64)
    fn field(&self, key: &Bound<'_, PyAny>) -> PyResult<PyField> {
        self.__getitem__(key)
    }

    fn __len__(&self) -> usize {
        self.0.fields().len()
    }

    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<PyField> {
        let index = field_index(&self.0, key)?;
        Ok(PyField(self.0.fields()[index].clone()))
    }

    fn _repr_html_<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Adapter::SchemaHtml.call(slf.py(), (slf,), None)
    }

    fn __repr__(&self) -> String {
        let lines: Vec<String> = self
            .0
            .fields()
            .iter()
            .map(|f| {
                let not_null = if f.is_nullable() { "" } else { " not null" };
                format!("  {}: {}{}", f.name(), type_name(f.data_type()), not_null)
            })
            .collect();
        format!("Schema(\n{}\n)", lines.join("\n"))
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ffi::export_schema_capsule(py, self.0.as_ref())
    }
}

/// Resolve an integer position (negative counts from the end) or a column name.
pub fn field_index(schema: &Schema, key: &Bound<'_, PyAny>) -> PyResult<usize> {
    let n = schema.fields().len();
    if let Ok(i) = key.extract::<isize>() {
        let j = if i < 0 { i + n as isize } else { i };
        if j < 0 || j as usize >= n {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "column index {i} out of range for {n} columns"
            )));
        }
        return Ok(j as usize);
    }
    let name: String = key.extract()?;
    schema
        .index_of(&name)
        .map_err(|_| pyo3::exceptions::PyKeyError::new_err(format!("no column named '{name}'")))
}
