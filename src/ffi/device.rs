//! The Arrow C device data interface for CPU memory: `__arrow_c_device_array__` and
//! `__arrow_c_device_stream__` as thin wrappers of the plain exports. The `ArrowArray` (or
//! `ArrowArrayStream`) the plain export made is moved into an `ArrowDeviceArray` (or an
//! `ArrowDeviceArrayStream` whose `get_next` wraps each array) marked `ARROW_DEVICE_CPU` with
//! device id -1, as pyarrow marks CPU memory; there is no sync event.
//!
//! Layouts from the specification, https://arrow.apache.org/docs/format/CDeviceDataInterface.html.

use std::ffi::{c_char, c_int, c_void};

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyTuple};

use super::{wrong_capsule, ARRAY_NAME, STREAM_NAME};

const DEVICE_ARRAY_NAME: &std::ffi::CStr = c"arrow_device_array";
const DEVICE_STREAM_NAME: &std::ffi::CStr = c"arrow_device_array_stream";
const ARROW_DEVICE_CPU: i32 = 1;
const CPU_DEVICE_ID: i64 = -1;

#[repr(C)]
struct FfiDeviceArray {
    array: FFI_ArrowArray,
    device_id: i64,
    device_type: i32,
    sync_event: *mut c_void,
    reserved: [i64; 3],
}

// SAFETY: the array's memory is immutable Arrow memory owned through `array` (which is Send);
// `sync_event` is always NULL.
unsafe impl Send for FfiDeviceArray {}

#[repr(C)]
struct FfiDeviceStream {
    device_type: i32,
    get_schema: Option<unsafe extern "C" fn(*mut FfiDeviceStream, *mut FFI_ArrowSchema) -> c_int>,
    get_next: Option<unsafe extern "C" fn(*mut FfiDeviceStream, *mut FfiDeviceArray) -> c_int>,
    get_last_error: Option<unsafe extern "C" fn(*mut FfiDeviceStream) -> *const c_char>,
    release: Option<unsafe extern "C" fn(*mut FfiDeviceStream)>,
    /// The wrapped plain stream (`Box<FFI_ArrowArrayStream>`).
    private_data: *mut c_void,
}

// SAFETY: the private data is a boxed `FFI_ArrowArrayStream`, which is Send.
unsafe impl Send for FfiDeviceStream {}

impl Drop for FfiDeviceStream {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: an unconsumed stream is released exactly once, by its owner (the capsule).
            unsafe { release(self) };
        }
    }
}

/// Producers must refuse keywords they do not know unless their value is None.
pub(crate) fn check_kwargs(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    for (key, value) in kwargs.into_iter().flatten() {
        if !value.is_none() {
            return Err(pyo3::exceptions::PyNotImplementedError::new_err(format!(
                "colbridge's memory is on the CPU; the device keyword {key}={value} is not \
                 supported"
            )));
        }
    }
    Ok(())
}

/// `(schema_capsule, device_array_capsule)` from the `(schema_capsule, array_capsule)` of
/// `__arrow_c_array__`.
pub(crate) fn device_array_capsules<'py>(
    pair: Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = pair.py();
    let schema = pair.get_item(0)?;
    let capsule = pair.get_item(1)?.cast_into::<PyCapsule>()?;
    let ptr = capsule
        .pointer_checked(Some(ARRAY_NAME))
        .map_err(wrong_capsule(ARRAY_NAME))?
        .cast::<FFI_ArrowArray>();
    // SAFETY: the capsule was just made by our export and holds an `FFI_ArrowArray` no one
    // else has seen; it is moved out and replaced by an empty (released) one, which the
    // capsule's destructor then drops as a no-op.
    let array = unsafe { std::ptr::replace(ptr.as_ptr(), FFI_ArrowArray::empty()) };
    let device = FfiDeviceArray {
        array,
        device_id: CPU_DEVICE_ID,
        device_type: ARROW_DEVICE_CPU,
        sync_event: std::ptr::null_mut(),
        reserved: [0; 3],
    };
    let device = PyCapsule::new_with_value(py, device, DEVICE_ARRAY_NAME)?;
    PyTuple::new(py, [schema, device.into_any()])
}

/// A device stream capsule from the `arrow_array_stream` capsule of `__arrow_c_stream__`.
pub(crate) fn device_stream_capsule<'py>(
    capsule: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = capsule.py();
    let capsule = capsule.cast_into::<PyCapsule>()?;
    let ptr = capsule
        .pointer_checked(Some(STREAM_NAME))
        .map_err(wrong_capsule(STREAM_NAME))?
        .cast::<FFI_ArrowArrayStream>();
    // SAFETY: as for arrays: our own fresh capsule, its stream moved out and replaced by an
    // empty (released) one.
    let inner = unsafe { std::ptr::replace(ptr.as_ptr(), FFI_ArrowArrayStream::empty()) };
    let stream = FfiDeviceStream {
        device_type: ARROW_DEVICE_CPU,
        get_schema: Some(get_schema),
        get_next: Some(get_next),
        get_last_error: Some(get_last_error),
        release: Some(release),
        private_data: Box::into_raw(Box::new(inner)).cast(),
    };
    Ok(PyCapsule::new_with_value(py, stream, DEVICE_STREAM_NAME)?.into_any())
}

/// The wrapped stream of a live device stream.
///
/// # Safety
/// `stream` points to a live `FfiDeviceStream` made by `device_stream_capsule`, not released.
unsafe fn inner<'a>(stream: *mut FfiDeviceStream) -> &'a mut FFI_ArrowArrayStream {
    // SAFETY: the caller's contract; `private_data` is the boxed plain stream.
    unsafe { &mut *(*stream).private_data.cast::<FFI_ArrowArrayStream>() }
}

unsafe extern "C" fn get_schema(stream: *mut FfiDeviceStream, out: *mut FFI_ArrowSchema) -> c_int {
    // SAFETY: consumers call the callbacks of a live stream only.
    let inner = unsafe { inner(stream) };
    match inner.get_schema {
        // SAFETY: delegating to the plain stream with the consumer's output pointer.
        Some(f) => unsafe { f(inner, out) },
        None => libc::EINVAL,
    }
}

unsafe extern "C" fn get_next(stream: *mut FfiDeviceStream, out: *mut FfiDeviceArray) -> c_int {
    // SAFETY: consumers call the callbacks of a live stream only.
    let inner = unsafe { inner(stream) };
    let Some(f) = inner.get_next else {
        return libc::EINVAL;
    };
    let mut array = FFI_ArrowArray::empty();
    // SAFETY: delegating to the plain stream, which fills `array` (released = end of stream).
    let rc = unsafe { f(inner, &mut array) };
    if rc == 0 {
        let device = FfiDeviceArray {
            array,
            device_id: CPU_DEVICE_ID,
            device_type: ARROW_DEVICE_CPU,
            sync_event: std::ptr::null_mut(),
            reserved: [0; 3],
        };
        // SAFETY: `out` is the consumer's uninitialised `ArrowDeviceArray`, which it now owns.
        unsafe { std::ptr::write(out, device) };
    }
    rc
}

unsafe extern "C" fn get_last_error(stream: *mut FfiDeviceStream) -> *const c_char {
    // SAFETY: consumers call the callbacks of a live stream only.
    let inner = unsafe { inner(stream) };
    match inner.get_last_error {
        // SAFETY: delegating to the plain stream.
        Some(f) => unsafe { f(inner) },
        None => std::ptr::null(),
    }
}

unsafe extern "C" fn release(stream: *mut FfiDeviceStream) {
    if stream.is_null() {
        return;
    }
    // SAFETY: called once on a live stream (by its consumer, or by our Drop when unconsumed);
    // dropping the boxed plain stream releases it, and the stream is then marked released.
    unsafe {
        let private = (*stream).private_data.cast::<FFI_ArrowArrayStream>();
        if !private.is_null() {
            drop(Box::from_raw(private));
        }
        (*stream).private_data = std::ptr::null_mut();
        (*stream).release = None;
    }
}
