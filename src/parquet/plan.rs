//! What a read covers: the columns asked for, the row groups, and, with a filter, the rows it
//! keeps (a `RowSelection`). The filter prunes row groups by their statistics and pages by the
//! page index, then its columns are decoded (by arrow-rs) for the exact mask; the selection is
//! what both decoders apply to every other column.

use std::sync::atomic::Ordering;

use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, RowSelection};

use crate::error::{Error, Result};
use crate::parquet::arrow_rs;
use crate::parquet::filter::Filter;
use crate::parquet::metadata::{check_rows, expected_rows};
use crate::parquet::ranges;
use crate::parquet::read::check_row_claims;

/// The top-level column indices to read, in the order asked for. A name the file holds twice is
/// ambiguous and refused, as pyarrow and pandas refuse it (reading all columns keeps both).
pub(crate) fn resolve_columns(
    schema: &SchemaRef,
    columns: &Option<Vec<String>>,
) -> Result<Vec<usize>> {
    let Some(names) = columns else {
        return Ok((0..schema.fields().len()).collect());
    };
    names
        .iter()
        .map(|name| {
            let found: Vec<usize> = schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| f.name() == name)
                .map(|(i, _)| i)
                .collect();
            match found[..] {
                [i] => Ok(i),
                [] => Err(Error::InvalidInput(format!(
                    "no column named '{name}' in the file; its columns are {}",
                    column_list(schema)
                ))),
                _ => Err(Error::InvalidInput(format!(
                    "column name '{name}' is ambiguous: the file has {} columns of that name \
                     (positions {found:?}); read all columns to get each of them",
                    found.len()
                ))),
            }
        })
        .collect()
}

/// The file's column names for a message: the first 20, then how many more.
fn column_list(schema: &SchemaRef) -> String {
    const SHOWN: usize = 20;
    let fields = schema.fields();
    let mut out: Vec<String> = fields
        .iter()
        .take(SHOWN)
        .map(|f| format!("'{}'", f.name()))
        .collect();
    if fields.len() > SHOWN {
        out.push(format!("... ({} in all)", fields.len()));
    }
    out.join(", ")
}

pub(crate) fn resolve_row_groups(
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

/// Compressed bytes of the column chunks of `roots` in `rgs`: what a read will fetch.
pub(crate) fn chunk_bytes(meta: &ArrowReaderMetadata, roots: &[usize], rgs: &[usize]) -> u64 {
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

/// The plan of a read.
pub(crate) struct Plan {
    /// The top-level columns, in the order asked for.
    pub(crate) roots: Vec<usize>,
    /// The row groups to decode (a filter prunes those whose statistics rule it out).
    pub(crate) rgs: Vec<usize>,
    /// The rows the read returns.
    pub(crate) rows: usize,
    /// With a filter: the rows of `rgs` it keeps.
    pub(crate) selection: Option<RowSelection>,
}

impl Plan {
    /// The columns and row groups asked for; with a filter, its columns are decoded (by arrow-rs)
    /// to find the rows it keeps.
    pub(crate) fn new(
        arrow_rs: arrow_rs::Decoder<'_>,
        columns: &Option<Vec<String>>,
        row_groups: &Option<Vec<usize>>,
        filter: Option<&Filter>,
    ) -> Result<Self> {
        let (meta, progress) = (arrow_rs.meta, arrow_rs.progress);
        let file = arrow_rs.source.describe();
        let schema = meta.schema().clone();
        let indices = resolve_columns(&schema, columns)?;
        let mut rgs = resolve_row_groups(meta, row_groups)?;

        let mut selection = None;
        let mut rows = expected_rows(meta, &rgs)?;
        if let Some(filter) = filter.filter(|f| !f.is_empty()) {
            let filter_roots = resolve_columns(&schema, &Some(filter.columns()))?;
            rgs = filter.prune_row_groups(&rgs, &schema, meta.parquet_schema(), meta.metadata())?;
            rows = expected_rows(meta, &rgs)?;
            progress
                .total
                .fetch_add(chunk_bytes(meta, &filter_roots, &rgs), Ordering::Relaxed);
            let what = format!("{file} (filter columns)");
            // The row masks below are sized by the footer's row counts: check them first.
            for &root in &filter_roots {
                check_row_claims(
                    arrow_rs.source,
                    meta,
                    progress,
                    arrow_rs.limits,
                    root,
                    &rgs,
                    &what,
                )?;
            }
            // Pages ruled out by the page index are never decoded; the exact mask is computed over
            // the rows of the remaining pages and chained onto that page selection.
            let pages =
                filter.prune_pages(&rgs, &schema, meta.parquet_schema(), meta.metadata())?;
            let candidate_rows = pages.as_ref().map_or(rows, |p| p.row_count());
            // The filter's own runs stay until the read ends: its columns are often read again.
            arrow_rs.source.prefetch(
                || ranges::planned(meta, &filter_roots, &rgs, pages.as_ref()),
                false,
            )?;
            let batch =
                arrow_rs.decode(filter_roots, &rgs, pages.clone(), candidate_rows, &what)?;
            check_rows(&batch, candidate_rows, &what)?;
            let mask = filter.evaluate(&batch)?;
            rows = mask.true_count();
            let exact = RowSelection::from_filters(&[mask]);
            selection = Some(match pages {
                Some(pages) => pages.and_then(&exact),
                None => exact,
            });
        }
        Ok(Plan {
            roots: indices,
            rgs,
            rows,
            selection,
        })
    }
}
