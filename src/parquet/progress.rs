//! Progress and cancellation of a read, shared between the decoding threads and the Python
//! thread that waits for them. The decoders count the bytes they fetch from the file and stop
//! at their next fetch once `cancel` is set (Ctrl-C), so an interrupt is prompt and leaves no
//! half-built table behind.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
