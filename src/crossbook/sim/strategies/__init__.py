"""Example strategies, one file each: documented starting points, not trading advice.

* :class:`CrossArb` (cross_arb.py): cross-venue taker arbitrage on the scanner's
  opportunities, both legs IOC, with a ``hedge`` or ``unwind`` policy when a leg misses.
* :class:`LeadLagQuote` (leadlag_quote.py): quotes both sides of a secondary venue, skewed by
  the primary venue's order-flow imbalance, within an inventory limit.

Both log every request (:class:`LoggedStrategy`): the reference simulator replays the log,
and the report traces each fill to its leg and decision price.
"""

from __future__ import annotations

from crossbook.sim.strategies._base import Intent, LoggedStrategy, Request
from crossbook.sim.strategies.cross_arb import POLICIES, CrossArb
from crossbook.sim.strategies.leadlag_quote import LeadLagQuote

__all__ = ["POLICIES", "CrossArb", "Intent", "LeadLagQuote", "LoggedStrategy", "Request"]
