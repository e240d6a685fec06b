"""From synced venue books to the scanner: unit conversion per message, and the
``Scanner`` a replay (or a live feed) drives through its ``on_message`` callback.

The sync layer owns each venue book; this module never reads a book that is not
synced. Per venue message it hands the scanner core the same change in common
units: the message's own levels converted when the sync applied exactly that
delta, or the whole book again (CLEAR, then every level) when the sync rebuilt
it (a snapshot, buffered deltas replayed, a depth window).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crossbook import L2Book, Side, dtypes
from crossbook.arb.fees import VenueCosts, costs_for
from crossbook.arb.scanner import OpportunityEvent, ScanCore, ScanCoreLike
from crossbook.arb.units import CommonUnits, Listing, UnitConverter
from crossbook.messages import BookMessage, Kind, Message
from crossbook.sync import BookSync

__all__ = ["BookNormalizer", "Change", "NormalizedFeed", "Scanner", "full_book_events"]


class Change(enum.Enum):
    NONE = "none"  # not a book message of this listing, or the book is withheld
    HEARTBEAT = "heartbeat"  # the book is synced and did not change
    LEVELS = "levels"  # apply ``levels`` (may start with CLEAR: the whole book again)
    SYNCED = "synced"  # apply ``levels`` (the whole book), then trust the book again
    UNSYNCED = "unsynced"  # stop trusting the book


def full_book_events(conv: UnitConverter, book: L2Book, ts_recv_ns: int) -> npt.NDArray[np.void]:
    """CLEAR then every level of ``book`` (venue units), as LEVEL_EVENT rows in common units."""
    bids = conv.depth_rows(book.levels(Side.BID))
    asks = conv.depth_rows(book.levels(Side.ASK))
    nb = len(bids)
    out = np.zeros(1 + nb + len(asks), dtype=dtypes.LEVEL_EVENT)
    out["ts_recv_ns"] = ts_recv_ns
    out["action"] = dtypes.UPDATE
    out["flags"] = dtypes.F_SNAPSHOT
    out["action"][0] = dtypes.CLEAR
    out["side"][0] = 0  # both sides
    for rows, lo, side in ((bids, 1, Side.BID), (asks, 1 + nb, Side.ASK)):
        hi = lo + len(rows)
        out["price"][lo:hi] = rows["price"]
        out["size"][lo:hi] = rows["size"]
        out["count"][lo:hi] = rows["count"]
        out["side"][lo:hi] = side
    out["flags"][-1] |= dtypes.F_LAST
    return out


class NormalizedFeed:
    """What one venue message did to one listing's book, in common units.

    Keeps no book: it watches the BookSync's counters to tell an applied delta
    (its levels convert one to one) from a rebuild (the whole book is re-read).
    """

    __slots__ = ("_deltas", "_resyncs", "_snapshots", "conv", "listing", "synced", "units")

    def __init__(self, listing: Listing, price_exp: int, size_exp: int, units: CommonUnits):
        self.listing = listing
        self.units = units
        self.conv = UnitConverter(listing, price_exp, size_exp, units)
        self.synced = False
        self._snapshots = self._deltas = self._resyncs = 0

    def update(self, msg: BookMessage,
               sync: BookSync) -> tuple[Change, npt.NDArray[np.void] | None]:
        st = sync.stats
        snaps, deltas, resyncs = st.snapshots, st.deltas_applied, st.resyncs
        rebuilt = snaps != self._snapshots or resyncs != self._resyncs
        applied = deltas - self._deltas
        self._snapshots, self._deltas, self._resyncs = snaps, deltas, resyncs
        ts_recv_ns = msg.ts_recv_ns
        if not sync.synced:
            if self.synced:
                self.synced = False
                return Change.UNSYNCED, None
            return Change.NONE, None
        if not self.synced:
            self.synced = True
            return Change.SYNCED, full_book_events(self.conv, sync.book, ts_recv_ns)
        windowed = bool(msg.depth_limit or sync.depth_limit)
        if rebuilt or applied > 1 or (applied == 1 and windowed):
            # The sync changed more than this message's levels (or cut the book to
            # its window): re-read the whole book rather than guess.
            return Change.LEVELS, full_book_events(self.conv, sync.book, ts_recv_ns)
        if applied == 1 and msg.kind is Kind.DELTA and len(msg.levels):
            return Change.LEVELS, self.conv.level_events(msg.levels)
        return Change.HEARTBEAT, None


class BookNormalizer:
    """A listing's book in common units, kept in step from its BookSync: for users who
    want converted books (basis, triangular cycles) without a scanner."""

    __slots__ = ("book", "feed")

    def __init__(self, listing: Listing, price_exp: int, size_exp: int, units: CommonUnits):
        self.feed = NormalizedFeed(listing, price_exp, size_exp, units)
        self.book = L2Book(units.price_exp, units.size_exp)

    @property
    def synced(self) -> bool:
        return self.feed.synced

    def on_message(self, msg: BookMessage, sync: BookSync) -> bool:
        """Feeds one message of this listing; True when the converted book changed."""
        change, levels = self.feed.update(msg, sync)
        if change is Change.UNSYNCED:
            self.book.clear()
            return True
        if levels is not None:
            self.book.apply(levels)
            return True
        return False


@dataclass(slots=True)
class _Entry:
    index: int
    feed: NormalizedFeed


class Scanner:
    """Streams the synced books of several venues quoting one instrument and reports
    every opportunity between them, with its lifetime.

    Register each listing with ``add`` (its venue's exponents are the BookSync
    instrument's), then pass ``on_message`` as a Replay's callback, or call it
    yourself with each message and its BookSync. Events go to ``on_event`` (if
    given) and to ``events``; ``finish`` closes what is still open.

    Fees: each venue's taker fee (``costs`` overrides the defaults); latency: the
    venue's expected latency, against which each opportunity's duration is judged.
    ``max_age_ms``: a book with no message for that long is stale (its pairs
    close); None never expires a book. ``max_size``: a cap on every size, in
    common size units. ``on_update(book index, ts_recv_ns)`` is called after each
    message that changed or refreshed a book (basis sampling hooks in there).

    Example (exponents as the venue parsers infer them, or as you declare them)::

        units = CommonUnits(price_exp=8, size_exp=8)
        scanner = Scanner(units, max_age_ms=1000)
        scanner.add(Listing("binance", "BTCUSDT", "BTC/USD"), price_exp=8, size_exp=8)
        scanner.add(Listing("binance_coinm", "BTCUSD_PERP", "BTC/USD", Fraction(100),
                            inverse=True, kind="perpetual"), price_exp=1, size_exp=0)
        replay = Replay(parser, on_message=scanner.on_message)  # one per venue
        ...
        scanner.finish()
        for event in scanner.events: ...
    """

    def __init__(self, units: CommonUnits, *, costs: Mapping[str, VenueCosts] | None = None,
                 max_age_ms: float | None = None, max_size: int | None = None,
                 on_event: Callable[[OpportunityEvent], None] | None = None,
                 on_update: Callable[[int, int], None] | None = None,
                 core_factory: Callable[[int, int, int | None, int | None],
                                        ScanCoreLike] = ScanCore,
                 ) -> None:
        self.units = units
        self.costs = dict(costs or {})
        max_age_ns = None if max_age_ms is None else round(max_age_ms * 1_000_000)
        # The core is swappable (a compiled ArbScanner behind the same methods, same events).
        self.core: ScanCoreLike = core_factory(units.price_exp, units.size_exp, max_age_ns, max_size)
        self.events: list[OpportunityEvent] = []
        self.listings: list[Listing] = []
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._on_event = on_event
        self._on_update = on_update
        self.last_ts_ns = 0

    def add(self, listing: Listing, price_exp: int, size_exp: int, tick: int = 1) -> int:
        """Registers a listing's book; returns its index. ValueError when its
        exponents do not fit the scanner's common units."""
        key = (listing.venue, listing.symbol)
        if key in self._entries:
            raise ValueError(f"{listing.name} is already in this scanner")
        feed = NormalizedFeed(listing, price_exp, size_exp, self.units)
        if not listing.inverse:
            feed.conv.size(0, 1)  # raises now if a contract does not fit the common size exponent
        c = costs_for(listing.venue, self.costs)
        i = self.core.add_book(listing.name, c.taker_cbps, c.latency_ns, feed.conv.tick(tick))
        self._entries[key] = _Entry(i, feed)
        self.listings.append(listing)
        return i

    def index(self, venue: str, symbol: str) -> int | None:
        e = self._entries.get((venue, symbol))
        return None if e is None else e.index

    def book(self, i: int) -> L2Book | None:
        """Book i in common units, or None while it is not usable (unsynced or stale)."""
        return self.core.book(i) if self.core.usable(i) else None

    def on_message(self, msg: Message, sync: BookSync | None) -> None:
        if not isinstance(msg, BookMessage) or sync is None:
            return
        e = self._entries.get((msg.venue, msg.symbol))
        if e is None:
            return
        self.last_ts_ns = max(self.last_ts_ns, msg.ts_recv_ns)
        change, levels = e.feed.update(msg, sync)
        ts_recv_ns, i = msg.ts_recv_ns, e.index
        if change is Change.NONE:
            return
        if change is Change.UNSYNCED:
            self._emit(self.core.set_synced(i, False, ts_recv_ns))
        elif change is Change.HEARTBEAT:
            self._emit(self.core.heartbeat(i, ts_recv_ns))
        else:
            assert levels is not None
            if change is Change.SYNCED:
                tick = e.feed.conv.tick(sync.book.tick)
                if tick > 1 and self.core.book(i).tick == 1:
                    self.core.set_tick(i, tick)
            self._emit(self.core.apply(i, levels, ts_recv_ns))
            if change is Change.SYNCED:
                self._emit(self.core.set_synced(i, True, ts_recv_ns))
        if self._on_update is not None and change is not Change.UNSYNCED:
            self._on_update(i, ts_recv_ns)

    def finish(self, ts_ns: int | None = None) -> list[OpportunityEvent]:
        """Closes every open opportunity at ``ts_ns`` (default: the last message seen)."""
        out = self.core.flush(self.last_ts_ns if ts_ns is None else ts_ns)
        self._emit(out)
        return out

    def _emit(self, events: list[OpportunityEvent]) -> None:
        if not events:
            return
        self.events.extend(events)
        if self._on_event is not None:
            for ev in events:
                self._on_event(ev)
