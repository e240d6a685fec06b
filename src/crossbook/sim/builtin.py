"""Strategies compiled into the core, and their twins in Python.

``Simulator.run_builtin("cross-arb", CrossArbParams(...))`` runs the cross-venue taker
of ``cpp/include/crossbook/sim/cross_arb.hpp`` with no call into Python: the fastest way
to replay a simple rule over a lot of data. :class:`CrossArbTaker` is the same rule as
a Python :class:`~crossbook.sim.Strategy` (its ``on_touch`` is the only callback): it
gives the same orders and fills, so it is the compiled path's test oracle and the
starting point for a variant of the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crossbook._side import Side
from crossbook.arb.fees import MAX_FEE_CBPS
from crossbook.sim._checks import check_int
from crossbook.sim.models import VenueConfig
from crossbook.sim.records import TimeInForce
from crossbook.sim.strategy import Strategy

if TYPE_CHECKING:
    from crossbook.sim.simulator import Simulator

__all__ = ["BUILTINS", "CrossArbParams", "CrossArbTaker"]

#: Names ``Simulator.run_builtin`` knows.
BUILTINS = ("cross-arb",)

_FEE_DENOMINATOR = 1_000_000  # centi-bps per unit
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class CrossArbParams:
    """The cross-venue taker's settings.

    ``max_size``: the most one leg buys or sells (size mantissa). ``cooldown_ns``: a pair
    (buy venue, sell venue) trades again only this long after it last did.
    ``taker_cbps``: per venue, the taker fee the rule counts on (centi-bps); None takes
    each venue's own ``VenueConfig.fees.taker_cbps``.
    """

    max_size: int
    cooldown_ns: int = 0
    taker_cbps: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        check_int("max_size", self.max_size, 1, _INT64_MAX)
        check_int("cooldown_ns", self.cooldown_ns, 0, _INT64_MAX)
        for fee in self.taker_cbps or ():
            check_int("taker_cbps", fee, -MAX_FEE_CBPS, MAX_FEE_CBPS)

    def fees_for(self, venues: Sequence[VenueConfig]) -> tuple[int, ...]:
        """The taker fee per venue the rule counts on."""
        if self.taker_cbps is None:
            return tuple(v.fees.taker_cbps for v in venues)
        if len(self.taker_cbps) != len(venues):
            raise ValueError(f"cross-arb needs one taker fee per venue: {len(venues)} venues, "
                             f"{len(self.taker_cbps)} fees")
        return self.taker_cbps


class CrossArbTaker(Strategy):
    """On every touch event, the first pair (buy venue ``a``, sell venue ``b``), in order
    of ``a`` then ``b``, where buying at a's ask and selling at b's bid earns more than
    both taker fees::

        ask_a * (10**6 + fee_a) < bid_b * (10**6 - fee_b)        (fees in centi-bps)

    and whose cooldown has passed, gets two IOC limit orders: buy at ``ask_a`` on ``a``
    and sell at ``bid_b`` on ``b``, each for min(ask size, bid size, max_size). At most
    one pair per event. No hedge or unwind when a leg misses: this is the plain rule the
    compiled path runs, not a desk's policy.
    """

    def __init__(self, params: CrossArbParams) -> None:
        self.params = params
        self.touch_events = 0
        self.pairs_traded = 0
        self._fees: tuple[int, ...] = ()
        self._bids: list[tuple[int, int] | None] = []
        self._asks: list[tuple[int, int] | None] = []
        self._next_ok_ns: list[int] = []

    def on_start(self, sim: Simulator) -> None:
        n = len(sim.venues)
        self._fees = self.params.fees_for(sim.venues)
        self._bids, self._asks = [None] * n, [None] * n
        self._next_ok_ns = [_INT64_MIN] * (n * n)

    def on_touch(self, sim: Simulator, venue: int, bid: tuple[int, int] | None,
                 ask: tuple[int, int] | None) -> None:
        self.touch_events += 1
        self._bids[venue], self._asks[venue] = bid, ask
        now, fees, n = sim.now, self._fees, len(self._bids)
        for a, buy in enumerate(self._asks):
            if buy is None or buy[0] <= 0:
                continue
            cost = buy[0] * (_FEE_DENOMINATOR + fees[a])
            for b, sell in enumerate(self._bids):
                if b == a or sell is None or cost >= sell[0] * (_FEE_DENOMINATOR - fees[b]):
                    continue
                if now < self._next_ok_ns[a * n + b]:
                    continue
                size = min(buy[1], sell[1], self.params.max_size)
                sim.submit(a, Side.BID, size, buy[0], tif=TimeInForce.IOC)
                sim.submit(b, Side.ASK, size, sell[0], tif=TimeInForce.IOC)
                self._next_ok_ns[a * n + b] = min(now + self.params.cooldown_ns, _INT64_MAX)
                self.pairs_traded += 1
                return
