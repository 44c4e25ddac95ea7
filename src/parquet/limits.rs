//! Resource limits of a read: how large a footer, a page and a whole decoded read may be.
//!
//! A file states the sizes of its parts; a hostile or damaged file states them falsely, and
//! whatever is reserved from a false size is reserved for nothing (shared/FACTS.md: a 2 KB file
//! claiming 10^12 rows, a 3 KB file claiming a 2 GiB page). Sizes are checked against what the
//! file can hold wherever that bounds them (a range inside the file, a page's compressed bytes
//! times its codec's largest ratio); these limits bound the rest, and each refusal says which
//! limit it was and the keyword that raises it.

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
        Limits {
            footer: DEFAULT_FOOTER,
            page: DEFAULT_PAGE,
            decoded: None,
        }
    }
}

impl Limits {
    /// From the keyword arguments (`None` keeps a default).
    pub(crate) fn new(footer: Option<u64>, page: Option<u64>, decoded: Option<u64>) -> Self {
        Limits {
            footer: footer.unwrap_or(DEFAULT_FOOTER),
            page: page.unwrap_or(DEFAULT_PAGE),
            decoded,
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
                "the read decodes to {size} bytes, more than max_decoded_bytes={limit}"
            ))),
            _ => Ok(()),
        }
    }
}
