"""The simulator's risk engine: limits checked before every order, the circuit breaker, the
kill switch; and a position-sizing helper.

The checks run in the C++ core (``cpp/include/crossbook/sim/risk.hpp``) at the instant a
request is decided, before anything is sent. The rules:

* **A refusal is local.** A refused submit still gets an id and appears in the orders as
  REJECTED with a Reason from 16 up; its REJECTED answer reaches the strategy at once
  (``ts_delivery_ns == ts_venue_ns ==`` the decision time, no venue round trip). A refused
  modify is answered MODIFY_REJECTED the same way and leaves the order as it was. Each
  refusal is a SIM_RISK_EVENT row. Cancels are never refused.
* **Order of the checks** (the first failing one is the reason): kill switch, circuit
  breaker, order size, order notional, position, net position, open orders (submits only),
  rate.
* **Order size and notional** are those of what is sent: a submit's size, a modify's new
  open size at its new price. A market order is valued at the deepest price a walk of the
  venue's current book (less the liquidity already taken) reaches for its size, or at the
  venue's mark when that side is empty; with neither it is refused (event value -1). A
  stop-limit order is valued at its limit price, a stop-market order at its trigger price.
* **Position limits are worst cases that hold whatever fills**: the venue's position now,
  plus the exposure of every live order on the order's side, plus the request. A live
  order's exposure is its open size while PENDING or OPEN, plus the open size of each of its
  modifies still in flight (a modify sets the open size when it lands, whatever filled
  before it). Only the order's own direction is checked: a buy is refused when
  ``position + buy exposure + size > max_position``, a sell when
  ``-position + sell exposure + size > max_position``, so an order that reduces the position
  passes unless its own side's worst case is over. ``max_net_position[asset]`` applies the
  same sum over every venue whose ``VenueConfig.asset`` is that asset (those venues must
  share ``size_exp``).
* **Open orders**: the venue's PENDING and OPEN orders plus the new one. **Rate**: submits
  and modifies sent to the venue in the sliding window ``(now - window_ns, now]`` plus the
  new one; refused requests do not count.
* **Equity** = sum over venues of ``cash + position * mark - fees``, in units of
  ``10**-(price_exp + size_exp)`` (so loss limits need every venue of the run to share
  ``price_exp + size_exp``: ValueError otherwise). Mark: the floor of the book's mid when
  both sides exist, else the venue's last recorded trade price, else its last fill price.
  It is checked after every fill (one by one, in order) and after each venue message's last
  row (F_LAST) on a venue with a non-zero position. Breach: loss ``-equity > max_loss``, or
  drawdown ``peak - equity > max_drawdown`` where the peak is the highest equity seen at a
  check, starting at 0.
* **Breach with on_breach="pause"**: the circuit breaker trips (event) and every submit and
  modify is refused with CIRCUIT_BREAKER until exactly ``trip + pause_ns``, when it resets
  (event at that time). No breach trips it again while it is tripped; one after the reset
  does. **"kill"**: the kill switch.
* **Kill switch** (a breach, the strategy or the user with ``Simulator.kill``): from that
  instant every submit and modify is refused with KILL_SWITCH; a cancel is sent at once for
  every PENDING or OPEN order, and the entry latency applies, as for a real desk (with a
  non-decreasing entry latency each cancel lands after its order; the order is then
  CANCELLED with reason KILL_SWITCH). With ``flatten`` (or ``flatten_on_kill``) a market
  order per venue with a position, for its opposite, is sent too, and one more for each
  later fill of an order sent before the kill; these bypass every limit, and one the book
  cannot fill is not retried. From the kill on the strategy hears only the answers about
  the orders live at the kill and about the flatten orders: no book, trade or timer
  callbacks, nor the refusals of its own later requests. A second kill only adds the
  flattening if the first had none.
* **Caveat**: a refusal is heard at the instant of the request, so a strategy that answers
  every refusal with the same request (before a kill) never lets the clock move: retry on
  a timer instead.
* **Events** (SIM_RISK_EVENT): ORDER_REFUSED (venue, order id, reason, value and limit:
  size, notional, worst position, open orders or requests in the window; CIRCUIT_BREAKER
  carries the reset time as value), BREAKER_TRIPPED and KILL (reason RISK_LOSS with the loss,
  RISK_DRAWDOWN with the drawdown, or KILL_SWITCH for a pulled switch), BREAKER_RESET.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from crossbook.sim._checks import check_int

if TYPE_CHECKING:
    from crossbook.sim.simulator import Simulator

__all__ = ["PortfolioRisk", "VenueRisk", "VolatilitySizer"]

_MAX_I64 = 2**63 - 1


def _check_limit(name: str, value: object, high: int = _MAX_I64, low: int = 0) -> None:
    check_int(name, value, low, high, optional=True)


@dataclass(frozen=True, slots=True)
class VenueRisk:
    """Limits of one simulated venue; None is no limit. Sizes are size mantissas; the
    notional is price * size mantissas (units 10**-(price_exp + size_exp))."""

    max_order_size: int | None = None
    max_order_notional: int | None = None
    max_position: int | None = None  # |position| after the order if fully filled (worst case)
    max_open_orders: int | None = None  # open + in flight
    max_orders_per_window: int | None = None  # submits + modifies per sliding window
    window_ns: int = 1_000_000_000

    def __post_init__(self) -> None:
        _check_limit("max_order_size", self.max_order_size)
        _check_limit("max_order_notional", self.max_order_notional, 2**127 - 1)
        _check_limit("max_position", self.max_position)
        _check_limit("max_open_orders", self.max_open_orders)
        _check_limit("max_orders_per_window", self.max_orders_per_window)
        _check_limit("window_ns", self.window_ns, low=1)


@dataclass(frozen=True, slots=True)
class PortfolioRisk:
    """Limits over all venues of a run. ``max_net_position`` maps an asset (the venues'
    ``VenueConfig.asset``) to the largest |sum of their positions|; ``max_loss`` and
    ``max_drawdown`` bound the equity (realized + unrealized at mark)."""

    max_net_position: Mapping[str, int] = field(default_factory=dict)
    max_loss: int | None = None
    max_drawdown: int | None = None
    on_breach: Literal["pause", "kill"] = "pause"
    pause_ns: int = 60_000_000_000
    flatten_on_kill: bool = False

    def __post_init__(self) -> None:
        for asset, limit in self.max_net_position.items():
            if not isinstance(asset, str) or not asset:
                raise ValueError(f"max_net_position keys are asset names, got {asset!r}")
            _check_limit(f"max_net_position[{asset!r}]", limit)
        _check_limit("max_loss", self.max_loss, 2**127 - 1)
        _check_limit("max_drawdown", self.max_drawdown, 2**127 - 1)
        if self.on_breach not in ("pause", "kill"):
            raise ValueError(f"on_breach must be 'pause' or 'kill', got {self.on_breach!r}")
        _check_limit("pause_ns", self.pause_ns)


VenueRiskArgs = tuple[int | None, int | None, int | None, int | None, int | None, int, int]
PortfolioRiskArgs = tuple[list[int], int | None, int | None, bool, int, bool]


def core_risk_args(venues: Sequence[tuple[VenueRisk, str]],
                   portfolio: PortfolioRisk | None) -> tuple[list[VenueRiskArgs], PortfolioRiskArgs]:
    """The core's configure_risk arguments from each venue's (risk, asset) and the portfolio."""
    p = portfolio if portfolio is not None else PortfolioRisk()
    assets = sorted(p.max_net_position)
    missing = set(assets) - {asset for _, asset in venues}
    if missing:
        raise ValueError(f"max_net_position names assets no venue has: {sorted(missing)}")
    index = {a: i for i, a in enumerate(assets)}
    rows: list[VenueRiskArgs] = [
        (r.max_order_size, r.max_order_notional, r.max_position, r.max_open_orders,
         r.max_orders_per_window, r.window_ns, index.get(asset, -1))
        for r, asset in venues
    ]
    return rows, ([p.max_net_position[a] for a in assets], p.max_loss, p.max_drawdown,
                  p.on_breach == "kill", p.pause_ns, p.flatten_on_kill)


class VolatilitySizer:
    """Scales an order size down as realized volatility rises.

    Fed mid prices (``update``, or ``update_from`` reading a simulated venue's book), it keeps
    the last ``window`` log returns; realized volatility is their root mean square (returns
    taken as zero-mean, as usual at short horizons), per return. ``size()`` is
    ``floor(base_size * min(1, target_vol / realized))``, exactly, and ``base_size`` until
    there is a return or while realized volatility is 0. Floats only in the ratio.
    """

    def __init__(self, base_size: int, target_vol: float, window: int) -> None:
        _check_limit("base_size", base_size)
        _check_limit("window", window, low=1)
        if not (isinstance(target_vol, (int, float)) and math.isfinite(target_vol) and target_vol > 0):
            raise ValueError(f"target_vol must be a positive finite number, got {target_vol!r}")
        self.base_size = base_size
        self.target_vol = float(target_vol)
        self._returns: deque[float] = deque(maxlen=window)
        self._last_mid: int | None = None

    def update(self, mid: int) -> None:
        if isinstance(mid, bool) or not isinstance(mid, int) or mid <= 0:
            raise ValueError(f"a mid must be a positive int mantissa, got {mid!r}")
        if self._last_mid is not None:
            self._returns.append(math.log(mid / self._last_mid))
        self._last_mid = mid

    def update_from(self, sim: Simulator, venue: int) -> None:
        """Feeds the floor of the venue's mid; nothing when a side of its book is empty."""
        bid, ask = sim.bbo(venue)
        if bid is not None and ask is not None:
            self.update((bid[0] + ask[0]) // 2)

    @property
    def realized_vol(self) -> float | None:
        if not self._returns:
            return None
        return math.sqrt(math.fsum(r * r for r in self._returns) / len(self._returns))

    def size(self) -> int:
        realized = self.realized_vol
        if realized is None or realized <= self.target_vol:
            return self.base_size
        # Fraction: exact product, so a large mantissa is floored, not rounded through a float.
        return math.floor(Fraction(self.target_vol) / Fraction(realized) * self.base_size)
