//! Import: schemas, arrays and streams from any PyCapsule producer, without copying.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{make_array, Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

use super::{ARRAY_NAME, SCHEMA_NAME, STREAM_NAME};
use crate::datatype::type_name;
use crate::error::{capsule_error, Error, Result};

/// Call `obj.<method>()` and check that it returned a PyCapsule named `name`: the capsule (which
/// owns the C structure) and the pointer it holds.
fn call_capsule<'py>(
    obj: &Bound<'py, PyAny>,
    method: &str,
    name: &std::ffi::CStr,
) -> Result<(
    Bound<'py, PyCapsule>,
    std::ptr::NonNull<std::os::raw::c_void>,
)> {
    let capsule = obj
        .call_method0(method)?
        .cast_into::<PyCapsule>()
        .map_err(|_| Error::Capsule(format!("{method} did not return a PyCapsule")))?;
    let ptr = capsule.pointer_checked(Some(name)).map_err(capsule_error)?;
    Ok((capsule, ptr))
}

/// Import the field (name, type, nullability) of an object with `__arrow_c_schema__`.
pub(crate) fn import_field(obj: &Bound<'_, PyAny>) -> Result<Field> {
    let (_capsule, ptr) = call_capsule(obj, "__arrow_c_schema__", SCHEMA_NAME)?;
    let ptr = ptr.cast::<FFI_ArrowSchema>();
    // SAFETY: a capsule named "arrow_schema" holds a valid ArrowSchema owned by the capsule,
    // which we keep alive (bound) for the whole borrow.
    let schema = unsafe { ptr.as_ref() };
    Ok(Field::try_from(schema)?)
}

/// Import the chunks of any `__arrow_c_array__` / `__arrow_c_stream__` producer.
pub(crate) fn import_chunks(obj: &Bound<'_, PyAny>) -> Result<(Vec<ArrayRef>, FieldRef)> {
    let (field, chunks) = import_any(obj)?;
    Ok((chunks, Arc::new(field)))
}

/// Import a table-like producer: a stream of record batches (struct arrays), or one.
pub(crate) fn import_batches(obj: &Bound<'_, PyAny>) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let (field, chunks) = import_any(obj)?;
    let DataType::Struct(fields) = field.data_type() else {
        return Err(Error::Capsule(format!(
            "expected a producer of record batches (a struct type), got {}",
            type_name(field.data_type())
        )));
    };
    let schema = Arc::new(Schema::new_with_metadata(
        fields.clone(),
        field.metadata().clone(),
    ));
    let batches = chunks
        .iter()
        .map(|c| {
            let s = c.as_struct_opt().ok_or_else(|| {
                Error::Capsule("stream of record batches yielded a non-struct".into())
            })?;
            if s.null_count() != 0 {
                return Err(Error::Capsule(
                    "cannot import a struct array with nulls as record batches (a table has no \
                     null rows)"
                        .into(),
                ));
            }
            let options = RecordBatchOptions::new().with_row_count(Some(s.len()));
            Ok(RecordBatch::try_new_with_options(
                schema.clone(),
                s.columns().to_vec(),
                &options,
            )?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((schema, batches))
}

/// The field and chunks of a producer: one array from `__arrow_c_array__` (preferred, as
/// pyarrow and arro3 do), else every array of `__arrow_c_stream__`.
fn import_any(obj: &Bound<'_, PyAny>) -> Result<(Field, Vec<ArrayRef>)> {
    if obj.hasattr("__arrow_c_array__").unwrap_or(false) {
        let (field, array) = import_array(obj)?;
        return Ok((field, vec![array]));
    }
    if obj.hasattr("__arrow_c_stream__").unwrap_or(false) {
        return import_stream(obj);
    }
    Err(Error::Capsule(format!(
        "expected an object with __arrow_c_array__ or __arrow_c_stream__, got {}",
        obj.get_type().name()?
    )))
}

/// Import the `(schema, array)` capsule pair of `__arrow_c_array__`.
fn import_array(obj: &Bound<'_, PyAny>) -> Result<(Field, ArrayRef)> {
    let not_a_pair = || {
        Error::Capsule(
            "__arrow_c_array__ did not return a pair of PyCapsules (schema, array)".into(),
        )
    };
    let pair = obj
        .call_method0("__arrow_c_array__")?
        .cast_into::<PyTuple>()
        .map_err(|_| not_a_pair())?;
    if pair.len() != 2 {
        return Err(not_a_pair());
    }
    let capsule = |i| {
        pair.get_item(i)
            .ok()
            .and_then(|item| item.cast_into::<PyCapsule>().ok())
            .ok_or_else(not_a_pair)
    };
    let (schema_capsule, array_capsule) = (capsule(0)?, capsule(1)?);
    let schema_ptr = schema_capsule
        .pointer_checked(Some(SCHEMA_NAME))
        .map_err(capsule_error)?
        .cast::<FFI_ArrowSchema>();
    let array_ptr = array_capsule
        .pointer_checked(Some(ARRAY_NAME))
        .map_err(capsule_error)?
        .cast::<FFI_ArrowArray>();
    // SAFETY: a capsule named "arrow_schema" holds a valid ArrowSchema owned by the capsule,
    // which stays alive (bound) for the whole borrow.
    let schema = unsafe { schema_ptr.as_ref() };
    // SAFETY: a capsule named "arrow_array" holds a valid ArrowArray; `from_raw` moves it out
    // (leaving a released array behind, which the capsule's destructor skips), so we own it
    // and release it on drop, whatever happens below.
    let mut array = unsafe { FFI_ArrowArray::from_raw(array_ptr.as_ptr()) };
    let field = Field::try_from(schema)?;
    // SAFETY: `array` is a valid, unreleased ArrowArray of `schema`'s type (the producer's pair).
    unsafe { drop_null_type_buffers(&mut array, schema) };
    // SAFETY: as above; `array` is owned by us and moved in.
    let data = unsafe { arrow_array::ffi::from_ffi(array, schema) }?;
    Ok((field, make_array(data)))
}

/// Import every array of `__arrow_c_stream__`, normalised before arrow-rs validates them (see
/// [`drop_null_type_buffers`]).
fn import_stream(obj: &Bound<'_, PyAny>) -> Result<(Field, Vec<ArrayRef>)> {
    let (_capsule, ptr) = call_capsule(obj, "__arrow_c_stream__", STREAM_NAME)?;
    let ptr = ptr.cast::<FFI_ArrowArrayStream>();
    // SAFETY: a capsule named "arrow_array_stream" holds a valid ArrowArrayStream; `from_raw`
    // moves it out (leaving a released stream behind, which the capsule's destructor skips),
    // so we own it and release it on drop.
    let mut stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr()) };
    let get_schema = stream
        .get_schema
        .ok_or_else(|| Error::Capsule("released stream".into()))?;
    let get_next = stream
        .get_next
        .ok_or_else(|| Error::Capsule("released stream".into()))?;
    let mut schema = FFI_ArrowSchema::empty();
    // SAFETY: `stream` is a live, owned stream and `schema` an empty struct it may fill.
    let rc = unsafe { get_schema(&mut stream, &mut schema) };
    if rc != 0 {
        return Err(Error::Capsule(stream_error(&mut stream, rc)));
    }
    let field = Field::try_from(&schema)?;
    let mut chunks = Vec::new();
    loop {
        let mut array = FFI_ArrowArray::empty();
        // SAFETY: as above; `array` is an empty struct the producer fills (or leaves released
        // at the end of the stream).
        let rc = unsafe { get_next(&mut stream, &mut array) };
        if rc != 0 {
            return Err(Error::Capsule(stream_error(&mut stream, rc)));
        }
        if array.is_released() {
            break;
        }
        // SAFETY: `array` was just filled by the producer and matches `schema`.
        unsafe { drop_null_type_buffers(&mut array, &schema) };
        // SAFETY: `array` is a valid ArrowArray of `schema`'s type, owned by us (moved in).
        let data = unsafe { arrow_array::ffi::from_ffi(array, &schema) }?;
        chunks.push(make_array(data));
    }
    Ok((field, chunks))
}

fn stream_error(stream: &mut FFI_ArrowArrayStream, rc: i32) -> String {
    let message = stream.get_last_error.and_then(|f| {
        // SAFETY: `stream` is live; the returned string (if any) is valid until the next call.
        let p = unsafe { f(stream) };
        (!p.is_null()).then(|| {
            // SAFETY: a non-null result is a NUL-terminated C string owned by the producer.
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned()
        })
    });
    message.unwrap_or_else(|| format!("the Arrow stream failed with error code {rc}"))
}

/// The null type has no buffers, but some producers (Polars) export it with one NULL validity
/// pointer, which arrow-rs refuses; drop that empty slot (recursively through children).
///
/// # Safety
/// `array` must be a valid, unreleased ArrowArray whose type is described by `schema`.
unsafe fn drop_null_type_buffers(array: &mut FFI_ArrowArray, schema: &FFI_ArrowSchema) {
    if schema.format() == "n"
        && array.n_buffers == 1
        && !array.buffers.is_null()
        // SAFETY: `buffers` points to `n_buffers` (= 1) pointers.
        && unsafe { (*array.buffers).is_null() }
    {
        array.n_buffers = 0;
    }
    if !array.children.is_null() {
        for (i, child_schema) in schema
            .children()
            .enumerate()
            .take(array.n_children.max(0) as usize)
        {
            // SAFETY: `children` points to `n_children` valid child arrays.
            let child = unsafe { *array.children.add(i) };
            if !child.is_null() {
                // SAFETY: the child is a valid array of the child schema's type.
                unsafe { drop_null_type_buffers(&mut *child, child_schema) };
            }
        }
    }
    if let (Some(dict_schema), false) = (schema.dictionary(), array.dictionary.is_null()) {
        // SAFETY: a non-null dictionary is a valid array of the dictionary schema's type.
        unsafe { drop_null_type_buffers(&mut *array.dictionary, dict_schema) };
    }
}
