"""Event study: how a follower's book reacts to an order-flow shock on the leader.

Shocks on the leading venue (each with a direction, +1 buying, -1 selling):

* ``touch``: the best level of one side is taken out, seen either in the trades
  (a taker order, i.e. trades of one side at one exchange time, that trades
  through the touch prevailing before it: at a worse price than the touch, or for
  at least its displayed size) or in the top of book (the best ask rises or the
  best bid falls, whatever removed it);
* ``ofi``: a top-of-book update whose order-flow imbalance (Cont, Kukanov and
  Stoikov 2014) is in the top ``1 - q`` of |OFI|, in the sign of the OFI.

Shocks come in bursts; only the first shock of a burst counts (a shock with no
other shock of its kind in the ``min_gap_ns`` before it), so that the value
"just before" is not already a reaction to the previous one.

For each shock at t0 and each horizon h the response is ``v(t0 + h) - v(t0-)``:
the follower's value prevailing h after the shock minus its value just before
(the last sample received strictly before t0), both on the one local clock.
Mid and imbalance responses are signed by the shock's direction (a follower
that follows has a positive mid response); spread and depth are not. Bands are
mean +- 1.96 standard errors, or a percentile bootstrap over shocks with a fixed
seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from crossbook.analytics.series import BUY, SELL, TopSeries, TradeSeries, VenueSeries

__all__ = [
    "DEFAULT_HORIZONS_MS",
    "EventStudy",
    "Response",
    "Shocks",
    "decluster",
    "event_study",
    "ofi_shocks",
    "response",
    "touch_shocks",
]

I8 = npt.NDArray[np.int64]
F8 = npt.NDArray[np.float64]

DEFAULT_HORIZONS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


@dataclass(frozen=True, slots=True)
class Shocks:
    """Shock times (receive clock, ns) and directions (+1 buy, -1 sell)."""

    kind: str
    ts_ns: I8
    direction: npt.NDArray[np.int8]

    def __len__(self) -> int:
        return len(self.ts_ns)


def decluster(ts_ns: I8, direction: npt.NDArray[np.int8], min_gap_ns: int) -> tuple[I8, Any]:
    """The first event of each burst: events with no other event in the ``min_gap_ns``
    before them (input sorted by time)."""
    if len(ts_ns) == 0:
        return ts_ns, direction
    keep = np.ones(len(ts_ns), dtype=bool)
    keep[1:] = np.diff(ts_ns) >= min_gap_ns
    return ts_ns[keep], direction[keep]


def _sweeps(trades: TradeSeries) -> tuple[I8, I8, I8, I8, I8]:
    """Trades grouped into taker orders: consecutive trades of one side at one exchange
    time (receive time when the venue sends none). Returns first receive time, side,
    total size, best and worst price of each."""
    t = trades
    key = np.where(t.ts_exchange_ns > 0, t.ts_exchange_ns, t.ts_recv_ns)
    start = np.ones(len(t), dtype=bool)
    start[1:] = (key[1:] != key[:-1]) | (t.side[1:] != t.side[:-1])
    idx = np.flatnonzero(start)
    size = np.add.reduceat(t.size, idx) if len(idx) else t.size[:0]
    hi = np.maximum.reduceat(t.price, idx) if len(idx) else t.price[:0]
    lo = np.minimum.reduceat(t.price, idx) if len(idx) else t.price[:0]
    side = t.side[idx].astype(np.int64)
    worst = np.where(side == BUY, hi, lo)
    return t.ts_recv_ns[idx], side, size, worst, np.where(side == BUY, lo, hi)


def trade_through_shocks(trades: TradeSeries, top: TopSeries) -> Shocks:
    """Taker orders that trade through the touch prevailing before them (see module text)."""
    ts, side, size, worst, _ = _sweeps(trades)
    prev = np.searchsorted(top.ts_recv_ns, ts, side="left") - 1
    ok = (prev >= 0) & (side != 0)
    ts, side, size, worst, prev = ts[ok], side[ok], size[ok], worst[ok], prev[ok]
    ask, ask_sz = top.ask_price[prev], top.ask_size[prev]
    bid, bid_sz = top.bid_price[prev], top.bid_size[prev]
    buy = (side == BUY) & ((worst > ask) | ((worst >= ask) & (size >= ask_sz)))
    sell = (side == SELL) & ((worst < bid) | ((worst <= bid) & (size >= bid_sz)))
    hit = buy | sell
    return Shocks("trade_through", ts[hit], np.where(buy[hit], 1, -1).astype(np.int8))


def touch_shocks(leader: VenueSeries, top: TopSeries, *, min_gap_ns: int = 50_000_000) -> Shocks:
    """Trade-throughs and top-of-book removals of the touch on the leader, declustered."""
    tt = trade_through_shocks(leader.trades, top)
    removed = top.touch_removed()
    at = np.flatnonzero(removed)
    ts = np.concatenate([tt.ts_ns, top.ts_recv_ns[at]])
    d = np.concatenate([tt.direction, removed[at]])
    order = np.argsort(ts, kind="stable")
    ts, d = decluster(ts[order], d[order], min_gap_ns)
    return Shocks("touch", ts, d)


def ofi_shocks(top: TopSeries, *, quantile: float = 0.99, min_gap_ns: int = 50_000_000) -> Shocks:
    """Top-of-book updates with |OFI| above its ``quantile`` (over updates with OFI != 0)."""
    e = top.ofi
    nz = e != 0
    if not nz.any():
        return Shocks("ofi", top.ts_recv_ns[:0], np.zeros(0, dtype=np.int8))
    cut = np.quantile(np.abs(e[nz]), quantile)
    big = np.flatnonzero(np.abs(e) > cut) if cut > 0 else np.flatnonzero(nz)
    ts, d = decluster(top.ts_recv_ns[big], np.sign(e[big]).astype(np.int8), min_gap_ns)
    return Shocks("ofi", ts, d)


def response(ts_ns: I8, value: F8, shock_ts: I8, horizons_ns: I8, *,
             segment: I8 | None = None) -> F8:
    """``value(t0 + h) - value(t0-)`` for every shock (rows) and horizon (columns).

    ``value(t0-)`` is the last sample received strictly before t0; ``value(t0 + h)``
    the last sample at or before t0 + h. NaN where either is missing, where t0 + h
    is past the last sample, or where the two lie in different segments."""
    ts_ns = np.asarray(ts_ns, dtype=np.int64)
    h = np.asarray(horizons_ns, dtype=np.int64)
    before = np.searchsorted(ts_ns, shock_ts, side="left") - 1
    after = np.searchsorted(ts_ns, shock_ts[:, None] + h[None, :], side="right") - 1
    ok = (before[:, None] >= 0) & (shock_ts[:, None] + h[None, :] <= (ts_ns[-1] if len(ts_ns) else -1))
    b = np.clip(before, 0, None)
    out = value[after] - value[b][:, None] if len(ts_ns) else np.full(after.shape, np.nan)
    if segment is not None and len(ts_ns):
        ok &= segment[after] == segment[b][:, None]
    return np.where(ok, out, np.nan)


@dataclass(frozen=True, slots=True)
class Response:
    """Mean response of one measure at each horizon, with its band."""

    measure: str
    unit: str
    mean: F8
    lo: F8
    hi: F8
    se: F8
    n: I8  # shocks with a value at that horizon
    #: Mean value just before the shocks (signed like the response), to read it against.
    before: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "unit": self.unit,
                "before": None if not np.isfinite(self.before) else float(self.before),
                "mean": _list(self.mean),
                "lo": _list(self.lo), "hi": _list(self.hi), "se": _list(self.se),
                "n": self.n.tolist()}


def _list(a: F8) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in a]


def summarise(measure: str, unit: str, r: F8, *, bands: str = "normal", boot: int = 1000,
              seed: int = 0, before: float = float("nan")) -> Response:
    """Mean over shocks (rows) of ``r`` per horizon, with normal or bootstrap bands."""
    valid = np.isfinite(r)
    n = valid.sum(axis=0)
    x = np.where(valid, r, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = x.sum(axis=0) / n
        var = (np.where(valid, (r - mean) ** 2, 0.0)).sum(axis=0) / (n - 1)
        se = np.sqrt(var / n)
    if bands == "normal":
        lo, hi = mean - 1.96 * se, mean + 1.96 * se
    elif bands == "bootstrap":
        lo, hi = _bootstrap(x, valid, boot, seed)
    else:
        raise ValueError(f"bands must be normal or bootstrap, got {bands!r}")
    return Response(measure, unit, mean, lo, hi, se, n.astype(np.int64), before)


def _bootstrap(x: F8, valid: npt.NDArray[np.bool_], boot: int, seed: int) -> tuple[F8, F8]:
    """2.5% and 97.5% percentiles of the mean over ``boot`` resamples of the shocks."""
    rows = len(x)
    if rows == 0:
        nan = np.full(x.shape[1], np.nan)
        return nan, nan
    rng = np.random.default_rng(seed)
    w = rng.multinomial(rows, np.full(rows, 1.0 / rows), size=boot).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (w @ x) / (w @ valid.astype(np.float64))
    return np.nanpercentile(means, 2.5, axis=0), np.nanpercentile(means, 97.5, axis=0)


def _level_before(ts: I8, v: F8, t0: I8, sign: F8 | None) -> float:
    """Mean of the values just before the shocks (times ``sign`` when given); nan if none."""
    if len(ts) == 0 or len(t0) == 0:
        return float("nan")
    i = np.searchsorted(ts, t0, side="left") - 1
    ok = i >= 0
    x = v[i[ok]] * (sign[ok] if sign is not None else 1.0)
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else float("nan")


@dataclass(frozen=True, slots=True)
class EventStudy:
    """Responses of the follower (and of the leader's own mid) to the leader's shocks."""

    leader: str
    follower: str
    kind: str
    horizons_ns: I8
    shocks: Shocks
    responses: dict[str, Response] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"leader": self.leader, "follower": self.follower, "kind": self.kind,
                "shocks": len(self.shocks), "buys": int((self.shocks.direction > 0).sum()),
                "horizons_ms": (self.horizons_ns / 1e6).tolist(),
                "responses": {k: r.as_dict() for k, r in self.responses.items()}}


def event_study(
    leader: VenueSeries,
    follower: VenueSeries,
    shocks: Shocks,
    *,
    source: str = "quote",
    horizons_ns: I8 | None = None,
    depth_levels: int | None = None,
    bands: str = "normal",
    seed: int = 0,
) -> EventStudy:
    """Average response of the follower's mid, spread, depth and imbalance, and of the
    leader's own mid, to ``shocks`` (see the module text for the definitions).

    mid (bps, signed), spread (bps), imbalance (best level, signed) come from the
    follower's top of book (``source``: ``"quote"`` or ``"book"``, as in
    :meth:`VenueSeries.top`); depth (total
    size of the best ``depth_levels`` levels of both sides, % change) from its book."""
    h = (np.asarray(DEFAULT_HORIZONS_MS, dtype=np.int64) * 1_000_000 if horizons_ns is None
         else np.asarray(horizons_ns, dtype=np.int64))
    ftop, ltop, book = follower.top(source), leader.top(source), follower.book
    t0, sign = shocks.ts_ns, shocks.direction.astype(np.float64)[:, None]
    out: dict[str, Response] = {}

    def add(name: str, unit: str, ts: I8, v: F8, seg: I8, signed: bool,
            level: F8 | None = None) -> None:
        # level: the values whose mean just before the shocks is reported (None: v's
        # level means nothing, as for a log price).
        r = response(ts, v, t0, h, segment=seg) if len(ts) else np.full((len(t0), len(h)), np.nan)
        before = (float("nan") if level is None
                  else _level_before(ts, level, t0, sign[:, 0] if signed else None))
        out[name] = summarise(name, unit, r * sign if signed else r, bands=bands, seed=seed,
                              before=before)

    add("mid", "bps", ftop.ts_recv_ns, 1e4 * ftop.log_mid, ftop.segment, True)
    add("spread", "bps", ftop.ts_recv_ns, ftop.spread_bps, ftop.segment, False, ftop.spread_bps)
    add("imbalance", "", ftop.ts_recv_ns, ftop.imbalance, ftop.segment, True, ftop.imbalance)
    bd, ad = book.depth(depth_levels) if len(book) else (book.bid_price, book.ask_price)
    depth = (bd + ad).astype(np.float64)
    with np.errstate(divide="ignore"):
        log_depth = np.where(depth > 0, np.log(depth), np.nan)
    add("depth", "log %", book.ts_recv_ns, 100 * log_depth, book.segment, False,
        depth * 10.0 ** -book.size_exp)
    add("leader_mid", "bps", ltop.ts_recv_ns, 1e4 * ltop.log_mid, ltop.segment, True)
    return EventStudy(leader.name, follower.name, shocks.kind, h, shocks, out)
