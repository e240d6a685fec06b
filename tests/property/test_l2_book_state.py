"""The C++ L2Book and the plain-Python reference, driven by the same operations.

After every step: bbo, depth, every level of both sides, the unknown-delete
count and the analytics agree, and the core's own invariants hold.

A shrunk failure is kept as a regression: RuleBasedStateMachine has no @example, so
replay its step sequence as a plain deterministic test in
tests/property/test_l2_book_state_regressions.py (the form: test_units_regressions.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from crossbook import L2Book, Side, dtypes
from tests.reference.ref_l2_book import INT64_MAX, RefL2Book

WINDOW = 4096  # the core's default ladder width; prices are drawn around its edges on purpose

sides = st.sampled_from([Side.BID, Side.ASK])
sizes = st.integers(min_value=1, max_value=INT64_MAX)
small_sizes = st.integers(min_value=1, max_value=1_000)


def garbage(dtype: np.dtype, rows: int) -> np.ndarray:
    return np.full(rows * dtype.itemsize, 0xAB, np.uint8).view(dtype)


def assert_features(row: np.void, want: tuple[int | float, ...]) -> None:
    """A BOOK_FEATURES row against the reference's: integers exact, the two ratios to
    ~1 ulp (the core divides in long double), NaN where undefined, reserved zero."""
    got = row.tolist()
    assert got[-1] == 0
    assert [got[i] for i in (0, 1, 4, 5, 6, 7)] == [want[i] for i in (0, 1, 4, 5, 6, 7)]
    for g, w in zip(got[2:4], want[2:4]):
        assert (math.isnan(g) and math.isnan(w)) or g == pytest.approx(w, rel=1e-15, abs=0)


class L2BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = L2Book(price_exp=2, size_exp=8)
        self.ref = RefL2Book()
        self.anchor = 1_000_000  # where "near the touch" currently is

    # Adversarial prices: near an anchor that jumps, around the ladder window's
    # edges, and at the extremes of the int64 range.
    def prices(self) -> st.SearchStrategy[int]:
        a = self.anchor
        return st.one_of(
            st.integers(max(0, a - 64), min(INT64_MAX, a + 64)),
            st.integers(max(0, a - 2 * WINDOW), min(INT64_MAX, a + 2 * WINDOW)),
            st.sampled_from([0, 1, WINDOW - 1, WINDOW, INT64_MAX, INT64_MAX - 1, INT64_MAX - WINDOW]),
            st.integers(0, INT64_MAX),
        )

    @initialize(tick=st.sampled_from([1, 1, 2, 5, 100, 10**6, 2**40]))
    def start(self, tick: int) -> None:
        # The tick is only a hint: off-grid prices below must refine it, never be refused.
        self.book = L2Book(price_exp=2, size_exp=8, tick=tick)
        self.check()

    @rule(tick=st.one_of(st.sampled_from([1, 3, 10, 1000, 10**6]), st.integers(1, 2**40)))
    def set_tick(self, tick: int) -> None:
        self.book.set_tick(tick)

    @rule(side=sides, data=st.data(), size=st.one_of(small_sizes, sizes))
    def set_level(self, side: Side, data: st.DataObject, size: int) -> None:
        price = data.draw(self.prices(), label="price")
        self.book.update(side, price, size)
        self.ref.update(side, price, size)

    @rule(side=sides, data=st.data())
    def delete_level(self, side: Side, data: st.DataObject) -> None:
        price = data.draw(self.prices(), label="price")
        assert self.book.update(side, price, 0) == self.ref.update(side, price, 0)

    @precondition(lambda self: len(self.ref) > 0)
    @rule(side=sides, data=st.data())
    def delete_existing(self, side: Side, data: st.DataObject) -> None:
        live = sorted(self.ref.levels[side])
        if not live:
            return
        price = data.draw(st.sampled_from(live), label="price")
        assert self.book.update(side, price, 0) and self.ref.update(side, price, 0)

    @precondition(lambda self: len(self.ref) > 0)
    @rule(side=sides, data=st.data())
    def delete_best(self, side: Side, data: st.DataObject) -> None:
        lv = self.ref.side_levels(side)
        if lv:
            self.book.update(side, lv[0][0], 0)
            self.ref.update(side, lv[0][0], 0)

    @rule(target_price=st.integers(0, INT64_MAX))
    def jump(self, target_price: int) -> None:
        self.anchor = target_price

    @rule(side=sides, start=st.integers(0, INT64_MAX), n=st.integers(1, 300), step=st.integers(1, 40))
    def ladder_run(self, side: Side, start: int, n: int, step: int) -> None:
        """Many levels in a row: fills the window and spills into the far store."""
        start = min(start, INT64_MAX - n * step)
        for k in range(n):
            self.book.update(side, start + k * step, k + 1, k)
            self.ref.update(side, start + k * step, k + 1, k)

    @rule(events=st.lists(
        st.tuples(st.sampled_from([0, 1, 2]), st.sampled_from([1, 2, 3, 4]),
                  st.one_of(st.integers(0, 12), st.integers(0, 3 * WINDOW)),  # a few prices recur
                  st.integers(0, 50), st.integers(0, 9)),
        max_size=40), n=st.integers(1, 6), record=st.sampled_from(["bbo", "depth", "features", "all"]))
    def apply_batch(self, events: list[tuple[int, int, int, int, int]], n: int, record: str) -> None:
        arr = np.zeros(len(events), dtype=dtypes.LEVEL_EVENT)
        for i, (side, action, price, size, count) in enumerate(events):
            side = side if action == dtypes.CLEAR else (side or 1)
            arr[i] = (0, 0, min(self.anchor + price, INT64_MAX), size, count, side, action, 0)
        bbo = np.zeros(len(events), dtype=dtypes.BBO)
        # Garbage in the outputs: every byte of a recorded row must be written.
        depth = garbage(dtypes.DEPTH, len(events) * 2 * n).reshape(len(events), 2, n)
        features = garbage(dtypes.BOOK_FEATURES, len(events))
        kwargs = {"depth": {"depth_out": depth}, "features": {"features_out": features}, "bbo": {},
                  "all": {"depth_out": depth, "features_out": features}}[record]
        self.book.apply(arr, bbo, **kwargs, n=n)
        for i, e in enumerate(arr):
            before = self.ref.bbo()
            self.ref.apply_event(int(e["side"]), int(e["action"]), int(e["price"]),
                                 int(e["size"]), int(e["count"]))
            bid, ask = self.ref.bbo()
            assert (bbo[i]["bid_price"], bbo[i]["bid_size"]) == (bid or (0, 0))
            assert (bbo[i]["ask_price"], bbo[i]["ask_size"]) == (ask or (0, 0))
            if "depth_out" in kwargs:
                want = np.zeros((2, n), dtypes.DEPTH)  # zeroed, padding included
                for side, rows in enumerate(self.ref.padded_depth(n)):
                    for j, row in enumerate(rows):
                        want[side, j] = row
                assert depth[i].tobytes() == want.tobytes()
            if "features_out" in kwargs:
                assert_features(features[i], self.ref.features(before, n))

    @rule()
    def clear(self) -> None:
        self.book.clear()
        self.ref.levels = {Side.BID: {}, Side.ASK: {}}

    @rule(bids=st.lists(st.tuples(st.integers(0, INT64_MAX), small_sizes), max_size=30, unique_by=lambda t: t[0]),
          asks=st.lists(st.tuples(st.integers(0, INT64_MAX), small_sizes), max_size=30, unique_by=lambda t: t[0]))
    def load_snapshot(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        self.book.load_snapshot(bids, asks)
        self.ref.levels = {Side.BID: {p: (s, 0) for p, s in bids},
                           Side.ASK: {p: (s, 0) for p, s in asks}}

    @rule(side=sides, seed=st.integers(0, 2**32 - 1))
    def deep_churn(self, side: Side, seed: int) -> None:
        """Thousands of updates near, but mostly beyond, the default ladder window:
        enough for the book to widen its window mid-stream (as Binance's diff stream does)."""
        rng = np.random.default_rng(seed)
        touch = max(5 * WINDOW, min(self.anchor, INT64_MAX - 5 * WINDOW))
        sign = -1 if side == Side.BID else 1
        prices = touch + sign * rng.integers(0, 3 * WINDOW, 4500)
        sizes = rng.integers(0, 3, 4500)
        for p, q in zip(prices.tolist(), sizes.tolist()):
            self.book.update(side, p, q)
            self.ref.update(side, p, q)

    @rule(n=st.integers(0, 40))
    def truncate(self, n: int) -> None:
        assert self.book.truncate(n) == self.ref.truncate(n)

    @rule()
    def copy_roundtrip(self) -> None:
        self.book = self.book.copy()

    @invariant()
    def check(self) -> None:
        self.book.check_invariants()
        tick = self.book.tick
        assert all(p % tick == 0 for side in self.ref.levels.values() for p in side)
        assert self.book.bbo() == self.ref.bbo()
        assert len(self.book) == len(self.ref)
        assert self.book.unknown_deletes == self.ref.unknown_deletes
        assert self.book.is_crossed() == self.ref.is_crossed()
        bids, asks = self.book.depth(5)
        rb, ra = self.ref.depth(5)
        assert [tuple(r) for r in bids.tolist()] == rb
        assert [tuple(r) for r in asks.tolist()] == ra
        for side in (Side.BID, Side.ASK):
            assert [tuple(r) for r in self.book.levels(side).tolist()] == self.ref.side_levels(side)
        want_imbalance = self.ref.imbalance(3)
        # The core divides in long double: equal to the correctly rounded quotient to ~1 ulp.
        assert self.book.imbalance(3) == (
            None if want_imbalance is None else pytest.approx(want_imbalance, rel=1e-15, abs=1e-300))
        for side in (Side.BID, Side.ASK):
            total = sum(s for _, s, _ in self.ref.side_levels(side))
            size = min(INT64_MAX, max(1, total // 2 + 1))  # a side's total can exceed int64
            assert tuple(self.book.cost_to_fill(side, size)) == self.ref.cost_to_fill(side, size)


L2BookMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestL2BookMachine = L2BookMachine.TestCase
