#!/usr/bin/env python
"""crossbook's queue models side by side with hftbacktest's, on the same quoting strategy.

    python benchmarks/compare_queue_hftbacktest.py [--seconds S] [--step-ms MS] [--repeats R]

Data: the bundled Binance USD-M BTCUSDT slice (90 s, 2024-08-08, the day of hftbacktest's
own example data) replayed through parsing and sync (crossbook.sim.feeds): level rows
(prices in 0.01 USDT, tick 0.1; sizes in 0.001 BTC, the lot) and trades. hftbacktest gets
the same rows as its events, exchange and local time both the receive time (so both
engines' venue book is the received book), trades before level rows at one time, float
prices and sizes (mantissa * 10**-exp).

Strategy, the same decisions in both: every ``step`` (timers at first row + k * step)
once the book is synced, on each side whose touch price is not the price of the last
order sent on that side: cancel that order if it is open and acknowledged, and send a
post-only (hftbacktest: GTX) one-lot limit order at the touch. A filled order is replaced
when the touch next moves, so the orders sent depend on the book alone: order k is the
same order (decision time, side, price) in both engines, and fills compare order by
order. Constant latencies: 2 ms entry, 3 ms response. Fees: 2 bps maker, 5 bps taker.

Queue models: crossbook ``conservative`` against hftbacktest's RiskAdverseQueueModel,
``power:N`` against PowerProbQueueModel(N). Both families start an order's queue at the
level's size when the order reaches the venue, take trades at its price from the size
ahead first, and split a decrease the trades do not explain by the same share
``f(ahead) / (f(ahead) + f(behind))``, any excess over the size behind from ahead.

Differences in rules, each counted in the table (column "why"):

* **depth cross** (hftbacktest only): its exchange fills a resting order in full when the
  recorded opposite best moves to or through the order's price (a depth row); crossbook
  fills resting orders only by recorded trades (at the price, through the queue; through
  the price, in full). Such an hftbacktest fill happens at a time with no trade at or
  through the order's price; crossbook fills that order later by a trade, or not before
  its cancel. On the slice (conservative): 17 such orders, 10 of them filled by crossbook
  a median 15.5 ms later (Binance sends depth and trades on separate streams, and the
  depth row that moves the opposite side onto the price is often received before the
  trade that did it), 7 not at all.
* **rounding** (power models): crossbook rounds the share from ahead down to whole size
  units (0.001 BTC) at every decrease, hftbacktest keeps the float; and hftbacktest fills
  when the queue ahead is below minus half a lot (``round(-ahead / lot) >= 1``),
  crossbook when a trade exceeds the size ahead by one unit. The two estimates of the size
  ahead drift apart by less than a unit per decrease, so an order near the front can fill
  on different trades.
* **trade window** (power models): the trades that explain a decrease are, in crossbook,
  those at the level's price since the level's previous row; in hftbacktest, those the
  order itself saw since its own previous depth update (none before it arrived).
* **PnL** (at one mark, the final mid): the fills differ as above, so the PnLs do. On its
  own fills hftbacktest's float PnL is within 1e-13 USDT of the exact one (column "hbt
  float error": its PnL minus its fills' exact PnL, fees unrounded); crossbook, exact,
  rounds each fee up to 10**-5 USDT (< 10**-5 USDT a fill).

hftbacktest runs its NoPartialFillExchange: with one-lot orders no fill is partial, so its
rules are PartialFillExchange's, without its 2.4.4 bug (nkaz001/hftbacktest#312: an order
filled exactly by a trade at its price stays in the book, and the next trade there stops
the run with InvalidOrderStatus, which this strategy met 62 s into the slice).

Each order whose fill differs is attributed: "depth cross" when hftbacktest filled it at a
time with no trade reaching it; otherwise (power models) the order's queue is replayed in
plain Python (replay_fill_ns) with each rule set to one engine's or the other's, and the
rule that alone turns crossbook's fill time into hftbacktest's is named ("rounding",
"trade window", or both). With all rules one engine's, the replay gives every order that
engine's fill time (checked by tests/sim/test_compare_queue_hftbacktest.py, and here:
otherwise the order counts as "unexplained"). On the whole slice every difference is a
depth cross but two, at power:3, which are rounding.

Figures (hftbacktest 2.4.4, numba 0.68.1, this machine, ``--repeats 3``): 180 orders
in each engine; fills 95 / 102 (conservative / RiskAdverse), 97 / 104 (power:2 and
power:3), the same fill time for 85, 87 and 86 orders; PnL at the final mid -1.24686 /
-1.32261 USDT (conservative), -1.25860 / -1.33433 (power); hftbacktest's run about 1.8x
crossbook's wall time (25 ms against 14 ms for the 90 s).

Timed: the run only (building the engines, converting the data and numba's compilation
are not); crossbook runs a Python strategy (on_timer), hftbacktest a numba one.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np
import numpy.typing as npt

import crossbook
from crossbook import Side, dtypes
from crossbook.sim import ConstantLatency, Fees, Response, ResponseKind, Simulator, Strategy
from crossbook.sim.feeds import VenueFeed, load_captures
from crossbook.timeutil import NS_PER_MS, NS_PER_S

SLICE = Path(crossbook.__file__).parent / "data" / "binance_usdm_btcusdt_20240808_slice.cap.gz"
ENTRY_NS, RESPONSE_NS = 2 * NS_PER_MS, 3 * NS_PER_MS
MAKER_CBPS, TAKER_CBPS = 200, 500
MODELS = ("conservative", "power:2", "power:3")
_DONE = (ResponseKind.CANCELLED, ResponseKind.REJECTED)


@dataclass(frozen=True)
class Quoting:
    step_ns: int = 100 * NS_PER_MS
    lot: int = 1  # size units


@dataclass(frozen=True)
class Data:
    feed: VenueFeed
    first_ns: int  # the first row's receive time: the strategy's clock starts there
    synced_ns: int  # when the book is first trusted
    last_ns: int


@dataclass
class Run:
    """One engine's run: per order (in sending order) its decision time, side, price and
    fill time (0 when unfilled), the account, and the run's wall seconds."""

    orders: list[tuple[int, int, int, int]]
    position: int  # size units
    cash: Fraction  # USDT
    fees: Fraction  # USDT
    seconds: float

    def pnl(self, mark: int, price_exp: int, size_exp: int) -> Fraction:
        return self.cash + Fraction(self.position * mark, 10 ** (price_exp + size_exp)) - self.fees


def load(seconds: float | None = None) -> Data:
    """The USD-M slice, cut ``seconds`` after its first row (whole timestamps)."""
    if not SLICE.exists():
        raise FileNotFoundError(f"the bundled slice {SLICE} is missing")
    feed = load_captures([SLICE]).venues[0]
    first = int(min(feed.levels["ts_recv_ns"][0], feed.trades["ts_recv_ns"][0]))
    if seconds is not None:
        cut = first + int(seconds * NS_PER_S)
        feed.levels = feed.levels[feed.levels["ts_recv_ns"] <= cut]
        feed.trades = feed.trades[feed.trades["ts_recv_ns"] <= cut]
    synced = feed.levels["ts_recv_ns"][feed.levels["action"] == dtypes.SIM_SYNCED]
    last = int(max(feed.levels["ts_recv_ns"][-1], feed.trades["ts_recv_ns"][-1]))
    return Data(feed, first, int(synced[0]), last)


def decision_times(data: Data, q: Quoting) -> range:
    """The strategy's clock: first row + k * step, k >= 1, while a whole step of data
    follows (hftbacktest's elapse stops at the end of its data)."""
    return range(data.first_ns + q.step_ns, data.last_ns - q.step_ns + 1, q.step_ns)


# -- crossbook ----------------------------------------------------------------------------


class TouchQuoter(Strategy):
    """The strategy of the module docstring, on crossbook's simulator."""

    def __init__(self, data: Data, q: Quoting) -> None:
        self.times = iter(decision_times(data, q))
        self.synced_ns, self.lot, self.tick = data.synced_ns, q.lot, data.feed.tick
        self.last: dict[Side, tuple[int, int]] = {}  # side -> (order id, price)
        self.acked: set[int] = set()
        self.done: set[int] = set()

    def on_start(self, sim: Simulator) -> None:
        self._next(sim)

    def _next(self, sim: Simulator) -> None:
        ts = next(self.times, None)
        if ts is not None:
            sim.set_timer(ts)

    def on_order(self, sim: Simulator, response: Response) -> None:
        if response.kind == ResponseKind.ACCEPTED:
            self.acked.add(response.order_id)
        elif response.kind in _DONE:
            self.done.add(response.order_id)

    def on_fill(self, sim: Simulator, fill: Response) -> None:
        if fill.leaves == 0:
            self.done.add(fill.order_id)

    def on_timer(self, sim: Simulator, timer_id: int) -> None:
        if sim.now >= self.synced_ns:
            bid, ask = sim.bbo(0)
            for side, level in ((Side.BID, bid), (Side.ASK, ask)):
                if level is not None:
                    self._quote(sim, side, level[0])
        self._next(sim)

    def _quote(self, sim: Simulator, side: Side, price: int) -> None:
        last = self.last.get(side)
        if last is not None and last[1] == price:
            return
        if last is not None and last[0] in self.acked and last[0] not in self.done:
            sim.cancel(last[0])
        self.last[side] = (sim.submit(0, side, self.lot, price, post_only=True), price)


def crossbook_sim(data: Data, model: str) -> Simulator:
    f = data.feed
    cfg = f.config(ConstantLatency(ENTRY_NS, RESPONSE_NS), Fees(MAKER_CBPS, TAKER_CBPS))
    sim = Simulator([dataclasses.replace(cfg, queue=model)])
    sim.add_levels(0, f.levels)
    sim.add_trades(0, f.trades)
    return sim


def run_crossbook(data: Data, model: str, q: Quoting) -> Run:
    sim = crossbook_sim(data, model)
    t0 = time.perf_counter()
    res = sim.run(TouchQuoter(data, q), until_ns=data.last_ns)
    seconds = time.perf_counter() - t0
    fill_ns = {int(r["order_id"]): int(r["ts_fill_ns"]) for r in res.fills}
    orders = [(int(o["ts_decision_ns"]), int(o["side"]), int(o["price"]),
               fill_ns.get(int(o["order_id"]), 0)) for o in res.orders]
    acc = sim.account(0)
    unit = Fraction(1, 10 ** (data.feed.price_exp + data.feed.size_exp))
    return Run(orders, acc.position, acc.cash * unit, acc.fees * unit, seconds)


# -- hftbacktest -------------------------------------------------------------------------


def hbt_events(data: Data) -> npt.NDArray[np.void]:
    """The feed as hftbacktest events (module docstring); the CLEAR before the first
    snapshot is a full clear, status rows are dropped."""
    from hftbacktest import (  # type: ignore[import-untyped]
        BUY_EVENT, DEPTH_CLEAR_EVENT, DEPTH_EVENT, EXCH_EVENT, LOCAL_EVENT, SELL_EVENT,
        TRADE_EVENT, event_dtype)

    f = data.feed
    lv = f.levels[np.isin(f.levels["action"], (dtypes.ADD, dtypes.UPDATE, dtypes.DELETE,
                                               dtypes.CLEAR))]
    tr = f.trades
    side_flag = np.array([0, BUY_EVENT, SELL_EVENT], dtype=np.uint64)
    feed = EXCH_EVENT | LOCAL_EVENT
    ev = np.zeros(len(lv) + len(tr), dtype=event_dtype)
    # Trades first at one time, as crossbook's loop has them: a stable sort on (time, kind).
    ts = np.concatenate([tr["ts_recv_ns"], lv["ts_recv_ns"]])
    order = np.lexsort((np.r_[np.zeros(len(tr)), np.ones(len(lv))], ts))
    size = np.where(lv["action"] == dtypes.DELETE, 0, lv["size"])
    kind = np.where(lv["action"] == dtypes.CLEAR, DEPTH_CLEAR_EVENT,
                    DEPTH_EVENT | side_flag[lv["side"]])
    ev["ev"] = np.concatenate([feed | TRADE_EVENT | side_flag[tr["side"]], feed | kind])[order]
    ev["exch_ts"] = ev["local_ts"] = ts[order]
    ev["px"] = np.concatenate([tr["price"], lv["price"]])[order] * 10.0 ** -f.price_exp
    ev["qty"] = np.concatenate([tr["size"], size])[order] * 10.0 ** -f.size_exp
    return ev


def hbt_strategy() -> Any:
    from hftbacktest.order import FILLED, GTX, LIMIT  # type: ignore[import-untyped]
    from numba import njit

    @njit
    def record_fills(hbt: Any, out: npt.NDArray[np.int64]) -> None:
        values = hbt.orders(0).values()
        while values.has_next():
            o = values.get()
            if o.status == FILLED:
                out[o.order_id - 1, 3] = o.exch_timestamp
        hbt.clear_inactive_orders(0)

    @njit
    def quote(hbt: Any, steps: int, step_ns: int, synced_ns: int, tick: float, lot: float,
              out: npt.NDArray[np.int64]) -> int:
        """out[k] = decision ns, side (1 bid, 2 ask), price tick, fill ns of order k + 1."""
        last_id = np.zeros(3, np.int64)
        last_tick = np.zeros(3, np.int64)
        n = 0
        for _ in range(steps):
            if hbt.elapse(step_ns) != 0:
                break
            record_fills(hbt, out)
            if hbt.current_timestamp < synced_ns:
                continue
            d = hbt.depth(0)
            for side in (1, 2):
                t = d.best_bid_tick if side == 1 else d.best_ask_tick
                if abs(t) > 2**62 or last_id[side] != 0 and last_tick[side] == t:
                    continue  # an empty side, or the touch has not moved
                if last_id[side] != 0:
                    o = hbt.orders(0).get(last_id[side])
                    if o is not None and o.cancellable:
                        hbt.cancel(0, last_id[side], False)
                n += 1
                if side == 1:
                    hbt.submit_buy_order(0, n, t * tick, lot, GTX, LIMIT, False)
                else:
                    hbt.submit_sell_order(0, n, t * tick, lot, GTX, LIMIT, False)
                out[n - 1, 0], out[n - 1, 1], out[n - 1, 2] = hbt.current_timestamp, side, t
                last_id[side], last_tick[side] = n, t
        hbt.elapse(10 * step_ns)  # the last answers
        record_fills(hbt, out)
        return n

    return quote


def hbt_model(asset: Any, model: str) -> Any:
    if model == "conservative":
        return asset.risk_adverse_queue_model()
    kind, _, n = model.partition(":")
    if kind != "power":
        raise ValueError(f"no hftbacktest counterpart for queue model {model!r}")
    return asset.power_prob_queue_model(float(n))


def run_hftbacktest(data: Data, model: str, q: Quoting, events: npt.NDArray[np.void],
                    quote: Any) -> Run:
    import hftbacktest as hb

    f = data.feed
    tick, lot = f.tick * 10.0 ** -f.price_exp, q.lot * 10.0 ** -f.size_exp
    asset = (hb.BacktestAsset().data([events]).linear_asset(1.0)
             .constant_order_latency(ENTRY_NS, RESPONSE_NS).no_partial_fill_exchange()
             .trading_value_fee_model(MAKER_CBPS / 1e6, TAKER_CBPS / 1e6)
             .tick_size(tick).lot_size(10.0 ** -f.size_exp))
    hbt = hb.HashMapMarketDepthBacktest([hbt_model(asset, model)])
    steps = len(decision_times(data, q))
    out = np.zeros((2 * steps, 4), np.int64)
    t0 = time.perf_counter()
    n = quote(hbt, steps, q.step_ns, data.synced_ns, tick, lot, out)
    seconds = time.perf_counter() - t0
    sv = hbt.state_values(0)
    ticks = f.tick
    orders = [(int(r[0]), int(r[1]), int(r[2]) * ticks, int(r[3])) for r in out[:n]]
    pos = round(sv.position / 10.0 ** -f.size_exp)
    return Run(orders, pos, Fraction(sv.balance), Fraction(sv.fee), seconds)
# -- the comparison ----------------------------------------------------------------------


def through_trade_at(data: Data, ts_ns: int, side: int, price: int) -> bool:
    """Whether a recorded trade at ``ts_ns`` reaches a resting order (side, price): at its
    price or through it, aggressor on the other side."""
    tr = data.feed.trades
    at = tr[tr["ts_recv_ns"] == ts_ns]
    if side == Side.BID:
        return bool(((at["side"] == Side.ASK) & (at["price"] <= price)).any())
    return bool(((at["side"] == Side.BID) & (at["price"] >= price)).any())


def replay_fill_ns(data: Data, n: float, side: int, price: int, arrival_ns: int, end_ns: int,
                   *, exact: bool, level_window: bool) -> int:
    """The fill time (0: none by ``end_ns``) of a unit order resting at (side, price) from
    ``arrival_ns``, by trades only, in a power-N queue replayed in plain Python with each
    rule of the module docstring chosen: ``exact`` (crossbook: whole size units, shares
    rounded down, a fill when a trade passes the size ahead) or hftbacktest's floats (in
    BTC, a fill when the size ahead is below minus half a lot); ``level_window`` (crossbook:
    the trades at the price since the level's previous row, before the arrival too) or
    hftbacktest's (those the order saw since its own previous depth update)."""
    f = data.feed
    scale = 1 if exact else 10.0 ** -f.size_exp
    hit = Side.ASK if side == Side.BID else Side.BID  # the aggressor that reaches the order
    lv = f.levels[(f.levels["side"] == side) & (f.levels["price"] == price)
                  & (f.levels["ts_recv_ns"] <= end_ns)]
    tr = f.trades[(f.trades["side"] == hit) & (f.trades["ts_recv_ns"] <= end_ns)]
    before = lv[lv["ts_recv_ns"] <= arrival_ns]
    since_ns = int(before["ts_recv_ns"][-1]) if len(before) else 0
    size: float = int(before["size"][-1]) * scale if len(before) else 0
    at = tr[tr["price"] == price]
    in_window = (at["ts_recv_ns"] > since_ns) & (at["ts_recv_ns"] <= arrival_ns)
    window: float = int(at["size"][in_window].sum()) * scale if level_window else 0
    ahead = size
    events = sorted([(int(t["ts_recv_ns"]), 0, int(t["price"]), int(t["size"]) * scale)
                     for t in tr if t["ts_recv_ns"] > arrival_ns]
                    + [(int(r["ts_recv_ns"]), 1, price, int(r["size"]) * scale)
                       for r in lv if r["ts_recv_ns"] > arrival_ns])
    for ts, kind, px, qty in events:
        if kind == 0 and px != price:
            if (px < price) == (side == Side.BID):
                return ts  # traded through the order's price
        elif kind == 0:
            window += qty
            ahead -= qty
            if ahead < 0 if exact else round(-ahead / scale) >= 1:
                return ts
        else:
            unexplained = size - qty - window
            behind = max(0, size - ahead) if exact else size - ahead
            if unexplained > 0 and ahead > 0:
                share = unexplained / (1.0 + (behind / ahead) ** n)
                cut = min(math.floor(share), unexplained, ahead) if exact else share
                ahead -= cut + max(0, unexplained - cut - behind)
            ahead, size, window = min(ahead, qty), qty, 0
    return 0


def why(data: Data, model: str, cb: tuple[int, int, int, int], hb: tuple[int, int, int, int],
        end_ns: int) -> str:
    """The rule behind one order's different outcome (module docstring); ``end_ns`` is
    when its cancel arrives (the end of the data if none is sent)."""
    decided_ns, side, price, hb_fill = hb
    if hb_fill and (cb[3] == 0 or hb_fill < cb[3]) and not through_trade_at(data, hb_fill, side,
                                                                             price):
        return "depth cross"
    if not model.startswith("power"):
        return "unexplained"
    n = float(model.partition(":")[2])
    arrival_ns = decided_ns + ENTRY_NS

    def fill(exact: bool, level_window: bool) -> int:
        return replay_fill_ns(data, n, side, price, arrival_ns, end_ns, exact=exact,
                              level_window=level_window)

    if fill(True, True) != cb[3] or fill(False, False) != hb_fill:
        return "unexplained"
    rounding, window = fill(False, True) == hb_fill, fill(True, False) == hb_fill
    if rounding and window:
        return "rounding or trade window"
    return "rounding" if rounding else "trade window" if window else "rounding + trade window"


def exact_pnl(data: Data, orders: list[tuple[int, int, int, int]], lot: int, mark: int, *,
              fees_rounded_up: bool) -> Fraction:
    """PnL at ``mark`` of the orders' unit fills at their prices, in exact arithmetic; each
    fee rounded up to a unit of 10**-(price_exp + size_exp) as crossbook's, or exact."""
    total = Fraction(0)
    for _, side, price, fill_ns in orders:
        if fill_ns:
            notional = price * lot
            fee = Fraction(notional * MAKER_CBPS, 10**6)
            total += ((-notional if side == Side.BID else notional)
                      + (lot if side == Side.BID else -lot) * mark
                      - (math.ceil(fee) if fees_rounded_up else fee))
    return total / Fraction(10 ** (data.feed.price_exp + data.feed.size_exp))


@dataclass
class Row:
    model: str
    orders: int
    fills: tuple[int, int]  # crossbook, hftbacktest
    same_time: int  # orders both fill at the same ns
    later_ms: float | None  # median of crossbook's fill time minus hftbacktest's, both filled
    reasons: dict[str, int]
    pnl: tuple[Fraction, Fraction]  # at the same mark
    hbt_float_error: Fraction  # hftbacktest's PnL minus the exact PnL of its own fills
    seconds: tuple[float, float]


def cancel_arrival_ns(data: Data, orders: list[tuple[int, int, int, int]], i: int) -> int:
    """When order ``i``'s cancel reaches the venue: the strategy sends it with the next
    order on the same side (the touch moved), if the order is still open."""
    nxt = (o[0] for o in orders[i + 1:] if o[1] == orders[i][1])
    return next(nxt, data.last_ns - ENTRY_NS) + ENTRY_NS


def compare(data: Data, model: str, q: Quoting, cb: Run, hb: Run, mark: int) -> Row:
    if [o[:3] for o in cb.orders] != [o[:3] for o in hb.orders]:
        raise AssertionError("the engines sent different orders: the strategies diverged")
    reasons: dict[str, int] = {}
    for i, (a, b) in enumerate(zip(cb.orders, hb.orders)):
        if a[3] != b[3]:
            r = why(data, model, a, b, cancel_arrival_ns(data, cb.orders, i))
            reasons[r] = reasons.get(r, 0) + 1
    later = [a[3] - b[3] for a, b in zip(cb.orders, hb.orders) if a[3] != b[3] and a[3] and b[3]]
    f = data.feed
    hb_pnl = hb.pnl(mark, f.price_exp, f.size_exp)
    return Row(model, len(cb.orders), (sum(o[3] > 0 for o in cb.orders),
                                       sum(o[3] > 0 for o in hb.orders)),
               sum(a[3] == b[3] > 0 for a, b in zip(cb.orders, hb.orders)),
               statistics.median(later) / NS_PER_MS if later else None, reasons,
               (cb.pnl(mark, f.price_exp, f.size_exp), hb_pnl),
               hb_pnl - exact_pnl(data, hb.orders, q.lot, mark, fees_rounded_up=False),
               (cb.seconds, hb.seconds))


def final_mark(data: Data) -> int:
    """The touch's mid at the end of the data, rounded down to a price unit."""
    sim = crossbook_sim(data, "conservative")
    sim.advance(data.last_ns)
    bid, ask = sim.bbo(0)
    assert bid is not None and ask is not None
    return (bid[0] + ask[0]) // 2


def median_run(fn: Callable[[], Run], repeats: int) -> Run:
    runs = [fn() for _ in range(repeats)]
    runs[-1].seconds = statistics.median(r.seconds for r in runs)
    return runs[-1]


def rows(data: Data, q: Quoting, models: tuple[str, ...], repeats: int) -> list[Row]:
    events, quote = hbt_events(data), hbt_strategy()
    run_hftbacktest(data, "conservative", q, events[:200], quote)  # numba compiles here
    mark = final_mark(data)
    out = []
    for model in models:
        cb = median_run(lambda: run_crossbook(data, model, q), repeats)
        hb = median_run(lambda: run_hftbacktest(data, model, q, events, quote), repeats)
        out.append(compare(data, model, q, cb, hb, mark))
    return out


def _usdt(x: Fraction) -> str:
    return f"{float(x):+.5f}"


def print_table(data: Data, q: Quoting, table: list[Row]) -> None:
    f = data.feed
    print(f"data: {SLICE.name}, {(data.last_ns - data.first_ns) / NS_PER_S:.1f} s, "
          f"{len(f.levels):,} level rows, {len(f.trades):,} trades; step {q.step_ns // NS_PER_MS} "
          f"ms, entry {ENTRY_NS // NS_PER_MS} ms, response {RESPONSE_NS // NS_PER_MS} ms, "
          f"1 lot ({10.0 ** -f.size_exp:g} BTC)")
    head = ["crossbook / hftbacktest", "orders", "fills cb", "fills hbt", "same fill ns",
            "differ: why", "cb later by (median)", "PnL cb USDT", "PnL hbt USDT",
            "hbt float error", "ms cb", "ms hbt", "hbt/cb time"]
    names = {"conservative": "conservative / RiskAdverse"}
    body = [[names.get(r.model, f"{r.model} / PowerProb({r.model.partition(':')[2]})"),
             str(r.orders), str(r.fills[0]), str(r.fills[1]), str(r.same_time),
             ", ".join(f"{n} {k}" for k, n in sorted(r.reasons.items())) or "none",
             "" if r.later_ms is None else f"{r.later_ms:.1f} ms",
             _usdt(r.pnl[0]), _usdt(r.pnl[1]), f"{float(r.hbt_float_error):.1e}",
             f"{r.seconds[0] * 1e3:.1f}", f"{r.seconds[1] * 1e3:.1f}",
             f"{r.seconds[1] / r.seconds[0]:.2f}x"] for r in table]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    for line in [head, ["-" * w for w in widths], *body]:
        print("| " + " | ".join(x.ljust(w) for x, w in zip(line, widths)) + " |")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=None, help="first S seconds only")
    ap.add_argument("--step-ms", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    try:
        import hftbacktest  # noqa: F401
    except ImportError:
        print("hftbacktest is not installed (pip install hftbacktest): nothing to compare")
        return 0
    data = load(args.seconds)
    q = Quoting(step_ns=args.step_ms * NS_PER_MS)
    print_table(data, q, rows(data, q, MODELS, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
