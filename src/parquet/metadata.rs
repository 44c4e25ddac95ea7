//! The footer: metadata (with the page index where present) and the Arrow schema, with the
//! types pyarrow gives where arrow-rs can decode them so.
//!
//! Arrow writers embed their schema in the footer (`ARROW:schema`: base64 of an Arrow IPC
//! message holding a `Schema`), decoded here with arrow-ipc. arrow-rs applies it as a hint, but
//! drops a timestamp's time zone when the stored unit differs from the hinted one (seconds stored
//! as milliseconds, `coerce_timestamps`) and reports `UTC`; pyarrow keeps the stored zone.
//! `adjust_field` uses this schema to do the same.
//!
//! The rows the footer promises (`expected_rows`) are checked against what was decoded: arrow-rs
//! can return fewer (`check_rows`).

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, FieldRef, Schema, TimeUnit};
use base64::Engine;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::basic::Type as PhysicalType;
use parquet::file::metadata::{
    FileMetaData, PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader,
};
use parquet::file::reader::{ChunkReader, Length};

use crate::datatype::retyped;
use crate::error::{Error, Result};
use crate::parquet::limits::Limits;
use crate::parquet::parallel::{guard, guarded};
use crate::parquet::source::{Handle, Source};
use crate::parquet::thrift;

/// Footer metadata (with the page index where present) and the Arrow schema.
pub(crate) fn load_metadata(source: &Source, limits: &Limits) -> Result<ArrowReaderMetadata> {
    let what = source.describe();
    guarded(&what, || {
        let handle = source.open()?;
        let (metadata, overdeclared) = read_footer(&handle, limits)?;
        let metadata = Arc::new(metadata);
        // Where chunks begin and end: a remote source reads ahead no further than that.
        source.boundaries(|| {
            metadata
                .row_groups()
                .iter()
                .flat_map(|rg| rg.columns())
                .flat_map(|c| {
                    let (start, len) = c.byte_range();
                    [start, start.saturating_add(len)]
                })
                .collect()
        });
        let options = ArrowReaderOptions::new();
        let meta = ArrowReaderMetadata::try_new(metadata, options.clone())?;
        // Ask arrow-rs for pyarrow's types where it can decode them (see `adjust_field`).
        let schema = meta.schema();
        let hints = meta
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|e| e.key == "ARROW:schema"))
            .and_then(|e| e.value.as_deref())
            .and_then(decode_arrow_schema);
        let descr = meta.metadata().file_metadata().schema_descr();
        let wanted: Vec<FieldRef> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(root, f)| {
                // INT96 timestamps are nanoseconds without a time zone, whatever the stored
                // Arrow schema says (pyarrow ignores it for them: truncating to its unit would
                // lose what the file holds).
                let leaves: Vec<usize> = (0..descr.num_columns())
                    .filter(|&l| descr.get_column_root_idx(l) == root)
                    .collect();
                if let [leaf] = leaves.as_slice() {
                    let column = descr.column(*leaf);
                    if column.physical_type() == PhysicalType::INT96 && column.max_rep_level() == 0
                    {
                        return retyped(f, &DataType::Timestamp(TimeUnit::Nanosecond, None));
                    }
                    // A decimal whose declared precision its bytes cannot hold: read with what
                    // they hold, typed with what it declared, as pyarrow types it.
                    let declared = overdeclared.iter().find(|o| o.leaf == *leaf);
                    if let Some(wide) = declared.and_then(|o| declared_decimal(f, o.precision)) {
                        return retyped(f, &wide);
                    }
                }
                adjust_field(
                    f,
                    hints
                        .as_ref()
                        .and_then(|h| h.field_with_name(f.name()).ok()),
                )
            })
            .collect();
        if wanted.iter().zip(schema.fields()).all(|(a, b)| a == b) {
            return Ok(meta);
        }
        let adjusted = Arc::new(arrow_schema::Schema::new_with_metadata(
            wanted,
            schema.metadata().clone(),
        ));
        Ok(
            ArrowReaderMetadata::try_new(meta.metadata().clone(), options.with_schema(adjusted))
                .unwrap_or(meta),
        )
    })
    .map_err(|e| match e {
        Error::Corrupt(m) | Error::Arrow(m) => {
            Error::Corrupt(format!("{what}: not a readable Parquet file: {m}"))
        }
        Error::Parquet(m) => Error::Parquet(format!("{what}: not a readable Parquet file: {m}")),
        Error::Limit(m) => Error::Limit(format!("{what}: {m}")),
        other => other,
    })
}

/// `field`, a decimal column read with the precision its bytes hold, with the precision it
/// declared instead (`decimal256` past 38 digits, as pyarrow); `None` for another type or a
/// precision no Arrow decimal has.
fn declared_decimal(field: &Field, precision: i32) -> Option<DataType> {
    let scale = match field.data_type() {
        DataType::Decimal128(_, s) | DataType::Decimal256(_, s) => *s,
        _ => return None,
    };
    match u8::try_from(precision).ok()? {
        p @ 1..=38 => Some(DataType::Decimal128(p, scale)),
        p @ 39..=76 => Some(DataType::Decimal256(p, scale)),
        _ => None,
    }
}

/// The footer, checked before the parquet crate decodes it (`thrift::check_footer`: it would
/// trust the counts in it), and the page index where the file has one and it is readable; with
/// the decimals whose declared precision was lowered to what their bytes hold
/// (`thrift::fit_decimals`).
fn read_footer(
    handle: &Handle,
    limits: &Limits,
) -> Result<(ParquetMetaData, Vec<thrift::Overdeclared>)> {
    let len = handle.len();
    if len < 12 {
        return Err(Error::Corrupt(format!(
            "{len} bytes are too few for a Parquet file (at least 12)"
        )));
    }
    let tail = handle.get_bytes(len - 8, 8)?;
    match &tail[4..] {
        b"PAR1" => {}
        b"PARE" => {
            return Err(Error::Parquet(
                "encrypted Parquet files are not supported".into(),
            ))
        }
        _ => {
            return Err(Error::Corrupt(
                "it does not end with the Parquet magic bytes PAR1".into(),
            ))
        }
    }
    let size = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if size > len - 12 {
        return Err(Error::Corrupt(format!(
            "the footer claims {size} bytes of a {len}-byte file"
        )));
    }
    limits.check_footer(size)?;
    let footer = handle.get_bytes(len - 8 - size, size as usize)?;
    let footer = thrift::repair_footer(&footer).map_err(|e| Error::Corrupt(e.to_string()))?;
    let fitted = thrift::fit_decimals(&footer).map_err(|e| Error::Corrupt(e.to_string()))?;
    let (footer, overdeclared) = match fitted {
        Some((fitted, overdeclared)) => (std::borrow::Cow::Owned(fitted), overdeclared),
        None => (footer, Vec::new()),
    };
    let metadata = with_row_groups_total(ParquetMetaDataReader::decode_metadata(&footer)?);
    // A page index that cannot be read costs only the page pruning it would allow.
    let mut reader = ParquetMetaDataReader::new_with_metadata(metadata.clone())
        .with_page_index_policy(PageIndexPolicy::Optional);
    match reader
        .read_page_indexes(handle)
        .and_then(|()| reader.finish())
    {
        Ok(with_index) => Ok((with_index, overdeclared)),
        Err(_) => Ok((metadata, overdeclared)),
    }
}

/// `metadata` with the file's row count made the sum of its row groups' counts. Some writers
/// stored another total (parquet-rs 0.3 wrote 0 in `repeated_no_annotation.parquet`, whose one
/// row group holds 6 rows); pyarrow reads the row groups, and arrow-rs' reader reads nothing at
/// all while the total says 0. Negative counts, or a sum past `i64`, are left for the checks
/// that reject them.
fn with_row_groups_total(metadata: ParquetMetaData) -> ParquetMetaData {
    let total = metadata
        .row_groups()
        .iter()
        .try_fold(0i64, |sum, g| match g.num_rows() {
            n if n < 0 => None,
            n => sum.checked_add(n),
        });
    let file = metadata.file_metadata();
    match total {
        Some(total) if total != file.num_rows() => {
            let file = FileMetaData::new(
                file.version(),
                total,
                file.created_by().map(str::to_string),
                file.key_value_metadata().cloned(),
                file.schema_descr_ptr(),
                file.column_orders().cloned(),
            );
            ParquetMetaData::new(file, metadata.row_groups().to_vec())
        }
        _ => metadata,
    }
}

/// The type pyarrow gives a field, where arrow-rs can decode it so:
/// - dictionary-encoded strings/binary: pyarrow decodes `dictionary<string>`, arrow-rs keeps
///   `dictionary<large_string>`;
/// - a timestamp whose unit was coerced on write (seconds stored as milliseconds): arrow-rs
///   reports `tz=UTC`, pyarrow keeps the time zone of the embedded Arrow schema (`hint`);
/// - a stored `dictionary<int64>` or `date64`: arrow-rs restores them, pyarrow does not (it
///   reads the values' type and `date32`).
fn adjust_field(field: &FieldRef, hint: Option<&Field>) -> FieldRef {
    let child_hint = |name: &str| match hint.map(|h| h.data_type()) {
        Some(DataType::Struct(fields)) => {
            fields.iter().find(|c| c.name() == name).map(|c| c.as_ref())
        }
        _ => None,
    };
    let list_hint = || match hint.map(|h| h.data_type()) {
        Some(DataType::List(c) | DataType::LargeList(c)) => Some(c.as_ref()),
        _ => None,
    };
    let adjusted = match field.data_type() {
        DataType::Dictionary(k, v)
            if **v == DataType::LargeUtf8 || **v == DataType::LargeBinary =>
        {
            let small = if **v == DataType::LargeUtf8 {
                DataType::Utf8
            } else {
                DataType::Binary
            };
            Some(DataType::Dictionary(k.clone(), Box::new(small)))
        }
        // pyarrow restores dictionary-ness for strings and binaries only: a stored
        // `dictionary<int64>` reads back as its values' type.
        DataType::Dictionary(_, v)
            if !matches!(
                **v,
                DataType::Utf8 | DataType::Binary | DataType::LargeUtf8 | DataType::LargeBinary
            ) =>
        {
            Some((**v).clone())
        }
        // pyarrow never restores date64 (Parquet stores days): it reads date32.
        DataType::Date64 => Some(DataType::Date32),
        DataType::Timestamp(unit, Some(tz)) => match hint.map(|h| h.data_type()) {
            Some(DataType::Timestamp(_, Some(want))) if want != tz => {
                Some(DataType::Timestamp(*unit, Some(want.clone())))
            }
            _ => None,
        },
        DataType::Struct(children) => {
            let new: Vec<FieldRef> = children
                .iter()
                .map(|c| adjust_field(c, child_hint(c.name())))
                .collect();
            (new.iter().zip(children.iter()).any(|(a, b)| a != b))
                .then(|| DataType::Struct(new.into()))
        }
        DataType::List(child) => {
            let new = adjust_field(child, list_hint());
            (new != *child).then_some(DataType::List(new))
        }
        DataType::LargeList(child) => {
            let new = adjust_field(child, list_hint());
            (new != *child).then_some(DataType::LargeList(new))
        }
        _ => None,
    };
    match adjusted {
        Some(dt) => retyped(field, &dt),
        None => field.clone(),
    }
}

/// The embedded schema, or `None` when it is absent or unreadable (the hint is then not applied).
fn decode_arrow_schema(encoded: &str) -> Option<Schema> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded.trim()))
        .ok()?;
    // arrow-ipc parses untrusted flatbuffers with verification; a panic is still caught by the
    // caller's guard, but keep this path panic-free too.
    guard(|| arrow_ipc::convert::try_schema_from_ipc_buffer(&bytes).ok())
        .ok()
        .flatten()
}

pub(crate) fn expected_rows(meta: &ArrowReaderMetadata, rgs: &[usize]) -> Result<usize> {
    let mut total: usize = 0;
    for &i in rgs {
        let n = meta.metadata().row_group(i).num_rows();
        let n = usize::try_from(n)
            .map_err(|_| Error::Corrupt(format!("row group {i} has a negative row count ({n})")))?;
        total = total
            .checked_add(n)
            .ok_or_else(|| Error::Corrupt("row counts overflow".into()))?;
    }
    Ok(total)
}

pub(crate) fn short_read(decoded: usize, expected: usize, what: &str) -> Error {
    Error::Corrupt(format!("{what}: {}", short_read_message(decoded, expected)))
}

pub(crate) fn short_read_message(decoded: usize, expected: usize) -> String {
    format!(
        "decoded {decoded} rows but the file's metadata promises {expected}; refusing to return \
         incomplete data"
    )
}

/// arrow-rs can silently return fewer rows than the metadata promises (e.g. for repeated
/// fields without a LIST annotation); refuse rather than lose data.
pub(crate) fn check_rows(batch: &RecordBatch, expected: usize, what: &str) -> Result<()> {
    if batch.num_rows() != expected {
        return Err(short_read(batch.num_rows(), expected, what));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{DataType, Field, TimeUnit};
    use base64::Engine;

    #[test]
    fn reads_back_an_embedded_schema_with_its_time_zone() {
        let schema = Schema::new(vec![Field::new(
            "t",
            DataType::Timestamp(TimeUnit::Second, Some("Asia/Tokyo".into())),
            true,
        )]);
        let data_gen = arrow_ipc::writer::IpcDataGenerator::default();
        let mut tracker = arrow_ipc::writer::DictionaryTracker::new(true);
        let encoded = data_gen.schema_to_bytes_with_dictionary_tracker(
            &schema,
            &mut tracker,
            &arrow_ipc::writer::IpcWriteOptions::default(),
        );
        let mut framed = vec![0xff, 0xff, 0xff, 0xff];
        framed.extend_from_slice(&(encoded.ipc_message.len() as i32).to_le_bytes());
        framed.extend_from_slice(&encoded.ipc_message);
        let text = base64::engine::general_purpose::STANDARD.encode(framed);
        assert_eq!(decode_arrow_schema(&text), Some(schema));
    }

    #[test]
    fn stored_date64_and_int_dictionaries_read_as_pyarrow_reads_them() {
        let date = Arc::new(Field::new("d", DataType::Date64, true));
        assert_eq!(adjust_field(&date, None).data_type(), &DataType::Date32);
        let ints = Arc::new(Field::new(
            "i",
            DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Int64)),
            true,
        ));
        assert_eq!(adjust_field(&ints, None).data_type(), &DataType::Int64);
        let strings = Arc::new(Field::new(
            "s",
            DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)),
            true,
        ));
        assert_eq!(adjust_field(&strings, None), strings);
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        assert_eq!(decode_arrow_schema("not base64 at all!"), None);
        assert_eq!(decode_arrow_schema("AAAA"), None);
        assert_eq!(decode_arrow_schema(""), None);
    }
}
