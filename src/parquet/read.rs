//! The read: metadata (`metadata`) → plan (`plan`: columns, row groups, filter) → one task per
//! column on the work queue (`parallel`), each on its own file handle and producing a single
//! contiguous array: colbridge's own decoder (`decode`) where it takes the column, arrow-rs
//! (`arrow_rs`) where it does not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, RowSelection};

use crate::datatype::retyped;
use crate::error::{Error, Result};
use crate::parquet::arrow_rs;
use crate::parquet::block;
use crate::parquet::decode;
use crate::parquet::filter::Filter;
use crate::parquet::limits::Limits;
use crate::parquet::metadata::short_read;
use crate::parquet::pages;
use crate::parquet::parallel::{self, context, guarded};
use crate::parquet::plan::{chunk_bytes, Plan};
use crate::parquet::ranges;
use crate::parquet::source::Source;
use crate::progress::Progress;

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
    /// Decode dictionary codes in the narrowest signed width that indexes the merged
    /// dictionary (int8, then int16, then the file's own index type): pandas' code width, so
    /// `read_pandas` hands the codes over without narrowing them.
    pub(crate) narrow_codes: bool,
    /// Decode integer columns whose statistics show nulls as float64 with NaN (pandas' default
    /// backend), widened in place where narrower; only without a filter (which may drop those
    /// rows).
    pub(crate) ints_with_nulls_as_floats: bool,
    /// Top-level columns left to their integers by `ints_with_nulls_as_floats`: those the
    /// pandas metadata restores as masked integer arrays (`Int32`, `UInt16`...).
    pub(crate) keep_integers: Vec<String>,
    pub(crate) limits: Limits,
}

/// A decoded table: schema and one contiguous array per column.
pub(crate) struct Decoded {
    pub(crate) schema: SchemaRef,
    pub(crate) columns: Vec<ArrayRef>,
    pub(crate) num_rows: usize,
}

/// What every decoder of one read shares: the file, its metadata, and the progress counter.
pub(super) struct Job<'a> {
    pub(super) source: &'a Source,
    pub(super) meta: &'a ArrowReaderMetadata,
    pub(super) progress: &'a Arc<Progress>,
    /// Threads a column may decode its row groups on.
    pub(super) threads: usize,
    large_strings: bool,
    narrow_codes: bool,
    ints_with_nulls_as_floats: bool,
    keep_integers: &'a [String],
    pub(super) limits: Limits,
    /// Bytes the columns decoded so far take, for `Limits::decoded`.
    decoded: AtomicU64,
}

impl Job<'_> {
    /// arrow-rs' reader over the same file.
    fn arrow_rs(&self) -> arrow_rs::Decoder<'_> {
        arrow_rs::Decoder {
            source: self.source,
            meta: self.meta,
            progress: self.progress,
            limits: self.limits,
        }
    }

    /// Decode one top-level column into one array: page by page into its final buffers where
    /// colbridge's decoder takes it (`decode`), else by arrow-rs (`arrow_rs`).
    pub(super) fn decode_column(
        &self,
        root: usize,
        rgs: &[usize],
        selection: &Option<RowSelection>,
        rows: usize,
        what: &str,
    ) -> Result<ArrayRef> {
        let field = self.meta.schema().field(root);
        let meta = self.meta.metadata();
        let plan = decode::Column::plan(
            meta,
            root,
            rgs,
            rows,
            self.threads,
            selection.as_ref(),
            self.limits,
        );
        // A row count the pages contradict is a corrupt file, whatever its size.
        if plan.is_some() {
            self.check_claims(root, rgs, what)?;
        }
        self.account(root, rgs, rows)?;
        if let Some(column) = plan {
            if self.ints_with_nulls_as_floats
                && !self.keep_integers.contains(field.name())
                && matches!(
                    field.data_type(),
                    DataType::Int8
                        | DataType::Int16
                        | DataType::Int32
                        | DataType::Int64
                        | DataType::UInt8
                        | DataType::UInt16
                        | DataType::UInt32
                        | DataType::UInt64
                )
                && self.stated_nulls(root, rgs).is_some_and(|n| n > 0)
            {
                let rows = block::Rows {
                    rgs,
                    selection,
                    count: rows,
                };
                let floats = block::ints_with_nulls_as_floats(self, &rows, root, what)?;
                if let Some(array) = floats {
                    return Ok(array);
                }
            }
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
            let mut decoded = None;
            if let (true, DataType::Dictionary(key, value)) = (self.narrow_codes, wanted) {
                // The widths the chunks' dictionary pages already outgrow are skipped; a key
                // still too narrow for the merged dictionary (a chunk that fell back to plain
                // pages) makes the decoder fall back: the column is then decoded again with
                // the next width.
                let floor = self
                    .source
                    .open_with(None)
                    .ok()
                    .and_then(|handle| {
                        parallel::guard(|| {
                            decode::dictionary_floor(&column, &handle, i16::MAX as usize + 1)
                        })
                        .ok()
                    })
                    .flatten()
                    .unwrap_or(0);
                for (narrow, entries) in [
                    (DataType::Int8, i8::MAX as usize + 1),
                    (DataType::Int16, i16::MAX as usize + 1),
                ] {
                    if decoded.is_some() || narrow == **key || floor > entries {
                        continue;
                    }
                    let dt = DataType::Dictionary(Box::new(narrow), value.clone());
                    decoded = guarded(what, || decode::read(&column, &dt, &files))
                        .map_err(context(what))?;
                    if decoded.is_none() {
                        (files.again)();
                    }
                }
            }
            if decoded.is_none() {
                decoded = guarded(what, || decode::read(&column, wanted, &files))
                    .map_err(context(what))?;
            }
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

impl Job<'_> {
    /// Count a column's output towards `Limits::decoded`, from the sizes the footer states
    /// (rows times the value's width, or the chunks' uncompressed bytes): checked before a
    /// buffer is reserved.
    fn account(&self, root: usize, rgs: &[usize], rows: usize) -> Result<()> {
        if self.limits.decoded.is_none() {
            return Ok(());
        }
        let width = self.meta.schema().field(root).data_type().primitive_width();
        let bytes = match width {
            Some(w) => (rows as u64).saturating_mul(w as u64),
            None => {
                let descr = self.meta.metadata().file_metadata().schema_descr();
                rgs.iter()
                    .flat_map(|&rg| {
                        self.meta
                            .metadata()
                            .row_group(rg)
                            .columns()
                            .iter()
                            .enumerate()
                    })
                    .filter(|(leaf, _)| descr.get_column_root_idx(*leaf) == root)
                    .map(|(_, c)| c.uncompressed_size().max(0) as u64)
                    .sum()
            }
        };
        let total = self.decoded.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.limits.check_decoded(total)
    }

    /// The nulls of column `root` in `rgs` by the footer's statistics; `None` where a row group
    /// does not say.
    fn stated_nulls(&self, root: usize, rgs: &[usize]) -> Option<u64> {
        let meta = self.meta.metadata();
        let descr = meta.file_metadata().schema_descr();
        let leaf = (0..descr.num_columns()).find(|&l| descr.get_column_root_idx(l) == root)?;
        rgs.iter()
            .map(|&rg| {
                meta.row_group(rg)
                    .column(leaf)
                    .statistics()?
                    .null_count_opt()
            })
            .sum()
    }

    /// Before colbridge's decoder reserves a column's rows: `check_row_claims`.
    pub(super) fn check_claims(&self, root: usize, rgs: &[usize], what: &str) -> Result<()> {
        check_row_claims(
            self.source,
            self.meta,
            self.progress,
            self.limits,
            root,
            rgs,
            what,
        )
    }
}

/// Check the footer's row counts of column `root` in `rgs` against what its pages claim, where
/// the counts are out of proportion to the chunks' bytes (a 2 KB file claiming 10^12 rows):
/// a lie is a clean error, not a reservation sized by it.
pub(crate) fn check_row_claims(
    source: &Source,
    meta: &ArrowReaderMetadata,
    progress: &Arc<Progress>,
    limits: Limits,
    root: usize,
    rgs: &[usize],
    what: &str,
) -> Result<()> {
    let meta = meta.metadata();
    let descr = meta.file_metadata().schema_descr();
    for &rg in rgs {
        let group = meta.row_group(rg);
        let rows = u64::try_from(group.num_rows()).unwrap_or(u64::MAX);
        for (leaf, chunk) in group.columns().iter().enumerate() {
            if descr.get_column_root_idx(leaf) != root {
                continue;
            }
            let bytes = u64::try_from(chunk.compressed_size()).unwrap_or(0);
            if rows.saturating_mul(8) <= (64u64 << 20).max(bytes.saturating_mul(64)) {
                continue;
            }
            let handle = source.open_with(Some(progress.clone()))?;
            let scan =
                pages::scan_chunk(&handle, meta, rg, leaf, limits, None).map_err(context(what))?;
            if scan.values as u64 != rows {
                return Err(Error::Corrupt(format!(
                    "{what}: row group {rg} claims {rows} rows but its pages hold {} values",
                    scan.values
                )));
            }
        }
    }
    Ok(())
}

/// Read the columns `options` ask for, one task per column.
pub(crate) fn read(
    source: &Source,
    meta: &ArrowReaderMetadata,
    options: &ReadOptions,
    progress: &Arc<Progress>,
) -> Result<Decoded> {
    run(source, meta, options, progress, read_columns)
}

/// Plan the read `options` ask for and hand it, with the job its decoders share, to `work`;
/// a read cancelled meanwhile is `Cancelled` whatever `work` made of it.
pub(super) fn run<R>(
    source: &Source,
    meta: &ArrowReaderMetadata,
    options: &ReadOptions,
    progress: &Arc<Progress>,
    work: impl FnOnce(&Job<'_>, Plan) -> Result<R>,
) -> Result<R> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let job = Job {
        source,
        meta,
        progress,
        threads: if options.use_threads { cores } else { 1 },
        large_strings: options.large_strings,
        narrow_codes: options.narrow_codes,
        ints_with_nulls_as_floats: options.ints_with_nulls_as_floats && options.filter.is_none(),
        keep_integers: &options.keep_integers,
        limits: options.limits,
        decoded: AtomicU64::new(0),
    };
    let result = Plan::new(
        job.arrow_rs(),
        &options.columns,
        &options.row_groups,
        options.filter.as_ref(),
    )
    .and_then(|plan| {
        progress
            .total
            .fetch_add(chunk_bytes(meta, &plan.roots, &plan.rgs), Ordering::Relaxed);
        source.prefetch(
            || ranges::planned(meta, &plan.roots, &plan.rgs, plan.selection.as_ref()),
            true,
        )?;
        work(&job, plan)
    });
    source.release();
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    result
}

fn read_columns(job: &Job<'_>, plan: Plan) -> Result<Decoded> {
    let file = job.source.describe();
    let schema = job.meta.schema().clone();
    let Plan {
        roots: indices,
        rgs,
        rows,
        selection,
    } = plan;
    // A task per column; each column decodes its row groups on up to as many threads again.
    let columns = parallel::map(
        indices.clone(),
        job.threads,
        Some(&job.progress.cancel),
        |root| {
            let what = format!("{file}, column '{}'", schema.field(root).name());
            let decoded = job.decode_column(root, &rgs, &selection, rows, &what);
            // Its chunks are decoded (or failed): what was fetched for them may go.
            for range in ranges::planned(job.meta, &[root], &rgs, None) {
                job.source.done(range);
            }
            decoded
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
