//! One error enum for the crate, mapped in one place onto the Python exception classes that
//! `colbridge.errors` defines (each also derives from the fitting builtin).

use std::fmt;

use arrow_schema::ArrowError;
use parquet::errors::ParquetError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// Everything that can go wrong inside colbridge's Rust core.
// `pub` rather than `pub(crate)` while `parquet`'s items are `pub` (private_interfaces).
#[derive(Debug)]
pub(crate) enum Error {
    /// A Python object colbridge cannot turn into Arrow data (`TypeError`).
    UnsupportedType(String),
    /// Values that do not fit the requested or inferred type (`ValueError`).
    InvalidInput(String),
    /// A cast that cannot be done, e.g. an unsatisfiable `requested_schema` (`ValueError`).
    Cast(String),
    /// Anything wrong with Arrow C data interface capsules (`TypeError`).
    Capsule(String),
    /// A writable view of read-only Arrow memory was requested (`BufferError`).
    ReadOnlyBuffer(String),
    /// A Parquet file colbridge cannot read: an unsupported feature, or anything not more
    /// specific below (`ParquetError`, a `ValueError`).
    Parquet(String),
    /// A Parquet file whose bytes contradict themselves or the format (`CorruptFileError`).
    Corrupt(String),
    /// A Parquet file refused by a resource limit (`LimitExceededError`).
    Limit(String),
    /// An Arrow IPC / Feather file colbridge cannot read: malformed bytes, or a feature it
    /// does not support (`ArrowIpcError`, a `ValueError`).
    Ipc(String),
    /// A read or conversion would need a copy where the caller forbade one (`ZeroCopyError`).
    ZeroCopy(String),
    /// An array DLPack cannot carry, or a device or protocol it cannot be exported to
    /// (`DLPackError`, a `BufferError` as the array API specifies).
    DLPack(String),
    /// Operating-system level I/O failure (`OSError`).
    Io(std::io::Error),
    /// An I/O failure on a named file: the `OSError` subclass its errno gives
    /// (`FileNotFoundError`, ...), with `filename` set.
    File(std::io::Error, std::path::PathBuf),
    /// An internal invariant of arrow-rs was violated (`ValueError`).
    Arrow(String),
    /// Object storage failed: the object or bucket is missing (`ObjectNotFoundError`, a
    /// `FileNotFoundError`), the credentials are refused (`StoragePermissionError`, a
    /// `PermissionError`), or anything else after the retries (`StorageError`, an `OSError`).
    /// The message names the URL and never a credential.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    Storage(StorageKind, String),
    /// The user interrupted a long operation (`KeyboardInterrupt`).
    Cancelled,
    /// An exception raised by Python code colbridge called (a producer's `__arrow_c_array__`,
    /// an adapter), passed through to the caller unchanged.
    Python(PyErr),
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of object-storage failure an `Error::Storage` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
pub(crate) enum StorageKind {
    NotFound,
    Permission,
    Other,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnsupportedType(m)
            | Error::InvalidInput(m)
            | Error::Cast(m)
            | Error::Capsule(m)
            | Error::ReadOnlyBuffer(m)
            | Error::Parquet(m)
            | Error::Corrupt(m)
            | Error::Limit(m)
            | Error::Ipc(m)
            | Error::ZeroCopy(m)
            | Error::DLPack(m)
            | Error::Arrow(m)
            | Error::Storage(_, m) => f.write_str(m),
            Error::Io(e) => write!(f, "{e}"),
            Error::File(e, path) => write!(f, "{}: {e}", path.display()),
            Error::Cancelled => f.write_str("interrupted"),
            Error::Python(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ArrowError> for Error {
    fn from(e: ArrowError) -> Self {
        match e {
            ArrowError::ParquetError(m) => Error::Corrupt(m),
            ArrowError::IoError(_, io) => Error::Io(io),
            ArrowError::CastError(m) => Error::Cast(m),
            ArrowError::ExternalError(inner) => match inner.downcast::<ParquetError>() {
                Ok(p) => Error::from(*p),
                Err(other) => match other.downcast::<Error>() {
                    Ok(ours) => *ours,
                    Err(other) => Error::Arrow(other.to_string()),
                },
            },
            other => Error::Arrow(other.to_string()),
        }
    }
}

/// Marks an `std::io::Error` as a failure to read the file itself (as opposed to, say, a
/// decompressor's error about the bytes it was given, which the parquet crate reports as an
/// `io::Error` too): only these become `OSError`.
#[derive(Debug)]
pub(crate) struct FileIo(pub(crate) std::io::Error);

impl fmt::Display for FileIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for FileIo {}

impl FileIo {
    /// `e` marked as the file's own I/O failure, keeping its kind.
    pub(crate) fn wrap(e: std::io::Error) -> std::io::Error {
        std::io::Error::new(e.kind(), FileIo(e))
    }
}

/// The file's own I/O error inside `e`, if that is what `e` is.
fn file_io(e: std::io::Error) -> std::result::Result<std::io::Error, std::io::Error> {
    if e.get_ref().is_some_and(|inner| inner.is::<FileIo>()) {
        return match e.into_inner().map(|inner| inner.downcast::<FileIo>()) {
            Some(Ok(marked)) => Ok(marked.0),
            Some(Err(other)) => Err(std::io::Error::other(other)),
            None => Err(std::io::Error::other("I/O error")),
        };
    }
    Err(e)
}

impl From<ParquetError> for Error {
    fn from(e: ParquetError) -> Self {
        match e {
            ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
                Ok(io) => match file_io(*io) {
                    Ok(io) => Error::Io(io),
                    Err(other) => Error::Corrupt(other.to_string()),
                },
                Err(other) => match other.downcast::<Error>() {
                    Ok(ours) => *ours,
                    Err(other) => Error::Corrupt(other.to_string()),
                },
            },
            ParquetError::NYI(m) => Error::Parquet(format!("not supported: {m}")),
            other => Error::Corrupt(other.to_string()),
        }
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error::Python(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn error_class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    let module =
        ERRORS_MODULE.get_or_try_init(py, || py.import("colbridge.errors").map(Bound::unbind))?;
    Ok(module.bind(py).getattr(name)?.cast_into::<PyType>()?)
}

impl Error {
    fn class_name(&self) -> &'static str {
        match self {
            Error::UnsupportedType(_) => "UnsupportedTypeError",
            Error::InvalidInput(_) | Error::Arrow(_) => "InvalidInputError",
            Error::Cast(_) => "CastError",
            Error::Capsule(_) => "CapsuleError",
            Error::ReadOnlyBuffer(_) => "ReadOnlyBufferError",
            Error::Parquet(_) => "ParquetError",
            Error::Corrupt(_) => "CorruptFileError",
            Error::Limit(_) => "LimitExceededError",
            Error::Ipc(_) => "ArrowIpcError",
            Error::ZeroCopy(_) => "ZeroCopyError",
            Error::DLPack(_) => "DLPackError",
            Error::Storage(StorageKind::NotFound, _) => "ObjectNotFoundError",
            Error::Storage(StorageKind::Permission, _) => "StoragePermissionError",
            Error::Storage(StorageKind::Other, _) => "StorageError",
            Error::Io(_) | Error::File(..) | Error::Cancelled | Error::Python(_) => "",
        }
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        match e {
            Error::Io(io) => return PyErr::from(io),
            Error::File(io, path) => return file_error(io, &path),
            Error::Cancelled => {
                return pyo3::exceptions::PyKeyboardInterrupt::new_err("interrupted")
            }
            Error::Python(e) => return e,
            _ => {}
        }
        let message = e.to_string();
        Python::attach(|py| match error_class(py, e.class_name()) {
            Ok(cls) => PyErr::from_type(cls, message),
            Err(err) => err,
        })
    }
}

impl Error {
    /// This error as a failure on the file at `path`: an I/O error then names the file.
    pub(crate) fn at(self, path: &std::path::Path) -> Error {
        match self {
            Error::Io(io) => Error::File(io, path.to_path_buf()),
            other => other,
        }
    }
}

/// `OSError(errno, strerror, filename)`, which Python turns into the subclass the errno names
/// (`FileNotFoundError`, `PermissionError`, ...), as `open()` raises it.
fn file_error(io: std::io::Error, path: &std::path::Path) -> PyErr {
    let Some(errno) = io.raw_os_error() else {
        return pyo3::exceptions::PyOSError::new_err(format!("{}: {io}", path.display()));
    };
    let text = io.to_string();
    let strerror = text
        .strip_suffix(&format!(" (os error {errno})"))
        .unwrap_or(&text)
        .to_string();
    pyo3::exceptions::PyOSError::new_err((errno, strerror, path.as_os_str().to_os_string()))
}

/// A malformed capsule (wrong name, NULL pointer), reported by pyo3 as a `PyErr`, as a
/// `CapsuleError` with pyo3's message. A producer's own exception is `Error::Python` instead.
pub(crate) fn capsule_error(e: PyErr) -> Error {
    Python::attach(|py| Error::Capsule(e.value(py).to_string()))
}

/// Turn a panic payload from a dependency into a readable message.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
