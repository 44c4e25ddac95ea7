//! pandas null sentinels written into Arrow buffers.
//!
//! pandas' NumPy-backed columns mark missing values in the values themselves (NaN, NaT, -1
//! category codes). When colbridge owns a freshly decoded buffer exclusively, it writes those
//! sentinels in place at the null slots (only the null slots are touched) so the DataFrame can
//! take the buffer as it is; a shared buffer is copied first, never written.

use std::sync::Arc;

use arrow_array::types::*;
use arrow_array::{make_array, Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray};
use arrow_buffer::{Buffer, NullBuffer, ScalarBuffer};
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, TimestampMicrosecondArray};

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
}
