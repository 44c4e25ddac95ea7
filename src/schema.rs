//! `DataType`, `Field` and `Schema`: thin Python views of arrow-rs schema objects, and the
//! conversion of user-facing type specs (names, pyarrow types, ...) into a `DataType`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::adapters::Adapter;
use crate::datatype::{c_format, parse_type, type_name, unit_name};
use crate::error::Error;
use crate::ffi;

/// An Arrow data type.
///
/// Everything a type can tell about itself is a read-only property, so callers never parse its
/// name: attributes (``format``, ``bit_width``, ``byte_width``, ``time_unit``, ``tz``,
/// ``index_type``, ``value_type``, ``list_size``, ``precision``, ``scale``) are None where the
/// type has no such attribute; predicates (``is_integer``, ``is_temporal``, ...) are bools.
///
/// Example:
///     >>> t = colbridge.DataType("timestamp[ms, tz=UTC]")
///     >>> t
///     DataType(timestamp[ms, tz=UTC])
///     >>> t.format, t.time_unit, t.tz, t.is_temporal
///     ('tsm:UTC', 'ms', 'UTC', True)
#[pyclass(name = "DataType", module = "colbridge", frozen, eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyDataType(pub DataType);

/// A named, typed, nullable slot in a schema.
///
/// Example:
///     >>> colbridge.Field("when", "timestamp[ms]", nullable=False)
///     Field(when: timestamp[ms] not null)
#[pyclass(name = "Field", module = "colbridge", frozen, eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyField(pub FieldRef);

/// An ordered collection of fields, with optional key/value metadata.
///
/// Example:
///     >>> colbridge.Schema([("a", "int64"), colbridge.Field("b", "string")]).names
///     ['a', 'b']
#[pyclass(name = "Schema", module = "colbridge", frozen, eq, sequence)]
#[derive(Clone, PartialEq)]
pub(crate) struct PySchema(pub SchemaRef);

/// `(precision, scale)` of a decimal type.
fn decimal(dt: &DataType) -> Option<(u8, i8)> {
    match dt {
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => Some((*p, *s)),
        _ => None,
    }
}

/// Accept a `DataType`, a type name, or anything with `__arrow_c_schema__` (pyarrow types).
pub(crate) fn extract_type(obj: &Bound<'_, PyAny>) -> PyResult<DataType> {
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

    /// The Arrow C data interface format string (``"l"`` for int64, ``"tsu:UTC"``, ``"+l"`` for
    /// a list); a dictionary type has its index type's format.
    #[getter]
    fn format(&self) -> PyResult<String> {
        Ok(c_format(&self.0)?)
    }

    /// Width in bits of one value for fixed-width types (1 for bool), else None.
    #[getter]
    fn bit_width(&self) -> Option<usize> {
        match &self.0 {
            DataType::Boolean => Some(1),
            dt => dt.primitive_width().map(|w| w * 8),
        }
    }

    /// Width in bytes of one value for fixed-width types and ``fixed_size_binary``, else None.
    #[getter]
    fn byte_width(&self) -> Option<usize> {
        match &self.0 {
            DataType::FixedSizeBinary(n) => usize::try_from(*n).ok(),
            dt => dt.primitive_width(),
        }
    }

    /// The unit ("s", "ms", "us" or "ns") of a timestamp, duration or time type, else None.
    #[getter]
    fn time_unit(&self) -> Option<&'static str> {
        match &self.0 {
            DataType::Timestamp(unit, _)
            | DataType::Duration(unit)
            | DataType::Time32(unit)
            | DataType::Time64(unit) => Some(unit_name(unit)),
            _ => None,
        }
    }

    /// The time zone of a timestamp type ("UTC", "Europe/Paris", "+01:00"), else None.
    #[getter]
    fn tz(&self) -> Option<&str> {
        match &self.0 {
            DataType::Timestamp(_, tz) => tz.as_deref(),
            _ => None,
        }
    }

    /// The index (code) type of a dictionary type, else None.
    #[getter]
    fn index_type(&self) -> Option<PyDataType> {
        match &self.0 {
            DataType::Dictionary(index, _) => Some(PyDataType(index.as_ref().clone())),
            _ => None,
        }
    }

    /// The value type of a dictionary (its distinct values) or of a list type (its items),
    /// else None.
    #[getter]
    fn value_type(&self) -> Option<PyDataType> {
        match &self.0 {
            DataType::Dictionary(_, values) => Some(PyDataType(values.as_ref().clone())),
            DataType::List(item)
            | DataType::LargeList(item)
            | DataType::FixedSizeList(item, _)
            | DataType::ListView(item)
            | DataType::LargeListView(item) => Some(PyDataType(item.data_type().clone())),
            _ => None,
        }
    }

    /// The number of items per value of a ``fixed_size_list`` type, else None.
    #[getter]
    fn list_size(&self) -> Option<i32> {
        match &self.0 {
            DataType::FixedSizeList(_, n) => Some(*n),
            _ => None,
        }
    }

    /// The precision (number of digits) of a decimal type, else None.
    #[getter]
    fn precision(&self) -> Option<u8> {
        decimal(&self.0).map(|(precision, _)| precision)
    }

    /// The scale (digits after the point) of a decimal type, else None.
    #[getter]
    fn scale(&self) -> Option<i8> {
        decimal(&self.0).map(|(_, scale)| scale)
    }

    /// True for the null type (every value is null).
    #[getter]
    fn is_null(&self) -> bool {
        self.0 == DataType::Null
    }

    /// True for bool.
    #[getter]
    fn is_boolean(&self) -> bool {
        self.0 == DataType::Boolean
    }

    /// True for the signed and unsigned integer types.
    #[getter]
    fn is_integer(&self) -> bool {
        self.0.is_integer()
    }

    /// True for int8, int16, int32 and int64.
    #[getter]
    fn is_signed_integer(&self) -> bool {
        self.0.is_signed_integer()
    }

    /// True for uint8, uint16, uint32 and uint64.
    #[getter]
    fn is_unsigned_integer(&self) -> bool {
        self.0.is_unsigned_integer()
    }

    /// True for halffloat, float and double.
    #[getter]
    fn is_floating(&self) -> bool {
        self.0.is_floating()
    }

    /// True for decimal32, decimal64, decimal128 and decimal256.
    #[getter]
    fn is_decimal(&self) -> bool {
        decimal(&self.0).is_some()
    }

    /// True for integers, floating-point numbers and decimals.
    #[getter]
    fn is_numeric(&self) -> bool {
        self.0.is_numeric()
    }

    /// True for timestamps, dates, times, durations and intervals.
    #[getter]
    fn is_temporal(&self) -> bool {
        self.0.is_temporal()
    }

    /// True for timestamp types (with or without a time zone).
    #[getter]
    fn is_timestamp(&self) -> bool {
        matches!(self.0, DataType::Timestamp(..))
    }

    /// True for date32 and date64.
    #[getter]
    fn is_date(&self) -> bool {
        matches!(self.0, DataType::Date32 | DataType::Date64)
    }

    /// True for time32 and time64 (a time of day).
    #[getter]
    fn is_time(&self) -> bool {
        matches!(self.0, DataType::Time32(_) | DataType::Time64(_))
    }

    /// True for duration types.
    #[getter]
    fn is_duration(&self) -> bool {
        matches!(self.0, DataType::Duration(_))
    }

    /// True for string, large_string and string_view.
    #[getter]
    fn is_string(&self) -> bool {
        matches!(
            self.0,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        )
    }

    /// True for binary, large_binary and binary_view (not fixed_size_binary).
    #[getter]
    fn is_binary(&self) -> bool {
        matches!(
            self.0,
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView
        )
    }

    /// True for list, large_list, fixed_size_list and the list views.
    #[getter]
    fn is_list(&self) -> bool {
        matches!(
            self.0,
            DataType::List(_)
                | DataType::LargeList(_)
                | DataType::FixedSizeList(..)
                | DataType::ListView(_)
                | DataType::LargeListView(_)
        )
    }

    /// True for struct types.
    #[getter]
    fn is_struct(&self) -> bool {
        matches!(self.0, DataType::Struct(_))
    }

    /// True for map types.
    #[getter]
    fn is_map(&self) -> bool {
        matches!(self.0, DataType::Map(..))
    }

    /// True for dictionary-encoded types.
    #[getter]
    fn is_dictionary(&self) -> bool {
        matches!(self.0, DataType::Dictionary(..))
    }

    /// True for types with child types: lists, structs, maps and unions.
    #[getter]
    fn is_nested(&self) -> bool {
        self.0.is_nested()
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
pub(crate) fn field_index(schema: &Schema, key: &Bound<'_, PyAny>) -> PyResult<usize> {
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
