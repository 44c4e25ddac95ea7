//! An IPC file's bytes as one Arrow `Buffer`: a read-only memory mapping of the file (the
//! default), the file read into memory once, or a Python `bytes` object borrowed as it is.
//!
//! Every array decoded from the file is a slice of that buffer wherever it can be, so each holds
//! a reference to its owner: the mapping stays mapped (the `bytes` object alive) until the last
//! array, NumPy view, pandas column or C data interface export of it is gone, whatever happens
//! to the file object or the `Table` meanwhile.
//!
//! A mapping shows the file as it is on disk: if another process truncates the file while it is
//! mapped, reading a page past the new end raises SIGBUS, as for every memory-mapped file
//! (NumPy's `memmap`, pyarrow's `memory_map`, Polars). `memory_map=False` reads the file into
//! memory instead.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

use arrow_buffer::{Buffer, MutableBuffer};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::error::{Error, Result};

/// Where the bytes came from, for error messages and for `require_zero_copy`.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    Path(PathBuf),
    Memory,
}

/// A whole IPC file or stream, as one buffer every decoded array can slice.
pub(crate) struct FileBytes {
    pub(crate) bytes: Buffer,
    pub(crate) origin: Origin,
}

/// What a caller asked to read: resolved in Python (with the GIL), opened without it.
pub(crate) enum Request {
    Path(PathBuf),
    /// An immutable `bytes` object, borrowed without a copy.
    Bytes(Buffer),
}

impl Request {
    /// A path (`str` / `os.PathLike`), `bytes`, a buffer-protocol object (copied: its memory
    /// could change after it is validated) or a binary file object (read).
    pub(crate) fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
            let path: PathBuf = obj
                .py()
                .import("os")?
                .call_method1("fspath", (obj,))?
                .extract()?;
            return Ok(Request::Path(path));
        }
        if obj.is_instance_of::<PyBytes>() {
            return Ok(Request::Bytes(borrow(obj)?));
        }
        if obj.hasattr("read")? {
            let data = obj.call_method0("read")?;
            if !data.is_instance_of::<PyBytes>() {
                return Err(Error::UnsupportedType(
                    "the file object's read() must return bytes (open it in 'rb' mode)".into(),
                )
                .into());
            }
            return Ok(Request::Bytes(borrow(&data)?));
        }
        if let Ok((buffer, _)) = crate::buffer::import::borrow_buffer(obj) {
            return Ok(Request::Bytes(Buffer::from_slice_ref(buffer.as_slice())));
        }
        Err(Error::UnsupportedType(format!(
            "expected a path, bytes or a binary file object, got {}",
            obj.get_type().name()?
        ))
        .into())
    }

    /// The bytes, mapped or read as `memory_map` asks (a path that is not a regular file, a pipe
    /// say, is read).
    pub(crate) fn open(self, memory_map: bool) -> Result<FileBytes> {
        match self {
            Request::Bytes(bytes) => Ok(FileBytes {
                bytes,
                origin: Origin::Memory,
            }),
            Request::Path(path) => open_path(&path, memory_map).map_err(|e| e.at(&path)),
        }
    }
}

/// A `bytes` object's memory as a buffer that keeps the object alive.
fn borrow(obj: &Bound<'_, PyAny>) -> PyResult<Buffer> {
    Ok(crate::buffer::import::borrow_buffer(obj)?.0)
}

fn open_path(path: &Path, memory_map: bool) -> Result<FileBytes> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    let origin = Origin::Path(path.to_path_buf());
    if metadata.len() == 0 {
        return Err(Error::Ipc(format!(
            "{}: the file is empty, not an Arrow IPC file or stream",
            path.display()
        )));
    }
    if memory_map && metadata.is_file() {
        // SAFETY: the mapping is read-only and private to colbridge: no Rust reference to it is
        // ever writable. Another process may still truncate or rewrite the file; a truncation
        // then makes reads past the new end raise SIGBUS (documented), as for any mapping, and
        // a rewrite changes the values under existing views, which is the contract of mapping
        // a file (callers who cannot rule it out pass memory_map=False).
        let map = unsafe { memmap2::Mmap::map(&file) }?;
        let len = map.len();
        let ptr = NonNull::new(map.as_ptr().cast_mut()).unwrap_or(NonNull::dangling());
        // SAFETY: `ptr` points to `len` readable bytes, mapped for as long as `map` lives; the
        // Buffer's owner is `map` itself, dropped (unmapped) with the last slice of the buffer.
        let bytes = unsafe { Buffer::from_custom_allocation(ptr, len, Arc::new(map)) };
        return Ok(FileBytes { bytes, origin });
    }
    let mut bytes = MutableBuffer::new(0);
    read_all(file, &mut bytes)?;
    Ok(FileBytes {
        bytes: bytes.into(),
        origin,
    })
}

/// Read a file into `out` (64-byte aligned, as Arrow buffers are), growing with what is read
/// rather than trusting the size the file system reports.
fn read_all(mut file: File, out: &mut MutableBuffer) -> std::io::Result<()> {
    const CHUNK: usize = 1 << 20;
    loop {
        let filled = out.len();
        out.resize(filled + CHUNK, 0);
        let n = loop {
            match file.read(&mut out.as_slice_mut()[filled..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    out.truncate(filled);
                    return Err(e);
                }
            }
        };
        out.truncate(filled + n);
        if n == 0 {
            return Ok(());
        }
    }
}

impl FileBytes {
    /// The file's name for messages: its path, or `<N bytes in memory>`.
    pub(crate) fn describe(&self) -> String {
        match &self.origin {
            Origin::Path(p) => p.display().to_string(),
            Origin::Memory => format!("<{} bytes in memory>", self.bytes.len()),
        }
    }

    /// Whether `buffer`'s bytes lie inside the file's bytes (it was not copied).
    pub(crate) fn contains(&self, buffer: &Buffer) -> bool {
        let start = self.bytes.as_ptr() as usize;
        let end = start + self.bytes.len();
        let at = buffer.as_ptr() as usize;
        buffer.is_empty() || (at >= start && at + buffer.len() <= end)
    }
}
