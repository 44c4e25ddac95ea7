//! What a `RemoteFile` holds of its object: the tail fetched when it was opened and the runs
//! fetched since (queued, in flight, arrived, failed or released), and how a range is found
//! among them.

use std::ops::Range;
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use tokio::task::JoinHandle;

use super::UNPLANNED_KEPT;
use crate::error::StorageKind;

#[derive(Default)]
pub(super) struct Cache {
    /// The opening suffix GET's bytes, kept for every read.
    pub(super) tail: Option<(u64, Bytes)>,
    /// Runs fetched or in flight, in no particular order.
    pub(super) runs: Vec<Run>,
    /// The prefetch tasks of the read (its filter's, then its own), stopped when it ends.
    pub(super) prefetch: Vec<JoinHandle<()>>,
}

pub(super) struct Run {
    pub(super) range: Range<u64>,
    pub(super) state: State,
    /// A run of the read proper (not of its filter's columns): dropped once decoded, and
    /// counted against the read's memory budget.
    pub(super) releasable: bool,
    /// The parts of it the decoders are done with (merged).
    pub(super) done: Vec<Range<u64>>,
    /// Fetched on demand rather than planned (kept only while recent: `Cache::trim`).
    pub(super) unplanned: bool,
    /// Queued behind the read's budget, which frees room only as its pieces are decoded: a
    /// decoder that needs it fetches it itself. Any other queued piece is on its way (its
    /// request waits only for a free slot), and a decoder waits for it.
    pub(super) budgeted: bool,
    /// A decoder waits for it: its request goes on filling pieces past the read's window.
    pub(super) wanted: bool,
    /// Its request is filling it (counted against the read's window while in flight).
    pub(super) started: bool,
}

pub(super) enum State {
    /// Planned, not yet asked for (the budget holds it back).
    Queued,
    InFlight,
    Ready(Bytes),
    Failed(StorageKind, String),
    /// Decoded and dropped; asked for again, it is fetched again.
    Released,
}

pub(super) fn lock(m: &Mutex<Cache>) -> MutexGuard<'_, Cache> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(super) enum Found {
    Ready(Bytes),
    Pending,
    Failed(StorageKind, String),
}

/// A piece of the object a `Cache` holds.
pub(super) enum Held<'a> {
    Tail(&'a Bytes),
    Run(&'a State),
}

impl Held<'_> {
    /// The bytes `at` of this piece, which starts at `start`, if they have arrived.
    fn slice(&self, start: u64, at: &Range<u64>) -> Option<Bytes> {
        let from = (at.start - start) as usize;
        let len = (at.end - at.start) as usize;
        match *self {
            Held::Tail(b) | Held::Run(State::Ready(b)) => Some(b.slice(from..from + len)),
            Held::Run(_) => None,
        }
    }

    fn failed(&self) -> Option<Found> {
        match self {
            Held::Run(State::Failed(kind, message)) => Some(Found::Failed(*kind, message.clone())),
            _ => None,
        }
    }
}

impl Cache {
    /// Drop the oldest runs fetched on demand while they hold more than `UNPLANNED_KEPT`
    /// (a stream through a file, `iter_batches`, would otherwise keep all of it).
    pub(super) fn trim(&mut self) {
        let held = |runs: &[Run]| -> u64 {
            runs.iter()
                .filter(|r| r.unplanned && matches!(r.state, State::Ready(_)))
                .map(|r| r.range.end - r.range.start)
                .sum()
        };
        while held(&self.runs) > UNPLANNED_KEPT {
            let Some(oldest) = self
                .runs
                .iter()
                .position(|r| r.unplanned && matches!(r.state, State::Ready(_)))
            else {
                break;
            };
            self.runs.remove(oldest);
        }
    }

    /// The pieces held (the tail and the runs, arrived or in flight), by start.
    pub(super) fn pieces(&self) -> Vec<(Range<u64>, Held<'_>)> {
        let mut out: Vec<(Range<u64>, Held<'_>)> = self
            .runs
            .iter()
            .filter(|run| !matches!(run.state, State::Released))
            .map(|run| (run.range.clone(), Held::Run(&run.state)))
            .collect();
        if let Some((start, bytes)) = &self.tail {
            out.push((*start..start + bytes.len() as u64, Held::Tail(bytes)));
        }
        out.sort_by_key(|(r, _)| r.start);
        out
    }

    /// What holds `range`: one piece (a slice of it), or several ready pieces (joined, which
    /// copies: a page that straddles two runs), or a run still in flight; `None` if some byte
    /// of it is held nowhere.
    pub(super) fn find(&self, range: &Range<u64>) -> Option<Found> {
        let pieces = self.pieces();
        // One piece holding all of it: arrived ones first.
        let mut pending = false;
        for (piece, held) in &pieces {
            if piece.start <= range.start && range.end <= piece.end {
                if let Some(bytes) = held.slice(piece.start, range) {
                    return Some(Found::Ready(bytes));
                }
                if let Some(failed) = held.failed() {
                    return Some(failed);
                }
                pending = true;
            }
        }
        if pending {
            return Some(Found::Pending);
        }
        // Several pieces end to end.
        let mut parts = Vec::new();
        let mut at = range.start;
        while at < range.end {
            let (piece, held) = pieces
                .iter()
                .filter(|(p, _)| p.start <= at && at < p.end)
                .max_by_key(|(p, _)| p.end)?;
            let end = piece.end.min(range.end);
            match held.slice(piece.start, &(at..end)) {
                Some(bytes) => parts.push(bytes),
                None => return Some(held.failed().unwrap_or(Found::Pending)),
            }
            at = end;
        }
        Some(Found::Ready(Bytes::from(parts.concat())))
    }

    /// `ranges` without the bytes already held or in flight.
    pub(super) fn missing(&self, ranges: Vec<Range<u64>>) -> Vec<Range<u64>> {
        let held: Vec<Range<u64>> = self.pieces().into_iter().map(|(r, _)| r).collect();
        let mut out = Vec::new();
        for r in ranges {
            let mut left = vec![r];
            for h in &held {
                left = left
                    .into_iter()
                    .flat_map(|l| {
                        [l.start..l.end.min(h.start), l.start.max(h.end)..l.end]
                            .into_iter()
                            .filter(|p| p.start < p.end)
                    })
                    .collect();
            }
            out.extend(left);
        }
        out
    }
}
