//! `Buffer`: a read-only, typed view of one Arrow buffer through the Python buffer protocol.
//!
//! This is colbridge's one zero-copy primitive towards NumPy, `memoryview` and anything else
//! that speaks PEP 3118. The view holds an `arrow_buffer::Buffer` (a reference-counted handle
//! to Rust-owned memory), so the memory lives as long as the last view of it.

use std::ffi::CStr;
use std::os::raw::c_int;

use arrow_buffer::Buffer;
use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::Error;

/// What the bytes of a buffer mean, as a PEP 3118 format and item size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ElementFormat {
    pub(crate) format: &'static CStr,
    pub(crate) itemsize: usize,
}

impl ElementFormat {
    pub(crate) const BYTES: ElementFormat = ElementFormat::new(c"B", 1);

    pub(crate) const fn new(format: &'static CStr, itemsize: usize) -> Self {
        Self { format, itemsize }
    }
}

/// A read-only, typed view of Arrow memory.
///
/// Example:
///     >>> import numpy as np, colbridge
///     >>> buf = colbridge.array([1, 2, 3]).values
///     >>> buf.itemsize, len(buf)
///     (8, 3)
///     >>> view = np.asarray(buf)  # no copy: NumPy views the Arrow memory
///     >>> view.dtype, view.tolist(), view.flags.writeable
///     (dtype('int64'), [1, 2, 3], False)
#[pyclass(name = "Buffer", module = "colbridge", frozen)]
pub(crate) struct PyBuffer {
    buffer: Buffer,
    element: ElementFormat,
    /// Number of elements (bytes / itemsize).
    shape: [ffi::Py_ssize_t; 1],
    strides: [ffi::Py_ssize_t; 1],
    /// For bit-packed buffers: the first bit and the number of bits that belong to the array.
    bits: Option<(usize, usize)>,
    kind: &'static str,
}

impl PyBuffer {
    /// A typed view of `buffer`; trailing bytes that do not fill a whole element are not shown.
    pub(crate) fn typed(buffer: Buffer, element: ElementFormat, kind: &'static str) -> Self {
        let count = buffer.len() / element.itemsize;
        Self {
            buffer,
            element,
            shape: [count as ffi::Py_ssize_t],
            strides: [element.itemsize as ffi::Py_ssize_t],
            bits: None,
            kind,
        }
    }

    /// A view of a bit-packed buffer (validity bitmap or boolean values): the bytes that hold
    /// bits `offset .. offset + length`, with the bit offset within the first byte.
    pub(crate) fn bitmap(
        buffer: &Buffer,
        offset: usize,
        length: usize,
        kind: &'static str,
    ) -> Self {
        let first_byte = offset / 8;
        let end_byte = (offset + length).div_ceil(8).min(buffer.len());
        let bytes = buffer.slice_with_length(first_byte, end_byte.saturating_sub(first_byte));
        let mut view = Self::typed(bytes, ElementFormat::BYTES, kind);
        view.bits = Some((offset % 8, length));
        view
    }
}

#[pymethods]
impl PyBuffer {
    /// The address of the first byte, as an integer (the one NumPy and pyarrow report).
    #[getter]
    fn address(&self) -> usize {
        self.buffer.as_ptr() as usize
    }

    /// Size of the view in bytes.
    #[getter]
    fn size(&self) -> usize {
        self.shape[0] as usize * self.element.itemsize
    }

    /// The PEP 3118 format character (`"l"` for int64 where a C long has 64 bits, `"B"` for
    /// bytes and bitmaps, ...).
    #[getter]
    fn format(&self) -> &str {
        self.element.format.to_str().unwrap_or("B")
    }

    /// Size of one element in bytes (8 for int64, 1 for bytes and bitmaps).
    #[getter]
    fn itemsize(&self) -> usize {
        self.element.itemsize
    }

    /// Which Arrow buffer this is: "validity", "values", "offsets", "data", "sizes" or "mask".
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    /// For bit-packed buffers, the offset of the first bit within the first byte; else None.
    #[getter]
    fn bit_offset(&self) -> Option<usize> {
        self.bits.map(|(offset, _)| offset)
    }

    /// For bit-packed buffers, the number of bits that belong to the array; else None.
    #[getter]
    fn bit_length(&self) -> Option<usize> {
        self.bits.map(|(_, length)| length)
    }

    /// Copy the bytes into a new `bytes` object.
    ///
    /// Example:
    ///     >>> colbridge.array([1], type="int16").values.to_bytes()
    ///     b'\x01\x00'
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.buffer.as_slice()[..self.size()])
    }

    fn __len__(&self) -> usize {
        self.shape[0] as usize
    }

    fn __repr__(&self) -> String {
        let bits = match self.bits {
            Some((offset, length)) => format!(", bit_offset={offset}, bit_length={length}"),
            None => String::new(),
        };
        format!(
            "<colbridge.Buffer {} address=0x{:x} size={} format='{}'{}>",
            self.kind,
            self.address(),
            self.size(),
            self.format(),
            bits
        )
    }

    /// # Safety
    /// Called by CPython with a valid, writable `view`; we fill it per PEP 3118.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        if view.is_null() {
            return Err(PyBufferError::new_err("NULL view in __getbuffer__"));
        }
        if flags & ffi::PyBUF_WRITABLE == ffi::PyBUF_WRITABLE {
            return Err(Error::ReadOnlyBuffer(
                "colbridge buffers are read-only: Arrow memory may be shared with other \
                 consumers; copy it (e.g. numpy.array(buf)) to get a writable array"
                    .into(),
            )
            .into());
        }
        let this = slf.get();
        // SAFETY: `view` is non-null and owned by the caller for the duration of this call.
        // Every pointer we store in it (data, format, shape, strides) points into `this`,
        // which the view keeps alive through `view.obj` (a new strong reference) until
        // `PyBuffer_Release`; `this` is frozen, so those fields never change.
        unsafe {
            (*view).buf = this.buffer.as_ptr() as *mut std::os::raw::c_void;
            (*view).len = this.shape[0] * this.element.itemsize as ffi::Py_ssize_t;
            (*view).readonly = 1;
            (*view).itemsize = this.element.itemsize as ffi::Py_ssize_t;
            (*view).format = if flags & ffi::PyBUF_FORMAT == ffi::PyBUF_FORMAT {
                this.element.format.as_ptr() as *mut _
            } else {
                std::ptr::null_mut()
            };
            (*view).ndim = 1;
            (*view).shape = if flags & ffi::PyBUF_ND == ffi::PyBUF_ND {
                this.shape.as_ptr() as *mut _
            } else {
                std::ptr::null_mut()
            };
            (*view).strides = if flags & ffi::PyBUF_STRIDES == ffi::PyBUF_STRIDES {
                this.strides.as_ptr() as *mut _
            } else {
                std::ptr::null_mut()
            };
            (*view).suboffsets = std::ptr::null_mut();
            (*view).internal = std::ptr::null_mut();
            (*view).obj = slf.into_any().into_ptr();
        }
        Ok(())
    }

    /// # Safety
    /// Nothing to free: the view's reference to `self` is dropped by CPython.
    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {}
}
