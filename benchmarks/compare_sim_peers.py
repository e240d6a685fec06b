#!/usr/bin/env python
"""The execution simulator against peer backtesters, side by side on the same data and
the same strategy, in feed events per second (medians).

    python benchmarks/compare_sim_peers.py [--n N] [--repeats R]

Data: the three bundled Binance slices (spot, USD-M and COIN-M BTC, 90 s) replayed through
parsing and sync into one set of common units (benchmarks/sim_workload.py), each venue's
level rows and trades. Strategy: the cross-venue taker of crossbook.sim.builtin (on a
touch change, buy the ask below another venue's bid by more than the fees, IOC both legs,
sizes capped, a cooldown per pair), with 2 ms entry and 3 ms response latency.

Peers, each skipped with a note when it is not installed (neither is a dependency):

* hftbacktest (``pip install hftbacktest``): the three venues as three assets of one
  ``HashMapMarketDepthBacktest``, each fed its own event array (the rows converted to its
  ``event_dtype``: depth, clear and trade events at the receive time, float prices and
  sizes); the strategy is a numba ``njit`` loop over ``wait_next_feed``, i.e. compiled
  as crossbook's ``run_builtin``. Its engine counts in floats, crossbook in integers.
* nautilus_trader (``pip install nautilus_trader``): ``BacktestEngine`` with three
  venues, one instrument each, fed one ``OrderBookDeltas`` per venue message (L2_MBP) and
  trade ticks, and the strategy as a nautilus ``Strategy`` in Python reading the book top
  on every batch (benchmarks/compare_sim_nautilus.py).

Timed: the run alone (building the simulator or engine and converting the data are not).
Events counted: level rows (depth updates, clears) and trades, the same for every engine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np

from benchmarks.bench_sim import PARAMS, make_sim
from benchmarks.peer_report import machine_lines, print_rows
from benchmarks.sim_workload import SimWorkload, load_binance
from crossbook import dtypes
from crossbook.sim import CrossArbTaker

ENTRY_NS, RESPONSE_NS = 2_000_000, 3_000_000
NAN = float("nan")


Row = tuple[str, str, float, float, str]  # implementation, strategy, wall s, CPU s, note
Timed = tuple[float, float, Any]


def timed(setup: Callable[[], Any], run: Callable[[Any], Any], repeats: int) -> Timed:
    """Median wall and CPU seconds of ``run(setup())`` (setup not timed), and the last
    result. CPU time is this process's: on a shared machine it moves less than wall time."""
    wall, cpu, out = [], [], None
    for _ in range(repeats):
        arg = setup()
        t0, c0 = time.perf_counter(), time.process_time()
        out = run(arg)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), out


def crossbook_rows(w: SimWorkload, repeats: int) -> list[Row]:
    end = w.end_ns
    rows = []
    for what, run in (
        ("no strategy (loop and books)", lambda s: s.advance(end)),
        ("Python strategy, on_touch", lambda s: s.run(CrossArbTaker(PARAMS), until_ns=end)),
        ("compiled strategy, run_builtin", lambda s: s.run_builtin("cross-arb", PARAMS,
                                                                  until_ns=end)),
    ):
        wall, cpu, res = timed(lambda: make_sim(w), run, repeats)
        note = "" if res is None else f"{len(res.orders)} orders, {len(res.fills)} fills"
        rows.append(("crossbook " + _version("crossbook"), what, wall, cpu, note))
    return rows


# -- hftbacktest ------------------------------------------------------------------------


def hbt_events(w: SimWorkload, venue: int) -> np.ndarray:
    """One venue's rows as hftbacktest events at their receive time. A CLEAR becomes a
    delete of every level the book then holds (tracked here); sync rows are dropped."""
    from hftbacktest import (BUY_EVENT, DEPTH_EVENT, EXCH_EVENT, LOCAL_EVENT, SELL_EVENT,
                             TRADE_EVENT, event_dtype)

    v = w.venues[venue]
    px_unit, qty_unit = 10.0 ** -w.units.price_exp, 10.0 ** -w.units.size_exp
    book: dict[tuple[int, int], int] = {}
    out: list[tuple[int, int, int, float, float]] = []
    feed = EXCH_EVENT | LOCAL_EVENT
    side_flag = {1: BUY_EVENT, 2: SELL_EVENT}
    levels = v.levels.tolist()
    trades = v.trades.tolist()
    li = ti = 0
    while li < len(levels) or ti < len(trades):
        if ti < len(trades) and (li == len(levels) or trades[ti][1] <= levels[li][1]):
            _, ts, price, size, side = trades[ti][:5]
            out.append((feed | TRADE_EVENT | side_flag[side], ts, ts, price * px_unit, size * qty_unit))
            ti += 1
            continue
        _, ts, price, size, _, side, action, _ = levels[li]
        li += 1
        if action == dtypes.CLEAR:
            for (s, p) in sorted(book):
                out.append((feed | DEPTH_EVENT | side_flag[s], ts, ts, p * px_unit, 0.0))
            book.clear()
        elif action in (dtypes.ADD, dtypes.UPDATE, dtypes.DELETE):
            size = 0 if action == dtypes.DELETE else size
            if size:
                book[(side, price)] = size
            else:
                book.pop((side, price), None)
            out.append((feed | DEPTH_EVENT | side_flag[side], ts, ts, price * px_unit, size * qty_unit))
    arr = np.zeros(len(out), dtype=event_dtype)
    cols = list(zip(*out))
    for name, col in zip(("ev", "exch_ts", "local_ts", "px", "qty"), cols):
        arr[name] = col
    return arr


def hbt_strategy() -> Any:
    from numba import njit
    from hftbacktest.order import IOC, LIMIT

    @njit
    def run(hbt: Any, n: int, fees: np.ndarray, max_qty: float, cooldown_ns: int) -> tuple[int, int]:
        last = np.zeros((n, 4))
        next_ok = np.full(n * n, -(2**62), dtype=np.int64)
        order_id, touches = 0, 0
        while hbt.wait_next_feed(False, 1_000_000_000_000) == 2:
            changed = False
            for v in range(n):
                d = hbt.depth(v)
                cur = (d.best_bid, d.best_bid_qty, d.best_ask, d.best_ask_qty)
                for k in range(4):
                    if last[v, k] != cur[k]:
                        changed = True
                    last[v, k] = cur[k]
            if not changed:
                continue
            touches += 1
            now = hbt.current_timestamp
            done = False
            for a in range(n):
                if done:
                    break
                ask, ask_qty = last[a, 2], last[a, 3]
                if not (ask > 0 and ask_qty > 0 and np.isfinite(ask)):
                    continue
                for b in range(n):
                    bid, bid_qty = last[b, 0], last[b, 1]
                    if b == a or not (bid_qty > 0 and np.isfinite(bid)):
                        continue
                    if ask * (1 + fees[a]) >= bid * (1 - fees[b]) or now < next_ok[a * n + b]:
                        continue
                    qty = min(ask_qty, bid_qty, max_qty)
                    order_id += 1
                    hbt.submit_buy_order(a, order_id, ask, qty, IOC, LIMIT, False)
                    order_id += 1
                    hbt.submit_sell_order(b, order_id, bid, qty, IOC, LIMIT, False)
                    next_ok[a * n + b] = now + cooldown_ns
                    done = True
                    break
            if touches % 1000 == 0:
                for v in range(n):
                    hbt.clear_inactive_orders(v)
        return touches, order_id

    return run


def hftbacktest_rows(w: SimWorkload, repeats: int) -> list[Row]:
    try:
        import hftbacktest as hb
    except ImportError:
        return [("hftbacktest", "not installed (pip install hftbacktest)", NAN, NAN, "")]
    events = [hbt_events(w, v) for v in range(len(w.venues))]
    strategy = hbt_strategy()
    fees = np.zeros(len(w.venues))  # the strategy counts no fees, as PARAMS
    max_qty = PARAMS.max_size * 10.0 ** -w.units.size_exp

    def build(evs: list[np.ndarray]) -> Any:
        assets = [hb.BacktestAsset().data([e]).linear_asset(1.0)
                  .constant_order_latency(ENTRY_NS, RESPONSE_NS).risk_adverse_queue_model()
                  .partial_fill_exchange().trading_value_fee_model(0.0001, 0.0004)
                  .tick_size(v.tick * 10.0 ** -w.units.price_exp).lot_size(10.0 ** -w.units.size_exp)
                  for e, v in zip(evs, w.venues)]
        return hb.HashMapMarketDepthBacktest(assets)

    # numba compiles on the first call: once, on a few rows, outside the timing.
    strategy(build([e[:100] for e in events]), len(events), fees, max_qty, PARAMS.cooldown_ns)
    wall, cpu, (touches, orders) = timed(
        lambda: build(events),
        lambda hbt: strategy(hbt, len(events), fees, max_qty, PARAMS.cooldown_ns), repeats)
    return [("hftbacktest " + _version("hftbacktest"), "numba strategy, wait_next_feed", wall, cpu,
             f"{touches} touches, {orders} orders")]


def _version(dist: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _rate(per_s: float) -> str:
    return f"{per_s / 1e6:.2f} M" if per_s >= 1e6 else f"{per_s / 1e3:.1f} k"


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=None, help="first N rows only (default: all)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip", action="append", default=[], help="hftbacktest | nautilus")
    args = ap.parse_args(argv)
    w = load_binance()
    if args.n is not None:
        w = w.first(args.n)
    results = crossbook_rows(w, args.repeats)
    if "hftbacktest" not in args.skip:
        results += hftbacktest_rows(w, args.repeats)
    if "nautilus" not in args.skip:
        from benchmarks.compare_sim_nautilus import nautilus_rows

        results += nautilus_rows(w, args.repeats, ENTRY_NS, timed)
    for line in machine_lines(["benchmarks/compare_sim_peers.py", *argv]):
        print(line)
    print(f"events: {w.rows:,} ({w.level_rows:,} level rows, {w.rows - w.level_rows:,} trades), "
          f"3 venues")
    base = results[0][3]
    body = [[impl, what, "" if wall != wall else f"{wall * 1e3:.1f}",
             "" if cpu != cpu else f"{cpu * 1e3:.1f}", "" if cpu != cpu else _rate(w.rows / cpu),
             "" if cpu != cpu else f"{base / cpu:.3f}x", note]
            for impl, what, wall, cpu, note in results]
    print_rows(["implementation", "strategy", "wall ms", "CPU ms", "events/s (CPU)",
                "vs crossbook no strategy", "note"], body,
               "Backtest throughput, three Binance slices (medians)", {2, 3, 4, 5})


if __name__ == "__main__":
    main(sys.argv[1:])
