"""Bitstamp's 2015 order-feed log (live_orders / live_trades / order_book).

One line per event, ``<local_ms> <event> <json>``::

    1430438404518 order_created {"price": "236.47", "amount": "2.00000000", "datetime": "1430438404", "id": 65595247, "order_type": 0}
    1430438404645 trade {"price": 236.47, "amount": 0.21144331, "id": 8111041}
    1430438405885 order_book {"bids": [["236.47", "1.78855669"], ...], "asks": [...]}

``local_ms`` is the recorder's clock (ms since the epoch) and becomes
``ts_recv_ns``. In order events ``order_type`` 0 is a buy (bid), 1 a sell
(ask); ``amount`` is the order's open amount after the event (0 when a delete
follows a complete fill); ``datetime`` is the order's creation time in seconds,
on every event of the order, so it is the exchange time of ``order_created``
only (``ts_exchange_ns``; 0 on the others, and ``created_ns`` keeps it for all).

- order_created -> ADD; order_changed -> MODIFY to the new price and amount
  (a partial fill lowers the amount; 36 changes in the 2015-05-01 file also
  move a sell order's price); order_deleted -> CANCEL 0 (all that rests).
- trade lines -> ``trades``; their numbers are JSON floats written by a
  float printer (``1.7885566900000001``): a value is rounded to the exponent
  only when the extra digits are below float64 precision, else it is an error.
- order_book lines (top 20 per side) -> ``snapshots``.

Prices use ``PRICE_EXP = 2``, amounts ``SIZE_EXP = 8``. The log has no initial
state, so a replay from empty meets ids it never saw added (deletes of orders
from before the log, repeated deletes, and a few deletes that arrive before
their create): replay with ``OrderBook(..., on_anomaly="count")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io._common import DataFormatError, Source, open_binary, source_name

__all__ = [
    "PRICE_EXP",
    "SIZE_EXP",
    "TRADE",
    "BitstampLog",
    "BitstampLogFormatError",
    "BitstampSnapshot",
    "read_log",
]

PRICE_EXP = 2
SIZE_EXP = 8

#: One trade line; ``line`` is its 1-based line number.
TRADE = np.dtype(
    [("ts_recv_ns", "<i8"), ("line", "<i8"), ("trade_id", "<u8"), ("price", "<i8"), ("size", "<i8")]
)

_ORDER_ACTIONS = {
    b"order_created": dtypes.ORDER_ADD,
    b"order_changed": dtypes.ORDER_MODIFY,
    b"order_deleted": dtypes.ORDER_CANCEL,
}
_SIDES = {0: int(Side.BID), 1: int(Side.ASK)}
_decoder = msgspec.json.Decoder(float_hook=Decimal)  # keeps a JSON number's own digits


class BitstampLogFormatError(DataFormatError):
    """A log line that does not follow the format; names the file and line."""


@dataclass(frozen=True, slots=True)
class BitstampSnapshot:
    """An order_book line: the top levels per side (DEPTH rows, count 0)."""

    line: int
    ts_recv_ns: int
    bids: npt.NDArray[np.void]
    asks: npt.NDArray[np.void]


@dataclass(frozen=True, slots=True)
class BitstampLog:
    """``events[i]`` comes from line ``event_line[i]``; ``created_ns[i]`` is
    that order's creation time (its ``datetime``)."""

    source: str
    events: npt.NDArray[np.void]
    event_line: npt.NDArray[np.int64]
    created_ns: npt.NDArray[np.int64]
    trades: npt.NDArray[np.void]
    snapshots: tuple[BitstampSnapshot, ...]


def _number(value: Any, exp: int, what: str) -> int:
    """A JSON float's exact value at ``exp``, forgiving only float-printer noise."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise TypeError(f"{what} is not a number: {value!r}")
    if isinstance(value, str):
        return parse_fixed(value, exp)
    exact = Decimal(value)
    mant = exact.scaleb(exp).to_integral_value()
    # A float64 has 53 bits (about 1e-16 relative): digits past that are the
    # printer's, not the venue's.
    if abs(exact.scaleb(exp) - mant) > abs(exact.scaleb(exp)) * Decimal("1e-15"):
        raise ValueError(f"{what} {value} has more decimals than exponent {exp} allows")
    return int(mant)


def _field(obj: dict[str, Any], key: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise ValueError(f"missing field {key!r}") from None


def _order(obj: dict[str, Any]) -> tuple[int, int, int, int, int]:
    oid = _field(obj, "id")
    otype = _field(obj, "order_type")
    if isinstance(oid, bool) or not isinstance(oid, int) or oid < 0:
        raise ValueError(f"bad order id {oid!r}")
    if otype not in _SIDES:
        raise ValueError(f"bad order_type {otype!r} (0 buy, 1 sell)")
    price = _field(obj, "price")
    amount = _field(obj, "amount")
    created = _field(obj, "datetime")
    if not (isinstance(price, str) and isinstance(amount, str)):
        raise TypeError("price and amount must be decimal text")
    if not (isinstance(created, str) and created.isdigit()):
        raise ValueError(f"datetime is not whole seconds: {created!r}")
    return (oid, _SIDES[otype], parse_fixed(price, PRICE_EXP), parse_fixed(amount, SIZE_EXP),
            int(created) * 1_000_000_000)  # fmt: skip


def _levels(rows: Any, what: str) -> npt.NDArray[np.void]:
    if not isinstance(rows, list):
        raise TypeError(f"{what} is not a list")
    out = np.zeros(len(rows), dtype=dtypes.DEPTH)
    for i, lvl in enumerate(rows):
        if not (isinstance(lvl, list) and len(lvl) >= 2):
            raise ValueError(f"{what}[{i}] is not [price, amount]")
        out[i]["price"] = parse_fixed(lvl[0], PRICE_EXP)
        out[i]["size"] = parse_fixed(lvl[1], SIZE_EXP)
    return out


class _Acc:
    """Rows gathered while reading, turned into arrays at the end."""

    def __init__(self) -> None:
        self.orders: list[tuple[int, ...]] = []
        self.trades: list[tuple[int, ...]] = []
        self.snaps: list[BitstampSnapshot] = []

    def line(self, ts_ns: int, event: bytes, obj: Any, n: int) -> None:
        if not isinstance(obj, dict):
            raise TypeError("the JSON is not an object")
        action = _ORDER_ACTIONS.get(event)
        if action is not None:
            oid, side, price, size, created = _order(obj)
            if action == dtypes.ORDER_CANCEL:
                size = 0  # the open amount is informative; the order leaves whatever rests
            exch = created if action == dtypes.ORDER_ADD else 0
            self.orders.append((exch, ts_ns, oid, price, size, side, action, n, created))
        elif event == b"trade":
            tid = _field(obj, "id")
            if isinstance(tid, bool) or not isinstance(tid, int) or tid < 0:
                raise ValueError(f"bad trade id {tid!r}")
            price = _number(_field(obj, "price"), PRICE_EXP, "price")
            size = _number(_field(obj, "amount"), SIZE_EXP, "amount")
            self.trades.append((ts_ns, n, tid, price, size))
        elif event == b"order_book":
            bids = _levels(_field(obj, "bids"), "bids")
            asks = _levels(_field(obj, "asks"), "asks")
            self.snaps.append(BitstampSnapshot(n, ts_ns, bids, asks))
        else:
            raise ValueError(f"unknown event {event.decode(errors='replace')!r}")


def read_log(src: Source) -> BitstampLog:
    """Reads the log (plain or compressed); every line is accounted for.

    Malformed lines raise BitstampLogFormatError with the file and line.
    """
    name = source_name(src)
    acc = _Acc()
    try:
        with open_binary(src) as f:
            for n, raw in enumerate(f, 1):
                _parse_line(acc, raw, name, n)
    except (OSError, EOFError) as exc:
        raise BitstampLogFormatError(
            name, 0, f"cannot read (truncated or corrupt?): {exc}"
        ) from exc
    ev = np.zeros(len(acc.orders), dtype=dtypes.ORDER_EVENT)
    line = np.zeros(len(acc.orders), dtype=np.int64)
    created = np.zeros(len(acc.orders), dtype=np.int64)
    if acc.orders:
        cols = list(zip(*acc.orders, strict=True))
        for field, col in zip(
            ("ts_exchange_ns", "ts_recv_ns", "order_id", "price", "size", "side", "action"), cols
        ):
            ev[field] = col
        line[:], created[:] = cols[7], cols[8]
    ev["flags"] = dtypes.F_LAST  # each line is one event of the feed
    trades = np.array(acc.trades, dtype=TRADE) if acc.trades else np.zeros(0, TRADE)
    return BitstampLog(name, ev, line, created, trades, tuple(acc.snaps))


def _parse_line(acc: _Acc, raw: bytes, name: str, n: int) -> None:
    text = raw.rstrip(b"\r\n")
    if not text.strip():
        return
    parts = text.split(b" ", 2)
    if len(parts) != 3 or not parts[0].isdigit():
        raise BitstampLogFormatError(
            name, n, f"expected '<local_ms> <event> <json>', got {text[:60]!r}"
        )
    try:
        obj = _decoder.decode(parts[2])
    except msgspec.DecodeError as exc:
        raise BitstampLogFormatError(name, n, f"bad JSON ({exc}): {parts[2][:60]!r}") from None
    try:
        acc.line(int(parts[0]) * 1_000_000, parts[1], obj, n)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BitstampLogFormatError(name, n, str(exc)) from None
