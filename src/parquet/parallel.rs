//! The one work queue and the one panic guard of a read.
//!
//! `map` runs tasks (a read's columns; a column's row groups) on a few threads, each taking the
//! next task as it finishes one, so a large column does not hold up the small ones.
//!
//! Every call into the parquet crate runs under `guard`: some malformed pages make it panic, and
//! a panic must reach Python as a `ParquetError`, never as a crash (inside the C stream's
//! `get_next` callback it would abort the process).

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

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
    guard(f).unwrap_or_else(|panicked| Err(Error::Corrupt(format!("{what}: {panicked}"))))
}

/// An error a task of `map` can fail with.
pub(crate) trait TaskError: Send {
    /// The error of a task that panicked.
    fn panicked(panicked: Panicked) -> Self;
    /// The error when a task's result is missing: the queue was cancelled before it ran.
    fn unfinished() -> Self;
    /// Whether a later task's error takes this one's place (a fallback gives way to an error).
    fn gives_way(&self) -> bool {
        false
    }
}

impl TaskError for Error {
    fn panicked(panicked: Panicked) -> Self {
        Error::Corrupt(panicked.to_string())
    }
    fn unfinished() -> Self {
        Error::Cancelled
    }
}

/// `f` over `tasks` on up to `threads` threads (on this thread where one would do), each task
/// under `guard`: the results in the tasks' order, or the first error. No task starts once one
/// has failed or `cancel` is set.
pub(crate) fn map<T: Send, R: Send, E: TaskError>(
    tasks: Vec<T>,
    threads: usize,
    cancel: Option<&AtomicBool>,
    f: impl Fn(T) -> std::result::Result<R, E> + Sync,
) -> std::result::Result<Vec<R>, E> {
    let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let attempt = |task| guard(|| f(task)).unwrap_or_else(|panicked| Err(E::panicked(panicked)));
    let n = tasks.len();
    if threads <= 1 || n <= 1 {
        return tasks
            .into_iter()
            .map(|task| match cancelled() {
                true => Err(E::unfinished()),
                false => attempt(task),
            })
            .collect();
    }
    let queue = Mutex::new(tasks.into_iter().enumerate());
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    let failed: Mutex<Option<E>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..threads.min(n) {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) && !cancelled() {
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some((i, task)) = next else { break };
                    match attempt(task) {
                        Ok(r) => {
                            if let Ok(mut all) = results.lock() {
                                if let Some(slot) = all.get_mut(i) {
                                    *slot = Some(r);
                                }
                            }
                        }
                        Err(e) => {
                            stop.store(true, Ordering::Relaxed);
                            if let Ok(mut first) = failed.lock() {
                                if first.as_ref().is_none_or(E::gives_way) {
                                    *first = Some(e);
                                }
                            }
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    results
        .into_inner()
        .ok()
        .and_then(|all| all.into_iter().collect::<Option<Vec<R>>>())
        .ok_or_else(E::unfinished)
}

/// Errors of reading `what`, said so.
pub(crate) fn context(what: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| match e {
        Error::Parquet(m) => Error::Parquet(format!("{what}: {m}")),
        Error::Corrupt(m) | Error::Arrow(m) => Error::Corrupt(format!("{what}: {m}")),
        Error::Limit(m) => Error::Limit(format!("{what}: {m}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_the_tasks_order_on_any_number_of_threads() {
        for threads in [1, 2, 8] {
            let out = map((0..100).collect(), threads, None, |i: u32| -> Result<u32> {
                Ok(i * 2)
            });
            assert_eq!(out.ok(), Some((0..100).map(|i| i * 2).collect()));
        }
    }

    #[test]
    fn map_fails_with_a_panicking_task_and_starts_nothing_once_cancelled() {
        for threads in [1, 2] {
            let out = map(vec![1, 2, 3], threads, None, |i: u32| -> Result<u32> {
                if i == 2 {
                    panic!("boom");
                }
                Ok(i)
            });
            assert!(matches!(out, Err(Error::Corrupt(m)) if m.ends_with("malformed data (boom)")));
            let cancel = AtomicBool::new(true);
            let out = map(
                vec![1, 2, 3],
                threads,
                Some(&cancel),
                |i: u32| -> Result<u32> { Ok(i) },
            );
            assert!(matches!(out, Err(Error::Cancelled)));
        }
    }

    #[test]
    fn a_panic_becomes_a_parquet_error_naming_what_was_read() {
        assert!(matches!(guard(|| 7), Ok(7)));
        let err = guarded("f.parquet", || -> Result<()> { panic!("MAX_VLQ_BYTE_LEN") });
        match err {
            Err(Error::Corrupt(m)) => assert_eq!(
                m,
                "f.parquet: the Parquet decoder failed on malformed data (MAX_VLQ_BYTE_LEN)"
            ),
            _ => panic!("expected a ParquetError"),
        }
    }
}
