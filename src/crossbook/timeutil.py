"""Venue timestamps to int64 nanoseconds since the epoch, exactly.

datetime stops at microseconds and floats lose nanoseconds, so ISO-8601 text
is read field by field as integers.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = ["NS_PER_MS", "NS_PER_S", "NS_PER_US", "iso_ns"]

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000  # venues stamp milliseconds; messages carry nanoseconds
NS_PER_US = 1_000

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ISO = re.compile(
    rb"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})"
)


def iso_ns(text: object) -> int:
    """``2023-02-09T20:32:50.714964855Z`` as integer ns since the epoch, all 9 digits kept.

    The zone (Z or an offset) is required: a time without one is ambiguous.
    datetime stops at microseconds and floats lose nanoseconds, so the fields
    are read as integers.
    """
    if not isinstance(text, str):
        raise ValueError(f"not an ISO-8601 time: {text!r}")
    m = _ISO.fullmatch(text.encode())
    if m is None:
        raise ValueError(f"not an ISO-8601 time: {text!r}")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    if h > 23 or mi > 59 or s > 60:
        raise ValueError(f"not an ISO-8601 time: {text!r}")
    days = date(y, mo, d).toordinal() - _EPOCH_ORDINAL  # ValueError on a bad date
    frac = (m.group(7) or b"").ljust(9, b"0")
    secs = days * 86_400 + h * 3_600 + mi * 60 + s
    tz = m.group(8)
    if tz != b"Z":
        sign = -1 if tz[:1] == b"-" else 1
        secs -= sign * (int(tz[1:3]) * 3_600 + int(tz[4:6]) * 60)
    ns = secs * 1_000_000_000 + int(frac)
    if not 0 <= ns < 1 << 63:
        raise ValueError(f"time {text!r} is outside int64 nanoseconds since 1970")
    return ns
