//! Zero-copy import of contiguous primitive memory (NumPy arrays and any other PEP 3118
//! exporter) into Arrow buffers. The Arrow buffer keeps the exporter's view alive.

use std::ptr::NonNull;
use std::sync::Arc;

use arrow_array::{make_array, ArrayRef};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer};
use arrow_data::ArrayData;
use arrow_schema::DataType;
use pyo3::ffi;
use pyo3::prelude::*;

use crate::error::{Error, Result};

/// A held `Py_buffer`, released (with the GIL) when the last Arrow buffer using it is dropped.
struct HeldView(Box<ffi::Py_buffer>);

// SAFETY: the view is only read through the Arrow buffer (immutable bytes) and released under
// the GIL in `Drop`; CPython allows releasing a buffer from any thread that holds the GIL.
unsafe impl Send for HeldView {}
// SAFETY: see `Send`; shared access is read-only.
unsafe impl Sync for HeldView {}

impl Drop for HeldView {
    fn drop(&mut self) {
        // The last reference may go while the interpreter shuts down (a Polars or pyarrow
        // object freed during finalization); then there is no one left to release the view to,
        // and attaching would panic inside a C release callback. Skip it: the process is ending.
        let _ = Python::try_attach(|_py| {
            // SAFETY: the view was filled by a successful `PyObject_GetBuffer` and is released
            // exactly once, here, with the interpreter attached.
            unsafe { ffi::PyBuffer_Release(self.0.as_mut()) }
        });
    }
}

/// Borrow `obj`'s memory (C-contiguous, read-only request) as an Arrow `Buffer` without copying.
/// Returns the buffer and the item size the exporter reported.
pub(crate) fn borrow_buffer(obj: &Bound<'_, PyAny>) -> Result<(Buffer, usize)> {
    let mut view: Box<ffi::Py_buffer> = Box::new(ffi::Py_buffer::new());
    // SAFETY: `obj` is a live object and `view` a zeroed, heap-allocated Py_buffer that outlives
    // the call; on success we own the view and release it in `HeldView::drop`.
    let rc = unsafe {
        ffi::PyObject_GetBuffer(
            obj.as_ptr(),
            view.as_mut(),
            ffi::PyBUF_C_CONTIGUOUS | ffi::PyBUF_FORMAT,
        )
    };
    if rc != 0 {
        let err = PyErr::fetch(obj.py());
        return Err(Error::InvalidInput(format!(
            "object does not expose contiguous memory through the buffer protocol: {err}"
        )));
    }
    let len = view.len as usize;
    let itemsize = view.itemsize as usize;
    let held = HeldView(view);
    let ptr = NonNull::new(held.0.buf as *mut u8).unwrap_or(NonNull::dangling());
    // SAFETY: `ptr` points to `len` readable bytes that stay valid and unchanged-in-place for
    // as long as `held` (the exporter's view) lives, which the Buffer's owner guarantees.
    let buffer = unsafe { Buffer::from_custom_allocation(ptr, len, Arc::new(held)) };
    Ok((buffer, itemsize))
}

/// Pack a NumPy-style boolean mask (nonzero = masked/null) into an Arrow validity bitmap.
pub(crate) fn validity_from_mask(mask: &[u8]) -> NullBuffer {
    NullBuffer::new(BooleanBuffer::collect_bool(mask.len(), |i| mask[i] == 0))
}

/// Build an array of `dt` over `obj`'s memory. Fixed-width types are zero-copy when the memory
/// is aligned for the type (misaligned memory is copied, as arrow-rs requires alignment);
/// booleans (one byte each in NumPy) are bit-packed, which is a copy.
pub(crate) fn array_from_buffer(
    obj: &Bound<'_, PyAny>,
    dt: DataType,
    mask: Option<&Bound<'_, PyAny>>,
) -> Result<ArrayRef> {
    let (buffer, itemsize) = borrow_buffer(obj)?;
    let nulls = match mask {
        Some(m) => {
            let (mask_buf, _) = borrow_buffer(m)?;
            Some(validity_from_mask(mask_buf.as_slice()))
        }
        None => None,
    };
    let width = match &dt {
        DataType::Boolean => 1,
        other => other.primitive_width().ok_or_else(|| {
            Error::UnsupportedType(format!("cannot import a {other} array from a buffer"))
        })?,
    };
    if itemsize != width {
        return Err(Error::InvalidInput(format!(
            "buffer item size {itemsize} does not match {} ({width} bytes)",
            crate::datatype::type_name(&dt)
        )));
    }
    let len = buffer.len() / width;
    if let Some(n) = &nulls {
        if n.len() != len {
            return Err(Error::InvalidInput(format!(
                "mask has {} entries for {len} values",
                n.len()
            )));
        }
    }
    let values = if dt == DataType::Boolean {
        let bytes = buffer.as_slice();
        BooleanBuffer::collect_bool(len, |i| bytes[i] != 0).into_inner()
    } else if !(buffer.as_ptr() as usize).is_multiple_of(width.min(8)) {
        Buffer::from_slice_ref(buffer.as_slice())
    } else {
        buffer
    };
    let data = ArrayData::builder(dt)
        .len(len)
        .add_buffer(values)
        .nulls(nulls)
        .build()?;
    Ok(make_array(data))
}
