"""The C++ MatchingEngine and the plain-Python reference matcher, driven by the same requests.

Random engine controls (self-trade mode, size and notional limits, price
band, reference following trades, volatility halt), then random order flow:
limit and market orders with every time in force, post-only, every
self-trade mode, cancels, modifies, halts, kills, releases, new reference
prices, clears, batches, and bad input of every kind. After every step: every
fill and every rejection, each request's return value, the whole book (every
order in queue order), bbo, levels, the tape and the controls agree; an
L2Book fed with the engine's level events holds the same levels; the core's
invariants (never crossed included) hold.

A shrunk failure is kept as a regression: RuleBasedStateMachine has no @example, so
replay its step sequence as a plain deterministic test in
tests/property/test_matching_engine_state_regressions.py (the form: test_units_regressions.py).
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from crossbook import L2Book, MatchingEngine, OrderBookView, dtypes
from tests.reference.ref_matching_engine import (
    INT64_MAX,
    LIMIT,
    MARKET,
    POST_ONLY,
    RefMatchingEngine,
    Request,
)

OWNERS = (1, 2, 3)
ids = st.integers(1, 30)
owners = st.sampled_from(OWNERS)
prices = st.one_of(st.integers(96, 104), st.integers(96, 104), st.integers(90, 110),
                   st.sampled_from([-1, 0, INT64_MAX]))
sizes = st.one_of(st.integers(1, 30), st.integers(1, 30), st.sampled_from([0, -1, 60, INT64_MAX]))
stps = st.one_of(st.sampled_from([0, 0, 1, 2, 3, 4, 5]), st.just(6))
# One field at a time made bad, so that each check is reached on its own.
BAD_FIELDS = {
    "side": st.sampled_from([0, 3]), "type": st.sampled_from([0, 5, 255]),
    "tif": st.sampled_from([0, 4]), "stp": st.just(6), "flags": st.sampled_from([1, 2, 3]),
    "price": st.sampled_from([-1, 0, 90, 110, INT64_MAX]), "size": st.sampled_from([0, -1, 60, INT64_MAX]),
}


@st.composite
def new_orders(draw: st.DrawFn) -> Request:
    """A valid limit or market order most of the time, else one with a bad or extreme field."""
    order_type = draw(st.sampled_from([LIMIT, LIMIT, LIMIT, MARKET]))
    tif = draw(st.sampled_from([1, 1, 1, 2, 3]))
    post_only = order_type == LIMIT and tif == 1 and draw(st.integers(0, 6)) == 0
    r = Request(
        order_id=draw(ids), owner=draw(owners), side=draw(st.sampled_from([1, 2])),
        price=draw(st.integers(96, 104)), size=draw(st.one_of(st.integers(1, 30), st.just(25))),
        type=order_type, tif=tif,
        stp=draw(st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5])), flags=POST_ONLY if post_only else 0,
    )
    if draw(st.integers(0, 4)) == 0:
        field = draw(st.sampled_from(sorted(BAD_FIELDS)))
        setattr(r, field, draw(BAD_FIELDS[field]))
    return r


cancels = st.builds(Request, order_id=ids, owner=owners, type=st.just(3),
                    size=st.sampled_from([0, 0, 1, 5, -1]))
modifies = st.builds(Request, order_id=ids, owner=owners, type=st.just(4), price=prices, size=sizes,
                     stp=stps, flags=st.sampled_from([0, 0, POST_ONLY, 2]))


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = MatchingEngine()
        self.ref = RefMatchingEngine()
        self.l2 = L2Book()
        self.ts = 0

    @initialize(
        stp=st.integers(1, 5), max_order_size=st.sampled_from([None, None, 40]),
        max_notional=st.sampled_from([None, 2_500, 2**70]),  # 2,500 = 100 x 25: on the edge
        band=st.sampled_from([None, None, 300]),
        reference=st.sampled_from([None, 100]), follows=st.booleans(),
        halt=st.sampled_from([None, None, None, (500, 0), (500, 20), (1, 1_000)]),
    )
    def start(self, stp: int, max_order_size: int | None, max_notional: int | None,
              band: int | None, reference: int | None, follows: bool,
              halt: tuple[int, int] | None) -> None:
        self.engine = MatchingEngine(
            price_exp=2, stp=stp, max_order_size=max_order_size, max_notional=max_notional,
            price_band_bps=band, reference_price=reference, reference_follows_trades=follows,
            halt_move_bps=None if halt is None else halt[0],
            halt_window_ns=None if halt is None else halt[1], track_levels=True,
        )
        self.ref = RefMatchingEngine(
            stp=stp, max_order_size=max_order_size or 0, max_notional=max_notional or 0,
            band_bps=band or 0, reference_price=reference, reference_follows_trades=follows,
            halt_move_bps=0 if halt is None else halt[0], halt_window_ns=0 if halt is None else halt[1],
        )

    def tick(self, dt: int) -> int:
        self.ts += dt  # request times never go backwards (the halt window assumes so)
        return self.ts

    def expect(self, got: int | bool, want: bool, fills_before: int) -> None:
        """Compares a per-call return value: fills made (submit, modify) or accepted (cancel)."""
        if isinstance(got, bool):
            assert got == want
        else:
            assert got == len(self.ref.fills) - fills_before

    def live(self, data: st.DataObject) -> tuple[int, int, int, int]:
        rows = self.ref.side_orders(1) + self.ref.side_orders(2)
        return data.draw(st.sampled_from(rows), label="live order")

    # ------------------------------------------------------------ requests

    @rule(r=new_orders(), dt=st.integers(0, 3))
    def submit(self, r: Request, dt: int) -> None:
        self.submit_one(r, dt)

    @rule(r=new_orders(), dt=st.integers(0, 3))
    def submit_more(self, r: Request, dt: int) -> None:
        """A second rule, so that new orders are drawn twice as often as anything else."""
        self.submit_one(r, dt)

    def submit_one(self, r: Request, dt: int) -> None:
        r.ts_ns = self.tick(dt)
        if r.flags & ~POST_ONLY:
            r.flags = 0  # submit() can only say post_only; other flag bits go through batches
        before = len(self.ref.fills)
        want = self.ref.submit(r)
        got = self.engine.submit(r.order_id, r.owner, r.side, r.price, r.size, type=r.type, tif=r.tif,
                                 post_only=bool(r.flags), stp=r.stp, ts_ns=r.ts_ns)
        if r.type in (3,):  # submit() with type CANCEL runs a cancel: it reports no fills
            assert got == 0
        else:
            self.expect(got, want, before)

    @precondition(lambda self: self.ref.side_orders(1) or self.ref.side_orders(2))
    @rule(data=st.data(), how=st.sampled_from(["all", "part", "over", "negative", "stranger"]),
          dt=st.integers(0, 3))
    def cancel(self, data: st.DataObject, how: str, dt: int) -> None:
        oid, _, size, owner = self.live(data)
        amount = {"all": 0, "part": max(1, size // 2), "over": min(INT64_MAX, size + 1), "negative": -1,
                  "stranger": 0}[how]
        if how == "stranger":
            owner = owner % 3 + 1
        r = Request(oid, owner, type=3, size=amount, ts_ns=self.tick(dt))
        self.expect(self.engine.cancel(oid, owner, amount, r.ts_ns), self.ref.submit(r), 0)

    @precondition(lambda self: self.ref.side_orders(1) or self.ref.side_orders(2))
    @rule(data=st.data(), price_move=st.sampled_from([0, 0, 0, 1, -1, 3, -3, 8, -8]),
          size_change=st.sampled_from([-2, 0, 0, 3, 40]), post_only=st.booleans(), stp=stps,
          dt=st.integers(0, 3), raw=st.one_of(st.none(), st.tuples(prices, sizes)))
    def modify(self, data: st.DataObject, price_move: int, size_change: int, post_only: bool,
               stp: int, dt: int, raw: tuple[int, int] | None) -> None:
        oid, price, size, owner = self.live(data)
        if raw is None:
            raw = (min(INT64_MAX, price + price_move), min(INT64_MAX, max(1, size + size_change)))
        price, size = raw
        r = Request(oid, owner, price=price, size=size, type=4, stp=stp,
                    flags=POST_ONLY if post_only else 0, ts_ns=self.tick(dt))
        before = len(self.ref.fills)
        want = self.ref.submit(r)
        got = self.engine.modify(oid, owner, price, size, r.ts_ns, post_only=post_only, stp=stp)
        self.expect(got, want, before)

    @rule(reqs=st.lists(st.one_of(new_orders(), new_orders(), new_orders(), cancels, modifies),
                        max_size=20),
          dt=st.integers(0, 2))
    def batch(self, reqs: list[Request], dt: int) -> None:
        arr = np.zeros(len(reqs), dtype=dtypes.ORDER_REQUEST)
        for i, r in enumerate(reqs):
            r.ts_ns = self.tick(dt)
            arr[i] = (r.ts_ns, r.order_id, r.owner, r.price, r.size, r.side, r.type, r.tif, r.stp,
                      r.flags, 0)
        fills, rejects = self.engine.submit_batch(arr)
        base_f, base_r = len(self.ref.fills), len(self.ref.rejects)
        for r in reqs:
            self.ref.submit(r)
        assert [tuple(f) for f in self.rows(fills, "fill")] == self.ref.fills[base_f:]
        assert [tuple(f) for f in self.rows(rejects, "reject")] == self.ref.rejects[base_r:]
        del self.ref.fills[base_f:], self.ref.rejects[base_r:]

    # ------------------------------------------------------------ controls

    @rule(resume=st.sampled_from([True, True, False]))
    def halt_or_resume(self, resume: bool) -> None:
        if resume:
            self.engine.resume()
            self.ref.resume()
        else:
            self.engine.halt()
            self.ref.halted = True

    @rule(owner=owners, release=st.sampled_from([True, True, True, False]))
    def kill_or_release(self, owner: int, release: bool) -> None:
        if release:
            self.engine.release(owner)
            self.ref.killed.discard(owner)
        else:
            assert self.engine.kill(owner, self.ts) == self.ref.kill(owner, self.ts)

    @rule(price=st.one_of(st.none(), st.integers(95, 105)))
    def set_reference(self, price: int | None) -> None:
        self.engine.reference_price = price
        self.ref.reference_price = price

    @rule()
    def clear(self) -> None:
        self.engine.clear()
        self.ref.clear()

    @rule()
    def copy_engine(self) -> None:
        self.engine = self.engine.copy()

    # ------------------------------------------------------------ checks

    @staticmethod
    def rows(arr: np.ndarray, kind: str) -> list[tuple[int, ...]]:
        if kind == "fill":
            cols = ("ts_ns", "taker_id", "maker_id", "price", "size", "taker_side")
        else:
            cols = ("ts_ns", "order_id", "size", "reason")
        return [tuple(int(v) for v in row) for row in zip(*(arr[c].tolist() for c in cols))]

    @invariant()
    def agree(self) -> None:
        e, ref = self.engine, self.ref
        e.check_invariants()
        assert self.rows(e.take_fills(), "fill") == ref.fills
        assert self.rows(e.take_rejects(), "reject") == ref.rejects
        ref.fills.clear()
        ref.rejects.clear()
        book = e.book
        assert isinstance(book, OrderBookView)
        for side in (1, 2):
            assert [tuple(r) for r in book.orders(side).tolist()] == ref.side_orders(side)
            assert [tuple(r) for r in book.levels(side).tolist()] == ref.side_levels(side)
        assert book.bbo() == ref.bbo()
        assert len(book) == len(ref.side_orders(1)) + len(ref.side_orders(2))
        assert (e.halted, e.reference_price, e.last_trade_price, e.trade_count, e.traded_volume) == (
            ref.halted, ref.reference_price, ref.last_trade_price, ref.trade_count, ref.traded_volume)
        assert [e.killed(o) for o in OWNERS] == [o in ref.killed for o in OWNERS]
        self.l2.apply(e.level_events())
        for side in (1, 2):
            assert [tuple(r) for r in self.l2.levels(side).tolist()] == ref.side_levels(side)


EngineMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestEngineMachine = EngineMachine.TestCase
