//! How a page decode stops early: a column this decoder does not handle goes back to arrow-rs
//! (`Fallback`), a corrupt one fails with an error naming what was wrong (`Failed`).

use parquet::errors::ParquetError;

use crate::error::Error;
use crate::parquet::parallel::{Panicked, TaskError};

/// Why a decode stopped early.
pub(crate) enum Halt {
    /// Something this module does not decode: the caller falls back to arrow-rs.
    Fallback,
    Failed(Error),
}

impl From<Error> for Halt {
    fn from(e: Error) -> Self {
        Halt::Failed(e)
    }
}

impl From<ParquetError> for Halt {
    fn from(e: ParquetError) -> Self {
        Halt::Failed(e.into())
    }
}

impl TaskError for Halt {
    fn panicked(panicked: Panicked) -> Self {
        corrupt(panicked.to_string())
    }
    fn unfinished() -> Self {
        corrupt("a decoding thread stopped early")
    }
    /// A corrupt file is reported as such, even where another row group fell back first.
    fn gives_way(&self) -> bool {
        matches!(self, Halt::Fallback)
    }
}

pub(crate) type Step<T = ()> = std::result::Result<T, Halt>;

pub(crate) fn corrupt(what: impl Into<String>) -> Halt {
    Halt::Failed(Error::Corrupt(what.into()))
}

pub(crate) fn short_page() -> Halt {
    corrupt("data page shorter than its values")
}
