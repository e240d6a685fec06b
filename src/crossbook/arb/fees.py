"""Trading costs per venue: taker and maker fees, exactly, and the expected latency.

Fees are integers in hundredths of a basis point ("centi-bps", cbps): 7.5 bps is
750 cbps and the fee as a fraction is ``cbps / FEE_DENOMINATOR``. Every published
fee schedule we know of is a whole number of cbps, the C++ walk takes the same
integers, and the denominator is a power of ten, so every pnl stays a decimal
number. A negative fee is a rebate.

The defaults below are the venues' public base-tier (no volume, no token
discount) fees as of mid-2024, from their published fee schedules. They change
often and depend on the account: they are defaults to override (``--fees`` on
the command line, or :func:`costs_with`), not facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

__all__ = [
    "DEFAULT_COSTS",
    "DEFAULT_LATENCY_MS",
    "FEE_DENOMINATOR",
    "MAX_FEE_CBPS",
    "VenueCosts",
    "bps_to_cbps",
    "costs_for",
    "costs_with",
    "parse_fee_overrides",
]

#: Fee fraction = cbps / FEE_DENOMINATOR (1 bp = 100 cbps = 1e-4).
FEE_DENOMINATOR = 1_000_000
#: A fee of 100% or more makes buying free or selling worthless: no venue charges it,
#: and the C++ walk (cpp/include/crossbook/arb.hpp) refuses it.
MAX_FEE_CBPS = FEE_DENOMINATOR - 1

FeeInput = int | float | str | Fraction | Decimal


def bps_to_cbps(fee_bps: FeeInput, what: str = "fee") -> int:
    """A fee in basis points, exactly, as integer centi-bps.

    Accepts an int, decimal text ("7.5"), Decimal or Fraction, or a float read by
    its shortest repr (7.5 -> "7.5", what the user typed, not the binary value).
    A fee that is not a whole number of cbps, or outside (-100%, 100%), is a
    ValueError: rounding a fee would make the pnl silently inexact.
    """
    if isinstance(fee_bps, bool):
        raise TypeError(f"{what}: expected a number of bps, got {fee_bps!r}")
    try:
        if isinstance(fee_bps, str):
            value = Fraction(Decimal(fee_bps.strip()))
        elif isinstance(fee_bps, float):
            value = Fraction(Decimal(repr(fee_bps)))
        elif isinstance(fee_bps, (int, Fraction, Decimal)):
            value = Fraction(fee_bps)
        else:
            raise TypeError(f"{what}: expected a number of bps, got {type(fee_bps).__name__}")
    except (InvalidOperation, ValueError, OverflowError):
        raise ValueError(f"{what}: not a number of bps: {fee_bps!r}") from None
    cbps = value * 100
    if cbps.denominator != 1:
        raise ValueError(f"{what}: {fee_bps!r} bps is not a whole number of hundredths of a bp")
    if not -MAX_FEE_CBPS <= cbps <= MAX_FEE_CBPS:
        raise ValueError(f"{what}: {fee_bps!r} bps is outside (-10000, 10000) bps")
    return int(cbps)


def _ms_to_ns(ms: float | str) -> int:
    try:
        ns = Fraction(Decimal(str(ms).strip())) * 1_000_000
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a latency in ms: {ms!r}") from None
    return int(ns)


@dataclass(frozen=True, slots=True)
class VenueCosts:
    """What trading on one venue costs: fees in cbps and the expected latency.

    ``latency_ns`` is the time from seeing a book change to an order reaching the
    venue (decision plus order entry); an opportunity that closes sooner could
    not have been caught.
    """

    taker_cbps: int
    maker_cbps: int
    latency_ns: int

    def __post_init__(self) -> None:
        for name in ("taker_cbps", "maker_cbps"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{name} must be an int (centi-bps), got {v!r}")
            if not -MAX_FEE_CBPS <= v <= MAX_FEE_CBPS:
                raise ValueError(f"{name} must be in [-{MAX_FEE_CBPS}, {MAX_FEE_CBPS}], got {v}")
        if isinstance(self.latency_ns, bool) or not isinstance(self.latency_ns, int):
            raise TypeError(f"latency_ns must be an int, got {self.latency_ns!r}")
        if self.latency_ns < 0:
            raise ValueError(f"latency_ns must be >= 0, got {self.latency_ns}")

    @classmethod
    def from_bps(cls, taker_bps: FeeInput, maker_bps: FeeInput,
                 latency_ms: float | str = 0) -> VenueCosts:
        return cls(bps_to_cbps(taker_bps, "taker fee"), bps_to_cbps(maker_bps, "maker fee"),
                   _ms_to_ns(latency_ms))

    @property
    def taker_bps(self) -> Fraction:
        return Fraction(self.taker_cbps, 100)

    @property
    def maker_bps(self) -> Fraction:
        return Fraction(self.maker_cbps, 100)

    @property
    def latency_ms(self) -> float:
        return self.latency_ns / 1e6


#: A rough order-entry round trip from a server in the venue's own cloud region
#: (a few ms) plus the time to decide; no venue publishes one. Override it with
#: your own measurement.
DEFAULT_LATENCY_MS = 10


def _c(taker_bps: str, maker_bps: str) -> VenueCosts:
    return VenueCosts.from_bps(taker_bps, maker_bps, DEFAULT_LATENCY_MS)


#: Base-tier taker/maker fees (bps) by crossbook venue name, as of mid-2024.
#: Where one venue parser serves spot and derivatives, the spot schedule is used;
#: the derivative fee is given in the comment, set it with ``--fees`` if you scan those.
DEFAULT_COSTS: Mapping[str, VenueCosts] = {
    "binance": _c("10", "10"),           # Binance spot, regular user: 0.1000% / 0.1000%
    "binance_usdm": _c("5", "2"),        # USD-M futures VIP 0: taker 0.0500%, maker 0.0200%
    "binance_coinm": _c("5", "2"),       # COIN-M futures VIP 0: taker 0.0500%, maker 0.0200%
    "okx": _c("10", "8"),                # spot Lv1: taker 0.10%, maker 0.08% (swaps: 0.05/0.02)
    "bybit": _c("10", "10"),             # spot non-VIP: 0.1% / 0.1% (perps: 0.055/0.02)
    "bybit_legacy": _c("5.5", "2"),      # derivatives non-VIP: taker 0.055%, maker 0.02%
    "coinbase": _c("60", "40"),          # Coinbase Exchange, lowest tier: 0.60% / 0.40%
    "coinbase_advanced": _c("120", "60"),  # Advanced Trade, $0-1K tier: 1.20% / 0.60%
    "kraken": _c("40", "25"),            # Kraken Pro, $0-10K tier: 0.40% / 0.25%
    "kraken_v2": _c("40", "25"),         # same account schedule as kraken
    "kraken_futures": _c("5", "2"),      # Kraken Futures base tier: 0.05% / 0.02%
    "bitstamp": _c("40", "30"),          # $0-1K tier: 0.40% / 0.30%
    "bitfinex": _c("20", "10"),          # base tier: 0.20% / 0.10%
    "gemini": _c("40", "20"),            # ActiveTrader base tier: 0.40% / 0.20%
    "gateio": _c("20", "20"),            # spot VIP 0: 0.2% / 0.2%
    "gateio_obu": _c("20", "20"),        # same schedule as gateio
    "kucoin": _c("10", "10"),            # spot LV 0 (class A pairs): 0.1% / 0.1%
    "huobi": _c("20", "20"),             # HTX spot regular: 0.2% / 0.2%
    "huobi_swap": _c("5", "2"),          # HTX USDT-M swaps regular: 0.05% / 0.02%
    "bitget": _c("10", "10"),            # spot regular: 0.1% / 0.1%
    "bitmex": _c("7.5", "2"),            # perpetuals base tier: 0.075% / 0.02%
    "deribit": _c("5", "0"),             # BTC/ETH perpetuals and futures: 0.05% / 0.00%
    "dydx_v3": _c("5", "2"),             # tier 1: 0.05% / 0.02%
    "dydx_v4": _c("5", "1"),             # tier 1: 0.05% / 0.01%
    "hyperliquid": _c("3.5", "1"),       # perps base tier: 0.035% / 0.01%
}


def costs_for(venue: str, overrides: Mapping[str, VenueCosts] | None = None) -> VenueCosts:
    """The costs of ``venue``: the override if given, else the default; a venue with
    neither is a KeyError naming it (a silent zero fee would invent opportunities)."""
    if overrides and venue in overrides:
        return overrides[venue]
    try:
        return DEFAULT_COSTS[venue]
    except KeyError:
        raise KeyError(f"no fees known for venue {venue!r}: give them (e.g. --fees "
                       f"{venue}=TAKER_BPS)") from None


def costs_with(venue: str, *, taker_bps: FeeInput | None = None, maker_bps: FeeInput | None = None,
               latency_ms: float | str | None = None,
               base: Mapping[str, VenueCosts] | None = None) -> VenueCosts:
    """``venue``'s costs (from ``base``, else the defaults) with some fields replaced."""
    known = venue in DEFAULT_COSTS or (base is not None and venue in base)
    # A venue with no known fees starts from zero fees only for the fields given here.
    c = costs_for(venue, base) if known else VenueCosts(0, 0, DEFAULT_LATENCY_MS * 1_000_000)
    return VenueCosts(
        c.taker_cbps if taker_bps is None else bps_to_cbps(taker_bps, f"{venue} taker fee"),
        c.maker_cbps if maker_bps is None else bps_to_cbps(maker_bps, f"{venue} maker fee"),
        c.latency_ns if latency_ms is None else _ms_to_ns(latency_ms),
    )



def parse_fee_overrides(specs: list[str] | None) -> dict[str, VenueCosts]:
    """``VENUE=TAKER[/MAKER][@LATENCY_MS]`` items, comma-separated or repeated, into costs.

    ``binance=7.5,binance_usdm=4/1.8@5`` sets Binance spot's taker fee to 7.5 bps and
    USD-M's taker, maker and latency. Fields not given keep their defaults.
    """
    out: dict[str, VenueCosts] = {}
    for spec in specs or []:
        for item in filter(None, (s.strip() for s in spec.split(","))):
            venue, eq, rest = item.partition("=")
            if not eq or not venue or not rest:
                raise ValueError(f"fee spec {item!r}: expected VENUE=TAKER_BPS[/MAKER_BPS][@MS]")
            fees, _, latency = rest.partition("@")
            taker, _, maker = fees.partition("/")
            out[venue] = costs_with(venue.strip(), taker_bps=taker or None, maker_bps=maker or None,
                                    latency_ms=latency or None, base=out or None)
    return out
