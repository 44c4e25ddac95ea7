//! The plan of one column for colbridge's own decoder: which leaf, how wide its values are,
//! its row groups and, for a filtered read, the rows of each to keep. `Column::plan` is where a
//! column is accepted here or sent to arrow-rs (nested, repeated, or an encoding not handled).

use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::file::metadata::ParquetMetaData;

use crate::error::Result;
use crate::parquet::decode::fixed::INT96;
use crate::parquet::decode::halt::{corrupt, Step};
use crate::parquet::limits::Limits;
use crate::parquet::source::Handle;

/// The column (its single leaf) to decode.
pub(crate) struct Column<'a> {
    pub(super) meta: &'a ParquetMetaData,
    pub(super) leaf: usize,
    /// Bytes per value of a fixed-width physical type; `None` for BYTE_ARRAY.
    pub(super) width: Option<usize>,
    pub(super) max_def: i16,
    pub(super) row_groups: &'a [usize],
    pub(super) rows: usize,
    /// Row groups decoded at once.
    pub(super) threads: usize,
    /// Per row group (same order as `row_groups`): the runs of rows to keep, or `None` for all.
    pub(super) selections: Vec<Option<Vec<RowSelector>>>,
    pub(super) limits: Limits,
}

impl<'a> Column<'a> {
    /// The leaf of top-level column `root` if it is a flat BYTE_ARRAY, INT32, INT64, FLOAT or
    /// DOUBLE column in the encodings handled here; `None` sends the column to arrow-rs.
    pub(crate) fn plan(
        meta: &'a ParquetMetaData,
        root: usize,
        row_groups: &'a [usize],
        rows: usize,
        threads: usize,
        selection: Option<&RowSelection>,
        limits: Limits,
    ) -> Option<Self> {
        let descr = meta.file_metadata().schema_descr();
        let mut leaves = (0..descr.num_columns()).filter(|&l| descr.get_column_root_idx(l) == root);
        let leaf = leaves.next()?;
        if leaves.next().is_some() {
            return None;
        }
        let column = descr.column(leaf);
        let width = match column.physical_type() {
            PhysicalType::BYTE_ARRAY => None,
            PhysicalType::INT32 | PhysicalType::FLOAT => Some(4),
            PhysicalType::INT64 | PhysicalType::DOUBLE => Some(8),
            PhysicalType::INT96 => Some(INT96),
            _ => return None,
        };
        if column.max_rep_level() != 0
            || column.max_def_level() > 1
            || column.self_type().is_group()
        {
            return None;
        }
        // BIT_PACKED is listed by old writers for levels a flat column does not have, or has
        // RLE-encoded; each data page's level encoding is checked as it is read.
        #[allow(deprecated)]
        let handled = |e: Encoding| {
            e == Encoding::BIT_PACKED
                || matches!(
                    e,
                    Encoding::PLAIN
                        | Encoding::PLAIN_DICTIONARY
                        | Encoding::RLE_DICTIONARY
                        | Encoding::RLE
                )
                || (width.is_none()
                    && matches!(
                        e,
                        Encoding::DELTA_LENGTH_BYTE_ARRAY | Encoding::DELTA_BYTE_ARRAY
                    ))
        };
        let encodings_ok = row_groups.iter().all(|&rg| {
            rg < meta.num_row_groups() && meta.row_group(rg).column(leaf).encodings().all(handled)
        });
        if !encodings_ok {
            return None;
        }
        // The selection spans the row groups in order: cut it at their boundaries.
        let mut rest = selection.cloned();
        let mut selections = Vec::with_capacity(row_groups.len());
        for &rg in row_groups {
            let n = usize::try_from(meta.row_group(rg).num_rows()).ok()?;
            selections.push(rest.as_mut().map(|r| r.split_off(n).into()));
        }
        Some(Column {
            meta,
            leaf,
            width,
            max_def: column.max_def_level(),
            row_groups,
            rows,
            threads,
            selections,
            limits,
        })
    }

    /// The byte length of each row group's values, where every row group's footer records it.
    pub(super) fn recorded_bytes(&self) -> Option<Vec<usize>> {
        self.row_groups
            .iter()
            .map(|&rg| {
                let n = self
                    .meta
                    .row_group(rg)
                    .column(self.leaf)
                    .unencoded_byte_array_data_bytes()?;
                usize::try_from(n).ok()
            })
            .collect()
    }

    pub(super) fn group_rows(&self, rg: usize) -> Step<usize> {
        usize::try_from(self.meta.row_group(rg).num_rows())
            .map_err(|_| corrupt(format!("row group {rg} has a negative row count")))
    }

    /// The selection of row group `rg` (by its position in `row_groups`), if rows are filtered.
    pub(super) fn selection(&self, rg: usize) -> Option<&[RowSelector]> {
        let k = self.row_groups.iter().position(|&g| g == rg)?;
        self.selections.get(k)?.as_deref()
    }

    /// The rows of `rg` this read keeps.
    pub(super) fn kept_rows(&self, rg: usize) -> Step<usize> {
        match self.selection(rg) {
            Some(runs) => Ok(runs.iter().filter(|r| !r.skip).map(|r| r.row_count).sum()),
            None => self.group_rows(rg),
        }
    }
}

/// How each pass over a column's pages gets a file handle of its own.
pub(crate) struct Files<'a> {
    pub(crate) open: &'a (dyn Fn() -> Result<Handle> + Sync),
    /// Called once before a counting pass (it fetches the column's pages a second time).
    pub(crate) again: &'a (dyn Fn() + Sync),
}
