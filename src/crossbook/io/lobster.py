"""LOBSTER (NASDAQ, lobsterdata.com) message and orderbook files.

A message line is ``time,type,order_id,size,price,direction``::

    34200.004241176,1,16113575,18,5853300,1

time in seconds after midnight (New York time) with up to nanosecond decimals,
type 1 new order, 2 partial cancel, 3 delete, 4 visible execution, 5 hidden
execution, 6 cross trade, 7 trading halt; price in USD x 10000 (here
``price_exp=4``); direction 1 buy (bid), -1 sell (ask). An orderbook line
``k`` is the book after message ``k``: ``ask_px_1,ask_sz_1,bid_px_1,bid_sz_1,
ask_px_2,...``; missing levels are padded with price 9999999999 (ask) or
-9999999999 (bid) and size 0.

What becomes what:

- types 1-4 change the book: ORDER_EVENT ADD, CANCEL ``size``, CANCEL 0 (all)
  and EXECUTE ``size``;
- types 4, 5 and 6 are the trade tape (``trades``; a type 4 is both);
- type 7 is a status row (``halts``: halted, quoting, resumed); none is dropped.

A LOBSTER file starts mid-day: orders placed before its first message rest in
the book but their ids were never sent, so messages about them name unknown
ids. Replay it like this (``tests/io/test_lobster.py`` does)::

    msgs = read_messages(message_path)
    book = read_orderbook(orderbook_path)
    bids, asks = initial_state(book.row(0))  # the book after message 0
    seed = synthetic_orders(bids, asks)      # one synthetic order per level
    rep = replay_events(msgs.messages, seed, start=1)
    ob = OrderBook(price_exp=4, on_anomaly="count")
    ob.apply(seed); ob.apply(rep.events)

``replay_events`` sends each cancel, delete or execution of an id that was not
added from ``start`` on to the synthetic order at its side and price, reducing
it by the message's size (a delete removes only that order's size). An
unknown id with no synthetic order at its price (it rested beyond the visible
window) keeps its id, so the book counts an ``unknown_order`` anomaly; its rows
are listed in ``rep.unresolved``. The levels the book can then know exactly are
those that never left LOBSTER's window since the seed row (``KnownRange``):
the file has no events from beyond the window, so deeper prices may hold
unseen orders. For a check of every level at every step, seed a fresh book from
row ``k`` and apply message ``k + 1`` alone (``replay_events(..., start=k + 1,
stop=k + 2)``).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import zoneinfo
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io._common import DataFormatError, Source, open_binary, source_name, synthetic_orders

__all__ = [
    "MESSAGE",
    "PRICE_EXP",
    "TRADE",
    "HaltState",
    "KnownRange",
    "LobsterBook",
    "LobsterFormatError",
    "LobsterMessages",
    "LobsterReplay",
    "LobsterStatus",
    "initial_state",
    "read_messages",
    "read_orderbook",
    "replay_events",
    "synthetic_orders",
    "to_order_events",
]

#: LOBSTER prices are dollars x 10000.
PRICE_EXP = 4
DUMMY_ASK = 9_999_999_999
DUMMY_BID = -9_999_999_999

#: One message line, as given (ts_ns = exchange time, ns since the epoch).
MESSAGE = np.dtype(
    [
        ("ts_ns", "<i8"),
        ("order_id", "<u8"),
        ("size", "<i8"),
        ("price", "<i8"),
        ("type", "u1"),
        ("direction", "i1"),
    ]
)

#: One trade: a visible (type 4), hidden (5) or cross (6) execution.
#: ``row`` is the message's 0-based row; ``side`` the resting order's side
#: (Side values; 0 when the direction is not +1/-1).
TRADE = np.dtype(
    [
        ("ts_ns", "<i8"),
        ("row", "<i8"),
        ("order_id", "<u8"),
        ("price", "<i8"),
        ("size", "<i8"),
        ("side", "u1"),
        ("type", "u1"),
    ]
)

_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_BOOK_TYPES = (1, 2, 3, 4)
_TRADE_TYPES = (4, 5, 6)


class LobsterFormatError(DataFormatError):
    """A LOBSTER line that does not follow the format; names the file and line."""


class HaltState(enum.IntEnum):
    """The price field of a type-7 message."""

    HALTED = -1
    QUOTING = 0
    RESUMED = 1


@dataclass(frozen=True, slots=True)
class LobsterStatus:
    """A trading-halt message (type 7): ``row`` is its 0-based message row."""

    row: int
    ts_ns: int
    state: HaltState


@dataclass(frozen=True, slots=True)
class LobsterMessages:
    """A message file. ``events[i]`` comes from message row ``event_row[i]``;
    its unknown ids are left as they are (see ``replay_events``)."""

    source: str
    date: dt.date
    messages: npt.NDArray[np.void]
    events: npt.NDArray[np.void]
    event_row: npt.NDArray[np.int64]
    trades: npt.NDArray[np.void]
    halts: tuple[LobsterStatus, ...]


@dataclass(frozen=True, slots=True)
class LobsterReplay:
    """Book events for a replay from a seeded state (see ``replay_events``).

    ``preexisting``: rows whose order id was not added from ``start`` on;
    ``unresolved``: those of them that no synthetic order could take (the book
    reports them as unknown ids).
    """

    events: npt.NDArray[np.void]
    event_row: npt.NDArray[np.int64]
    preexisting: npt.NDArray[np.int64]
    unresolved: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class LobsterBook:
    """An orderbook file: arrays of shape (rows, levels), dummy levels as given."""

    source: str
    ask_price: npt.NDArray[np.int64]
    ask_size: npt.NDArray[np.int64]
    bid_price: npt.NDArray[np.int64]
    bid_size: npt.NDArray[np.int64]

    @property
    def levels(self) -> int:
        return int(self.ask_price.shape[1])

    def __len__(self) -> int:
        return int(self.ask_price.shape[0])

    def row(self, k: int) -> npt.NDArray[np.int64]:
        """Row ``k`` in the file's own column order (4 x levels values)."""
        out = np.empty(4 * self.levels, dtype=np.int64)
        out[0::4], out[1::4] = self.ask_price[k], self.ask_size[k]
        out[2::4], out[3::4] = self.bid_price[k], self.bid_size[k]
        return out

    def depth(self, k: int) -> tuple[npt.NDArray[np.void], npt.NDArray[np.void]]:
        """(bids, asks) of row ``k`` as DEPTH rows, best first, dummies dropped."""
        return initial_state(self.row(k))


# --------------------------------------------------------------------- reading


def _lines(src: Source) -> tuple[str, list[bytes]]:
    name = source_name(src)
    try:
        with open_binary(src) as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        raise LobsterFormatError(name, 0, f"cannot read: {exc}") from exc
    return name, data.splitlines()


def _file_date(name: str, date: dt.date | str | None) -> dt.date:
    if isinstance(date, dt.date):
        return date
    if isinstance(date, str):
        return dt.date.fromisoformat(date)
    m = _DATE_IN_NAME.search(Path(name).name)
    if m is None:
        raise LobsterFormatError(
            name, 0, "no date in the file name (TICKER_YYYY-MM-DD_...): pass date="
        )
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def _midnight_ns(day: dt.date, tz: str) -> int:
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo(tz))
    return int(midnight.timestamp()) * 1_000_000_000


def _int(text: bytes, what: str, name: str, line: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise LobsterFormatError(name, line, f"{what} is not an integer: {text!r}") from None


def _time_ns(text: bytes, name: str, line: int) -> int:
    try:
        return parse_fixed(text.decode("ascii"), 9)
    except (ValueError, UnicodeDecodeError):
        pass
    # Some exports passed the time through a binary float and print its
    # shortest repr (34397.878728270996 for 34397.878728271). A float64 near
    # 86400 s resolves ~1e-11 s, so digits past the ns are noise: round them,
    # but only when they are that small, never a real sub-ns fraction.
    try:
        exact = Decimal(text.decode("ascii"))
    except (InvalidOperation, UnicodeDecodeError):
        exact = None
    if exact is None or not exact.is_finite() or exact < 0:
        raise LobsterFormatError(name, line, f"time is not decimal seconds: {text!r}")
    ns = exact.scaleb(9).to_integral_value(rounding=ROUND_HALF_EVEN)
    if abs(exact.scaleb(9) - ns) > Decimal("0.01"):
        raise LobsterFormatError(name, line, f"time has digits beyond the nanosecond: {text!r}")
    return int(ns)


def _parse_message(fields: list[bytes], name: str, line: int) -> tuple[int, ...]:
    if len(fields) != 6:
        raise LobsterFormatError(
            name,
            line,
            f"expected 6 fields (time,type,order_id,size,price,direction), got {len(fields)}",
        )
    t_ns = _time_ns(fields[0], name, line)
    typ = _int(fields[1], "type", name, line)
    if not 1 <= typ <= 7:
        raise LobsterFormatError(name, line, f"unknown message type {typ} (1-7)")
    oid = _int(fields[2], "order_id", name, line)
    size = _int(fields[3], "size", name, line)
    price = _int(fields[4], "price", name, line)
    direction = _int(fields[5], "direction", name, line)
    if direction not in (1, -1):
        raise LobsterFormatError(name, line, f"direction must be 1 or -1, got {direction}")
    if oid < 0 or size < 0 or (typ != 7 and price < 0):
        raise LobsterFormatError(name, line, "negative order_id, size or price")
    if typ == 7 and price not in (-1, 0, 1):
        raise LobsterFormatError(name, line, f"halt message with price {price} (-1, 0 or 1)")
    return t_ns, oid, size, price, typ, direction


def read_messages(
    src: Source, *, date: dt.date | str | None = None, tz: str = "America/New_York"
) -> LobsterMessages:
    """Reads a message file (plain or compressed).

    Timestamps become ns since the epoch: local midnight of ``date`` in ``tz``
    (NASDAQ's time zone) plus the seconds given. ``date`` defaults to the one in
    the file name (``AAPL_2012-06-21_...``); a file name without one needs it.
    Malformed lines raise LobsterFormatError with the file and line.
    """
    name, lines = _lines(src)
    day = _file_date(name, date)
    base = _midnight_ns(day, tz)
    rows = []
    for i, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        rows.append(_parse_message(raw.strip().split(b","), name, i))
    msgs = np.zeros(len(rows), dtype=MESSAGE)
    if rows:
        cols = list(zip(*rows, strict=True))
        for field, col in zip(("ts_ns", "order_id", "size", "price", "type", "direction"), cols):
            msgs[field] = col
        msgs["ts_ns"] += base
    events, event_row = to_order_events(msgs)
    return LobsterMessages(name, day, msgs, events, event_row, _trades(msgs), _halts(msgs))


def _sides(direction: npt.NDArray[np.int8]) -> npt.NDArray[np.uint8]:
    return np.where(
        direction == 1, int(Side.BID), np.where(direction == -1, int(Side.ASK), 0)
    ).astype(np.uint8)


def to_order_events(
    messages: npt.NDArray[np.void], *, start: int = 0
) -> tuple[npt.NDArray[np.void], npt.NDArray[np.int64]]:
    """ORDER_EVENTs of the book messages (types 1-4) from row ``start`` on, and
    the message row of each; ids are kept as given. ``ts_recv_ns`` is 0:
    LOBSTER gives the exchange's time only."""
    rows = np.flatnonzero(np.isin(messages["type"], _BOOK_TYPES))
    rows = rows[rows >= start]
    m = messages[rows]
    ev = np.zeros(len(m), dtype=dtypes.ORDER_EVENT)
    ev["ts_exchange_ns"] = m["ts_ns"]
    ev["order_id"] = m["order_id"]
    ev["price"] = m["price"]
    ev["size"] = np.where(m["type"] == 3, 0, m["size"])  # a delete removes what rests
    ev["side"] = _sides(m["direction"])
    ev["action"] = np.choose(
        m["type"].astype(np.intp) - 1,
        [dtypes.ORDER_ADD, dtypes.ORDER_CANCEL, dtypes.ORDER_CANCEL, dtypes.ORDER_EXECUTE],
    )
    # Every LOBSTER message is one book state (one orderbook row).
    ev["flags"] = dtypes.F_LAST
    return ev, rows.astype(np.int64)


def _trades(msgs: npt.NDArray[np.void]) -> npt.NDArray[np.void]:
    rows = np.flatnonzero(np.isin(msgs["type"], _TRADE_TYPES))
    m = msgs[rows]
    out = np.zeros(len(m), dtype=TRADE)
    for f in ("ts_ns", "order_id", "price", "size", "type"):
        out[f] = m[f]
    out["row"] = rows
    out["side"] = _sides(m["direction"])
    return out


def _halts(msgs: npt.NDArray[np.void]) -> tuple[LobsterStatus, ...]:
    rows = np.flatnonzero(msgs["type"] == 7)
    return tuple(
        LobsterStatus(int(r), int(msgs["ts_ns"][r]), HaltState(int(msgs["price"][r]))) for r in rows
    )


def read_orderbook(src: Source) -> LobsterBook:
    """Reads an orderbook file (plain or compressed): every line 4 x levels integers."""
    name, lines = _lines(src)
    width = 0
    data: list[list[int]] = []
    for i, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        fields = raw.strip().split(b",")
        if width == 0:
            width = len(fields)
            if width % 4:
                raise LobsterFormatError(name, i, f"{width} fields is not 4 per level")
        if len(fields) != width:
            raise LobsterFormatError(name, i, f"expected {width} fields, got {len(fields)}")
        data.append([_int(f, "orderbook value", name, i) for f in fields])
    arr = np.array(data, dtype=np.int64).reshape(len(data), width)
    return LobsterBook(name, arr[:, 0::4], arr[:, 1::4], arr[:, 2::4], arr[:, 3::4])


def initial_state(
    orderbook_row: npt.ArrayLike,
) -> tuple[npt.NDArray[np.void], npt.NDArray[np.void]]:
    """(bids, asks) as DEPTH rows, best first, from one orderbook row.

    Dummy and empty levels are dropped; ``count`` is 0 because LOBSTER does not
    give order counts. Row 0 is the book after message 0, so a replay seeded
    from it starts at message 1.
    """
    row = np.asarray(orderbook_row, dtype=np.int64).ravel()
    if row.size % 4:
        raise ValueError(f"an orderbook row has 4 values per level, got {row.size}")
    ask_p, ask_s, bid_p, bid_s = row[0::4], row[1::4], row[2::4], row[3::4]
    return _depth(bid_p, bid_s, DUMMY_BID), _depth(ask_p, ask_s, DUMMY_ASK)


def _depth(
    price: npt.NDArray[np.int64], size: npt.NDArray[np.int64], dummy: int
) -> npt.NDArray[np.void]:
    keep = (size > 0) & (price != dummy)
    out = np.zeros(int(keep.sum()), dtype=dtypes.DEPTH)
    out["price"], out["size"] = price[keep], size[keep]
    return out


def replay_events(
    messages: npt.NDArray[np.void],
    seed: npt.NDArray[np.void],
    *,
    start: int = 1,
    stop: int | None = None,
) -> LobsterReplay:
    """Book events of rows ``start`` to ``stop``, with pre-existing orders resolved.

    ``seed`` is ``synthetic_orders(bids, asks)`` of the state before row
    ``start``. A cancel, delete or execution of an id not added from ``start``
    on is sent to the seed order at its side and price with the message's own
    size; when no seed order rests there its id is kept (the book reports it).
    """
    synth = {
        (int(s), int(p)): int(o) for s, p, o in zip(seed["side"], seed["price"], seed["order_id"])
    }
    events, rows = to_order_events(messages[:stop], start=start)
    sizes = messages["size"][rows]
    types = messages["type"][rows]
    added: set[int] = set()
    pre: list[int] = []
    unresolved: list[int] = []
    for i in range(len(events)):
        oid = int(events["order_id"][i])
        if types[i] == 1:
            added.add(oid)
            continue
        if oid in added:
            continue
        pre.append(int(rows[i]))
        target = synth.get((int(events["side"][i]), int(events["price"][i])))
        if target is None:
            unresolved.append(int(rows[i]))
            continue
        events["order_id"][i] = target
        events["size"][i] = sizes[i]  # a delete takes only this order's size off the level
    return LobsterReplay(
        events, rows, np.array(pre, dtype=np.int64), np.array(unresolved, dtype=np.int64)
    )


class KnownRange:
    """The prices a continuous replay can know exactly, per side.

    A message file only has the events inside the requested window of levels:
    a price that was ever beyond the deepest shown level may have had orders
    added or cancelled unseen, so it stays unknown. The known bids are those at
    or above the highest deepest-shown bid so far, the known asks those at or
    below the lowest deepest-shown ask; a side shown with fewer levels than the
    window was shown whole and narrows nothing. Feed it every orderbook row
    from the seed row on with ``update``.
    """

    def __init__(self, levels: int) -> None:
        self.levels = levels
        self.bid_floor: int | None = None  # None: every price is known
        self.ask_ceiling: int | None = None

    def update(self, bids: npt.NDArray[np.void], asks: npt.NDArray[np.void]) -> None:
        if len(bids) >= self.levels:
            deepest = int(bids["price"][self.levels - 1])
            self.bid_floor = deepest if self.bid_floor is None else max(self.bid_floor, deepest)
        if len(asks) >= self.levels:
            deepest = int(asks["price"][self.levels - 1])
            self.ask_ceiling = (
                deepest if self.ask_ceiling is None else min(self.ask_ceiling, deepest)
            )

    def known(self, side: int, levels: npt.NDArray[np.void]) -> npt.NDArray[np.void]:
        """The rows of ``levels`` (DEPTH, one side) whose price is known."""
        if side == Side.BID:
            return levels if self.bid_floor is None else levels[levels["price"] >= self.bid_floor]
        return levels if self.ask_ceiling is None else levels[levels["price"] <= self.ask_ceiling]
