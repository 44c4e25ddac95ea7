"""Buffers handed to consumers: a pointer, a size and the object that keeps the memory alive."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from colbridge._interchange.protocol import DlpackDeviceType

if TYPE_CHECKING:
    from colbridge._colbridge import Buffer as ArrowBuffer


class Buffer:
    """One contiguous block of memory handed to a consumer: a pointer and a size in bytes.

    ``owner`` (a :class:`colbridge.Buffer` or, for the rare copies, a NumPy array) keeps the
    memory alive for as long as this object lives.

    Example:
        >>> import colbridge
        >>> arr = colbridge.array([1, 2, 3])
        >>> Buffer(arr.values.address, arr.values.size, arr.values).bufsize
        24
    """

    __slots__ = ("_bufsize", "_owner", "_ptr")

    def __init__(self, ptr: int, bufsize: int, owner: Any) -> None:
        self._ptr = ptr
        self._bufsize = bufsize
        self._owner = owner

    @property
    def bufsize(self) -> int:
        """Size of the buffer in bytes."""
        return self._bufsize

    @property
    def ptr(self) -> int:
        """Address of the first byte, as an integer."""
        return self._ptr

    def __copy__(self) -> Buffer:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Buffer:
        # The memory is immutable and shared by design; pandas deep-copies ``DataFrame.attrs``
        # (where its consumer keeps the buffers alive), so a deep copy is this same view.
        return self

    def __dlpack__(self) -> Any:
        """Not supported: consumers use ``ptr`` and ``bufsize`` (the spec makes this optional)."""
        raise NotImplementedError("colbridge interchange buffers do not implement __dlpack__")

    def __dlpack_device__(self) -> tuple[DlpackDeviceType, int | None]:
        """Device type and id: always the CPU."""
        return (DlpackDeviceType.CPU, None)

    def __repr__(self) -> str:
        return f"colbridge.interchange.Buffer(ptr=0x{self._ptr:x}, bufsize={self._bufsize})"


def _shifted(buf: ArrowBuffer, elements: int) -> Buffer:
    """``buf`` seen from ``elements`` elements before its start (to honour a column offset)."""
    back = elements * buf.itemsize
    return Buffer(buf.address - back, buf.size + back, buf)


def _bitmap(buf: ArrowBuffer) -> Buffer:
    return Buffer(buf.address, buf.size, buf)


def _owned(values: np.ndarray[Any, Any]) -> Buffer:
    return Buffer(values.__array_interface__["data"][0], values.nbytes, values)
