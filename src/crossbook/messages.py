"""The normalized form every venue parser produces.

A parser turns one raw frame into a list of these records; nothing here does
I/O or keeps state. Prices and sizes are integer mantissas at the instrument's
exponents; timestamps are int64 nanoseconds, exchange and receive time kept apart.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias, overload

import msgspec
import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook._fixedpoint import json_level_events, level_events
from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed_py

__all__ = [
    "Kind",
    "BookMessage",
    "Trade",
    "Quote",
    "Status",
    "Drop",
    "Message",
    "Instrument",
    "level_events",
    "level_events_py",
    "json_level_events",
    "json_level_events_py",
    "decode_level_rows",
    "string_pair_rows",
    "EMPTY_LEVELS",
]


class Kind(enum.IntEnum):
    SNAPSHOT = 1  # replaces the whole book
    DELTA = 2  # changes some levels
    RESET = 3  # the venue says the book is void (restart, sequence reset)
    HEARTBEAT = 4  # carries sequence fields only


EMPTY_LEVELS: npt.NDArray[np.void] = np.zeros(0, dtype=dtypes.LEVEL_EVENT)
EMPTY_LEVELS.flags.writeable = False


@dataclass(frozen=True, slots=True)
class Instrument:
    """One instrument on one venue, with the exponents of its mantissas."""

    venue: str
    symbol: str
    price_exp: int
    size_exp: int
    #: Units of the base asset per contract (e.g. Binance COIN-M: 100 USD a contract).
    contract_size: int = 1
    inverse: bool = False
    #: Price increment in mantissa units, if known. Only a speed hint for the book
    #: (venues pad decimals: a 0.01 tick at exponent 8 is 10**6); never needed for correctness.
    tick: int | None = None


class BookMessage(msgspec.Struct, eq=False):
    """A snapshot, delta, reset or heartbeat for one book.

    A value: nothing downstream changes one. (A msgspec Struct rather than a
    dataclass: one is built per frame, and a Struct is built in C, about three
    times faster, keywords included.)

    ``levels`` is a LEVEL_EVENT array: action UPDATE with the new absolute size
    (0 removes the level), ready for ``L2Book.apply``. Sequence fields are the
    venue's own, None where the venue does not send them.
    """

    venue: str
    symbol: str
    kind: Kind
    levels: npt.NDArray[np.void]
    ts_recv_ns: int
    ts_exchange_ns: int | None = None
    first_seq: int | None = None  # first update id in the message (Binance U)
    last_seq: int | None = None  # last update id (Binance u, OKX seqId, Bitfinex seq)
    prev_seq: int | None = None  # last id of the previous message (Binance pu, OKX prevSeqId)
    cross_seq: int | None = None  # venue-wide sequence (Bybit seq)
    conn_seq: int | None = None  # connection-wide sequence
    checksum: int | None = None
    checksum_alg: str | None = None
    depth_limit: int | None = None
    #: Venue-specific extras a sync rule or checksum needs (e.g. the wire text of levels).
    extra: dict[str, object] = {}  # msgspec gives each message its own empty dict

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BookMessage):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, f), getattr(other, f))
            if f == "levels"
            else getattr(self, f) == getattr(other, f)
            for f in self.__struct_fields__
        )

    __hash__ = None  # type: ignore[assignment]


# Trades, quotes and statuses arrive a frame at a time too: frozen msgspec Structs
# (immutable, hashable, compared field by field) cost a third of a frozen dataclass.
class Trade(msgspec.Struct, frozen=True):
    venue: str
    symbol: str
    price: int
    size: int
    aggressor: Side | None  # the taker's side; None when the venue does not say
    trade_id: str | None
    ts_recv_ns: int
    ts_exchange_ns: int | None = None


class Quote(msgspec.Struct, frozen=True):
    """A venue's own top of book (Binance bookTicker), for checking our book."""

    venue: str
    symbol: str
    bid_price: int
    bid_size: int
    ask_price: int
    ask_size: int
    seq: int | None
    ts_recv_ns: int
    ts_exchange_ns: int | None = None


class Drop(enum.Enum):
    """Why a frame that is not a control message reaches no book, trade or quote:
    a replay counts each kind, so that no frame is lost without a count."""

    UNROUTED = "unrouted"  # names a channel that no subscription acknowledgement mapped
    UNSUPPORTED = "unsupported"  # a channel or stream crossbook does not keep
    STALE = "stale"  # late, duplicated, or before the first snapshot that gives it meaning


class Status(msgspec.Struct, frozen=True):
    """A venue control frame worth reporting (subscription ack, error, info), or,
    with ``drop`` set, a frame the parser recognised and did not turn into data."""

    venue: str
    symbol: str | None
    text: str
    ts_recv_ns: int
    error: bool = False
    drop: Drop | None = None


Message: TypeAlias = BookMessage | Trade | Quote | Status


def level_events_py(
    bids: Sequence[Sequence[str | int]],
    asks: Sequence[Sequence[str | int]],
    price_exp: int,
    size_exp: int,
    *,
    ts_exchange_ns: int = 0,
    ts_recv_ns: int = 0,
    snapshot: bool = False,
) -> npt.NDArray[np.void]:
    """LEVEL_EVENT rows from venue text rows ``[[price, size, ...], ...]``, bids first.

    Plain-Python twin of :func:`level_events` (Cython), its test oracle and
    benchmark baseline. Raises ValueError naming any value that does not fit
    the exponents, or a negative one.
    """
    # Row by row, as the Cython version does, so that both report the same first error.
    parsed = []
    for rows in (bids, asks):
        prices, sizes = [], []
        for i, row in enumerate(rows):
            if len(row) < 2:
                raise ValueError(f"level row {i} needs a price and a size, got {row!r}")
            price, size = parse_fixed_py(row[0], price_exp), parse_fixed_py(row[1], size_exp)
            if price < 0:
                raise ValueError(f"negative price {row[0]!r}")
            if size < 0:
                raise ValueError(f"negative size {row[1]!r} at price {row[0]!r}")
            prices.append(price)
            sizes.append(size)
        parsed.append((np.array(prices, dtype=np.int64), np.array(sizes, dtype=np.int64)))
    (bp, bs), (ap, as_) = parsed
    nb = len(bp)
    out = np.empty(nb + len(ap), dtype=dtypes.LEVEL_EVENT)
    out["ts_exchange_ns"] = ts_exchange_ns
    out["ts_recv_ns"] = ts_recv_ns
    out["price"][:nb] = bp
    out["price"][nb:] = ap
    out["size"][:nb] = bs
    out["size"][nb:] = as_
    out["count"] = 0
    out["side"][:nb] = Side.BID
    out["side"][nb:] = Side.ASK
    out["action"] = dtypes.UPDATE
    out["flags"] = dtypes.F_SNAPSHOT if snapshot else 0
    if len(out):
        out["flags"][-1] |= dtypes.F_LAST
    return out


# JSON numbers keep their text (float_hook gets it verbatim): exact, like strings.
_rows_decoder = msgspec.json.Decoder(float_hook=str)
_pairs_decoder = msgspec.json.Decoder(list[tuple[str, str]])


def decode_level_rows(raw: bytes | msgspec.Raw, what: str) -> list[list[str | int]]:
    """The rows of an undecoded JSON level array, numbers kept as their text; ValueError
    when it is not valid JSON or not an array of arrays. The decoding step of both
    json_level_events twins (the Cython one falls back to it)."""
    try:
        rows = _rows_decoder.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed {what} level array: {exc}") from None
    if not isinstance(rows, list):
        raise ValueError(f"the {what} levels must be a JSON array, got {type(rows).__name__}")
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise ValueError(f"{what} level row {i} must be a JSON array, got {row!r}")
    return rows


def string_pair_rows(
    bids_raw: bytes | msgspec.Raw, asks_raw: bytes | msgspec.Raw
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]] | None:
    """Both level arrays decoded, or None unless every row is exactly two JSON strings
    (the general path of json_level_events(strict=True), shared by the twins)."""
    try:
        return _pairs_decoder.decode(bids_raw), _pairs_decoder.decode(asks_raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None


@overload
def json_level_events_py(
    bids_raw: bytes | msgspec.Raw, asks_raw: bytes | msgspec.Raw, price_exp: int, size_exp: int,
    ts_exchange_ns: int = 0, ts_recv_ns: int = 0, *, snapshot: bool = False,
    strict: Literal[False] = False,
) -> npt.NDArray[np.void]: ...
@overload
def json_level_events_py(
    bids_raw: bytes | msgspec.Raw, asks_raw: bytes | msgspec.Raw, price_exp: int, size_exp: int,
    ts_exchange_ns: int = 0, ts_recv_ns: int = 0, *, snapshot: bool = False,
    strict: Literal[True],
) -> npt.NDArray[np.void] | None: ...
def json_level_events_py(
    bids_raw: bytes | msgspec.Raw,
    asks_raw: bytes | msgspec.Raw,
    price_exp: int,
    size_exp: int,
    ts_exchange_ns: int = 0,
    ts_recv_ns: int = 0,
    *,
    snapshot: bool = False,
    strict: bool = False,
) -> npt.NDArray[np.void] | None:
    """level_events from the undecoded JSON of the bid and ask arrays.

    Plain-Python twin of :func:`json_level_events` (Cython): decode, then build.
    Values may be decimal text or bare JSON numbers (read from their exact text,
    never through float). Malformed JSON, or JSON that is not an array, is a ValueError.
    strict: only rows of exactly two strings, else None (as is a value that does not fit)."""
    if strict:
        pair = string_pair_rows(bids_raw, asks_raw)
        try:
            return None if pair is None else level_events_py(
                *pair, price_exp, size_exp, ts_exchange_ns=ts_exchange_ns, ts_recv_ns=ts_recv_ns,
                snapshot=snapshot)
        except (ValueError, OverflowError, TypeError):
            return None
    bids, asks = decode_level_rows(bids_raw, "bid"), decode_level_rows(asks_raw, "ask")
    return level_events_py(bids, asks, price_exp, size_exp, ts_exchange_ns=ts_exchange_ns,
                           ts_recv_ns=ts_recv_ns, snapshot=snapshot)
