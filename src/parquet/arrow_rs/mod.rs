//! The columns arrow-rs decodes: those colbridge's own decoder (`decode`) leaves to it (nested
//! or repeated columns, encodings and types it does not handle), and a filter's columns. Its
//! record batch reader decodes them; what it returns is assembled exactly:
//! - strings and binaries in batches of `STRING_BATCH` rows, copied into one exactly sized
//!   buffer (`strings`);
//! - dictionary columns row group by row group in batches of `DICTIONARY_BATCH` rows (arrow-rs'
//!   dictionary decoding slows down several times with batches of a whole row group: 25-45 ms
//!   against 4 ms per million rows, measured), merged into one exactly sized array
//!   (`dictionary`);
//! - anything else in one batch spanning all row groups: one contiguous buffer per column.

mod dictionary;
mod strings;

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchReader};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer};
use arrow_schema::{ArrowError, SchemaRef};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ParquetRecordBatchReaderBuilder, RowSelection, RowSelector,
};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::ParquetMetaData;

use crate::error::{Error, Result};
use crate::parquet::limits::Limits;
use crate::parquet::metadata::{check_rows, expected_rows, short_read};
use crate::parquet::pages::scan_chunk;
use crate::parquet::parallel::{context, guarded};
use crate::parquet::source::{Handle, Source};
use crate::progress::Progress;

/// arrow-rs' Parquet reader over one file, each call on a file handle of its own.
#[derive(Clone, Copy)]
pub(crate) struct Decoder<'a> {
    pub(crate) source: &'a Source,
    pub(crate) meta: &'a ArrowReaderMetadata,
    pub(crate) progress: &'a Arc<Progress>,
    pub(crate) limits: Limits,
}

impl Decoder<'_> {
    /// Decode one projection (one column, or the filter's columns) into a single batch.
    pub(crate) fn decode(
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
    pub(crate) fn decode_batches(
        &self,
        roots: Vec<usize>,
        rgs: &[usize],
        selection: Option<RowSelection>,
        batch_size: usize,
        what: &str,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        guarded(what, || {
            let handle: Handle = self.source.open_with(Some(self.progress.clone()))?;
            let cap = check_chunks(
                &handle,
                self.meta.metadata(),
                &roots,
                rgs,
                self.limits,
                selection.as_ref(),
            )?;
            let batch_size = batch_size.min(cap);
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

    /// Decode one top-level column into one array: strings in batches assembled exactly,
    /// dictionaries per row group merged, anything else in one batch.
    pub(crate) fn decode_column(
        &self,
        root: usize,
        rgs: &[usize],
        selection: &Option<RowSelection>,
        rows: usize,
        what: &str,
    ) -> Result<ArrayRef> {
        let field = self.meta.schema().field(root);
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

/// Check the page headers of the column chunks of `roots` in `rgs` before arrow-rs reads them
/// (`pages::scan_chunk`: it would reserve what they claim), and a flat column's row counts
/// against them. The answer bounds the rows of one batch (arrow-rs reserves a batch's values
/// up front): 8 per decompressed byte of a column's pages, or 64 Ki, whichever is more.
pub(crate) fn check_chunks(
    handle: &Handle,
    meta: &ParquetMetaData,
    roots: &[usize],
    rgs: &[usize],
    limits: Limits,
    selection: Option<&RowSelection>,
) -> Result<usize> {
    let descr = meta.file_metadata().schema_descr();
    // The selection spans the row groups in order: cut it at their boundaries.
    let mut rest = selection.cloned();
    let mut per_group = Vec::new();
    for &rg in rgs {
        let rows = usize::try_from(meta.row_group(rg).num_rows()).unwrap_or(0);
        per_group.push(
            rest.as_mut()
                .map(|r| Vec::<RowSelector>::from(r.split_off(rows))),
        );
    }
    let mut cap = usize::MAX;
    for leaf in (0..descr.num_columns()).filter(|&l| roots.contains(&descr.get_column_root_idx(l)))
    {
        let flat = descr.column(leaf).max_rep_level() == 0;
        let mut bytes: usize = 0;
        for (&rg, runs) in rgs.iter().zip(&per_group) {
            let scan = scan_chunk(handle, meta, rg, leaf, limits, runs.as_deref())?;
            let rows = usize::try_from(meta.row_group(rg).num_rows()).unwrap_or(usize::MAX);
            let bad = if flat {
                scan.values != rows
            } else {
                scan.values < rows
            };
            if bad || scan.rows.is_some_and(|r| r != rows) {
                return Err(Error::Corrupt(format!(
                    "row group {rg} claims {rows} rows but the pages of column {} hold {} values",
                    descr.column(leaf).path(),
                    scan.values
                )));
            }
            bytes = bytes.saturating_add(scan.bytes);
        }
        cap = cap.min(bytes.saturating_mul(8).max(64 << 10));
    }
    Ok(cap)
}

/// Rows per batch when decoding string and binary columns (a few batches per column: the
/// growth of one batch is bounded, and fewer batches measured faster than 64 Ki ones).
const STRING_BATCH: usize = 1024 * 1024;

/// Rows per batch when decoding dictionary columns (see the module header).
const DICTIONARY_BATCH: usize = 64 * 1024;

/// The validity of arrays laid end to end, `push`ed in order: `None` where none has a null.
pub(super) struct JoinedNulls(Option<BooleanBufferBuilder>);

impl JoinedNulls {
    /// For `arrays`, to be pushed in this order.
    pub(super) fn new<'a>(arrays: impl IntoIterator<Item = &'a dyn Array>) -> Self {
        let (mut len, mut any_nulls) = (0, false);
        for a in arrays {
            len += a.len();
            any_nulls |= a.null_count() > 0;
        }
        JoinedNulls(any_nulls.then(|| BooleanBufferBuilder::new(len)))
    }

    pub(super) fn push(&mut self, array: &dyn Array) {
        if let Some(validity) = &mut self.0 {
            match array.nulls() {
                Some(n) => validity.append_buffer(n.inner()),
                None => validity.append_n(array.len(), true),
            }
        }
    }

    pub(super) fn finish(self) -> Option<NullBuffer> {
        self.0
            .map(|mut validity| NullBuffer::new(validity.finish()))
    }
}
