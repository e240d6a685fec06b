#!/usr/bin/env python
"""Runs the L3 workload (benchmarks/l3_workload.py) through crossbook's
MatchingEngine (per call and submit_batch), crossbook's OrderBook (the feed the
workload produced), the plain-Python price-time matcher and the C++
``limit-order-book`` package, checks that every run ends in the same book, and
prints one table of median throughputs.

    python benchmarks/compare_peers_l3.py [--n N] [--repeats R] [--seed S] [--oracle-n K]
    python benchmarks/compare_peers.py --l3 ...   (the same; without --l2/--l3 it runs both)

Every timed run is followed by a check of its end state against the plain-Python
matcher's untimed run: best bid and ask, the top 10 levels per side (price, open
size, order count), the resting orders and open size per side, and the fills
and traded volume where the implementation reports them. The plain-Python
matcher is itself first checked, fill by fill, against the reference matcher of
the property tests on the first --oracle-n orders.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script, sys.path[0] is benchmarks/ itself
    sys.path.insert(0, str(ROOT))

import numpy as np

import crossbook
from benchmarks.peer_report import machine_lines, print_rows
from benchmarks.l3_workload import (
    DEFAULT_SEED,
    L3Workload,
    make_l3_workload,
    submit_per_call,
)
from benchmarks.pymatcher import ASK, BID, PyMatcher, agrees_with_oracle
from benchmarks.workload import default_n
from crossbook import dtypes

TOP = 10
LOB_MAX_WALK = 100_000  # ticks walked from limit-order-book's best price looking for levels

OPERATIONS = {
    "per_call": "submit/cancel per call",
    "batch": "submit_batch",
    "feed": "feed replay, bbo per event",
}


@dataclass(frozen=True)
class State:
    """An end state. None: the implementation does not report it (not compared)."""

    bbo: Any
    bids: list[tuple[int, int, int]]  # top levels, best first: (price, open size, order count)
    asks: list[tuple[int, int, int]]
    orders: tuple[int, int]  # resting orders per side
    volume: tuple[int, int]  # open size per side
    fills: int | None
    traded: int | None

    def differences(self, expected: State) -> list[str]:
        return [f"{k}: got {getattr(self, k)!r}, expected {getattr(expected, k)!r}"
                for k in self.__dataclass_fields__
                if getattr(self, k) is not None and getattr(self, k) != getattr(expected, k)]  # fmt: skip


@dataclass(frozen=True)
class Case:
    implementation: str
    operation: str  # a key of OPERATIONS
    setup: Callable[[], tuple[Any, ...]]  # fresh arguments for one run (not timed)
    run: Callable[..., Any]  # the timed call
    state: Callable[[Any], State]  # the end state, from what run returned
    note: str = ""
    n_events: int = 0  # a feed replay: the events it applies


@dataclass(frozen=True)
class Row:
    case: Case
    seconds: list[float]
    n: int
    state: State

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rate(self) -> float:
        return self.n / self.median


# -- end states ----------------------------------------------------------------------


def crossbook_state(book: Any, fills: int | None, traded: int | None) -> State:
    """From a crossbook OrderBook or a MatchingEngine's OrderBookView."""
    bids, asks = book.depth(TOP)
    levels = [book.levels(side) for side in (BID, ASK)]

    def rows(a: np.ndarray) -> list[tuple[int, int, int]]:
        return list(zip(a["price"].tolist(), a["size"].tolist(), a["count"].tolist()))

    return State(
        book.bbo(),
        rows(bids),
        rows(asks),
        tuple(int(lv["count"].sum()) for lv in levels),
        tuple(int(lv["size"].sum()) for lv in levels),
        fills,
        traded,
    )  # type: ignore[arg-type]


def matcher_state(m: PyMatcher) -> State:
    levels = [m.levels(side) for side in (BID, ASK)]
    return State(
        m.bbo(),
        levels[0][:TOP],
        levels[1][:TOP],
        tuple(sum(c for _, _, c in lv) for lv in levels),
        tuple(sum(q for _, q, _ in lv) for lv in levels),
        m.trade_count,
        m.traded_volume,
    )  # type: ignore[arg-type]


def lob_state(book: Any) -> State:
    """limit-order-book has no depth read: walk the ticks out from each best
    price, asking for the volume and order count at each, until 10 levels."""

    def walk(best: int, step: int, volume_at: Callable[[int], int]) -> list[tuple[int, int, int]]:
        out: list[tuple[int, int, int]] = []
        price = best
        while best and len(out) < TOP and abs(price - best) <= LOB_MAX_WALK and price >= 0:
            q = volume_at(price)
            if q:
                out.append((price, q, book.count_at(price)))
            price += step
        return out

    bids = walk(book.best_buy(), -1, book.volume_buy)
    asks = walk(book.best_sell(), 1, book.volume_sell)
    bbo = (bids[0][:2] if bids else None, asks[0][:2] if asks else None)
    return State(
        bbo,
        bids,
        asks,
        (book.count_buy(), book.count_sell()),
        (book.volume_buy(), book.volume_sell()),
        None,
        None,
    )  # its API reports no fills


# -- cases -----------------------------------------------------------------------------


_COLUMNS: dict[int, tuple[L3Workload, tuple[list[int], ...]]] = {}


def columns_of(w: L3Workload) -> tuple[list[int], ...]:
    """w.columns(), made once: a million orders are six million int objects."""
    if id(w) not in _COLUMNS or _COLUMNS[id(w)][0] is not w:
        _COLUMNS[id(w)] = (w, w.columns())
    return _COLUMNS[id(w)][1]


def fresh_engine(w: L3Workload) -> crossbook.MatchingEngine:
    engine = crossbook.MatchingEngine()
    engine.submit_batch(w.initial)
    return engine


def engine_per_call(engine: crossbook.MatchingEngine, columns: tuple[list[int], ...]) -> Any:
    return engine, submit_per_call(engine, columns)


def engine_batch(engine: crossbook.MatchingEngine, requests: np.ndarray) -> Any:
    return engine, engine.submit_batch(requests)


def crossbook_cases(w: L3Workload) -> list[Case]:
    columns = columns_of(w)
    bbo_out = np.zeros(len(w.feed), dtype=dtypes.BBO)  # touched once, outside the timing

    def per_call_state(result: Any) -> State:
        engine, n_fills = result
        fills = engine.take_fills()
        if (len(fills), int(fills["size"].sum())) != (n_fills, engine.traded_volume):
            raise AssertionError("submit()'s fill counts disagree with take_fills()")
        engine.take_rejects()
        return crossbook_state(engine.book, n_fills, engine.traded_volume)

    def batch_state(result: Any) -> State:
        engine, (fills, _rejects) = result
        if (len(fills), int(fills["size"].sum())) != (engine.trade_count, engine.traded_volume):
            raise AssertionError("submit_batch's fills disagree with the engine's tape")
        return crossbook_state(engine.book, len(fills), int(fills["size"].sum()))

    def fresh_book() -> crossbook.OrderBook:
        book = crossbook.OrderBook()
        book.apply(w.initial_feed)
        return book

    def replay(book: crossbook.OrderBook) -> crossbook.OrderBook:
        book.apply(w.feed, bbo_out)
        return book

    def feed_state(book: crossbook.OrderBook) -> State:
        s = crossbook_state(book, None, None)
        (bp, bs), (ap, az) = s.bbo
        if bbo_out[-1].tolist() != (bp, bs, ap, az) or book.anomaly_total:
            raise AssertionError(
                "the replay's last bbo_out row disagrees with its book, or it saw anomalies"
            )
        return s

    return [
        Case("crossbook", "per_call", lambda: (fresh_engine(w), columns), engine_per_call, per_call_state,
             note="MatchingEngine.submit()/cancel()"),
        Case("crossbook", "batch", lambda: (fresh_engine(w), w.requests), engine_batch, batch_state,
             note="one call, GIL released"),
        Case("crossbook", "feed", lambda: (fresh_book(),), replay, feed_state,
             note="OrderBook.apply", n_events=len(w.feed)),
    ]  # fmt: skip


def fresh_matcher(w: L3Workload) -> PyMatcher:
    m = PyMatcher()
    for _, oid, owner, price, size, side, otype, *_ in w.initial.tolist():
        m.submit(oid, owner, side, price, size, otype)
    return m


def matcher_per_call(m: PyMatcher, columns: tuple[list[int], ...]) -> Any:
    submit_per_call(m, columns)
    return m


def matcher_cases(w: L3Workload) -> list[Case]:
    columns = columns_of(w)
    return [Case("python (SortedDict+deque)", "per_call", lambda: (fresh_matcher(w), columns),
                 matcher_per_call, matcher_state, note="benchmarks/pymatcher.py")]  # fmt: skip


def lob_per_call(
    book: Any,
    types: list[int],
    ids: list[int],
    buys: list[bool],
    prices: list[int],
    sizes: list[int],
) -> Any:
    """The workload through limit-order-book's Python API (ctypes calls into C++)."""
    limit, market, cancel = book.limit, book.market, book.cancel
    limit_type, cancel_type = dtypes.LIMIT, dtypes.CANCEL
    for t, oid, buy, price, size in zip(types, ids, buys, prices, sizes):
        if t == limit_type:
            limit(buy, oid, size, price)
        elif t == cancel_type:
            cancel(oid)
        else:
            market(buy, oid, size)
    return book


def lob_cases(w: L3Workload) -> list[Case]:
    from limit_order_book import LimitOrderBook

    types, ids, _owners, sides, prices, sizes = columns_of(w)
    buys = [s == BID for s in sides]  # its side is a bool, True = buy; converted untimed
    initial = w.initial

    def fresh() -> Any:
        book = LimitOrderBook()
        for oid, side, price, size in zip(
            *(initial[k].tolist() for k in ("order_id", "side", "price", "size"))
        ):
            book.limit(side == BID, oid, size, price)
        return book

    return [Case("limit-order-book (C++)", "per_call", lambda: (fresh(), types, ids, buys, prices, sizes),
                 lob_per_call, lob_state, note="ctypes API; reports no fills")]  # fmt: skip


PEERS: list[tuple[str, str, Callable[[L3Workload], list[Case]]]] = [
    ("limit-order-book (pip install limit-order-book)", "limit_order_book", lob_cases),
]


# -- measuring and reporting ------------------------------------------------------------------


def run_checked(case: Case, expected: State) -> tuple[float, State]:
    """One run: its wall time, after checking that it ended in the expected state.

    The objects alive before the setup (the workload's lists, the expected state)
    are frozen out of the cyclic GC for the run, which would otherwise walk them
    again and again while a Python implementation allocates: each row pays for
    its own objects only."""
    gc.collect()
    gc.freeze()
    try:
        args = case.setup()
        t0 = time.perf_counter()
        result = case.run(*args)
        seconds = time.perf_counter() - t0
    finally:
        gc.unfreeze()
    got = case.state(result)  # every run is checked, not only the first
    diffs = got.differences(expected)
    if diffs:
        raise SystemExit(f"{case.implementation} / {OPERATIONS[case.operation]} ended in a different "
                         "state:\n  " + "\n  ".join(diffs))  # fmt: skip
    return seconds, got


def measure(case: Case, opts: argparse.Namespace, expected: State, n: int) -> Row:
    """Warm-up runs (checked, not counted), then up to opts.repeats timed runs while
    the row's time budget lasts (a warm-up that overran the budget counts instead)."""
    warm = [run_checked(case, expected) for _ in range(opts.warmup)]
    seconds: list[float] = []
    spent = sum(s for s, _ in warm)
    state = warm[-1][1] if warm else None
    if warm and spent > opts.budget:
        seconds = [warm[-1][0]]
    while len(seconds) < opts.repeats and (not seconds or spent < opts.budget):
        s, state = run_checked(case, expected)
        seconds.append(s)
        spent += s
    assert state is not None
    return Row(case, seconds, n, state)


def note(r: Row) -> str:
    if not r.case.n_events:
        return r.case.note
    return f"{r.case.note}: {r.case.n_events:,} events, {r.case.n_events / r.median / 1e6:.1f} M events/s"


def format_table(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    base = {r.case.operation: r.rate for r in rows if r.case.implementation == "crossbook"}
    header = ["implementation", "operation", "orders/s (median)", "vs per call",
              "vs batch", "median s/run", "ns/order", "runs", "fills", "traded volume", "note"]  # fmt: skip
    body = []
    for r in rows:

        def ratio(op: str, r: Row = r) -> str:
            return f"{r.rate / base[op]:.3f}x" if op in base else "n/a"

        body.append([
            r.case.implementation, OPERATIONS[r.case.operation], f"{r.rate:,.0f}", ratio("per_call"),
            ratio("batch"), f"{r.median:.4f}", f"{1e9 * r.median / r.n:,.1f}", str(len(r.seconds)),
            "n/a" if r.state.fills is None else f"{r.state.fills:,}",
            "n/a" if r.state.traded is None else f"{r.state.traded:,}", note(r),
        ])  # fmt: skip
    return header, body


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--oracle-n", type=int, default=2_000,
                        help="orders on which the Python matcher is checked against the reference matcher")  # fmt: skip


def run(args: argparse.Namespace, argv: list[str], *, header: bool = True) -> int:
    """The L3 comparison; ``args`` has n, repeats, warmup, budget, seed (None: the
    workload's own) and oracle_n."""
    if header:
        for text in machine_lines([sys.argv[0], *argv]):
            print(text)
    seed = DEFAULT_SEED if args.seed is None else args.seed
    w = make_l3_workload(args.n, seed)
    print(f"L3 workload: {w.n_orders:,} orders (seed {seed}) on a book of {len(w.initial):,} resting "
          f"orders; the feed they produce: {len(w.feed):,} events; per row {args.warmup} warm-up + up to "
          f"{args.repeats} timed runs (fewer past {args.budget:g} s), time.perf_counter, median")  # fmt: skip
    k = min(args.oracle_n, w.n_orders)
    if k > 0:
        n_fills = agrees_with_oracle(w.initial, w.requests[:k])
        print(f"the Python matcher agrees with tests/reference/ref_matching_engine.py on the first {k:,} "
              f"orders: every return value, fill ({n_fills:,}) and rejection, and the whole book")  # fmt: skip
    m = fresh_matcher(w)
    submit_per_call(m, columns_of(w))
    expected = matcher_state(m)
    del m
    sys.stdout.flush()

    cases = crossbook_cases(w) + matcher_cases(w)
    for label, module, make_cases in PEERS:
        try:
            __import__(module)
        except ImportError as exc:
            print(f"note: skipping {label}: not installed ({exc})")
            continue
        cases += make_cases(w)

    rows = []
    for case in cases:
        rows.append(measure(case, args, expected, w.n_orders))
        print(
            f"  measured {case.implementation} / {OPERATIONS[case.operation]}",
            file=sys.stderr,
            flush=True,
        )
    (bp, bs), (ap, az) = expected.bbo
    print(f"all {sum(args.warmup + len(r.seconds) for r in rows)} runs of {len(rows)} rows ended in the "
          f"state of the Python matcher's untimed run: bbo {bp}x{bs} / {ap}x{az}, top {TOP} levels per side "
          f"(price, size, orders), {sum(expected.orders):,} resting orders, open size {expected.volume}; "
          f"{expected.fills:,} fills, traded volume {expected.traded:,} (where reported)")  # fmt: skip
    numeric = {2, 3, 4, 5, 6, 7, 8, 9}
    print_rows(*format_table(rows), f"L3 matching, {w.n_orders:,} orders", numeric)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n", type=int, default=default_n(), help="orders (default: CROSSBOOK_BENCH_N or 1e6)"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed runs per row (median reported)"
    )
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per row first")
    parser.add_argument(
        "--budget", type=float, default=60.0, help="seconds per row before repeats stop early"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help=f"workload seed (default {DEFAULT_SEED})"
    )
    add_arguments(parser)
    return run(parser.parse_args(argv), argv)


if __name__ == "__main__":
    sys.exit(main())
