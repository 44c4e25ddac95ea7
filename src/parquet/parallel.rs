//! Every call into the parquet crate runs under one panic guard (`guard`): some malformed pages
//! make it panic, and a panic must reach Python as a `ParquetError`, never as a crash (inside the
//! C stream's `get_next` callback it would abort the process).

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{panic_message, Error, Result};

/// A panic `guard` caught.
pub(crate) struct Panicked(String);

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the Parquet decoder failed on malformed data ({})",
            self.0
        )
    }
}

/// Run `f`, catching a panic.
pub(crate) fn guard<T>(f: impl FnOnce() -> T) -> std::result::Result<T, Panicked> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Panicked(panic_message(payload.as_ref())))
}

/// Run `f`, turning a panic inside the parquet crate into a `ParquetError` about `what`.
pub(crate) fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    guard(f).unwrap_or_else(|panicked| Err(Error::Parquet(format!("{what}: {panicked}"))))
}

pub(crate) fn context(what: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| match e {
        Error::Parquet(m) => Error::Parquet(format!("{what}: {m}")),
        Error::Arrow(m) => Error::Parquet(format!("{what}: {m}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_parquet_error_naming_what_was_read() {
        assert!(matches!(guard(|| 7), Ok(7)));
        let err = guarded("f.parquet", || -> Result<()> { panic!("MAX_VLQ_BYTE_LEN") });
        match err {
            Err(Error::Parquet(m)) => assert_eq!(
                m,
                "f.parquet: the Parquet decoder failed on malformed data (MAX_VLQ_BYTE_LEN)"
            ),
            _ => panic!("expected a ParquetError"),
        }
    }
}
