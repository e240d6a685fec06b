"""Equivalent instruments across venues, and their books in common units.

Venues quote the same asset in different units: Binance spot BTCUSDT counts BTC
at 8 decimals, USD-M BTCUSDT counts BTC at 3, COIN-M BTCUSD_PERP counts
contracts worth 100 USD each. Before two books can be compared they are
converted to one price exponent and one size exponent, in units of the base
asset:

- prices are rescaled exactly (a price that does not fit the common exponent is
  an error, never rounded);
- linear sizes (``size`` contracts of ``contract_size`` base units) are
  multiplied exactly (an error if the product does not fit the common size
  exponent);
- inverse sizes (``size`` contracts of ``contract_size`` *quote* units) are
  worth ``size * contract_size / price`` base units, which is not a decimal in
  general: it is rounded DOWN to the common size exponent, level by level, so a
  converted book never shows more depth than the venue has. Per level the loss
  is under one unit of ``10**-size_exp`` (a satoshi at the default exponent 8).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from crossbook import L2Book, Side, dtypes
from crossbook.messages import Instrument

__all__ = [
    "INVERSE_SIZE_EXP",
    "CommonUnits",
    "Listing",
    "UnitConverter",
    "asset_key",
    "common_units",
    "default_listing",
    "normalize_book",
]

_INT64_MAX = (1 << 63) - 1
#: Size exponent used for inverse listings' base units when nothing finer is
#: declared: 8 decimals (a satoshi for BTC) keeps the round-down loss of one
#: 100-USD contract at 60,000 USD below 1e-5 of its value.
INVERSE_SIZE_EXP = 8

KINDS = ("spot", "perpetual", "future")


def _exact(value: int | str | Fraction | Decimal, what: str) -> Fraction:
    if isinstance(value, (bool, float)):
        raise TypeError(f"{what} must be exact (int, decimal text, Decimal or Fraction), "
                        f"got {value!r}")
    try:
        return Fraction(Decimal(value)) if isinstance(value, str) else Fraction(value)
    except (ValueError, ArithmeticError):
        raise ValueError(f"{what}: not a number: {value!r}") from None


@dataclass(frozen=True, slots=True)
class Listing:
    """One venue's listing of an asset, declared equivalent to others by ``asset``.

    ``contract_size``: for a linear listing, base units per contract (1 for spot;
    the venue's size mantissa counts contracts); for an inverse listing, quote
    units per contract (Binance COIN-M BTCUSD_PERP: 100 USD). ``kind`` is what
    basis monitoring pairs: a "spot" listing against a "perpetual" or "future".
    """

    venue: str
    symbol: str
    asset: str
    contract_size: Fraction = Fraction(1)
    inverse: bool = False
    kind: str = "spot"

    def __post_init__(self) -> None:
        cs = _exact(self.contract_size, f"{self.venue} {self.symbol} contract_size")
        if cs <= 0:
            raise ValueError(f"{self.venue} {self.symbol}: contract_size must be > 0, got {cs}")
        object.__setattr__(self, "contract_size", cs)
        if self.kind not in KINDS:
            raise ValueError(f"{self.venue} {self.symbol}: kind must be one of {KINDS}, "
                             f"got {self.kind!r}")

    @property
    def name(self) -> str:
        return f"{self.venue} {self.symbol}"


@dataclass(frozen=True, slots=True)
class CommonUnits:
    """The exponents every converted book shares: price in quote units, size in base units."""

    price_exp: int
    size_exp: int


class UnitConverter:
    """Converts one listing's prices and sizes (at its exponents) to common units.

    Pure and exact except for inverse sizes, which round down (module docstring).
    """

    __slots__ = (
        "_identity",
        "_pdiv",
        "_pmul",
        "_size_den",
        "_size_num",
        "listing",
        "price_exp",
        "size_exp",
        "units",
    )

    def __init__(self, listing: Listing, price_exp: int, size_exp: int, units: CommonUnits):
        self.listing, self.units = listing, units
        self.price_exp, self.size_exp = price_exp, size_exp
        shift = units.price_exp - price_exp
        self._pmul: int = 10**shift if shift >= 0 else 1
        self._pdiv: int = 1 if shift >= 0 else 10**-shift
        cs = listing.contract_size
        if listing.inverse:
            # base = contracts * N / price_real = m * N * 10**(pe - se + S) / p (p: venue mantissa)
            k = cs * Fraction(10) ** (price_exp - size_exp + units.size_exp)
        else:
            k = cs * Fraction(10) ** (units.size_exp - size_exp)
        self._size_num, self._size_den = k.numerator, k.denominator
        self._identity = (not listing.inverse and k == 1 and shift == 0)

    @property
    def identity(self) -> bool:
        """True when conversion changes nothing (the venue book is already in common units)."""
        return self._identity

    def price(self, price: int) -> int:
        if self._pdiv == 1:
            v = price * self._pmul
            if v > _INT64_MAX:
                raise ValueError(f"{self.listing.name}: price {price} does not fit in int64 at "
                                 f"common price exponent {self.units.price_exp}")
            return v
        q, r = divmod(price, self._pdiv)
        if r:
            raise ValueError(f"{self.listing.name}: price {price} (exponent {self.price_exp}) "
                             f"does not fit common price exponent {self.units.price_exp}")
        return q

    def size(self, price: int, size: int) -> int:
        """Base units at the common size exponent of ``size`` at venue ``price``."""
        if self.listing.inverse:
            if price <= 0:
                raise ValueError(f"{self.listing.name}: inverse size at price {price} "
                                 "has no base value")
            # floor: never show more depth than the venue has
            v = size * self._size_num // (price * self._size_den)
        else:
            v, r = divmod(size * self._size_num, self._size_den)
            if r:
                raise ValueError(f"{self.listing.name}: size {size} x contract size "
                                 f"{self.listing.contract_size} does not fit common size "
                                 f"exponent {self.units.size_exp}")
        if v > _INT64_MAX:
            raise ValueError(f"{self.listing.name}: size {size} does not fit in int64 at common "
                             f"size exponent {self.units.size_exp}")
        return v

    def prices(self, prices: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """``price`` over an int64 array, in numpy (the scalar path names a bad value)."""
        if self._pdiv == 1:
            if len(prices) and int(prices.max()) > _INT64_MAX // self._pmul:
                self.price(int(prices.max()))
            out: npt.NDArray[np.int64] = prices * self._pmul
            return out
        q, r = np.divmod(prices, self._pdiv)
        if r.any():
            self.price(int(prices[np.flatnonzero(r)[0]]))
        return q.astype(np.int64, copy=False)

    def sizes(self, prices: npt.NDArray[np.int64],
              sizes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """``size`` over int64 arrays, in numpy where int64 cannot overflow."""
        num, den = self._size_num, self._size_den
        if not self.listing.inverse and den == 1:
            if len(sizes) and int(sizes.max()) > _INT64_MAX // num:
                self.size(0, int(sizes.max()))
            out: npt.NDArray[np.int64] = sizes * num
            return out
        # Inverse and fractional contract sizes: exact in Python ints (products can pass 2**63).
        return np.array([self.size(p, s) for p, s in zip(prices.tolist(), sizes.tolist(),
                                                        strict=True)], dtype=np.int64)

    def depth_rows(self, rows: npt.NDArray[np.void]) -> npt.NDArray[np.void]:
        """DEPTH rows in common units; rows whose size converts to 0 are left out."""
        sizes = self.sizes(rows["price"], rows["size"])
        keep = sizes > 0
        out = np.empty(int(keep.sum()), dtype=dtypes.DEPTH)
        out["price"] = self.prices(rows["price"][keep])
        out["size"] = sizes[keep]
        out["count"] = rows["count"][keep]
        return out

    def level_events(self, events: npt.NDArray[np.void]) -> npt.NDArray[np.void]:
        """LEVEL_EVENT rows in common units. A level whose size rounds down to 0 is
        removed (size 0): depth that cannot be counted is not shown."""
        out = events.copy()
        if self._identity or not len(events):
            return out
        level = out["action"] != dtypes.CLEAR
        if level.all():
            out["size"] = self.sizes(events["price"], events["size"])
            out["price"] = self.prices(events["price"])
        else:
            out["size"][level] = self.sizes(events["price"][level], events["size"][level])
            out["price"][level] = self.prices(events["price"][level])
        return out

    def tick(self, tick: int) -> int:
        """The venue's tick hint at the common exponent (1 when it does not rescale)."""
        t = Fraction(tick * self._pmul, self._pdiv)
        return int(t) if t.denominator == 1 and 1 <= t <= dtypes.MAX_TICK_HINT else 1


def normalize_book(book: L2Book, listing: Listing, units: CommonUnits) -> L2Book:
    """A new L2Book holding ``book`` (a venue book of ``listing``) in common units.

    Linear listings convert exactly; inverse sizes round down per level, so for
    every level and every prefix of levels the converted depth is at most the
    true depth (and under one size unit per level below it).
    """
    conv = UnitConverter(listing, book.price_exp, book.size_exp, units)
    out = L2Book(units.price_exp, units.size_exp, conv.tick(book.tick))
    out.load_snapshot(conv.depth_rows(book.levels(Side.BID)),
                      conv.depth_rows(book.levels(Side.ASK)))
    return out


def common_units(listings: Iterable[tuple[Listing, int, int]]) -> CommonUnits:
    """The coarsest exponents that hold every listing exactly: the finest price
    exponent, and the finest size exponent that a linear listing needs (its own
    plus the decimals of its contract size), at least INVERSE_SIZE_EXP when an
    inverse listing is present. Items are (listing, price_exp, size_exp)."""
    pe, se = 0, 0
    for listing, price_exp, size_exp in listings:
        pe = max(pe, price_exp)
        if listing.inverse:
            se = max(se, INVERSE_SIZE_EXP)
        else:
            se = max(se, size_exp + _decimals(listing.contract_size))
    return CommonUnits(pe, se)


def _decimals(x: Fraction) -> int:
    """Decimals needed to write ``x`` exactly (ValueError if it is not a decimal)."""
    d = 0
    while (x * 10**d).denominator != 1:
        d += 1
        if d > 18:
            raise ValueError(f"contract size {x} is not a decimal number")
    return d


_SUFFIX = re.compile(r"([-_](PERP|SWAP|PERPETUAL|\d{6}|\d{8}|\d{1,2}[A-Z]{3}\d{2})|PERP)$")
_PAIR = re.compile(r"^(?P<base>[A-Z0-9]+?)(?P<quote>USDT|USDC|BUSD|FDUSD|USD|EUR|BTC|ETH)$")
_USD_LIKE = {"USDT", "USDC", "BUSD", "FDUSD", "USD"}


def asset_key(symbol: str) -> str:
    """A guess at what a symbol trades, as "BASE/QUOTE": ``BTCUSDT``, ``BTC-USDT``,
    ``BTCUSD_PERP`` and ``XBTUSD`` all give "BTC/USD".

    Dollar stablecoins count as USD: comparing a USDT book with a USD one assumes
    USDT = 1 USD (within a few bps on most days). Declare ``Listing.asset``
    yourself when that is not the comparison you want."""
    if symbol[:1] == "t" and symbol[1:2].isupper():
        symbol = symbol[1:]  # Bitfinex names trading pairs tBTCUSD
    s = symbol.upper().split(":")[0]
    s = re.sub(r"^(PI|PF|FI|FF)_", "", s)  # Kraken Futures contract prefixes
    while (m := _SUFFIX.search(s)) is not None and m.start() > 0:
        s = s[: m.start()]
    s = s.replace("-", "").replace("_", "").replace("/", "")
    m = _PAIR.match(s)
    if m is None:
        return s
    base, quote = m["base"], m["quote"]
    base = "BTC" if base == "XBT" else base
    return f"{base}/{'USD' if quote in _USD_LIKE else quote}"


def _kind(symbol: str) -> str:
    s = symbol.upper()
    if "PERP" in s or "SWAP" in s:
        return "perpetual"
    if re.search(r"([-_]\d{6}(\d{2})?|-\d{1,2}[A-Z]{3}\d{2})$", s) or re.match(
            r"^XBT[FGHJKMNQUVXZ]\d\d$", s):
        return "future"
    return "spot"


#: Venues whose books crossbook parses are all derivatives (perpetual unless dated).
_DERIVATIVE_VENUES = {"bitmex", "deribit", "kraken_futures", "dydx_v3", "dydx_v4", "hyperliquid",
                      "huobi_swap", "bybit_legacy"}
#: Venues whose books are all spot.
_SPOT_VENUES = {"binance", "coinbase", "coinbase_advanced", "kraken", "kraken_v2", "bitstamp",
                "gemini", "gateio", "gateio_obu", "kucoin", "huobi", "bitfinex", "bitget"}
#: Inverse contracts whose book sizes count quote units (USD) of 1 each: BitMEX XBTUSD and
#: XBT futures, Kraken Futures PI_/FI_ contracts, Bybit inverse BTCUSD/ETHUSD, and Deribit's BTC
#: and ETH futures (whose book "amount" is in USD).
_INVERSE_USD_1 = {
    "bitmex": re.compile(r"^XBT(USD|[FGHJKMNQUVXZ]\d\d)$"),
    "kraken_futures": re.compile(r"^(PI|FI)_"),
    "bybit_legacy": re.compile(r"^(BTC|ETH)USD$"),
    "bybit": re.compile(r"^(BTC|ETH)USD$"),
    "deribit": re.compile(r"^(BTC|ETH)-(PERPETUAL|\d{1,2}[A-Z]{3}\d{2})$"),
}


def default_listing(inst: Instrument, asset: str | None = None) -> Listing:
    """The listing of a venue instrument, from what crossbook knows of its venue.

    Binance COIN-M contracts are inverse, 100 USD for BTC and 10 USD for every
    other coin; Binance USD-M contracts are linear, one base unit per size unit;
    the inverse contracts in ``_INVERSE_USD_1`` count USD. Other instruments: their
    own contract_size and inverse flags (the OKX parser fills them from the
    venue's instrument list). Check the result for any venue you rely on: a
    wrong contract size silently scales every depth."""
    venue, symbol = inst.venue, inst.symbol
    key = asset or asset_key(symbol)
    kind = _kind(symbol)
    if venue in _DERIVATIVE_VENUES and kind == "spot":
        kind = "perpetual"
    elif venue in _SPOT_VENUES:
        kind = "spot"
    if venue == "binance_coinm":
        size = 100 if symbol.upper().startswith("BTCUSD") else 10
        return Listing(venue, symbol, key, Fraction(size), True, kind)
    if venue == "binance_usdm":
        return Listing(venue, symbol, key, Fraction(1), False,
                       "future" if kind == "future" else "perpetual")
    pattern = _INVERSE_USD_1.get(venue)
    if pattern is not None and pattern.search(symbol):
        if "/" not in key:  # BTC-PERPETUAL, XBTZ24: the quote is USD
            key = f"{'BTC' if key.startswith('XBT') else key.split('-')[0][:3]}/USD"
        return Listing(venue, symbol, key, Fraction(1), True, kind)
    return Listing(venue, symbol, key, Fraction(inst.contract_size), inst.inverse, kind)
