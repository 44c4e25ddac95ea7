//! pandas null sentinels written into Arrow buffers.
//!
//! pandas' NumPy-backed columns mark missing values in the values themselves (NaN, NaT, -1
//! category codes). When colbridge owns a freshly decoded buffer exclusively, it writes those
//! sentinels in place at the null slots (only the null slots are touched) so the DataFrame can
//! take the buffer as it is; a shared buffer is copied first, never written.

use std::sync::Arc;

use arrow_array::types::*;
use arrow_array::{
    make_array, Array, ArrayRef, ArrowPrimitiveType, LargeStringArray, PrimitiveArray, StringArray,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_data::ArrayData;
use arrow_schema::DataType;

use crate::error::Result;

/// Overwrite the null slots of `values` with `sentinel`, in place when the buffer is uniquely
/// owned, else in a copy.
fn write_sentinel<T: ArrowPrimitiveType>(
    values: ScalarBuffer<T::Native>,
    nulls: &NullBuffer,
    sentinel: T::Native,
) -> ScalarBuffer<T::Native> {
    let len = values.len();
    let buffer: Buffer = values.into_inner();
    let mut owned = match buffer.into_mutable() {
        Ok(m) => m,
        Err(shared) => {
            let mut copy = arrow_buffer::MutableBuffer::new(shared.len());
            copy.extend_from_slice(shared.as_slice());
            copy
        }
    };
    let slots = owned.typed_data_mut::<T::Native>();
    let missing = !nulls.inner();
    for i in missing.set_indices() {
        if i < len {
            slots[i] = sentinel;
        }
    }
    ScalarBuffer::new(owned.into(), 0, len)
}

fn primitive<T: ArrowPrimitiveType>(
    array: ArrayRef,
    sentinel: T::Native,
    keep_nulls: bool,
) -> ArrayRef {
    let dt = array.data_type().clone();
    let data = array.to_data();
    drop(array);
    let prim = PrimitiveArray::<T>::from(data);
    let (_, values, nulls) = prim.into_parts();
    let Some(nulls) = nulls else {
        return Arc::new(PrimitiveArray::<T>::new(values, None).with_data_type(dt));
    };
    let values = write_sentinel::<T>(values, &nulls, sentinel);
    let nulls = keep_nulls.then_some(nulls);
    Arc::new(PrimitiveArray::<T>::new(values, nulls).with_data_type(dt))
}

/// Replace the nulls of float and temporal columns by NaN / NaT (dropping the validity bitmap:
/// pandas reads the sentinel), and write -1 into the null codes of dictionary columns
/// (keeping the bitmap, which Arrow needs).
pub(crate) fn fill_sentinels(array: ArrayRef) -> Result<ArrayRef> {
    if array.null_count() == 0 {
        return Ok(array);
    }
    Ok(match array.data_type().clone() {
        DataType::Float32 => primitive::<Float32Type>(array, f32::NAN, false),
        DataType::Float64 => primitive::<Float64Type>(array, f64::NAN, false),
        DataType::Timestamp(..) | DataType::Duration(_) | DataType::Date64 => {
            let dt = array.data_type().clone();
            let data = array.to_data();
            drop(array);
            let as_int = make_array(data.into_builder().data_type(DataType::Int64).build()?);
            let filled = primitive::<Int64Type>(as_int, i64::MIN, false);
            let data: ArrayData = filled.to_data().into_builder().data_type(dt).build()?;
            make_array(data)
        }
        DataType::Dictionary(key, _) => {
            let data = array.to_data();
            drop(array);
            let keys = make_array(
                ArrayData::builder((*key).clone())
                    .len(data.len())
                    .offset(data.offset())
                    .nulls(data.nulls().cloned())
                    .buffers(data.buffers().to_vec())
                    .build()?,
            );
            let values = data.child_data().to_vec();
            let dt = data.data_type().clone();
            drop(data);
            let keys = match *key {
                DataType::Int8 => primitive::<Int8Type>(keys, -1, true),
                DataType::Int16 => primitive::<Int16Type>(keys, -1, true),
                DataType::Int32 => primitive::<Int32Type>(keys, -1, true),
                DataType::Int64 => primitive::<Int64Type>(keys, -1, true),
                _ => keys,
            };
            let kd = keys.to_data();
            // SAFETY-free path: `build` validates; null slots may hold -1, which Arrow allows
            // because they are masked by the (kept) validity bitmap.
            make_array(
                ArrayData::builder(dt)
                    .len(kd.len())
                    .offset(kd.offset())
                    .nulls(kd.nulls().cloned())
                    .buffers(kd.buffers().to_vec())
                    .child_data(values)
                    .build()?,
            )
        }
        _ => array,
    })
}

/// `array` as pandas' default backend holds it, converted in its own buffers where it alone
/// holds them (`Table.to_pandas(self_destruct=True)`): integers with nulls become float64 with
/// NaN (8-byte integers in place, narrower ones into a new buffer while theirs is given back),
/// dictionary codes get -1 at nulls and the narrowest width pandas gives them (the rest of their
/// buffer given back), strings get the 64-bit offsets of pandas' `str` (`large_strings`),
/// floats and temporal values NaN / NaT at nulls (`fill_sentinels`). What
/// cannot be converted in place is left as it is (the conversion to pandas then copies it as it
/// would have).
pub(crate) fn for_pandas(array: ArrayRef) -> Result<ArrayRef> {
    // An integer column without nulls is pandas' integer column already.
    let nulls = array.null_count() > 0;
    Ok(match array.data_type() {
        DataType::Int8 if nulls => ints_to_floats::<Int8Type>(array),
        DataType::Int16 if nulls => ints_to_floats::<Int16Type>(array),
        DataType::Int32 if nulls => ints_to_floats::<Int32Type>(array),
        DataType::Int64 if nulls => ints_to_floats::<Int64Type>(array),
        DataType::UInt8 if nulls => ints_to_floats::<UInt8Type>(array),
        DataType::UInt16 if nulls => ints_to_floats::<UInt16Type>(array),
        DataType::UInt32 if nulls => ints_to_floats::<UInt32Type>(array),
        DataType::UInt64 if nulls => ints_to_floats::<UInt64Type>(array),
        DataType::Dictionary(..) => narrow_codes(fill_sentinels(array)?)?,
        DataType::Utf8 => large_strings(array),
        _ => fill_sentinels(array)?,
    })
}

/// A `string` column as `large_string`, pandas' `str` storage (pandas casts a `string` column
/// to it, holding both offsets at once): the offsets widened into a new buffer front to back
/// while theirs go back to the OS behind them (`convert_behind`), the values buffer passed on
/// as it is. The column as it was where its offsets are shared or sliced, or the new buffer
/// cannot be had.
fn large_strings(array: ArrayRef) -> ArrayRef {
    let data = array.to_data();
    drop(array);
    let (offsets, values, nulls) = StringArray::from(data).into_parts();
    let len = offsets.len();
    let narrow = match offsets.into_inner().into_inner().into_vec::<i32>() {
        Ok(vec) if vec.len() == len => vec,
        Ok(vec) => return rebuilt(Buffer::from_vec(vec), len, values, nulls),
        Err(buffer) => return rebuilt(buffer, len, values, nulls),
    };
    let wide = match convert_behind(narrow, |&o| i64::from(o)) {
        Ok(wide) => wide,
        Err(narrow) => return rebuilt(Buffer::from_vec(narrow), len, values, nulls),
    };
    let offsets = OffsetBuffer::new(ScalarBuffer::from(wide));
    // SAFETY: the offsets are those of the valid `StringArray` taken apart above, each widened
    // from i32 to i64 (same values, same order), over the same values buffer and nulls: still
    // monotonic, within the values, and at UTF-8 boundaries.
    Arc::new(unsafe { LargeStringArray::new_unchecked(offsets, values, nulls) })
}

/// The `string` column taken apart by `large_strings`, put back as it was (`len` offsets in
/// `offsets`, from the valid array).
fn rebuilt(offsets: Buffer, len: usize, values: Buffer, nulls: Option<NullBuffer>) -> ArrayRef {
    let offsets = OffsetBuffer::new(ScalarBuffer::new(offsets, 0, len));
    // SAFETY: the offsets, values and nulls of the valid `StringArray` taken apart, unchanged.
    Arc::new(unsafe { StringArray::new_unchecked(offsets, values, nulls) })
}

/// An integer column with nulls as float64 with NaN, in its own buffer where the integers
/// take eight bytes, else in a new one filled front to back while the integers' memory goes
/// back to the OS behind it; the column as it was where its buffer is shared or sliced, or the
/// new buffer cannot be had.
fn ints_to_floats<T: ArrowPrimitiveType>(array: ArrayRef) -> ArrayRef
where
    T::Native: num_traits::ToPrimitive,
{
    let data = array.to_data();
    drop(array);
    let (_, values, nulls) = PrimitiveArray::<T>::from(data).into_parts();
    let Some(nulls) = nulls else {
        return Arc::new(PrimitiveArray::<T>::new(values, None));
    };
    let len = values.len();
    let keep = |buffer: Buffer| -> ArrayRef {
        Arc::new(PrimitiveArray::<T>::new(
            ScalarBuffer::new(buffer, 0, len),
            Some(nulls.clone()),
        ))
    };
    let mut ints = match values.into_inner().into_vec::<T::Native>() {
        Ok(vec) if vec.len() >= len => vec,
        Ok(vec) => return keep(Buffer::from_vec(vec)),
        Err(buffer) => return keep(buffer),
    };
    ints.truncate(len);
    let converted = if std::mem::size_of::<T::Native>() == std::mem::size_of::<f64>() {
        floats_in_place(ints)
    } else {
        floats_behind(ints)
    };
    let buffer = match converted {
        Ok(floats) => floats,
        Err(ints) => return keep(Buffer::from_vec(ints)),
    };
    let floats = write_sentinel::<Float64Type>(ScalarBuffer::new(buffer, 0, len), &nulls, f64::NAN);
    Arc::new(PrimitiveArray::<Float64Type>::new(floats, None))
}

/// Eight-byte integers as float64 in their own buffer; the integers back where the buffer is
/// not aligned for f64.
fn floats_in_place<N: num_traits::ToPrimitive + arrow_buffer::ArrowNativeType>(
    mut ints: Vec<N>,
) -> Result<Buffer, Vec<N>> {
    if std::mem::size_of::<N>() != std::mem::size_of::<f64>()
        || ints.as_ptr().align_offset(std::mem::align_of::<f64>()) != 0
    {
        return Err(ints);
    }
    let base = ints.as_mut_ptr();
    for i in 0..ints.len() {
        // SAFETY: integer i and float i take the same eight bytes (sizes checked above), which
        // are aligned for f64 (checked above); integer i is read before float i is written.
        // Raw pointers only: no reference into the vector is alive meanwhile.
        unsafe {
            let float = base.add(i).read().to_f64().unwrap_or(f64::NAN);
            base.cast::<f64>().add(i).write(float);
        }
    }
    Ok(Buffer::from_vec(ints))
}

/// Integers narrower than eight bytes as float64 in a new buffer (`convert_behind`): growing
/// the integers' buffer instead made mimalloc copy it whole, both at once. The integers back if
/// the new buffer cannot be had.
fn floats_behind<N: num_traits::ToPrimitive + Copy>(ints: Vec<N>) -> Result<Buffer, Vec<N>> {
    convert_behind(ints, |v| v.to_f64().unwrap_or(f64::NAN)).map(Buffer::from_vec)
}

/// `items` converted one by one into a new, wider vector written front to back; the items'
/// memory goes back to the OS a 2 MiB unit at a time once converted (`release_pages`), so the
/// conversion holds little more than the result. The items back if the new vector cannot be
/// had.
fn convert_behind<N: Copy, W>(items: Vec<N>, convert: impl Fn(&N) -> W) -> Result<Vec<W>, Vec<N>> {
    /// Items converted between two releases.
    const STEP: usize = 1 << 18;
    let len = items.len();
    let mut out: Vec<W> = Vec::new();
    if out.try_reserve_exact(len).is_err() {
        return Err(items);
    }
    crate::alloc::prefer_huge_pages(out.spare_capacity_mut());
    let width = std::mem::size_of::<N>();
    let base = items.as_ptr();
    // Bytes at the front of the items already given back (or never to be passed again).
    let mut behind = 0;
    let mut start = 0;
    while start < len {
        let end = len.min(start + STEP);
        {
            // SAFETY: [start, end) lies inside the vector's `len` initialised items, and none
            // of their bytes has been given back: `behind <= start * width` (below).
            let step = unsafe { std::slice::from_raw_parts(base.add(start), end - start) };
            out.extend(step.iter().map(&convert));
        }
        // SAFETY: the items before `end` are converted and never read again; no reference into
        // them is alive (the slice above is gone), and the vector is only dropped below, which
        // frees its allocation without reading it (`N: Copy` has no drop glue).
        // `release_pages` gives back at most the bytes it is passed, so `behind` stays at or
        // below `end * width`.
        behind += unsafe {
            crate::alloc::release_pages(base.cast::<u8>().add(behind), end * width - behind)
        };
        start = end;
    }
    drop(items);
    Ok(out)
}

/// A dictionary column whose codes are wider than pandas makes them (int8 below 127 values,
/// int16 below 32,767) with its codes narrowed in their own buffer; as it was where that buffer
/// is shared or sliced, or a valid code does not index the dictionary.
fn narrow_codes(array: ArrayRef) -> Result<ArrayRef> {
    let DataType::Dictionary(key, _) = array.data_type() else {
        return Ok(array);
    };
    let key = (**key).clone();
    let data = array.to_data();
    drop(array);
    let entries = data.child_data().first().map_or(0, |d| d.len());
    let narrow = match entries {
        n if n < 127 => DataType::Int8,
        n if n < 32_767 => DataType::Int16,
        _ => return Ok(make_array(data)),
    };
    match (&key, &narrow) {
        (DataType::Int16 | DataType::UInt16, DataType::Int8) => {
            narrow_keys::<Int16Type, Int8Type>(data, entries)
        }
        (DataType::Int32 | DataType::UInt32, DataType::Int8) => {
            narrow_keys::<Int32Type, Int8Type>(data, entries)
        }
        (DataType::Int32 | DataType::UInt32, DataType::Int16) => {
            narrow_keys::<Int32Type, Int16Type>(data, entries)
        }
        (DataType::Int64 | DataType::UInt64, DataType::Int8) => {
            narrow_keys::<Int64Type, Int8Type>(data, entries)
        }
        (DataType::Int64 | DataType::UInt64, DataType::Int16) => {
            narrow_keys::<Int64Type, Int16Type>(data, entries)
        }
        _ => Ok(make_array(data)),
    }
}

/// `data` (a dictionary of `entries` values keyed by `K`'s bits) keyed by `N`, its codes
/// narrowed front to back in their own buffer; `data` as it was where that cannot be done.
fn narrow_keys<K: ArrowPrimitiveType, N: ArrowPrimitiveType>(
    data: ArrayData,
    entries: usize,
) -> Result<ArrayRef>
where
    K::Native: num_traits::ToPrimitive,
    N::Native: num_traits::NumCast,
{
    let (len, offset) = (data.len(), data.offset());
    let Some(keys) = data.buffers().first().cloned() else {
        return Ok(make_array(data));
    };
    let nulls = data.nulls().cloned();
    let values = data.child_data().first().cloned();
    let Some(values) = values.filter(|_| offset == 0) else {
        return Ok(make_array(data));
    };
    let dt = data.data_type().clone();
    drop(data);
    let rebuild = |keys: Buffer| -> Result<ArrayRef> {
        let data = ArrayData::builder(dt.clone())
            .len(len)
            .nulls(nulls.clone())
            .buffers(vec![keys])
            .child_data(vec![values.clone()])
            .build()?;
        Ok(make_array(data))
    };
    let mut vec = match keys.into_vec::<K::Native>() {
        Ok(vec) if vec.len() >= len => vec,
        Ok(vec) => return rebuild(Buffer::from_vec(vec)),
        Err(keys) => return rebuild(keys),
    };
    let valid = |i: usize| nulls.as_ref().is_none_or(|n| n.is_valid(i));
    let in_range = (0..len).all(|i| {
        !valid(i) || num_traits::ToPrimitive::to_usize(&vec[i]).is_some_and(|code| code < entries)
    });
    if !in_range {
        return rebuild(Buffer::from_vec(vec));
    }
    let base = vec.as_mut_ptr();
    for i in 0..len {
        // SAFETY: code i of `K` lies at byte `i * size_of::<K>`, narrowed code i at byte
        // `i * size_of::<N>` (smaller): going front to back, narrowed code i overwrites only
        // codes at or before index i, and code i is read before it is written. Raw pointers
        // only: no reference into the vector is alive meanwhile.
        unsafe {
            // pandas' code for a null is -1; every other code fits `N` (checked in range).
            let code = if valid(i) {
                num_traits::ToPrimitive::to_i64(&base.add(i).read())
            } else {
                Some(-1)
            };
            let narrowed = code
                .and_then(<N::Native as num_traits::NumCast>::from)
                .unwrap_or_default();
            base.cast::<N::Native>().add(i).write(narrowed);
        }
    }
    // The codes now take the front `kept` bytes: the rest of the allocation goes back to the OS.
    let kept = len * std::mem::size_of::<N::Native>();
    let held = vec.capacity() * std::mem::size_of::<K::Native>();
    // SAFETY: the bytes from `kept` on lie inside the allocation (`kept <= len * size_of::<K>
    // <= held`) and are never read again: the buffer below is cut to the first `kept` bytes.
    // No reference into the vector is alive.
    unsafe { crate::alloc::release_pages(base.cast::<u8>().add(kept), held - kept) };
    let buffer = Buffer::from_vec(vec);
    let keys = ScalarBuffer::<N::Native>::new(buffer, 0, len).into_inner();
    let narrowed = match &dt {
        DataType::Dictionary(_, value) => {
            DataType::Dictionary(Box::new(N::DATA_TYPE), value.clone())
        }
        _ => return rebuild(keys),
    };
    let data = ArrayData::builder(narrowed)
        .len(len)
        .nulls(nulls)
        .buffers(vec![keys])
        .child_data(vec![values])
        .build()?;
    Ok(make_array(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{
        DictionaryArray, Float64Array, Int32Array, StringArray, TimestampMicrosecondArray,
    };

    #[test]
    fn float_nulls_become_nan_in_place_when_unique() {
        let array: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.0), None, Some(3.0)]));
        let before = array.to_data().buffers()[0].as_ptr();
        let out = fill_sentinels(array).expect("fill");
        let out = out.as_any().downcast_ref::<Float64Array>().expect("f64");
        assert_eq!(out.values().inner().as_ptr(), before, "must write in place");
        assert!(out.nulls().is_none());
        assert!(out.value(1).is_nan());
        assert_eq!(out.value(2), 3.0);
    }

    #[test]
    fn shared_buffers_are_copied_not_written() {
        let array: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.0), None]));
        let other_view = array.clone();
        let out = fill_sentinels(array).expect("fill");
        let out = out.as_any().downcast_ref::<Float64Array>().expect("f64");
        let original = other_view
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("f64");
        assert_ne!(
            out.values().inner().as_ptr(),
            original.values().inner().as_ptr()
        );
        assert!(original.is_null(1));
        assert!(out.value(1).is_nan());
    }

    #[test]
    fn timestamp_nulls_become_nat_keeping_the_type() {
        let array: ArrayRef =
            Arc::new(TimestampMicrosecondArray::from(vec![Some(5), None]).with_timezone("UTC"));
        let dt = array.data_type().clone();
        let out = fill_sentinels(array).expect("fill");
        assert_eq!(out.data_type(), &dt);
        let ts = out
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .expect("ts");
        assert_eq!(ts.value(1), i64::MIN);
        assert_eq!(ts.value(0), 5);
    }

    /// `values` with nulls where `None`, as an array of `T` built the way colbridge's decoder
    /// builds its buffers (from a `Vec`).
    fn ints<T: ArrowPrimitiveType>(values: &[Option<T::Native>]) -> ArrayRef {
        let nulls = NullBuffer::from(values.iter().map(Option::is_some).collect::<Vec<_>>());
        let data: Vec<T::Native> = values.iter().map(|v| v.unwrap_or_default()).collect();
        Arc::new(PrimitiveArray::<T>::new(
            ScalarBuffer::from(data),
            Some(nulls),
        ))
    }

    /// The values of a converted column; `None` where it was left as it was, which only Miri
    /// may do (its allocations are aligned only as the integers need, not as float64 does).
    fn floats(array: &ArrayRef) -> Option<Vec<f64>> {
        let Some(out) = array.as_any().downcast_ref::<Float64Array>() else {
            if cfg!(miri) {
                return None;
            }
            panic!("not converted: {}", array.data_type());
        };
        assert!(out.nulls().is_none());
        Some(out.values().to_vec())
    }

    fn assert_same_floats(got: &Option<Vec<f64>>, want: &[Option<f64>]) {
        let Some(got) = got else { return };
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            match w {
                Some(w) => assert_eq!(g, w),
                None => assert!(g.is_nan()),
            }
        }
    }

    #[test]
    fn miri_integers_with_nulls_become_float64_in_their_own_buffer() {
        let want = [Some(7.0), None, Some(-3.0), Some(40_000.0), None];
        let got = for_pandas(ints::<Int32Type>(&[
            Some(7),
            None,
            Some(-3),
            Some(40_000),
            None,
        ]))
        .expect("converted");
        assert_same_floats(&floats(&got), &want);
        let got = for_pandas(ints::<Int8Type>(&[
            Some(7),
            None,
            Some(-3),
            Some(100),
            None,
        ]))
        .expect("converted");
        assert_same_floats(
            &floats(&got),
            &[Some(7.0), None, Some(-3.0), Some(100.0), None],
        );
        let got = for_pandas(ints::<UInt16Type>(&[Some(7), None, Some(65_535)])).expect("ok");
        assert_same_floats(&floats(&got), &[Some(7.0), None, Some(65_535.0)]);
        // Eight-byte integers keep their very buffer.
        let array = ints::<UInt64Type>(&[Some(u64::MAX), None, Some(1)]);
        let before = array.to_data().buffers()[0].as_ptr();
        let got = for_pandas(array).expect("converted");
        let values = got.as_any().downcast_ref::<Float64Array>().expect("f64");
        assert_eq!(
            values.values().inner().as_ptr(),
            before,
            "converted in place"
        );
        assert_same_floats(&floats(&got), &[Some(u64::MAX as f64), None, Some(1.0)]);
    }

    /// Large enough that whole 2 MiB units of the integers are given back on the way.
    const LARGE: usize = 3 * (1 << 20) + 17;

    #[test]
    #[cfg_attr(miri, ignore = "millions of values: too slow under Miri")]
    fn integers_given_back_behind_the_conversion_arrive_whole() {
        let valid = |i: usize| i % 7 != 3;
        let wanted: Vec<Option<i32>> = (0..LARGE)
            .map(|i| valid(i).then_some(i as i32 - 1_000_000))
            .collect();
        let got = for_pandas(ints::<Int32Type>(&wanted)).expect("converted");
        let got = got.as_any().downcast_ref::<Float64Array>().expect("f64");
        assert_eq!(got.len(), LARGE);
        for (i, want) in wanted.iter().enumerate() {
            match want {
                Some(v) => assert_eq!(got.value(i), f64::from(*v), "row {i}"),
                None => assert!(got.value(i).is_nan(), "row {i}"),
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "millions of values: too slow under Miri")]
    fn released_pages_read_as_zeros_and_the_rest_is_untouched() {
        let mut bytes = vec![1u8; 9 << 20];
        let (start, len) = (bytes.as_mut_ptr(), bytes.len());
        // SAFETY: the region is the vector's own; it is read below only through `bytes`, which
        // the test then inspects knowing what was given back.
        let behind = unsafe { crate::alloc::release_pages(start.add(5), len - 10) };
        let huge = 2 << 20;
        let first = (start as usize + 5).next_multiple_of(huge) - start as usize;
        let last = (start as usize + len - 5) / huge * huge - start as usize;
        if cfg!(all(target_os = "linux", not(miri))) {
            assert_eq!(behind, last - 5, "bytes up to the last unit given back");
            assert!(bytes[first..last].iter().all(|&b| b == 0), "given back");
        } else {
            assert_eq!(behind, 0);
        }
        assert!(
            bytes[..first].iter().all(|&b| b == 1),
            "before the first whole unit"
        );
        assert!(
            bytes[last..].iter().all(|&b| b == 1),
            "after the last whole unit"
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "millions of values: too slow under Miri")]
    fn codes_narrowed_in_a_large_buffer_keep_their_front() {
        let keys = Int32Array::new(
            ScalarBuffer::from((0..LARGE).map(|i| (i % 5) as i32).collect::<Vec<_>>()),
            Some(NullBuffer::from(
                (0..LARGE).map(|i| i % 9 != 0).collect::<Vec<_>>(),
            )),
        );
        let values: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "c", "d", "e"]));
        let dictionary: ArrayRef =
            Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values).expect("valid"));
        let got = for_pandas(dictionary).expect("narrowed");
        let got = got
            .as_any()
            .downcast_ref::<DictionaryArray<Int8Type>>()
            .expect("int8 codes");
        let codes = got.keys().values();
        assert_eq!(codes.len(), LARGE);
        for (i, &code) in codes.iter().enumerate() {
            let want = if i % 9 == 0 { -1 } else { (i % 5) as i8 };
            assert_eq!(code, want, "row {i}");
        }
    }

    #[test]
    fn miri_integers_held_elsewhere_or_sliced_stay_as_they_are() {
        let array = ints::<Int32Type>(&[Some(1), None, Some(3)]);
        let held = array.clone();
        let got = for_pandas(array).expect("ok");
        assert_eq!(got.data_type(), &DataType::Int32);
        assert_eq!(got.to_data(), held.to_data());
        let sliced = ints::<Int16Type>(&[Some(1), None, Some(3), None]).slice(1, 3);
        let got = for_pandas(sliced.clone()).expect("ok");
        assert_eq!(got.data_type(), &DataType::Int16);
        assert_eq!(got.to_data(), sliced.to_data());
        // Without nulls an integer column is pandas' integer column already.
        let plain: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        assert_eq!(for_pandas(plain).expect("ok").data_type(), &DataType::Int32);
    }

    fn strings(n: usize) -> Vec<Option<String>> {
        (0..n)
            .map(|i| (i % 5 != 2).then(|| format!("é{i}-{}", "x".repeat(i % 4))))
            .collect()
    }

    /// `array` (a `large_string` column) holds `want`, with nulls where it says none.
    fn assert_large_strings(array: &ArrayRef, want: &[Option<String>]) {
        let got = array
            .as_any()
            .downcast_ref::<LargeStringArray>()
            .expect("large_string");
        assert_eq!(got.len(), want.len());
        for (i, w) in want.iter().enumerate() {
            assert_eq!(
                got.is_valid(i).then(|| got.value(i)),
                w.as_deref(),
                "row {i}"
            );
        }
    }

    #[test]
    fn miri_strings_get_wide_offsets_over_the_same_bytes() {
        let want = strings(40);
        let array: ArrayRef = Arc::new(StringArray::from(want.clone()));
        let bytes = array.to_data().buffers()[1].as_ptr();
        let got = for_pandas(array).expect("converted");
        assert_eq!(got.data_type(), &DataType::LargeUtf8);
        assert_eq!(
            got.to_data().buffers()[1].as_ptr(),
            bytes,
            "the same string bytes"
        );
        assert_large_strings(&got, &want);
    }

    #[test]
    fn miri_strings_held_elsewhere_or_sliced_keep_their_offsets() {
        let array: ArrayRef = Arc::new(StringArray::from(strings(12)));
        let held = array.clone();
        let got = for_pandas(array).expect("ok");
        assert_eq!(got.data_type(), &DataType::Utf8);
        assert_eq!(got.to_data(), held.to_data());
        drop(held);
        let sliced: ArrayRef = Arc::new(StringArray::from(strings(12)).slice(3, 6));
        let got = for_pandas(sliced.clone()).expect("ok");
        assert_eq!(got.data_type(), &DataType::Utf8);
        assert_eq!(got.to_data(), sliced.to_data());
    }

    #[test]
    #[cfg_attr(miri, ignore = "millions of values: too slow under Miri")]
    fn strings_widened_across_released_units_arrive_whole() {
        let want = strings(LARGE);
        let got = for_pandas(Arc::new(StringArray::from(want.clone()))).expect("converted");
        assert_large_strings(&got, &want);
    }

    #[test]
    fn miri_dictionary_codes_are_narrowed_in_their_own_buffer_with_minus_one_at_nulls() {
        let valid = [true, false, true, true, false, true];
        let keys = Int32Array::new(
            ScalarBuffer::from(vec![2, 0, 0, 1, 0, 2]),
            Some(NullBuffer::from(valid.to_vec())),
        );
        let values: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "c"]));
        let dictionary: ArrayRef =
            Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values).expect("valid"));
        let before = dictionary.to_data().buffers()[0].as_ptr();
        let got = for_pandas(dictionary).expect("narrowed");
        let got = got
            .as_any()
            .downcast_ref::<DictionaryArray<Int8Type>>()
            .expect("int8 codes");
        assert_eq!(got.keys().values().inner().as_ptr(), before);
        assert_eq!(got.keys().values().to_vec(), vec![2, -1, 0, 1, -1, 2]);
        assert_eq!(got.null_count(), 2);
        // Held elsewhere: left as it is.
        let keys = Int32Array::from(vec![Some(1), None]);
        let values: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
        let dictionary: ArrayRef =
            Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values).expect("valid"));
        let held = dictionary.clone();
        let got = for_pandas(dictionary).expect("ok");
        assert_eq!(got.data_type(), held.data_type());
    }
}
