//! Export: schema, array and stream capsules, with a consumer's `requested_schema` honoured by
//! a safe cast or refused clearly.

use std::sync::Arc;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_cast::{can_cast_types, cast_with_options, CastOptions};
use arrow_schema::{ArrowError, Field, FieldRef, Schema, SchemaRef};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

use super::stream::{new_stream, Chunks};
use super::wrong_capsule;
use super::{ARRAY_NAME, SCHEMA_NAME, STREAM_NAME};
use crate::datatype::retyped;
use crate::error::{Error, Result};

pub(crate) fn export_schema_capsule<'py>(
    py: Python<'py>,
    value: impl TryInto<FFI_ArrowSchema, Error = ArrowError>,
) -> PyResult<Bound<'py, PyAny>> {
    let schema: FFI_ArrowSchema = value.try_into().map_err(Error::from)?;
    Ok(PyCapsule::new_with_value(py, schema, SCHEMA_NAME)?.into_any())
}

/// Read the `Field` a consumer asks for out of a `requested_schema` capsule.
pub(crate) fn requested_field(capsule: &Bound<'_, PyAny>) -> Result<Field> {
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
        Error::Capsule("requested_schema must be an 'arrow_schema' PyCapsule".into())
    })?;
    let ptr = capsule
        .pointer_checked(Some(SCHEMA_NAME))
        .map_err(wrong_capsule(SCHEMA_NAME))?
        .cast::<FFI_ArrowSchema>();
    // SAFETY: the capsule is named "arrow_schema", so by the PyCapsule protocol it holds an
    // `ArrowSchema` that stays alive (owned by the capsule) while we borrow it here;
    // `schema_field` checks it before reading deeper.
    let schema = unsafe { ptr.as_ref() };
    super::layout::schema_field(schema)
}

/// Cast `array` to the requested type when a safe cast exists; refuse clearly otherwise.
pub(crate) fn cast_to_request(
    array: &ArrayRef,
    field: &FieldRef,
    requested: &Field,
) -> Result<(ArrayRef, FieldRef)> {
    let from = field.data_type();
    let to = requested.data_type();
    if from == to {
        return Ok((array.clone(), field.clone()));
    }
    if !can_cast_types(from, to) {
        return Err(Error::Cast(format!(
            "cannot honour requested_schema: no cast from {} to {}",
            crate::datatype::type_name(from),
            crate::datatype::type_name(to)
        )));
    }
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    let cast = cast_with_options(array, to, &options).map_err(|e| {
        Error::Cast(format!(
            "cannot honour requested_schema: casting {} to {} failed: {e}",
            crate::datatype::type_name(from),
            crate::datatype::type_name(to)
        ))
    })?;
    Ok((cast, retyped(field, to)))
}

/// `(schema_capsule, array_capsule)` for one array.
pub(crate) fn export_array_capsules<'py>(
    py: Python<'py>,
    array: &ArrayRef,
    field: &FieldRef,
    requested_schema: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let (array, field) = match requested_schema {
        Some(req) if !req.is_none() => cast_to_request(array, field, &requested_field(req)?)?,
        _ => (array.clone(), field.clone()),
    };
    let schema = FFI_ArrowSchema::try_from(field.as_ref()).map_err(Error::from)?;
    let ffi_array = FFI_ArrowArray::new(&array.to_data());
    let schema_capsule = PyCapsule::new_with_value(py, schema, SCHEMA_NAME)?;
    let array_capsule = PyCapsule::new_with_value(py, ffi_array, ARRAY_NAME)?;
    PyTuple::new(py, [schema_capsule, array_capsule])
}

/// An `arrow_array_stream` capsule over record batches that are already in memory.
pub(crate) fn export_batches_stream<'py>(
    py: Python<'py>,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    requested_schema: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (schema, batches) = match requested_schema {
        Some(req) if !req.is_none() => {
            let req_field = requested_field(req)?;
            let arrow_schema::DataType::Struct(req_fields) = req_field.data_type() else {
                return Err(Error::Cast(
                    "requested_schema for a table must be a struct/schema".into(),
                )
                .into());
            };
            if req_fields.len() != schema.fields().len() {
                return Err(Error::Cast(format!(
                    "cannot honour requested_schema: it has {} fields, the table {}",
                    req_fields.len(),
                    schema.fields().len()
                ))
                .into());
            }
            let new_schema = Arc::new(Schema::new_with_metadata(
                schema
                    .fields()
                    .iter()
                    .zip(req_fields.iter())
                    .map(|(f, r)| retyped(f, r.data_type()))
                    .collect::<Vec<_>>(),
                schema.metadata().clone(),
            ));
            let mut out = Vec::with_capacity(batches.len());
            for batch in &batches {
                let mut columns = Vec::with_capacity(batch.num_columns());
                for ((col, f), r) in batch
                    .columns()
                    .iter()
                    .zip(schema.fields())
                    .zip(req_fields.iter())
                {
                    columns.push(cast_to_request(col, f, r)?.0);
                }
                out.push(RecordBatch::try_new(new_schema.clone(), columns).map_err(Error::from)?);
            }
            (new_schema, out)
        }
        _ => (schema, batches),
    };
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    export_reader_stream(py, Box::new(reader))
}

/// An `arrow_array_stream` capsule over any reader. The reader must not panic: wrap lazy
/// decoders in a panic guard first (a panic in a C callback aborts the process).
pub(crate) fn export_reader_stream<'py>(
    py: Python<'py>,
    reader: Box<dyn RecordBatchReader + Send>,
) -> PyResult<Bound<'py, PyAny>> {
    stream_capsule(py, Chunks::Batches(reader))
}

/// An `arrow_array_stream` capsule of plain arrays (a chunked array's chunks).
pub(crate) fn export_chunks_stream<'py>(
    py: Python<'py>,
    chunks: Vec<ArrayRef>,
    field: FieldRef,
    requested_schema: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (chunks, field) = match requested_schema {
        Some(req) if !req.is_none() => {
            let r = requested_field(req)?;
            let mut out = Vec::with_capacity(chunks.len());
            let mut out_field = retyped(&field, r.data_type());
            for c in &chunks {
                let (a, f) = cast_to_request(c, &field, &r)?;
                out.push(a);
                out_field = f;
            }
            (out, out_field)
        }
        _ => (chunks, field),
    };
    stream_capsule(py, Chunks::Arrays(field, Box::new(chunks.into_iter())))
}

fn stream_capsule<'py>(py: Python<'py>, chunks: Chunks) -> PyResult<Bound<'py, PyAny>> {
    let stream = new_stream(chunks);
    Ok(PyCapsule::new_with_value(py, stream, STREAM_NAME)?.into_any())
}
