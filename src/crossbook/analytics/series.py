"""Per-book time series collected during a replay.

A :class:`SeriesCollector` is a ``Replay`` ``on_message`` callback. For every book
(venue, symbol) it keeps, in numpy arrays grown by doubling (no per-row Python
objects):

* a :class:`BookSeries`: one sample after each book message of a *synced* book:
  receive and exchange time, best bid/ask and their sizes, and the best ``n``
  levels of each side (prices, sizes, order counts) from which depth at any
  k <= n levels and depth imbalance are read;
* a :class:`TopSeries` of the venue's own real-time top of book (``Quote``
  records, e.g. Binance bookTicker), where the venue sends one;
* a :class:`TradeSeries` of trades (price, size, aggressor side).

Prices and sizes stay integer mantissas. The mid is kept exact as ``mid2 = bid
+ ask`` (twice the mid, an integer); floats appear only in derived measures
(log mid, microprice, imbalance). A timestamp the venue does not send is 0.
``segment`` numbers the stretches in which consecutive samples follow each
other in one synced book; differences (OFI, touch removals) are never taken
across a segment boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook.messages import BookMessage, Message, Quote, Trade

__all__ = [
    "BookSeries",
    "SeriesCollector",
    "TopSeries",
    "TradeSeries",
    "VenueSeries",
    "VolumeProfile",
    "ofi",
    "resolve_source",
    "volume_profile",
]

I8 = npt.NDArray[np.int64]
F8 = npt.NDArray[np.float64]

#: Aggressor codes in TradeSeries.side: the values of crossbook.Side, 0 when unknown.
BUY, SELL, UNKNOWN = 1, 2, 0

_TOP_DTYPE = np.dtype([
    ("ts_recv_ns", "<i8"), ("ts_exchange_ns", "<i8"),
    ("bid_price", "<i8"), ("bid_size", "<i8"), ("ask_price", "<i8"), ("ask_size", "<i8"),
    ("segment", "<i8"),
])
_TRADE_DTYPE = np.dtype([
    ("ts_recv_ns", "<i8"), ("ts_exchange_ns", "<i8"), ("price", "<i8"), ("size", "<i8"),
    ("side", "u1"),
])


def ofi(bid_price: I8, bid_size: I8, ask_price: I8, ask_size: I8,
        segment: I8 | None = None) -> I8:
    """Cont-Kukanov-Stoikov order-flow imbalance of consecutive best levels.

    ``e[n] = 1{Pb[n] >= Pb[n-1]} qb[n] - 1{Pb[n] <= Pb[n-1]} qb[n-1]
           - 1{Pa[n] <= Pa[n-1]} qa[n] + 1{Pa[n] >= Pa[n-1]} qa[n-1]``,
    in size mantissas; ``e[0]`` and the first sample of every segment are 0.
    Positive is buying pressure (bids added or asks taken).
    """
    out = np.zeros(len(bid_price), dtype=np.int64)
    if len(out) < 2:
        return out
    pb, pb0, qb, qb0 = bid_price[1:], bid_price[:-1], bid_size[1:], bid_size[:-1]
    pa, pa0, qa, qa0 = ask_price[1:], ask_price[:-1], ask_size[1:], ask_size[:-1]
    e = (np.where(pb >= pb0, qb, 0) - np.where(pb <= pb0, qb0, 0)
         - np.where(pa <= pa0, qa, 0) + np.where(pa >= pa0, qa0, 0))
    if segment is not None:
        e = np.where(segment[1:] == segment[:-1], e, 0)
    out[1:] = e
    return out


@dataclass(frozen=True, slots=True)
class TopSeries:
    """Best bid and ask over time for one book; every array has one row per sample."""

    venue: str
    symbol: str
    price_exp: int
    size_exp: int
    ts_recv_ns: I8
    ts_exchange_ns: I8  # 0 where the venue sends none
    bid_price: I8
    bid_size: I8
    ask_price: I8
    ask_size: I8
    segment: I8

    def __len__(self) -> int:
        return len(self.ts_recv_ns)

    @property
    def name(self) -> str:
        return f"{self.venue} {self.symbol}"

    @property
    def mid2(self) -> I8:
        """Twice the mid, exact: bid + ask in price mantissas."""
        return self.bid_price + self.ask_price

    @property
    def mid(self) -> F8:
        """The mid in real price units (float, for analysis and plots only)."""
        return (self.mid2 * (0.5 * 10.0 ** -self.price_exp)).astype(np.float64)

    @property
    def log_mid(self) -> F8:
        """Natural log of the mid in real price units (comparable across venues)."""
        out: F8 = np.log(self.mid2.astype(np.float64) * 0.5) - self.price_exp * np.log(10.0)
        return out

    @property
    def spread(self) -> I8:
        return self.ask_price - self.bid_price

    @property
    def spread_bps(self) -> F8:
        return (2e4 * self.spread / self.mid2).astype(np.float64)

    @property
    def microprice(self) -> F8:
        """Size-weighted mid (bid * ask size + ask * bid size) / sizes, real price units."""
        w = (self.bid_size + self.ask_size).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):  # both sizes 0: nan
            m = (self.bid_price * (self.ask_size / w) + self.ask_price * (self.bid_size / w))
        return (m * 10.0 ** -self.price_exp).astype(np.float64)

    @property
    def imbalance(self) -> F8:
        """(bid size - ask size) / (bid size + ask size) at the best level."""
        b, a = self.bid_size.astype(np.float64), self.ask_size.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):  # both sizes 0: nan
            return (b - a) / (b + a)

    @property
    def ofi(self) -> I8:
        """Order-flow imbalance of each sample against the previous one (see :func:`ofi`)."""
        return ofi(self.bid_price, self.bid_size, self.ask_price, self.ask_size, self.segment)

    def touch_removed(self) -> npt.NDArray[np.int8]:
        """+1 where the best ask level went away (ask rose: buying took or left it), -1 where
        the best bid went away (bid fell), 0 otherwise or when both did (or at a segment start)."""
        out = np.zeros(len(self), dtype=np.int8)
        if len(self) < 2:
            return out
        up = self.ask_price[1:] > self.ask_price[:-1]
        down = self.bid_price[1:] < self.bid_price[:-1]
        same = self.segment[1:] == self.segment[:-1]
        out[1:] = np.where(same & up & ~down, 1, np.where(same & down & ~up, -1, 0))
        return out

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> Any:
        """The samples received in ``[start_ns, end_ns)`` (a series of the same type)."""
        return _between(self, start_ns, end_ns)

    def as_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The columns (and main derived measures) by name, ready for ``pandas.DataFrame``."""
        out: dict[str, npt.NDArray[Any]] = {
            k: getattr(self, k) for k in ("ts_recv_ns", "ts_exchange_ns", "bid_price", "bid_size",
                                          "ask_price", "ask_size", "segment")}
        out.update(mid2=self.mid2, spread=self.spread, microprice=self.microprice,
                   imbalance=self.imbalance, ofi=self.ofi)
        return out


@dataclass(frozen=True, slots=True)
class BookSeries(TopSeries):
    """A :class:`TopSeries` sampled after each book message, with the best n levels.

    ``bid_levels`` and ``ask_levels`` are ``(samples, n)`` arrays of the DEPTH dtype
    (price, size, count), best first; missing levels are zero rows.
    """

    bid_levels: npt.NDArray[np.void]
    ask_levels: npt.NDArray[np.void]

    @property
    def depth_levels(self) -> int:
        return int(self.bid_levels.shape[1])

    def depth(self, k: int | None = None) -> tuple[I8, I8]:
        """Total bid and ask size over the best ``k`` levels (all collected levels by default)."""
        k = self.depth_levels if k is None else k
        if not 1 <= k <= self.depth_levels:
            raise ValueError(f"k must be in 1..{self.depth_levels}, got {k}")
        return (self.bid_levels["size"][:, :k].sum(axis=1),
                self.ask_levels["size"][:, :k].sum(axis=1))

    def depth_imbalance(self, k: int | None = None) -> F8:
        """(bid depth - ask depth) / (bid depth + ask depth) over the best ``k`` levels."""
        b, a = self.depth(k)
        total = (b + a).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, (b - a) / total, np.nan)

    def as_arrays(self) -> dict[str, npt.NDArray[Any]]:
        out = TopSeries.as_arrays(self)
        out["bid_depth"], out["ask_depth"] = self.depth()
        out["depth_imbalance"] = self.depth_imbalance()
        return out


@dataclass(frozen=True, slots=True)
class TradeSeries:
    venue: str
    symbol: str
    price_exp: int
    size_exp: int
    ts_recv_ns: I8
    ts_exchange_ns: I8
    price: I8
    size: I8
    side: npt.NDArray[np.uint8]  # BUY (1) or SELL (2): the aggressor; 0 unknown

    def __len__(self) -> int:
        return len(self.ts_recv_ns)

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> TradeSeries:
        """The trades received in ``[start_ns, end_ns)``."""
        out: TradeSeries = _between(self, start_ns, end_ns)
        return out


def _between(series: Any, start_ns: int | None, end_ns: int | None) -> Any:
    ts = series.ts_recv_ns
    i0 = 0 if start_ns is None else int(np.searchsorted(ts, start_ns, side="left"))
    i1 = len(ts) if end_ns is None else int(np.searchsorted(ts, end_ns, side="left"))
    cut = {f.name: getattr(series, f.name)[i0:i1] for f in fields(series)
           if isinstance(getattr(series, f.name), np.ndarray)}
    return replace(series, **cut)


@dataclass(frozen=True, slots=True)
class VolumeProfile:
    """Traded size per price bucket ``[price_lo[i], price_lo[i] + bucket)``, by aggressor."""

    price_exp: int
    size_exp: int
    bucket: int  # bucket width in price mantissas
    price_lo: I8
    buy: I8
    sell: I8
    unknown: I8

    @property
    def total(self) -> I8:
        return self.buy + self.sell + self.unknown


def _nice_bucket(span: int, buckets: int) -> int:
    """The smallest 1, 2 or 5 x 10^k at least span / buckets (mantissa units)."""
    target = max(1, -(-span // max(1, buckets)))
    k = 1
    while True:
        for m in (1, 2, 5):
            if m * k >= target:
                return m * k
        k *= 10


def volume_profile(trades: TradeSeries, bucket: int | None = None, *,
                   buckets: int = 40) -> VolumeProfile:
    """Trade volume by price bucket and aggressor side, exact integer sums.

    ``bucket`` is the width in price mantissas; by default a round width giving
    about ``buckets`` buckets over the traded range."""
    px = trades.price
    if len(px) == 0:
        z = np.zeros(0, dtype=np.int64)
        return VolumeProfile(trades.price_exp, trades.size_exp, bucket or 1, z, z, z, z)
    lo, hi = int(px.min()), int(px.max())
    width = bucket if bucket is not None else _nice_bucket(hi - lo + 1, buckets)
    if width <= 0:
        raise ValueError(f"bucket must be > 0, got {width}")
    first = lo // width
    idx = px // width - first
    n = int(idx.max()) + 1
    exact = []
    for s in (BUY, SELL, UNKNOWN):
        acc = np.zeros(n, dtype=np.int64)
        pick = trades.side == s
        np.add.at(acc, idx[pick], trades.size[pick])  # integer sums: exact, unlike bincount
        exact.append(acc)
    price_lo = (np.arange(n, dtype=np.int64) + first) * width
    return VolumeProfile(trades.price_exp, trades.size_exp, width, price_lo, *exact)


class _Rows:
    """A structured numpy array grown by doubling; rows are written in place."""

    __slots__ = ("data", "n")

    def __init__(self, dtype: np.dtype[Any], tail: tuple[int, ...] = (), capacity: int = 1024):
        self.data: npt.NDArray[Any] = np.zeros((capacity, *tail), dtype=dtype)
        self.n = 0

    def next_index(self) -> int:
        if self.n == len(self.data):
            bigger = np.zeros((2 * len(self.data), *self.data.shape[1:]), dtype=self.data.dtype)
            bigger[: self.n] = self.data
            self.data = bigger
        self.n += 1
        return self.n - 1

    def view(self) -> npt.NDArray[Any]:
        return self.data[: self.n]


@dataclass(frozen=True, slots=True)
class VenueSeries:
    """Everything collected for one book: its book samples, venue quotes and trades."""

    venue: str
    symbol: str
    price_exp: int
    size_exp: int
    contract_size: int
    inverse: bool
    book: BookSeries
    quotes: TopSeries
    trades: TradeSeries

    @property
    def name(self) -> str:
        return f"{self.venue} {self.symbol}"

    def top(self, source: str = "quote") -> TopSeries:
        """The top-of-book series to analyse: ``"book"`` (our synced book, sampled after
        each book message) or ``"quote"`` (the venue's own real-time top-of-book stream)."""
        if source == "book":
            return self.book
        if source == "quote":
            return self.quotes
        raise ValueError(f"source must be book or quote, got {source!r}")

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> VenueSeries:
        """Every series cut to the samples received in ``[start_ns, end_ns)``."""
        return replace(self, book=self.book.between(start_ns, end_ns),
                       quotes=self.quotes.between(start_ns, end_ns),
                       trades=self.trades.between(start_ns, end_ns))


class _BookState:
    """Collector state of one (venue, symbol)."""

    __slots__ = (
        "asks",
        "bids",
        "book",
        "in_step",
        "instrument",
        "quote_segment",
        "quote_sync_id",
        "quotes",
        "segment",
        "sync_id",
        "trades",
    )

    def __init__(self, instrument: Any, depth_levels: int) -> None:
        self.instrument = instrument
        self.book = _Rows(_TOP_DTYPE)
        self.bids = _Rows(dtypes.DEPTH, (depth_levels,))
        self.asks = _Rows(dtypes.DEPTH, (depth_levels,))
        self.quotes = _Rows(_TOP_DTYPE)
        self.trades = _Rows(_TRADE_DTYPE)
        self.segment = -1
        self.in_step = False  # the previous book message left the book synced
        self.sync_id = 0
        self.quote_sync_id = 0
        self.quote_segment = -1


class SeriesCollector:
    """Collects per-book series during a replay: pass ``collector.on_message`` as
    ``Replay(parser, on_message=...)``; read :meth:`result` at the end.

    One collector may serve several Replays (one per capture); books are keyed by
    (venue, symbol)."""

    def __init__(self, depth_levels: int = 10) -> None:
        if depth_levels < 1:
            raise ValueError(f"depth_levels must be >= 1, got {depth_levels}")
        self.depth_levels = depth_levels
        self._books: dict[tuple[str, str], _BookState] = {}
        self.unsynced_messages = 0

    def _state(self, msg: Message, sync: Any) -> _BookState | None:
        key = (msg.venue, msg.symbol or "")
        st = self._books.get(key)
        if st is None:
            if sync is None:
                return None
            st = self._books[key] = _BookState(sync.instrument, self.depth_levels)
        return st

    def on_message(self, msg: Message, sync: Any) -> None:
        """The ``Replay`` callback: ``sync`` is the message's BookSync (or None)."""
        if isinstance(msg, BookMessage):
            self._on_book(msg, sync)
        elif isinstance(msg, Quote):
            self._on_quote(msg, sync)
        elif isinstance(msg, Trade):
            self._on_trade(msg, sync)

    def _on_book(self, msg: BookMessage, sync: Any) -> None:
        st = self._state(msg, sync)
        if st is None:
            return
        if not sync.synced:
            st.in_step = False
            self.unsynced_messages += 1
            return
        book = sync.book
        bid, ask = book.bbo()
        if bid is None or ask is None:
            st.in_step = False
            return
        if not st.in_step or st.sync_id != id(sync):
            st.segment += 1
            st.sync_id = id(sync)
        st.in_step = True
        i = st.book.next_index()
        st.book.data[i] = (msg.ts_recv_ns, msg.ts_exchange_ns or 0, bid[0], bid[1], ask[0], ask[1],
                           st.segment)
        st.bids.next_index()
        st.asks.next_index()
        book.depth_into(st.bids.data[i], st.asks.data[i])

    def _on_quote(self, q: Quote, sync: Any) -> None:
        st = self._state(q, sync)
        if st is None:
            return
        if st.quote_sync_id != id(sync):
            st.quote_segment += 1
            st.quote_sync_id = id(sync)
        i = st.quotes.next_index()
        st.quotes.data[i] = (q.ts_recv_ns, q.ts_exchange_ns or 0, q.bid_price, q.bid_size,
                             q.ask_price, q.ask_size, st.quote_segment)

    def _on_trade(self, t: Trade, sync: Any) -> None:
        st = self._state(t, sync)
        if st is None:
            return
        i = st.trades.next_index()
        side = UNKNOWN if t.aggressor is None else int(t.aggressor)
        st.trades.data[i] = (t.ts_recv_ns, t.ts_exchange_ns or 0, t.price, t.size, side)

    def result(self) -> dict[str, VenueSeries]:
        """The series of every book seen, keyed by ``"venue symbol"`` (arrays are copies)."""
        out: dict[str, VenueSeries] = {}
        for (venue, symbol), st in self._books.items():
            inst = st.instrument
            head = (venue, symbol, inst.price_exp, inst.size_exp)
            b, q, t = st.book.view().copy(), st.quotes.view().copy(), st.trades.view().copy()
            book = BookSeries(*head, **_top_columns(b), bid_levels=st.bids.view().copy(),
                              ask_levels=st.asks.view().copy())
            quotes = TopSeries(*head, **_top_columns(q))
            trades = TradeSeries(*head, t["ts_recv_ns"], t["ts_exchange_ns"], t["price"], t["size"],
                                 t["side"])
            out[f"{venue} {symbol}"] = VenueSeries(
                venue, symbol, inst.price_exp, inst.size_exp, inst.contract_size, inst.inverse,
                book, quotes, trades)
        return out


def resolve_source(series: dict[str, VenueSeries] | list[VenueSeries], source: str = "auto") -> str:
    """``"book"`` or ``"quote"``; ``"auto"`` is ``"quote"`` when every book has its venue's
    quote stream (finer and real time: Binance spot diff depth comes every 100 ms), else
    ``"book"``. One source for all books: a venue's book and quote stream arrive with
    different delays, so mixing them would bias the lead-lag."""
    if source in ("book", "quote"):
        return source
    if source != "auto":
        raise ValueError(f"source must be auto, book or quote, got {source!r}")
    books = list(series.values()) if isinstance(series, dict) else list(series)
    return "quote" if books and all(len(v.quotes) >= 2 for v in books) else "book"


def _top_columns(rows: npt.NDArray[Any]) -> dict[str, Any]:
    return {k: np.ascontiguousarray(rows[k]) for k in _TOP_DTYPE.names or ()}
