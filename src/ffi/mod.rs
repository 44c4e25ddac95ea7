//! The Arrow C data interface, both ways: PyCapsule export of schemas, arrays and streams
//! (with `requested_schema` honoured by a safe cast or refused clearly), and import from any
//! producer (pyarrow, Polars, DuckDB, nanoarrow, arro3) without copying.

mod export;
mod import;
mod stream;

pub(crate) use export::{
    export_array_capsules, export_batches_stream, export_chunks_stream, export_reader_stream,
    export_schema_capsule,
};
pub(crate) use import::{import_batches, import_chunks, import_field};

const SCHEMA_NAME: &std::ffi::CStr = c"arrow_schema";
const ARRAY_NAME: &std::ffi::CStr = c"arrow_array";
const STREAM_NAME: &std::ffi::CStr = c"arrow_array_stream";
