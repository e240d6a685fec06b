"""Triangular cycles: start with one asset, trade through two others, end with more of it.

A cycle over BTC/USDT, ETH/BTC and ETH/USDT from USDT buys BTC with USDT, buys
ETH with BTC and sells ETH for USDT (or goes round the other way). The markets
may be on one venue or on several, each with its own taker fee, charged on what
the leg receives (the common spot convention).

Sizing is depth-aware and exact: every leg converts what it is given by walking
its book, so the amount a cycle returns is a concave, piecewise-linear function
of the amount put in, whose slope is the product of each leg's current rate
after fees. The walk advances level by level, in steps that end where some
leg's level runs out, while that product is above 1; it ends at the largest
start amount whose every marginal unit still profits, which is also the one
with the largest pnl. Amounts are Fractions in real units: a venue's lot and
minimum sizes are not applied (round the result down to them to trade it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import permutations

from crossbook import L2Book, Side
from crossbook.arb.fees import FEE_DENOMINATOR, MAX_FEE_CBPS
from crossbook.arb.units import Listing

__all__ = ["Cycle", "CycleLeg", "Market", "find_cycles", "walk_cycle"]


@dataclass(frozen=True, slots=True)
class Market:
    """One book trading ``base`` against ``quote``, and its taker fee (cbps)."""

    name: str
    book: L2Book
    base: str
    quote: str
    taker_cbps: int = 0

    def __post_init__(self) -> None:
        if self.base == self.quote:
            raise ValueError(f"{self.name}: base and quote are both {self.base}")
        if not -MAX_FEE_CBPS <= self.taker_cbps <= MAX_FEE_CBPS:
            raise ValueError(f"{self.name}: taker fee {self.taker_cbps} cbps out of range")

    @classmethod
    def from_listing(cls, listing: Listing, book: L2Book, taker_cbps: int = 0) -> Market:
        """A market from a declared listing whose ``asset`` reads "BASE/QUOTE"; ``book``
        must count base units (convert inverse or contract books with normalize_book)."""
        base, sep, quote = listing.asset.partition("/")
        if not sep:
            raise ValueError(f"{listing.name}: asset {listing.asset!r} is not BASE/QUOTE")
        return cls(listing.name, book, base, quote, taker_cbps)

    def side_from(self, asset: str) -> Side | None:
        """The side of this book one takes to turn ``asset`` into the other asset:
        ASK (buy base with quote) or BID (sell base for quote); None if not traded here."""
        if asset == self.quote:
            return Side.ASK
        if asset == self.base:
            return Side.BID
        return None

    def other(self, asset: str) -> str:
        return self.base if asset == self.quote else self.quote


@dataclass(frozen=True, slots=True)
class CycleLeg:
    market: str
    side: Side  # the book side taken: ASK buys base, BID sells it
    asset_in: str
    asset_out: str
    amount_in: Fraction
    amount_out: Fraction  # after the fee
    fee: Fraction  # paid, in asset_out
    worst_price: int  # mantissa of the worst level taken
    price_exp: int

    @property
    def vwap(self) -> Fraction:
        """Average price (quote per base, before fees) of the leg."""
        gross = self.amount_out + self.fee
        if self.side is Side.ASK:  # paid quote, got base
            return self.amount_in / gross
        return gross / self.amount_in

    @property
    def base_size(self) -> Fraction:
        """The leg's size in its market's base asset (before fees)."""
        return self.amount_out + self.fee if self.side is Side.ASK else self.amount_in


@dataclass(frozen=True, slots=True)
class Cycle:
    """A profitable round trip from ``start_asset``: amounts in real units, exact."""

    start_asset: str
    legs: tuple[CycleLeg, ...]
    start_amount: Fraction
    end_amount: Fraction

    @property
    def pnl(self) -> Fraction:
        return self.end_amount - self.start_amount

    @property
    def edge_bps(self) -> float:
        return float(self.pnl / self.start_amount * 10_000)

    @property
    def path(self) -> str:
        return " -> ".join([self.start_asset, *(leg.asset_out for leg in self.legs)])


class _LegWalk:
    """One leg's book, read level by level as the amount it must convert grows."""

    def __init__(self, market: Market, asset_in: str) -> None:
        side = market.side_from(asset_in)
        if side is None:
            raise ValueError(f"{market.name} does not trade {asset_in}")
        self.market, self.side, self.asset_in = market, side, asset_in
        self.keep = 1 - Fraction(market.taker_cbps, FEE_DENOMINATOR)
        self.scale = Fraction(10) ** -market.book.price_exp
        self.size_scale = Fraction(10) ** -market.book.size_exp
        self.levels = _levels(market.book, side)
        self.amount_in = self.gross_out = Fraction(0)
        self.price = self.worst = 0
        self.left = Fraction(0)  # input the current level can still take
        self.gross_rate = Fraction(0)

    def next_level(self) -> bool:
        lvl = next(self.levels, None)
        if lvl is None:
            return False
        p, s = lvl
        self.price = p
        price, size = p * self.scale, s * self.size_scale
        if self.side is Side.ASK:  # pay quote for base: capacity in quote
            self.left, self.gross_rate = price * size, 1 / price if price else Fraction(0)
        else:
            self.left, self.gross_rate = size, price
        return True

    @property
    def rate(self) -> Fraction:
        return self.gross_rate * self.keep

    def take(self, amount: Fraction) -> None:
        if amount > 0:
            self.worst = self.price
        self.amount_in += amount
        self.gross_out += amount * self.gross_rate
        self.left -= amount

    def leg(self) -> CycleLeg:
        gross = self.gross_out
        net = gross * self.keep
        return CycleLeg(self.market.name, self.side, self.asset_in,
                        self.market.other(self.asset_in), self.amount_in, net, gross - net,
                        self.worst, self.market.book.price_exp)


def _levels(book: L2Book, side: Side) -> Iterator[tuple[int, int]]:
    rows = book.levels(side)
    return zip(rows["price"].tolist(), rows["size"].tolist(), strict=True)


def _as_amount(x: int | str | Fraction | Decimal | None) -> Fraction | None:
    if x is None:
        return None
    v = Fraction(Decimal(x)) if isinstance(x, str) else Fraction(x)
    if v < 0:
        raise ValueError(f"max_start must be >= 0, got {x}")
    return v


def walk_cycle(markets: Sequence[Market], start_asset: str,
               max_start: int | str | Fraction | Decimal | None = None) -> Cycle | None:
    """The best cycle through ``markets`` in this order, from ``start_asset``, or None
    when not even the first marginal unit profits. ``max_start`` caps the amount of
    ``start_asset`` put in (real units)."""
    cap = _as_amount(max_start)
    walks: list[_LegWalk] = []
    asset = start_asset
    for m in markets:
        walks.append(_LegWalk(m, asset))
        asset = m.other(asset)
    if asset != start_asset:
        raise ValueError(f"the markets do not lead back to {start_asset} (they end in {asset})")
    if not all(w.next_level() for w in walks):
        return None
    start = Fraction(0)
    while cap is None or start < cap:
        # Units of leg k's input per unit of start asset, and the cycle's marginal rate.
        mult, per_leg = Fraction(1), []
        for w in walks:
            per_leg.append(mult)
            mult *= w.rate
        if mult <= 1:
            break
        step = min(w.left / k for w, k in zip(walks, per_leg, strict=True))
        if cap is not None:
            step = min(step, cap - start)
        start += step
        for w, k in zip(walks, per_leg, strict=True):
            w.take(step * k)
        if not all(w.left > 0 or w.next_level() for w in walks):
            break
    if start == 0:
        return None
    legs = tuple(w.leg() for w in walks)
    return Cycle(start_asset, legs, start, legs[-1].amount_out)


def find_cycles(markets: Sequence[Market], start_asset: str,
                max_start: int | str | Fraction | Decimal | None = None) -> list[Cycle]:
    """Every profitable three-leg cycle from ``start_asset`` through distinct markets and
    three distinct assets, both directions, best pnl first. Markets of several venues
    mix freely (a cycle may cross venues); each leg pays its own market's fee."""
    out: list[Cycle] = []
    for trio in permutations(markets, 3):
        assets = [start_asset]
        for m in trio:
            if m.side_from(assets[-1]) is None:
                break
            assets.append(m.other(assets[-1]))
        else:
            if assets[-1] == start_asset and len(set(assets[:3])) == 3:
                c = walk_cycle(trio, start_asset, max_start)
                if c is not None:
                    out.append(c)
    out.sort(key=lambda c: c.pnl, reverse=True)
    return out
