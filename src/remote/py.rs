//! The Python side of object storage: `RemoteFile` (an opened object) and `list_objects`.

use std::sync::Arc;

use futures::StreamExt;
use pyo3::prelude::*;
use url::Url;

use super::{runtime, store, RemoteFile, Settings};
use crate::error::{Error, Result};

/// The objects under `url` (a prefix, as a directory), as `(url, size)` in key order: one LIST
/// of the store, paginated by it.
#[pyfunction]
#[pyo3(signature = (url, options, secrets, retries=None))]
pub(crate) fn list_objects(
    py: Python<'_>,
    url: String,
    options: Vec<(String, String)>,
    secrets: Vec<String>,
    retries: Option<usize>,
) -> PyResult<Vec<(String, u64)>> {
    let found = py.detach(|| -> Result<Vec<(String, u64)>> {
        let parsed = Url::parse(&url).map_err(|e| {
            Error::InvalidInput(format!(
                "{url}: not a URL ({e}); colbridge reads {}",
                store::SCHEMES
            ))
        })?;
        let shown = store::url_for_messages(&parsed);
        let retries = retries.unwrap_or(Settings::default().retries);
        let (store, prefix) = store::open(&parsed, &options, retries)?;
        let listed: Vec<object_store::ObjectMeta> = runtime()?
            .block_on(store.list(Some(&prefix)).collect::<Vec<_>>())
            .into_iter()
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| store::storage_error(&shown, &e, &secrets))?;
        let base = shown.trim_end_matches('/');
        let prefix_len = prefix.as_ref().len();
        let mut out: Vec<(String, u64)> = listed
            .into_iter()
            .map(|meta| {
                let key = meta.location.as_ref();
                let rest = key.get(prefix_len..).unwrap_or(key).trim_start_matches('/');
                (format!("{base}/{rest}"), meta.size)
            })
            .collect();
        out.sort();
        Ok(out)
    })?;
    Ok(found)
}

/// `colbridge._colbridge.RemoteFile`: an object in a store, opened (its size and tail fetched)
/// and ready to be read by `read_parquet`, `ParquetFile` and the other readers.
#[pyclass(name = "RemoteFile", module = "colbridge._colbridge", frozen)]
pub(crate) struct PyRemoteFile {
    pub(crate) inner: Arc<RemoteFile>,
}

#[pymethods]
impl PyRemoteFile {
    /// Open `url` with `options` (object_store configuration keys); `secrets` are values to keep
    /// out of messages.
    #[new]
    #[pyo3(signature = (url, options, secrets, concurrency=None, metadata_size_hint=None, retries=None, prefetch_bytes=None))]
    #[allow(clippy::too_many_arguments)] // the Python constructor's keywords
    fn new(
        py: Python<'_>,
        url: String,
        options: Vec<(String, String)>,
        secrets: Vec<String>,
        concurrency: Option<usize>,
        metadata_size_hint: Option<u64>,
        retries: Option<usize>,
        prefetch_bytes: Option<u64>,
    ) -> PyResult<Self> {
        let mut settings = Settings::default();
        if let Some(n) = concurrency {
            settings.concurrency = n.max(1);
        }
        if let Some(n) = metadata_size_hint {
            settings.metadata_size_hint = n;
        }
        if let Some(n) = retries {
            settings.retries = n;
        }
        // 0: no bound (Python's `None`).
        match prefetch_bytes {
            Some(0) => settings.prefetch_bytes = None,
            Some(n) => settings.prefetch_bytes = Some(n),
            None => {}
        }
        let inner = py.detach(|| RemoteFile::open(&url, options, secrets, settings))?;
        Ok(PyRemoteFile { inner })
    }

    #[getter]
    fn url(&self) -> &str {
        self.inner.url()
    }

    #[getter]
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn __repr__(&self) -> String {
        format!(
            "RemoteFile({:?}, size={})",
            self.inner.url(),
            self.inner.size()
        )
    }
}
