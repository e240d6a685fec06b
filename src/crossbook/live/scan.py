"""The arbitrage scanner over a live feed's books (what ``crossbook watch`` shows).

Books are grouped by what they trade (``crossbook.arb.asset_key``); each asset
quoted by two or more watched books gets a ``crossbook.arb.Scanner``. A scanner
needs every book's exponents, which a venue parser knows only from the book's
first message, so an asset's scanner is built when each of its books has had one;
the scanner then takes each book whole at its next synced message. Fed from the
feed's message callback; ``open`` holds what is open now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crossbook.arb import (
    EventKind,
    OpportunityEvent,
    Scanner,
    VenueCosts,
    asset_key,
    common_units,
    default_listing,
)
from crossbook.messages import BookMessage, Message
from crossbook.sync import BookSync

__all__ = ["LiveScan"]

Key = tuple[str, str]  # (venue, symbol)


class LiveScan:
    """``on_message`` is a LiveFeed ``on_message`` callback. ``max_age_ms``: a book
    without a message for that long is stale (its pairs close)."""

    def __init__(self, subscriptions: Mapping[str, Sequence[str]], *,
                 costs: Mapping[str, VenueCosts] | None = None,
                 max_age_ms: float | None = 5000.0) -> None:
        groups: dict[str, list[Key]] = {}
        for venue, symbols in subscriptions.items():
            for symbol in symbols:
                groups.setdefault(asset_key(symbol), []).append((venue, symbol))
        self._groups = {a: keys for a, keys in groups.items() if len(keys) > 1}
        self._asset = {k: a for a, keys in self._groups.items() for k in keys}
        self._costs = dict(costs or {})
        self._max_age_ms = max_age_ms
        self._syncs: dict[Key, BookSync] = {}
        self.scanners: dict[str, Scanner] = {}
        #: (buy book, sell book) -> the latest event of each opportunity open now.
        self.open: dict[tuple[str, str], OpportunityEvent] = {}
        self.opened = 0
        self.closed = 0
        #: asset -> why it cannot be scanned (no fees known for a venue, exponents
        #: beyond the common units): reported, not retried.
        self.skipped: dict[str, str] = {}

    @property
    def assets(self) -> list[str]:
        """The assets quoted by two or more watched books: what can be scanned."""
        return sorted(self._groups.keys() | self.skipped.keys())

    def on_message(self, msg: Message, sync: BookSync | None) -> None:
        if not isinstance(msg, BookMessage) or sync is None:
            return
        key = (msg.venue, msg.symbol)
        asset = self._asset.get(key)
        if asset is None:
            return
        scanner = self.scanners.get(asset)
        if scanner is None:
            self._syncs[key] = sync
            if any(k not in self._syncs for k in self._groups[asset]):
                return
            try:
                scanner = self.scanners[asset] = self._build(asset)
            except (KeyError, ValueError) as exc:
                self.skipped[asset] = str(exc)
                for k in self._groups.pop(asset):
                    self._asset.pop(k, None)
                return
        scanner.on_message(msg, sync)
        scanner.events.clear()  # each went to _on_event; a long watch must not keep them all

    def _build(self, asset: str) -> Scanner:
        books = [(default_listing(s.instrument, asset), s) for s in
                 (self._syncs[k] for k in self._groups[asset])]
        units = common_units((listing, s.instrument.price_exp, s.instrument.size_exp)
                             for listing, s in books)
        scanner = Scanner(units, costs=self._costs, max_age_ms=self._max_age_ms,
                          on_event=self._on_event)
        for listing, s in books:
            scanner.add(listing, s.instrument.price_exp, s.instrument.size_exp, s.book.tick)
        return scanner

    def _on_event(self, ev: OpportunityEvent) -> None:
        pair = (ev.buy, ev.sell)
        if ev.kind is EventKind.CLOSED:
            self.open.pop(pair, None)
            self.closed += 1
            return
        if ev.kind is EventKind.OPENED:
            self.opened += 1
        self.open[pair] = ev
