//! Progress and cancellation of a read, shared between the decoding threads and the Python
//! thread that waits for them. The decoders count the bytes they fetch from the file and stop
//! at their next fetch once `cancel` is set (Ctrl-C), so an interrupt is prompt and leaves no
//! half-built table behind.
//!
//! `wait_interruptibly` runs such work (a read, a write) on its own thread while the Python
//! thread waits without the GIL and delivers Ctrl-C and progress callbacks.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;

#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Bytes of column chunks fetched so far.
    pub(crate) done: AtomicU64,
    /// Bytes of column chunks the read will fetch (compressed sizes from the footer).
    pub(crate) total: AtomicU64,
    /// Set to stop the read.
    pub(crate) cancel: AtomicBool,
}

impl Progress {
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub(crate) fn add(&self, bytes: u64) {
        self.done.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// Run `work` on a decoding thread while this (Python) thread waits without the GIL, waking
/// every 100 ms to deliver Ctrl-C (a `KeyboardInterrupt` cancels the work: a read stops at its
/// next fetch from the file, a write before its next slice) and to call
/// `on_progress(done_bytes, total_bytes)`.
pub(crate) fn wait_interruptibly<T: Send>(
    py: Python<'_>,
    progress: &Arc<Progress>,
    on_progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce() -> crate::error::Result<T> + Send,
) -> PyResult<T> {
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel();
        // `Builder` rather than `scope.spawn`, which panics when no thread can be created.
        std::thread::Builder::new()
            .spawn_scoped(scope, move || {
                // The receiver outlives this scope's threads, so the send cannot fail.
                let _ = tx.send(work());
            })
            .map_err(crate::error::Error::Io)?;
        let rx = Mutex::new(rx);
        let mut interrupt: Option<PyErr> = None;
        // A first, short wait lets fast reads finish; then wake 10 times a second.
        let mut wait = Duration::from_millis(20);
        loop {
            let received = py.detach(|| match rx.lock() {
                Ok(rx) => rx.recv_timeout(wait),
                Err(_) => Err(mpsc::RecvTimeoutError::Disconnected),
            });
            match received {
                Ok(result) => {
                    if let Some(err) = interrupt {
                        return Err(err);
                    }
                    if let Some(cb) = on_progress {
                        // Finished: the bytes really fetched are the total (pruning may have
                        // skipped some of the planned ones).
                        let (done, _) = progress.snapshot();
                        cb.call1((done, done))?;
                    }
                    return Ok(result?);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => wait = Duration::from_millis(100),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(
                        crate::error::Error::Parquet("a decoding thread died".into()).into(),
                    );
                }
            }
            if interrupt.is_some() {
                continue;
            }
            let step = py.check_signals().and_then(|()| match on_progress {
                Some(cb) => cb.call1(progress.snapshot()).map(drop),
                None => Ok(()),
            });
            if let Err(err) = step {
                progress.cancel.store(true, Ordering::Relaxed);
                interrupt = Some(err);
            }
        }
    })
}
