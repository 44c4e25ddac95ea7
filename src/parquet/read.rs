//! Parallel, one-copy Parquet decoding: metadata → plan (columns, row groups, filter) → one
//! reader per column on its own file handle, each producing a single contiguous array.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::ArrayRef;
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, RowSelection};

use crate::error::{Error, Result};
use crate::parquet::arrow_rs;
use crate::parquet::decode;
use crate::parquet::filter::Filter;
use crate::parquet::metadata::{check_rows, expected_rows, short_read};
use crate::parquet::parallel::{context, guarded};
use crate::parquet::progress::Progress;
use crate::parquet::source::Source;

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
    /// arrow-rs' reader over the same file.
    fn arrow_rs(&self) -> arrow_rs::Decoder<'_> {
        arrow_rs::Decoder {
            source: self.source,
            meta: self.meta,
            progress: self.progress,
        }
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
        self.arrow_rs()
            .decode_column(root, rgs, selection, rows, what)
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
        let batch =
            job.arrow_rs()
                .decode(filter_roots, &rgs, pages.clone(), candidate_rows, &what)?;
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
