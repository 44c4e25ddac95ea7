//! Resource limits of a read: how large a footer, a page and a whole decoded read may be.
//!
//! A file states the sizes of its parts; a hostile or damaged file states them falsely, and
//! whatever is reserved from a false size is reserved for nothing (shared/FACTS.md: a 2 KB file
//! claiming 10^12 rows, a 3 KB file claiming a 2 GiB page). Sizes are checked against what the
//! file can hold wherever that bounds them (a range inside the file, a page's compressed bytes
//! times its codec's largest ratio); these limits bound the rest, and each refusal says which
//! limit it was and the keyword that raises it. All three are on by default; `0` lifts one.

use std::sync::OnceLock;

use crate::error::Error;

/// The limits of one read (`read_parquet(..., max_footer_bytes=..., max_page_bytes=...,
/// max_decoded_bytes=...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Largest footer (the Thrift `FileMetaData`) accepted.
    pub(crate) footer: u64,
    /// Largest page, decompressed.
    pub(crate) page: u64,
    /// Largest total of the decoded columns' buffers; `None` for no limit.
    pub(crate) decoded: Option<u64>,
}

/// 256 MiB: footers of files with tens of thousands of row groups and columns stay well below.
pub(crate) const DEFAULT_FOOTER: u64 = 256 << 20;
/// 1 GiB: writers cut pages at about 1 MiB; Parquet's own page sizes are 32-bit.
pub(crate) const DEFAULT_PAGE: u64 = 1 << 30;

impl Default for Limits {
    fn default() -> Self {
        Limits::new(None, None, None)
    }
}

impl Limits {
    /// From the keyword arguments: `None` keeps a limit's default, `Some(0)` lifts it.
    pub(crate) fn new(footer: Option<u64>, page: Option<u64>, decoded: Option<u64>) -> Self {
        let lifted = |v: u64| (v != 0).then_some(v);
        Limits {
            footer: footer
                .map_or(Some(DEFAULT_FOOTER), lifted)
                .unwrap_or(u64::MAX),
            page: page.map_or(Some(DEFAULT_PAGE), lifted).unwrap_or(u64::MAX),
            decoded: decoded.map_or_else(process_memory, lifted),
        }
    }

    pub(crate) fn check_footer(&self, size: u64) -> Result<(), Error> {
        if size > self.footer {
            return Err(Error::Limit(format!(
                "the footer is {size} bytes, more than max_footer_bytes={}",
                self.footer
            )));
        }
        Ok(())
    }

    pub(crate) fn check_page(&self, size: u64) -> Result<(), Error> {
        if size > self.page {
            return Err(Error::Limit(format!(
                "a page claims {size} bytes decompressed, more than max_page_bytes={}",
                self.page
            )));
        }
        Ok(())
    }

    pub(crate) fn check_decoded(&self, size: u64) -> Result<(), Error> {
        match self.decoded {
            Some(limit) if size > limit => Err(Error::Limit(format!(
                "the read decodes to {size} bytes, more than max_decoded_bytes={limit}{}",
                if Some(limit) == process_memory() {
                    " (the default: the memory this process may use; 0 lifts the limit)"
                } else {
                    ""
                }
            ))),
            _ => Ok(()),
        }
    }
}

/// The memory this process may use: the machine's physical memory, or less where a cgroup
/// (a container's memory limit) or an address-space limit (`ulimit -v`) says less. `None` where
/// none of these can be read. The default of `max_decoded_bytes`: a read that decodes to more
/// could not be held anyway, and is refused before anything is reserved.
pub(crate) fn process_memory() -> Option<u64> {
    // Miri runs the decoder's tests without the system calls (and files) these read.
    if cfg!(miri) {
        return None;
    }
    static MEMORY: OnceLock<Option<u64>> = OnceLock::new();
    *MEMORY.get_or_init(|| {
        [physical_memory(), cgroup_memory(), address_space_limit()]
            .into_iter()
            .flatten()
            .min()
    })
}

#[cfg(unix)]
fn physical_memory() -> Option<u64> {
    // SAFETY: sysconf only reads system configuration; it returns -1 for a name it lacks.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let pages = u64::try_from(pages).ok()?;
    let size = u64::try_from(size).ok()?;
    pages.checked_mul(size).filter(|&m| m > 0)
}

/// cgroup v2's `memory.max` (a number, or `max` for none) of the process's cgroup as a container
/// sees it, else cgroup v1's `memory.limit_in_bytes` (a huge number for none).
fn cgroup_memory() -> Option<u64> {
    [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|path| std::fs::read_to_string(path).ok())
    .filter_map(|text| text.trim().parse::<u64>().ok())
    .find(|&limit| limit > 0 && limit < 1 << 60)
}

#[cfg(unix)]
fn address_space_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the struct it is given.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) };
    (rc == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

#[cfg(not(unix))]
fn physical_memory() -> Option<u64> {
    None
}

#[cfg(not(unix))]
fn address_space_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_has_a_default_and_zero_lifts_it() {
        let defaults = Limits::default();
        assert_eq!(defaults.footer, DEFAULT_FOOTER);
        assert_eq!(defaults.page, DEFAULT_PAGE);
        let Some(memory) = process_memory() else {
            return; // under Miri
        };
        assert_eq!(defaults.decoded, Some(memory));
        assert!(memory <= physical_memory().unwrap_or(u64::MAX));
        let lifted = Limits::new(Some(0), Some(0), Some(0));
        assert_eq!(
            (lifted.footer, lifted.page, lifted.decoded),
            (u64::MAX, u64::MAX, None)
        );
        assert!(lifted.check_decoded(u64::MAX).is_ok());
        let set = Limits::new(Some(10), Some(20), Some(30));
        assert_eq!((set.footer, set.page, set.decoded), (10, 20, Some(30)));
        let refused = defaults
            .check_decoded(memory + 1)
            .expect_err("over the memory");
        assert!(
            refused
                .to_string()
                .contains("the memory this process may use"),
            "{refused}"
        );
    }
}
