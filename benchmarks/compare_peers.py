#!/usr/bin/env python
"""Runs the benchmark workload through crossbook, the plain-Python baseline and the
installed peer books, checks that all of them end in the same book, and prints
one table of median throughputs.

    python benchmarks/compare_peers.py [--l2 | --l3] [--n N] [--repeats R] [--seed S]

Peers: ``order_book.OrderBook`` (pip install order-book) and nautilus_trader's
``OrderBook`` (pip install nautilus-trader), each skipped with a note when it is
not installed. Every timed run is followed by a check of its end state (best
bid and ask, top 10 levels per side) against the plain-Python reference.

``--l3`` runs the order-level comparison instead (compare_peers_l3.py: the
MatchingEngine against a plain-Python matcher and limit-order-book), ``--l2``
this L2 one only; with neither, both run, L2 first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a script, sys.path[0] is benchmarks/ itself: make `benchmarks.*` importable.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np

import crossbook
from benchmarks import compare_peers_l3, loops
from benchmarks.peer_report import machine_lines, print_rows
from benchmarks.pyorderbook import PyL2Book
from benchmarks.workload import DEFAULT_SEED, Workload, default_n, make_workload
from crossbook import dtypes

TOP = loops.DEPTH_N
# (bid, ask) as (price, size) or None, then the top levels of each side as (price, size).
State = tuple[Any, list[tuple[int, int]], list[tuple[int, int]]]

OPERATIONS = {
    "bbo": "update + bbo per call",
    "batch_bbo": "batch, bbo after each event",
    "batch": "batch, no bbo",
    "depth": "update + depth(10) per call",
    "depth_into": "update + depth_into(10) per call",
}


@dataclass(frozen=True)
class Case:
    implementation: str
    operation: str  # a key of OPERATIONS; ratios compare rows with the same key
    setup: Callable[[], tuple[Any, ...]]  # fresh arguments for one run (not timed)
    run: Callable[..., Any]  # the timed call
    state: Callable[[Any], State]  # the end state, from what run returned
    note: str = ""


@dataclass(frozen=True)
class Row:
    case: Case
    seconds: list[float]
    n: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rate(self) -> float:
        return self.n / self.median


def top_rows(rows: Any) -> list[tuple[int, int]]:
    """(price, size) pairs from a DEPTH array or from (price, size, ...) tuples."""
    if isinstance(rows, np.ndarray):
        return list(zip(rows["price"].tolist(), rows["size"].tolist()))
    return [(int(r[0]), int(r[1])) for r in rows]


def book_state(book: Any) -> State:
    """End state of a crossbook.L2Book or a PyL2Book (same read API)."""
    bids, asks = book.depth(TOP)
    return book.bbo(), top_rows(bids), top_rows(asks)


def checked(last_ok: Callable[[Any, State], bool]) -> Callable[[Any], State]:
    """A state reader for (book, last read) results that also checks the last read."""

    def state(result: Any) -> State:
        book, last = result
        s = book_state(book)
        if not last_ok(last, s):
            raise AssertionError(f"last read {last!r} disagrees with the end state {s[0]!r}")
        return s

    return state


# -- crossbook and the plain-Python baseline -----------------------------------


def crossbook_cases(w: Workload) -> list[Case]:
    def fresh() -> crossbook.L2Book:
        book = crossbook.L2Book()
        book.load_snapshot(w.snapshot_bids, w.snapshot_asks)
        return book

    lists = (w.sides, w.prices, w.sizes)
    bbo_out = np.zeros(w.n_updates, dtype=dtypes.BBO)  # touched once, outside the timing
    bids_out = np.zeros(TOP, dtype=dtypes.DEPTH)
    asks_out = np.zeros(TOP, dtype=dtypes.DEPTH)

    def batch_state(book: crossbook.L2Book) -> State:
        s = book_state(book)
        (bp, bs), (ap, az) = s[0]
        if tuple(bbo_out[-1].tolist()) != (bp, bs, ap, az):
            raise AssertionError("bbo_out's last row disagrees with the end state")
        return s

    return [
        Case(
            "crossbook",
            "bbo",
            lambda: (fresh(), *lists),
            loops.update_bbo,
            checked(lambda last, s: last == s[0]),
        ),
        Case(
            "crossbook",
            "batch_bbo",
            lambda: (fresh(), w.events, bbo_out),
            loops.apply_batch,
            batch_state,
        ),
        Case(
            "crossbook", "batch", lambda: (fresh(), w.events, None), loops.apply_batch, book_state
        ),
        Case(
            "crossbook",
            "depth",
            lambda: (fresh(), *lists),
            loops.update_depth,
            checked(lambda last, s: (top_rows(last[0]), top_rows(last[1])) == s[1:]),
        ),
        Case(
            "crossbook",
            "depth_into",
            lambda: (fresh(), *lists, bids_out, asks_out),
            loops.update_depth_into,
            checked(
                lambda last, s: (
                    (top_rows(bids_out[: last[0]]), top_rows(asks_out[: last[1]])) == s[1:]
                )
            ),
        ),
    ]


def baseline_cases(w: Workload) -> list[Case]:
    def fresh() -> PyL2Book:
        return PyL2Book.from_snapshot(w.snapshot_bids, w.snapshot_asks)

    lists = (w.sides, w.prices, w.sizes)
    name = "python SortedDict"
    return [
        Case(
            name,
            "bbo",
            lambda: (fresh(), *lists),
            loops.update_bbo,
            checked(lambda last, s: last == s[0]),
        ),
        Case(
            name,
            "depth",
            lambda: (fresh(), *lists),
            loops.update_depth,
            checked(lambda last, s: (top_rows(last[0]), top_rows(last[1])) == s[1:]),
        ),
    ]


# -- order-book (bmoscon) --------------------------------------------------------


def bmoscon_update_bbo(ob: Any, sides: list[int], prices: list[int], sizes: list[int]) -> Any:
    bids, asks = ob.bids, ob.asks
    best_bid, best_ask = bids.index, asks.index
    last = None
    for s, p, q in zip(sides, prices, sizes):
        levels = bids if s == 1 else asks
        if q:
            levels[p] = q
        else:
            del levels[p]  # size 0 is not a delete here; the workload only deletes live levels
        last = (best_bid(0), best_ask(0))
    return ob, last


def bmoscon_update_depth(ob: Any, sides: list[int], prices: list[int], sizes: list[int]) -> Any:
    # ob was made with max_depth=10: to_list() then returns the top 10 only,
    # while the book keeps every level.
    bids, asks = ob.bids, ob.asks
    bid_rows, ask_rows = bids.to_list, asks.to_list
    last = None
    for s, p, q in zip(sides, prices, sizes):
        levels = bids if s == 1 else asks
        if q:
            levels[p] = q
        else:
            del levels[p]
        last = (bid_rows(), ask_rows())
    return ob, last


def bmoscon_cases(w: Workload) -> list[Case]:
    from order_book import OrderBook

    def fresh(**kwargs: Any) -> Any:
        ob = OrderBook(**kwargs)
        for levels, snap in ((ob.bids, w.snapshot_bids), (ob.asks, w.snapshot_asks)):
            for p, q in zip(snap["price"].tolist(), snap["size"].tolist()):
                levels[p] = q
        return ob

    def state(result: Any) -> State:
        ob, last = result
        bids, asks = ob.bids.to_list()[:TOP], ob.asks.to_list()[:TOP]
        if last[0] != bids[: len(last[0])] or last[1] != asks[: len(last[1])]:
            raise AssertionError("order_book's last read disagrees with its end state")
        return (bids[0], asks[0]), bids, asks

    def bbo_state(result: Any) -> State:
        ob, last = result
        s = state((ob, ([], [])))
        if last != s[0]:
            raise AssertionError("order_book's last bbo disagrees with its end state")
        return s

    lists = (w.sides, w.prices, w.sizes)
    name = "order_book (bmoscon)"
    return [
        Case(
            name,
            "bbo",
            lambda: (fresh(), *lists),
            bmoscon_update_bbo,
            bbo_state,
            note="index(0) re-sorts the keys after a write",
        ),
        Case(
            name,
            "depth",
            lambda: (fresh(max_depth=TOP), *lists),
            bmoscon_update_depth,
            state,
            note="OrderBook(max_depth=10).to_list()",
        ),
    ]


# -- nautilus_trader ----------------------------------------------------------------


def nautilus_update_bbo(book: Any, sides: list[int], prices: list[int], sizes: list[int]) -> Any:
    """What a user with an integer feed writes: one BookOrder per update (L2_MBP
    keys levels by price, so the order id is irrelevant), then the 4 best_* reads."""
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.objects import Price, Quantity

    update, delete = book.update, book.delete
    bid_px, bid_sz = book.best_bid_price, book.best_bid_size
    ask_px, ask_sz = book.best_ask_price, book.best_ask_size
    price_of, qty_of, zero = Price.from_int, Quantity.from_int, Quantity.from_int(0)
    buy, sell = OrderSide.BUY, OrderSide.SELL
    last = None
    for s, p, q in zip(sides, prices, sizes):
        if q:
            update(BookOrder(buy if s == 1 else sell, price_of(p), qty_of(q), 0), 0)
        else:
            delete(BookOrder(buy if s == 1 else sell, price_of(p), zero, 0), 0)
        last = (bid_px(), bid_sz(), ask_px(), ask_sz())
    return book, last


def nautilus_apply_deltas(book: Any, chunks: list[Any]) -> Any:
    apply_deltas = book.apply_deltas
    for deltas in chunks:
        apply_deltas(deltas)
    return book


def nautilus_deltas(w: Workload, instrument: Any, chunk: int = 10_000) -> list[Any]:
    """The workload as OrderBookDeltas, built in chunks so that a million Python
    delta objects never live at once."""
    from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas
    from nautilus_trader.model.enums import BookAction, OrderSide
    from nautilus_trader.model.objects import FIXED_PRECISION

    scale = 10**FIXED_PRECISION  # an int: FIXED_SCALAR is a float and rounds raw prices
    sides = {1: OrderSide.BUY, 2: OrderSide.SELL}
    make = OrderBookDelta.from_raw
    update, delete = BookAction.UPDATE, BookAction.DELETE
    chunks = []
    for i in range(0, w.n_updates, chunk):
        part = zip(w.sides[i : i + chunk], w.prices[i : i + chunk], w.sizes[i : i + chunk])
        # from_raw(instrument, action, side, price_raw, price_prec, size_raw, size_prec,
        #          order_id, flags, sequence, ts_event, ts_init)
        deltas = [
            make(instrument, update if q else delete, sides[s], p * scale, 0, q * scale, 0,
                 0, 0, 0, 0, 0)
            for s, p, q in part
        ]  # fmt: skip
        chunks.append(OrderBookDeltas(instrument, deltas))
    return chunks


def nautilus_state(book: Any) -> State:
    def levels(side_levels: list[Any]) -> list[tuple[int, int]]:
        return [(int(lv.price.as_decimal()), int(lv.size())) for lv in side_levels[:TOP]]

    bids, asks = levels(book.bids()), levels(book.asks())
    return (bids[0], asks[0]), bids, asks


def nautilus_cases(w: Workload) -> list[Case]:
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.enums import BookType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price, Quantity

    instrument = InstrumentId.from_str("BENCH.SIM")

    def fresh() -> Any:
        book = OrderBook(instrument, BookType.L2_MBP)
        for side, snap in ((OrderSide.BUY, w.snapshot_bids), (OrderSide.SELL, w.snapshot_asks)):
            for p, q in zip(snap["price"].tolist(), snap["size"].tolist()):
                book.update(BookOrder(side, Price.from_int(p), Quantity.from_int(q), 0), 0)
        return book

    def per_call_state(result: Any) -> State:
        book, last = result
        s = nautilus_state(book)
        if tuple(int(x.as_decimal()) for x in last) != (*s[0][0], *s[0][1]):
            raise AssertionError("nautilus_trader's last bbo disagrees with its end state")
        return s

    chunks = nautilus_deltas(w, instrument)  # prebuilt, untimed: the row times the book alone
    name = "nautilus_trader"
    return [
        Case(name, "bbo", lambda: (fresh(), w.sides, w.prices, w.sizes), nautilus_update_bbo,
             per_call_state, note="BookOrder per update, 4 best_* calls"),
        Case(name, "batch", lambda: (fresh(), chunks), nautilus_apply_deltas, nautilus_state,
             note="apply_deltas, deltas prebuilt untimed"),
    ]  # fmt: skip


PEERS: list[tuple[str, str, Callable[[Workload], list[Case]]]] = [
    # (label, import name, cases)
    ("order_book (bmoscon, pip install order-book)", "order_book", bmoscon_cases),
    ("nautilus_trader (pip install nautilus-trader)", "nautilus_trader", nautilus_cases),
]


# -- measuring and reporting -----------------------------------------------------


def run_checked(case: Case, expected: State) -> float:
    """One run: its wall time, after checking that it ended in the expected book."""
    args = case.setup()
    t0 = time.perf_counter()
    result = case.run(*args)
    seconds = time.perf_counter() - t0
    got = case.state(result)  # every run is checked, not only the first
    if got != expected:
        raise SystemExit(
            f"{case.implementation} / {OPERATIONS[case.operation]} ended in a different book:\n"
            f"  got      bbo={got[0]} bids={got[1][:3]}... asks={got[2][:3]}...\n"
            f"  expected bbo={expected[0]} bids={expected[1][:3]}... asks={expected[2][:3]}..."
        )
    return seconds


def measure(case: Case, opts: argparse.Namespace, expected: State, n: int) -> Row:
    """Warm-up runs (first-touch page faults, lazily built caches) are checked but
    not counted, then up to opts.repeats timed runs while the row's time budget lasts.
    A row whose warm-up alone overran the budget (a peer taking minutes per run)
    counts that run instead: first-touch effects are noise at that scale."""
    warm = [run_checked(case, expected) for _ in range(opts.warmup)]
    seconds: list[float] = []
    spent = sum(warm)
    if warm and spent > opts.budget:
        seconds = warm[-1:]
    while len(seconds) < opts.repeats and (not seconds or spent < opts.budget):
        seconds.append(run_checked(case, expected))
        spent += seconds[-1]
    return Row(case, seconds, n)


def reference_state(w: Workload) -> State:
    """The plain-Python book's end state: what every implementation must reach."""
    book = PyL2Book.from_snapshot(w.snapshot_bids, w.snapshot_asks)
    for s, p, q in zip(w.sides, w.prices, w.sizes):
        book.update(s, p, q)
    assert book.unknown_deletes == 0
    return book_state(book)


def format_table(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    base = {r.case.operation: r.rate for r in rows if r.case.implementation == "crossbook"}
    header = [
        "implementation",
        "operation",
        "updates/s (median)",
        "vs crossbook",
        "median s/run",
        "ns/update",
        "runs",
        "note",
    ]
    body = []
    for r in rows:
        ratio = r.rate / base[r.case.operation] if r.case.operation in base else float("nan")
        body.append(
            [
                r.case.implementation,
                OPERATIONS[r.case.operation],
                f"{r.rate:,.0f}",
                f"{ratio:.3f}x",
                f"{r.median:.4f}",
                f"{1e9 * r.median / r.n:,.1f}",
                str(len(r.seconds)),
                r.case.note,
            ]
        )
    return header, body


def print_table(rows: list[Row], title: str) -> None:
    print_rows(*format_table(rows), title, {2, 3, 4, 5, 6})


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n",
        type=int,
        default=default_n(),
        help="L2 updates and L3 orders (default: CROSSBOOK_BENCH_N or 1e6)",
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed runs per row (median reported)"
    )
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per row first")
    parser.add_argument(
        "--budget", type=float, default=60.0, help="seconds per row before repeats stop early"
    )
    parser.add_argument("--seed", type=int, default=None, help="workload seed (default: its own)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--l2", action="store_true", help="the L2 book comparison only")
    which.add_argument("--l3", action="store_true", help="the L3 matching comparison only")
    compare_peers_l3.add_arguments(parser)
    args = parser.parse_args(argv)

    for text in machine_lines([sys.argv[0], *argv]):
        print(text)
    if not args.l3:
        compare_l2(args)
    if not args.l2:
        if not args.l3:
            print()
        compare_peers_l3.run(args, argv, header=False)
    return 0


def compare_l2(args: argparse.Namespace) -> None:
    if args.seed is None:
        args = argparse.Namespace(**{**vars(args), "seed": DEFAULT_SEED})
    w = make_workload(args.n, args.seed)
    print(
        f"workload: {w.n_updates:,} updates (seed {args.seed}) on {len(w.snapshot_bids):,}+"
        f"{len(w.snapshot_asks):,} snapshot levels; per row {args.warmup} warm-up + up to "
        f"{args.repeats} timed runs (fewer past {args.budget:g} s), time.perf_counter, median"
    )
    expected = reference_state(w)
    sys.stdout.flush()  # progress goes to stderr; keep the two streams in order on a terminal

    cases = crossbook_cases(w) + baseline_cases(w)
    for label, module, make_cases in PEERS:
        try:
            __import__(module)
        except ImportError as exc:
            print(f"note: skipping {label}: not installed ({exc})")
            continue
        cases += make_cases(w)

    rows = []
    for case in cases:
        rows.append(measure(case, args, expected, w.n_updates))
        print(
            f"  measured {case.implementation} / {OPERATIONS[case.operation]}",
            file=sys.stderr,
            flush=True,
        )
    print(
        f"all {sum(args.warmup + len(r.seconds) for r in rows)} runs of {len(rows)} rows ended in "
        f"the same book as the plain-Python reference: bbo {expected[0]}, top {TOP} levels per "
        f"side equal"
    )
    print_table(rows, f"L2 book, {w.n_updates:,} updates")


if __name__ == "__main__":
    sys.exit(main())
