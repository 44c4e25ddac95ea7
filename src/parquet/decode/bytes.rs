//! String and binary columns decoded into exactly sized buffers: the values' bytes and the
//! offsets, each row group into its own region of both, row groups in parallel. The size of
//! each region comes from the writer's `unencoded_byte_array_data_bytes` size statistic in the
//! footer or, where a writer did not record it, from a first pass over the pages that counts
//! without writing (`Count`).

use std::mem::MaybeUninit;
use std::sync::Arc;

use arrow_array::types::ByteArrayType;
use arrow_array::{ArrayRef, GenericByteArray};
use arrow_buffer::{ArrowNativeType, Buffer, OffsetBuffer, ScalarBuffer};

use crate::parquet::decode::column::{Column, Files};
use crate::parquet::decode::halt::{corrupt, Halt, Step};
use crate::parquet::decode::sink::{write_at, Count, Sink, Validity};
use crate::parquet::parallel;

/// One row group's share of a string column's final buffers: its values' bytes and the offsets
/// of its rows, written in place (row groups decode in parallel into disjoint regions).
struct Region<'a, O> {
    values: &'a mut [MaybeUninit<u8>],
    written: usize,
    /// Bytes of the values before this region.
    base: usize,
    offsets: &'a mut [MaybeUninit<O>],
    slots: usize,
    validity: Validity,
}

impl<O: ArrowNativeType> Region<'_, O> {
    #[inline]
    fn push_offset(&mut self) -> Step {
        let slot = self
            .offsets
            .get_mut(self.slots)
            .ok_or_else(|| corrupt("a row group holds more values than rows"))?;
        // Offsets fit: the column's total size was checked against the offset type.
        slot.write(O::usize_as(self.base + self.written));
        self.slots += 1;
        Ok(())
    }

    /// Whether the region was written completely (a footer may misstate the values' size).
    fn complete(&self) -> bool {
        self.written == self.values.len() && self.slots == self.offsets.len()
    }
}

impl<O: ArrowNativeType> Sink for Region<'_, O> {
    #[inline]
    fn null(&mut self) -> Step {
        self.push_offset()?;
        self.validity.null();
        Ok(())
    }
    #[inline]
    fn value(&mut self, bytes: &[u8]) -> Step {
        // More bytes than the footer promised: arrow-rs reads the column instead.
        write_at(self.values, &mut self.written, bytes, || Halt::Fallback)?;
        self.push_offset()?;
        self.validity.valid();
        Ok(())
    }
}

pub(super) fn read<T: ByteArrayType>(column: &Column<'_>, files: &Files<'_>) -> Step<ArrayRef>
where
    T::Offset: ArrowNativeType,
{
    let groups = column.row_groups;
    let rows = groups
        .iter()
        .map(|&rg| column.kept_rows(rg))
        .collect::<Step<Vec<usize>>>()?;
    let filtered = column.selections.iter().any(Option::is_some);
    let sizes = match column.recorded_bytes().filter(|_| !filtered) {
        Some(sizes) => sizes,
        None => {
            (files.again)();
            parallel::map(groups.to_vec(), column.threads, None, |rg| -> Step<usize> {
                let mut count = Count::default();
                column.walk_group(&Arc::new((files.open)()?), rg, &mut count)?;
                Ok(count.bytes)
            })?
        }
    };
    let total = sizes
        .iter()
        .try_fold(0usize, |a, &b| a.checked_add(b))
        .ok_or(Halt::Fallback)?;
    let total_rows: usize = rows.iter().sum();
    if total_rows != column.rows || T::Offset::from_usize(total).is_none() {
        return Err(Halt::Fallback); // e.g. too large for 32-bit offsets: arrow-rs reports it
    }
    let mut values: Vec<u8> = Vec::new();
    // A footer can lie: ask without aborting, and leave the column to arrow-rs if refused.
    values
        .try_reserve_exact(total)
        .map_err(|_| Halt::Fallback)?;
    let mut offsets: Vec<T::Offset> = Vec::new();
    offsets
        .try_reserve_exact(total_rows + 1)
        .map_err(|_| Halt::Fallback)?;

    crate::alloc::prefer_huge_pages(values.spare_capacity_mut());
    crate::alloc::prefer_huge_pages(offsets.spare_capacity_mut());
    // Carve both buffers into one region per row group.
    let (first, mut offset_space) = offsets
        .spare_capacity_mut()
        .split_first_mut()
        .ok_or(Halt::Fallback)?;
    first.write(T::Offset::usize_as(0));
    let mut value_space = &mut values.spare_capacity_mut()[..total];
    let mut regions = Vec::with_capacity(groups.len());
    let mut base = 0;
    for ((&rg, &n), &size) in groups.iter().zip(&rows).zip(&sizes) {
        let region = Region::<T::Offset> {
            values: value_space.split_off_mut(..size).ok_or(Halt::Fallback)?,
            written: 0,
            base,
            offsets: offset_space.split_off_mut(..n).ok_or(Halt::Fallback)?,
            slots: 0,
            validity: Validity::new(column.max_def > 0, n),
        };
        regions.push((rg, region));
        base += size;
    }
    let filled = parallel::map(
        regions,
        column.threads,
        None,
        |(rg, mut region)| -> Step<Validity> {
            column.walk_group(&Arc::new((files.open)()?), rg, &mut region)?;
            if !region.complete() {
                return Err(Halt::Fallback); // fewer bytes than the footer promised
            }
            Ok(region.validity)
        },
    )?;
    // SAFETY: every region was written completely (`Region::complete`: each byte of its values
    // and each of its offsets), the regions tile `values[..total]` and `offsets[1..]`, and
    // `offsets[0]` was written above, so both buffers are initialised up to these lengths.
    unsafe {
        values.set_len(total);
        offsets.set_len(total_rows + 1);
    }
    let nulls = Validity::join(filled, total_rows);
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    let array = GenericByteArray::<T>::try_new(offsets, Buffer::from_vec(values), nulls)
        .map_err(|e| corrupt(format!("invalid values: {e}")))?;
    Ok(Arc::new(array))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::{Array, ArrayRef, BinaryArray, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use bytes::Bytes;
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Encoding;
    use parquet::file::properties::{EnabledStatistics, WriterVersion};

    use crate::parquet::decode::column::{Column, Files};
    use crate::parquet::decode::read;
    use crate::parquet::decode::testing::{decode, props, strings};
    use crate::parquet::limits::Limits;
    use crate::parquet::metadata::load_metadata;
    use crate::parquet::source::Source;

    #[test]
    fn strings_decode_exactly_sized_in_every_handled_layout() {
        let values = strings(20_000);
        let input: ArrayRef = Arc::new(StringArray::from(values.clone()));
        let layouts = [
            ("dictionary, sizes in the footer", props().build(), true),
            (
                "dictionary, no statistics: counted first",
                props()
                    .set_statistics_enabled(EnabledStatistics::None)
                    .build(),
                false,
            ),
            (
                "plain, data page v2",
                props()
                    .set_dictionary_enabled(false)
                    .set_encoding(Encoding::PLAIN)
                    .set_writer_version(WriterVersion::PARQUET_2_0)
                    .build(),
                true,
            ),
            (
                "dictionary falling back to plain within a chunk",
                props().set_dictionary_page_size_limit(600).build(),
                true,
            ),
        ];
        for (name, p, recorded) in layouts {
            let (out, was_recorded, _) = decode(input.clone(), p).expect(name);
            assert_eq!(was_recorded, recorded, "{name}");
            assert_eq!(out.as_ref(), input.as_ref(), "{name}");
            let out = out.as_string::<i32>();
            assert_eq!(
                out.values().capacity(),
                out.values().len(),
                "{name}: exact size"
            );
        }
    }

    #[test]
    fn required_binary_columns_decode_without_validity() {
        let values: Vec<Vec<u8>> = (0..3_000u32)
            .map(|i| i.to_le_bytes().repeat((i % 4) as usize))
            .collect();
        let input: ArrayRef = Arc::new(BinaryArray::from_iter_values(values));
        let (out, _, max_def) = decode(input.clone(), props().build()).expect("handled");
        assert_eq!(max_def, 0, "a required column: pages without levels");
        assert_eq!(out.as_ref(), input.as_ref());
        assert!(out.nulls().is_none());
    }

    #[test]
    fn a_footer_misstating_the_strings_size_sends_the_column_to_arrow_rs() {
        use parquet::file::metadata::ParquetMetaData;
        let input: ArrayRef = Arc::new(StringArray::from(strings(20_000)));
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Utf8, true)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![input]).expect("batch");
        let mut file = Vec::new();
        let mut writer =
            ArrowWriter::try_new(&mut file, schema, Some(props().build())).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        let source = Source::Memory(Bytes::from(file));
        let meta = load_metadata(&source, &Limits::default()).expect("metadata");
        let files = Files {
            open: &|| source.open(),
            again: &|| (),
        };
        // Too small (the values overflow their region), too large (the region is left partly
        // unwritten), absurd (the reservation is refused instead of aborting the process).
        let lies: [&dyn Fn(i64) -> i64; 3] = [&|n| n - 1, &|n| n + 1, &|_| i64::MAX / 2];
        for lie in lies {
            let mut builder = meta.metadata().as_ref().clone().into_builder();
            let groups: Vec<_> = meta
                .metadata()
                .row_groups()
                .iter()
                .map(|g| {
                    let chunk = g.column(0).clone();
                    let told = chunk.unencoded_byte_array_data_bytes().map(lie);
                    let chunk = chunk
                        .into_builder()
                        .set_unencoded_byte_array_data_bytes(told)
                        .build()
                        .expect("chunk");
                    g.clone()
                        .into_builder()
                        .set_column_metadata(vec![chunk])
                        .build()
                        .expect("row group")
                })
                .collect();
            builder = builder.set_row_groups(groups);
            let lying: ParquetMetaData = builder.build();
            let rgs: Vec<usize> = (0..lying.num_row_groups()).collect();
            let column =
                Column::plan(&lying, 0, &rgs, 20_000, 2, None, Limits::default()).expect("planned");
            assert!(column.recorded_bytes().is_some());
            let out = read(&column, &DataType::Utf8, &files).expect("no error");
            assert!(
                out.is_none(),
                "left to arrow-rs, never written from a wrong size"
            );
        }
    }

    #[test]
    fn delta_string_encodings_decode_here_and_delta_integers_go_to_arrow_rs() {
        use arrow_array::Int64Array;
        let input: ArrayRef = Arc::new(StringArray::from(strings(5_000)));
        for encoding in [
            Encoding::DELTA_BYTE_ARRAY,
            Encoding::DELTA_LENGTH_BYTE_ARRAY,
        ] {
            let p = props()
                .set_dictionary_enabled(false)
                .set_encoding(encoding)
                .build();
            let (out, _, _) = decode(input.clone(), p).expect("handled");
            assert_eq!(out.as_ref(), input.as_ref(), "{encoding}");
        }
        let ints: ArrayRef = Arc::new(Int64Array::from_iter_values(0..1_000));
        let p = props()
            .set_dictionary_enabled(false)
            .set_encoding(Encoding::DELTA_BINARY_PACKED)
            .build();
        assert!(decode(ints, p).is_none());
    }
}
