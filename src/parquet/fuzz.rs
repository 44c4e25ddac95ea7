//! The Parquet side of the fuzz targets (`crate::fuzzing`): footer parsing, and whole reads of
//! a file held in memory through every reader (colbridge's decoder, with and without a row
//! selection, its large-string layout, int32 widened to float64, arrow-rs' fallback, the batch
//! stream, one 2-D block of the numeric columns).

use std::sync::Arc;

use arrow_array::RecordBatchReader;
use arrow_schema::DataType;
use bytes::Bytes;
use parquet::file::metadata::ParquetMetaDataReader;

use crate::parquet::block::{self, BlockNulls, BlockType};
use crate::parquet::filter::{Filter, Op, Term};
use crate::parquet::limits::Limits;
use crate::parquet::metadata::load_metadata;
use crate::parquet::read::{self, ReadOptions};
use crate::parquet::source::Source;
use crate::parquet::stream::GuardedReader;
use crate::parquet::thrift;
use crate::progress::Progress;

/// Limits small enough that a fuzzer's memory limit is never what stops a read.
fn limits() -> Limits {
    Limits::new(Some(1 << 20), Some(16 << 20), Some(64 << 20))
}

/// Check and decode `data` as a serialized `FileMetaData`.
pub(crate) fn footer(data: &[u8]) {
    if let Ok(footer) = thrift::repair_footer(data) {
        let _ = ParquetMetaDataReader::decode_metadata(&footer);
    }
    let _ = thrift::read_page_header(data);
}

/// Read `file` as a Parquet file; the bits of `options` pick the reader's settings.
pub(crate) fn read(options: u8, file: &[u8]) {
    let source = Source::Memory(Bytes::copy_from_slice(file));
    let limits = limits();
    let Ok(meta) = load_metadata(&source, &limits) else {
        return;
    };
    let schema = meta.schema().clone();
    // A selection without a literal to convert: the first column's non-null rows.
    let filter = (options & 4 != 0 && !schema.fields().is_empty()).then(|| Filter {
        disjuncts: vec![vec![Term {
            column: schema.field(0).name().clone(),
            op: Op::IsNotNull,
            literals: None,
        }]],
    });
    let read_options = ReadOptions {
        columns: None,
        row_groups: None,
        filter,
        use_threads: options & 1 != 0,
        narrow_codes: options & 16 != 0,
        large_strings: options & 2 != 0,
        ints_with_nulls_as_floats: options & 32 != 0,
        keep_integers: Vec::new(),
        limits,
    };
    let _ = read::read(
        &source,
        &meta,
        &read_options,
        &Arc::new(Progress::default()),
    );
    if options & 64 != 0 {
        // `read_numpy`: the numeric columns into one block (widened in place where narrower).
        let numeric = schema
            .fields()
            .iter()
            .filter(|f| f.data_type().is_numeric() || f.data_type() == &DataType::Boolean)
            .map(|f| f.name().clone())
            .collect();
        let (dtype, nulls) = match options & 128 {
            0 => (BlockType::Float64, BlockNulls::Nan),
            _ => (BlockType::Int64, BlockNulls::Raise),
        };
        let block_options = ReadOptions {
            columns: Some(numeric),
            ..read_options.clone()
        };
        let progress = Arc::new(Progress::default());
        let _ = block::read_block(&source, &meta, &block_options, &progress, dtype, nulls);
    }
    if options & 8 != 0 {
        let roots = (0..schema.fields().len()).collect();
        let rgs = (0..meta.metadata().num_row_groups()).collect();
        if let Ok(reader) = GuardedReader::open(&source, &meta, roots, rgs, 1000, limits) {
            let _ = reader.schema();
            for batch in reader {
                if batch.is_err() {
                    break;
                }
            }
        }
    }
}
