//! The memory allocator: mimalloc (the default `mimalloc` feature), tuned for decoding.
//!
//! Large fresh allocations through glibc made a 1-thread decode 1.7x slower than with mimalloc
//! (shared/FACTS.md). Measured on benches/parquet_to_pandas.py (docs/parquet_benchmark.md):
//! - no transparent huge pages for mimalloc's own memory: each 1.6 MB column of a 200-column
//!   file otherwise sits in a 2 MiB huge page, zeroed whole on first touch (30% of the decode
//!   time) and resident whole (peak 1.14x the output instead of 1.03x). The option must be set
//!   before the first allocation reserves an arena (`configure` runs first in module init).
//!   Large output buffers ask for huge pages themselves (`prefer_huge_pages`): they fill them;
//! - a purge delay of 10 ms: a decode frees page buffers continually; returning them to the
//!   OS at once (delay 0) made every new buffer fault in fresh zeroed pages (the 200-column read
//!   0.26 s instead of 0.17-0.21 s), while mimalloc's default 1 s lets the peak hold output and
//!   scratch together;
//! - mimalloc purges only when it is next called, so an idle process would keep what it freed:
//!   after every `COLLECT_AFTER` bytes freed in large blocks (a released table, a decode's
//!   scratch) colbridge forces the purge, and memory goes back to the OS when Python lets go.

#[cfg(feature = "mimalloc")]
mod tuned {
    use std::alloc::{GlobalAlloc, Layout};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use mimalloc::MiMalloc;

    /// `mi_option_purge_delay` and `mi_option_allow_thp` in the mimalloc headers vendored by
    /// libmimalloc-sys 0.1.49 (the crate exports no constants for them; unit tests check the
    /// indices against their documented defaults).
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

    /// Milliseconds before freed memory goes back to the OS.
    const PURGE_DELAY_MS: std::ffi::c_long = 10;

    /// Blocks of at least this size count towards a forced purge.
    const LARGE: usize = 4 << 20;
    /// Bytes freed in large blocks between forced purges.
    const COLLECT_AFTER: usize = 64 << 20;

    static FREED: AtomicUsize = AtomicUsize::new(0);

    pub(crate) struct Allocator;

    // SAFETY: every call forwards to mimalloc's allocator with the same arguments; the only
    // addition, `mi_collect`, runs after the block is freed and takes no pointer of ours.
    unsafe impl GlobalAlloc for Allocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's contract is passed on unchanged.
            unsafe { MiMalloc.alloc(layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: as above.
            unsafe { MiMalloc.alloc_zeroed(layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: as above.
            unsafe { MiMalloc.realloc(ptr, layout, new_size) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: as above.
            unsafe { MiMalloc.dealloc(ptr, layout) };
            if layout.size() >= LARGE {
                let freed = FREED.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
                if freed >= COLLECT_AFTER && FREED.swap(0, Ordering::Relaxed) >= COLLECT_AFTER {
                    // SAFETY: a plain call into mimalloc, outside any of its own functions.
                    unsafe { libmimalloc_sys::mi_collect(true) };
                }
            }
        }
    }

    /// Set mimalloc's options; called once when the module is imported.
    pub(crate) fn configure() {
        // SAFETY: mi_option_set only stores an integer option; it is called during module
        // init, before colbridge starts any thread of its own.
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0);
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn option_indices_are_the_ones_with_the_documented_defaults() {
            // SAFETY: reading an option is a plain load; tests never call `configure`.
            let (purge, thp) = unsafe {
                (
                    libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY),
                    libmimalloc_sys::mi_option_get(super::MI_OPTION_ALLOW_THP),
                )
            };
            // mimalloc v3's options.c: `{ 1000, ..., MI_OPTION_LEGACY(purge_delay, ...) }` and
            // `{ MI_DEFAULT_ALLOW_THP, ..., MI_OPTION(allow_thp) }` (1 on Linux).
            assert_eq!(purge, 1000, "mimalloc v3's purge_delay defaults to 1000 ms");
            assert_eq!(thp, 1, "mimalloc v3's allow_thp defaults to 1 on Linux");
        }
    }
}

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: tuned::Allocator = tuned::Allocator;

#[cfg(feature = "mimalloc")]
pub(crate) use tuned::configure;

#[cfg(not(feature = "mimalloc"))]
pub(crate) fn configure() {}

/// Return the memory colbridge's allocator holds free to the OS now, rather than at its next
/// call (a worker between tasks: `colbridge.dask` calls it after each partition).
#[pyo3::pyfunction]
pub(crate) fn release_memory() {
    purge();
}

/// Give what the allocator holds free back to the OS now (`release_memory`). A remote read's
/// pieces are not the allocator's: they are unmapped as they are dropped (`remote::piece`).
pub(crate) fn purge() {
    #[cfg(feature = "mimalloc")]
    // SAFETY: a plain call into mimalloc, outside any of its own functions.
    unsafe {
        libmimalloc_sys::mi_collect(true)
    };
}

/// The size of a transparent huge page on x86-64 and of the units `madvise` is given here.
#[cfg(all(target_os = "linux", not(miri)))]
const HUGE: usize = 2 << 20;

/// `madvise(advice)` over the whole, aligned 2 MiB units inside the `bytes` bytes at `begin`;
/// how many bytes from `begin` the last of them ends at (0 when there is none).
///
/// # Safety
/// The bytes are memory this process owns, and `advice` is one whose effect the caller's
/// contract allows (`MADV_DONTNEED` zeroes them).
#[cfg(all(target_os = "linux", not(miri)))]
unsafe fn advise_whole_units(begin: usize, bytes: usize, advice: libc::c_int) -> usize {
    let first = begin.next_multiple_of(HUGE);
    let last = begin.saturating_add(bytes) / HUGE * HUGE;
    if last <= first {
        return 0;
    }
    // SAFETY: [first, last) lies inside the caller's bytes, and the advice is the caller's to
    // give (the contract above). Failure is harmless: the advice is not taken.
    unsafe { libc::madvise(first as *mut libc::c_void, last - first, advice) };
    last - begin
}

/// Ask the kernel to back the whole 2 MiB pages inside `region` with transparent huge pages:
/// a large output buffer then faults in 2 MiB at a time (measured: a 20 M-row numeric read
/// 0.21 s → 0.10 s). Small buffers stay on ordinary pages (see the module notes). Not under
/// Miri, which has no `madvise`.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn prefer_huge_pages<T>(region: &mut [std::mem::MaybeUninit<T>]) {
    let bytes = std::mem::size_of_val(region);
    if bytes >= 4 * HUGE {
        // SAFETY: `region` is memory this process owns; MADV_HUGEPAGE is advice about how to
        // back it and never changes its contents.
        unsafe { advise_whole_units(region.as_mut_ptr() as usize, bytes, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(any(not(target_os = "linux"), miri))]
pub(crate) fn prefer_huge_pages<T>(_region: &mut [std::mem::MaybeUninit<T>]) {}

/// Give the whole 2 MiB units inside the `bytes` bytes at `start` back to the OS while the
/// allocation that holds them lives on (a buffer converted into a new one, front to back, frees
/// what it has converted as it goes; a buffer narrowed in place frees its tail). Whole, aligned
/// 2 MiB units, so a transparent huge page is freed entirely rather than split. Returns how many
/// bytes at the front of the region need not be passed again (up to the end of the last unit
/// given back; 0 when none was). Not under Miri, which has no `madvise`, nor off Linux: there
/// the memory is freed with its allocation.
///
/// # Safety
/// The bytes are not read again: they read as zeros afterwards. Nothing else may hold a
/// reference into them; writing them again is allowed (the kernel faults in zeroed pages).
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) unsafe fn release_pages(start: *const u8, bytes: usize) -> usize {
    // SAFETY: the bytes are the caller's, never read again (its contract); MADV_DONTNEED on
    // private anonymous memory leaves the mapping valid and reading zeros.
    unsafe { advise_whole_units(start as usize, bytes, libc::MADV_DONTNEED) }
}

/// See the Linux version: without `madvise` the memory is freed with its allocation.
///
/// # Safety
/// As the Linux version.
#[cfg(any(not(target_os = "linux"), miri))]
pub(crate) unsafe fn release_pages(_start: *const u8, _bytes: usize) -> usize {
    0
}
