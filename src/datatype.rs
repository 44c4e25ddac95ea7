//! Arrow data types by name: the pyarrow-style names colbridge prints and parses
//! ("int64", "timestamp[ms, tz=UTC]", "list<item: string>") and the time units they carry.
//! Pure Rust: no Python objects here, so every layer above (the C data interface, the
//! pyclasses) can use it.

use std::sync::Arc;

use arrow_array::ffi::FFI_ArrowSchema;
use arrow_schema::{DataType, Field, FieldRef, TimeUnit};

use crate::error::{Error, Result};

/// The Arrow C data interface format string of a type (`"l"`, `"tsu:UTC"`, `"+l"`; a dictionary
/// has its index type's format), exactly as colbridge's capsules describe it.
pub(crate) fn c_format(dt: &DataType) -> Result<String> {
    Ok(FFI_ArrowSchema::try_from(dt)?.format().to_string())
}

/// `field` (its name, nullability and metadata) with type `data_type`; the field itself when it
/// already has that type.
pub(crate) fn retyped(field: &FieldRef, data_type: &DataType) -> FieldRef {
    if field.data_type() == data_type {
        return field.clone();
    }
    Arc::new(field.as_ref().clone().with_data_type(data_type.clone()))
}

/// The one table of time units: each unit's name (as in `timestamp[ms]`) and how many of it
/// make a second.
fn unit_info(unit: &TimeUnit) -> (&'static str, i64) {
    match unit {
        TimeUnit::Second => ("s", 1),
        TimeUnit::Millisecond => ("ms", 1_000),
        TimeUnit::Microsecond => ("us", 1_000_000),
        TimeUnit::Nanosecond => ("ns", 1_000_000_000),
    }
}

const TIME_UNITS: [TimeUnit; 4] = [
    TimeUnit::Second,
    TimeUnit::Millisecond,
    TimeUnit::Microsecond,
    TimeUnit::Nanosecond,
];

/// The unit's name: "s", "ms", "us" or "ns".
pub(crate) fn unit_name(unit: &TimeUnit) -> &'static str {
    unit_info(unit).0
}

/// How many of `unit` make one second (1 for seconds ... 10^9 for nanoseconds).
pub(crate) fn units_per_second(unit: &TimeUnit) -> i64 {
    unit_info(unit).1
}

/// How many nanoseconds one `unit` lasts (10^9 for seconds ... 1 for nanoseconds).
pub(crate) fn nanos_per_unit(unit: &TimeUnit) -> i64 {
    1_000_000_000 / units_per_second(unit)
}

/// The unit called `s` ("s", "ms", "us" or "ns", surrounding spaces ignored).
pub(crate) fn parse_unit(s: &str) -> Result<TimeUnit> {
    let name = s.trim();
    TIME_UNITS
        .into_iter()
        .find(|unit| unit_name(unit) == name)
        .ok_or_else(|| Error::InvalidInput(format!("unknown time unit '{name}'")))
}

/// The pyarrow-style name of a type (`int64`, `timestamp[us, tz=UTC]`, `list<item: int64>`).
pub(crate) fn type_name(dt: &DataType) -> String {
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
pub(crate) fn parse_type(name: &str) -> Result<DataType> {
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
    fn time_units_round_trip_and_scale() {
        for unit in TIME_UNITS {
            assert_eq!(parse_unit(unit_name(&unit)).expect("unit"), unit);
            assert_eq!(
                units_per_second(&unit) * nanos_per_unit(&unit),
                1_000_000_000
            );
        }
        assert_eq!(units_per_second(&TimeUnit::Millisecond), 1_000);
        assert_eq!(nanos_per_unit(&TimeUnit::Microsecond), 1_000);
    }

    #[test]
    fn c_formats_are_the_data_interface_ones() {
        for (name, format) in [
            ("int64", "l"),
            ("uint8", "C"),
            ("double", "g"),
            ("bool", "b"),
            ("large_string", "U"),
            ("date32[day]", "tdD"),
            ("timestamp[us]", "tsu:"),
            ("timestamp[ns, tz=UTC]", "tsn:UTC"),
            ("duration[ms]", "tDm"),
            ("list<item: int64>", "+l"),
            ("decimal128(10, 2)", "d:10,2"),
        ] {
            assert_eq!(
                c_format(&parse_type(name).expect(name)).expect(name),
                format
            );
        }
        let dictionary = DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8));
        assert_eq!(c_format(&dictionary).expect("dictionary"), "c");
    }

    #[test]
    fn unknown_names_are_errors_not_panics() {
        assert!(parse_type("int128").is_err());
        assert!(parse_type("timestamp[fortnight]").is_err());
    }
}
