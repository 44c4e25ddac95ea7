//! Fixed-width columns (INT32, INT64, FLOAT, DOUBLE read as the Arrow type with the same bits;
//! INT96 timestamps converted to nanoseconds as pyarrow converts them) decoded into one buffer
//! of rows × width, each row group into its own region of it, row groups in parallel.

use std::mem::MaybeUninit;
use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_buffer::{ArrowNativeType, Buffer, NullBuffer};
use arrow_schema::DataType;

use crate::parquet::decode::column::{Column, Files};
use crate::parquet::decode::encoding::dictionary::Dictionary;
use crate::parquet::decode::halt::{corrupt, short_page, Halt, Step};
use crate::parquet::decode::sink::{masked_plain_each, write_at, Sink, Validity};
use crate::parquet::parallel;

/// Bytes of an INT96 value: nanoseconds of the day (8, little-endian), then the Julian day (4).
pub(super) const INT96: usize = 12;

/// Julian day number of 1970-01-01.
const JULIAN_UNIX_EPOCH: i64 = 2_440_588;

/// An INT96 timestamp as nanoseconds since the epoch, computed as pyarrow does: the Julian day
/// unsigned, the arithmetic wrapping (so out-of-range values wrap the same way).
fn int96_nanos(bytes: &[u8]) -> Step<i64> {
    let bytes: &[u8; INT96] = bytes.try_into().map_err(|_| short_page())?;
    let nanos = i64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ]);
    let day = i64::from(u32::from_le_bytes([
        bytes[8], bytes[9], bytes[10], bytes[11],
    ]));
    // Julian day 0 is no date a writer meant: pyarrow reads it as the epoch, nanoseconds and
    // all (Arrow C++ `Int96GetNanoSeconds`), not as a date in 4713 BC wrapped around.
    if day == 0 {
        return Ok(0);
    }
    Ok((day - JULIAN_UNIX_EPOCH)
        .wrapping_mul(86_400_000_000_000)
        .wrapping_add(nanos))
}

/// One row group's region of a fixed-width column's values.
struct Fixed<'a> {
    values: &'a mut [MaybeUninit<u8>],
    written: usize,
    width: usize,
    /// Values are 12-byte INT96 timestamps, written as i64 nanoseconds.
    int96: bool,
    /// What a null's slot holds (its first `width` bytes): see `null_slot`.
    null: [u8; 8],
    validity: Validity,
}

/// What a null's slot holds in a column of `data_type`. Arrow leaves it undefined; pandas'
/// sentinel there (NaN for floats, NaT — `i64::MIN` — for 64-bit temporal types) lets
/// `read_parquet(p).to_pandas()` hand the buffer to pandas as it is, with no second copy.
/// Zeros for every other type.
pub(crate) fn null_slot(data_type: &DataType) -> [u8; 8] {
    match data_type {
        DataType::Float64 => f64::NAN.to_le_bytes(),
        DataType::Float32 => {
            let mut slot = [0; 8];
            slot[..4].copy_from_slice(&f32::NAN.to_le_bytes());
            slot
        }
        DataType::Timestamp(..) | DataType::Duration(_) | DataType::Date64 => {
            i64::MIN.to_le_bytes()
        }
        _ => [0; 8],
    }
}

impl Fixed<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Step {
        write_at(self.values, &mut self.written, bytes, || {
            corrupt("a row group holds more values than rows")
        })
    }
}

impl Sink for Fixed<'_> {
    #[inline]
    fn null(&mut self) -> Step {
        self.validity.null();
        let null = self.null;
        self.put(&null[..self.width])
    }
    #[inline]
    fn value(&mut self, bytes: &[u8]) -> Step {
        self.validity.valid();
        if self.int96 {
            return self.put(&int96_nanos(bytes)?.to_le_bytes());
        }
        self.put(bytes)
    }
    fn plain_run(&mut self, bytes: &[u8], count: usize) -> Step {
        if self.int96 {
            for value in bytes.chunks_exact(INT96).take(count) {
                self.value(value)?;
            }
            return Ok(());
        }
        self.validity.valid_n(count);
        self.put(bytes)
    }
    fn masked_plain(&mut self, levels: &[u32], values: &[u8], width: usize) -> Step<usize> {
        match (self.int96, width) {
            (false, 4) => self.scatter::<4>(levels, values),
            (false, 8) => self.scatter::<8>(levels, values),
            // Slot by slot (INT96 converts each value).
            _ => masked_plain_each(self, levels, values, width),
        }
    }
    fn entries(&mut self, dictionary: &Dictionary, indices: &[u32]) -> Step {
        if self.int96 {
            for &index in indices {
                self.entry(dictionary, index)?;
            }
            return Ok(());
        }
        match self.width {
            4 => self.gather::<4>(dictionary, indices),
            8 => self.gather::<8>(dictionary, indices),
            _ => Err(Halt::Fallback),
        }
    }
}

impl Fixed<'_> {
    /// One slot per level: the next `W`-byte value where the level is 1, zeros (a null) where
    /// it is 0; validity appended 64 slots at a time. Returns the bytes of `values` taken.
    fn scatter<const W: usize>(&mut self, levels: &[u32], values: &[u8]) -> Step<usize> {
        let end = self.written + levels.len() * W;
        let target = self
            .values
            .get_mut(self.written..end)
            .ok_or_else(|| corrupt("a row group holds more values than rows"))?;
        let valid = levels.iter().filter(|&&l| l != 0).count();
        let source = values
            .get(..valid * W)
            .ok_or_else(short_page)?
            .as_chunks::<W>()
            .0;
        let mut next = source.iter();
        let (null, _) = self.null.as_chunks::<W>();
        let null = null.first().copied().unwrap_or([0; W]);
        for (slot, &level) in target.as_chunks_mut::<W>().0.iter_mut().zip(levels) {
            match level {
                0 => slot.write_copy_of_slice(&null),
                _ => slot.write_copy_of_slice(next.next().ok_or_else(short_page)?),
            };
        }
        self.validity.levels(levels, levels.len() - valid);
        self.written = end;
        Ok(valid * W)
    }

    /// Copy the dictionary values of `indices` (`W` bytes each) into the region.
    fn gather<const W: usize>(&mut self, dictionary: &Dictionary, indices: &[u32]) -> Step {
        let end = self.written + indices.len() * W;
        let target = self
            .values
            .get_mut(self.written..end)
            .ok_or_else(|| corrupt("a row group holds more values than rows"))?;
        let table = dictionary
            .page
            .get(..dictionary.len * W)
            .filter(|_| dictionary.width == Some(W))
            .ok_or_else(|| corrupt("dictionary of another width"))?;
        let (table, _) = table.as_chunks::<W>();
        for (slot, &index) in target.as_chunks_mut::<W>().0.iter_mut().zip(indices) {
            let value = table
                .get(index as usize)
                .ok_or_else(|| dictionary.out_of_range(index))?;
            slot.write_copy_of_slice(value);
        }
        self.written = end;
        self.validity.valid_n(indices.len());
        Ok(())
    }
}

/// A fixed-width column (`T`'s bits are the Parquet values') decoded into one buffer of
/// rows × width, each row group into its own region, in parallel; typed as `data_type`.
pub(super) fn read<T: ArrowNativeType>(
    column: &Column<'_>,
    files: &Files<'_>,
    data_type: &DataType,
) -> Step<ArrayRef> {
    if !takes::<T>(column) {
        return Err(Halt::Fallback);
    }
    let total_rows = column.rows;
    let mut values: Vec<T> = Vec::new();
    values
        .try_reserve_exact(total_rows)
        .map_err(|_| Halt::Fallback)?;
    let space = &mut values.spare_capacity_mut()[..total_rows];
    crate::alloc::prefer_huge_pages(space);
    let nulls = read_into(column, files, space, null_slot(data_type))?;
    // SAFETY: `read_into` returned `Ok`, so it wrote every byte of the first `total_rows`
    // values; any bit pattern is a valid `T` (a primitive integer or float).
    unsafe { values.set_len(total_rows) };
    let data = arrow_data::ArrayData::try_new(
        data_type.clone(),
        total_rows,
        nulls.map(|n| n.into_inner().into_inner()),
        0,
        vec![Buffer::from_vec(values)],
        vec![],
    )
    .map_err(|e| corrupt(format!("invalid values: {e}")))?;
    Ok(arrow_array::make_array(data))
}

/// Whether `column`'s values are `T`'s width (or INT96 timestamps, which become `i64`).
fn takes<T>(column: &Column<'_>) -> bool {
    let width = std::mem::size_of::<T>();
    column.width == Some(width) || (column.width == Some(INT96) && width == 8)
}

/// A fixed-width column (`T`'s bits are the Parquet values, or INT96 as nanoseconds into `i64`)
/// decoded into `space`, exactly its rows long (a buffer of its own, or its slice of a 2-D
/// block), each row group into its own region of it, in parallel. On `Ok` every value of
/// `space` is written (a null as `null`'s first bytes) and the validity is returned; on an error
/// `space` may be partly written.
pub(crate) fn read_into<T: ArrowNativeType>(
    column: &Column<'_>,
    files: &Files<'_>,
    space: &mut [MaybeUninit<T>],
    null: [u8; 8],
) -> Step<Option<NullBuffer>> {
    if !takes::<T>(column) {
        return Err(Halt::Fallback);
    }
    let width = std::mem::size_of::<T>();
    let int96 = column.width == Some(INT96);
    let groups = column.row_groups;
    let rows = groups
        .iter()
        .map(|&rg| column.kept_rows(rg))
        .collect::<Step<Vec<usize>>>()?;
    let total_rows: usize = rows.iter().sum();
    if total_rows != column.rows || space.len() != total_rows {
        return Err(Halt::Fallback);
    }
    // SAFETY: the same memory viewed as bytes: `MaybeUninit<u8>` has no alignment or validity
    // requirement, and the length covers exactly the `total_rows` values of `T`.
    let mut space: &mut [MaybeUninit<u8>] =
        unsafe { std::slice::from_raw_parts_mut(space.as_mut_ptr().cast(), total_rows * width) };
    let mut regions = Vec::with_capacity(groups.len());
    for (&rg, &n) in groups.iter().zip(&rows) {
        let sink = Fixed {
            values: space.split_off_mut(..n * width).ok_or(Halt::Fallback)?,
            written: 0,
            width,
            int96,
            null,
            validity: Validity::new(column.max_def > 0, n),
        };
        regions.push((rg, sink));
    }
    let filled = parallel::map(
        regions,
        column.threads,
        None,
        |(rg, mut sink)| -> Step<Validity> {
            column.walk_group(&Arc::new((files.open)()?), rg, &mut sink)?;
            if sink.written != sink.values.len() {
                return Err(corrupt(format!(
                    "row group {rg} holds fewer values than its metadata promises"
                )));
            }
            Ok(sink.validity)
        },
    )?;
    // Every region was written completely (checked above: each of its bytes), and the regions
    // tile all of `space`.
    Ok(Validity::join(filled, total_rows))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Array, ArrayRef};
    use parquet::basic::Encoding;
    use parquet::file::properties::WriterVersion;

    use crate::parquet::decode::testing::{decode, decode_as, props};

    #[test]
    fn fixed_width_columns_decode_in_place() {
        use arrow_array::{Float64Array, Int32Array, Int64Array, TimestampMillisecondArray};
        let n = 20_000;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from_iter_values(
                (0..n).map(|i| (i * 7919) % 500),
            )),
            Arc::new(Int64Array::from_iter_values((0..n as i64).map(|i| i * i))),
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| (i % 300) as f64 / 7.0),
            )),
            Arc::new(
                TimestampMillisecondArray::from_iter_values((0..n as i64).map(|i| i * 1_000))
                    .with_timezone("Europe/Berlin"),
            ),
        ];
        let layouts = [
            props().build(),
            props().set_dictionary_enabled(false).build(),
            props()
                .set_encoding(Encoding::PLAIN)
                .set_writer_version(WriterVersion::PARQUET_2_0)
                .set_dictionary_page_size_limit(600)
                .build(),
        ];
        for input in columns {
            for (p, nullable) in layouts
                .iter()
                .flat_map(|p| [(p.clone(), false), (p.clone(), true)])
            {
                let (out, _, max_def) = decode_as(input.clone(), p, nullable).expect("handled");
                assert_eq!(max_def, i16::from(nullable));
                assert_eq!(out.as_ref(), input.as_ref());
                let data = out.to_data();
                assert_eq!(
                    data.buffers()[0].capacity(),
                    data.buffers()[0].len(),
                    "exact"
                );
            }
        }
    }

    #[test]
    fn fixed_width_nulls_and_narrow_integers_decode_here() {
        use arrow_array::{Float64Array, Int16Array, TimestampMicrosecondArray};
        let values = (0..5_000).map(|i| (i % 9 != 4).then_some(f64::from(i) / 4.0));
        let with_nulls: ArrayRef = Arc::new(values.collect::<Float64Array>());
        for p in [
            props().build(),
            props().set_dictionary_enabled(false).build(),
        ] {
            let (out, _, max_def) = decode(with_nulls.clone(), p).expect("handled");
            assert_eq!(max_def, 1);
            assert_eq!(out.as_ref(), with_nulls.as_ref());
        }
        // The slots under nulls hold pandas' sentinels (NaN, NaT): see `null_slot`.
        for p in [
            props().build(),
            props().set_dictionary_enabled(false).build(),
        ] {
            let (out, _, _) = decode(with_nulls.clone(), p.clone()).expect("handled");
            let out = out.as_any().downcast_ref::<Float64Array>().expect("f64");
            assert!((0..out.len())
                .filter(|&i| out.is_null(i))
                .all(|i| out.values()[i].is_nan()));
            let stamps: ArrayRef = Arc::new(TimestampMicrosecondArray::from_iter(
                (0..3_000i64).map(|i| (i % 5 != 1).then_some(i)),
            ));
            let (out, _, _) = decode(stamps, p).expect("handled");
            let out = out
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .expect("timestamps");
            assert_eq!(out.null_count(), 600);
            assert!((0..out.len())
                .filter(|&i| out.is_null(i))
                .all(|i| out.values()[i] == i64::MIN));
        }
        // INT32 annotated as 16 bits: decoded as INT32 here, then cut to its width.
        let narrowed: ArrayRef = Arc::new(Int16Array::from(vec![Some(1i16), None, Some(-2)]));
        let (out, _, _) = decode(narrowed.clone(), props().build()).expect("handled");
        assert_eq!(out.as_ref(), narrowed.as_ref());
    }
}
