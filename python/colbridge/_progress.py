"""Progress bars for long reads: ``tqdm.auto`` when installed (a widget in notebooks, a text
bar in terminals), else a minimal built-in bar on stderr. The Rust decoder counts the bytes it
fetches; the waiting Python thread reports them every 100 ms, so decoding never holds the GIL
for the bar, and with progress off nothing is counted or drawn."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: Files at least this large get a progress bar by default (``progress=None``) when interactive.
AUTO_THRESHOLD_BYTES = 256 * 1024 * 1024

Callback = Callable[[int, int], object]


def _interactive() -> bool:
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _source_size(source: Any) -> int | None:
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            return len(source)
        return os.stat(os.fspath(source)).st_size
    except (TypeError, OSError):
        return None


def wanted(progress: bool | Callback | None, source: Any) -> bool:
    """Whether a read of ``source`` shows progress under the ``progress=`` setting."""
    if progress is not None:
        return bool(progress)
    size = _source_size(source)
    return size is not None and size >= AUTO_THRESHOLD_BYTES and _interactive()


class _TextBar:
    """The fallback bar: one carriage-returned line on stderr, redrawn at most 10 times/s."""

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self.last = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        frac = done / total if total else 1.0
        filled = int(30 * frac)
        sys.stderr.write(
            f"\r{self.desc} [{'#' * filled}{'.' * (30 - filled)}] {frac:6.1%} "
            f"{done / 2**20:,.1f}/{total / 2**20:,.1f} MiB"
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


class _TqdmBar:
    def __init__(self, desc: str) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=0, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)

    def update(self, done: int, total: int) -> None:
        if self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


@contextmanager
def reporter(
    progress: bool | Callback | None, source: Any, desc: str = "reading"
) -> Iterator[Callback | None]:
    """A callback for the decoder's ``on_progress`` (or None when progress is off); a callable
    ``progress`` is that callback itself (called with bytes fetched and bytes planned)."""
    if callable(progress):
        yield progress
        return
    if not wanted(progress, source):
        yield None
        return
    try:
        bar: _TqdmBar | _TextBar = _TqdmBar(desc)
    except ImportError:
        bar = _TextBar(desc)
    try:
        yield bar.update
    finally:
        bar.close()
