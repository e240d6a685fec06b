"""pytest-benchmark suite for crossbook.MatchingEngine and crossbook.OrderBook on the
L3 issue's workload (benchmarks/l3_workload.py).

Every benchmark asserts its result against one reference computed per module:
the plain-Python matcher (benchmarks/pymatcher.py) run over the workload, its
every fill, rejection count and final book (bbo, depth(10), every resting
order in queue order), plus its bbo after every order. The fixture first checks
that crossbook's engine (submit_batch) reproduces that reference exactly, and
``test_python_matcher_agrees_with_oracle`` checks the Python matcher against
the reference matcher of the property tests on a slice. So the per-call and
batch paths agree with each other, with the Python matcher and with the feed
replay, whose bbo_out must equal the matcher's bbo after every order.

With ``--benchmark-disable`` (pyproject's default) each function runs once and
checks. Real figures::

    CROSSBOOK_BENCH_N=1000000 python -m pytest benchmarks/bench_order_book.py --benchmark-enable -q

CROSSBOOK_BENCH_N sets the number of orders (default 1,000,000; CI uses a small
one), CROSSBOOK_BENCH_ROUNDS the rounds per benchmark (default 5). Speed
targets are recorded in ``extra_info`` (orders/s or events/s, the target, met or
not), not asserted: a shared CI machine cannot hold a throughput floor. The
memory benchmark always builds 1,000,000 resting orders and asserts its bytes.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import crossbook
from benchmarks.bench_l2_book import release_free_heap, rss_bytes
from benchmarks.l3_workload import (
    L3Workload,
    make_l3_workload,
    replay_feed,
    submit_per_call,
)
from benchmarks.pymatcher import ASK, BID, PyMatcher, agrees_with_oracle
from benchmarks.workload import default_n
from crossbook import dtypes

N = default_n()
ROUNDS = int(os.environ.get("CROSSBOOK_BENCH_ROUNDS", "5"))
DEPTH_N = 10
ORACLE_SLICE = 2_000  # orders the (linear-search) reference matcher checks PyMatcher on
MEMORY_ORDERS = 1_000_000
MEMORY_TARGET = 64  # bytes per resting order, from the issue

TARGETS = {  # per second, from the issue
    "submit_per_call": 3e6,  # orders
    "submit_batch": 20e6,  # orders
    "apply_bbo_out": 30e6,  # feed events
}

Rows = list[tuple[int, ...]]


@dataclass(frozen=True)
class Reference:
    """What every implementation must reproduce: the Python matcher's run."""

    fills: np.ndarray  # (n_fills, 4) int64: taker_id, maker_id, price, size
    fill_sides: np.ndarray  # taker side of each fill
    fill_ts: np.ndarray  # ts_ns of each fill's taker request
    rejects: list[tuple[int, int, int]]  # order_id, size, reason (crossbook.RejectReason)
    traded_volume: int
    final_bbo: Any
    final_depth: tuple[Rows, Rows]  # (price, size, count) per level, best first
    orders: dict[int, Rows]  # side -> (order_id, price, size, owner), in priority order
    bbo_trail: np.ndarray  # (n_orders, 4) int64: the bbo after every order

    @property
    def n_fills(self) -> int:
        return len(self.fills)


@pytest.fixture(scope="module")
def workload() -> L3Workload:
    return make_l3_workload(N)


def fresh_matcher(w: L3Workload) -> PyMatcher:
    m = PyMatcher()
    for _, oid, owner, price, size, side, otype, *_ in w.initial.tolist():
        m.submit(oid, owner, side, price, size, otype)
    assert not m.fills and not m.rejects and len(m) == len(w.initial)
    return m


def fresh_engine(w: L3Workload) -> crossbook.MatchingEngine:
    engine = crossbook.MatchingEngine()  # stp NONE: the workload's owners trade with each other
    fills, rejects = engine.submit_batch(w.initial)
    assert len(fills) == 0 and len(rejects) == 0 and len(engine.book) == len(w.initial)
    return engine


def fresh_feed_book(w: L3Workload) -> crossbook.OrderBook:
    book = crossbook.OrderBook()
    book.apply(w.initial_feed)
    assert len(book) == len(w.initial)
    return book


@pytest.fixture(scope="module")
def reference(workload: L3Workload) -> Reference:
    """The Python matcher over the workload, one order at a time, bbo after each;
    then crossbook's submit_batch checked against it, fill by fill."""
    w = workload
    m = fresh_matcher(w)
    submit, cancel, bbo = m.submit, m.cancel, m.bbo
    trail = np.empty((w.n_orders, 4), dtype=np.int64)
    for i, (t, oid, owner, side, price, size) in enumerate(zip(*w.columns())):
        if t == dtypes.CANCEL:
            assert cancel(oid, owner)
        else:
            submit(oid, owner, side, price, size, t)
        (bp, bs), (ap, az) = bbo()  # type: ignore[misc]  # the workload never empties a side
        trail[i] = bp, bs, ap, az
    new = w.requests[w.requests["type"] != dtypes.CANCEL]
    side_of = dict(zip(new["order_id"].tolist(), new["side"].tolist()))
    ts_of = dict(zip(new["order_id"].tolist(), new["ts_ns"].tolist()))
    ref = Reference(
        fills=np.array(m.fills, dtype=np.int64).reshape(-1, 4),
        fill_sides=np.array([side_of[f[0]] for f in m.fills], dtype=np.uint8),
        fill_ts=np.array([ts_of[f[0]] for f in m.fills], dtype=np.int64),
        rejects=list(m.rejects),
        traded_volume=m.traded_volume,
        final_bbo=m.bbo(),
        final_depth=m.depth(DEPTH_N),
        orders={side: m.orders(side) for side in (BID, ASK)},
        bbo_trail=trail,
    )
    assert ref.traded_volume == int(ref.fills[:, 3].sum()) and m.trade_count == ref.n_fills
    engine = fresh_engine(w)
    fills, rejects = engine.submit_batch(w.requests)
    assert_fills(fills, ref, stamped=True)
    assert_rejects(rejects, ref)
    assert_engine_state(engine, ref)
    return ref


# -- checks -----------------------------------------------------------------------


def rows(a: np.ndarray) -> Rows:
    return list(zip(a["price"].tolist(), a["size"].tolist(), a["count"].tolist()))


def resting(a: np.ndarray, owners: bool = True) -> Rows:
    keys = ("order_id", "price", "size", "owner") if owners else ("order_id", "price", "size")
    return list(zip(*(a[k].tolist() for k in keys)))


def assert_fills(fills: np.ndarray, ref: Reference, *, stamped: bool) -> None:
    """Every fill equal to the reference's, in order; ``stamped``: with its request's ts_ns."""
    assert len(fills) == ref.n_fills
    got = np.stack(
        [fills[k].astype(np.int64) for k in ("taker_id", "maker_id", "price", "size")], 1
    )
    np.testing.assert_array_equal(got, ref.fills)
    np.testing.assert_array_equal(fills["taker_side"], ref.fill_sides)
    if (
        stamped
    ):  # submit_batch stamps each fill with its request's ts_ns; the per-call loop passes none
        np.testing.assert_array_equal(fills["ts_ns"], ref.fill_ts)


def assert_rejects(rejects: np.ndarray, ref: Reference) -> None:
    """Every rejection (none in this workload: markets never exhaust a side) equal."""
    got = list(zip(*(rejects[k].tolist() for k in ("order_id", "size", "reason"))))
    assert got == ref.rejects


def assert_book(book: Any, ref: Reference, *, owners: bool = True) -> None:
    """bbo, depth(10) and every resting order: for an OrderBook or an OrderBookView.
    A feed carries no owners: ``owners=False`` leaves them out."""
    assert book.bbo() == ref.final_bbo
    bids, asks = book.depth(DEPTH_N)
    assert (rows(bids), rows(asks)) == ref.final_depth
    for side in (BID, ASK):
        want = ref.orders[side] if owners else [o[:3] for o in ref.orders[side]]
        assert resting(book.orders(side), owners) == want
    assert len(book) == sum(len(v) for v in ref.orders.values())


def assert_engine_state(engine: crossbook.MatchingEngine, ref: Reference) -> None:
    assert_book(engine.book, ref)
    assert (engine.trade_count, engine.traded_volume) == (ref.n_fills, ref.traded_volume)
    engine.check_invariants()


# -- measuring ----------------------------------------------------------------------


def run_measured(
    benchmark: Any,
    target: Callable[..., Any],
    setup: Callable[[], tuple[tuple[Any, ...], dict[str, Any]]],
    *,
    n_orders: int,
    n_events: int | None = None,
    rounds: int = ROUNDS,
    goal: str | None = None,
) -> Any:
    """benchmark.pedantic plus orders/s (and events/s for a feed) in extra_info.

    Each round is also timed here, so that a disabled run (one call, no
    pytest-benchmark stats) still reports a rate. Before each round's setup the
    objects alive (the workload's lists, the reference, pytest's own) are frozen
    out of the cyclic GC, which would otherwise walk them again and again while a
    Python implementation allocates: the timed code pays for its own objects only.
    """
    seconds: list[float] = []

    def frozen_setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        return setup()

    def timed(*args: Any) -> Any:
        t0 = time.perf_counter()
        result = target(*args)
        seconds.append(time.perf_counter() - t0)
        return result

    try:
        result = benchmark.pedantic(
            timed, setup=frozen_setup, rounds=rounds, warmup_rounds=1 if rounds > 1 else 0
        )
    finally:
        gc.unfreeze()
    median = benchmark.stats.stats.median if benchmark.enabled else statistics.median(seconds)
    info: dict[str, Any] = {
        "n_orders": n_orders,
        "median_s": median,
        "orders_per_s": n_orders / median,
    }
    rate = info["orders_per_s"]
    if n_events is not None:
        info.update(n_events=n_events, events_per_s=n_events / median)
        rate = info["events_per_s"]
    if goal is not None:
        info.update(target_per_s=TARGETS[goal], meets_target=rate >= TARGETS[goal])
    benchmark.extra_info.update(info)
    return result


# -- benchmarks -------------------------------------------------------------------------


def engine_per_call(engine: crossbook.MatchingEngine, columns: tuple[list[int], ...]) -> Any:
    return engine, submit_per_call(engine, columns)


def test_submit_per_call(benchmark: Any, workload: L3Workload, reference: Reference) -> None:
    """MatchingEngine.submit()/cancel(), one Python call per order."""
    w = workload
    columns = w.columns()
    engine, n_fills = run_measured(
        benchmark, engine_per_call, lambda: ((fresh_engine(w), columns), {}),
        n_orders=w.n_orders, goal="submit_per_call",
    )  # fmt: skip
    assert n_fills == reference.n_fills
    assert_fills(engine.take_fills(), reference, stamped=False)
    assert_rejects(engine.take_rejects(), reference)
    assert_engine_state(engine, reference)


def engine_batch(engine: crossbook.MatchingEngine, requests: np.ndarray) -> Any:
    return engine, engine.submit_batch(requests)


def test_submit_batch(benchmark: Any, workload: L3Workload, reference: Reference) -> None:
    """MatchingEngine.submit_batch(): the whole workload in one call."""
    w = workload
    engine, (fills, rejects) = run_measured(
        benchmark, engine_batch, lambda: ((fresh_engine(w), w.requests), {}),
        n_orders=w.n_orders, goal="submit_batch",
    )  # fmt: skip
    assert_fills(fills, reference, stamped=True)
    assert_rejects(rejects, reference)
    assert_engine_state(engine, reference)


def feed_replay(book: crossbook.OrderBook, feed: np.ndarray, bbo_out: np.ndarray) -> Any:
    replay_feed(book, feed, bbo_out)
    return book


def test_apply_feed_bbo_out(benchmark: Any, workload: L3Workload, reference: Reference) -> None:
    """OrderBook.apply(feed, bbo_out): the order-level feed the workload produced
    (adds, executes, cancels) in one call, bbo recorded after every event."""
    w = workload
    bbo_out = np.zeros(len(w.feed), dtype=dtypes.BBO)  # touched here, not in a timed round

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        bbo_out.view(np.int64)[:] = -1  # a row the core failed to write shows up
        return (fresh_feed_book(w), w.feed, bbo_out), {}

    book = run_measured(
        benchmark,
        feed_replay,
        setup,
        n_orders=w.n_orders,
        n_events=len(w.feed),
        goal="apply_bbo_out",
    )
    assert book.anomaly_total == 0
    assert_book(book, reference, owners=False)  # the engine's end book: the fixture checked that
    book.check_invariants()
    trail = bbo_out.view(np.int64).reshape(-1, 4)
    (bp, bs), (ap, az) = reference.final_bbo
    assert trail[-1].tolist() == [bp, bs, ap, az]
    last = (w.feed["flags"] & dtypes.F_LAST) != 0  # the last event of each order
    assert np.count_nonzero(last) == w.n_orders  # every order of this workload moves the book
    np.testing.assert_array_equal(trail[last], reference.bbo_trail)


def test_python_matcher_baseline(
    benchmark: Any, workload: L3Workload, reference: Reference
) -> None:
    """The plain-Python price-time matcher (SortedDict + FIFO deques), the same
    per-call loop on the whole workload, for scale."""
    w = workload
    columns = w.columns()
    held: list[PyMatcher] = []

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        # The timed call returns only the fill count and the matcher lives here, so
        # that the previous round's million objects are freed before this round
        # instead of staying alive in pytest-benchmark's last result.
        held.clear()
        held.append(fresh_matcher(w))
        return (held[0], columns), {}

    n_fills = run_measured(
        benchmark, submit_per_call, setup,
        n_orders=w.n_orders, rounds=max(1, min(ROUNDS, 3)),  # ~10x slower; 3 rounds tell enough
    )  # fmt: skip
    m = held[0]
    assert n_fills == reference.n_fills and m.traded_volume == reference.traded_volume
    np.testing.assert_array_equal(np.array(m.fills, dtype=np.int64).reshape(-1, 4), reference.fills)
    assert m.rejects == reference.rejects
    assert m.bbo() == reference.final_bbo and m.depth(DEPTH_N) == reference.final_depth
    assert {side: m.orders(side) for side in (BID, ASK)} == reference.orders


def test_python_matcher_agrees_with_oracle(workload: L3Workload) -> None:
    """Not timed: the baseline (and so the reference) against the reference matcher
    of the property tests, every fill and the whole book, on the first orders."""
    n_fills = agrees_with_oracle(workload.initial, workload.requests[:ORACLE_SLICE])
    assert n_fills > 0


# -- memory ---------------------------------------------------------------------------------


def memory_orders(seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """MEMORY_ORDERS passive orders, half per side over the workload's 1,500 ticks
    behind the mid, shuffled: (ORDER_EVENT adds, ORDER_REQUEST limits)."""
    rng = np.random.default_rng(seed)
    n, half = MEMORY_ORDERS, MEMORY_ORDERS // 2
    side = np.repeat(np.array([BID, ASK], dtype=np.uint8), [half, n - half])
    ticks = rng.integers(1, 1_501, size=n)
    price = np.where(side == BID, 1_000_000 - ticks, 1_000_000 + ticks)
    size = rng.integers(1, 101, size=n)
    order = rng.permutation(n)
    events = np.zeros(n, dtype=dtypes.ORDER_EVENT)
    requests = np.zeros(n, dtype=dtypes.ORDER_REQUEST)
    for a in (events, requests):
        a["order_id"] = np.arange(1, n + 1)
        a["side"], a["price"], a["size"] = side[order], price[order], size[order]
    events["action"] = dtypes.ORDER_ADD
    requests["owner"], requests["type"], requests["tif"] = 1, dtypes.LIMIT, dtypes.GTC
    return events, requests


def expected_depth(a: np.ndarray) -> tuple[Rows, Rows]:
    out = []
    for side in (BID, ASK):
        s = a[a["side"] == side]
        prices, inverse, counts = np.unique(s["price"], return_inverse=True, return_counts=True)
        totals = np.bincount(inverse, weights=s["size"]).astype(np.int64)
        k = slice(None, -DEPTH_N - 1, -1) if side == BID else slice(None, DEPTH_N)
        out.append(list(zip(prices[k].tolist(), totals[k].tolist(), counts[k].tolist())))
    return out[0], out[1]


def build_order_book(events: np.ndarray) -> Any:
    before = rss_bytes()
    book = crossbook.OrderBook()
    book.apply(events)
    return book, rss_bytes() - before


def build_engine(requests: np.ndarray) -> Any:
    before = rss_bytes()
    engine = crossbook.MatchingEngine()
    fills, rejects = engine.submit_batch(requests)
    assert len(fills) == 0 and len(rejects) == 0
    return engine, rss_bytes() - before


@pytest.mark.parametrize("kind", ["order_book", "matching_engine"])
def test_memory_1m_resting_orders(benchmark: Any, kind: str) -> None:
    """1,000,000 resting orders added one by one (no reserve): memory_bytes() and RSS growth."""
    events, requests = memory_orders()
    arg, build = (events, build_order_book) if kind == "order_book" else (requests, build_engine)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        release_free_heap()
        return (arg,), {}

    # One round: only the first build in a process measures fresh pages.
    obj, rss_build = run_measured(benchmark, build, setup, n_orders=MEMORY_ORDERS, rounds=1)
    # The pools and the index grow by doubling: the copies they left behind are
    # free heap that glibc may keep until trimmed. What the book holds is the
    # growth once they are handed back.
    before = rss_bytes() - rss_build
    release_free_heap()
    rss_held = rss_bytes() - before
    book = obj if kind == "order_book" else obj.book
    per_order = obj.memory_bytes() / MEMORY_ORDERS
    benchmark.extra_info.update(
        resting_orders=MEMORY_ORDERS, memory_bytes=obj.memory_bytes(), memory_bytes_per_order=per_order,
        rss_growth_per_order=rss_held / MEMORY_ORDERS, rss_growth_untrimmed_per_order=rss_build / MEMORY_ORDERS,
        target_bytes_per_order=MEMORY_TARGET, meets_target=per_order <= MEMORY_TARGET,
    )  # fmt: skip
    assert len(book) == MEMORY_ORDERS
    bids, asks = expected_depth(events)
    got_bids, got_asks = book.depth(DEPTH_N)
    assert (rows(got_bids), rows(got_asks)) == (bids, asks)
    assert book.bbo() == ((bids[0][0], bids[0][1]), (asks[0][0], asks[0][1]))
    obj.check_invariants()
    assert per_order <= MEMORY_TARGET, f"memory_bytes() = {per_order:.1f} bytes per resting order"
    # RSS is noisier (other allocations, allocators that do not trim): a sanity
    # bound that catches memory_bytes() leaving out something big.
    assert rss_held < 2 * MEMORY_TARGET * MEMORY_ORDERS, f"RSS grew {rss_held:,} bytes"
