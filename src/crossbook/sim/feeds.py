"""The simulator's input: recorded captures of N venues as per-venue feed rows in common units.

Each capture is replayed through its venue's parser and :class:`~crossbook.sync.BookSync`,
the captures merged by receive time as ``crossbook scan`` merges them
(:func:`crossbook.arb.session.merged_records`). Every book becomes one simulated venue, one
per (venue, symbol), with:

* LEVEL_EVENT rows: what the synced book did, message by message, in common units (a rebuild
  is CLEAR and the whole book again), with a SIM_SYNCED row when the sync starts trusting the
  book and SIM_UNSYNCED when it stops (the simulator refuses orders in between);
* TRADE_EVENT rows: the venue's trades, with the aggressor's side.

Common units are the scanner's (:mod:`crossbook.arb.units`): one price and one size exponent
per asset, sizes in base-asset units. An inverse contract (Binance COIN-M BTCUSD_PERP: 100 USD
a contract) shows its depth and its trades as base-asset sizes rounded down, so **the
simulator trades base-asset amounts on that venue**, not whole contracts: a strategy's 0.01
BTC on COIN-M is 0.01 BTC of exposure, its fee the taker fee on that notional in the quote
currency. A trade with no aggressor side, or whose size rounds down to nothing, cannot move
the simulated queue and is dropped and counted (``VenueFeed.trades_dropped``).

:func:`feed_from_arrays` takes normalized arrays (the readers' LEVEL_EVENT and TRADE_EVENT
rows, already in the units the venue should trade in) instead of captures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook.arb.session import discover_instruments, merged_records
from crossbook.arb.stream import Change, NormalizedFeed
from crossbook.arb.units import (
    CommonUnits,
    Listing,
    UnitConverter,
    asset_key,
    common_units,
    default_listing,
)
from crossbook.io.capture import CaptureFormatError
from crossbook.messages import BookMessage, Instrument, Message, Trade
from crossbook.replay import Replay, open_capture
from crossbook.sim.models import ConstantLatency, Fees, VenueConfig
from crossbook.sync import BookSync

__all__ = ["Feeds", "VenueFeed", "feed_from_arrays", "load_captures"]

_PROGRESS_EVERY = 5000


@dataclass(slots=True)
class VenueFeed:
    """One simulated venue: a (venue, symbol) book's rows in its asset's common units."""

    venue: str
    symbol: str
    asset: str
    price_exp: int
    size_exp: int
    levels: npt.NDArray[np.void]
    trades: npt.NDArray[np.void]
    tick: int = 1
    inverse: bool = False
    trades_dropped: int = 0

    @property
    def name(self) -> str:
        return f"{self.venue} {self.symbol}"

    @property
    def quote(self) -> str:
        """The quote currency of the asset ("USD" for "BTC/USD")."""
        return self.asset.partition("/")[2] or self.asset

    def config(self, latency: ConstantLatency, fees: Fees) -> VenueConfig:
        """The simulated venue: its book starts unsynced (the feed's SIM_SYNCED row says when)."""
        return VenueConfig(self.price_exp, self.size_exp, latency, fees, tick=self.tick,
                           synced=False, name=self.name)


@dataclass(slots=True)
class Feeds:
    """What :func:`load_captures` read: one feed per book, in the order of the captures
    (a venue's books in the order they appeared)."""

    venues: list[VenueFeed]
    errors: list[str] = field(default_factory=list)
    records: int = 0
    trades_without_book: int = 0
    first_ns: int = 0
    last_ns: int = 0

    def index(self, venue: str, symbol: str | None = None) -> list[int]:
        """Indexes of the feeds of ``venue`` (and ``symbol``, if given)."""
        return [i for i, f in enumerate(self.venues)
                if f.venue == venue and (symbol is None or f.symbol == symbol)]


def _check_rows(name: str, rows: npt.NDArray[np.void], dtype: np.dtype[np.void], what: str) -> None:
    if not isinstance(rows, np.ndarray) or rows.dtype != dtype:
        got = getattr(rows, "dtype", type(rows).__name__)
        raise TypeError(f"{name}: {what} must be a {what.upper()} array, got {got}")
    ts = rows["ts_recv_ns"]
    if len(ts) > 1 and bool((ts[1:] < ts[:-1]).any()):
        i = int(np.flatnonzero(ts[1:] < ts[:-1])[0]) + 1
        raise ValueError(f"{name}: {what} row {i} goes back in receive time "
                         f"({int(ts[i])} after {int(ts[i - 1])})")


def feed_from_arrays(venue: str, symbol: str, levels: npt.NDArray[np.void],
                     trades: npt.NDArray[np.void] | None = None, *, price_exp: int, size_exp: int,
                     asset: str | None = None, tick: int = 1) -> VenueFeed:
    """A feed from normalized rows: LEVEL_EVENT (with SIM_SYNCED/SIM_UNSYNCED rows where the
    book's trust changes; a feed with none is trusted from its first row) and TRADE_EVENT,
    each in receive-time order. The arrays are copied."""
    name = f"{venue} {symbol}"
    trades = np.zeros(0, dtypes.TRADE_EVENT) if trades is None else trades
    _check_rows(name, levels, dtypes.LEVEL_EVENT, "level_event")
    _check_rows(name, trades, dtypes.TRADE_EVENT, "trade_event")
    levels = levels.copy()
    if not bool(np.isin(levels["action"], (dtypes.SIM_SYNCED, dtypes.SIM_UNSYNCED)).any()):
        first = int(levels["ts_recv_ns"][0]) if len(levels) else 0
        mark = np.zeros(1, dtypes.LEVEL_EVENT)
        mark["ts_recv_ns"], mark["action"] = first, dtypes.SIM_SYNCED
        levels = np.concatenate([mark, levels])
    return VenueFeed(venue, symbol, asset or asset_key(symbol), price_exp, size_exp, levels,
                     trades.copy(), tick)


class _Book:
    """One book's rows as the replay produces them."""

    def __init__(self, listing: Listing, inst: Instrument, units: CommonUnits) -> None:
        self.listing = listing
        self.feed = NormalizedFeed(listing, inst.price_exp, inst.size_exp, units)
        self.conv: UnitConverter = self.feed.conv
        self.units = units
        self.tick = self.conv.tick(inst.tick or 1)
        self.levels: list[npt.NDArray[np.void]] = []
        self.trades: list[tuple[int, int, int, int, int]] = []
        self.trades_dropped = 0

    def on_book(self, msg: BookMessage, sync: BookSync) -> None:
        change, levels = self.feed.update(msg, sync)
        if levels is not None:
            self.levels.append(levels)
        if change in (Change.SYNCED, Change.UNSYNCED):
            mark = np.zeros(1, dtypes.LEVEL_EVENT)
            mark["ts_recv_ns"] = msg.ts_recv_ns
            mark["action"] = dtypes.SIM_SYNCED if change is Change.SYNCED else dtypes.SIM_UNSYNCED
            self.levels.append(mark)
            if change is Change.SYNCED and self.tick == 1:
                self.tick = self.conv.tick(sync.book.tick)

    def on_trade(self, t: Trade) -> None:
        size = self.conv.size(t.price, t.size) if t.price > 0 else 0
        if t.aggressor is None or size <= 0:
            self.trades_dropped += 1
            return
        self.trades.append((t.ts_exchange_ns or 0, t.ts_recv_ns, self.conv.price(t.price), size,
                            int(t.aggressor)))

    def result(self, inst_venue: str, symbol: str) -> VenueFeed:
        levels = (np.concatenate(self.levels) if self.levels
                  else np.zeros(0, dtypes.LEVEL_EVENT))
        trades = np.zeros(len(self.trades), dtypes.TRADE_EVENT)
        if self.trades:
            cols = list(zip(*self.trades, strict=True))
            for name, col in zip(("ts_exchange_ns", "ts_recv_ns", "price", "size", "side"), cols,
                                 strict=True):
                trades[name] = col
        return VenueFeed(inst_venue, symbol, self.listing.asset, self.units.price_exp,
                         self.units.size_exp, levels, trades, self.tick, self.listing.inverse,
                         self.trades_dropped)


class _Loader:
    def __init__(self, prescanned: list[Instrument],
                 listings: Mapping[tuple[str, str], Listing]) -> None:
        self.declared = listings
        by_asset: dict[str, list[tuple[Listing, int, int]]] = {}
        for inst in prescanned:
            lst = self._listing(inst)
            by_asset.setdefault(lst.asset, []).append((lst, inst.price_exp, inst.size_exp))
        self.units = {a: common_units(items) for a, items in by_asset.items()}
        self.books: dict[tuple[str, str], _Book] = {}
        # Trades heard before their symbol's first book message wait for its book.
        self.early: dict[tuple[str, str], list[Trade]] = {}

    def _listing(self, inst: Instrument) -> Listing:
        return self.declared.get((inst.venue, inst.symbol)) or default_listing(inst)

    def _book(self, inst: Instrument) -> _Book:
        key = (inst.venue, inst.symbol)
        book = self.books.get(key)
        if book is None:
            listing = self._listing(inst)
            units = self.units.get(listing.asset) or common_units(
                [(listing, inst.price_exp, inst.size_exp)])
            book = self.books[key] = _Book(listing, inst, units)
            for t in self.early.pop(key, []):
                book.on_trade(t)
        return book

    def on_message(self, msg: Message, sync: BookSync | None) -> None:
        if isinstance(msg, BookMessage) and sync is not None:
            self._book(sync.instrument).on_book(msg, sync)
        elif isinstance(msg, Trade):
            if sync is None:
                self.early.setdefault((msg.venue, msg.symbol), []).append(msg)
            else:
                self._book(sync.instrument).on_trade(msg)


def load_captures(paths: Sequence[str | Path], *, venue: str | None = None,
                  listings: Mapping[tuple[str, str], Listing] | None = None,
                  on_progress: Callable[[int], None] | None = None) -> Feeds:
    """Replays the captures, merged in receive order, into one feed per book.

    Captures of one venue share a parser and books (a recording split into files
    continues). Trades of a symbol with no book in the captures are left out: there is
    nothing to trade against. Damage part way through a capture ends the replay there,
    noted in ``errors`` with the parse errors; the feeds up to it are kept.
    """
    opened = [open_capture(p, venue) for p in paths]
    prescanned: list[Instrument] = []
    for path, (parser, _) in zip(paths, opened, strict=True):
        prescanned += discover_instruments(parser.venue, open_capture(path, parser.venue)[1])
    loader = _Loader(prescanned, listings or {})
    replays: dict[str, Replay] = {}
    owner: list[Replay] = []
    for parser, _ in opened:
        if parser.venue not in replays:
            replays[parser.venue] = Replay(parser, on_message=loader.on_message)
        owner.append(replays[parser.venue])
    out = Feeds([])
    try:
        for out.records, (i, rec) in enumerate(merged_records([r for _, r in opened]), 1):
            out.first_ns = out.first_ns or rec.recv_ns
            out.last_ns = rec.recv_ns
            owner[i].feed(rec)
            if on_progress is not None and out.records % _PROGRESS_EVERY == 0:
                on_progress(out.records)
    except CaptureFormatError as exc:
        out.errors.append(str(exc))
    out.errors += [f"{v}: {e}" for v, rp in replays.items() for e in rp.parse_errors]
    first_capture = {parser.venue: i for i, (parser, _) in reversed(list(enumerate(opened)))}
    out.venues = sorted((b.result(v, s) for (v, s), b in loader.books.items()),
                        key=lambda f: first_capture[f.venue])
    out.trades_without_book = sum(len(t) for t in loader.early.values())
    return out
