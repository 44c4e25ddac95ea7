//! The read: metadata (`metadata`) → plan (`plan`: columns, row groups, filter) → one task per
//! column on the work queue (`parallel`), each on its own file handle and producing a single
//! contiguous array: colbridge's own decoder (`decode`) where it takes the column, arrow-rs
//! (`arrow_rs`) where it does not.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, RowSelection};

use crate::datatype::retyped;
use crate::error::{Error, Result};
use crate::parquet::arrow_rs;
use crate::parquet::decode;
use crate::parquet::filter::Filter;
use crate::parquet::metadata::short_read;
use crate::parquet::parallel::{self, context, guarded};
use crate::parquet::plan::{chunk_bytes, Plan};
use crate::parquet::progress::Progress;
use crate::parquet::source::Source;

/// What to read.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadOptions {
    pub(crate) columns: Option<Vec<String>>,
    pub(crate) row_groups: Option<Vec<usize>>,
    pub(crate) filter: Option<Filter>,
    pub(crate) use_threads: bool,
    /// Decode `string` columns as `large_string` (64-bit offsets) where colbridge decodes them
    /// itself (`decode`).
    pub(crate) large_strings: bool,
}

/// A decoded table: schema and one contiguous array per column.
pub(crate) struct Decoded {
    pub(crate) schema: SchemaRef,
    pub(crate) columns: Vec<ArrayRef>,
    pub(crate) num_rows: usize,
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

    /// Decode one top-level column into one array: page by page into its final buffers where
    /// colbridge's decoder takes it (`decode`), else by arrow-rs (`arrow_rs`).
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

pub(crate) fn read(
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

fn read_columns(
    source: &Source,
    meta: &ArrowReaderMetadata,
    options: &ReadOptions,
    progress: &Arc<Progress>,
) -> Result<Decoded> {
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
    let Plan {
        roots: indices,
        rgs,
        rows,
        selection,
    } = Plan::new(
        job.arrow_rs(),
        &options.columns,
        &options.row_groups,
        options.filter.as_ref(),
    )?;

    progress
        .total
        .fetch_add(chunk_bytes(meta, &indices, &rgs), Ordering::Relaxed);
    // A task per column; each column decodes its row groups on up to as many threads again.
    let columns = parallel::map(
        indices.clone(),
        job.threads,
        Some(&progress.cancel),
        |root| {
            let what = format!("{file}, column '{}'", schema.field(root).name());
            job.decode_column(root, &rgs, &selection, rows, &what)
        },
    )?;
    // A column may have been decoded with wider offsets than the file's schema says.
    let fields: Vec<_> = indices
        .iter()
        .zip(&columns)
        .map(|(&i, column)| retyped(&schema.fields()[i], column.data_type()))
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
