//! Replacing a file atomically, for every writer: the bytes go to a temporary file in the
//! destination's directory (`.<name>.<random>.colbridge-tmp`, created exclusively, with the
//! permissions of the file it replaces) and are renamed over the destination only once complete
//! and flushed (with `fsync`, synced, and the directory synced after the rename). Until then the
//! destination is untouched, and a temporary file that is not committed (an error, a panic,
//! Ctrl-C) is removed when dropped. Only a process killed mid-write (SIGKILL, a power cut)
//! leaves its temporary file behind, never a partial destination.
//!
//! The rename needs write permission on the directory, and replaces a symlink's target rather
//! than the link. I/O errors name the destination (`FileNotFoundError: [Errno 2] No such file or
//! directory: 'missing/out.parquet'`).

use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::{panic_message, Error, FileIo, Result};
use crate::progress::{wait_interruptibly, Progress};

/// The suffix of every temporary file (so that leftovers of killed processes can be found).
pub(crate) const TEMP_SUFFIX: &str = ".colbridge-tmp";

/// A file being written in place of `destination`; see the module documentation.
pub(crate) struct AtomicFile {
    destination: PathBuf,
    temp: PathBuf,
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Create the temporary file for `destination` (a symlink's target when it is a symlink).
    pub(crate) fn create(destination: &Path) -> Result<Self> {
        let at = |e: io::Error| Error::File(e, destination.to_path_buf());
        let target = resolve(destination);
        let existing = fs::metadata(&target).ok();
        if existing.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(at(io::Error::from_raw_os_error(libc::EISDIR)));
        }
        let name = target.file_name().ok_or_else(|| {
            at(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not the path of a file",
            ))
        })?;
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let stem = short(&name.to_string_lossy(), 128).to_string();
        let mut attempts = 0;
        let (temp, file) = loop {
            let temp = dir.join(format!(".{stem}.{:016x}{TEMP_SUFFIX}", random()));
            match OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(file) => break (temp, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 8 => {
                    attempts += 1;
                }
                Err(e) => return Err(at(e)),
            }
        };
        if let Some(existing) = existing {
            // Best effort: a file the user made read-only for others stays so.
            let _ = fs::set_permissions(&temp, existing.permissions());
        }
        Ok(Self {
            destination: target,
            temp,
            out: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The temporary file's path.
    #[cfg(test)]
    fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Flush (and with `fsync`, sync) the temporary file, rename it over the destination, and
    /// with `fsync` sync the directory so that the rename survives a crash.
    pub(crate) fn commit(mut self, fsync: bool) -> Result<()> {
        let at = |e: io::Error| Error::File(e, self.destination.clone());
        let out = self
            .out
            .take()
            .ok_or_else(|| at(io::Error::other("the temporary file was already committed")))?;
        let file = out.into_inner().map_err(|e| at(e.into_error()))?;
        if fsync {
            file.sync_all().map_err(at)?;
        }
        drop(file);
        fs::rename(&self.temp, &self.destination).map_err(at)?;
        self.temp = PathBuf::new(); // renamed: nothing left to remove
        if fsync {
            if let Some(dir) = self.destination.parent() {
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                File::open(dir).and_then(|d| d.sync_all()).map_err(at)?;
            }
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.out {
            // Marked as the file's own failure: the encoder passes it on as a ParquetError,
            // which must become an OSError again (error.rs).
            Some(out) => out.write(buf).map_err(FileIo::wrap),
            None => Err(io::Error::other("write after commit")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Some(out) => out.flush().map_err(FileIo::wrap),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        drop(self.out.take());
        if !self.temp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Where writing `path` really lands: a symlink's target (resolved fully, or one level when the
/// target does not exist yet), else `path` itself.
fn resolve(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path)
            .or_else(|_| {
                fs::read_link(path).map(|target| match path.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                })
            })
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

/// At most `max` bytes of `s`, cut at a character boundary (file names are limited to 255).
fn short(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A number no other temporary file of this or another process is likely to use (the name is
/// also created exclusively, and retried if taken).
fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(now.as_nanos());
    }
    hasher.finish()
}

/// Write what `encode` produces to `where`, as every writer does: a binary file object gets
/// the whole file in one `write` call at the end; a path is replaced atomically ([`AtomicFile`],
/// synced to disk with `fsync`). `encode` runs without the GIL and stops when Ctrl-C cancels
/// `progress`; a panic inside it becomes `failed(message)`. `writer` names the function in the
/// error for a `where` that is neither a path nor a file object.
pub(crate) fn write_to(
    py: Python<'_>,
    r#where: &Bound<'_, PyAny>,
    writer: &str,
    progress: &Arc<Progress>,
    fsync: bool,
    failed: fn(String) -> Error,
    encode: &(dyn Fn(&mut (dyn Write + Send)) -> Result<()> + Sync),
) -> PyResult<()> {
    let guarded = |work: &mut dyn FnMut() -> Result<()>| {
        catch_unwind(AssertUnwindSafe(work))
            .unwrap_or_else(|payload| Err(failed(panic_message(payload.as_ref()))))
    };
    if r#where.hasattr("write")? && !r#where.hasattr("__fspath__")? {
        let bytes = wait_interruptibly(py, progress, None, || {
            let mut out: Vec<u8> = Vec::new();
            guarded(&mut || encode(&mut out))?;
            Ok(out)
        })?;
        r#where.call_method1("write", (PyBytes::new(py, &bytes),))?;
        return Ok(());
    }
    let path: PathBuf = py
        .import("os")?
        .call_method1("fsdecode", (r#where,))
        .and_then(|p| p.extract())
        .map_err(|_| {
            Error::UnsupportedType(format!(
                "{writer} writes to a path or a binary file object, not {}",
                r#where
                    .get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
    wait_interruptibly(py, progress, None, || {
        guarded(&mut || {
            let mut file = AtomicFile::create(&path)?;
            encode(&mut file).map_err(|e| e.at(&path))?;
            if progress.cancelled() {
                return Err(Error::Cancelled); // dropping `file` removes the temporary file
            }
            file.commit(fsync)
        })
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("colbridge-atomic-{name}-{:x}", random()));
        fs::create_dir_all(&dir).expect("scratch directory");
        dir
    }

    fn leftovers(dir: &Path) -> Vec<PathBuf> {
        fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.to_string_lossy().ends_with(TEMP_SUFFIX))
            .collect()
    }

    #[test]
    fn a_commit_replaces_the_destination_and_leaves_nothing_else() {
        let dir = scratch("commit");
        let dest = dir.join("out.bin");
        fs::write(&dest, b"old").expect("old file");
        let mut file = AtomicFile::create(&dest).expect("create");
        file.write_all(b"new").expect("write");
        assert_eq!(
            fs::read(&dest).expect("read"),
            b"old",
            "untouched until the commit"
        );
        file.commit(true).expect("commit");
        assert_eq!(fs::read(&dest).expect("read"), b"new");
        assert!(leftovers(&dir).is_empty());
        fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn a_file_dropped_before_its_commit_leaves_the_old_file_and_no_temporary() {
        let dir = scratch("drop");
        let dest = dir.join("out.bin");
        fs::write(&dest, b"old").expect("old file");
        let mut file = AtomicFile::create(&dest).expect("create");
        file.write_all(&[7; 3 << 20]).expect("write");
        assert!(file.temp_path().exists());
        drop(file);
        assert_eq!(fs::read(&dest).expect("read"), b"old");
        assert!(leftovers(&dir).is_empty());
        fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn a_missing_directory_is_a_file_error_naming_the_destination() {
        let dir = scratch("missing");
        let dest = dir.join("no/such/dir/out.bin");
        let Err(Error::File(io, path)) = AtomicFile::create(&dest) else {
            panic!("expected a file error");
        };
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
        assert_eq!(path, dest);
        fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn a_directory_is_not_replaced() {
        let dir = scratch("isdir");
        let Err(Error::File(io, _)) = AtomicFile::create(&dir) else {
            panic!("expected a file error");
        };
        assert_eq!(io.raw_os_error(), Some(libc::EISDIR));
        fs::remove_dir_all(dir).expect("cleanup");
    }

    #[cfg(unix)]
    #[test]
    fn the_replacement_keeps_the_old_permissions_and_writes_through_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("perms");
        let real = dir.join("real.bin");
        let link = dir.join("link.bin");
        fs::write(&real, b"old").expect("old file");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).expect("chmod");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let mut file = AtomicFile::create(&link).expect("create");
        file.write_all(b"new").expect("write");
        file.commit(false).expect("commit");
        assert!(fs::symlink_metadata(&link).expect("link").is_symlink());
        assert_eq!(fs::read(&real).expect("read"), b"new");
        let mode = fs::metadata(&real).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        fs::remove_dir_all(dir).expect("cleanup");
    }
}
