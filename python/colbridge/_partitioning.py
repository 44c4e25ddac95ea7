"""Hive partitioning: ``key=value`` directories typed as pyarrow types them, and the part of
a DNF filter that partition values alone decide (whole files skipped before any I/O)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from colbridge._sources import FileRef
from colbridge.errors import InvalidInputError

_INT = re.compile(r"^-?[0-9]+$")

Term = tuple[str, str, Any]
Filters = Term | Sequence[Term] | Sequence[Sequence[Term]]


@dataclass(frozen=True)
class Partitioning:
    """The hive partition keys of a dataset and, per key, its values (the categories)."""

    keys: tuple[str, ...]
    values: dict[str, list[Any]]
    integer: dict[str, bool]

    @classmethod
    def of(cls, files: Sequence[FileRef]) -> Partitioning:
        keys: list[str] = []
        texts: dict[str, list[str]] = {}
        for ref in files:
            for key, value in ref.partitions:
                if key not in texts:
                    keys.append(key)
                    texts[key] = []
                if value is not None and value not in texts[key]:
                    texts[key].append(value)
        integer = {k: all(_fits_int32(v) for v in texts[k]) and bool(texts[k]) for k in keys}
        values: dict[str, list[Any]] = {}
        for k in keys:
            if integer[k]:
                values[k] = list(dict.fromkeys(int(v) for v in texts[k]))
            else:
                values[k] = texts[k]
        return cls(tuple(keys), values, integer)

    def value(self, ref: FileRef, key: str) -> Any:
        """The typed partition value of ``key`` for the file ``ref`` (None when absent)."""
        text = dict(ref.partitions).get(key)
        if text is None:
            return None
        return int(text) if self.integer[key] else text

    def field_type(self, key: str) -> str:
        """The Arrow type of the key's column, as pyarrow's hive partitioning gives it."""
        return "Dictionary(Int32, Int32)" if self.integer[key] else "Dictionary(Int32, Utf8)"


def _fits_int32(text: str) -> bool:
    return bool(_INT.match(text)) and -(2**31) <= int(text) < 2**31


def _dnf(filters: Filters | None) -> list[list[Term]] | None:
    if filters is None:
        return None
    if isinstance(filters, tuple) and len(filters) == 3 and isinstance(filters[0], str):
        return [[filters]]  # a single bare term, as pyarrow reads it
    groups = list(filters)
    if not groups:
        return None
    if isinstance(groups[0], list):
        return [[tuple(t) for t in g] for g in groups]
    return [[tuple(t) for t in groups]]


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b),
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}


def _partition_term(term: Term, value: Any, integer: bool) -> bool:
    column, op, literal = term
    op = op.lower()
    if op == "is null":
        return value is None
    if op == "is not null":
        return value is not None
    if op not in _OPS:
        raise InvalidInputError(f"filter on partition '{column}': unknown operator {op!r}")
    wanted = int if integer else str
    literals = list(literal) if op in ("in", "not in") else [literal]
    for lit in literals:
        if not isinstance(lit, wanted) or isinstance(lit, bool):
            kind = "integers" if integer else "strings"
            raise InvalidInputError(
                f"filter on partition '{column}' ({kind}) compares it with {lit!r} "
                f"({type(lit).__name__})"
            )
    if value is None:
        return False
    return _OPS[op](value, set(literals) if op in ("in", "not in") else literal)


def file_filters(
    filters: Filters | None, ref: FileRef, partitioning: Partitioning
) -> tuple[bool, list[list[Term]] | None]:
    """Whether the file ``ref`` can hold rows ``filters`` keeps (decided by its partition
    values alone), and the filter left for its reader (None: every row)."""
    dnf = _dnf(filters)
    if dnf is None:
        return True, None
    remaining: list[list[Term]] = []
    for group in dnf:
        rest: list[Term] = []
        possible = True
        for term in group:
            key = term[0]
            if key in partitioning.keys:
                value = partitioning.value(ref, key)
                if not _partition_term(term, value, partitioning.integer[key]):
                    possible = False
            else:
                rest.append(term)
        if possible:
            if not rest:
                return True, None  # one OR branch keeps every row of this file
            remaining.append(rest)
    return bool(remaining), remaining or None
