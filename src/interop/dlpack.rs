//! DLPack export (`__dlpack__` / `__dlpack_device__` of the Python array API), the hand-off
//! NumPy, PyTorch and JAX accept from any producer: a capsule holding a `DLManagedTensor`
//! that points at the values buffer of a null-free numeric or temporal array (temporal types as
//! their integer storage), shared without a copy.
//!
//! Arrow memory colbridge lends out is read-only, and only the versioned protocol (DLPack 1.0,
//! capsule `dltensor_versioned`) can say so: its `DLPACK_FLAG_BITMASK_READ_ONLY` flag is set, and
//! NumPy then returns a read-only array. A consumer that asks for the legacy, unversioned capsule
//! (no `max_version`) would get a writable tensor over memory others see, so it is refused unless
//! it passes `copy=True`, which exports a private copy (flagged `IS_COPIED`, writable).
//!
//! The structures and names follow `dlpack.h` (v1.0) and the array API's `__dlpack__`
//! specification (https://dmlc.github.io/dlpack/latest/c_api.html,
//! https://data-apis.org/array-api/latest/API_specification/generated/array_api.array.__dlpack__.html).
//! A capsule a consumer took is renamed `used_dltensor[_versioned]` and belongs to it: the
//! capsule's destructor frees the tensor only when its name is still the original one.

use std::ffi::{c_void, CStr};

use arrow_array::{Array, ArrayRef};
use arrow_buffer::Buffer;
use arrow_schema::DataType;
use pyo3::ffi as pyffi;
use pyo3::prelude::*;

use crate::datatype::type_name;
use crate::error::Error;

const LEGACY_NAME: &CStr = c"dltensor";
const VERSIONED_NAME: &CStr = c"dltensor_versioned";
/// `kDLCPU`.
pub(crate) const CPU: i32 = 1;
const READ_ONLY: u64 = 1 << 0;
const IS_COPIED: u64 = 1 << 1;

#[repr(C)]
struct DLPackVersion {
    major: u32,
    minor: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct DLDevice {
    device_type: i32,
    device_id: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct DLDataType {
    code: u8,
    bits: u8,
    lanes: u16,
}

#[repr(C)]
struct DLTensor {
    data: *mut c_void,
    device: DLDevice,
    ndim: i32,
    dtype: DLDataType,
    shape: *mut i64,
    strides: *mut i64,
    byte_offset: u64,
}

#[repr(C)]
struct DLManagedTensor {
    dl_tensor: DLTensor,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DLManagedTensor)>,
}

#[repr(C)]
struct DLManagedTensorVersioned {
    version: DLPackVersion,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DLManagedTensorVersioned)>,
    flags: u64,
    dl_tensor: DLTensor,
}

/// A managed tensor with the shape it points to and the buffer that keeps its memory alive,
/// in one allocation; the tensor comes first, so a pointer to it is a pointer to the whole.
#[repr(C)]
struct Exported<T> {
    managed: T,
    shape: [i64; 1],
    owner: Buffer,
}

/// DLPack's type for an Arrow type it can hold: integers, floats, and temporal types as their
/// integer storage.
fn dl_type(dt: &DataType) -> Option<DLDataType> {
    use DataType::*;
    let (code, bits) = match dt {
        Int8 => (0, 8),
        Int16 => (0, 16),
        Int32 | Date32 | Time32(_) => (0, 32),
        Int64 | Date64 | Time64(_) | Timestamp(..) | Duration(_) => (0, 64),
        UInt8 => (1, 8),
        UInt16 => (1, 16),
        UInt32 => (1, 32),
        UInt64 => (1, 64),
        Float16 => (2, 16),
        Float32 => (2, 32),
        Float64 => (2, 64),
        _ => return None,
    };
    Some(DLDataType {
        code,
        bits,
        lanes: 1,
    })
}

fn refuse(message: String) -> PyErr {
    Error::DLPack(message).into()
}

/// What a consumer asked for, checked.
pub(crate) struct Request {
    versioned: bool,
    copy: bool,
}

impl Request {
    /// Check `__dlpack__`'s keywords: a CPU device, no stream, and a versioned capsule unless
    /// the caller accepts a copy.
    pub(crate) fn new(
        stream: Option<&Bound<'_, PyAny>>,
        max_version: Option<(u32, u32)>,
        dl_device: Option<(i32, i32)>,
        copy: Option<bool>,
    ) -> PyResult<Self> {
        if stream.is_some_and(|s| !s.is_none()) {
            return Err(refuse(
                "stream must be None: colbridge's memory is on the CPU, where DLPack has no streams"
                    .into(),
            ));
        }
        if let Some((device_type, device_id)) = dl_device {
            if (device_type, device_id) != (CPU, 0) {
                return Err(refuse(format!(
                    "colbridge's memory is on the CPU (device (1, 0)); cannot export it to \
                     device ({device_type}, {device_id})"
                )));
            }
        }
        let versioned = max_version.is_some_and(|(major, _)| major >= 1);
        let copy = copy == Some(true);
        if !versioned && !copy {
            return Err(Error::ReadOnlyBuffer(
                "the legacy DLPack protocol (no max_version) cannot mark memory read-only, and \
                 colbridge's Arrow memory is shared: ask for max_version=(1, 0) (NumPy 2.1+ does), \
                 or pass copy=True for a private, writable copy"
                    .into(),
            )
            .into());
        }
        Ok(Request { versioned, copy })
    }
}

/// The DLPack capsule of `array` (named `what` in errors). `private` says that `array` is a
/// copy no one else holds (a concatenation made for `copy=True`), exported without copying it
/// again.
pub(crate) fn export<'py>(
    py: Python<'py>,
    array: &ArrayRef,
    what: &str,
    request: &Request,
    private: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let data_type = array.data_type();
    let dtype = dl_type(data_type).ok_or_else(|| {
        refuse(format!(
            "{what} is {}; DLPack takes null-free integer, floating-point and temporal arrays",
            type_name(data_type)
        ))
    })?;
    if array.null_count() > 0 {
        return Err(refuse(format!(
            "{what} has {} nulls, which DLPack cannot represent: fill them first (or use \
             to_numpy(), which gives NaN / a masked copy)",
            array.null_count()
        )));
    }
    let width = usize::from(dtype.bits / 8);
    let data = array.to_data();
    let len = array.len();
    let shape = i64::try_from(len).map_err(|_| refuse(format!("{what} is too long")))?;
    let values = data
        .buffers()
        .first()
        .ok_or_else(|| refuse(format!("{what} has no values buffer")))?;
    let start = data.offset().checked_mul(width);
    let bytes = len.checked_mul(width);
    let owner = match (start, bytes) {
        (Some(s), Some(n)) if s.checked_add(n).is_some_and(|end| end <= values.len()) => {
            values.slice_with_length(s, n)
        }
        _ => {
            return Err(refuse(format!(
                "{what}'s values buffer is shorter than its length"
            )))
        }
    };
    let (owner, flags) = if request.copy && private {
        (owner, IS_COPIED)
    } else if request.copy {
        let copied = py.detach(|| Buffer::from_slice_ref(owner.as_slice()));
        (copied, IS_COPIED)
    } else {
        (owner, READ_ONLY)
    };
    let tensor = DLTensor {
        data: owner.as_ptr().cast_mut().cast(),
        device: DLDevice {
            device_type: CPU,
            device_id: 0,
        },
        ndim: 1,
        dtype,
        shape: std::ptr::null_mut(),
        strides: std::ptr::null_mut(),
        byte_offset: 0,
    };
    if request.versioned {
        let exported = Box::new(Exported {
            managed: DLManagedTensorVersioned {
                version: DLPackVersion { major: 1, minor: 0 },
                manager_ctx: std::ptr::null_mut(),
                deleter: Some(delete::<DLManagedTensorVersioned>),
                flags,
                dl_tensor: tensor,
            },
            shape: [shape],
            owner,
        });
        let raw = Box::into_raw(exported);
        // SAFETY: `raw` is a live, exclusively owned allocation; the shape pointer points into
        // it and stays valid until the deleter frees it.
        unsafe { (*raw).managed.dl_tensor.shape = (*raw).shape.as_mut_ptr() };
        capsule(py, raw, VERSIONED_NAME, drop_unused_versioned)
    } else {
        let exported = Box::new(Exported {
            managed: DLManagedTensor {
                dl_tensor: tensor,
                manager_ctx: std::ptr::null_mut(),
                deleter: Some(delete::<DLManagedTensor>),
            },
            shape: [shape],
            owner,
        });
        let raw = Box::into_raw(exported);
        // SAFETY: as above.
        unsafe { (*raw).managed.dl_tensor.shape = (*raw).shape.as_mut_ptr() };
        capsule(py, raw, LEGACY_NAME, drop_unused_legacy)
    }
}

/// Wrap `raw` in a capsule named `name`, freeing it if the capsule cannot be made.
fn capsule<'py, T>(
    py: Python<'py>,
    raw: *mut Exported<T>,
    name: &'static CStr,
    destructor: unsafe extern "C" fn(*mut pyffi::PyObject),
) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: `raw` is a valid pointer and `name` a static C string; on success the capsule
    // owns `raw` until a consumer renames it (and then owns it) or its destructor frees it.
    let made = unsafe { pyffi::PyCapsule_New(raw.cast(), name.as_ptr(), Some(destructor)) };
    if made.is_null() {
        // SAFETY: the capsule was not made, so `raw` is still ours alone.
        drop(unsafe { Box::from_raw(raw) });
        return Err(PyErr::fetch(py));
    }
    // SAFETY: `made` is a new, owned reference.
    Ok(unsafe { Bound::from_owned_ptr(py, made) })
}

/// The tensor's deleter, called once by its consumer (or by the capsule when unconsumed).
unsafe extern "C" fn delete<T>(managed: *mut T) {
    if !managed.is_null() {
        // SAFETY: `managed` is the first field of the `Exported<T>` allocated by `export` (both
        // are `repr(C)`), handed out once, and DLPack calls the deleter exactly once.
        drop(unsafe { Box::from_raw(managed.cast::<Exported<T>>()) });
    }
}

/// Free a capsule's tensor if no consumer took it (a consumer renames the capsule).
///
/// # Safety
/// `capsule` is a capsule made by [`capsule`] with `name` and a tensor of type `T`.
unsafe fn drop_unused<T>(capsule: *mut pyffi::PyObject, name: &CStr) {
    // SAFETY: `capsule` is a live capsule object (its destructor is running).
    if unsafe { pyffi::PyCapsule_IsValid(capsule, name.as_ptr()) } != 1 {
        return; // consumed: the consumer calls the deleter
    }
    // SAFETY: the capsule is valid under `name`, so the pointer is the tensor we stored.
    let managed = unsafe { pyffi::PyCapsule_GetPointer(capsule, name.as_ptr()) }.cast::<T>();
    // SAFETY: unconsumed, so the tensor is still ours to free, once, here.
    unsafe { delete::<T>(managed) };
}

unsafe extern "C" fn drop_unused_versioned(capsule: *mut pyffi::PyObject) {
    // SAFETY: installed only on capsules named "dltensor_versioned" holding such a tensor.
    unsafe { drop_unused::<DLManagedTensorVersioned>(capsule, VERSIONED_NAME) }
}

unsafe extern "C" fn drop_unused_legacy(capsule: *mut pyffi::PyObject) {
    // SAFETY: installed only on capsules named "dltensor" holding such a tensor.
    unsafe { drop_unused::<DLManagedTensor>(capsule, LEGACY_NAME) }
}
