//! Parquet files in object storage (`s3://`, `gs://`, `az://`, `abfs(s)://`, `http(s)://`),
//! read through arrow-rs' `object_store` crate.
//!
//! A `RemoteFile` opens with **one suffix GET** (`Range: bytes=-N`) that returns the object's
//! size and its tail together: the footer and, as writers place it, the page index (a footer
//! larger than the hint costs one more request). A read then hands its planned ranges
//! (`parquet::ranges`: the selected chunks, or only the selected pages) to `prefetch`, which
//! merges them into requests and fetches them on a shared tokio runtime with `concurrency`
//! requests in flight. Each response is streamed into pieces (cut where chunks begin and end,
//! 4 to 16 MiB); decoding threads ask for bytes as from any file (`ChunkReader`) and wait
//! only for the piece that holds them, so decoding starts as soon as the first piece arrives,
//! and each piece goes as soon as the decoders are past it. A response is read on only while
//! the pieces not yet decoded fit a window, or as far as a decoder waits for. Bytes nothing
//! planned (a filter's own columns, a stray header) are fetched on demand with a read-ahead.
//! After the read the pieces are dropped; the tail stays for the next read.
//!
//! `store` builds the store and words its errors, `cache` keeps the runs, `coalesce` turns
//! ranges into requests and pieces, `piece` holds a piece's bytes, `py` is the Python side
//! (`RemoteFile`, `list_objects`).

mod cache;
mod coalesce;
mod piece;
mod py;
mod store;

pub(crate) use py::{list_objects, PyRemoteFile};

use std::ops::Range;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use tokio::runtime::Runtime;
use url::Url;

use crate::error::{Error, Result, StorageKind};
use cache::{lock, Cache, Found, Run, State};
use coalesce::Coalesce;
use piece::Piece;

/// How a remote file is read; `storage_options` keys colbridge takes itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Requests in flight at once.
    pub(crate) concurrency: usize,
    /// The bytes the opening suffix GET asks for: enough for the footer and page index of most
    /// files (DataFusion asks for 512 KiB); a larger footer costs one more request.
    pub(crate) metadata_size_hint: u64,
    /// Retries of a failed request (with exponential backoff from 100 ms).
    pub(crate) retries: usize,
    /// Bytes a read may ask for ahead of its decoders. `None` (the default): no bound on the
    /// requests; every run is asked for at once in file order, in the fewest requests, and its
    /// bytes are kept in pieces (`PIECES`) that go as soon as the decoders are past them. Each
    /// response is read only while the pieces fetched and not yet decoded fit a window of
    /// `WINDOW_PIECES` pieces, or as far as a decoder waits for (`admit`): a network faster
    /// than decoding waits rather than fill memory. `Some(budget)`: runs are asked for in the
    /// decoders' order, chunk by chunk, while those fetched and not yet decoded fit the
    /// budget, at the cost of a request per chunk (for a store that drops connections left
    /// waiting).
    pub(crate) prefetch_bytes: Option<u64>,
    pub(crate) coalesce: Coalesce,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: 8,
            metadata_size_hint: 64 << 10,
            retries: 4,
            prefetch_bytes: None,
            coalesce: Coalesce::default(),
        }
    }
}

/// The read-ahead of a fetch nothing planned.
const READ_AHEAD: u64 = 1 << 20;

/// The bytes of runs fetched on demand kept for reuse.
const UNPLANNED_KEPT: u64 = 16 << 20;

/// The longest request of a read without a `prefetch_bytes` budget (longer ones are split,
/// so that a large read has a few requests in flight).
const LARGE_RUN: u64 = 64 << 20;

/// The pieces a request's bytes are kept in (`coalesce::pieces`), each what the decoders wait
/// for before they start on it and the unit dropped once they are past it: at most about
/// `PIECES` to a read (a cache of fewer pieces is quicker to search), of `PIECE_MIN` to
/// `PIECE_MAX` bytes. 1 MiB pieces measured no lower peak than 4 MiB ones on
/// `benches/s3_read.py`, and a page straddling two pieces is copied out of them. Each piece is
/// a mapping of its own (`piece::Piece`), unmapped when it is dropped.
const PIECES: u64 = 512;
const PIECE_MIN: u64 = 4 << 20;
const PIECE_MAX: u64 = 16 << 20;

/// The pieces a read without a budget keeps fetched ahead of its decoders (`admit`): beyond
/// them, a request goes on only as far as a decoder waits for. Windows of 1 and 2 MiB (of 1
/// MiB pieces) measured no lower peak than 16 MiB on `benches/s3_read.py`, and were slower.
const WINDOW_PIECES: u64 = 4;

/// One object in a store, with the runs of it fetched so far.
pub(crate) struct RemoteFile {
    /// The URL as given, without a password or query.
    url: String,
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
    settings: Settings,
    /// Credentials the user gave, blanked out of every message.
    secrets: Vec<String>,
    cache: Mutex<Cache>,
    arrived: Condvar,
    /// Signalled when held runs go (decoded, failed or dropped) or a decoder waits for a piece:
    /// the budget or the window may have room.
    freed: tokio::sync::Notify,
    /// Where the file's column chunks begin and end, sorted (`set_boundaries`).
    boundaries: Mutex<Vec<u64>>,
}

impl std::fmt::Debug for RemoteFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RemoteFile({}, {} bytes)", self.url, self.size)
    }
}

/// The runtime every remote read shares (two I/O threads; requests are I/O-bound).
fn runtime() -> Result<&'static Runtime> {
    static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("colbridge-io")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Storage(StorageKind::Other, format!("cannot start I/O threads: {e}")))
}

impl RemoteFile {
    /// Open `url`: build its store from `options` (object_store's own keys) and fetch its tail.
    pub(crate) fn open(
        url: &str,
        options: Vec<(String, String)>,
        secrets: Vec<String>,
        settings: Settings,
    ) -> Result<Arc<Self>> {
        let parsed = Url::parse(url).map_err(|e| {
            Error::InvalidInput(format!(
                "{url}: not a URL ({e}); colbridge reads {}",
                store::SCHEMES
            ))
        })?;
        let shown = store::url_for_messages(&parsed);
        let (store, path) = store::open(&parsed, &options, settings.retries)?;
        Self::open_in(shown, store, path, settings, secrets)
    }

    /// Open the object at `path` in `store` (`shown` as its URL): fetch its size and tail.
    fn open_in(
        shown: String,
        store: Arc<dyn ObjectStore>,
        path: Path,
        settings: Settings,
        secrets: Vec<String>,
    ) -> Result<Arc<Self>> {
        let hint = settings.metadata_size_hint.max(8);
        let get = GetOptions {
            range: Some(GetRange::Suffix(hint)),
            ..GetOptions::default()
        };
        let rt = runtime()?;
        let (size, start, tail) = rt
            .block_on(async {
                match store.get_opts(&path, get).await {
                    Ok(got) => {
                        let (size, start) = (got.meta.size, got.range.start);
                        Ok::<_, object_store::Error>((size, start, got.bytes().await?))
                    }
                    // A store without suffix ranges (Azure): its size first, then the tail.
                    Err(object_store::Error::NotSupported { .. }) => {
                        let size = store.head(&path).await?.size;
                        let start = size.saturating_sub(hint);
                        match start < size {
                            true => match store.get_range(&path, start..size).await {
                                Ok(tail) => Ok((size, start, tail)),
                                // A server without ranges at all (`python -m http.server`):
                                // the whole object, once, as pandas reads such a URL; every
                                // read of it is then served from memory.
                                Err(object_store::Error::NotSupported { .. }) => {
                                    let all = store.get(&path).await?.bytes().await?;
                                    Ok((all.len() as u64, 0, all))
                                }
                                Err(e) => Err(e),
                            },
                            false => Ok((size, start, Bytes::new())),
                        }
                    }
                    Err(e) => Err(e),
                }
            })
            .map_err(|e| store::storage_error(&shown, &e, &secrets))?;
        Ok(Arc::new(RemoteFile {
            url: shown,
            store,
            path,
            size,
            settings,
            secrets,
            cache: Mutex::new(Cache {
                tail: Some((start, tail)),
                ..Cache::default()
            }),
            arrived: Condvar::new(),
            freed: tokio::sync::Notify::new(),
            boundaries: Mutex::new(Vec::new()),
        }))
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Where the file's column chunks begin and end, from its footer: a fetch nothing planned
    /// reads ahead no further than the next one.
    pub(crate) fn set_boundaries(&self, mut offsets: Vec<u64>) {
        offsets.sort_unstable();
        offsets.dedup();
        *self
            .boundaries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = offsets;
    }

    /// The first chunk boundary after `at`, if any.
    fn boundary_after(&self, at: u64) -> Option<u64> {
        let offsets = self
            .boundaries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let i = offsets.partition_point(|&o| o <= at);
        offsets.get(i).copied()
    }

    /// Start fetching `ranges` (merged into requests; what is already held is not fetched
    /// again), `concurrency` requests at a time, each streamed into pieces that decoders may use
    /// as soon as each has arrived and that go once they are decoded (`done`). Without a budget
    /// (`Settings::prefetch_bytes`) all of it in file order; with one, in the decoders' order,
    /// requests of the read proper (`releasable`) held back while the pieces fetched and not
    /// yet decoded exceed it. A decoder that needs a piece still held back fetches it itself
    /// (`get`), so nothing waits on the budget.
    pub(crate) fn prefetch(
        self: &Arc<Self>,
        ranges: Vec<Range<u64>>,
        releasable: bool,
    ) -> Result<()> {
        let mut cache = lock(&self.cache);
        let mut missing = cache.missing(ranges);
        let mut coalesce = self.settings.coalesce;
        let wanted: u64 = missing.iter().map(|r| r.end - r.start).sum();
        let budget = match self.settings.prefetch_bytes {
            // Bounded, and more than the budget to fetch: in the decoders' order, chunk by
            // chunk, so each run is dropped as soon as its chunk is decoded.
            Some(budget) if wanted > budget => {
                coalesce.max_run = coalesce.max_run.min(budget.max(1 << 20));
                budget
            }
            // Unbounded, or all of it within the budget: in file order, the fewest and
            // largest requests.
            _ => {
                missing.sort_by_key(|r| r.start);
                coalesce.max_run = LARGE_RUN;
                u64::MAX
            }
        };
        // Each request's bytes are kept in pieces cut where the planned ranges begin and end;
        // the pieces between planned ranges (a gap fetched to save a request) are not kept.
        let cuts: Vec<u64> = missing.iter().flat_map(|r| [r.start, r.end]).collect();
        let mut planned = missing.clone();
        planned.sort_by_key(|r| r.start);
        let wanted_piece = |p: &Range<u64>| {
            let i = planned.partition_point(|r| r.end <= p.start);
            planned.get(i).is_some_and(|r| r.start < p.end)
        };
        let piece = (wanted / PIECES).clamp(PIECE_MIN, PIECE_MAX);
        let requests: Vec<Vec<Range<u64>>> = coalesce
            .runs(missing, self.size)
            .iter()
            .map(|r| {
                coalesce::pieces(r, &cuts, piece)
                    .into_iter()
                    .filter(wanted_piece)
                    .collect::<Vec<_>>()
            })
            .filter(|pieces| !pieces.is_empty())
            .collect();
        if requests.is_empty() {
            return Ok(());
        }
        for piece in requests.iter().flatten() {
            cache.runs.push(Run {
                range: piece.clone(),
                state: State::Queued,
                releasable,
                done: Vec::new(),
                unplanned: false,
                budgeted: releasable && budget != u64::MAX,
                wanted: false,
                started: false,
            });
        }
        // Without a budget, each request fills its pieces while those fetched and not yet
        // decoded fit the window, and further only as far as a decoder waits for.
        let window = match releasable && budget == u64::MAX {
            true => Some(WINDOW_PIECES * piece),
            false => None,
        };
        let this = Arc::clone(self);
        let concurrency = self.settings.concurrency.max(1);
        let task = runtime()?.spawn(async move {
            let mut flying = tokio::task::JoinSet::new();
            for pieces in requests {
                let len = match (pieces.first(), pieces.last()) {
                    (Some(first), Some(last)) => last.end - first.start,
                    _ => continue,
                };
                while flying.try_join_next().is_some() {}
                while flying.len() >= concurrency {
                    flying.join_next().await;
                }
                if releasable && budget != u64::MAX {
                    // Until the decoders finish a run (`done`) or a fetch settles.
                    this.until(|| this.room(len, budget)).await;
                }
                let claimed = this.claim(&pieces);
                if claimed.is_empty() {
                    continue; // decoders fetched them already
                }
                let this = Arc::clone(&this);
                flying.spawn(async move { this.stream(claimed, window).await });
            }
            while flying.join_next().await.is_some() {}
        });
        // A filter's task may still be fetching when the read's own starts: both are kept, and
        // both stopped when the read ends.
        cache.prefetch.retain(|t| !t.is_finished());
        cache.prefetch.push(task);
        Ok(())
    }

    /// Fetch `pieces` (in file order, marked in flight) with one request from the first to the
    /// last, each piece kept as soon as its bytes have arrived (so decoders start on the first
    /// while the rest is on its way); the bytes between them are passed over.
    async fn stream(&self, pieces: Vec<Range<u64>>, window: Option<u64>) {
        let (Some(first), Some(last)) = (pieces.first(), pieces.last()) else {
            return;
        };
        let request = first.start..last.end;
        let get = GetOptions {
            range: Some(GetRange::Bounded(request.clone())),
            ..GetOptions::default()
        };
        let mut body = match self.store.get_opts(&self.path, get).await {
            Ok(got) if got.range == request => got.into_stream(),
            Ok(got) => {
                let short = self.short_answer(&request, got.range.end - got.range.start);
                return self.fail(&pieces, short);
            }
            Err(e) => {
                let e = store::storage_error(&self.url, &e, &self.secrets);
                return self.fail(&pieces, e);
            }
        };
        // Where the next byte of the body belongs, and the piece it fills (`piece::Piece`, taken
        // when the piece is admitted): copied out of the body as it arrives (a piece is at most
        // `PIECE_MAX` bytes, so its mapping is bounded whatever the file says).
        let mut at = request.start;
        let mut next = 0;
        let mut filling: Option<Piece> = None;
        while next < pieces.len() {
            let mut bytes = match body.next().await {
                Some(Ok(bytes)) => bytes,
                Some(Err(e)) => {
                    let e = store::storage_error(&self.url, &e, &self.secrets);
                    return self.fail(&pieces[next..], e);
                }
                None => {
                    let short = self.short_answer(&request, at - request.start);
                    return self.fail(&pieces[next..], short);
                }
            };
            while !bytes.is_empty() {
                let Some(piece) = pieces.get(next) else {
                    break;
                };
                let len = bytes.len() as u64;
                if at < piece.start {
                    // Bytes between two pieces: not kept.
                    let skip = (piece.start - at).min(len);
                    bytes = bytes.slice(skip as usize..);
                    at += skip;
                    continue;
                }
                let into = match filling.as_mut() {
                    Some(into) => into,
                    None => {
                        // The body is read no further until the piece fits the window: the
                        // connection waits (the kernel's buffer, then the server, hold the rest).
                        self.admit(&pieces[next..], window).await;
                        let size = (piece.end - piece.start).min(PIECE_MAX) as usize;
                        match Piece::new(size) {
                            Ok(fresh) => filling.insert(fresh),
                            Err(e) => {
                                let e = Error::Storage(
                                    StorageKind::Other,
                                    format!("{}: cannot keep {size} bytes: {e}", self.url),
                                );
                                return self.fail(&pieces[next..], e);
                            }
                        }
                    }
                };
                let take = into.fill(&bytes[..(piece.end - at).min(len) as usize]);
                if take == 0 {
                    // Unreachable: a piece's mapping holds it whole (`PIECE_MAX` bounds both).
                    let short = self.short_answer(&request, at - request.start);
                    return self.fail(&pieces[next..], short);
                }
                bytes = bytes.slice(take..);
                at += take as u64;
                if at == piece.end {
                    next += 1;
                    if let Some(whole) = filling.take() {
                        self.settle(piece, Ok(whole.freeze()));
                    }
                }
            }
        }
    }

    /// The error of a store that answered `request` with `got` bytes (a fetch or a stream).
    fn short_answer(&self, request: &Range<u64>, got: u64) -> Error {
        Error::Storage(
            StorageKind::Other,
            format!(
                "{}: asked for bytes {}..{}, the store returned {got} (was the object replaced?)",
                self.url, request.start, request.end
            ),
        )
    }

    /// `pieces` could not be fetched: each fails with `error`.
    fn fail(&self, pieces: &[Range<u64>], error: Error) {
        let (kind, message) = match error {
            Error::Storage(kind, message) => (kind, message),
            other => (StorageKind::Other, other.to_string()),
        };
        for piece in pieces {
            self.settle(piece, Err(Error::Storage(kind, message.clone())));
        }
    }

    /// Wait until the first of `ahead` (the pieces a request has yet to fill, in order) may be
    /// filled: at once without a `window`; else when it fits the window beside the pieces
    /// fetched or being filled and not yet decoded, or when a decoder waits for one of `ahead`
    /// (they come in order), or for a piece whose request has not started (every slot may be
    /// held by requests that wait: they all go on, and end).
    async fn admit(&self, ahead: &[Range<u64>], window: Option<u64>) {
        if let Some(window) = window {
            self.until(|| self.may_fill(ahead, window)).await;
        }
    }

    /// Wait until `check` holds, asked again whenever held runs go or a decoder waits
    /// (`freed`).
    async fn until(&self, check: impl Fn() -> bool) {
        loop {
            // Registered before the check, so a change in between still wakes it.
            let changed = self.freed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if check() {
                return;
            }
            changed.await;
        }
    }

    /// `admit`'s check; the piece admitted is marked `started`.
    fn may_fill(&self, ahead: &[Range<u64>], window: u64) -> bool {
        let Some(first) = ahead.first() else {
            return true;
        };
        let mut cache = lock(&self.cache);
        let mut held = 0;
        let mut go = false;
        for run in cache.runs.iter().filter(|r| r.releasable) {
            let len = run.range.end - run.range.start;
            match run.state {
                State::Ready(_) => held += len,
                State::InFlight if run.started => held += len,
                State::InFlight if run.wanted => {
                    go |= ahead
                        .binary_search_by_key(&run.range.start, |p| p.start)
                        .is_ok_and(|i| ahead[i] == run.range);
                }
                State::Queued if run.wanted => go = true,
                _ => {}
            }
        }
        let len = first.end - first.start;
        if !(go || held == 0 || held + len <= window) {
            return false;
        }
        let piece = |r: &&mut Run| r.range == *first && matches!(r.state, State::InFlight);
        if let Some(run) = cache.runs.iter_mut().find(piece) {
            run.started = true;
        }
        true
    }

    /// Whether `len` more bytes fit the budget beside the runs fetched and not yet decoded.
    fn room(&self, len: u64, budget: u64) -> bool {
        let cache = lock(&self.cache);
        let held: u64 = cache
            .runs
            .iter()
            .filter(|r| r.releasable && matches!(r.state, State::InFlight | State::Ready(_)))
            .map(|r| r.range.end - r.range.start)
            .sum();
        held == 0 || held + len <= budget
    }

    /// Mark those of `pieces` still queued as in flight: those (a decoder may have taken some).
    fn claim(&self, pieces: &[Range<u64>]) -> Vec<Range<u64>> {
        let mut cache = lock(&self.cache);
        let mut claimed = Vec::new();
        for piece in pieces {
            let queued = cache
                .runs
                .iter_mut()
                .find(|r| r.range == *piece && matches!(r.state, State::Queued));
            if let Some(run) = queued {
                run.state = State::InFlight;
                claimed.push(piece.clone());
            }
        }
        claimed
    }

    /// The decoders are done with `range`: runs of the read proper wholly decoded are dropped.
    pub(crate) fn done(&self, range: Range<u64>) {
        let mut cache = lock(&self.cache);
        let mut released = false;
        for run in cache.runs.iter_mut().filter(|r| r.releasable) {
            let part = run.range.start.max(range.start)..run.range.end.min(range.end);
            if part.start >= part.end || !matches!(run.state, State::Ready(_)) {
                continue;
            }
            run.done.push(part);
            run.done.sort_by_key(|r| r.start);
            let mut merged: Vec<Range<u64>> = Vec::new();
            for r in run.done.drain(..) {
                match merged.last_mut() {
                    Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                    _ => merged.push(r),
                }
            }
            run.done = merged;
            if run.done.first() == Some(&run.range) {
                run.state = State::Released;
                released = true;
            }
        }
        drop(cache);
        if released {
            self.freed.notify_waiters();
        }
    }

    /// Drop the runs of a finished (or cancelled) read, stopping what is still in flight; the
    /// tail stays.
    pub(crate) fn release(&self) {
        let mut cache = lock(&self.cache);
        for task in cache.prefetch.drain(..) {
            task.abort();
        }
        cache.runs.clear();
        drop(cache);
        self.arrived.notify_all();
        self.freed.notify_waiters();
    }

    /// The bytes `range`, from what is held, in flight, or else fetched now. `cancelled` is
    /// polled while waiting.
    pub(crate) fn get(&self, range: Range<u64>, cancelled: &dyn Fn() -> bool) -> Result<Bytes> {
        let mut cache = lock(&self.cache);
        // Each fetch below fills one gap, so this ends after as many rounds as `range` has gaps.
        loop {
            match cache.find(&range) {
                Some(Found::Ready(bytes)) => return Ok(bytes),
                Some(Found::Failed(kind, message)) => return Err(Error::Storage(kind, message)),
                Some(Found::Pending) => {
                    if cancelled() {
                        return Err(Error::Cancelled);
                    }
                    // A piece the budget holds back (any of them `range` overlaps: bytes may
                    // straddle two pieces): fetch it here rather than wait, as the budget only
                    // frees room once these very bytes are decoded.
                    // So is one whose fetching task is gone (stopped by another read's end).
                    let orphaned = cache.prefetch.iter().all(|t| t.is_finished());
                    let queued = cache.runs.iter_mut().find(|r| {
                        r.range.start < range.end
                            && range.start < r.range.end
                            && (r.budgeted || orphaned)
                            && matches!(r.state, State::Queued)
                    });
                    if let Some(run) = queued {
                        run.state = State::InFlight;
                        let fetch = run.range.clone();
                        drop(cache);
                        self.fetch_here(fetch, cancelled)?;
                        cache = lock(&self.cache);
                        continue;
                    }
                    // The requests filling these pieces go on past their window (`admit`).
                    let mut waits = false;
                    for run in cache.runs.iter_mut().filter(|r| {
                        r.range.start < range.end
                            && range.start < r.range.end
                            && !r.wanted
                            && matches!(r.state, State::Queued | State::InFlight)
                    }) {
                        run.wanted = true;
                        waits = true;
                    }
                    if waits {
                        self.freed.notify_waiters();
                    }
                    cache = self
                        .arrived
                        .wait_timeout(cache, Duration::from_millis(50))
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0;
                }
                None => {
                    if cancelled() {
                        return Err(Error::Cancelled);
                    }
                    // Bytes held nowhere: fetch the first gap with a read-ahead, up to the next
                    // piece already held or the end of the column chunk.
                    let Some(gap) = cache.missing(vec![range.clone()]).into_iter().next() else {
                        return Err(Error::Cancelled); // unreachable: `find` saw a gap
                    };
                    let next = cache
                        .pieces()
                        .iter()
                        .map(|(r, _)| r.start)
                        .filter(|&s| s >= gap.end)
                        .chain(self.boundary_after(gap.end.saturating_sub(1)))
                        .min()
                        .unwrap_or(self.size);
                    let end = gap
                        .start
                        .saturating_add(READ_AHEAD)
                        .min(next)
                        .max(gap.end)
                        .min(self.size);
                    let fetch = gap.start..end;
                    cache.trim();
                    cache.runs.push(Run {
                        range: fetch.clone(),
                        state: State::InFlight,
                        releasable: false,
                        done: Vec::new(),
                        unplanned: true,
                        budgeted: false,
                        wanted: false,
                        started: false,
                    });
                    drop(cache);
                    self.fetch_here(fetch, cancelled)?;
                    // Found on the next round (or, dropped meanwhile, fetched again).
                    cache = lock(&self.cache);
                }
            }
        }
    }

    /// Fetch the run `range` (marked in flight by the caller) on this thread, giving up when
    /// `cancelled` says so: the run goes back to the queue and `Error::Cancelled` is returned.
    fn fetch_here(&self, range: Range<u64>, cancelled: &dyn Fn() -> bool) -> Result<()> {
        let watch = async {
            while !cancelled() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        let fetch = self.fetch(range.clone());
        let got = runtime()?.block_on(async {
            futures::pin_mut!(watch, fetch);
            match futures::future::select(fetch, watch).await {
                futures::future::Either::Left((got, _)) => Some(got),
                futures::future::Either::Right(_) => None,
            }
        });
        match got {
            Some(got) => {
                self.settle(&range, got);
                Ok(())
            }
            None => {
                let mut cache = lock(&self.cache);
                let flying = |r: &&mut Run| r.range == range && matches!(r.state, State::InFlight);
                if let Some(run) = cache.runs.iter_mut().find(flying) {
                    run.state = State::Queued;
                }
                drop(cache);
                self.arrived.notify_all();
                Err(Error::Cancelled)
            }
        }
    }

    async fn fetch(&self, range: Range<u64>) -> std::result::Result<Bytes, Error> {
        let got = self
            .store
            .get_range(&self.path, range.clone())
            .await
            .map_err(|e| store::storage_error(&self.url, &e, &self.secrets))?;
        if got.len() as u64 != range.end - range.start {
            return Err(self.short_answer(&range, got.len() as u64));
        }
        Ok(got)
    }

    fn settle(&self, range: &Range<u64>, got: std::result::Result<Bytes, Error>) {
        let mut cache = lock(&self.cache);
        let flying = |run: &&mut Run| run.range == *range && matches!(run.state, State::InFlight);
        if let Some(run) = cache.runs.iter_mut().find(flying) {
            run.state = match got {
                Ok(bytes) => State::Ready(bytes),
                Err(Error::Storage(kind, message)) => State::Failed(kind, message),
                Err(other) => State::Failed(StorageKind::Other, other.to_string()),
            };
        }
        drop(cache);
        self.arrived.notify_all();
        self.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::thread;

    use object_store::memory::InMemory;
    use object_store::PutPayload;

    use super::*;

    const MIB: u64 = 1 << 20;

    /// A file of `size` bytes (byte `i` is `i % 251`) in a store in memory, read with
    /// `concurrency` requests in flight; its `bytes` for checking.
    fn file(size: u64, concurrency: usize) -> (Arc<RemoteFile>, Vec<u8>) {
        let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let store = Arc::new(InMemory::new());
        let path = Path::from("data.parquet");
        let payload = PutPayload::from(bytes.clone());
        runtime()
            .expect("runtime")
            .block_on(store.put(&path, payload))
            .expect("put");
        let settings = Settings {
            concurrency,
            ..Settings::default()
        };
        let url = "memory:///data.parquet".to_string();
        let file = RemoteFile::open_in(url, store, path, settings, Vec::new()).expect("open");
        (file, bytes)
    }

    /// The bytes of pieces fetched and not yet decoded.
    fn held(file: &RemoteFile) -> u64 {
        let cache = lock(&file.cache);
        let ready = cache
            .runs
            .iter()
            .filter(|r| matches!(r.state, State::Ready(_)));
        ready.map(|r| r.range.end - r.range.start).sum()
    }

    /// `get` on another thread; `None` if it has not answered within 20 s (a deadlock).
    fn get_within(file: &Arc<RemoteFile>, range: Range<u64>) -> Option<Result<Bytes>> {
        let (send, answer) = mpsc::channel();
        let file = Arc::clone(file);
        thread::spawn(move || {
            let _ = send.send(file.get(range, &|| false));
        });
        answer.recv_timeout(Duration::from_secs(20)).ok()
    }

    #[test]
    fn a_response_waits_at_the_window_and_goes_on_as_far_as_a_decoder_waits() {
        // 40 MiB in one request, 4 MiB pieces: the window is 4 pieces.
        let (file, bytes) = file(40 * MIB, 8);
        let all: Range<u64> = 0..40 * MIB;
        file.prefetch(Vec::from([all]), true).expect("prefetch");
        let window = WINDOW_PIECES * PIECE_MIN;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while held(&file) < window && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        thread::sleep(Duration::from_millis(100));
        assert_eq!(held(&file), window, "the response stops at the window");
        // A decoder waiting for the last bytes takes the response on to them.
        let last = 39 * MIB..40 * MIB;
        let got = get_within(&file, last.clone())
            .expect("no deadlock")
            .expect("bytes");
        assert_eq!(&got[..], &bytes[39 << 20..40 << 20]);
        // Decoded, every piece goes.
        file.done(0..40 * MIB);
        assert_eq!(held(&file), 0);
        file.release();
    }

    #[test]
    fn a_decoder_waiting_on_a_request_not_started_is_not_left_waiting() {
        // One request in flight at a time; two requests (the ranges are too far apart to
        // merge). The first stops at its window holding the only slot, while a decoder waits
        // for bytes of the second: the first goes on to its end, and the second starts.
        let (file, bytes) = file(80 * MIB, 1);
        file.prefetch(vec![0..30 * MIB, 50 * MIB..80 * MIB], true)
            .expect("prefetch");
        let want = 70 * MIB..71 * MIB + 17;
        let got = get_within(&file, want.clone())
            .expect("no deadlock")
            .expect("bytes");
        assert_eq!(&got[..], &bytes[want.start as usize..want.end as usize]);
        // And every byte of both, read from the end backwards, is right.
        for at in (0..30).rev().chain((50..80).rev()) {
            let range = at * MIB..(at + 1) * MIB;
            let got = get_within(&file, range.clone())
                .expect("no deadlock")
                .expect("bytes");
            assert_eq!(&got[..], &bytes[range.start as usize..range.end as usize]);
            file.done(range);
        }
        assert_eq!(held(&file), 0);
        file.release();
    }
}
