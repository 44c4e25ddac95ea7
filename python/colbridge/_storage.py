"""Object storage: ``storage_options`` in pandas' (fsspec's) spelling, translated into the keys of
arrow-rs' ``object_store`` crate, and the opening of a remote file (``_colbridge.RemoteFile``,
which fetches the object's size and footer in one request; see ``src/remote/``).

What pandas users pass works: ``key``, ``secret``, ``token``, ``endpoint_url``, ``region``,
``anon`` and ``client_kwargs`` (``endpoint_url``, ``region_name``) for ``s3://``; ``token``
(a service-account file, or ``"anon"``) and ``anon`` for ``gs://``; ``account_name``,
``account_key``, ``sas_token``, ``anon`` for ``az://`` / ``abfs(s)://``. object_store's own keys
(``aws_access_key_id``, ``google_service_account``, ``azure_storage_account_key``, ...) pass
through, and the environment (``AWS_*``, ``GOOGLE_*``, ``AZURE_*``) supplies what is not given.
Four keys are colbridge's own: ``concurrency`` (requests in flight, default 8),
``metadata_size_hint`` (bytes of the first, footer-and-size request, default 64 KiB),
``retries`` (of a failed request, with exponential backoff; default 4) and ``prefetch_bytes``
(how many compressed bytes fetching may run ahead of decoding; default ``None``, no bound: the
selected chunks are asked for at once in file order, in the fewest requests, and each response
is kept in pieces of 4 MiB (up to 16 MiB in reads over 2 GiB) that go as soon as the decoders
are past them, each response read no further than four pieces ahead of them unless a decoder
waits for more, so the peak stays near the output; a number bounds what is fetched and not yet
decoded, fetching chunk by chunk in the order the decoders read them, at the cost of a request
per chunk: for a store that drops a connection left waiting).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from colbridge.errors import InvalidInputError

#: URL schemes read from object storage.
REMOTE_SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "azure", "abfs", "abfss", "adl", "http", "https")

_OWN = ("concurrency", "metadata_size_hint", "retries", "prefetch_bytes")

#: pandas/fsspec spelling -> object_store key, per scheme family.
_RENAMES: dict[str, dict[str, str]] = {
    "s3": {
        "key": "access_key_id",
        "secret": "secret_access_key",
        "token": "session_token",
        "endpoint_url": "endpoint",
        "region_name": "region",
        "anon": "skip_signature",
    },
    "gs": {"anon": "skip_signature", "token": "service_account_path"},
    "az": {"anon": "skip_signature", "sas_token": "sas_key", "credential": "access_key"},
    "http": {},
}
_FAMILY = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gs",
    "gcs": "gs",
    "az": "az",
    "azure": "az",
    "abfs": "az",
    "abfss": "az",
    "adl": "az",
    "http": "http",
    "https": "http",
}
#: fsspec keys with no object_store counterpart that change nothing colbridge does.
_IGNORED = {"s3": {"use_ssl", "default_block_size", "default_fill_cache"}, "gs": {"project"}}
#: Option names whose values are credentials (kept out of every message).
_SECRET_WORDS = ("key", "secret", "token", "password", "credential", "sas")


def scheme(text: str) -> str | None:
    """The lower-cased scheme of a remote URL, or ``None``."""
    head, sep, _ = text.partition("://")
    if sep and head.lower() in REMOTE_SCHEMES:
        return head.lower()
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def translate(
    url: str, storage_options: Mapping[str, Any] | None
) -> tuple[list[tuple[str, str]], list[str], dict[str, int]]:
    """``storage_options`` for ``url`` as object_store ``(key, value)`` pairs, the values to keep
    out of messages, and colbridge's own settings.

    Example:
        >>> pairs, secrets, own = translate("s3://b/k", {"key": "AK", "secret": "s3", "retries": 2})
        >>> pairs, own
        ([('access_key_id', 'AK'), ('secret_access_key', 's3')], {'retries': 2})
    """
    family = _FAMILY[scheme(url) or "http"]
    given = dict(storage_options or {})
    client = given.pop("client_kwargs", None) or {}
    if not isinstance(client, Mapping):
        raise InvalidInputError("storage_options['client_kwargs'] must be a dict")
    for k in ("endpoint_url", "region_name"):
        if k in client:
            given.setdefault(k, client[k])
    own: dict[str, int] = {}
    pairs: list[tuple[str, str]] = []
    secrets: list[str] = []
    for key, value in given.items():
        if key == "prefetch_bytes" and value is None:
            own[key] = 0  # no bound
            continue
        if key in _OWN:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInputError(
                    f"storage_options[{key!r}] must be a non-negative integer, not {value!r}"
                )
            own[key] = value
            continue
        if value is None or key in _IGNORED.get(family, ()):
            continue
        if family == "gs" and key == "token" and value in ("anon", None):
            pairs.append(("skip_signature", "true"))
            continue
        name = _RENAMES[family].get(key, key)
        if family == "s3" and name == "endpoint" and str(value).startswith("http://"):
            pairs.append(("aws_allow_http", "true"))
        text = _text(value)
        pairs.append((name, text))
        if any(word in key.lower() for word in _SECRET_WORDS):
            secrets.append(text)
    return pairs, secrets, own


def open_remote(url: str, storage_options: Mapping[str, Any] | None) -> Any:
    """``url`` opened as a ``_colbridge.RemoteFile``: one request, for its size and footer
    (tests/remote open them against loopback servers)."""
    from colbridge import _colbridge

    pairs, secrets, own = translate(url, storage_options)
    remote = getattr(_colbridge, "RemoteFile", None)
    if remote is None:
        raise InvalidInputError(
            f"{redact(url)}: this build of colbridge has no object storage (built without the "
            "'remote' feature)"
        )
    return remote(url, pairs, secrets, **own)


def redact(url: str) -> str:
    """``url`` without a password or query (either may hold a credential)."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = netloc[-1] if len(netloc) == 1 else f"{netloc[0].split(':', 1)[0]}@{netloc[-1]}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))
