//! colbridge's exporter of the Arrow C stream interface (`ArrowArrayStream`), for streams of
//! plain arrays (a chunked array's chunks) and of record batches (a table, a lazy Parquet
//! reader) alike. arrow-rs' `FFI_ArrowArrayStream::new` only streams record batches.
//!
//! The callbacks run on the consumer's side of a C boundary, where an unwinding panic would
//! abort the process: each one catches panics and reports them as a stream error instead.

use std::ffi::{c_char, c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, ArrayRef, RecordBatchReader, StructArray};
use arrow_data::ArrayData;
use arrow_schema::{ArrowError, FieldRef};

use crate::error::panic_message;

/// What a stream yields.
pub(crate) enum Chunks {
    /// Record batches, each exported as a struct array; the schema (with its metadata) is the
    /// stream's struct type.
    Batches(Box<dyn RecordBatchReader + Send>),
    /// Arrays of one field.
    Arrays(FieldRef, Box<dyn Iterator<Item = ArrayRef> + Send>),
}

impl Chunks {
    fn schema(&self) -> Result<FFI_ArrowSchema, ArrowError> {
        match self {
            Chunks::Batches(reader) => FFI_ArrowSchema::try_from(reader.schema().as_ref()),
            Chunks::Arrays(field, _) => FFI_ArrowSchema::try_from(field.as_ref()),
        }
    }

    fn next(&mut self) -> Result<Option<ArrayData>, ArrowError> {
        match self {
            Chunks::Batches(reader) => reader
                .next()
                .transpose()
                .map(|batch| batch.map(|b| StructArray::from(b).to_data())),
            Chunks::Arrays(_, arrays) => Ok(arrays.next().map(|a| a.to_data())),
        }
    }
}

/// The stream's private data: its chunks and the message of the last error.
struct Private {
    chunks: Chunks,
    last_error: Option<CString>,
}

impl Private {
    /// Run `f` with panics caught; on failure keep the message for `get_last_error` and
    /// return the errno-style code the C stream interface expects.
    fn run<T>(&mut self, f: impl FnOnce(&mut Chunks) -> Result<T, ArrowError>) -> Result<T, c_int> {
        let outcome = catch_unwind(AssertUnwindSafe(|| f(&mut self.chunks)));
        let (message, code) = match outcome {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => (e.to_string(), error_code(&e)),
            Err(payload) => (
                format!(
                    "the stream's producer failed: {}",
                    panic_message(payload.as_ref())
                ),
                libc::EIO,
            ),
        };
        self.last_error = CString::new(message.replace('\0', " ")).ok();
        Err(code)
    }
}

fn error_code(e: &ArrowError) -> c_int {
    match e {
        ArrowError::NotYetImplemented(_) => libc::ENOSYS,
        ArrowError::MemoryError(_) => libc::ENOMEM,
        ArrowError::IoError(..) => libc::EIO,
        _ => libc::EINVAL,
    }
}

/// A C stream over `chunks`; the consumer owns it (and frees `chunks`) by calling `release`.
pub(crate) fn new_stream(chunks: Chunks) -> FFI_ArrowArrayStream {
    let private = Box::new(Private {
        chunks,
        last_error: None,
    });
    FFI_ArrowArrayStream {
        get_schema: Some(get_schema),
        get_next: Some(get_next),
        get_last_error: Some(get_last_error),
        release: Some(release),
        private_data: Box::into_raw(private).cast::<c_void>(),
    }
}

/// The private data of a stream made by [`new_stream`].
///
/// # Safety
/// `stream` must point to a live (not yet released) stream made by [`new_stream`], and no other
/// reference to its private data may exist while the result is used (the C stream interface
/// forbids concurrent calls on one stream).
unsafe fn private<'a>(stream: *mut FFI_ArrowArrayStream) -> &'a mut Private {
    // SAFETY: per the contract above, `private_data` is the `Box<Private>` leaked by
    // `new_stream` and not freed before `release`.
    unsafe { &mut *(*stream).private_data.cast::<Private>() }
}

unsafe extern "C" fn get_schema(
    stream: *mut FFI_ArrowArrayStream,
    out: *mut FFI_ArrowSchema,
) -> c_int {
    // SAFETY: consumers call the callbacks of a live stream we exported, one call at a time.
    let private = unsafe { private(stream) };
    match private.run(|chunks| chunks.schema()) {
        Ok(schema) => {
            // SAFETY: `out` points to a consumer-owned ArrowSchema struct holding nothing
            // (released or uninitialised), which we fill without dropping the old content;
            // the consumer now owns (and releases) the schema.
            unsafe { std::ptr::write(out, schema) };
            0
        }
        Err(code) => code,
    }
}

unsafe extern "C" fn get_next(
    stream: *mut FFI_ArrowArrayStream,
    out: *mut FFI_ArrowArray,
) -> c_int {
    // SAFETY: consumers call the callbacks of a live stream we exported, one call at a time.
    let private = unsafe { private(stream) };
    match private.run(|chunks| chunks.next()) {
        Ok(data) => {
            // A released (empty) array marks the end of the stream.
            let array = data.map_or_else(FFI_ArrowArray::empty, |d| FFI_ArrowArray::new(&d));
            // SAFETY: as in `get_schema`, `out` is a consumer-owned struct we fill; the
            // consumer now owns (and releases) the array, which keeps its buffers alive.
            unsafe { std::ptr::write(out, array) };
            0
        }
        Err(code) => code,
    }
}

unsafe extern "C" fn get_last_error(stream: *mut FFI_ArrowArrayStream) -> *const c_char {
    // SAFETY: consumers call the callbacks of a live stream we exported, one call at a time.
    let private = unsafe { private(stream) };
    // The string stays owned by the stream, valid until the next call, as the interface says.
    private
        .last_error
        .as_ref()
        .map_or(std::ptr::null(), |message| message.as_ptr())
}

unsafe extern "C" fn release(stream: *mut FFI_ArrowArrayStream) {
    if stream.is_null() {
        return;
    }
    // SAFETY: the consumer releases a stream we exported once; it is not used afterwards.
    let stream = unsafe { &mut *stream };
    let data = std::mem::replace(&mut stream.private_data, std::ptr::null_mut());
    if !data.is_null() {
        // SAFETY: `data` is the `Box<Private>` leaked by `new_stream`, freed exactly once here
        // (the pointer was cleared above). A panic while dropping the chunks (a lazy reader's
        // own drop) must not unwind into C, so it is caught and ignored.
        let private = unsafe { Box::from_raw(data.cast::<Private>()) };
        let _ = catch_unwind(AssertUnwindSafe(move || drop(private)));
    }
    stream.get_schema = None;
    stream.get_next = None;
    stream.get_last_error = None;
    stream.release = None;
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, RecordBatch};
    use arrow_schema::{DataType, Field};

    use super::*;

    fn next(stream: &mut FFI_ArrowArrayStream) -> (c_int, FFI_ArrowArray) {
        let mut out = FFI_ArrowArray::empty();
        let get_next = stream.get_next.expect("live stream");
        // SAFETY: a live stream made by `new_stream`, and an empty struct to fill.
        let rc = unsafe { get_next(stream, &mut out) };
        (rc, out)
    }

    #[test]
    fn arrays_stream_out_in_order_then_the_stream_ends() {
        let field = Arc::new(Field::new("x", DataType::Int64, true));
        let chunks: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(Int64Array::from(vec![Some(3), None])),
        ];
        let mut stream = new_stream(Chunks::Arrays(field, Box::new(chunks.clone().into_iter())));
        let mut schema = FFI_ArrowSchema::empty();
        let get_schema = stream.get_schema.expect("live stream");
        // SAFETY: as in `next`.
        assert_eq!(unsafe { get_schema(&mut stream, &mut schema) }, 0);
        assert_eq!(schema.format(), "l");
        assert_eq!(schema.name(), Some("x"));
        for expected in &chunks {
            let (rc, array) = next(&mut stream);
            assert_eq!(rc, 0);
            // SAFETY: the array was just exported with this schema's type.
            let data = unsafe { arrow_array::ffi::from_ffi(array, &schema) }.expect("import");
            assert_eq!(&arrow_array::make_array(data), expected);
        }
        let (rc, end) = next(&mut stream);
        assert_eq!(rc, 0);
        assert!(end.is_released());
    }

    #[test]
    fn record_batches_stream_out_as_structs() {
        let batch =
            RecordBatch::try_from_iter([("a", Arc::new(Int64Array::from(vec![7])) as ArrayRef)])
                .expect("batch");
        let reader = arrow_array::RecordBatchIterator::new(vec![Ok(batch.clone())], batch.schema());
        let mut stream = new_stream(Chunks::Batches(Box::new(reader)));
        let mut schema = FFI_ArrowSchema::empty();
        let get_schema = stream.get_schema.expect("live stream");
        // SAFETY: as in `next`.
        assert_eq!(unsafe { get_schema(&mut stream, &mut schema) }, 0);
        assert_eq!(schema.format(), "+s");
        let (rc, array) = next(&mut stream);
        assert_eq!(rc, 0);
        assert_eq!(array.len(), 1);
    }

    #[test]
    fn a_panicking_producer_is_a_stream_error_not_an_abort() {
        let field = Arc::new(Field::new("x", DataType::Int64, true));
        let exploding = std::iter::from_fn(|| -> Option<ArrayRef> { panic!("decoder exploded") });
        let mut stream = new_stream(Chunks::Arrays(field, Box::new(exploding)));
        let (rc, array) = next(&mut stream);
        assert_eq!(rc, libc::EIO);
        assert!(array.is_released());
        let get_last_error = stream.get_last_error.expect("live stream");
        // SAFETY: as in `next`; the message is valid until the next call.
        let message = unsafe { std::ffi::CStr::from_ptr(get_last_error(&mut stream)) };
        assert!(message.to_string_lossy().contains("decoder exploded"));
    }

    #[test]
    fn releasing_frees_the_chunks_and_clears_the_callbacks() {
        let array: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        let field = Arc::new(Field::new("x", DataType::Int64, true));
        let mut stream = new_stream(Chunks::Arrays(
            field,
            Box::new(vec![array.clone()].into_iter()),
        ));
        assert_eq!(Arc::strong_count(&array), 2);
        let release = stream.release.expect("live stream");
        // SAFETY: a live stream, released once.
        unsafe { release(&mut stream) };
        assert_eq!(Arc::strong_count(&array), 1);
        assert!(stream.release.is_none() && stream.get_next.is_none());
    }
}
