//! A URL and its options as an `object_store` store: the scheme picks the backend, each option
//! is that backend's own configuration key (the Python side has already translated pandas'
//! `storage_options` spelling), the environment supplies the rest (`AWS_*`, `GOOGLE_*`,
//! `AZURE_*` and the usual credential chains), and every request is retried with backoff.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::http::HttpBuilder;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientConfigKey, ClientOptions, ObjectStore, ObjectStoreScheme, RetryConfig,
};
use url::Url;

use crate::error::{Error, StorageKind};

/// The schemes `open` takes, for messages.
pub(crate) const SCHEMES: &str = "s3://, gs://, az://, abfs(s)://, http:// and https://";

/// A store for `url` and the object's path in it.
pub(crate) fn open(
    url: &Url,
    options: &[(String, String)],
    retries: usize,
) -> Result<(Arc<dyn ObjectStore>, Path), Error> {
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            base: 2.0,
        },
        max_retries: retries,
        retry_timeout: Duration::from_secs(120),
    };
    let bad_key = |key: &str| {
        Error::InvalidInput(format!(
            "{}: unknown storage option {key:?} for {}:// (see colbridge's storage_options)",
            url_for_messages(url),
            url.scheme()
        ))
    };
    // A cloud store's builder: the URL, the retries, then each option as its own key.
    macro_rules! cloud {
        ($builder:expr, $key:ty) => {{
            let mut b = $builder.with_url(url.as_str()).with_retry(retry);
            for (k, v) in options {
                b = b.with_config(<$key>::from_str(k).map_err(|_| bad_key(k))?, v);
            }
            Arc::new(b.build().map_err(|e| config_error(url, e))?)
        }};
    }
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" | "s3a" => cloud!(AmazonS3Builder::from_env(), AmazonS3ConfigKey),
        "gs" | "gcs" => cloud!(GoogleCloudStorageBuilder::from_env(), GoogleConfigKey),
        "az" | "azure" | "abfs" | "abfss" | "adl" => {
            cloud!(MicrosoftAzureBuilder::from_env(), AzureConfigKey)
        }
        "http" | "https" => {
            let mut client = ClientOptions::new().with_allow_http(true);
            for (k, v) in options {
                client =
                    client.with_config(ClientConfigKey::from_str(k).map_err(|_| bad_key(k))?, v);
            }
            let origin = url.origin().ascii_serialization();
            let b = HttpBuilder::new()
                .with_url(origin)
                .with_client_options(client)
                .with_retry(retry);
            Arc::new(b.build().map_err(|e| config_error(url, e))?)
        }
        other => {
            return Err(Error::InvalidInput(format!(
                "{}: unknown URL scheme {other}://; colbridge reads {SCHEMES}",
                url_for_messages(url)
            )))
        }
    };
    let path = object_path(url)?;
    Ok((store, path))
}

/// The object's path in its store, as object_store itself splits the URL (for `abfss://` the
/// container is the user part, for `az://` the host).
fn object_path(url: &Url) -> Result<Path, Error> {
    ObjectStoreScheme::parse(url)
        .map(|(_, path)| path)
        .map_err(|e| {
            Error::InvalidInput(format!("{}: not an object URL: {e}", url_for_messages(url)))
        })
}

/// `url` without a password or query (either may hold a credential; the user part of an
/// `abfss://` URL is the container and stays).
pub(crate) fn url_for_messages(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

fn config_error(url: &Url, e: object_store::Error) -> Error {
    Error::InvalidInput(format!(
        "{}: cannot configure the store: {e}",
        url_for_messages(url)
    ))
}

/// An `object_store` error as colbridge's, naming `url`; `secrets` (the credentials the user
/// gave) are blanked out of the store's message, which may quote a server's reply.
pub(crate) fn storage_error(url: &str, e: &object_store::Error, secrets: &[String]) -> Error {
    use object_store::Error as E;
    let kind = match e {
        E::NotFound { .. } => StorageKind::NotFound,
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => StorageKind::Permission,
        _ => StorageKind::Other,
    };
    let what = match kind {
        StorageKind::NotFound => "no such object",
        StorageKind::Permission => "access denied",
        StorageKind::Other => "the request failed",
    };
    let mut message = format!("{url}: {what}: {}", concise(&e.to_string()));
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        message = message.replace(secret.as_str(), "***");
    }
    Error::Storage(kind, message)
}

/// A store's message with the XML error document of an S3/GCS/Azure reply reduced to its code
/// and message (`NoSuchKey: The specified key does not exist.`), and an HTML error page left
/// out.
fn concise(message: &str) -> String {
    // An HTML error page (a plain web server's 404) says nothing the status line does not.
    let html = ["<!DOCTYPE", "<!doctype", "<html", "<HTML"]
        .iter()
        .filter_map(|tag| message.find(tag))
        .min();
    if let Some(at) = html {
        return message[..at].trim_end().trim_end_matches(':').to_string();
    }
    let Some(at) = message.find("<?xml").or_else(|| message.find("<Error>")) else {
        return message.to_string();
    };
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = message[at..].find(&open)? + at + open.len();
        let end = message[start..].find(&format!("</{name}>"))? + start;
        Some(message[start..end].to_string())
    };
    let head = message[..at].trim_end().trim_end_matches(':');
    match (element("Code"), element("Message")) {
        (Some(code), Some(text)) => format!("{head}: {code}: {text}"),
        (Some(code), None) => format!("{head}: {code}"),
        _ => head.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::concise;

    #[test]
    fn xml_replies_are_reduced_to_code_and_message() {
        let long = "GET failed - 404 Not Found: <?xml version=\"1.0\"?>\n<Error><Code>NoSuchKey</Code>\
                    <Message>The specified key does not exist.</Message><RequestId>x</RequestId></Error>";
        assert_eq!(
            concise(long),
            "GET failed - 404 Not Found: NoSuchKey: The specified key does not exist."
        );
        assert_eq!(concise("plain"), "plain");
        let page = "GET failed - Server returned non-2xx status code: 404 Not Found: \
                    <!DOCTYPE HTML>\n<html lang=\"en\"><body>File not found.</body></html>";
        assert_eq!(
            concise(page),
            "GET failed - Server returned non-2xx status code: 404 Not Found"
        );
    }
}
