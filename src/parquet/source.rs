//! Where Parquet bytes come from: a path (each decoding thread opens its own handle, since
//! `File::try_clone` shares the cursor), bytes already in memory, or a seekable Python file
//! object read by ranges (never copied whole; `colbridge._sources.RangedFile` serialises the
//! seek + read pairs of parallel readers, taking the GIL for each).

use std::fs::File;
use std::path::PathBuf;

use bytes::Bytes;
use std::sync::Arc;

use parquet::errors::{ParquetError, Result as ParquetResult};
use parquet::file::reader::{ChunkReader, Length};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

use crate::adapters::Adapter;
use crate::error::{Error, FileIo, Result};
use crate::progress::Progress;

#[derive(Clone, Debug)]
pub(crate) enum Source {
    Path(PathBuf),
    Memory(Bytes),
    FileObject(Arc<FileObject>),
    /// An object in a store (`crate::remote`), opened from Python as a `RemoteFile`.
    #[cfg(feature = "remote")]
    Remote(Arc<crate::remote::RemoteFile>),
}

/// A seekable binary file object behind `colbridge._sources.RangedFile` (its `read_at`).
#[derive(Debug)]
pub(crate) struct FileObject {
    reader: Py<PyAny>,
    len: u64,
}

impl FileObject {
    /// `length` bytes from `start`, read under the GIL; the file object's own exception passes
    /// through unchanged.
    fn read_at(&self, start: u64, length: usize) -> ParquetResult<Bytes> {
        Python::attach(|py| {
            let data = self
                .reader
                .bind(py)
                .call_method1("read_at", (start, length))?;
            let bytes = data.cast::<PyBytes>().map_err(PyErr::from)?;
            Ok(Bytes::copy_from_slice(bytes.as_bytes()))
        })
        .map_err(|e: PyErr| ParquetError::External(Box::new(Error::Python(e))))
    }
}

/// One independent reader over a `Source`, optionally reporting to a `Progress`.
pub(crate) struct Handle {
    kind: HandleKind,
    progress: Option<Arc<Progress>>,
}

enum HandleKind {
    File(File),
    Memory(Bytes),
    FileObject(Arc<FileObject>),
    #[cfg(feature = "remote")]
    Remote(Arc<crate::remote::RemoteFile>),
}

impl Source {
    /// A path (`str`/`os.PathLike`), bytes or a buffer-protocol object, or a binary file object.
    pub(crate) fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        #[cfg(feature = "remote")]
        if let Ok(remote) = obj.cast::<crate::remote::PyRemoteFile>() {
            return Ok(Source::Remote(remote.get().inner.clone()));
        }
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
            // A seekable file object is read by ranges; a stream (a pipe, a socket) whole.
            let ranged = Adapter::RangedFile.call(obj.py(), (obj,), None)?;
            if !ranged.is_none() {
                let len: u64 = ranged.getattr("size")?.extract()?;
                let reader = ranged.unbind();
                return Ok(Source::FileObject(Arc::new(FileObject { reader, len })));
            }
            let data = obj.call_method0("read")?;
            let bytes = data.cast::<PyBytes>().map_err(|_| {
                Error::UnsupportedType(
                    "file object's read() must return bytes (open it in 'rb' mode)".into(),
                )
            })?;
            return Ok(Source::Memory(Bytes::copy_from_slice(bytes.as_bytes())));
        }
        if let Ok((buffer, _)) = crate::buffer::import::borrow_buffer(obj) {
            return Ok(Source::Memory(Bytes::copy_from_slice(buffer.as_slice())));
        }
        Err(Error::UnsupportedType(format!(
            "expected a path, bytes, a buffer or a binary file object, got {}",
            obj.get_type().name()?
        ))
        .into())
    }

    pub(crate) fn open(&self) -> Result<Handle> {
        self.open_with(None)
    }

    /// A handle that counts the bytes it fetches into `progress` and fails its next fetch once
    /// the read is cancelled.
    pub(crate) fn open_with(&self, progress: Option<Arc<Progress>>) -> Result<Handle> {
        let kind = match self {
            Source::Path(p) => {
                let file = File::open(p).map_err(|e| {
                    Error::Io(std::io::Error::new(
                        e.kind(),
                        format!("{}: {e}", p.display()),
                    ))
                })?;
                // Opening a directory succeeds on Unix; reading it is what fails, without a path.
                if file.metadata().is_ok_and(|m| m.is_dir()) {
                    let eisdir = std::io::Error::from_raw_os_error(libc::EISDIR);
                    return Err(Error::File(eisdir, p.clone()));
                }
                HandleKind::File(file)
            }
            Source::Memory(b) => HandleKind::Memory(b.clone()),
            Source::FileObject(f) => HandleKind::FileObject(f.clone()),
            #[cfg(feature = "remote")]
            Source::Remote(r) => HandleKind::Remote(r.clone()),
        };
        Ok(Handle { kind, progress })
    }

    /// Where every fetch is a round trip (object storage): start fetching the byte ranges a
    /// read is about to touch (`ranges`, computed only there), in that order. Those of the read
    /// proper (`releasable`, not a filter's) are dropped as the decoders finish them (`done`).
    /// Elsewhere nothing to do.
    pub(crate) fn prefetch(
        &self,
        ranges: impl FnOnce() -> Vec<std::ops::Range<u64>>,
        releasable: bool,
    ) -> Result<()> {
        match self {
            #[cfg(feature = "remote")]
            Source::Remote(r) => r.prefetch(ranges(), releasable),
            _ => {
                let _ = (ranges, releasable);
                Ok(())
            }
        }
    }

    /// Where the file's column chunks begin and end (`offsets`, computed only where used): a
    /// remote source's read-ahead stops at the next one.
    pub(crate) fn boundaries(&self, offsets: impl FnOnce() -> Vec<u64>) {
        #[cfg(feature = "remote")]
        if let Source::Remote(r) = self {
            r.set_boundaries(offsets());
            return;
        }
        let _ = offsets;
    }

    /// The decoders are done with the bytes `range` (a column chunk): what `prefetch` fetched
    /// for them may go.
    pub(crate) fn done(&self, range: std::ops::Range<u64>) {
        #[cfg(feature = "remote")]
        if let Source::Remote(r) = self {
            r.done(range.clone());
        }
        let _ = range;
    }

    /// After a read: drop what `prefetch` fetched for it (stopping what is still in flight).
    pub(crate) fn release(&self) {
        #[cfg(feature = "remote")]
        if let Source::Remote(r) = self {
            r.release();
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Memory(b) => format!("<{} bytes in memory>", b.len()),
            Source::FileObject(f) => format!("<file object of {} bytes>", f.len),
            #[cfg(feature = "remote")]
            Source::Remote(r) => r.url().to_string(),
        }
    }
}

impl Length for Handle {
    fn len(&self) -> u64 {
        match &self.kind {
            HandleKind::File(f) => f.len(),
            HandleKind::Memory(b) => b.len() as u64,
            HandleKind::FileObject(f) => f.len,
            #[cfg(feature = "remote")]
            HandleKind::Remote(r) => r.size(),
        }
    }
}

impl Handle {
    /// The decoders are done with the bytes `range` (`Source::done`).
    pub(crate) fn done(&self, range: std::ops::Range<u64>) {
        #[cfg(feature = "remote")]
        if let HandleKind::Remote(r) = &self.kind {
            r.done(range.clone());
        }
        let _ = range;
    }

    fn check_cancelled(&self) -> ParquetResult<()> {
        match &self.progress {
            Some(p) if p.cancelled() => Err(ParquetError::General(CANCELLED.into())),
            _ => Ok(()),
        }
    }
}

/// The message of the error a cancelled fetch returns.
pub(crate) const CANCELLED: &str = "read cancelled";

impl ChunkReader for Handle {
    type T = Box<dyn std::io::Read + Send>;

    fn get_read(&self, start: u64) -> ParquetResult<Self::T> {
        self.check_cancelled()?;
        self.check_range(start, 0)?;
        Ok(match &self.kind {
            HandleKind::File(f) => Box::new(FileRead(f.get_read(start).map_err(file_error)?)),
            HandleKind::Memory(b) => Box::new(b.get_read(start)?),
            HandleKind::FileObject(f) => Box::new(std::io::BufReader::with_capacity(
                FILE_OBJECT_READ,
                FileObjectRead {
                    file: f.clone(),
                    pos: start,
                },
            )),
            #[cfg(feature = "remote")]
            HandleKind::Remote(r) => Box::new(RemoteRead {
                file: r.clone(),
                pos: start,
                progress: self.progress.clone(),
            }),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> ParquetResult<Bytes> {
        self.check_cancelled()?;
        // Every range a reader asks for (a footer's, a page index's, a page's) lies in the file:
        // a lying length is refused here, before the parquet crate reserves it.
        self.check_range(start, length)?;
        let bytes = match &self.kind {
            HandleKind::File(f) => f.get_bytes(start, length).map_err(file_error)?,
            HandleKind::Memory(b) => b.get_bytes(start, length)?,
            HandleKind::FileObject(f) => f.read_at(start, length)?,
            #[cfg(feature = "remote")]
            HandleKind::Remote(r) => {
                let cancelled = || self.progress.as_ref().is_some_and(|p| p.cancelled());
                r.get(start..start + length as u64, &cancelled)
                    .map_err(|e| ParquetError::External(Box::new(e)))?
            }
        };
        if let Some(p) = &self.progress {
            p.add(bytes.len() as u64);
        }
        Ok(bytes)
    }
}

impl Handle {
    fn check_range(&self, start: u64, length: usize) -> ParquetResult<()> {
        let end = u64::try_from(length)
            .ok()
            .and_then(|n| start.checked_add(n));
        match end {
            Some(end) if end <= Length::len(self) => Ok(()),
            _ => Err(ParquetError::General(format!(
                "the file's metadata points at bytes {start}..{} past its end ({} bytes)",
                start.saturating_add(length as u64),
                Length::len(self)
            ))),
        }
    }
}

/// A read of the file that failed is an `OSError`; the parquet crate's own errors about what
/// the bytes mean are not.
fn file_error(e: ParquetError) -> ParquetError {
    match e {
        ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
            Ok(io) => ParquetError::External(Box::new(FileIo::wrap(*io))),
            Err(other) => ParquetError::External(other),
        },
        other => other,
    }
}

/// A file reader whose failures are marked as the file's own (`FileIo`).
struct FileRead<R>(R);

impl<R: std::io::Read> std::io::Read for FileRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(FileIo::wrap)
    }
}

/// The size of each call into a file object when the parquet crate streams from it.
const FILE_OBJECT_READ: usize = 1 << 16;

/// A file object read sequentially from `pos`, one `read_at` per buffer.
struct FileObjectRead {
    file: Arc<FileObject>,
    pos: u64,
}

impl std::io::Read for FileObjectRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.file.len.saturating_sub(self.pos);
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(0);
        }
        let bytes = self
            .file
            .read_at(self.pos, n)
            .map_err(|e| FileIo::wrap(std::io::Error::other(e)))?;
        let got = bytes.len().min(n);
        buf[..got].copy_from_slice(&bytes[..got]);
        self.pos += got as u64;
        Ok(got)
    }
}

/// An object read sequentially from `pos`, from the runs its `RemoteFile` holds (a byte
/// nothing planned is fetched with a read-ahead, so a stream costs one request per MiB).
#[cfg(feature = "remote")]
struct RemoteRead {
    file: Arc<crate::remote::RemoteFile>,
    pos: u64,
    progress: Option<Arc<Progress>>,
}

#[cfg(feature = "remote")]
impl std::io::Read for RemoteRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.file.size().saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left);
        if n == 0 {
            return Ok(0);
        }
        let cancelled = || self.progress.as_ref().is_some_and(|p| p.cancelled());
        let bytes = self
            .file
            .get(self.pos..self.pos + n, &cancelled)
            .map_err(std::io::Error::other)?;
        buf[..bytes.len()].copy_from_slice(&bytes);
        self.pos += bytes.len() as u64;
        Ok(bytes.len())
    }
}
