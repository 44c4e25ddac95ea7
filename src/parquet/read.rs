//! Parallel, one-copy Parquet decoding: metadata → plan (columns, row groups, filter) → one
//! reader per column on its own file handle, each producing a single contiguous array.
//!
//! Every call into the parquet crate runs under `catch_unwind`: some malformed pages make it
//! panic, and a panic must reach Python as a `ParquetError`, never as a crash.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::{ArrayRef, RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, SchemaRef};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
};
use parquet::arrow::ProjectionMask;

use crate::error::{panic_message, Error, Result};
use crate::parquet::decode;
use crate::parquet::dictionary;
use crate::parquet::filter::Filter;
use crate::parquet::progress::Progress;
use crate::parquet::source::{Handle, Source};
use crate::parquet::strings;

/// Run `f`, turning a panic inside the parquet crate into a `ParquetError`.
pub fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Error::Parquet(format!(
            "{what}: the Parquet decoder failed on malformed data ({})",
            panic_message(payload.as_ref())
        ))),
    }
}

fn context(what: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| match e {
        Error::Parquet(m) => Error::Parquet(format!("{what}: {m}")),
        Error::Arrow(m) => Error::Parquet(format!("{what}: {m}")),
        other => other,
    }
}

/// Footer metadata (with the page index where present) and the Arrow schema.
pub fn load_metadata(source: &Source) -> Result<ArrowReaderMetadata> {
    let what = source.describe();
    guarded(&what, || {
        let handle = source.open()?;
        let options = ArrowReaderOptions::new()
            .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Optional);
        let meta = ArrowReaderMetadata::load(&handle, options.clone())
            .or_else(|_| ArrowReaderMetadata::load(&handle, ArrowReaderOptions::new()))?;
        // Ask arrow-rs for pyarrow's types where it can decode them (see `adjust_field`).
        let schema = meta.schema();
        let hints = meta
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|e| e.key == "ARROW:schema"))
            .and_then(|e| e.value.as_deref())
            .and_then(crate::parquet::hint::decode_arrow_schema);
        let wanted: Vec<FieldRef> = schema
            .fields()
            .iter()
            .map(|f| {
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
        Error::Parquet(m) | Error::Arrow(m) => {
            Error::Parquet(format!("{what}: not a readable Parquet file: {m}"))
        }
        other => other,
    })
}

/// The type pyarrow gives a field, where arrow-rs can decode it so:
/// - dictionary-encoded strings/binary: pyarrow decodes `dictionary<string>`, arrow-rs keeps
///   `dictionary<large_string>`;
/// - a timestamp whose unit was coerced on write (seconds stored as milliseconds): arrow-rs
///   reports `tz=UTC`, pyarrow keeps the time zone of the embedded Arrow schema (`hint`).
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
        Some(dt) => Arc::new(field.as_ref().clone().with_data_type(dt)),
        None => field.clone(),
    }
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub columns: Option<Vec<String>>,
    pub row_groups: Option<Vec<usize>>,
    pub filter: Option<Filter>,
    pub use_threads: bool,
    /// Decode `string` columns as `large_string` (64-bit offsets) where colbridge decodes them
    /// itself (`byte_array`).
    pub large_strings: bool,
}

/// A decoded table: schema and one contiguous array per column.
pub struct Decoded {
    pub schema: SchemaRef,
    pub columns: Vec<ArrayRef>,
    pub num_rows: usize,
}

/// The top-level column indices to read, in the order asked for.
pub fn resolve_columns(schema: &SchemaRef, columns: &Option<Vec<String>>) -> Result<Vec<usize>> {
    match columns {
        None => Ok((0..schema.fields().len()).collect()),
        Some(names) => names
            .iter()
            .map(|n| {
                schema
                    .index_of(n)
                    .map_err(|_| Error::InvalidInput(format!("no column named '{n}' in the file")))
            })
            .collect(),
    }
}

pub fn resolve_row_groups(
    meta: &ArrowReaderMetadata,
    row_groups: &Option<Vec<usize>>,
) -> Result<Vec<usize>> {
    let n = meta.metadata().num_row_groups();
    match row_groups {
        None => Ok((0..n).collect()),
        Some(rgs) => {
            if let Some(bad) = rgs.iter().find(|&&i| i >= n) {
                return Err(Error::InvalidInput(format!(
                    "row group {bad} out of range: the file has {n}"
                )));
            }
            Ok(rgs.clone())
        }
    }
}

fn expected_rows(meta: &ArrowReaderMetadata, rgs: &[usize]) -> Result<usize> {
    let mut total: usize = 0;
    for &i in rgs {
        let n = meta.metadata().row_group(i).num_rows();
        let n = usize::try_from(n)
            .map_err(|_| Error::Parquet(format!("row group {i} has a negative row count ({n})")))?;
        total = total
            .checked_add(n)
            .ok_or_else(|| Error::Parquet("row counts overflow".into()))?;
    }
    Ok(total)
}

/// What every decoder of one read shares: the file, its metadata, and the progress counter.
struct Job<'a> {
    source: &'a Source,
    meta: &'a ArrowReaderMetadata,
    progress: &'a Arc<Progress>,
    /// Threads a column may decode its row groups on.
    threads: usize,
    large_strings: bool,
}

impl Job<'_> {
    /// Decode one projection (one column, or the filter's columns) into a single batch.
    /// Decode one projection (one column, or the filter's columns) into a single batch.
    fn decode(
        &self,
        roots: Vec<usize>,
        rgs: &[usize],
        selection: Option<RowSelection>,
        rows: usize,
        what: &str,
    ) -> Result<RecordBatch> {
        let (schema, batches) = self.decode_batches(roots, rgs, selection, rows, what)?;
        match batches.len() {
            1 => batches
                .into_iter()
                .next()
                .ok_or_else(|| Error::Parquet("no batch".into())),
            0 => Ok(RecordBatch::new_empty(schema)),
            _ => Ok(arrow_select::concat::concat_batches(&schema, &batches)?),
        }
    }

    /// Decode a projection in batches of `batch_size` rows.
    fn decode_batches(
        &self,
        roots: Vec<usize>,
        rgs: &[usize],
        selection: Option<RowSelection>,
        batch_size: usize,
        what: &str,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        guarded(what, || {
            let handle: Handle = self.source.open_with(Some(self.progress.clone()))?;
            let schema_descr = self.meta.metadata().file_metadata().schema_descr();
            let mask = ProjectionMask::roots(schema_descr, roots);
            let mut builder =
                ParquetRecordBatchReaderBuilder::new_with_metadata(handle, self.meta.clone())
                    .with_projection(mask)
                    .with_row_groups(rgs.to_vec())
                    .with_batch_size(batch_size.clamp(1, 1 << 30));
            if let Some(sel) = selection {
                builder = builder.with_row_selection(sel);
            }
            let reader = builder.build()?;
            let schema = reader.schema();
            let batches = reader.collect::<std::result::Result<Vec<_>, ArrowError>>()?;
            Ok((schema, batches))
        })
        .map_err(context(what))
    }

    /// Decode one top-level column into one array. Flat columns `pages` handles are decoded
    /// there, page by page, into their final buffers. Otherwise arrow-rs decodes: in one batch,
    /// strings in batches assembled exactly (`strings`), dictionary columns per row group in
    /// batches of `DICTIONARY_BATCH` rows (arrow-rs' dictionary decoding slows down several
    /// times with batches of a whole row group: 25-45 ms against 4 ms per million rows,
    /// measured) merged into one exactly sized array (`dictionary`).
    fn decode_column(
        &self,
        root: usize,
        rgs: &[usize],
        selection: &Option<RowSelection>,
        rows: usize,
        what: &str,
    ) -> Result<ArrayRef> {
        let field = self.meta.schema().field(root);
        let meta = self.meta.metadata();
        let plan = decode::Column::plan(meta, root, rgs, rows, self.threads, selection.as_ref());
        if let Some(column) = plan {
            let files = decode::Files {
                open: &|| self.source.open_with(Some(self.progress.clone())),
                again: &|| {
                    let bytes = chunk_bytes(self.meta, &[root], rgs);
                    self.progress.total.fetch_add(bytes, Ordering::Relaxed);
                },
            };
            let wanted = match field.data_type() {
                DataType::Utf8 if self.large_strings => &DataType::LargeUtf8,
                other => other,
            };
            let decoded =
                guarded(what, || decode::read(&column, wanted, &files)).map_err(context(what))?;
            if let Some(array) = decoded {
                if array.len() != rows {
                    return Err(short_read(array.len(), rows, what));
                }
                return Ok(array);
            }
        }
        if strings::supported(field.data_type()) {
            let (_, batches) =
                self.decode_batches(vec![root], rgs, selection.clone(), STRING_BATCH, what)?;
            let decoded: usize = batches.iter().map(|b| b.num_rows()).sum();
            if decoded != rows {
                return Err(short_read(decoded, rows, what));
            }
            if batches.len() > 1 {
                let pieces = batches
                    .into_iter()
                    .filter_map(|b| b.columns().first().cloned())
                    .collect();
                return strings::assemble(pieces);
            }
            if let Some(column) = batches.first().and_then(|b| b.columns().first()) {
                return Ok(column.clone());
            }
        }
        if dictionary::supported(field.data_type()) {
            let mut remaining = selection.clone();
            let mut pieces = Vec::with_capacity(rgs.len());
            for &rg in rgs {
                let rg_rows = expected_rows(self.meta, &[rg])?;
                let (part, part_rows) = match remaining.as_mut() {
                    Some(sel) => {
                        let part = sel.split_off(rg_rows);
                        let n = part.row_count();
                        (Some(part), n)
                    }
                    None => (None, rg_rows),
                };
                if part_rows == 0 {
                    continue;
                }
                let (_, batches) =
                    self.decode_batches(vec![root], &[rg], part, DICTIONARY_BATCH, what)?;
                let decoded: usize = batches.iter().map(|b| b.num_rows()).sum();
                if decoded != part_rows {
                    return Err(short_read(decoded, part_rows, what));
                }
                pieces.extend(batches.iter().filter_map(|b| b.columns().first().cloned()));
            }
            if !pieces.is_empty() {
                if let Some(merged) = dictionary::merge(&pieces)? {
                    return Ok(merged);
                }
            }
        }
        let batch = self.decode(vec![root], rgs, selection.clone(), rows, what)?;
        check_rows(&batch, rows, what)?;
        batch
            .columns()
            .first()
            .cloned()
            .ok_or_else(|| Error::Parquet(format!("{what}: no column decoded")))
    }
}

pub fn read(
    source: &Source,
    meta: &ArrowReaderMetadata,
    options: &ReadOptions,
    progress: &Arc<Progress>,
) -> Result<Decoded> {
    let result = read_columns(source, meta, options, progress);
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    result
}

/// Compressed bytes of the column chunks of `roots` in `rgs`: what a read will fetch.
fn chunk_bytes(meta: &ArrowReaderMetadata, roots: &[usize], rgs: &[usize]) -> u64 {
    let descr = meta.metadata().file_metadata().schema_descr();
    rgs.iter()
        .map(|&rg| {
            meta.metadata()
                .row_group(rg)
                .columns()
                .iter()
                .enumerate()
                .filter(|(leaf, _)| roots.contains(&descr.get_column_root_idx(*leaf)))
                .map(|(_, c)| c.compressed_size().max(0) as u64)
                .sum::<u64>()
        })
        .sum()
}

fn read_columns(
    source: &Source,
    meta: &ArrowReaderMetadata,
    options: &ReadOptions,
    progress: &Arc<Progress>,
) -> Result<Decoded> {
    let cancel = &progress.cancel;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let job = Job {
        source,
        meta,
        progress,
        threads: if options.use_threads { cores } else { 1 },
        large_strings: options.large_strings,
    };
    let file = source.describe();
    let schema = meta.schema().clone();
    let indices = resolve_columns(&schema, &options.columns)?;
    let mut rgs = resolve_row_groups(meta, &options.row_groups)?;

    let mut selection = None;
    let mut rows = expected_rows(meta, &rgs)?;
    if let Some(filter) = options.filter.as_ref().filter(|f| !f.is_empty()) {
        rgs = filter.prune_row_groups(&rgs, &schema, meta.parquet_schema(), meta.metadata())?;
        rows = expected_rows(meta, &rgs)?;
        let filter_roots = resolve_columns(&schema, &Some(filter.columns()))?;
        progress
            .total
            .fetch_add(chunk_bytes(meta, &filter_roots, &rgs), Ordering::Relaxed);
        let what = format!("{file} (filter columns)");
        // Pages ruled out by the page index are never decoded; the exact mask is computed over
        // the rows of the remaining pages and chained onto that page selection.
        let pages = filter.prune_pages(&rgs, &schema, meta.parquet_schema(), meta.metadata())?;
        let candidate_rows = pages.as_ref().map_or(rows, |p| p.row_count());
        let batch = job.decode(filter_roots, &rgs, pages.clone(), candidate_rows, &what)?;
        check_rows(&batch, candidate_rows, &what)?;
        let mask = filter.evaluate(&batch)?;
        rows = mask.true_count();
        let exact = RowSelection::from_filters(&[mask]);
        selection = Some(match pages {
            Some(pages) => pages.and_then(&exact),
            None => exact,
        });
    }

    progress
        .total
        .fetch_add(chunk_bytes(meta, &indices, &rgs), Ordering::Relaxed);
    let out: Mutex<Vec<Option<ArrayRef>>> = Mutex::new(vec![None; indices.len()]);
    let next = AtomicUsize::new(0);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let threads = job.threads.min(indices.len()).max(1);
    let work = || loop {
        let k = next.fetch_add(1, Ordering::Relaxed);
        if k >= indices.len() || cancel.load(Ordering::Relaxed) {
            break;
        }
        if first_error.lock().map(|e| e.is_some()).unwrap_or(true) {
            break;
        }
        let root = indices[k];
        let what = format!("{file}, column '{}'", schema.field(root).name());
        match job.decode_column(root, &rgs, &selection, rows, &what) {
            Ok(column) => {
                if let Ok(mut slots) = out.lock() {
                    slots[k] = Some(column);
                }
            }
            Err(e) => {
                if let Ok(mut slot) = first_error.lock() {
                    slot.get_or_insert(e);
                }
                break;
            }
        }
    };
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }
    let slots = out
        .into_inner()
        .map_err(|_| Error::Parquet("a decoding thread failed".into()))?;
    let columns = slots
        .into_iter()
        .map(|c| c.ok_or_else(|| Error::Parquet(format!("{file}: a column was not decoded"))))
        .collect::<Result<Vec<_>>>()?;
    // A column may have been decoded with wider offsets than the file's schema says.
    let fields: Vec<_> = indices
        .iter()
        .zip(&columns)
        .map(|(&i, column)| {
            let field = &schema.fields()[i];
            if field.data_type() == column.data_type() {
                field.clone()
            } else {
                Arc::new(
                    field
                        .as_ref()
                        .clone()
                        .with_data_type(column.data_type().clone()),
                )
            }
        })
        .collect();
    let out_schema = Arc::new(arrow_schema::Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ));
    Ok(Decoded {
        schema: out_schema,
        columns,
        num_rows: rows,
    })
}

/// Rows per batch when decoding string and binary columns (a few batches per column: the
/// growth of one batch is bounded, and fewer batches measured faster than 64 Ki ones).
const STRING_BATCH: usize = 1024 * 1024;

/// Rows per batch when decoding dictionary columns.
const DICTIONARY_BATCH: usize = 64 * 1024;

fn short_read(decoded: usize, expected: usize, what: &str) -> Error {
    Error::Parquet(format!(
        "{what}: decoded {decoded} rows but the file's metadata promises {expected}; refusing to \
         return incomplete data"
    ))
}

/// arrow-rs can silently return fewer rows than the metadata promises (e.g. for repeated
/// fields without a LIST annotation); refuse rather than lose data.
fn check_rows(batch: &RecordBatch, expected: usize, what: &str) -> Result<()> {
    if batch.num_rows() != expected {
        return Err(short_read(batch.num_rows(), expected, what));
    }
    Ok(())
}
