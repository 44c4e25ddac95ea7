//! colbridge's own page decoder: flat columns decoded page by page straight into exactly sized
//! output buffers, each value written once. The layers, bottom up (arrow-rs splits its reader at
//! the same seams):
//! - `encoding/`: the encodings of a page's bytes (RLE / bit-packed hybrid, PLAIN, dictionary,
//!   DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY);
//! - `walk`: a column chunk's pages, read by colbridge (`crate::parquet::pages`: headers,
//!   checked sizes, decompression), their levels split from their values, every slot fed to a sink; pages without a selected row are
//!   skipped unfetched (offset index where present);
//! - `sink`: where slots go (`Sink`), a filter's row selection applied as they go by
//!   (`Selected`), the counting pass (`Count`), the validity (`Validity`);
//! - one reader per output layout, each writing buffers allocated once at their final size, row
//!   groups in parallel where each has its own region of the output: `fixed` (INT32, INT64,
//!   FLOAT, DOUBLE as the Arrow type with the same bits (durations too), INT96 timestamps as
//!   nanoseconds; rows × width), `bytes` (strings and binaries; sizes from the footer's
//!   `unencoded_byte_array_data_bytes`, else a first pass that counts without writing), `codes`
//!   (dictionaries: one code per row, the row groups' dictionaries merged in pyarrow's order).
//!
//! `Column::plan` (in `column`) takes a column or leaves it to arrow-rs; `read` here dispatches
//! on its (physical type, Arrow type). Everything else is decoded by arrow-rs (`arrow_rs`):
//! nested or repeated columns, BOOLEAN and FIXED_LEN_BYTE_ARRAY, DELTA_BINARY_PACKED and
//! BYTE_STREAM_SPLIT pages, types whose bits arrow-rs converts, and a column that turns out to
//! need it while decoding (`Halt::Fallback`: a footer misstating the values' size, more
//! distinct values than the dictionary's key type holds): `read` then answers `None`.

mod bytes;
mod codes;
mod column;
mod encoding;
mod fixed;
mod halt;
mod sink;
#[cfg(test)]
mod testing;
mod walk;

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::ArrayRef;
use arrow_schema::{DataType, TimeUnit};
use parquet::basic::{LogicalType, TimeUnit as ParquetTimeUnit, Type as PhysicalType};

use crate::error::Result;
use crate::parquet::byte_dictionary::{dispatch, ByteDictionary};

pub(crate) use self::codes::dictionary_floor;
pub(crate) use self::column::{Column, Files};
use self::halt::{Halt, Step};

/// Decode `column` as `data_type` (a number or timestamp with the stored bits, a string or
/// binary, or a dictionary of them); `None` where the column needs arrow-rs.
pub(crate) fn read(
    column: &Column<'_>,
    data_type: &DataType,
    files: &Files<'_>,
) -> Result<Option<ArrayRef>> {
    let descr = column
        .meta
        .file_metadata()
        .schema_descr()
        .column(column.leaf);
    let physical = descr.physical_type();
    let result = match data_type {
        _ if column.width.is_some() => match (physical, data_type) {
            (PhysicalType::INT32, DataType::Int32 | DataType::UInt32 | DataType::Date32) => {
                fixed::read::<i32>(column, files, data_type)
            }
            // INT_8, INT_16, UINT_8 and UINT_16 are stored as INT32: decoded as such, then cut
            // to their width.
            (
                PhysicalType::INT32,
                DataType::Int8 | DataType::Int16 | DataType::UInt8 | DataType::UInt16,
            ) => fixed::read::<i32>(column, files, &DataType::Int32)
                .and_then(|wide| narrowed(&wide, data_type).ok_or(Halt::Fallback)),
            (PhysicalType::FLOAT, DataType::Float32) => {
                fixed::read::<f32>(column, files, data_type)
            }
            (PhysicalType::INT64, DataType::Int64 | DataType::UInt64) => {
                fixed::read::<i64>(column, files, data_type)
            }
            (PhysicalType::DOUBLE, DataType::Float64) => {
                fixed::read::<f64>(column, files, data_type)
            }
            (PhysicalType::INT96, DataType::Timestamp(TimeUnit::Nanosecond, _)) => {
                fixed::read::<i64>(column, files, data_type)
            }
            // Durations are stored as plain INT64 in their unit (the ARROW:schema hint names it).
            (PhysicalType::INT64, DataType::Duration(_)) if descr.logical_type_ref().is_none() => {
                fixed::read::<i64>(column, files, data_type)
            }
            // Only where the file stores the unit asked for (no conversion of the values).
            (PhysicalType::INT64, DataType::Timestamp(unit, _))
                if stored_unit(descr.logical_type_ref()) == Some(*unit) =>
            {
                fixed::read::<i64>(column, files, data_type)
            }
            _ => Err(Halt::Fallback),
        },
        DataType::Utf8 => bytes::read::<GenericStringType<i32>>(column, files),
        DataType::LargeUtf8 => bytes::read::<GenericStringType<i64>>(column, files),
        DataType::Binary => bytes::read::<GenericBinaryType<i32>>(column, files),
        DataType::LargeBinary => bytes::read::<GenericBinaryType<i64>>(column, files),
        DataType::Dictionary(key, value) => {
            struct Decode<'a, 'b>(&'a Column<'b>, &'a Files<'a>);
            impl ByteDictionary for Decode<'_, '_> {
                type Out = Step<ArrayRef>;
                fn visit<K: ArrowDictionaryKeyType, V: ByteArrayType>(self) -> Self::Out {
                    codes::read::<K, V>(self.0, self.1)
                }
            }
            dispatch(key, value, Decode(column, files)).unwrap_or(Err(Halt::Fallback))
        }
        _ => Err(Halt::Fallback),
    };
    match result {
        Ok(array) => Ok(Some(array)),
        Err(Halt::Fallback) => Ok(None),
        Err(Halt::Failed(e)) => Err(e),
    }
}

/// Decode `column`, of Arrow type `T::DATA_TYPE` with the stored bits (FLOAT, DOUBLE, INT32 or
/// INT64 read as float32, float64, int32 or uint32, int64), into `space`, its slice of a 2-D block
/// (`read_numpy`); its validity, or `None` where the column needs arrow-rs (another type, or a
/// layout or encoding not handled here). On `None` or an error `space` may be partly written.
pub(crate) fn read_into<T: ArrowPrimitiveType>(
    column: &Column<'_>,
    files: &Files<'_>,
    space: &mut [std::mem::MaybeUninit<T::Native>],
) -> Result<Option<Option<arrow_buffer::NullBuffer>>> {
    let physical = column
        .meta
        .file_metadata()
        .schema_descr()
        .column(column.leaf)
        .physical_type();
    let same_bits = matches!(
        (physical, T::DATA_TYPE),
        (PhysicalType::INT32, DataType::Int32 | DataType::UInt32)
            | (PhysicalType::INT64, DataType::Int64 | DataType::UInt64)
            | (PhysicalType::FLOAT, DataType::Float32)
            | (PhysicalType::DOUBLE, DataType::Float64)
    );
    if !same_bits {
        return Ok(None);
    }
    match fixed::read_into(column, files, space, fixed::null_slot(&T::DATA_TYPE)) {
        Ok(nulls) => Ok(Some(nulls)),
        Err(Halt::Fallback) => Ok(None),
        Err(Halt::Failed(e)) => Err(e),
    }
}

/// Int32 values cut to a narrower integer type as pyarrow cuts them (the low bits: a value
/// beyond the declared width wraps, as the C++ reader's `static_cast` makes it), nulls kept.
fn narrowed(wide: &ArrayRef, to: &DataType) -> Option<ArrayRef> {
    let wide = wide.as_primitive_opt::<Int32Type>()?;
    Some(match to {
        DataType::Int8 => Arc::new(wide.unary::<_, Int8Type>(|v| v as i8)),
        DataType::Int16 => Arc::new(wide.unary::<_, Int16Type>(|v| v as i16)),
        DataType::UInt8 => Arc::new(wide.unary::<_, UInt8Type>(|v| v as u8)),
        DataType::UInt16 => Arc::new(wide.unary::<_, UInt16Type>(|v| v as u16)),
        _ => return None,
    })
}

/// The unit of a Parquet TIMESTAMP logical type.
fn stored_unit(logical: Option<&LogicalType>) -> Option<TimeUnit> {
    match logical {
        Some(LogicalType::Timestamp(t)) => Some(match t.unit {
            ParquetTimeUnit::MILLIS => TimeUnit::Millisecond,
            ParquetTimeUnit::MICROS => TimeUnit::Microsecond,
            ParquetTimeUnit::NANOS => TimeUnit::Nanosecond,
        }),
        _ => None,
    }
}

/// Small enough for Miri (`cargo +nightly miri test --no-default-features --lib -- miri_`): every
/// sink's unsafe code (the fixed-width regions, the strings' offsets and values, the codes)
/// through several row groups and pages, nulls, v1 and v2 pages and a row selection.
#[cfg(test)]
mod miri_tests {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::types::Int32Type;
    use arrow_array::{Array, ArrayRef, DictionaryArray, Int64Array, StringArray};
    use arrow_schema::DataType;
    use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
    use parquet::basic::Encoding;
    use parquet::file::properties::{WriterProperties, WriterVersion};

    use super::testing::{decode, decode_selected};

    /// Pages of 4 rows in row groups of 9; PLAIN where there is no dictionary (v2 would choose
    /// DELTA_BINARY_PACKED for the integers, which arrow-rs decodes).
    fn small(version: WriterVersion, dictionary: bool) -> WriterProperties {
        let builder = WriterProperties::builder();
        let builder = if dictionary {
            builder
        } else {
            builder.set_encoding(Encoding::PLAIN)
        };
        builder
            .set_max_row_group_row_count(Some(9))
            .set_data_page_row_count_limit(4)
            .set_write_batch_size(2)
            .set_writer_version(version)
            .set_dictionary_enabled(dictionary)
            .build()
    }

    #[test]
    fn miri_every_sink_decodes_small_columns_exactly() {
        let n = 23;
        let numbers: ArrayRef = Arc::new(Int64Array::from_iter(
            (0..n).map(|i| (i % 5 != 2).then_some(i * 1_000_003)),
        ));
        let strings: Vec<Option<String>> = (0..n)
            .map(|i| (i % 4 != 1).then(|| "ab".repeat(i as usize % 3)))
            .collect();
        let plain: ArrayRef = Arc::new(StringArray::from(strings.clone()));
        let dict: DictionaryArray<Int32Type> = strings.iter().map(|s| s.as_deref()).collect();
        let selection = RowSelection::from(vec![
            RowSelector::skip(2),
            RowSelector::select(5),
            RowSelector::skip(10),
            RowSelector::select(6),
        ]);
        for version in [WriterVersion::PARQUET_1_0, WriterVersion::PARQUET_2_0] {
            for dictionary in [false, true] {
                let p = || small(version, dictionary);
                for input in [numbers.clone(), plain.clone()] {
                    let what = format!(
                        "{:?}, {version:?}, dictionary {dictionary}",
                        input.data_type()
                    );
                    let (out, _, _) = decode(input.clone(), p()).expect(&what);
                    assert_eq!(out.as_ref(), input.as_ref());
                    let (picked, _, _) =
                        decode_selected(input.clone(), p(), true, Some(&selection))
                            .expect("handled here");
                    assert_eq!(picked.len(), 11);
                    assert_eq!(picked.slice(0, 5).as_ref(), input.slice(2, 5).as_ref());
                    assert_eq!(picked.slice(5, 6).as_ref(), input.slice(17, 6).as_ref());
                }
                let (out, _, _) = decode(Arc::new(dict.clone()), p()).expect("handled here");
                let out = arrow_cast::cast(out.as_dictionary::<Int32Type>(), &DataType::Utf8)
                    .expect("cast");
                assert_eq!(out.as_ref(), plain.as_ref());
            }
        }
    }
}
