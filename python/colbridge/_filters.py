"""Filter values written as text for date, time and timestamp columns.

``filters=[("pickup", ">=", "2023-11-15")]`` reads the string as the date, time or timestamp it
spells in ISO 8601 (``datetime.fromisoformat``), as pandas reads a string compared with a
datetime column; pyarrow 26 refuses a string there. A timestamp without an offset is a
wall-clock time in the column's zone (pandas' reading); a string with an offset against a
column without a zone is refused, as pandas refuses comparing naive with aware times. The Rust
filter parser calls :func:`temporal_literals` and converts its result to the column's type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from colbridge.errors import InvalidInputError

_EXAMPLES = {
    "timestamp": "'2023-11-15', '2023-11-15T08:30:00' or '2023-11-15T08:30:00+01:00'",
    "date": "'2023-11-15'",
    "time": "'08:30' or '08:30:00.250'",
}


def _zone(tz: str) -> dt.tzinfo:
    """The ``tzinfo`` of an Arrow time zone: an IANA name or a fixed offset such as ``+01:00``."""
    if tz[:1] in "+-" and len(tz) == 6 and tz[3] == ":":
        sign = 1 if tz[0] == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
    if tz.upper() in ("UTC", "Z"):
        return dt.UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(tz)


def temporal_literals(
    values: list[Any], column: str, type_name: str, kind: str, tz: str | None
) -> list[Any]:
    """``values`` with each string read as a ``kind`` ("timestamp", "date" or "time") of
    column ``column`` (of type ``type_name``, in zone ``tz``); other values pass unchanged."""
    parsers: dict[str, Callable[[str], Any]] = {
        "timestamp": dt.datetime.fromisoformat,
        "date": dt.date.fromisoformat,
        "time": dt.time.fromisoformat,
    }
    parse = parsers[kind]
    out: list[Any] = []
    for value in values:
        if not isinstance(value, str):
            out.append(value)
            continue
        where = f"filter on '{column}' ({type_name})"
        try:
            parsed: Any = parse(value)
        except ValueError:
            raise InvalidInputError(
                f"{where}: could not read {value!r} as a {kind}: use an ISO 8601 string such as "
                f"{_EXAMPLES[kind]}, or a datetime.{'datetime' if kind == 'timestamp' else kind}"
            ) from None
        if kind == "timestamp":
            if tz is not None and parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=_zone(tz))
            elif tz is None and parsed.tzinfo is not None:
                raise InvalidInputError(
                    f"{where}: {value!r} has a UTC offset but the column has no time zone: "
                    "give the time without an offset"
                )
        out.append(parsed)
    return out
