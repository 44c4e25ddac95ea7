//! Import: schemas, arrays and streams from any PyCapsule producer, without copying.

use std::sync::Arc;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, Field, FieldRef, Schema, SchemaRef};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use pyo3_arrow::input::AnyArray;

use super::{SCHEMA_NAME, STREAM_NAME};
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
        .call_method0(method)
        .map_err(capsule_error)?
        .cast_into::<PyCapsule>()
        .map_err(|_| Error::Capsule(format!("{method} did not return a PyCapsule")))?;
    let ptr = capsule.pointer_checked(Some(name)).map_err(capsule_error)?;
    Ok((capsule, ptr))
}

/// Import the field (name, type, nullability) of an object with `__arrow_c_schema__`.
pub fn import_field(obj: &Bound<'_, PyAny>) -> Result<Field> {
    let (_capsule, ptr) = call_capsule(obj, "__arrow_c_schema__", SCHEMA_NAME)?;
    let ptr = ptr.cast::<FFI_ArrowSchema>();
    // SAFETY: a capsule named "arrow_schema" holds a valid ArrowSchema owned by the capsule,
    // which we keep alive (bound) for the whole borrow.
    let schema = unsafe { ptr.as_ref() };
    Ok(Field::try_from(schema)?)
}

/// Import the chunks of any `__arrow_c_array__` / `__arrow_c_stream__` producer.
pub fn import_chunks(obj: &Bound<'_, PyAny>) -> Result<(Vec<ArrayRef>, FieldRef)> {
    if let Some((field, chunks)) = import_stream_lenient(obj)? {
        return Ok((chunks, Arc::new(field)));
    }
    let any = obj.extract::<AnyArray>().map_err(capsule_error)?;
    let reader = any.into_reader().map_err(capsule_error)?;
    let field = reader.field();
    let chunks = reader.collect::<std::result::Result<Vec<_>, ArrowError>>()?;
    Ok((chunks, field))
}

/// Import a table-like producer (`__arrow_c_stream__` of a struct, or a record batch).
pub fn import_batches(obj: &Bound<'_, PyAny>) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    if let Some((field, chunks)) = import_stream_lenient(obj)? {
        if let arrow_schema::DataType::Struct(fields) = field.data_type() {
            let schema = Arc::new(Schema::new_with_metadata(
                fields.clone(),
                field.metadata().clone(),
            ));
            let batches = chunks
                .iter()
                .map(|c| {
                    let s = c
                        .as_any()
                        .downcast_ref::<arrow_array::StructArray>()
                        .ok_or_else(|| {
                            Error::Capsule("stream of record batches yielded a non-struct".into())
                        })?;
                    let columns = s.columns().to_vec();
                    let options = arrow_array::RecordBatchOptions::new()
                        .with_row_count(Some(arrow_array::Array::len(s)));
                    Ok(RecordBatch::try_new_with_options(
                        schema.clone(),
                        columns,
                        &options,
                    )?)
                })
                .collect::<Result<Vec<_>>>()?;
            return Ok((schema, batches));
        }
    }
    let any = obj
        .extract::<pyo3_arrow::input::AnyRecordBatch>()
        .map_err(capsule_error)?;
    let reader = any.into_reader().map_err(capsule_error)?;
    let schema = reader.schema();
    let batches = reader.collect::<std::result::Result<Vec<_>, ArrowError>>()?;
    Ok((schema, batches))
}

/// Read an `__arrow_c_stream__`-only producer (no `__arrow_c_array__`) ourselves, so arrays can
/// be normalised before arrow-rs validates them (see [`drop_null_type_buffers`]). Returns None
/// for other objects, which take the generic path.
fn import_stream_lenient(obj: &Bound<'_, PyAny>) -> Result<Option<(Field, Vec<ArrayRef>)>> {
    if obj.hasattr("__arrow_c_array__").unwrap_or(false)
        || !obj.hasattr("__arrow_c_stream__").unwrap_or(false)
    {
        return Ok(None);
    }
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
        chunks.push(arrow_array::make_array(data));
    }
    Ok(Some((field, chunks)))
}

fn stream_error(stream: &mut FFI_ArrowArrayStream, rc: i32) -> String {
    let message = stream.get_last_error.and_then(|f| {
        // SAFETY: `stream` is live; the returned string (if any) is valid until the next call.
        let p = unsafe { f(stream) };
        // SAFETY: a non-null result is a NUL-terminated C string owned by the producer.
        (!p.is_null()).then(|| {
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
