//! Import: schemas, arrays and streams from any PyCapsule producer, without copying, each
//! array checked (`layout`) and validated (`validate`) before anyone sees it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{make_array, Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef, UnionMode};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

use super::layout::{check_array, schema_field};
use super::validate::ColumnPath;
use super::wrong_capsule;
use super::{ARRAY_NAME, SCHEMA_NAME, STREAM_NAME};
use crate::datatype::type_name;
use crate::error::{panic_message, Error, Result};

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
    let ptr = capsule
        .pointer_checked(Some(name))
        .map_err(wrong_capsule(name))?;
    Ok((capsule, ptr))
}

/// Import the field (name, type, nullability) of an object with `__arrow_c_schema__`.
pub(crate) fn import_field(obj: &Bound<'_, PyAny>) -> Result<Field> {
    let (_capsule, ptr) = call_capsule(obj, "__arrow_c_schema__", SCHEMA_NAME)?;
    let ptr = ptr.cast::<FFI_ArrowSchema>();
    // SAFETY: a capsule named "arrow_schema" holds an ArrowSchema owned by the capsule, which we
    // keep alive (bound) for the whole borrow; `schema_field` checks it before reading deeper.
    let schema = unsafe { ptr.as_ref() };
    schema_field(schema)
}

/// Import the chunks of any `__arrow_c_array__` / `__arrow_c_stream__` producer. With
/// `validate`, every chunk is fully validated (see [`super::validate`]); without, only its
/// structure is checked, and invalid data is undefined behaviour.
pub(crate) fn import_chunks(
    obj: &Bound<'_, PyAny>,
    validate: bool,
) -> Result<(Vec<ArrayRef>, FieldRef)> {
    let (field, chunks) = import_any(obj, validate)?;
    Ok((chunks, Arc::new(field)))
}

/// Import a table-like producer: a stream of record batches (struct arrays), or one; validated
/// as in [`import_chunks`].
pub(crate) fn import_batches(
    obj: &Bound<'_, PyAny>,
    validate: bool,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let (field, chunks) = import_any(obj, validate)?;
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
fn import_any(obj: &Bound<'_, PyAny>, validate: bool) -> Result<(Field, Vec<ArrayRef>)> {
    if obj.hasattr("__arrow_c_array__").unwrap_or(false) {
        let (field, array) = import_array(obj, validate)?;
        return Ok((field, vec![array]));
    }
    if obj.hasattr("__arrow_c_stream__").unwrap_or(false) {
        return import_stream(obj, validate);
    }
    Err(Error::Capsule(format!(
        "expected an object with __arrow_c_array__ or __arrow_c_stream__, got {}",
        obj.get_type().name()?
    )))
}

/// Import the `(schema, array)` capsule pair of `__arrow_c_array__`.
fn import_array(obj: &Bound<'_, PyAny>, validate: bool) -> Result<(Field, ArrayRef)> {
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
        .map_err(wrong_capsule(SCHEMA_NAME))?
        .cast::<FFI_ArrowSchema>();
    let array_ptr = array_capsule
        .pointer_checked(Some(ARRAY_NAME))
        .map_err(wrong_capsule(ARRAY_NAME))?
        .cast::<FFI_ArrowArray>();
    // SAFETY: a capsule named "arrow_array" holds an ArrowArray; `from_raw` moves it out
    // (leaving a released array behind, which the capsule's destructor skips), so we own it
    // and release it on drop, whatever happens below.
    let array = unsafe { FFI_ArrowArray::from_raw(array_ptr.as_ptr()) };
    // SAFETY: a capsule named "arrow_schema" holds an ArrowSchema owned by the capsule, which
    // stays alive (bound) for the whole borrow.
    import_pair(unsafe { schema_ptr.as_ref() }, array, validate)
}

/// Import a producer's pair of C structures (what `__arrow_c_array__` hands over): the schema
/// checked before anything reads deeper into it, then the array against its type.
pub(crate) fn import_pair(
    schema: &FFI_ArrowSchema,
    array: FFI_ArrowArray,
    validate: bool,
) -> Result<(Field, ArrayRef)> {
    let field = schema_field(schema)?;
    let array = import_checked(array, &field, validate)?;
    Ok((field, array))
}

/// Import every array of `__arrow_c_stream__`.
fn import_stream(obj: &Bound<'_, PyAny>, validate: bool) -> Result<(Field, Vec<ArrayRef>)> {
    let (_capsule, ptr) = call_capsule(obj, "__arrow_c_stream__", STREAM_NAME)?;
    let ptr = ptr.cast::<FFI_ArrowArrayStream>();
    // SAFETY: a capsule named "arrow_array_stream" holds an ArrowArrayStream; `from_raw` moves
    // it out (leaving a released stream behind, which the capsule's destructor skips), so we
    // own it and release it on drop.
    let mut stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr()) };
    let released = || {
        Error::Capsule(
            "the ArrowArrayStream is released (already moved out by another import?)".into(),
        )
    };
    // A moved-out stream keeps its callbacks; only `release` says it is gone.
    stream.release.ok_or_else(released)?;
    let get_schema = stream.get_schema.ok_or_else(released)?;
    let get_next = stream.get_next.ok_or_else(released)?;
    let mut schema = FFI_ArrowSchema::empty();
    // SAFETY: `stream` is a live, owned stream and `schema` an empty struct it may fill.
    let rc = unsafe { get_schema(&mut stream, &mut schema) };
    if rc != 0 {
        return Err(Error::Capsule(stream_error(&mut stream, rc)));
    }
    let field = schema_field(&schema)?;
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
        chunks.push(import_checked(array, &field, validate)?);
    }
    Ok((field, chunks))
}

/// What an import says when arrow-rs cannot build an array the checks above accepted: a gap in
/// them (the import fuzz target treats it as a finding).
pub(crate) const MAKE_ARRAY_FAILED: &str = "arrow-rs cannot build it";

/// Import one producer's array of `field`'s type (moved to us): its structure checked first
/// (`layout`), then handed to arrow-rs, then, with `validate`, its values validated in full.
pub(crate) fn import_checked(
    mut array: FFI_ArrowArray,
    field: &Field,
    validate: bool,
) -> Result<ArrayRef> {
    let mut path = ColumnPath::new(field.name());
    check_array(&mut array, field.data_type(), &mut path)?;
    let data_type = field.data_type().clone();
    let imported = catch_unwind(AssertUnwindSafe(move || {
        // SAFETY: `array` is an unreleased ArrowArray we own, whose buffers, children and
        // dictionary match `data_type` and whose counts arrow-rs sizes memory from were checked
        // above; buffer sizes follow from its length as the C data interface requires.
        unsafe { arrow_array::ffi::from_ffi_and_data_type(array, data_type) }
    }));
    let data = match imported {
        Ok(data) => data.map_err(|e| Error::Capsule(format!("cannot import {path}: {e}")))?,
        Err(payload) => {
            return Err(Error::Capsule(format!(
                "cannot import {path}: {}",
                panic_message(payload.as_ref())
            )))
        }
    };
    let data = without_empty_byte_arrays(&data).unwrap_or(data);
    let data = with_offsets_pushed_down(&data, &path)?.unwrap_or(data);
    if validate {
        super::validate::validate(&data, &mut path)?;
    }
    catch_unwind(AssertUnwindSafe(|| make_array(data))).map_err(|payload| {
        Error::InvalidInput(format!(
            "invalid Arrow data in {path}: {MAKE_ARRAY_FAILED} ({})",
            panic_message(payload.as_ref())
        ))
    })
}

/// The rows of each child that rows `offset..offset + len` of an array of type `dt` cover, for
/// the types whose children arrow-rs slices by the parent's offset when it builds the array
/// (struct and sparse union: the same rows; fixed-size list: `size` rows per row); `None` for
/// every other type (lists, maps, dense unions and dictionaries reach their children through
/// offsets or keys, and arrow-rs uses those children whole). `Some(None)` when the range
/// overflows.
fn sliced_child_rows(dt: &DataType, offset: usize, len: usize) -> Option<Option<(usize, usize)>> {
    match dt {
        DataType::Struct(_) | DataType::Union(_, UnionMode::Sparse) => Some(Some((offset, len))),
        DataType::FixedSizeList(_, size) => {
            let size = usize::try_from(*size).ok();
            Some(size.and_then(|s| Some((offset.checked_mul(s)?, len.checked_mul(s)?))))
        }
        _ => None,
    }
}

/// arrow-rs applies an offset twice when a struct below a parent that slices its children (a
/// struct, a fixed-size list, a sparse union) is built: `ArrayData::slice` gives the struct the
/// offset *and* slices its children, then `StructArray::from` slices them again. A sliced
/// `struct<struct>` or `fixed_size_list<struct>` from pyarrow could therefore not be built (the
/// second slice runs past the first one's end). Every such parent with an offset becomes
/// one at offset 0 whose children hold exactly its rows, bottom-up, so no struct is ever sliced by
/// arrow-rs; a child too short for its parent's rows is `InvalidInput` naming the field. `None`
/// when nothing changed.
fn with_offsets_pushed_down(data: &ArrayData, path: &ColumnPath) -> Result<Option<ArrayData>> {
    let children: Vec<Option<ArrayData>> = data
        .child_data()
        .iter()
        .map(|c| with_offsets_pushed_down(c, path))
        .collect::<Result<_>>()?;
    let changed = children.iter().any(Option::is_some);
    let children: Vec<ArrayData> = children
        .into_iter()
        .zip(data.child_data())
        .map(|(new, old)| new.unwrap_or_else(|| old.clone()))
        .collect();
    let slices_children = sliced_child_rows(data.data_type(), 0, 0).is_some();
    if !changed && (data.offset() == 0 || !slices_children) {
        return Ok(None);
    }
    if !slices_children {
        let builder = data.clone().into_builder().child_data(children);
        // SAFETY: the same array over children that hold the same values at offset 0; it is
        // validated afterwards as any import is.
        return Ok(Some(unsafe { builder.build_unchecked() }));
    }
    let with_children = ArrayData::builder(data.data_type().clone())
        .len(data.len())
        .offset(data.offset())
        .nulls(data.nulls().cloned())
        .buffers(data.buffers().to_vec())
        .child_data(children);
    // SAFETY: the same array over children holding the same values at offset 0; it is only
    // sliced below, then validated as any import is.
    let with_children = unsafe { with_children.build_unchecked() };
    rows_at_offset_zero(&with_children, 0, data.len())
        .map(Some)
        .ok_or_else(|| too_short(data, path))
}

/// Rows `offset..offset + len` of `data` (relative to its own offset) as an array at offset 0;
/// for a parent arrow-rs slices the children of, its children cut to exactly those rows the same
/// way instead of carrying an offset arrow-rs would apply twice. `None` when `data` or a child
/// below it is too short.
fn rows_at_offset_zero(data: &ArrayData, offset: usize, len: usize) -> Option<ArrayData> {
    if data.len().checked_sub(offset)? < len {
        return None;
    }
    let Some(child_rows) = sliced_child_rows(data.data_type(), offset, len) else {
        return Some(data.slice(offset, len));
    };
    let (child_offset, child_len) = child_rows?;
    // The C data interface offsets the children of these types by the parent's own offset.
    let (base, _) = sliced_child_rows(data.data_type(), data.offset(), 0)??;
    let children = data
        .child_data()
        .iter()
        .map(|c| rows_at_offset_zero(c, base.checked_add(child_offset)?, child_len))
        .collect::<Option<Vec<_>>>()?;
    // A sparse union's type ids (one byte a row) move with its rows; the other types here have
    // no buffers of their own.
    let start = data.offset().checked_add(offset)?;
    let buffers = data
        .buffers()
        .iter()
        .map(|b| (b.len().checked_sub(start)? >= len).then(|| b.slice_with_length(start, len)))
        .collect::<Option<Vec<_>>>()?;
    let builder = ArrayData::builder(data.data_type().clone())
        .len(len)
        .offset(0)
        .nulls(data.nulls().map(|n| n.slice(offset, len)))
        .buffers(buffers)
        .child_data(children);
    // SAFETY: rows `offset..offset + len` of the array and the matching rows of each child, all
    // checked to exist; it is validated afterwards as any import is.
    Some(unsafe { builder.build_unchecked() })
}

fn too_short(data: &ArrayData, path: &ColumnPath) -> Error {
    let shortest = data
        .child_data()
        .iter()
        .map(ArrayData::len)
        .min()
        .unwrap_or(0);
    Error::InvalidInput(format!(
        "invalid Arrow data in {path} ({}): a child has {shortest} values, fewer than the rows \
         its offset {} and length {} cover",
        type_name(data.data_type()),
        data.offset(),
        data.len(),
    ))
}

/// arrow-rs imports a string or binary array of length 0 with an empty data buffer whatever its
/// offsets say, which then fails validation when they do not start at 0 (pyarrow exports an
/// empty slice `arr[1:1]` so). Such an array holds nothing: it becomes a fresh empty array, and
/// its parents are rebuilt around it. `None` when nothing changed.
fn without_empty_byte_arrays(data: &ArrayData) -> Option<ArrayData> {
    let dt = data.data_type();
    let bytes = matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary
    );
    if bytes && data.is_empty() {
        return Some(ArrayData::new_empty(dt));
    }
    let children: Vec<Option<ArrayData>> = data
        .child_data()
        .iter()
        .map(without_empty_byte_arrays)
        .collect();
    if children.iter().all(Option::is_none) {
        return None;
    }
    let children = children
        .into_iter()
        .zip(data.child_data())
        .map(|(new, old)| new.unwrap_or_else(|| old.clone()))
        .collect();
    let builder = data.clone().into_builder().child_data(children);
    // SAFETY: the array arrow-rs imported, with some empty children swapped for empty arrays of
    // the same type and length; it is validated afterwards as any import is.
    Some(unsafe { builder.build_unchecked() })
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
