//! Test helpers: write an array to Parquet in memory and decode it with colbridge's decoder.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};
use bytes::Bytes;
use parquet::arrow::arrow_reader::RowSelection;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use crate::parquet::decode::column::{Column, Files};
use crate::parquet::decode::read;
use crate::parquet::limits::Limits;
use crate::parquet::metadata::load_metadata;
use crate::parquet::source::Source;

/// Write `array` with `props`, decode it here: (the array, whether the footer recorded the
/// values' size, the column's maximum definition level). `None` when the column was left to arrow-rs.
pub(crate) fn decode(array: ArrayRef, props: WriterProperties) -> Option<(ArrayRef, bool, i16)> {
    let nullable = array.null_count() > 0;
    decode_as(array, props, nullable)
}

pub(crate) fn decode_as(
    array: ArrayRef,
    props: WriterProperties,
    nullable: bool,
) -> Option<(ArrayRef, bool, i16)> {
    decode_selected(array, props, nullable, None)
}

pub(crate) fn decode_selected(
    array: ArrayRef,
    props: WriterProperties,
    nullable: bool,
    selection: Option<&RowSelection>,
) -> Option<(ArrayRef, bool, i16)> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "v",
        array.data_type().clone(),
        nullable,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![array]).expect("batch");
    let mut file = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut file, schema, Some(props)).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    let source = Source::Memory(Bytes::from(file));
    let meta = load_metadata(&source, &Limits::default()).expect("metadata");
    let rgs: Vec<usize> = (0..meta.metadata().num_row_groups()).collect();
    let rows = selection.map_or(batch.num_rows(), |s| s.row_count());
    let column = Column::plan(
        meta.metadata(),
        0,
        &rgs,
        rows,
        2,
        selection,
        Limits::default(),
    )?;
    let recorded = column.recorded_bytes().is_some();
    let dt = meta.schema().field(0).data_type().clone();
    let files = Files {
        open: &|| source.open(),
        again: &|| (),
    };
    let out = read(&column, &dt, &files).expect("decode")?;
    Some((out, recorded, column.max_def))
}

pub(crate) fn strings(n: usize) -> Vec<Option<String>> {
    (0..n)
        .map(|i| (i % 7 != 3).then(|| format!("value-{}", (i * 7919) % 1000).repeat(i % 3)))
        .collect()
}

pub(crate) fn props() -> parquet::file::properties::WriterPropertiesBuilder {
    WriterProperties::builder()
        .set_max_row_group_row_count(Some(7_000))
        .set_data_page_row_count_limit(500)
        .set_write_batch_size(250)
}
