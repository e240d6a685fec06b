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

    def on_trade(self, sim: Simulator, venue: int, trade: TradeRow) -> None:
        """A recorded trade was received."""

    def on_order(self, sim: Simulator, response: Response) -> None:
        """An answer other than a fill reached the strategy."""

    def on_fill(self, sim: Simulator, fill: Response) -> None:
        """A fill reached the strategy."""

    def on_timer(self, sim: Simulator, timer_id: int) -> None:
        """A timer set with ``sim.set_timer`` fired."""
