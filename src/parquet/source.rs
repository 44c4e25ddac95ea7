//! Where Parquet bytes come from: a path (each decoding thread opens its own handle, since
//! `File::try_clone` shares the cursor) or bytes already in memory.

use std::fs::File;
use std::path::PathBuf;

use bytes::Bytes;
use parquet::errors::Result as ParquetResult;
use parquet::file::reader::{ChunkReader, Length};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub enum Source {
    Path(PathBuf),
    Memory(Bytes),
}

/// One independent reader over a `Source`.
pub enum Handle {
    File(File),
    Memory(Bytes),
}

impl Source {
    /// A path (`str`/`os.PathLike`), bytes or a buffer-protocol object, or a binary file object.
    pub fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Source::Memory(Bytes::copy_from_slice(b.as_bytes())));
        }
        if let Ok(b) = obj.cast::<PyByteArray>() {
            return Ok(Source::Memory(Bytes::from(b.to_vec())));
        }
        if obj.hasattr("__fspath__")? || obj.is_instance_of::<pyo3::types::PyString>() {
            let path: PathBuf = obj
                .py()
                .import("os")?
                .call_method1("fspath", (obj,))?
                .extract()?;
            return Ok(Source::Path(path));
        }
        if obj.hasattr("read")? {
            let data = obj.call_method0("read")?;
            let bytes = data.cast::<PyBytes>().map_err(|_| {
                Error::UnsupportedType(
                    "file object's read() must return bytes (open it in 'rb' mode)".into(),
                )
            })?;
            return Ok(Source::Memory(Bytes::copy_from_slice(bytes.as_bytes())));
        }
        if let Ok((buffer, _)) = crate::array::from_buffer::borrow_buffer(obj) {
            return Ok(Source::Memory(Bytes::copy_from_slice(buffer.as_slice())));
        }
        Err(Error::UnsupportedType(format!(
            "expected a path, bytes, a buffer or a binary file object, got {}",
            obj.get_type().name()?
        ))
        .into())
    }

    pub fn open(&self) -> Result<Handle> {
        match self {
            Source::Path(p) => File::open(p).map(Handle::File).map_err(|e| {
                Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("{}: {e}", p.display()),
                ))
            }),
            Source::Memory(b) => Ok(Handle::Memory(b.clone())),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Memory(b) => format!("<{} bytes in memory>", b.len()),
        }
    }

    pub fn len(&self) -> Result<u64> {
        match self {
            Source::Path(p) => Ok(std::fs::metadata(p)?.len()),
            Source::Memory(b) => Ok(b.len() as u64),
        }
    }
}

impl Length for Handle {
    fn len(&self) -> u64 {
        match self {
            Handle::File(f) => f.len(),
            Handle::Memory(b) => b.len() as u64,
        }
    }
}

impl ChunkReader for Handle {
    type T = Box<dyn std::io::Read + Send>;

    fn get_read(&self, start: u64) -> ParquetResult<Self::T> {
        Ok(match self {
            Handle::File(f) => Box::new(f.get_read(start)?),
            Handle::Memory(b) => Box::new(b.get_read(start)?),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> ParquetResult<Bytes> {
        match self {
            Handle::File(f) => f.get_bytes(start, length),
            Handle::Memory(b) => b.get_bytes(start, length),
        }
    }
}
