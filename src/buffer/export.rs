//! Which Arrow buffers an array has, and how each is typed for the buffer protocol.

use arrow_array::{Array, ArrayRef};
use arrow_buffer::Buffer;
use arrow_schema::DataType;

use crate::buffer::{ElementFormat, PyBuffer};

/// 8-byte integers as NumPy names them: `l`/`L` where a C `long` is 8 bytes (NumPy's `int64`
/// is then `long`, and `q` would give its distinct `longlong` type, which `np.issubdtype(...,
/// np.int64)` refuses), `q`/`Q` where it is not (Windows).
const INT64: ElementFormat = if std::mem::size_of::<std::ffi::c_long>() == 8 {
    ElementFormat::new(c"l", 8)
} else {
    ElementFormat::new(c"q", 8)
};
const UINT64: ElementFormat = if std::mem::size_of::<std::ffi::c_ulong>() == 8 {
    ElementFormat::new(c"L", 8)
} else {
    ElementFormat::new(c"Q", 8)
};

/// The PEP 3118 element format of a fixed-width type's values (temporal types as their
/// storage integers); `None` for types without a plain values buffer.
pub(crate) fn value_format(dt: &DataType) -> Option<ElementFormat> {
    use DataType::*;
    let f = |c, n| Some(ElementFormat::new(c, n));
    match dt {
        Int8 => f(c"b", 1),
        UInt8 => f(c"B", 1),
        Int16 => f(c"h", 2),
        UInt16 => f(c"H", 2),
        Int32 | Date32 | Time32(_) => f(c"i", 4),
        UInt32 => f(c"I", 4),
        Int64 | Date64 | Time64(_) | Timestamp(..) | Duration(_) => Some(INT64),
        UInt64 => Some(UINT64),
        Float16 => f(c"e", 2),
        Float32 => f(c"f", 4),
        Float64 => f(c"d", 8),
        // Opaque fixed-width elements (decimals, intervals, fixed-size binary) as raw bytes.
        Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) | FixedSizeBinary(_)
        | Interval(_) => Some(ElementFormat::BYTES),
        _ => None,
    }
}

/// The arrays's validity bitmap, sliced to the array, if it has one.
pub(crate) fn validity(array: &dyn Array) -> Option<PyBuffer> {
    array.nulls().map(|nulls| {
        let bits = nulls.inner();
        PyBuffer::bitmap(bits.inner(), bits.offset(), bits.len(), "validity")
    })
}

/// The values buffer: fixed-width values starting at the slice, or bit-packed booleans, or the
/// indices of a dictionary array.
pub(crate) fn values(array: &dyn Array) -> Option<PyBuffer> {
    let data = array.to_data();
    let dt = array.data_type();
    match dt {
        DataType::Boolean => {
            let buf = data.buffers().first()?;
            Some(PyBuffer::bitmap(buf, data.offset(), data.len(), "values"))
        }
        DataType::Dictionary(key, _) => {
            let buf = data.buffers().first()?;
            let fmt = value_format(key)?;
            Some(sliced(buf, data.offset(), data.len(), fmt, "values"))
        }
        _ => {
            let fmt = value_format(dt)?;
            let width = dt.primitive_width().or(match dt {
                DataType::FixedSizeBinary(n) => Some(*n as usize),
                _ => None,
            })?;
            let buf = data.buffers().first()?;
            let bytes = buf.slice_with_length(data.offset() * width, data.len() * width);
            Some(PyBuffer::typed(bytes, fmt, "values"))
        }
    }
}

fn sliced(
    buf: &Buffer,
    offset: usize,
    len: usize,
    fmt: ElementFormat,
    kind: &'static str,
) -> PyBuffer {
    let w = fmt.itemsize;
    PyBuffer::typed(buf.slice_with_length(offset * w, len * w), fmt, kind)
}

/// The offsets of a variable-size type (strings, binaries, lists), `len + 1` of them.
pub(crate) fn offsets(array: &dyn Array) -> Option<PyBuffer> {
    let data = array.to_data();
    let fmt = match array.data_type() {
        DataType::Utf8 | DataType::Binary | DataType::List(_) | DataType::Map(..) => {
            ElementFormat::new(c"i", 4)
        }
        DataType::LargeUtf8 | DataType::LargeBinary | DataType::LargeList(_) => INT64,
        _ => return None,
    };
    let buf = data.buffers().first()?;
    Some(sliced(buf, data.offset(), data.len() + 1, fmt, "offsets"))
}

/// The character / byte data of a string or binary array (the whole buffer; offsets index it).
pub(crate) fn data(array: &dyn Array) -> Option<PyBuffer> {
    let data = array.to_data();
    match array.data_type() {
        DataType::Utf8 | DataType::Binary | DataType::LargeUtf8 | DataType::LargeBinary => {
            let buf = data.buffers().get(1)?;
            Some(PyBuffer::typed(buf.clone(), ElementFormat::BYTES, "data"))
        }
        _ => None,
    }
}

/// All buffers in Arrow C data interface order (validity first; `None` where absent).
pub(crate) fn all_buffers(array: &ArrayRef) -> Vec<Option<PyBuffer>> {
    let mut out = vec![validity(array.as_ref())];
    match array.data_type() {
        DataType::Utf8 | DataType::Binary | DataType::LargeUtf8 | DataType::LargeBinary => {
            out.push(offsets(array.as_ref()));
            out.push(data(array.as_ref()));
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::Map(..) => {
            out.push(offsets(array.as_ref()));
        }
        DataType::Null | DataType::Struct(_) | DataType::FixedSizeList(..) => {}
        _ => {
            let d = array.to_data();
            if let Some(v) = values(array.as_ref()) {
                out.push(Some(v));
            }
            for b in d.buffers().iter().skip(1) {
                out.push(Some(PyBuffer::typed(
                    b.clone(),
                    ElementFormat::BYTES,
                    "data",
                )));
            }
        }
    }
    out
}

/// Whether any buffer of `array` (children and bitmaps included) is also referenced from
/// outside it: a NumPy view, a C data interface export, a slice, another array.
pub(crate) fn is_shared(array: &dyn Array) -> bool {
    // `to_data` itself takes one reference to every buffer; the array holds another.
    fn shared(data: &arrow_data::ArrayData) -> bool {
        data.buffers().iter().any(|b| b.strong_count() > 2)
            || data.nulls().is_some_and(|n| n.buffer().strong_count() > 2)
            || data.child_data().iter().any(shared)
    }
    shared(&array.to_data())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Int64Array;
    use std::sync::Arc;

    #[test]
    fn an_array_alone_is_not_shared_and_a_view_makes_it_shared() {
        let array: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        assert!(!is_shared(array.as_ref()));
        let view = values(array.as_ref());
        assert!(is_shared(array.as_ref()));
        drop(view);
        assert!(!is_shared(array.as_ref()));
    }
}
