//! The IPC schema flatbuffer as an Arrow `Schema`, every field checked.
//!
//! arrow-ipc's own conversion (`fb_to_schema`) panics on what a hostile or merely unusual
//! file can contain: a missing type table or index type, a list without its child, an unknown
//! bit width, a decimal precision beyond its width, a big-endian decimal. This one returns an
//! error naming the field instead, and limits nesting to [`MAX_DEPTH`] levels. Dictionary fields
//! carry their dictionary id, which arrow-ipc's decoder looks them up by.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::types::{
    validate_decimal_precision_and_scale, Decimal128Type, Decimal256Type, Decimal32Type,
    Decimal64Type,
};
use arrow_ipc as fb;
use arrow_schema::{
    DataType, Field, Fields, IntervalUnit, Schema, TimeUnit, UnionFields, UnionMode,
};

use crate::error::{Error, Result};

/// Types nested deeper than this are refused.
const MAX_DEPTH: usize = 64;

/// The Arrow schema a schema flatbuffer describes, and whether its buffers are big-endian.
pub(crate) fn schema_from_fb(schema: fb::Schema<'_>) -> Result<(Schema, bool)> {
    let fields = match schema.fields() {
        Some(list) => list
            .iter()
            .map(|f| field_from_fb(f, 0))
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let big_endian = match schema.endianness() {
        fb::Endianness::Little => false,
        fb::Endianness::Big => true,
        other => return Err(malformed("the schema", format!("endianness {}", other.0))),
    };
    Ok((
        Schema::new_with_metadata(fields, metadata(schema.custom_metadata())),
        big_endian,
    ))
}

fn malformed(field: &str, what: impl std::fmt::Display) -> Error {
    Error::Ipc(format!("malformed schema: {what} in {field}"))
}

fn metadata(
    list: Option<flatbuffers::Vector<'_, flatbuffers::ForwardsUOffset<fb::KeyValue<'_>>>>,
) -> HashMap<String, String> {
    list.iter()
        .flatten()
        .filter_map(|kv| Some((kv.key()?.to_string(), kv.value()?.to_string())))
        .collect()
}

fn field_from_fb(field: fb::Field<'_>, depth: usize) -> Result<Field> {
    let name = field.name().unwrap_or_default();
    let where_ = format!("field '{name}'");
    if depth > MAX_DEPTH {
        return Err(malformed(
            &where_,
            format!("types nested more than {MAX_DEPTH} levels deep"),
        ));
    }
    let value_type = type_from_fb(field, depth, &where_)?;
    let out = match field.dictionary() {
        Some(dictionary) => {
            let key = match dictionary.indexType() {
                Some(int) => int_type(int.bitWidth(), int.is_signed()).ok_or_else(|| {
                    malformed(&where_, "a dictionary index type that is no integer")
                })?,
                None => DataType::Int32,
            };
            #[allow(deprecated)] // arrow-ipc's decoder still finds dictionaries by the field's id
            Field::new_dict(
                name,
                DataType::Dictionary(Box::new(key), Box::new(value_type)),
                field.nullable(),
                dictionary.id(),
                dictionary.isOrdered(),
            )
        }
        None => Field::new(name, value_type, field.nullable()),
    };
    Ok(out.with_metadata(metadata(field.custom_metadata())))
}

fn int_type(bits: i32, signed: bool) -> Option<DataType> {
    Some(match (bits, signed) {
        (8, true) => DataType::Int8,
        (8, false) => DataType::UInt8,
        (16, true) => DataType::Int16,
        (16, false) => DataType::UInt16,
        (32, true) => DataType::Int32,
        (32, false) => DataType::UInt32,
        (64, true) => DataType::Int64,
        (64, false) => DataType::UInt64,
        _ => return None,
    })
}

fn unit(u: fb::TimeUnit) -> Option<TimeUnit> {
    Some(match u {
        fb::TimeUnit::SECOND => TimeUnit::Second,
        fb::TimeUnit::MILLISECOND => TimeUnit::Millisecond,
        fb::TimeUnit::MICROSECOND => TimeUnit::Microsecond,
        fb::TimeUnit::NANOSECOND => TimeUnit::Nanosecond,
        _ => return None,
    })
}

fn type_from_fb(field: fb::Field<'_>, depth: usize, at: &str) -> Result<DataType> {
    use fb::Type as T;
    let missing = || malformed(at, "a type without its parameters");
    let children = || -> Result<Vec<Field>> {
        field
            .children()
            .iter()
            .flatten()
            .map(|c| field_from_fb(c, depth + 1))
            .collect()
    };
    let one_child = |kind: &str| -> Result<Arc<Field>> {
        let mut c = children()?;
        match (c.pop(), c.is_empty()) {
            (Some(child), true) => Ok(Arc::new(child)),
            _ => Err(malformed(at, format!("a {kind} without exactly one child"))),
        }
    };
    Ok(match field.type_type() {
        T::Null => DataType::Null,
        T::Bool => DataType::Boolean,
        T::Int => {
            let int = field.type_as_int().ok_or_else(missing)?;
            int_type(int.bitWidth(), int.is_signed())
                .ok_or_else(|| malformed(at, format!("an integer of {} bits", int.bitWidth())))?
        }
        T::Binary => DataType::Binary,
        T::LargeBinary => DataType::LargeBinary,
        T::BinaryView => DataType::BinaryView,
        T::Utf8 => DataType::Utf8,
        T::LargeUtf8 => DataType::LargeUtf8,
        T::Utf8View => DataType::Utf8View,
        T::FixedSizeBinary => {
            let width = field
                .type_as_fixed_size_binary()
                .ok_or_else(missing)?
                .byteWidth();
            if width < 0 {
                return Err(malformed(
                    at,
                    format!("a fixed-size binary of {width} bytes"),
                ));
            }
            DataType::FixedSizeBinary(width)
        }
        T::FloatingPoint => match field
            .type_as_floating_point()
            .ok_or_else(missing)?
            .precision()
        {
            fb::Precision::HALF => DataType::Float16,
            fb::Precision::SINGLE => DataType::Float32,
            fb::Precision::DOUBLE => DataType::Float64,
            other => return Err(malformed(at, format!("a float precision {}", other.0))),
        },
        T::Date => match field.type_as_date().ok_or_else(missing)?.unit() {
            fb::DateUnit::DAY => DataType::Date32,
            fb::DateUnit::MILLISECOND => DataType::Date64,
            other => return Err(malformed(at, format!("a date unit {}", other.0))),
        },
        T::Time => {
            let time = field.type_as_time().ok_or_else(missing)?;
            match (time.bitWidth(), unit(time.unit())) {
                (32, Some(u @ (TimeUnit::Second | TimeUnit::Millisecond))) => DataType::Time32(u),
                (64, Some(u @ (TimeUnit::Microsecond | TimeUnit::Nanosecond))) => {
                    DataType::Time64(u)
                }
                (bits, _) => {
                    return Err(malformed(
                        at,
                        format!("a time of {bits} bits in unit {}", time.unit().0),
                    ))
                }
            }
        }
        T::Timestamp => {
            let ts = field.type_as_timestamp().ok_or_else(missing)?;
            let u = unit(ts.unit())
                .ok_or_else(|| malformed(at, format!("a timestamp unit {}", ts.unit().0)))?;
            DataType::Timestamp(u, ts.timezone().map(Into::into))
        }
        T::Duration => {
            let d = field.type_as_duration().ok_or_else(missing)?;
            DataType::Duration(
                unit(d.unit())
                    .ok_or_else(|| malformed(at, format!("a duration unit {}", d.unit().0)))?,
            )
        }
        T::Interval => match field.type_as_interval().ok_or_else(missing)?.unit() {
            fb::IntervalUnit::YEAR_MONTH => DataType::Interval(IntervalUnit::YearMonth),
            fb::IntervalUnit::DAY_TIME => DataType::Interval(IntervalUnit::DayTime),
            fb::IntervalUnit::MONTH_DAY_NANO => DataType::Interval(IntervalUnit::MonthDayNano),
            other => return Err(malformed(at, format!("an interval unit {}", other.0))),
        },
        T::Decimal => {
            let d = field.type_as_decimal().ok_or_else(missing)?;
            let bad = || {
                malformed(
                    at,
                    format!(
                        "a decimal of {} bits with precision {} and scale {}",
                        d.bitWidth(),
                        d.precision(),
                        d.scale()
                    ),
                )
            };
            let p = u8::try_from(d.precision()).map_err(|_| bad())?;
            let s = i8::try_from(d.scale()).map_err(|_| bad())?;
            let (dt, checked) = match d.bitWidth() {
                32 => (
                    DataType::Decimal32(p, s),
                    validate_decimal_precision_and_scale::<Decimal32Type>(p, s),
                ),
                64 => (
                    DataType::Decimal64(p, s),
                    validate_decimal_precision_and_scale::<Decimal64Type>(p, s),
                ),
                128 => (
                    DataType::Decimal128(p, s),
                    validate_decimal_precision_and_scale::<Decimal128Type>(p, s),
                ),
                256 => (
                    DataType::Decimal256(p, s),
                    validate_decimal_precision_and_scale::<Decimal256Type>(p, s),
                ),
                _ => return Err(bad()),
            };
            checked.map_err(|_| bad())?;
            dt
        }
        T::List => DataType::List(one_child("list")?),
        T::LargeList => DataType::LargeList(one_child("large list")?),
        T::ListView => DataType::ListView(one_child("list view")?),
        T::LargeListView => DataType::LargeListView(one_child("large list view")?),
        T::FixedSizeList => {
            let size = field
                .type_as_fixed_size_list()
                .ok_or_else(missing)?
                .listSize();
            if size < 0 {
                return Err(malformed(at, format!("a fixed-size list of size {size}")));
            }
            DataType::FixedSizeList(one_child("fixed-size list")?, size)
        }
        T::Struct_ => DataType::Struct(Fields::from(children()?)),
        T::Map => {
            let sorted = field.type_as_map().ok_or_else(missing)?.keysSorted();
            let entries = one_child("map")?;
            match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => {}
                _ => {
                    return Err(malformed(
                        at,
                        "a map whose entries are not a key-value struct",
                    ))
                }
            }
            DataType::Map(entries, sorted)
        }
        T::RunEndEncoded => {
            let c = children()?;
            let [run_ends, values] = <[Field; 2]>::try_from(c)
                .map_err(|_| malformed(at, "a run-end encoded type without two children"))?;
            if !matches!(
                run_ends.data_type(),
                DataType::Int16 | DataType::Int32 | DataType::Int64
            ) {
                return Err(malformed(at, "run ends that are not int16, int32 or int64"));
            }
            DataType::RunEndEncoded(Arc::new(run_ends), Arc::new(values))
        }
        T::Union => {
            let union = field.type_as_union().ok_or_else(missing)?;
            let mode = match union.mode() {
                fb::UnionMode::Sparse => UnionMode::Sparse,
                fb::UnionMode::Dense => UnionMode::Dense,
                other => return Err(malformed(at, format!("a union mode {}", other.0))),
            };
            let fields = children()?;
            let ids: Vec<i8> = match union.typeIds() {
                Some(ids) => ids
                    .iter()
                    .map(|i| i8::try_from(i).ok().filter(|i| *i >= 0))
                    .collect::<Option<_>>()
                    .ok_or_else(|| malformed(at, "a union type id outside 0..=127"))?,
                None => (0..fields.len())
                    .map(|i| i8::try_from(i).ok())
                    .collect::<Option<_>>()
                    .ok_or_else(|| malformed(at, "a union of more than 128 types"))?,
            };
            let fields = UnionFields::try_new(ids, fields)
                .map_err(|e| malformed(at, format!("a union's type ids: {e}")))?;
            DataType::Union(fields, mode)
        }
        other => {
            return Err(Error::Ipc(format!(
                "{at} has a type colbridge cannot read ({})",
                other.variant_name().unwrap_or("unknown")
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_ipc::convert::IpcSchemaEncoder;

    fn roundtrip(schema: &Schema) -> Schema {
        let fbb = IpcSchemaEncoder::new().schema_to_fb(schema);
        let parsed = flatbuffers::root::<fb::Schema>(fbb.finished_data()).expect("schema");
        schema_from_fb(parsed).expect("converts").0
    }

    #[test]
    fn a_schema_of_many_types_reads_back_as_written() {
        let schema = Schema::new(vec![
            Field::new("i", DataType::Int16, false),
            Field::new(
                "t",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("d", DataType::Decimal128(10, 2), true),
            Field::new_list("l", Field::new("item", DataType::Utf8, true), true),
            Field::new_struct("s", vec![Field::new("a", DataType::Float32, true)], true),
            Field::new("v", DataType::Utf8View, true),
        ]);
        assert_eq!(roundtrip(&schema), schema);
    }
}
