//! The Arrow C data interface, both ways: PyCapsule export of schemas, arrays and streams
//! (with `requested_schema` honoured by a safe cast or refused clearly), and import from any
//! producer (pyarrow, Polars, DuckDB, nanoarrow, arro3) without copying, checked and validated
//! first (`layout`, `validate`).

mod device;
mod export;
mod import;
mod layout;
mod stream;
mod validate;

pub(crate) use device::{check_kwargs, device_array_capsules, device_stream_capsule};
pub(crate) use export::{
    export_array_capsules, export_batches_stream, export_chunks_stream, export_reader_stream,
    export_schema_capsule,
};
pub(crate) use import::{import_batches, import_chunks, import_field};
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use import::{import_checked, import_pair, MAKE_ARRAY_FAILED};
pub(crate) use validate::validate_decimals;

const SCHEMA_NAME: &std::ffi::CStr = c"arrow_schema";
const ARRAY_NAME: &std::ffi::CStr = c"arrow_array";
const STREAM_NAME: &std::ffi::CStr = c"arrow_array_stream";

/// A capsule that is not the one expected (another name, a NULL pointer) as a `CapsuleError`
/// saying which was expected.
fn wrong_capsule(expected: &std::ffi::CStr) -> impl Fn(pyo3::PyErr) -> crate::error::Error + '_ {
    move |e| match crate::error::capsule_error(e) {
        crate::error::Error::Capsule(m) => crate::error::Error::Capsule(format!(
            "expected a PyCapsule named '{}': {m}",
            expected.to_string_lossy()
        )),
        other => other,
    }
}
