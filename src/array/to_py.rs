//! Arrow values → Python objects (`to_pylist`, scalar indexing), the way pyarrow's `as_py`
//! converts them.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use pyo3::IntoPyObjectExt;

use crate::datatype::nanos_per_unit;
use crate::error::Error;

fn split(value: i64, unit: &TimeUnit) -> (i64, u32) {
    let per_sec = 1_000_000_000 / nanos_per_unit(unit);
    let secs = value.div_euclid(per_sec);
    let nanos = (value.rem_euclid(per_sec) * nanos_per_unit(unit)) as u32;
    (secs, nanos)
}

fn out_of_range(what: &str, v: i64) -> Error {
    Error::InvalidInput(format!("{what} value {v} is out of range for Python"))
}

/// The Python `tzinfo` for an Arrow time zone string.
fn tzinfo<'py>(py: Python<'py>, tz: &str) -> PyResult<Bound<'py, PyAny>> {
    let dt = py.import("datetime")?;
    if tz == "UTC" || tz == "Z" || tz == "+00:00" {
        return dt.getattr("timezone")?.getattr("utc");
    }
    let bytes = tz.as_bytes();
    if tz.len() == 6 && (bytes[0] == b'+' || bytes[0] == b'-') && bytes[3] == b':' {
        let h: i64 = tz[1..3].parse().unwrap_or(0);
        let m: i64 = tz[4..6].parse().unwrap_or(0);
        let sign = if bytes[0] == b'-' { -1 } else { 1 };
        let delta = dt
            .getattr("timedelta")?
            .call1((0, sign * (h * 3600 + m * 60)))?;
        return dt.getattr("timezone")?.call1((delta,));
    }
    py.import("zoneinfo")?.getattr("ZoneInfo")?.call1((tz,))
}

/// Convert every element of `array` into a Python list.
pub(crate) fn to_pylist<'py>(py: Python<'py>, array: &ArrayRef) -> PyResult<Bound<'py, PyList>> {
    let items = (0..array.len())
        .map(|i| value_to_py(py, array, i))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// Convert element `i` of `array` into a Python object (`None` for nulls).
pub(crate) fn value_to_py<'py>(
    py: Python<'py>,
    array: &ArrayRef,
    i: usize,
) -> PyResult<Bound<'py, PyAny>> {
    if array.is_null(i) {
        return Ok(py.None().into_bound(py));
    }
    macro_rules! prim {
        ($t:ty) => {
            array.as_primitive::<$t>().value(i).into_bound_py_any(py)
        };
    }
    match array.data_type() {
        DataType::Null => Ok(py.None().into_bound(py)),
        DataType::Boolean => array.as_boolean().value(i).into_bound_py_any(py),
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float16 => array
            .as_primitive::<Float16Type>()
            .value(i)
            .to_f64()
            .into_bound_py_any(py),
        DataType::Float32 => prim!(Float32Type),
        DataType::Float64 => prim!(Float64Type),
        DataType::Utf8 => array.as_string::<i32>().value(i).into_bound_py_any(py),
        DataType::LargeUtf8 => array.as_string::<i64>().value(i).into_bound_py_any(py),
        DataType::Utf8View => array.as_string_view().value(i).into_bound_py_any(py),
        DataType::Binary => Ok(PyBytes::new(py, array.as_binary::<i32>().value(i)).into_any()),
        DataType::LargeBinary => Ok(PyBytes::new(py, array.as_binary::<i64>().value(i)).into_any()),
        DataType::BinaryView => Ok(PyBytes::new(py, array.as_binary_view().value(i)).into_any()),
        DataType::FixedSizeBinary(_) => {
            Ok(PyBytes::new(py, array.as_fixed_size_binary().value(i)).into_any())
        }
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(i) as i64;
            let date = NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|d| d.checked_add_signed(TimeDelta::try_days(days)?))
                .ok_or_else(|| out_of_range("date32", days))?;
            date.into_bound_py_any(py)
        }
        DataType::Date64 => {
            let ms = array.as_primitive::<Date64Type>().value(i);
            let dt = chrono::DateTime::from_timestamp_millis(ms)
                .ok_or_else(|| out_of_range("date64", ms))?;
            dt.date_naive().into_bound_py_any(py)
        }
        DataType::Time32(unit) => {
            let v = match unit {
                TimeUnit::Second => array.as_primitive::<Time32SecondType>().value(i),
                _ => array.as_primitive::<Time32MillisecondType>().value(i),
            } as i64;
            time_to_py(py, v, unit)
        }
        DataType::Time64(unit) => {
            let v = match unit {
                TimeUnit::Microsecond => array.as_primitive::<Time64MicrosecondType>().value(i),
                _ => array.as_primitive::<Time64NanosecondType>().value(i),
            };
            time_to_py(py, v, unit)
        }
        DataType::Timestamp(unit, tz) => {
            let v = timestamp_value(array, unit, i);
            let (secs, nanos) = split(v, unit);
            let naive = chrono::DateTime::from_timestamp(secs, nanos)
                .ok_or_else(|| out_of_range("timestamp", v))?
                .naive_utc();
            let naive = truncate_to_micros(naive);
            match tz {
                None => naive.into_bound_py_any(py),
                Some(tz) => {
                    let utc = tzinfo(py, "UTC")?;
                    let aware = naive.into_bound_py_any(py)?.call_method(
                        "replace",
                        (),
                        Some(&[("tzinfo", utc)].into_py_dict(py)?),
                    )?;
                    aware.call_method1("astimezone", (tzinfo(py, tz)?,))
                }
            }
        }
        DataType::Duration(unit) => {
            let v = match unit {
                TimeUnit::Second => array.as_primitive::<DurationSecondType>().value(i),
                TimeUnit::Millisecond => array.as_primitive::<DurationMillisecondType>().value(i),
                TimeUnit::Microsecond => array.as_primitive::<DurationMicrosecondType>().value(i),
                TimeUnit::Nanosecond => array.as_primitive::<DurationNanosecondType>().value(i),
            };
            let (secs, nanos) = split(v, unit);
            let micros = (nanos / 1000) as i64;
            let td = TimeDelta::try_seconds(secs)
                .and_then(|d| d.checked_add(&TimeDelta::microseconds(micros)))
                .ok_or_else(|| out_of_range("duration", v))?;
            td.into_bound_py_any(py)
        }
        DataType::Decimal32(_, scale)
        | DataType::Decimal64(_, scale)
        | DataType::Decimal128(_, scale)
        | DataType::Decimal256(_, scale) => {
            // The stored integer and the scale, exactly: a value beyond the declared precision
            // (which a file or producer may hold) is shown as it is, as pyarrow shows it, not
            // cut to the precision's digits.
            let unscaled = match array.data_type() {
                DataType::Decimal32(..) => {
                    array.as_primitive::<Decimal32Type>().value(i).to_string()
                }
                DataType::Decimal64(..) => {
                    array.as_primitive::<Decimal64Type>().value(i).to_string()
                }
                DataType::Decimal128(..) => {
                    array.as_primitive::<Decimal128Type>().value(i).to_string()
                }
                _ => array.as_primitive::<Decimal256Type>().value(i).to_string(),
            };
            let text = format!("{unscaled}E{}", -i32::from(*scale));
            py.import("decimal")?.getattr("Decimal")?.call1((text,))
        }
        DataType::List(_) => list_to_py(py, &array.as_list::<i32>().value(i)),
        DataType::LargeList(_) => list_to_py(py, &array.as_list::<i64>().value(i)),
        DataType::FixedSizeList(..) => list_to_py(py, &array.as_fixed_size_list().value(i)),
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let dict = PyDict::new(py);
            for (f, col) in fields.iter().zip(s.columns()) {
                dict.set_item(f.name(), value_to_py(py, col, i)?)?;
            }
            Ok(dict.into_any())
        }
        DataType::Map(..) => {
            let m = array.as_map();
            let entries = m.value(i);
            let pairs = (0..entries.len())
                .map(|j| {
                    let k = value_to_py(py, entries.column(0), j)?;
                    let v = value_to_py(py, entries.column(1), j)?;
                    PyTuple::new(py, [k, v])
                })
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyList::new(py, pairs)?.into_any())
        }
        DataType::Dictionary(..) => {
            let d = array.as_any_dictionary();
            let key = d.normalized_keys()[i];
            value_to_py(py, d.values(), key)
        }
        other => Err(Error::UnsupportedType(format!(
            "converting {} values to Python is not supported",
            crate::datatype::type_name(other)
        ))
        .into()),
    }
}

use pyo3::types::IntoPyDict;

fn truncate_to_micros(t: NaiveDateTime) -> NaiveDateTime {
    let nanos = t.and_utc().timestamp_subsec_nanos();
    t.checked_sub_signed(TimeDelta::nanoseconds((nanos % 1000) as i64))
        .unwrap_or(t)
}

fn timestamp_value(array: &ArrayRef, unit: &TimeUnit, i: usize) -> i64 {
    match unit {
        TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(i),
        TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(i),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(i),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(i),
    }
}

fn time_to_py<'py>(py: Python<'py>, v: i64, unit: &TimeUnit) -> PyResult<Bound<'py, PyAny>> {
    let (secs, nanos) = split(v, unit);
    let t = NaiveTime::from_num_seconds_from_midnight_opt(secs as u32, nanos / 1000 * 1000)
        .ok_or_else(|| out_of_range("time", v))?;
    t.into_bound_py_any(py)
}

fn list_to_py<'py>(py: Python<'py>, values: &ArrayRef) -> PyResult<Bound<'py, PyAny>> {
    Ok(to_pylist(py, values)?.into_any())
}
