"""What the example strategies share: every request they make is logged with why it was made."""

from __future__ import annotations

from typing import NamedTuple

from crossbook.sim.records import TimeInForce
from crossbook.sim.simulator import Simulator
from crossbook.sim.strategy import Strategy

__all__ = ["Intent", "LoggedStrategy", "Request"]


class Request(NamedTuple):
    """One request as decided: ``kind`` is "submit", "cancel" or "modify". For a submit,
    ``price`` None is a market order; for a modify, ``price`` and ``size`` are the new
    price and open size."""

    ts_ns: int
    kind: str
    order_id: int
    venue: int = 0
    side: int = 0
    price: int | None = None
    size: int = 0
    tif: int = TimeInForce.GTC
    post_only: bool = False


class Intent(NamedTuple):
    """Why an order was sent: its leg ("buy", "sell", "hedge", "unwind", "bid", "ask") and
    the price the strategy meant to trade at when it decided (slippage is measured from it)."""

    leg: str
    decision_price: int | None
    side: int


class LoggedStrategy(Strategy):
    """A strategy whose submit/cancel/modify go through here, so that a run can be replayed
    request by request (the reference simulator does) and each fill traced to its intent."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.intents: dict[int, Intent] = {}

    def submit(self, sim: Simulator, venue: int, side: int, size: int, price: int | None = None,
               *, tif: TimeInForce = TimeInForce.GTC, post_only: bool = False, leg: str = "",
               decision_price: int | None = None) -> int:
        oid = sim.submit(venue, side, size, price, tif=tif, post_only=post_only)
        self.requests.append(Request(sim.now, "submit", oid, venue, side, price, size, int(tif),
                                     post_only))
        self.intents[oid] = Intent(leg, price if decision_price is None else decision_price, side)
        return oid

    def cancel(self, sim: Simulator, order_id: int) -> None:
        sim.cancel(order_id)
        self.requests.append(Request(sim.now, "cancel", order_id))

    def modify(self, sim: Simulator, order_id: int, price: int, leaves: int) -> None:
        sim.modify(order_id, price, leaves)
        self.requests.append(Request(sim.now, "modify", order_id, price=price, size=leaves))
        self.intents[order_id] = self.intents[order_id]._replace(decision_price=price)
