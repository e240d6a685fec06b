"""The swappable execution models of one simulated venue, as the core knows them.

Each model is a C++ class behind one narrow interface (cpp/include/crossbook/sim/
{latency,fee,queue}_model.hpp); these records choose and parametrise them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from crossbook.arb.fees import MAX_FEE_CBPS, VenueCosts

__all__ = ["QUEUE_MODELS", "ConstantLatency", "Fees", "Impact", "VenueConfig", "parse_queue_model"]

#: Queue models the core knows; "power:N" takes an exponent N >= 0 (e.g. "power:3").
#: Formulas: cpp/include/crossbook/sim/queue_model.hpp.
QUEUE_MODELS = ("conservative", "linear", "log", "power:N")


def parse_queue_model(name: str) -> tuple[str, float | None]:
    """("conservative" | "linear" | "log" | "power", exponent or None) of a model name.

    Raises ValueError for an unknown name or an exponent that is not a finite number >= 0.
    """
    if name in ("conservative", "linear", "log"):
        return name, None
    kind, sep, text = name.partition(":")
    if kind == "power" and sep:
        try:
            n = float(text)
        except ValueError:
            n = math.nan
        if math.isfinite(n) and n >= 0:
            return "power", n
        raise ValueError(f"queue model {name!r}: the exponent must be a finite number >= 0")
    raise ValueError(f"unknown queue model {name!r} (known: {', '.join(QUEUE_MODELS)})")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")


@dataclass(frozen=True, slots=True)
class ConstantLatency:
    """Every request reaches the venue ``entry_ns`` after the decision; every answer
    reaches the strategy ``response_ns`` after the venue sent it."""

    entry_ns: int
    response_ns: int

    def __post_init__(self) -> None:
        _check_int("entry_ns", self.entry_ns, 0, 2**63 - 1)
        _check_int("response_ns", self.response_ns, 0, 2**63 - 1)


@dataclass(frozen=True, slots=True)
class Fees:
    """Maker and taker fees in centi-bps (negative is a rebate), as crossbook.arb.fees."""

    maker_cbps: int
    taker_cbps: int

    def __post_init__(self) -> None:
        _check_int("maker_cbps", self.maker_cbps, -MAX_FEE_CBPS, MAX_FEE_CBPS)
        _check_int("taker_cbps", self.taker_cbps, -MAX_FEE_CBPS, MAX_FEE_CBPS)

    @classmethod
    def from_costs(cls, costs: VenueCosts) -> Fees:
        return cls(costs.maker_cbps, costs.taker_cbps)


@dataclass(frozen=True, slots=True)
class Impact:
    """Market impact of the strategy's own taker fills (cpp/include/crossbook/sim/
    impact_model.hpp). A taker fill of signed size ``q`` (+ buy, - sell) shifts the whole
    book the strategy's later orders at that venue meet (their taker walk, limit and
    post-only checks, and the fill prices) by ``trunc(q * price_step / size_unit)`` price
    units, decaying linearly to nothing over ``decay_ns``; shifts of several fills add
    up. Recorded trades, and so maker fills, are not shifted."""

    price_step: int
    size_unit: int
    decay_ns: int

    def __post_init__(self) -> None:
        _check_int("price_step", self.price_step, 0, 2**63 - 1)
        _check_int("size_unit", self.size_unit, 1, 2**63 - 1)
        _check_int("decay_ns", self.decay_ns, 1, 2**63 - 1)


@dataclass(frozen=True, slots=True)
class VenueConfig:
    """One simulated (venue, symbol). ``synced`` is the book's state before the feed
    says otherwise; ``tick`` is a speed hint for the book, as for L2Book. ``queue`` names
    the queue model of resting orders (see :data:`QUEUE_MODELS`); ``impact`` turns on
    market impact (off by default)."""

    price_exp: int = 0
    size_exp: int = 0
    latency: ConstantLatency = field(default_factory=lambda: ConstantLatency(0, 0))
    fees: Fees = field(default_factory=lambda: Fees(0, 0))
    queue: str = "conservative"
    tick: int = 1
    synced: bool = True
    name: str = ""
    impact: Impact | None = None

    def __post_init__(self) -> None:
        parse_queue_model(self.queue)
        _check_int("tick", self.tick, 1, 2**63 - 1)

    def core_args(self) -> tuple[int, int, int, int, int, int, int, bool, str]:
        return (self.price_exp, self.size_exp, self.tick, self.latency.entry_ns,
                self.latency.response_ns, self.fees.maker_cbps, self.fees.taker_cbps,
                self.synced, _core_queue_name(self.queue))


def _core_queue_name(name: str) -> str:
    # repr round-trips the float, so the core's exponent is the one Python parsed.
    kind, n = parse_queue_model(name)
    return kind if n is None else f"power:{n!r}"
