"""The swappable execution models of one simulated venue, as the core knows them.

Each model is a C++ class behind one narrow interface (cpp/include/crossbook/sim/
{latency,fee,queue}_model.hpp); these records choose and parametrise them.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from crossbook.arb.fees import MAX_FEE_CBPS, VenueCosts
from crossbook.sim._checks import check_int
from crossbook.sim.risk import VenueRisk

__all__ = [
    "QUEUE_MODELS", "ConstantLatency", "EmpiricalLatency", "Fees", "Impact", "Latency",
    "TableLatency", "UniformLatency", "VenueConfig", "parse_queue_model",
]  # fmt: skip

_MAX_NS = 2**63 - 1

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


@dataclass(frozen=True, slots=True)
class ConstantLatency:
    """Every request reaches the venue ``entry_ns`` after the decision; every answer
    reaches the strategy ``response_ns`` after the venue sent it."""

    entry_ns: int
    response_ns: int

    def __post_init__(self) -> None:
        check_int("entry_ns", self.entry_ns, 0, 2**63 - 1)
        check_int("response_ns", self.response_ns, 0, 2**63 - 1)


def _as_int(name: str, value: object) -> int:
    """An exact integer (numpy integers too, as measured latencies often are); never a float."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an int, got {value!r}") from None


def _delays(name: str, values: Sequence[int]) -> tuple[int, ...]:
    out = tuple(_as_int(name, v) for v in values)
    if not out:
        raise ValueError(f"{name} needs at least one sample")
    for v in out:
        check_int(name, v, 0, _MAX_NS)
    return out


def _range(name: str, bounds: tuple[int, int]) -> tuple[int, int]:
    lo, hi = bounds
    check_int(f"{name} low", lo, 0, _MAX_NS)
    check_int(f"{name} high", hi, lo, _MAX_NS)
    return lo, hi


@dataclass(frozen=True, slots=True)
class EmpiricalLatency:
    """Each delay is one of its samples, drawn uniformly with a generator seeded by
    ``seed`` (splitmix64, the same on every platform): measured latencies replayed as a
    distribution. Entry and response draws have generators of their own; per venue,
    entry delays are drawn in the order requests are sent to it, response delays in
    the order it sends its answers."""

    entry_ns: Sequence[int]  # stored as a tuple
    response_ns: Sequence[int]
    seed: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "entry_ns", _delays("entry_ns", self.entry_ns))
        object.__setattr__(self, "response_ns", _delays("response_ns", self.response_ns))
        check_int("seed", self.seed, 0, 2**64 - 1)


@dataclass(frozen=True, slots=True)
class UniformLatency:
    """Each delay uniform over the integers of ``(lo, hi)``, both ends included, drawn
    as :class:`EmpiricalLatency` draws."""

    entry: tuple[int, int]
    response: tuple[int, int]
    seed: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "entry", _range("entry", self.entry))
        object.__setattr__(self, "response", _range("response", self.response))
        check_int("seed", self.seed, 0, 2**64 - 1)


@dataclass(frozen=True, slots=True)
class TableLatency:
    """Piecewise-constant delays over time: rows ``(from_ts_ns, entry_ns, response_ns)``
    with ``from_ts_ns`` strictly increasing. The row with the greatest ``from_ts_ns <= t``
    applies at ``t`` (a request's decision time, an answer's venue time); before the
    first row, the first row applies."""

    rows: Sequence[tuple[int, int, int]]  # stored as a tuple

    def __post_init__(self) -> None:
        rows = tuple((_as_int("from_ts_ns", f), _as_int("entry_ns", e), _as_int("response_ns", r))
                     for f, e, r in self.rows)
        if not rows:
            raise ValueError("a latency table needs at least one row")
        for i, (from_ns, entry_ns, response_ns) in enumerate(rows):
            check_int(f"row {i} from_ts_ns", from_ns, -_MAX_NS - 1, _MAX_NS)
            check_int(f"row {i} entry_ns", entry_ns, 0, _MAX_NS)
            check_int(f"row {i} response_ns", response_ns, 0, _MAX_NS)
            if i and from_ns <= rows[i - 1][0]:
                raise ValueError(f"row {i}: from_ts_ns {from_ns} is not after the previous row's "
                                 f"{rows[i - 1][0]}")
        object.__setattr__(self, "rows", rows)


#: The latency models a venue can have.
Latency: TypeAlias = ConstantLatency | EmpiricalLatency | UniformLatency | TableLatency


@dataclass(frozen=True, slots=True)
class Fees:
    """Maker and taker fees in centi-bps (negative is a rebate), as crossbook.arb.fees."""

    maker_cbps: int
    taker_cbps: int

    def __post_init__(self) -> None:
        check_int("maker_cbps", self.maker_cbps, -MAX_FEE_CBPS, MAX_FEE_CBPS)
        check_int("taker_cbps", self.taker_cbps, -MAX_FEE_CBPS, MAX_FEE_CBPS)

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
        check_int("price_step", self.price_step, 0, 2**63 - 1)
        check_int("size_unit", self.size_unit, 1, 2**63 - 1)
        check_int("decay_ns", self.decay_ns, 1, 2**63 - 1)


@dataclass(frozen=True, slots=True)
class VenueConfig:
    """One simulated (venue, symbol). ``synced`` is the book's state before the feed
    says otherwise; ``tick`` is a speed hint for the book, as for L2Book. ``risk`` holds
    the venue's limits; ``asset`` names what its position is in, for
    ``PortfolioRisk.max_net_position`` (crossbook.sim.risk). ``queue`` names the queue model of resting orders (see
    :data:`QUEUE_MODELS`); ``impact`` turns on market impact (off by default)."""

    price_exp: int = 0
    size_exp: int = 0
    latency: Latency = field(default_factory=lambda: ConstantLatency(0, 0))
    fees: Fees = field(default_factory=lambda: Fees(0, 0))
    queue: str = "conservative"
    tick: int = 1
    synced: bool = True
    name: str = ""
    risk: VenueRisk = field(default_factory=VenueRisk)
    asset: str = ""
    impact: Impact | None = None

    def __post_init__(self) -> None:
        parse_queue_model(self.queue)
        check_int("tick", self.tick, 1, 2**63 - 1)

    def core_args(self) -> tuple[int, int, int, int, int, int, int, bool, str]:
        """The core's venue arguments; a latency other than ConstantLatency is set after
        construction (crossbook.sim.Simulator does)."""
        lat = self.latency
        entry_ns, response_ns = ((lat.entry_ns, lat.response_ns) if isinstance(lat, ConstantLatency)
                                 else (0, 0))
        return (self.price_exp, self.size_exp, self.tick, entry_ns, response_ns,
                self.fees.maker_cbps, self.fees.taker_cbps, self.synced, _core_queue_name(self.queue))


def _core_queue_name(name: str) -> str:
    # repr round-trips the float, so the core's exponent is the one Python parsed.
    kind, n = parse_queue_model(name)
    return kind if n is None else f"power:{n!r}"
