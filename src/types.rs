//! `DataType`, `Field` and `Schema`: thin Python views of arrow-rs schema objects, plus the
//! parsing of user-facing type names ("int64", "timestamp[ms, tz=UTC]", pyarrow types, ...).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef, TimeUnit};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::error::{Error, Result};
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

fn unit_name(unit: &TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}

fn parse_unit(s: &str) -> Result<TimeUnit> {
    match s.trim() {
        "s" => Ok(TimeUnit::Second),
        "ms" => Ok(TimeUnit::Millisecond),
        "us" => Ok(TimeUnit::Microsecond),
        "ns" => Ok(TimeUnit::Nanosecond),
        other => Err(Error::InvalidInput(format!("unknown time unit '{other}'"))),
    }
}

/// The pyarrow-style name of a type (`int64`, `timestamp[us, tz=UTC]`, `list<item: int64>`).
pub fn type_name(dt: &DataType) -> String {
    use DataType::*;
    match dt {
        Null => "null".into(),
        Boolean => "bool".into(),
        Int8 => "int8".into(),
        Int16 => "int16".into(),
        Int32 => "int32".into(),
        Int64 => "int64".into(),
        UInt8 => "uint8".into(),
        UInt16 => "uint16".into(),
        UInt32 => "uint32".into(),
        UInt64 => "uint64".into(),
        Float16 => "halffloat".into(),
        Float32 => "float".into(),
        Float64 => "double".into(),
        Utf8 => "string".into(),
        LargeUtf8 => "large_string".into(),
        Utf8View => "string_view".into(),
        Binary => "binary".into(),
        LargeBinary => "large_binary".into(),
        BinaryView => "binary_view".into(),
        FixedSizeBinary(n) => format!("fixed_size_binary[{n}]"),
        Date32 => "date32[day]".into(),
        Date64 => "date64[ms]".into(),
        Time32(u) | Time64(u) => {
            let bits = if matches!(dt, Time32(_)) { 32 } else { 64 };
            format!("time{bits}[{}]", unit_name(u))
        }
        Timestamp(u, None) => format!("timestamp[{}]", unit_name(u)),
        Timestamp(u, Some(tz)) => format!("timestamp[{}, tz={tz}]", unit_name(u)),
        Duration(u) => format!("duration[{}]", unit_name(u)),
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) | Decimal256(p, s) => {
            let bits = match dt {
                Decimal32(..) => "decimal32",
                Decimal64(..) => "decimal64",
                Decimal128(..) => "decimal128",
                _ => "decimal256",
            };
            format!("{bits}({p}, {s})")
        }
        List(f) => format!("list<{}: {}>", f.name(), type_name(f.data_type())),
        LargeList(f) => format!("large_list<{}: {}>", f.name(), type_name(f.data_type())),
        FixedSizeList(f, n) => {
            format!(
                "fixed_size_list<{}: {}>[{n}]",
                f.name(),
                type_name(f.data_type())
            )
        }
        Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.name(), type_name(f.data_type())))
                .collect();
            format!("struct<{}>", inner.join(", "))
        }
        Map(f, _) => match f.data_type() {
            Struct(kv) if kv.len() == 2 => format!(
                "map<{}, {}>",
                type_name(kv[0].data_type()),
                type_name(kv[1].data_type())
            ),
            _ => format!("{dt}"),
        },
        Dictionary(k, v) => format!(
            "dictionary<values={}, indices={}, ordered=0>",
            type_name(v),
            type_name(k)
        ),
        other => format!("{other}"),
    }
}

/// Parse a pyarrow-style type name; falls back to arrow-rs' own `Display` syntax.
pub fn parse_type(name: &str) -> Result<DataType> {
    use DataType::*;
    let s = name.trim();
    let simple = match s {
        "null" | "na" => Some(Null),
        "bool" | "boolean" => Some(Boolean),
        "int8" | "i1" => Some(Int8),
        "int16" | "i2" => Some(Int16),
        "int32" | "i4" => Some(Int32),
        "int64" | "i8" => Some(Int64),
        "uint8" | "u1" => Some(UInt8),
        "uint16" | "u2" => Some(UInt16),
        "uint32" | "u4" => Some(UInt32),
        "uint64" | "u8" => Some(UInt64),
        "float16" | "halffloat" | "f2" => Some(Float16),
        "float32" | "float" | "f4" => Some(Float32),
        "float64" | "double" | "f8" => Some(Float64),
        "string" | "str" | "utf8" => Some(Utf8),
        "large_string" | "large_utf8" => Some(LargeUtf8),
        "string_view" | "utf8_view" => Some(Utf8View),
        "binary" | "bytes" => Some(Binary),
        "large_binary" => Some(LargeBinary),
        "binary_view" => Some(BinaryView),
        "date32" | "date32[day]" => Some(Date32),
        "date64" | "date64[ms]" => Some(Date64),
        _ => None,
    };
    if let Some(dt) = simple {
        return Ok(dt);
    }
    let bracket = |prefix: &str| -> Option<&str> {
        s.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('['))
            .and_then(|rest| rest.strip_suffix(']'))
    };
    if let Some(args) = bracket("timestamp") {
        let mut parts = args.splitn(2, ',');
        let unit = parse_unit(parts.next().unwrap_or(""))?;
        let tz = parts
            .next()
            .map(|t| t.trim().trim_start_matches("tz=").trim().to_string());
        return Ok(Timestamp(unit, tz.map(Arc::from)));
    }
    if let Some(args) = bracket("duration") {
        return Ok(Duration(parse_unit(args)?));
    }
    if let Some(args) = bracket("time32") {
        return match parse_unit(args)? {
            unit @ (TimeUnit::Second | TimeUnit::Millisecond) => Ok(Time32(unit)),
            _ => Err(Error::InvalidInput(format!(
                "unknown data type '{name}': time32 takes s or ms"
            ))),
        };
    }
    if let Some(args) = bracket("time64") {
        return match parse_unit(args)? {
            unit @ (TimeUnit::Microsecond | TimeUnit::Nanosecond) => Ok(Time64(unit)),
            _ => Err(Error::InvalidInput(format!(
                "unknown data type '{name}': time64 takes us or ns"
            ))),
        };
    }
    if let Some(n) = bracket("fixed_size_binary") {
        let n = n
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                Error::InvalidInput(format!("unknown data type '{name}': bad byte width"))
            })?;
        return Ok(FixedSizeBinary(n));
    }
    for (prefix, bits) in [
        ("decimal32", 32),
        ("decimal64", 64),
        ("decimal128", 128),
        ("decimal256", 256),
    ] {
        if let Some(args) = s
            .strip_prefix(prefix)
            .and_then(|rest| rest.trim_start().strip_prefix('('))
            .and_then(|rest| rest.strip_suffix(')'))
        {
            return parse_decimal(name, args, bits);
        }
    }
    // The nested names `type_name` prints: `list<item: T>` and `large_list<item: T>`.
    for (prefix, large) in [("list<", false), ("large_list<", true)] {
        if let Some(inner) = s
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix('>'))
        {
            let (field_name, child) = inner.split_once(':').unwrap_or(("item", inner));
            let field = Arc::new(Field::new(field_name.trim(), parse_type(child)?, true));
            return Ok(if large { LargeList(field) } else { List(field) });
        }
    }
    s.parse::<DataType>()
        .map_err(|_| Error::InvalidInput(format!("unknown data type '{name}'")))
}

/// `decimalNN(precision, scale)` with the precision checked against the width.
fn parse_decimal(name: &str, args: &str, bits: u32) -> Result<DataType> {
    let bad = || {
        Error::InvalidInput(format!(
            "unknown data type '{name}': expected (precision, scale)"
        ))
    };
    let (p, sc) = args.split_once(',').ok_or_else(bad)?;
    let precision: u8 = p.trim().parse().map_err(|_| bad())?;
    let scale: i8 = sc.trim().parse().map_err(|_| bad())?;
    let max = match bits {
        32 => arrow_schema::DECIMAL32_MAX_PRECISION,
        64 => arrow_schema::DECIMAL64_MAX_PRECISION,
        128 => arrow_schema::DECIMAL128_MAX_PRECISION,
        _ => arrow_schema::DECIMAL256_MAX_PRECISION,
    };
    if precision == 0 || precision > max || scale > precision as i8 {
        return Err(Error::InvalidInput(format!(
            "unknown data type '{name}': decimal{bits} takes a precision of 1..={max} and a scale \
             no larger than the precision"
        )));
    }
    Ok(match bits {
        32 => DataType::Decimal32(precision, scale),
        64 => DataType::Decimal64(precision, scale),
        128 => DataType::Decimal128(precision, scale),
        _ => DataType::Decimal256(precision, scale),
    })
}

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
        crate::adapters::call(slf.py(), "colbridge._repr", "schema_html", (slf,), None)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyarrow_names_round_trip() {
        for name in [
            "int8",
            "uint64",
            "double",
            "halffloat",
            "string",
            "large_binary",
            "date32[day]",
            "timestamp[ms]",
            "timestamp[ns, tz=Europe/Paris]",
            "duration[us]",
            "time64[ns]",
        ] {
            let dt = parse_type(name).expect(name);
            assert_eq!(type_name(&dt), name);
        }
    }

    #[test]
    fn unknown_names_are_errors_not_panics() {
        assert!(parse_type("int128").is_err());
        assert!(parse_type("timestamp[fortnight]").is_err());
    }
}
