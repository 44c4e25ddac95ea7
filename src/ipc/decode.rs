//! Decoding: every record batch and dictionary of the file, laid out (`layout`), rewritten
//! where it must be (`transform`), decoded by arrow-ipc's `RecordBatchDecoder` with full
//! validation, and accounted for: which columns point into the file's bytes and which were
//! copied, and why (`require_zero_copy` refuses the latter before copying).
//!
//! arrow-ipc's decoder slices every buffer of an uncompressed little-endian batch out of the
//! body it is given, which here is a slice of the mapping, so those arrays point into the file;
//! it copies a buffer only when it is not aligned for its type. With validation (the default)
//! it builds every array with `ArrayData::build`, i.e. `validate_data`: buffer sizes, null
//! counts, offsets monotonic and in bounds, UTF-8, views, dictionary indices, union type ids and
//! offsets, run ends; decimals are then checked against their precision as imports are
//! (`ffi::validate_decimals`). Nothing is handed out before that.

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_buffer::Buffer;
use arrow_data::{ArrayData, UnsafeFlag};
use arrow_ipc as fb;
use arrow_ipc::reader::RecordBatchDecoder;
use arrow_ipc::MetadataVersion;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::framing::{self, Layout, Located};
use super::layout::{plan, BatchLayout};
use super::schema::schema_from_fb;
use super::source::FileBytes;
use super::transform::{rewrite, Codec};
use crate::error::{panic_message, Error, Result};
use crate::table::PyTable;

/// A column asked for by name or position (negative counts from the end).
#[derive(Debug, Clone)]
pub(crate) enum Selector {
    Name(String),
    Index(isize),
}

/// What `read_ipc` asks for.
#[derive(Debug, Clone)]
pub(crate) struct ReadOptions {
    pub(crate) columns: Option<Vec<Selector>>,
    pub(crate) require_zero_copy: bool,
    pub(crate) validate: bool,
}

/// The state of one read: the schema, the dictionaries decoded so far and why any was copied.
struct Reader<'f> {
    file: &'f FileBytes,
    schema: SchemaRef,
    big_endian: bool,
    options: &'f ReadOptions,
    /// Selected schema positions, in the order asked for.
    selected: Vec<usize>,
    /// The same, once each, ascending.
    unique: Vec<usize>,
    /// Dictionary id -> the value type its fields declare.
    dictionary_types: HashMap<i64, DataType>,
    /// The dictionary ids the selected columns need (nested ones included).
    needed: HashSet<i64>,
    dictionaries: HashMap<i64, ArrayRef>,
    /// Dictionary id -> why its values are not in the file's bytes.
    copied_dictionaries: HashMap<i64, String>,
    /// The file format allows no dictionary replacement.
    file_format: bool,
}

/// Read the whole file as `options` ask.
pub(crate) fn read(file: &FileBytes, options: &ReadOptions) -> Result<PyTable> {
    let layout = framing::locate(file)?;
    let (schema_fb, version, file_format) = match &layout {
        Layout::File { footer, .. } => (
            footer.schema().ok_or_else(|| {
                Error::Ipc(format!("{}: the footer has no schema", file.describe()))
            })?,
            footer.version(),
            true,
        ),
        Layout::Stream { schema, .. } => (
            schema.message.header_as_schema().ok_or_else(|| {
                framing::corrupt(file, schema.at, "a schema message without its schema")
            })?,
            schema.message.version(),
            false,
        ),
    };
    check_version(file, version, 0)?;
    let (schema, big_endian) =
        schema_from_fb(schema_fb).map_err(|e| Error::Ipc(format!("{}: {e}", file.describe())))?;
    let schema = Arc::new(schema);
    let selected = select(&schema, options.columns.as_deref())?;
    let mut unique = selected.clone();
    unique.sort_unstable();
    unique.dedup();
    let mut dictionary_types = HashMap::new();
    for field in schema.fields() {
        collect_dictionary_types(file, field, &mut dictionary_types)?;
    }
    let mut needed = HashSet::new();
    for &c in &unique {
        needed_dictionaries(
            schema.field(c).data_type(),
            Some(schema.field(c)),
            &mut needed,
        );
    }
    let mut reader = Reader {
        file,
        schema,
        big_endian,
        options,
        selected,
        unique,
        dictionary_types,
        needed,
        dictionaries: HashMap::new(),
        copied_dictionaries: HashMap::new(),
        file_format,
    };
    let mut batches = Vec::new();
    match layout {
        Layout::File {
            dictionaries,
            batches: blocks,
            ..
        } => {
            for message in &dictionaries {
                reader.dictionary(message)?;
            }
            for (i, message) in blocks.iter().enumerate() {
                batches.push(reader.record_batch(message, i)?);
            }
        }
        Layout::Stream { messages, .. } => {
            for message in &messages {
                if message.message.header_type() == fb::MessageHeader::DictionaryBatch {
                    reader.dictionary(message)?;
                } else {
                    let i = batches.len();
                    batches.push(reader.record_batch(message, i)?);
                }
            }
        }
    }
    let projected = Arc::new(Schema::new_with_metadata(
        reader
            .selected
            .iter()
            .map(|&c| reader.schema.fields()[c].clone())
            .collect::<Vec<_>>(),
        reader.schema.metadata().clone(),
    ));
    let batches = batches
        .into_iter()
        .map(|(rows, columns)| {
            let options = RecordBatchOptions::new().with_row_count(Some(rows));
            RecordBatch::try_new_with_options(projected.clone(), columns, &options)
                .map_err(|e| Error::Ipc(format!("{}: {e}", file.describe())))
        })
        .collect::<Result<Vec<_>>>()?;
    PyTable::from_batches(projected, &batches)
}

/// Metadata versions 4 and 5 (Arrow 0.15 and later) are read.
fn check_version(file: &FileBytes, version: MetadataVersion, at: usize) -> Result<()> {
    if version == MetadataVersion::V4 || version == MetadataVersion::V5 {
        return Ok(());
    }
    Err(framing::corrupt(
        file,
        at,
        format!(
            "metadata version {} is not supported (colbridge reads V4 and V5, written by \
             Arrow 0.15 and later)",
            version.0
        ),
    ))
}

/// Schema positions of the selected columns (all, in order, without a selection).
fn select(schema: &Schema, columns: Option<&[Selector]>) -> Result<Vec<usize>> {
    let n = schema.fields().len();
    let Some(columns) = columns else {
        return Ok((0..n).collect());
    };
    columns
        .iter()
        .map(|c| match c {
            Selector::Name(name) => schema
                .index_of(name)
                .map_err(|_| Error::InvalidInput(format!("no column named '{name}' in the file"))),
            Selector::Index(i) => {
                let j = if *i < 0 { *i + n as isize } else { *i };
                usize::try_from(j).ok().filter(|&j| j < n).ok_or_else(|| {
                    Error::InvalidInput(format!("column index {i} out of range for {n} columns"))
                })
            }
        })
        .collect()
}

#[allow(deprecated)] // dictionary ids live on fields in arrow-rs 59
fn dict_id(field: &Field) -> Option<i64> {
    field.dict_id()
}

/// The fields directly below a type.
fn children(dt: &DataType) -> Vec<&Field> {
    match dt {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => vec![f.as_ref()],
        DataType::Struct(fields) => fields.iter().map(|f| f.as_ref()).collect(),
        DataType::Union(fields, _) => fields.iter().map(|(_, f)| f.as_ref()).collect(),
        DataType::RunEndEncoded(r, v) => vec![r.as_ref(), v.as_ref()],
        _ => Vec::new(),
    }
}

/// Dictionary id -> value type of every dictionary field at or below `field`.
fn collect_dictionary_types(
    file: &FileBytes,
    field: &Field,
    out: &mut HashMap<i64, DataType>,
) -> Result<()> {
    if let (DataType::Dictionary(_, values), Some(id)) = (field.data_type(), dict_id(field)) {
        if let Some(previous) = out.insert(id, values.as_ref().clone()) {
            if previous != **values {
                return Err(Error::Ipc(format!(
                    "{}: malformed schema: dictionary id {id} is used with two value types",
                    file.describe()
                )));
            }
        }
    }
    let inner = match field.data_type() {
        DataType::Dictionary(_, values) => children(values),
        dt => children(dt),
    };
    for child in inner {
        collect_dictionary_types(file, child, out)?;
    }
    Ok(())
}

/// The dictionary ids a column of type `dt` (in `field`, when it is one) needs.
fn needed_dictionaries(dt: &DataType, field: Option<&Field>, out: &mut HashSet<i64>) {
    if let DataType::Dictionary(_, values) = dt {
        if let Some(id) = field.and_then(dict_id) {
            out.insert(id);
        }
        needed_dictionaries(values, None, out);
        return;
    }
    for child in children(dt) {
        needed_dictionaries(child.data_type(), Some(child), out);
    }
}

/// The buffers of `data` (and of everything below it) that are not in `file`'s bytes.
fn copied(data: &ArrayData, file: &FileBytes) -> bool {
    data.buffers().iter().any(|b| !file.contains(b))
        || data.nulls().is_some_and(|n| !file.contains(n.buffer()))
        || data.child_data().iter().any(|c| copied(c, file))
}

/// Decimals within their precision, everywhere below `data` (dictionary values were checked
/// when their dictionary was read).
fn check_decimals(data: &ArrayData) -> std::result::Result<(), String> {
    crate::ffi::validate_decimals(data).map_err(|e| e.to_string())?;
    if matches!(data.data_type(), DataType::Dictionary(..)) {
        return Ok(());
    }
    data.child_data().iter().try_for_each(check_decimals)
}

impl Reader<'_> {
    fn error(&self, at: &Located<'_>, what: &str, message: impl std::fmt::Display) -> Error {
        Error::Ipc(format!(
            "{}: {what} (message at byte {}): {message}",
            self.file.describe(),
            at.at
        ))
    }

    /// Decode `columns` (schema positions of `fields`, ascending) of one batch message: the
    /// arrays, in that order.
    #[allow(clippy::too_many_arguments)]
    fn decode(
        &self,
        located: &Located<'_>,
        what: &str,
        batch: fb::RecordBatch<'_>,
        fields: &[&Field],
        columns: &[usize],
        layout: &BatchLayout,
        codec: Option<Codec>,
    ) -> Result<Vec<ArrayRef>> {
        let version = located.message.version();
        let (direct, rewritten): (Vec<usize>, Vec<usize>) = columns
            .iter()
            .partition(|&&c| !layout.columns[c].needs_rewrite());
        let mut out: HashMap<usize, ArrayRef> = HashMap::new();
        let schema = Arc::new(Schema::new(
            fields.iter().map(|f| (*f).clone()).collect::<Vec<_>>(),
        ));
        if !direct.is_empty() {
            let arrays = self.decode_with_names(
                located,
                what,
                &located.body,
                batch,
                schema.clone(),
                &direct,
                version,
            )?;
            out.extend(direct.iter().copied().zip(arrays));
        }
        if !rewritten.is_empty() {
            let new = rewrite(&batch, located.body.as_slice(), layout, &rewritten, codec)
                .map_err(|e| self.error(located, what, e))?;
            let new_batch = flatbuffers::root::<fb::RecordBatch>(&new.message)
                .map_err(|e| self.error(located, what, e))?;
            let sub_schema = Arc::new(Schema::new(
                rewritten
                    .iter()
                    .map(|&c| fields[c].clone())
                    .collect::<Vec<_>>(),
            ));
            let all: Vec<usize> = (0..rewritten.len()).collect();
            let arrays = self.decode_with_names(
                located, what, &new.body, new_batch, sub_schema, &all, version,
            )?;
            out.extend(rewritten.iter().copied().zip(arrays));
        }
        columns
            .iter()
            .map(|c| {
                out.get(c)
                    .cloned()
                    .ok_or_else(|| self.error(located, what, "a column went missing"))
            })
            .collect()
    }

    /// Decode the `projection` of `batch` over `body`; on an error, decode each column alone
    /// to name the one at fault.
    #[allow(clippy::too_many_arguments)]
    fn decode_with_names(
        &self,
        located: &Located<'_>,
        what: &str,
        body: &Buffer,
        batch: fb::RecordBatch<'_>,
        schema: SchemaRef,
        projection: &[usize],
        version: MetadataVersion,
    ) -> Result<Vec<ArrayRef>> {
        let run = |projection: &[usize]| -> std::result::Result<Vec<ArrayRef>, String> {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let decoder = RecordBatchDecoder::try_new(
                    body,
                    batch,
                    schema.clone(),
                    &self.dictionaries,
                    &version,
                )?
                .with_projection(Some(projection))
                .with_require_alignment(false);
                let decoder = if self.options.validate {
                    decoder
                } else {
                    let mut skip = UnsafeFlag::new();
                    // SAFETY: `validate=False` is documented as unsafe: the caller vouches for
                    // the file's offsets, UTF-8, indices and the rest. Every buffer still lies
                    // in the body and is as long as its column needs (`layout::plan`).
                    unsafe { skip.set(true) };
                    decoder.with_skip_validation(skip)
                };
                decoder.read_record_batch()
            }));
            let batch = match outcome {
                Ok(Ok(batch)) => batch,
                Ok(Err(e)) => return Err(e.to_string()),
                Err(payload) => return Err(panic_message(payload.as_ref())),
            };
            let arrays = batch.columns().to_vec();
            if self.options.validate {
                for array in &arrays {
                    check_decimals(&array.to_data())?;
                }
            }
            Ok(arrays)
        };
        match run(projection) {
            Ok(arrays) => Ok(arrays),
            Err(whole) => {
                for &c in projection {
                    if let Err(e) = run(&[c]) {
                        let field = schema.field(c);
                        return Err(self.error(
                            located,
                            what,
                            format!(
                                "column '{}' ({}): {e}",
                                field.name(),
                                crate::datatype::type_name(field.data_type())
                            ),
                        ));
                    }
                }
                Err(self.error(located, what, whole))
            }
        }
    }

    /// Why a column's decoded arrays would not be in the file's bytes, known before decoding.
    fn copy_reason(
        &self,
        column: usize,
        layout: &BatchLayout,
        codec: Option<Codec>,
    ) -> Option<String> {
        let c = &layout.columns[column];
        if c.compressed {
            return Some(format!(
                "compressed ({})",
                codec.map_or("unknown", Codec::name)
            ));
        }
        if c.swapped {
            return Some("big-endian (byte-swapped into memory)".into());
        }
        if c.misaligned {
            return Some("not aligned for its type in the file".into());
        }
        let mut ids = HashSet::new();
        let field = self.schema.field(column);
        needed_dictionaries(field.data_type(), Some(field), &mut ids);
        ids.iter()
            .find_map(|id| self.copied_dictionaries.get(id))
            .map(|why| format!("dictionary-encoded with a dictionary that is {why}"))
    }

    fn refuse_copy(&self, located: &Located<'_>, what: &str, column: &str, why: &str) -> Error {
        Error::ZeroCopy(format!(
            "{}: column '{column}' cannot be read without a copy: in {what} (message at byte \
             {}) it is {why}; pass require_zero_copy=False to copy it, or rewrite the file \
             with colbridge.write_ipc (uncompressed, little-endian, aligned)",
            self.file.describe(),
            located.at
        ))
    }

    fn record_batch(
        &mut self,
        located: &Located<'_>,
        index: usize,
    ) -> Result<(usize, Vec<ArrayRef>)> {
        let what = format!("record batch {index}");
        check_version(self.file, located.message.version(), located.at)?;
        let batch = located
            .message
            .header_as_record_batch()
            .ok_or_else(|| self.error(located, &what, "not a record batch"))?;
        let codec = Codec::of(&batch).map_err(|e| self.error(located, &what, e))?;
        let fields: Vec<&Field> = self.schema.fields().iter().map(|f| f.as_ref()).collect();
        let layout = plan(
            &batch,
            &fields,
            located.body.as_slice(),
            codec.is_some(),
            self.big_endian,
            located.message.version() < MetadataVersion::V5,
        )
        .map_err(|e| self.error(located, &what, e))?;
        let rows = usize::try_from(batch.length()).unwrap_or(0);
        if self.options.require_zero_copy {
            for &c in &self.unique {
                if let Some(why) = self.copy_reason(c, &layout, codec) {
                    return Err(self.refuse_copy(
                        located,
                        &what,
                        self.schema.field(c).name(),
                        &why,
                    ));
                }
            }
        }
        let arrays = self.decode(located, &what, batch, &fields, &self.unique, &layout, codec)?;
        let by_column: HashMap<usize, ArrayRef> = self.unique.iter().copied().zip(arrays).collect();
        if self.options.require_zero_copy {
            for (&c, array) in &by_column {
                if copied(&array.to_data(), self.file) {
                    return Err(self.refuse_copy(
                        located,
                        &what,
                        self.schema.field(c).name(),
                        "copied by the decoder",
                    ));
                }
            }
        }
        let columns = self
            .selected
            .iter()
            .map(|c| {
                by_column
                    .get(c)
                    .cloned()
                    .ok_or_else(|| self.error(located, &what, "a column went missing"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((rows, columns))
    }

    fn dictionary(&mut self, located: &Located<'_>) -> Result<()> {
        check_version(self.file, located.message.version(), located.at)?;
        let message = located
            .message
            .header_as_dictionary_batch()
            .ok_or_else(|| self.error(located, "dictionary batch", "not a dictionary batch"))?;
        let id = message.id();
        let what = format!("dictionary {id}");
        let value_type = self.dictionary_types.get(&id).cloned().ok_or_else(|| {
            self.error(
                located,
                &what,
                "no field of the schema uses this dictionary id",
            )
        })?;
        if !self.needed.contains(&id) {
            return Ok(()); // only other columns use it
        }
        let batch = message
            .data()
            .ok_or_else(|| self.error(located, &what, "a dictionary batch without its data"))?;
        let codec = Codec::of(&batch).map_err(|e| self.error(located, &what, e))?;
        let field = Field::new("", value_type, true);
        let layout = plan(
            &batch,
            &[&field],
            located.body.as_slice(),
            codec.is_some(),
            self.big_endian,
            located.message.version() < MetadataVersion::V5,
        )
        .map_err(|e| self.error(located, &what, e))?;
        let mut why = self.copy_reason_of_values(&layout, codec);
        let values = self
            .decode(located, &what, batch, &[&field], &[0], &layout, codec)?
            .pop()
            .ok_or_else(|| self.error(located, &what, "no values decoded"))?;
        if why.is_none() && copied(&values.to_data(), self.file) {
            why = Some("copied by the decoder".into());
        }
        let values = if message.isDelta() {
            let existing = self.dictionaries.get(&id).ok_or_else(|| {
                self.error(located, &what, "a delta for a dictionary not read before")
            })?;
            why = Some("extended by a delta dictionary (concatenated)".into());
            arrow_select::concat::concat(&[existing.as_ref(), values.as_ref()])
                .map_err(|e| self.error(located, &what, e))?
        } else {
            if self.file_format && self.dictionaries.contains_key(&id) {
                return Err(self.error(
                    located,
                    &what,
                    "a second dictionary for the same id (the file format allows only deltas)",
                ));
            }
            values
        };
        match why {
            Some(why) => {
                self.copied_dictionaries.insert(id, why);
            }
            None => {
                self.copied_dictionaries.remove(&id);
            }
        }
        self.dictionaries.insert(id, values);
        Ok(())
    }

    fn copy_reason_of_values(&self, layout: &BatchLayout, codec: Option<Codec>) -> Option<String> {
        let c = layout.columns.first()?;
        if c.compressed {
            Some(format!(
                "compressed ({})",
                codec.map_or("unknown", Codec::name)
            ))
        } else if c.swapped {
            Some("big-endian (byte-swapped into memory)".into())
        } else if c.misaligned {
            Some("not aligned for its type in the file".into())
        } else {
            None
        }
    }
}
