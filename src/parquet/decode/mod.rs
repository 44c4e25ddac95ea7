//! Flat columns decoded page by page straight into exactly sized output buffers, each value
//! written once: strings and binaries (read plain or as Arrow dictionaries) and fixed-width
//! numbers (INT32, INT64, FLOAT, DOUBLE read as the Arrow type with the same bits; INT96
//! timestamps converted to nanoseconds as pyarrow converts them).
//!
//! The parquet crate reads the pages (headers, decompression); the levels and the values in
//! the PLAIN and dictionary encodings are decoded here, into buffers allocated once at their
//! final size, row groups in parallel where each has its own region of the output:
//! - fixed-width values: rows × width;
//! - string/binary characters: the writer's `unencoded_byte_array_data_bytes` size statistic
//!   in the footer, or, where a writer did not record it, a first pass over the pages that
//!   counts without writing;
//! - dictionary codes: one per row, from the row counts; the row groups' dictionaries are merged
//!   as they are met (pyarrow's category order: the first row group's dictionary, then each new
//!   value in the order it appears).
//!
//! A filtered read's row selection is applied as the slots go by (`Selected`): pages holding no
//! selected row are skipped without being fetched, using the offset index where the file has one.
//!
//! Anything else (nested or repeated columns, DELTA or BYTE_STREAM_SPLIT encodings, types whose
//! bits arrow-rs converts) is left to arrow-rs (`read`, `strings`,
//! `dictionary`): `read` here then answers `None`.

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

use arrow_array::types::*;
use arrow_array::ArrayRef;
use arrow_schema::{DataType, TimeUnit};
use parquet::basic::{LogicalType, TimeUnit as ParquetTimeUnit, Type as PhysicalType};

use crate::error::Result;
use crate::parquet::byte_dictionary::{dispatch, ByteDictionary};

pub(crate) use self::column::{Column, Files};
use self::halt::{Halt, Step};

/// Decode `column` as `data_type` (string/binary, or a dictionary of them); `None` where the
/// column needs arrow-rs. `open` gives a fresh file handle for each pass over the pages.
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
