"""The streaming scanner's core: books of one instrument and the opportunities
between every ordered pair of them, kept equal to ``best_opportunity`` on the
pair's books whenever both are usable (synced, and not older than the staleness
limit), and to "none" otherwise.

Every change of a pair's opportunity is an ``OpportunityEvent``: OPENED, UPDATED
(its size or edge changed) or CLOSED (with the reason), each carrying the
opportunity's state, when it opened, and its peak edge and size so far.

This is the plain-Python twin of ``ArbScanner`` (cpp/include/crossbook/arb.hpp)
in its MessageEnd mode, and follows it rule for rule so that the compiled one
can replace it behind the same methods and give the same events: a book update
re-walks a pair only if it can change it (an ask change at price p matters to
"this book buys, that one sells" only if p profits against the other's best bid:
no worse ask is ever taken; likewise for bids), an O(1) test per other book.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from crossbook import L2Book, Side, dtypes
from crossbook.arb.fees import FEE_DENOMINATOR, MAX_FEE_CBPS
from crossbook.arb.opportunity import Opportunity, best_opportunity_cbps

__all__ = ["CloseReason", "EventKind", "OpportunityEvent", "ScanCore"]

_D = FEE_DENOMINATOR
_NO_PRICE_MIN = 1 << 63  # "no ask changed": above any int64 price
_NEG_INF = -(1 << 64)


class EventKind(enum.IntEnum):
    OPENED = 1
    UPDATED = 2
    CLOSED = 3


class CloseReason(enum.IntEnum):
    NONE = 0  # OPENED / UPDATED
    GONE = 1  # the books no longer cross after fees
    UNSYNCED = 2  # one of the books lost sync
    STALE = 3  # one of the books went max_age_ns without a message
    FLUSHED = 4  # end of the replay


@dataclass(frozen=True, slots=True)
class OpportunityEvent:
    """One change of the opportunity buying on ``buy`` and selling on ``sell``.

    ``opportunity`` is the state after the change (on CLOSED, the last state before
    it). ``peak_edge`` (bps, exact) and ``peak_size`` are over the lifetime so far.
    ``latency_ns`` is the slower of the two venues' expected latencies: acting
    means sending an order to each, at once.
    """

    kind: EventKind
    reason: CloseReason
    ts_ns: int
    open_ts_ns: int
    buy_book: int
    sell_book: int
    buy: str
    sell: str
    opportunity: Opportunity
    peak_edge: Fraction | float  # float only for +inf (asks at price 0)
    peak_size: int
    latency_ns: int

    @property
    def duration_ns(self) -> int:
        return self.ts_ns - self.open_ts_ns

    @property
    def edge_bps(self) -> float:
        return self.opportunity.edge_bps

    @property
    def peak_edge_bps(self) -> float:
        return float(self.peak_edge)

    @property
    def outlived_latency(self) -> bool:
        """Whether the opportunity lasted (so far) at least the time needed to act on it."""
        return self.duration_ns >= self.latency_ns

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.name.lower(), "reason": self.reason.name.lower(),
            "ts_ns": self.ts_ns, "open_ts_ns": self.open_ts_ns, "duration_ns": self.duration_ns,
            "buy": self.buy, "sell": self.sell, "peak_edge_bps": self.peak_edge_bps,
            "peak_size": self.peak_size, "latency_ns": self.latency_ns,
            "outlived_latency": self.outlived_latency, **self.opportunity.as_dict(),
        }


class ScanCoreLike(Protocol):
    """What a Scanner needs of its core: ScanCore here, or the compiled ArbScanner
    behind the same methods (crossbook.arb.compiled.CompiledScanCore)."""

    max_size: int | None

    def add_book(self, name: str, fee_cbps: int, latency_ns: int = 0, tick: int = 1) -> int: ...
    def set_tick(self, i: int, tick: int) -> None: ...
    def __len__(self) -> int: ...
    def name(self, i: int) -> str: ...
    def fee_cbps(self, i: int) -> int: ...
    def book(self, i: int) -> L2Book: ...
    def usable(self, i: int) -> bool: ...
    @property
    def open_count(self) -> int: ...
    def open_opportunity(self, buy: int, sell: int) -> Opportunity | None: ...
    def apply(self, i: int, levels: npt.NDArray[np.void],
              ts_recv_ns: int) -> list[OpportunityEvent]: ...
    def heartbeat(self, i: int, ts_recv_ns: int) -> list[OpportunityEvent]: ...
    def set_synced(self, i: int, synced: bool, ts_ns: int) -> list[OpportunityEvent]: ...
    def flush(self, ts_ns: int) -> list[OpportunityEvent]: ...


def _edge_of(opp: Opportunity) -> Fraction | float:
    return math.inf if opp.buy_notional == 0 else opp.edge


@dataclass(slots=True)
class _Book:
    name: str
    fee: int
    latency_ns: int
    book: L2Book
    synced: bool = True  # as ArbScanner: books start empty and trusted
    any_event: bool = False
    last_ns: int = 0
    open_pairs: int = 0
    dirty_all: bool = False
    dirty_ask_min: int = _NO_PRICE_MIN
    dirty_bid_max: int = -1


@dataclass(slots=True)
class _Pair:
    open: bool = False
    open_ts_ns: int = 0
    opp: Opportunity | None = None
    peak_edge: Fraction | float = 0
    peak_size: int = 0


@dataclass(slots=True)
class ScanCore:
    """Books of one instrument, all at ``price_exp``/``size_exp``, and their pairs.

    Feed it one venue message at a time: ``apply`` (level changes, CLEAR allowed),
    ``heartbeat`` (a message that changed nothing), ``set_synced``; ``flush`` at
    the end. Each returns the events it caused, in time order. ``max_age_ns``:
    a book is stale once ``now - last message >= max_age_ns`` (now being the
    latest receive time seen on any book).
    """

    price_exp: int
    size_exp: int
    max_age_ns: int | None = None
    max_size: int | None = None
    _books: list[_Book] = field(default_factory=list)
    _pairs: dict[tuple[int, int], _Pair] = field(default_factory=dict)
    _open_count: int = 0
    now: int = -(1 << 63)

    def __post_init__(self) -> None:
        if self.max_age_ns is not None and self.max_age_ns < 0:
            raise ValueError(f"max_age_ns must be >= 0, got {self.max_age_ns}")
        if self.max_size is not None and self.max_size < 0:
            raise ValueError(f"max_size must be >= 0, got {self.max_size}")

    # -- books ---------------------------------------------------------------------

    def add_book(self, name: str, fee_cbps: int, latency_ns: int = 0, tick: int = 1) -> int:
        if not -MAX_FEE_CBPS <= fee_cbps <= MAX_FEE_CBPS:
            raise ValueError(f"{name}: taker fee {fee_cbps} cbps out of range")
        self._books.append(_Book(name, fee_cbps, latency_ns,
                                 L2Book(self.price_exp, self.size_exp, tick)))
        return len(self._books) - 1

    def set_tick(self, i: int, tick: int) -> None:
        """A better ladder hint for book i (a speed hint only: prices off it still work).
        The sync layer learns a venue's tick from its first snapshot, after the book
        was registered."""
        self._books[i].book.set_tick(tick)

    def __len__(self) -> int:
        return len(self._books)

    def name(self, i: int) -> str:
        return self._books[i].name

    def book(self, i: int) -> L2Book:
        return self._books[i].book

    def fee_cbps(self, i: int) -> int:
        return self._books[i].fee

    def usable(self, i: int) -> bool:
        return self._usable(self._books[i])

    @property
    def open_count(self) -> int:
        return self._open_count

    def open_opportunity(self, buy: int, sell: int) -> Opportunity | None:
        p = self._pairs.get((buy, sell))
        return p.opp if p is not None and p.open else None

    # -- input -----------------------------------------------------------------------

    def apply(self, i: int, levels: npt.NDArray[np.void],
              ts_recv_ns: int) -> list[OpportunityEvent]:
        """One venue message's level changes (LEVEL_EVENT rows, common units) on book i."""
        if not len(levels):
            return self.heartbeat(i, ts_recv_ns)
        out: list[OpportunityEvent] = []
        b, was_usable = self._step_in(i, ts_recv_ns, out)
        b.book.apply(levels)
        self._mark_dirty(b, levels)
        self._step_out(i, b, was_usable, out)
        return out

    def heartbeat(self, i: int, ts_recv_ns: int) -> list[OpportunityEvent]:
        """A message that left book i as it was: the feed is alive."""
        out: list[OpportunityEvent] = []
        b, was_usable = self._step_in(i, ts_recv_ns, out)
        self._step_out(i, b, was_usable, out)
        return out

    def set_synced(self, i: int, synced: bool, ts_ns: int) -> list[OpportunityEvent]:
        """The sync layer trusts book i again, or stopped trusting it (its pairs close)."""
        out: list[OpportunityEvent] = []
        b, was_usable = self._step_in(i, ts_ns, out)
        if synced:
            b.synced = True
        else:
            if b.synced:
                self._close_pairs_of(i, self.now, CloseReason.UNSYNCED, out)
            b.synced = False
        self._step_out(i, b, was_usable, out)
        return out

    def flush(self, ts_ns: int) -> list[OpportunityEvent]:
        """Closes every open opportunity (end of a replay), in (buy, sell) order, at
        ``ts_ns`` or at the latest time seen if that is later (the clock never goes back)."""
        self.now = max(self.now, ts_ns)
        out: list[OpportunityEvent] = []
        for key in sorted(k for k, p in self._pairs.items() if p.open):
            self._close(*key, self.now, CloseReason.FLUSHED, out)
        return out

    # -- the rules (ArbScanner::step and friends) ---------------------------------------

    def _step_in(self, i: int, ts: int, out: list[OpportunityEvent]) -> tuple[_Book, bool]:
        self.now = max(self.now, ts)
        self._expire_stale(out)
        b = self._books[i]
        return b, self._usable(b)

    def _step_out(self, i: int, b: _Book, was_usable: bool, out: list[OpportunityEvent]) -> None:
        b.any_event = True
        b.last_ns = self.now
        # Pairs were closed (or never opened) while the book was unusable: all of
        # them have to be looked at, not only those the change touched.
        if not was_usable and self._usable(b):
            b.dirty_all = True
        self._rescan(i, out)

    def _expiry(self, b: _Book) -> int:
        if not b.any_event:
            return _NEG_INF
        assert self.max_age_ns is not None
        return b.last_ns + self.max_age_ns

    def _usable(self, b: _Book) -> bool:
        return b.synced and (self.max_age_ns is None or self.now < self._expiry(b))

    def _mark_dirty(self, b: _Book, levels: npt.NDArray[np.void]) -> None:
        # Plain lists: a venue message holds a few levels, where numpy's per-call cost dominates.
        ask_min, bid_max = b.dirty_ask_min, b.dirty_bid_max
        for action, side, price in zip(levels["action"].tolist(), levels["side"].tolist(),
                                       levels["price"].tolist(), strict=True):
            if action == dtypes.CLEAR:
                b.dirty_all = True
            elif side == Side.ASK:
                ask_min = min(ask_min, price)
            else:
                bid_max = max(bid_max, price)
        b.dirty_ask_min, b.dirty_bid_max = ask_min, bid_max

    def _rescan(self, i: int, out: list[OpportunityEvent]) -> None:
        b = self._books[i]
        every, ask_min, bid_max = b.dirty_all, b.dirty_ask_min, b.dirty_bid_max
        b.dirty_all, b.dirty_ask_min, b.dirty_bid_max = False, _NO_PRICE_MIN, -1
        if not self._usable(b):
            return
        asks_changed, bids_changed = ask_min != _NO_PRICE_MIN, bid_max >= 0
        if not (every or asks_changed or bids_changed):
            return
        ask_value = ask_min * (_D + b.fee)
        bid_value = bid_max * (_D - b.fee)
        for j, o in enumerate(self._books):
            if j == i or not self._usable(o):
                continue
            if every:
                self._evaluate(i, j, out)
            elif asks_changed:
                best_bid = o.book.bbo()[0]
                if best_bid is not None and best_bid[0] * (_D - o.fee) > ask_value:
                    self._evaluate(i, j, out)
            if every:
                self._evaluate(j, i, out)
            elif bids_changed:
                best_ask = o.book.bbo()[1]
                if best_ask is not None and bid_value > best_ask[0] * (_D + o.fee):
                    self._evaluate(j, i, out)

    def _evaluate(self, buy: int, sell: int, out: list[OpportunityEvent]) -> None:
        bb, sb = self._books[buy], self._books[sell]
        r = best_opportunity_cbps(bb.book, sb.book, bb.fee, sb.fee, self.max_size)
        p = self._pairs.setdefault((buy, sell), _Pair())
        if r is None:
            if p.open:
                self._close(buy, sell, self.now, CloseReason.GONE, out)
            return
        edge = _edge_of(r)
        if not p.open:
            p.open, p.open_ts_ns, p.opp, p.peak_edge, p.peak_size = True, self.now, r, edge, r.size
            self._open_count += 1
            bb.open_pairs += 1
            sb.open_pairs += 1
            self._emit(buy, sell, p, self.now, EventKind.OPENED, CloseReason.NONE, out)
            return
        assert p.opp is not None
        changed = r.size != p.opp.size or edge != _edge_of(p.opp)
        p.opp = r
        p.peak_edge = max(p.peak_edge, edge)
        p.peak_size = max(p.peak_size, r.size)
        if changed:
            self._emit(buy, sell, p, self.now, EventKind.UPDATED, CloseReason.NONE, out)

    def _expire_stale(self, out: list[OpportunityEvent]) -> None:
        if self.max_age_ns is None or self._open_count == 0:
            return
        # A pair closes when the first of its two books expired; closes are
        # written in time order so that the event stream stays sorted.
        due = []
        for (buy, sell), p in self._pairs.items():
            if not p.open:
                continue
            bb, sb = self._books[buy], self._books[sell]
            if self._usable(bb) and self._usable(sb):
                continue
            due.append((min(self._expiry(bb), self._expiry(sb)), buy, sell))
        for ts, buy, sell in sorted(due):
            self._close(buy, sell, ts, CloseReason.STALE, out)

    def _close_pairs_of(self, i: int, ts: int, why: CloseReason,
                        out: list[OpportunityEvent]) -> None:
        for j in range(len(self._books)):
            for key in ((i, j), (j, i)):
                p = self._pairs.get(key)
                if p is not None and p.open:
                    self._close(*key, ts, why, out)

    def _close(self, buy: int, sell: int, ts: int, why: CloseReason,
               out: list[OpportunityEvent]) -> None:
        p = self._pairs[(buy, sell)]
        self._emit(buy, sell, p, ts, EventKind.CLOSED, why, out)
        p.open = False
        self._open_count -= 1
        self._books[buy].open_pairs -= 1
        self._books[sell].open_pairs -= 1

    def _emit(self, buy: int, sell: int, p: _Pair, ts: int, kind: EventKind, why: CloseReason,
              out: list[OpportunityEvent]) -> None:
        assert p.opp is not None
        bb, sb = self._books[buy], self._books[sell]
        out.append(OpportunityEvent(kind, why, ts, p.open_ts_ns, buy, sell, bb.name, sb.name,
                                    p.opp, p.peak_edge, p.peak_size,
                                    max(bb.latency_ns, sb.latency_ns)))
