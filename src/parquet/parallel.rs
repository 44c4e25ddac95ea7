//! Every call into the parquet crate runs under `catch_unwind`: some malformed pages make it
//! panic, and a panic must reach Python as a `ParquetError`, never as a crash.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{panic_message, Error, Result};

/// Run `f`, turning a panic inside the parquet crate into a `ParquetError`.
pub(crate) fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Error::Parquet(format!(
            "{what}: the Parquet decoder failed on malformed data ({})",
            panic_message(payload.as_ref())
        ))),
    }
}

pub(crate) fn context(what: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| match e {
        Error::Parquet(m) => Error::Parquet(format!("{what}: {m}")),
        Error::Arrow(m) => Error::Parquet(format!("{what}: {m}")),
        other => other,
    }
}
