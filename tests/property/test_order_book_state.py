"""The C++ OrderBook and the plain-Python reference, driven by the same feed operations.

Both anomaly policies, every kind of bad input (unknown and duplicate ids,
oversized executes and cancels, sizes <= 0, negative prices, bad sides and
actions, level totals past int64), direct calls and apply() batches. After
every step: the whole book (every order, in queue order, on both sides), bbo,
depth, levels, queue positions and anomaly counts agree; an L2Book fed with
the book's level events holds the same levels; the core's invariants hold.

A shrunk failure is kept as a regression: RuleBasedStateMachine has no @example, so
replay its step sequence as a plain deterministic test in
tests/property/test_order_book_state_regressions.py (the form: test_units_regressions.py).
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from crossbook import InvalidInputError, L2Book, OrderBook, dtypes
from tests.reference.ref_order_book import INT64_MAX, RefFeedError, RefOrderBook

WINDOW = 4096  # the core's level-window width: prices are drawn across its edges on purpose
BASE = 1_000_000

ids = st.integers(1, 40)
sides = st.sampled_from([1, 2])
bad_sides = st.sampled_from([0, 3, 255])
sizes = st.one_of(st.integers(1, 50), st.integers(1, 50), st.sampled_from([0, -1, INT64_MAX, INT64_MAX - 5]))
owners = st.integers(0, 3)


def prices() -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(BASE - 8, BASE + 8),
        st.integers(BASE - 2 * WINDOW, BASE + 2 * WINDOW),
        st.sampled_from([0, -1, INT64_MAX, BASE + WINDOW, BASE - WINDOW]),
    )


class OrderBookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = OrderBook()
        self.ref = RefOrderBook()
        self.l2 = L2Book()

    @initialize(policy=st.sampled_from(["raise", "count"]))
    def start(self, policy: str) -> None:
        self.book = OrderBook(price_exp=2, size_exp=4, on_anomaly=policy, track_levels=True)
        self.ref = RefOrderBook(policy=policy)

    def same_outcome(self, call, ref_call) -> None:  # type: ignore[no-untyped-def]
        """Both raise the same anomaly, or both return the same value."""
        try:
            want = ref_call()
        except RefFeedError as exc:
            with pytest.raises(InvalidInputError) as got:
                call()
            assert got.value.anomaly == exc.anomaly  # type: ignore[attr-defined]
            assert got.value.order_id == exc.order_id  # type: ignore[attr-defined]
            return
        assert call() == want

    def part(self, order_id: int, fraction: tuple[int, int]) -> int:
        """num/den of the order's size, at least 1, at most INT64_MAX."""
        return min(INT64_MAX, max(1, self.ref.orders[order_id].size * fraction[0] // fraction[1]))

    def live_id(self, data: st.DataObject) -> int:
        return data.draw(st.sampled_from(sorted(self.ref.orders)), label="live id")

    @rule(order_id=ids, side=sides, price=st.integers(BASE - 2, BASE + 2), size=st.integers(1, 20),
          owner=owners)
    def add_near(self, order_id: int, side: int, price: int, size: int, owner: int) -> None:
        """Valid adds on a few levels: queues several orders deep."""
        self.same_outcome(lambda: self.book.add(order_id, side, price, size, owner),
                          lambda: self.ref.add(order_id, side, price, size, owner))

    @rule(order_id=ids, side=st.one_of(sides, sides, bad_sides), price=prices(), size=sizes, owner=owners)
    def add(self, order_id: int, side: int, price: int, size: int, owner: int) -> None:
        self.same_outcome(lambda: self.book.add(order_id, side, price, size, owner),
                          lambda: self.ref.add(order_id, side, price, size, owner))

    @rule(order_id=ids, size=st.one_of(st.none(), sizes))
    def cancel(self, order_id: int, size: int | None) -> None:
        self.same_outcome(lambda: self.book.cancel(order_id, size), lambda: self.ref.cancel(order_id, size))

    @precondition(lambda self: len(self.ref) > 0)
    @rule(data=st.data(), fraction=st.sampled_from([None, (1, 2), (1, 1), (3, 2)]))
    def cancel_live(self, data: st.DataObject, fraction: tuple[int, int] | None) -> None:
        oid = self.live_id(data)
        size = None if fraction is None else self.part(oid, fraction)
        self.same_outcome(lambda: self.book.cancel(oid, size), lambda: self.ref.cancel(oid, size))

    @rule(data=st.data(), order_id=ids, size=sizes,
          fraction=st.sampled_from([None, (1, 2), (1, 1), (2, 1)]))
    def execute(self, data: st.DataObject, order_id: int, size: int,
                fraction: tuple[int, int] | None) -> None:
        if fraction is not None and self.ref.orders:  # a live order, part of it, all, or too much
            order_id = self.live_id(data)
            size = self.part(order_id, fraction)
        self.same_outcome(lambda: self.book.execute(order_id, size),
                          lambda: self.ref.execute(order_id, size))

    @rule(order_id=ids, price=prices(), size=sizes)
    def modify(self, order_id: int, price: int, size: int) -> None:
        self.same_outcome(lambda: self.book.modify(order_id, price, size),
                          lambda: self.ref.modify(order_id, price, size))

    @precondition(lambda self: len(self.ref) > 0)
    @rule(data=st.data(), price_move=st.sampled_from([0, 0, 0, 1, -1]), size_change=st.sampled_from([-1, 0, 1]))
    def modify_live(self, data: st.DataObject, price_move: int, size_change: int) -> None:
        """Same price and a size that shrinks, holds or grows: the queue-priority rule."""
        oid = self.live_id(data)
        o = self.ref.orders[oid]
        price, size = min(INT64_MAX, o.price + price_move), min(INT64_MAX, o.size + size_change)
        self.same_outcome(lambda: self.book.modify(oid, price, size), lambda: self.ref.modify(oid, price, size))

    @rule(side=st.sampled_from([None, 1, 2]))
    def clear(self, side: int | None) -> None:
        self.book.clear(side)
        self.ref.clear(side)

    @rule(events=st.lists(st.tuples(
        st.sampled_from([0, 1, 2, 3]), st.sampled_from([1] * 8 + [2, 2, 3, 3, 5, 5, 4, 0, 6]), ids,
        st.integers(BASE - 6, BASE + 6), st.one_of(st.integers(0, 30), st.sampled_from([-1, INT64_MAX]))),
        max_size=25), with_bbo=st.booleans())
    def apply_batch(self, events: list[tuple[int, int, int, int, int]], with_bbo: bool) -> None:
        arr = np.zeros(len(events), dtype=dtypes.ORDER_EVENT)
        for i, (side, action, oid, price, size) in enumerate(events):
            arr[i] = (i, i + 1, oid, price, size, side, action, dtypes.F_LAST, 0)
        want: list[tuple[int, int, int, int]] = []  # bbo rows until the first error, if any
        failed_at = None
        for i, (side, action, oid, price, size) in enumerate(events):
            try:
                self.ref.apply_event(side, action, oid, price, size)
            except RefFeedError as exc:
                failed_at = (i, exc)
                break
            bid, ask = self.ref.bbo()
            want.append((*(bid or (0, 0)), *(ask or (0, 0))))
        bbo = np.zeros(len(events), dtype=dtypes.BBO) if with_bbo else None
        if failed_at is None:
            self.book.apply(arr, bbo)
        else:
            with pytest.raises(InvalidInputError) as got:
                self.book.apply(arr, bbo)
            i, exc = failed_at
            assert (got.value.anomaly, got.value.event_index) == (exc.anomaly, i)  # type: ignore[attr-defined]
        if bbo is not None:
            assert [tuple(r) for r in bbo[: len(want)].tolist()] == want

    @rule()
    def copy_roundtrip(self) -> None:
        self.book = copy.copy(self.book) if len(self.ref) % 2 else pickle.loads(pickle.dumps(self.book))

    @invariant()
    def agree(self) -> None:
        b, ref = self.book, self.ref
        b.check_invariants()
        assert len(b) == len(ref)
        for side in (1, 2):
            assert [tuple(r) for r in b.orders(side).tolist()] == ref.side_orders(side)
            assert [tuple(r) for r in b.levels(side).tolist()] == ref.side_levels(side)
            assert b.level_count(side) == len(ref.side_levels(side))
        assert b.bbo() == ref.bbo()
        bids, asks = b.depth(3)
        assert [tuple(r) for r in bids.tolist()] == ref.side_levels(1)[:3]
        assert [tuple(r) for r in asks.tolist()] == ref.side_levels(2)[:3]
        for oid in list(ref.orders)[:10]:
            assert b.queue_position(oid) == ref.queue_position(oid)
            o = ref.orders[oid]
            assert tuple(b.order(oid) or ()) == (o.side, o.price, o.size, o.owner)
        assert b.order(999) is None and b.queue_position(999) is None
        assert b.anomalies == ref.anomalies
        assert b.anomaly_total == sum(ref.anomalies.values())
        self.follow_levels()

    def follow_levels(self) -> None:
        """The level events, fed to an L2Book, rebuild the book's levels (size and count)."""
        self.l2.apply(self.book.level_events())
        for side in (1, 2):
            assert [tuple(r) for r in self.l2.levels(side).tolist()] == self.ref.side_levels(side)
        assert self.l2.unknown_deletes == 0


OrderBookMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestOrderBookMachine = OrderBookMachine.TestCase
