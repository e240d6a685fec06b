"""The strategy side of a simulation: callbacks in, requests out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crossbook.sim.records import BookRow, Response, TradeRow

if TYPE_CHECKING:
    from crossbook.sim.simulator import Simulator

__all__ = ["Strategy"]


class Strategy:
    """Base class of a simulated strategy. Override only the callbacks you need: the
    simulator calls into Python only for the kinds of event a subclass overrides.

    ``sim`` is the execution surface (submit, cancel, modify, set_timer, now, bbo,
    depth); requests made in a callback are decided at ``sim.now``.
    """

    def on_start(self, sim: Simulator) -> None:
        """Before the first event."""

    def on_book(self, sim: Simulator, venue: int, row: BookRow) -> None:
        """A venue message ended (its last level row, flag F_LAST) or the venue's sync changed."""

    def on_touch(self, sim: Simulator, venue: int, bid: tuple[int, int] | None,
                 ask: tuple[int, int] | None) -> None:
        """A venue message ended (or the venue's sync changed) and the venue's touch is
        not the one last reported: ``bid`` and ``ask`` are (price, size) or None for an
        empty side, and both None while the venue is not synced.

        Called only when a price or size at the touch changed, so a strategy that
        reads only the touch (as a cross-venue taker does) costs one Python call per
        change instead of one per message. Overriding both on_book and on_touch gets
        on_book first, then on_touch, for the same row."""

    def on_trade(self, sim: Simulator, venue: int, trade: TradeRow) -> None:
        """A recorded trade was received."""

    def on_order(self, sim: Simulator, response: Response) -> None:
        """An answer other than a fill reached the strategy."""

    def on_fill(self, sim: Simulator, fill: Response) -> None:
        """A fill reached the strategy."""

    def on_timer(self, sim: Simulator, timer_id: int) -> None:
        """A timer set with ``sim.set_timer`` fired."""
