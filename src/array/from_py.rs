//! Python sequences → Arrow arrays: infer a type the way pyarrow does (or take the one given),
//! then build with arrow-rs builders. Work is per Python object, so it runs under the GIL.

use std::sync::Arc;

use arrow_array::builder::*;
use arrow_array::types::*;
use arrow_array::{new_null_array, Array, ArrayRef, ListArray, StructArray};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateTime, PyDelta, PyDict, PyFloat, PyInt, PyList,
    PyString, PyTime, PyTuple,
};

use crate::datatype::units_per_second;
use crate::error::{Error, Result};

/// What one Python value looks like, for type inference.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Null,
    Bool,
    Int { negative: bool, fits_i64: bool },
    Float,
    Str,
    Bytes,
    DateTime(Option<String>),
    Date,
    Time,
    Duration,
    Decimal { precision: u8, scale: i8 },
    List(Box<Kind>),
    Struct(Vec<(String, Kind)>),
}

fn kind_name(k: &Kind) -> &'static str {
    match k {
        Kind::Null => "None",
        Kind::Bool => "bool",
        Kind::Int { .. } => "int",
        Kind::Float => "float",
        Kind::Str => "str",
        Kind::Bytes => "bytes",
        Kind::DateTime(_) => "datetime",
        Kind::Date => "date",
        Kind::Time => "time",
        Kind::Duration => "timedelta",
        Kind::Decimal { .. } => "Decimal",
        Kind::List(_) => "list",
        Kind::Struct(_) => "dict",
    }
}

fn is_decimal(v: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(v.get_type().name()?.to_str()? == "Decimal")
}

fn tz_name(v: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let tz = v.getattr("tzinfo")?;
    if tz.is_none() {
        return Ok(None);
    }
    if let Ok(key) = tz.getattr("key") {
        if let Ok(key) = key.extract::<String>() {
            return Ok(Some(key));
        }
    }
    let offset = v.call_method0("utcoffset")?;
    let secs: f64 = offset.call_method0("total_seconds")?.extract()?;
    let secs = secs as i64;
    if secs == 0 {
        return Ok(Some("UTC".into()));
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    Ok(Some(format!(
        "{sign}{:02}:{:02}",
        a / 3600,
        (a % 3600) / 60
    )))
}

fn decimal_shape(v: &Bound<'_, PyAny>) -> Result<(u8, i8)> {
    let t = v
        .call_method0("as_tuple")
        .map_err(|e| Error::InvalidInput(e.to_string()))?;
    let digits: Vec<u8> = t
        .getattr("digits")
        .and_then(|d| d.extract())
        .map_err(|e| Error::InvalidInput(e.to_string()))?;
    let exp: i64 = t
        .getattr("exponent")
        .and_then(|e| e.extract())
        .map_err(|_| {
            Error::InvalidInput(format!("cannot convert non-finite Decimal {v} to Arrow"))
        })?;
    let n = digits.len() as i64;
    let scale = (-exp).max(0);
    let precision = if exp >= 0 { n + exp } else { n.max(scale) };
    if precision > 38 {
        return Err(Error::InvalidInput(format!(
            "Decimal {v} needs more than 38 digits"
        )));
    }
    Ok((precision.max(1) as u8, scale as i8))
}

fn kind_of(v: &Bound<'_, PyAny>) -> Result<Kind> {
    if v.is_none() {
        return Ok(Kind::Null);
    }
    if v.is_instance_of::<PyBool>() {
        return Ok(Kind::Bool);
    }
    if v.is_instance_of::<PyInt>() {
        let fits_i64 = v.extract::<i64>().is_ok();
        if !fits_i64 && v.extract::<u64>().is_err() {
            return Err(Error::InvalidInput(format!(
                "integer {v} does not fit in 64 bits"
            )));
        }
        let negative = v.lt(0).unwrap_or(false);
        return Ok(Kind::Int { negative, fits_i64 });
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(Kind::Float);
    }
    if v.is_instance_of::<PyString>() {
        return Ok(Kind::Str);
    }
    if v.is_instance_of::<PyBytes>() || v.is_instance_of::<PyByteArray>() {
        return Ok(Kind::Bytes);
    }
    if v.is_instance_of::<PyDateTime>() {
        return Ok(Kind::DateTime(
            tz_name(v).map_err(|e| Error::InvalidInput(e.to_string()))?,
        ));
    }
    if v.is_instance_of::<PyDate>() {
        return Ok(Kind::Date);
    }
    if v.is_instance_of::<PyTime>() {
        return Ok(Kind::Time);
    }
    if v.is_instance_of::<PyDelta>() {
        return Ok(Kind::Duration);
    }
    if is_decimal(v).unwrap_or(false) {
        let (precision, scale) = decimal_shape(v)?;
        return Ok(Kind::Decimal { precision, scale });
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        return Ok(Kind::List(Box::new(infer(&items(v)?)?)));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut fields: Vec<(String, Kind)> = Vec::new();
        for (k, val) in d.iter() {
            let name: String = k.extract().map_err(|_| {
                Error::UnsupportedType(format!(
                    "dict keys must be str to become struct fields, got {k}"
                ))
            })?;
            fields.push((name, kind_of(&val)?));
        }
        return Ok(Kind::Struct(fields));
    }
    // NumPy scalars and other number-likes.
    if v.hasattr("__index__").unwrap_or(false) && v.extract::<i64>().is_ok() {
        return Ok(Kind::Int {
            negative: v.lt(0).unwrap_or(false),
            fits_i64: true,
        });
    }
    if v.hasattr("__float__").unwrap_or(false) && !v.hasattr("__len__").unwrap_or(false) {
        return Ok(Kind::Float);
    }
    if v.hasattr("__len__").unwrap_or(false) && v.hasattr("__getitem__").unwrap_or(false) {
        return Ok(Kind::List(Box::new(infer(&items(v)?)?)));
    }
    Err(Error::UnsupportedType(format!(
        "cannot convert Python object of type {} to an Arrow value",
        v.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default()
    )))
}

fn items<'py>(v: &Bound<'py, PyAny>) -> Result<Vec<Bound<'py, PyAny>>> {
    v.try_iter()
        .and_then(|it| it.collect::<PyResult<Vec<_>>>())
        .map_err(|e| Error::InvalidInput(e.to_string()))
}

fn merge(a: Kind, b: Kind) -> Result<Kind> {
    use Kind::*;
    Ok(match (a, b) {
        (Null, x) | (x, Null) => x,
        (
            Int {
                negative: n1,
                fits_i64: f1,
            },
            Int {
                negative: n2,
                fits_i64: f2,
            },
        ) => {
            let (negative, fits_i64) = (n1 || n2, f1 && f2);
            if negative && !fits_i64 {
                return Err(Error::InvalidInput(
                    "integers span beyond both int64 and uint64".into(),
                ));
            }
            Int { negative, fits_i64 }
        }
        (Int { .. }, Float) | (Float, Int { .. }) => Float,
        (
            Decimal {
                precision: p1,
                scale: s1,
            },
            Decimal {
                precision: p2,
                scale: s2,
            },
        ) => {
            let scale = s1.max(s2);
            let int_digits = (p1 as i16 - s1 as i16).max(p2 as i16 - s2 as i16);
            Decimal {
                precision: (int_digits + scale as i16).clamp(1, 38) as u8,
                scale,
            }
        }
        (DateTime(t1), DateTime(t2)) => DateTime(t1.or(t2)),
        (List(x), List(y)) => List(Box::new(merge(*x, *y)?)),
        (Struct(mut f1), Struct(f2)) => {
            for (name, k) in f2 {
                match f1.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = merge(slot.1.clone(), k)?,
                    None => f1.push((name, k)),
                }
            }
            Struct(f1)
        }
        (x, y) if x == y => x,
        (x @ List(_), y) | (y, x @ List(_)) => {
            return Err(Error::InvalidInput(format!(
                "ragged nesting: found both a {} and a {} at the same level",
                kind_name(&x),
                kind_name(&y)
            )))
        }
        (x, y) => {
            return Err(Error::InvalidInput(format!(
                "mixed types: cannot put {} and {} in one array",
                kind_name(&x),
                kind_name(&y)
            )))
        }
    })
}

fn infer(values: &[Bound<'_, PyAny>]) -> Result<Kind> {
    let mut kind = Kind::Null;
    for v in values {
        kind = merge(kind, kind_of(v)?)?;
    }
    Ok(kind)
}

fn kind_to_type(k: &Kind) -> DataType {
    match k {
        Kind::Null => DataType::Null,
        Kind::Bool => DataType::Boolean,
        Kind::Int {
            fits_i64: false, ..
        } => DataType::UInt64,
        Kind::Int { .. } => DataType::Int64,
        Kind::Float => DataType::Float64,
        Kind::Str => DataType::Utf8,
        Kind::Bytes => DataType::Binary,
        Kind::DateTime(tz) => {
            DataType::Timestamp(TimeUnit::Microsecond, tz.as_deref().map(Arc::from))
        }
        Kind::Date => DataType::Date32,
        Kind::Time => DataType::Time64(TimeUnit::Microsecond),
        Kind::Duration => DataType::Duration(TimeUnit::Microsecond),
        Kind::Decimal { precision, scale } => DataType::Decimal128(*precision, *scale),
        Kind::List(inner) => {
            DataType::List(Arc::new(Field::new("item", kind_to_type(inner), true)))
        }
        Kind::Struct(fields) => DataType::Struct(Fields::from(
            fields
                .iter()
                .map(|(n, k)| Field::new(n, kind_to_type(k), true))
                .collect::<Vec<_>>(),
        )),
    }
}

/// Infer the Arrow type of a sequence of Python values.
pub(crate) fn infer_type(values: &[Bound<'_, PyAny>]) -> Result<DataType> {
    Ok(kind_to_type(&infer(values)?))
}

fn bad_value(v: &Bound<'_, PyAny>, dt: &DataType) -> Error {
    let tname = v
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    Error::InvalidInput(format!(
        "could not convert {} (type {tname}) to {}",
        v.repr().map(|r| r.to_string()).unwrap_or_default(),
        crate::datatype::type_name(dt)
    ))
}

fn from_delta(d: TimeDelta, unit: &TimeUnit) -> Option<i64> {
    let secs = d.num_seconds();
    let sub = d.subsec_nanos() as i64;
    secs.checked_mul(units_per_second(unit))?
        .checked_add(sub * units_per_second(unit) / 1_000_000_000)
}

fn datetime_value(v: &Bound<'_, PyAny>, unit: &TimeUnit) -> Option<i64> {
    let naive_utc: NaiveDateTime = if v.getattr("tzinfo").ok()?.is_none() {
        v.extract().ok()?
    } else {
        // Any tzinfo (fixed offsets, zoneinfo, pytz, dateutil): wall time minus its UTC offset.
        let offset: TimeDelta = v.call_method0("utcoffset").ok()?.extract().ok()?;
        let kwargs = pyo3::types::PyDict::new(v.py());
        kwargs.set_item("tzinfo", v.py().None()).ok()?;
        let wall: NaiveDateTime = v
            .call_method("replace", (), Some(&kwargs))
            .ok()?
            .extract()
            .ok()?;
        wall.checked_sub_signed(offset)?
    };
    from_delta(
        naive_utc.signed_duration_since(chrono::DateTime::UNIX_EPOCH.naive_utc()),
        unit,
    )
}

macro_rules! build_primitive {
    ($values:expr, $dt:expr, $builder:ty, $conv:expr) => {
        build_primitive!($values, $dt, $builder, $conv, $dt)
    };
    // `$shown`: the type a value that does not convert is reported against (a timestamp's,
    // not the int64 storage it is built in).
    ($values:expr, $dt:expr, $builder:ty, $conv:expr, $shown:expr) => {{
        let mut b = <$builder>::with_capacity($values.len());
        for v in $values {
            if v.is_none() {
                b.append_null();
            } else {
                let f = $conv;
                b.append_value(f(v).ok_or_else(|| bad_value(v, $shown))?);
            }
        }
        Arc::new(b.finish().with_data_type($dt.clone())) as ArrayRef
    }};
}

fn int_of<T: for<'a, 'py> FromPyObject<'a, 'py>>(v: &Bound<'_, PyAny>) -> Option<T> {
    if v.is_instance_of::<PyBool>() || v.is_instance_of::<PyFloat>() {
        return None;
    }
    v.extract::<T>().ok()
}

fn validity(values: &[Bound<'_, PyAny>]) -> Option<NullBuffer> {
    let nb = NullBuffer::from(values.iter().map(|v| !v.is_none()).collect::<Vec<_>>());
    (nb.null_count() > 0).then_some(nb)
}

/// Build an array of type `dt` from Python values.
pub(crate) fn build(values: &[Bound<'_, PyAny>], dt: &DataType) -> Result<ArrayRef> {
    use DataType::*;
    Ok(match dt {
        Null => {
            if let Some(v) = values.iter().find(|v| !v.is_none()) {
                return Err(bad_value(v, dt));
            }
            new_null_array(dt, values.len())
        }
        Boolean => {
            let mut b = BooleanBuilder::with_capacity(values.len());
            for v in values {
                if v.is_none() {
                    b.append_null();
                } else if v.is_instance_of::<PyBool>()
                    || v.get_type().name().map(|n| n == "bool_").unwrap_or(false)
                {
                    b.append_value(v.is_truthy().map_err(|_| bad_value(v, dt))?);
                } else {
                    return Err(bad_value(v, dt));
                }
            }
            Arc::new(b.finish())
        }
        Int8 => build_primitive!(values, dt, Int8Builder, int_of::<i8>),
        Int16 => build_primitive!(values, dt, Int16Builder, int_of::<i16>),
        Int32 => build_primitive!(values, dt, Int32Builder, int_of::<i32>),
        Int64 => build_primitive!(values, dt, Int64Builder, int_of::<i64>),
        UInt8 => build_primitive!(values, dt, UInt8Builder, int_of::<u8>),
        UInt16 => build_primitive!(values, dt, UInt16Builder, int_of::<u16>),
        UInt32 => build_primitive!(values, dt, UInt32Builder, int_of::<u32>),
        UInt64 => build_primitive!(values, dt, UInt64Builder, int_of::<u64>),
        Float16 => build_primitive!(values, dt, Float16Builder, |v: &Bound<'_, PyAny>| {
            float_of(v).map(half::f16::from_f64)
        }),
        Float32 => build_primitive!(values, dt, Float32Builder, |v: &Bound<'_, PyAny>| float_of(
            v
        )
        .map(|f| f as f32)),
        Float64 => build_primitive!(values, dt, Float64Builder, float_of),
        Utf8 | LargeUtf8 | Utf8View => {
            let mut b = StringBuilder::with_capacity(values.len(), values.len() * 8);
            for v in values {
                if v.is_none() {
                    b.append_null();
                } else {
                    let s = v.cast::<PyString>().map_err(|_| bad_value(v, dt))?;
                    b.append_value(s.to_str().map_err(|_| bad_value(v, dt))?);
                }
            }
            let arr: ArrayRef = Arc::new(b.finish());
            if dt == &Utf8 {
                arr
            } else {
                arrow_cast::cast(&arr, dt)?
            }
        }
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => {
            let mut b = BinaryBuilder::with_capacity(values.len(), values.len() * 8);
            for v in values {
                if v.is_none() {
                    b.append_null();
                } else if let Ok(bytes) = v.cast::<PyBytes>() {
                    b.append_value(bytes.as_bytes());
                } else if let Ok(ba) = v.cast::<PyByteArray>() {
                    b.append_value(ba.to_vec());
                } else {
                    return Err(bad_value(v, dt));
                }
            }
            let arr: ArrayRef = Arc::new(b.finish());
            if dt == &Binary {
                arr
            } else {
                arrow_cast::cast(&arr, dt)?
            }
        }
        Date32 => build_primitive!(values, dt, Date32Builder, |v: &Bound<'_, PyAny>| {
            if !v.is_instance_of::<PyDate>() || v.is_instance_of::<PyDateTime>() {
                return None;
            }
            let d: NaiveDate = v.extract().ok()?;
            i32::try_from(d.signed_duration_since(NaiveDate::default()).num_days()).ok()
        }),
        Date64 => build_primitive!(values, dt, Date64Builder, |v: &Bound<'_, PyAny>| {
            let d: NaiveDate = v.extract().ok()?;
            Some(d.signed_duration_since(NaiveDate::default()).num_days() * 86_400_000)
        }),
        Time32(unit @ (TimeUnit::Second | TimeUnit::Millisecond)) => {
            // Seconds or milliseconds since midnight always fit in 32 bits.
            let conv = |v: &Bound<'_, PyAny>| -> Option<i32> {
                let t: NaiveTime = v.extract().ok()?;
                i32::try_from(from_delta(t.signed_duration_since(NaiveTime::MIN), unit)?).ok()
            };
            let arr: ArrayRef = build_primitive!(values, &Int32, Int32Builder, conv, dt);
            arrow_array::make_array(arr.to_data().into_builder().data_type(dt.clone()).build()?)
        }
        Time64(unit @ (TimeUnit::Microsecond | TimeUnit::Nanosecond)) => {
            let conv = |v: &Bound<'_, PyAny>| -> Option<i64> {
                let t: NaiveTime = v.extract().ok()?;
                from_delta(t.signed_duration_since(NaiveTime::MIN), unit)
            };
            let arr: ArrayRef = build_primitive!(values, &Int64, Int64Builder, conv, dt);
            arrow_array::make_array(arr.to_data().into_builder().data_type(dt.clone()).build()?)
        }
        Time32(_) | Time64(_) => {
            return Err(Error::InvalidInput(format!(
                "{} is not a valid Arrow type: time32 takes s or ms, time64 us or ns",
                crate::datatype::type_name(dt)
            )))
        }
        Timestamp(unit, _) => {
            let arr: ArrayRef = build_primitive!(
                values,
                &Int64,
                Int64Builder,
                |v: &Bound<'_, PyAny>| {
                    if !v.is_instance_of::<PyDateTime>() {
                        return None;
                    }
                    datetime_value(v, unit)
                },
                dt
            );
            Arc::new(arrow_array::make_array(
                arr.to_data().into_builder().data_type(dt.clone()).build()?,
            ))
        }
        Duration(unit) => {
            let arr: ArrayRef = build_primitive!(
                values,
                &Int64,
                Int64Builder,
                |v: &Bound<'_, PyAny>| {
                    let d: TimeDelta = v.extract().ok()?;
                    from_delta(d, unit)
                },
                dt
            );
            Arc::new(arrow_array::make_array(
                arr.to_data().into_builder().data_type(dt.clone()).build()?,
            ))
        }
        Decimal128(p, s) => {
            let mut b = Decimal128Builder::with_capacity(values.len());
            for v in values {
                if v.is_none() {
                    b.append_null();
                    continue;
                }
                let text = if is_decimal(v).unwrap_or(false) || v.is_instance_of::<PyInt>() {
                    v.str().map_err(|_| bad_value(v, dt))?.to_string()
                } else {
                    return Err(bad_value(v, dt));
                };
                if drops_digits(v, *s) {
                    return Err(Error::InvalidInput(format!(
                        "{} has more than {s} digits after the decimal point: converting it to \
                         {} would lose data",
                        v.repr().map(|r| r.to_string()).unwrap_or_default(),
                        crate::datatype::type_name(dt)
                    )));
                }
                let x = arrow_cast::parse::parse_decimal::<Decimal128Type>(&text, *p, *s)
                    .map_err(|_| bad_value(v, dt))?;
                b.append_value(x);
            }
            Arc::new(b.finish().with_precision_and_scale(*p, *s)?)
        }
        List(field) | LargeList(field) => {
            let mut offsets = Vec::with_capacity(values.len() + 1);
            offsets.push(0i64);
            let mut children: Vec<Bound<'_, PyAny>> = Vec::new();
            for v in values {
                if !v.is_none() {
                    if v.is_instance_of::<PyString>()
                        || v.is_instance_of::<PyBytes>()
                        || v.is_instance_of::<PyDict>()
                    {
                        return Err(bad_value(v, dt));
                    }
                    children.extend(items(v).map_err(|_| bad_value(v, dt))?);
                }
                offsets.push(children.len() as i64);
            }
            let child = build(&children, field.data_type())?;
            let nulls = validity(values);
            let list = if matches!(dt, LargeList(_)) {
                Arc::new(arrow_array::LargeListArray::try_new(
                    field.clone(),
                    OffsetBuffer::new(offsets.into()),
                    child,
                    nulls,
                )?) as ArrayRef
            } else {
                let small: Vec<i32> = offsets
                    .iter()
                    .map(|&o| i32::try_from(o))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|_| {
                        Error::InvalidInput(
                            "list too long for 32-bit offsets; use large_list".into(),
                        )
                    })?;
                Arc::new(ListArray::try_new(
                    field.clone(),
                    OffsetBuffer::new(small.into()),
                    child,
                    nulls,
                )?)
            };
            list
        }
        Struct(fields) => {
            let mut columns = Vec::with_capacity(fields.len());
            for f in fields.iter() {
                let mut col = Vec::with_capacity(values.len());
                for v in values {
                    let item = if v.is_none() {
                        v.py().None().into_bound(v.py())
                    } else {
                        let d = v.cast::<PyDict>().map_err(|_| bad_value(v, dt))?;
                        d.get_item(f.name())
                            .map_err(|_| bad_value(v, dt))?
                            .unwrap_or_else(|| v.py().None().into_bound(v.py()))
                    };
                    col.push(item);
                }
                columns.push(build(&col, f.data_type())?);
            }
            if fields.is_empty() {
                Arc::new(StructArray::new_empty_fields(
                    values.len(),
                    validity(values),
                ))
            } else {
                Arc::new(StructArray::try_new(
                    fields.clone(),
                    columns,
                    validity(values),
                )?)
            }
        }
        Dictionary(_, value_type) => {
            let dense = build(values, value_type)?;
            arrow_cast::cast(&dense, dt)?
        }
        other => {
            return Err(Error::UnsupportedType(format!(
                "building {} arrays from Python objects is not supported",
                crate::datatype::type_name(other)
            )))
        }
    })
}

/// True when a `Decimal` has non-zero digits below `10^-scale`, which parsing at `scale` would
/// silently drop (pyarrow refuses such values too). Integers never do for `scale >= 0`.
fn drops_digits(v: &Bound<'_, PyAny>, scale: i8) -> bool {
    let Ok(t) = v.call_method0("as_tuple") else {
        return false;
    };
    let digits: Vec<u8> = t
        .getattr("digits")
        .and_then(|d| d.extract())
        .unwrap_or_default();
    let Ok(exponent) = t.getattr("exponent").and_then(|e| e.extract::<i64>()) else {
        return false; // non-finite: rejected by the parser
    };
    let extra = -exponent - i64::from(scale);
    extra > 0 && digits.iter().rev().take(extra as usize).any(|d| *d != 0)
}

fn float_of(v: &Bound<'_, PyAny>) -> Option<f64> {
    if v.is_instance_of::<PyBool>() || v.is_instance_of::<PyString>() {
        return None;
    }
    v.extract::<f64>().ok()
}

/// Convert a Python iterable into an Arrow array, of `dt` when given, else of the inferred type.
pub(crate) fn array_from_sequence(
    obj: &Bound<'_, PyAny>,
    dt: Option<DataType>,
) -> Result<ArrayRef> {
    if obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyDict>()
    {
        return Err(Error::UnsupportedType(format!(
            "expected a sequence of values, got a single {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        )));
    }
    let values = obj
        .try_iter()
        .map_err(|_| {
            Error::UnsupportedType(format!(
                "cannot convert object of type {} to an Arrow array",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?
        .collect::<PyResult<Vec<_>>>()
        .map_err(|e| Error::InvalidInput(e.to_string()))?;
    let dt = match dt {
        Some(dt) => dt,
        None => infer_type(&values)?,
    };
    build(&values, &dt)
}
