//! String and binary columns that arrow-rs decodes, assembled into exactly sized buffers.
//!
//! Most string columns are decoded by `decode` straight into their final buffers. The rest
//! (encodings or level layouts it does not handle, a footer misstating the values' size) go
//! through arrow-rs, which grows a column's character buffer by doubling (its final size is not
//! known up front), so the peak would hold the old and the new buffer. Such columns are decoded in batches, then copied into
//! one buffer of the exact size, each batch freed as soon as it is copied: the output's pages are
//! touched only as they are written, so the resident peak stays close to the output itself.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{ByteArrayType, GenericBinaryType, GenericStringType};
use arrow_array::{Array, ArrayRef, GenericByteArray, OffsetSizeTrait};
use arrow_buffer::{ArrowNativeType, MutableBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::DataType;

use super::JoinedNulls;
use crate::error::{Error, Result};

/// Whether `assemble` handles this type.
pub(crate) fn supported(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary
    )
}

/// One array of `pieces`' type from the pieces, consuming (and freeing) them one by one.
pub(crate) fn assemble(pieces: Vec<ArrayRef>) -> Result<ArrayRef> {
    let Some(first) = pieces.first() else {
        return Err(Error::Parquet("no batches to assemble".into()));
    };
    match first.data_type() {
        DataType::Utf8 => assemble_typed::<GenericStringType<i32>>(pieces),
        DataType::LargeUtf8 => assemble_typed::<GenericStringType<i64>>(pieces),
        DataType::Binary => assemble_typed::<GenericBinaryType<i32>>(pieces),
        DataType::LargeBinary => assemble_typed::<GenericBinaryType<i64>>(pieces),
        other => Err(Error::Parquet(format!("cannot assemble {other} batches"))),
    }
}

fn assemble_typed<T: ByteArrayType>(pieces: Vec<ArrayRef>) -> Result<ArrayRef>
where
    T::Offset: OffsetSizeTrait,
{
    let len: usize = pieces.iter().map(|p| p.len()).sum();
    let mut bytes: usize = 0;
    for p in &pieces {
        let a = p
            .as_bytes_opt::<T>()
            .ok_or_else(|| Error::Parquet("mixed batch types".into()))?;
        let offsets = a.value_offsets();
        bytes += (offsets[a.len()] - offsets[0]).as_usize();
    }
    if T::Offset::from_usize(bytes).is_none() {
        return Err(Error::Parquet(format!(
            "a column holds {bytes} bytes of values, too many for 32-bit offsets"
        )));
    }

    // Capacity only: these pages become resident as they are written below.
    let mut values = MutableBuffer::with_capacity(bytes);
    let mut offsets: Vec<T::Offset> = Vec::with_capacity(len + 1);
    offsets.push(T::Offset::usize_as(0));
    let mut nulls = JoinedNulls::new(pieces.iter().map(|p| p.as_ref()));
    for piece in pieces {
        let a = piece.as_bytes::<T>();
        let src = a.value_offsets();
        let (start, end) = (src[0].as_usize(), src[a.len()].as_usize());
        let base = values.len();
        values.extend_from_slice(&a.value_data()[start..end]);
        offsets.extend(
            src[1..]
                .iter()
                .map(|o| T::Offset::usize_as(o.as_usize() - start + base)),
        );
        nulls.push(a);
        drop(piece); // free the batch before copying the next one
    }
    let nulls = nulls.finish();
    // SAFETY: the offsets are monotonically increasing and end at `values.len()` by construction
    // (each piece's own valid offsets, shifted by what precedes it), and every value is a whole
    // value of a valid array of the same type, so UTF-8 validity is preserved.
    let out = unsafe {
        GenericByteArray::<T>::new_unchecked(
            OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)),
            values.into(),
            nulls,
        )
    };
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::StringArray;

    #[test]
    fn pieces_become_one_exact_array_with_nulls_and_sliced_pieces() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("ab"), None, Some("c")]));
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("xyz"), Some(""), Some("q")]));
        let b = b.slice(1, 2); // a piece whose offsets do not start at 0
        let out = assemble(vec![a, b]).expect("assemble");
        let out = out.as_string::<i32>();
        let got: Vec<Option<&str>> = out.iter().collect();
        assert_eq!(got, vec![Some("ab"), None, Some("c"), Some(""), Some("q")]);
        assert_eq!(out.value_data().len(), 4, "exactly the bytes of the values");
    }
}
