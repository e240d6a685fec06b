"""Shared by the venues whose levels are decimal text that the venue trims
(Coinbase, Gemini, KuCoin, Gate.io) or pads (Bitstamp): exponents with floors,
level arrays from text rows, and ISO-8601 times to integer nanoseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
import numpy.typing as npt

from crossbook.messages import Instrument, level_events
from crossbook.venues.base import InstrumentTable, wire_decimals

__all__ = ["TextRows", "iso_ns", "resolve", "text_levels"]

TextRows = list[list[str]]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ISO = re.compile(
    rb"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})"
)


def _texts(rows: Iterable[Sequence[object]], col: int) -> list[str]:
    out = []
    for r in rows:
        v = r[col] if len(r) > col else None
        if isinstance(v, str):
            out.append(v)
    return out


def resolve(table: InstrumentTable, symbol: str, rows: Iterable[Sequence[object]], *,
            min_price_exp: int = 0, min_size_exp: int = 0) -> Instrument:
    """The symbol's instrument, inferred once from the rows' widest text.

    A venue that trims trailing zeros shows less precision in one message than
    its instrument has, so the caller passes floors (its finest increments);
    a later finer value is still a ParseError naming it, never rounded.
    """
    inst = table.get(symbol)
    if inst is None:
        rows = list(rows)
        inst = Instrument(table.venue, symbol,
                          price_exp=max(min_price_exp, wire_decimals(_texts(rows, 0))),
                          size_exp=max(min_size_exp, wire_decimals(_texts(rows, 1))))
        table.add(inst)
    return inst


def text_levels(bids: TextRows, asks: TextRows, inst: Instrument, *, ts_exchange_ns: int = 0,
                ts_recv_ns: int = 0, snapshot: bool = False) -> npt.NDArray[np.void]:
    """LEVEL_EVENT rows, bids first, at the instrument's exponents; ValueError names
    a value that does not fit or is negative (level_events refuses both)."""
    return level_events(bids, asks, inst.price_exp, inst.size_exp, ts_exchange_ns=ts_exchange_ns,
                        ts_recv_ns=ts_recv_ns, snapshot=snapshot)


def iso_ns(text: str) -> int:
    """``2023-02-09T20:32:50.714964855Z`` as integer ns since the epoch, all 9 digits kept.

    The zone (Z or an offset) is required: a time without one is ambiguous.
    datetime stops at microseconds and floats lose nanoseconds, so the fields
    are read as integers.
    """
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
