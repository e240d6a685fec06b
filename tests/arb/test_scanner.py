"""The streaming scanner core: lifetimes on hand-built sequences, and a state
machine checking that it agrees with best_opportunity after every step."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from crossbook import dtypes
from crossbook.arb import scanner as scanner_mod
from crossbook.arb.opportunity import best_opportunity_cbps
from crossbook.arb.scanner import CloseReason, EventKind, OpportunityEvent, ScanCore

BID, ASK = 1, 2


def lv(*rows: tuple[int, int, int]) -> np.ndarray:
    """LEVEL_EVENT rows (side, price, size); size 0 removes the level."""
    out = np.zeros(len(rows), dtype=dtypes.LEVEL_EVENT)
    for i, (side, price, size) in enumerate(rows):
        out[i] = (0, 0, price, size, 0, side, dtypes.UPDATE, 0)
    if len(out):
        out["flags"][-1] = dtypes.F_LAST
    return out


def clear() -> np.ndarray:
    out = np.zeros(1, dtype=dtypes.LEVEL_EVENT)
    out["action"] = dtypes.CLEAR
    return out


def kinds(events: Sequence[OpportunityEvent]) -> list[tuple[str, str, int, int]]:
    return [(e.kind.name, e.reason.name, e.buy_book, e.sell_book) for e in events]


def two_books(max_age_ns: int | None = 100) -> ScanCore:
    core = ScanCore(0, 0, max_age_ns)
    core.add_book("a", 0, latency_ns=10)
    core.add_book("b", 0, latency_ns=4)
    return core


def test_lifecycle_opened_updated_closed() -> None:
    core = two_books()
    assert core.apply(0, lv((ASK, 100, 5)), 1) == []
    ev = core.apply(1, lv((BID, 103, 3)), 2)
    assert kinds(ev) == [("OPENED", "NONE", 0, 1)]
    e = ev[0]
    assert (e.ts_ns, e.open_ts_ns, e.duration_ns, e.buy, e.sell) == (2, 2, 0, "a", "b")
    assert e.opportunity.size == 3 and e.peak_size == 3 and e.latency_ns == 10
    assert not e.outlived_latency
    ev = core.apply(1, lv((BID, 104, 1)), 5)
    assert kinds(ev) == [("UPDATED", "NONE", 0, 1)]
    assert ev[0].opportunity.size == 4 and ev[0].peak_size == 4
    assert ev[0].peak_edge == ev[0].opportunity.edge > e.opportunity.edge
    ev = core.apply(1, lv((BID, 104, 0)), 6)  # back to 3 at 103: smaller, peaks kept
    assert kinds(ev) == [("UPDATED", "NONE", 0, 1)]
    assert ev[0].opportunity.size == 3 and ev[0].peak_size == 4
    ev = core.apply(1, lv((BID, 103, 0), (BID, 99, 7)), 12)
    assert kinds(ev) == [("CLOSED", "GONE", 0, 1)]
    assert (ev[0].ts_ns, ev[0].duration_ns, ev[0].outlived_latency) == (12, 10, True)
    assert ev[0].opportunity.size == 3  # the last state before it closed
    assert core.open_count == 0 and core.open_opportunity(0, 1) is None


def test_irrelevant_updates_are_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    core = two_books(None)
    core.apply(0, lv((ASK, 100, 5)), 1)
    core.apply(1, lv((BID, 103, 3)), 2)
    calls = []
    real = scanner_mod.best_opportunity_cbps

    def spy(*a: object) -> object:
        calls.append(a)
        return real(*a)  # type: ignore[arg-type]

    monkeypatch.setattr(scanner_mod, "best_opportunity_cbps", spy)
    assert core.apply(0, lv((ASK, 105, 9)), 3) == []  # above the bid: cannot be taken
    assert core.apply(0, lv((BID, 50, 9)), 4) == []  # a bid far below b's ask (none)
    assert core.apply(1, lv((ASK, 200, 1)), 5) == []
    assert calls == []
    assert core.apply(0, lv((ASK, 102, 1)), 6) == []  # walked (102 < 103): same trade
    assert core.apply(0, lv((ASK, 99, 1)), 7)[0].kind is EventKind.UPDATED
    assert len(calls) == 2


def test_unsynced_and_back() -> None:
    core = two_books(None)
    core.apply(0, lv((ASK, 100, 5)), 1)
    core.apply(1, lv((BID, 103, 3)), 2)
    ev = core.set_synced(1, False, 7)
    assert kinds(ev) == [("CLOSED", "UNSYNCED", 0, 1)] and ev[0].ts_ns == 7
    assert core.apply(1, lv((BID, 104, 1)), 8) == []  # book kept, but not trusted
    assert core.open_opportunity(0, 1) is None
    ev = core.set_synced(1, True, 9)
    assert kinds(ev) == [("OPENED", "NONE", 0, 1)] and ev[0].opportunity.size == 4


def test_stale_books_close_at_their_expiry() -> None:
    core = two_books(100)
    core.apply(0, lv((ASK, 100, 5)), 1)
    core.apply(1, lv((BID, 103, 3)), 50)
    assert core.heartbeat(1, 100) == []
    ev = core.heartbeat(1, 120)  # book a's last message was at 1: expired at 101
    assert kinds(ev) == [("CLOSED", "STALE", 0, 1)]
    assert (ev[0].ts_ns, ev[0].duration_ns) == (101, 51)
    assert core.apply(1, lv((BID, 103, 2)), 130) == []
    ev = core.heartbeat(0, 140)  # a is fresh again: every pair of it is looked at
    assert kinds(ev) == [("OPENED", "NONE", 0, 1)] and ev[0].opportunity.size == 2


def test_clear_rewalks_every_pair_and_flush_closes() -> None:
    core = ScanCore(0, 0)
    for name in "abc":
        core.add_book(name, 0)
    core.apply(0, lv((ASK, 100, 5)), 1)
    core.apply(1, lv((BID, 101, 1)), 2)
    core.apply(2, lv((BID, 102, 1)), 3)
    assert core.open_count == 2
    ev = core.apply(0, np.concatenate([clear(), lv((ASK, 101, 5))]), 4)
    assert kinds(ev) == [("CLOSED", "GONE", 0, 1), ("UPDATED", "NONE", 0, 2)]
    ev = core.flush(10)
    assert kinds(ev) == [("CLOSED", "FLUSHED", 0, 2)] and ev[0].duration_ns == 7
    assert core.open_count == 0


def test_fees_are_per_book() -> None:
    core = ScanCore(0, 0)
    core.add_book("cheap", 0)
    core.add_book("dear", 10_000)  # 1%
    core.apply(0, lv((ASK, 100, 5)), 1)
    assert core.apply(1, lv((BID, 101, 5)), 2) == []  # 101 * 0.99 < 100
    ev = core.apply(1, lv((BID, 102, 5)), 3)  # 100.98 > 100
    assert kinds(ev) == [("OPENED", "NONE", 0, 1)]
    assert ev[0].opportunity == best_opportunity_cbps(core.book(0), core.book(1), 0, 10_000)


def test_bad_configuration() -> None:
    with pytest.raises(ValueError):
        ScanCore(0, 0, max_age_ns=-1)
    with pytest.raises(ValueError):
        ScanCore(0, 0, max_size=-1)
    with pytest.raises(ValueError):
        ScanCore(0, 0).add_book("x", 1_000_000)


# -- the scanner and best_opportunity agree at every step -------------------------------

prices = st.integers(95, 105)


class ScannerMachine(RuleBasedStateMachine):
    @initialize(fees=st.lists(st.integers(0, 300), min_size=3, max_size=3),
                max_age=st.sampled_from([None, 30]), max_size=st.sampled_from([None, 4]))
    def setup(self, fees: list[int], max_age: int | None, max_size: int | None) -> None:
        self.core = ScanCore(0, 0, max_age, max_size)
        for i, f in enumerate(fees):
            self.core.add_book(f"v{i}", f, latency_ns=5)
        self.now = 0
        self.events: list[OpportunityEvent] = []
        self.last: list[OpportunityEvent] = []

    def _tick(self, dt: int) -> int:
        self.now += dt
        return self.now

    def _record(self, ev: list[OpportunityEvent]) -> None:
        self.last = ev
        self.events += ev

    @rule(i=st.integers(0, 2), dt=st.integers(0, 20),
          rows=st.lists(st.tuples(st.sampled_from([BID, ASK]), prices, st.integers(0, 6)),
                        min_size=1, max_size=4))
    def levels(self, i: int, dt: int, rows: list[tuple[int, int, int]]) -> None:
        self._record(self.core.apply(i, lv(*rows), self._tick(dt)))

    @rule(i=st.integers(0, 2), dt=st.integers(0, 20),
          rows=st.lists(st.tuples(st.sampled_from([BID, ASK]), prices, st.integers(1, 6)),
                        max_size=6))
    def snapshot(self, i: int, dt: int, rows: list[tuple[int, int, int]]) -> None:
        self._record(self.core.apply(i, np.concatenate([clear(), lv(*rows)]), self._tick(dt)))

    @rule(i=st.integers(0, 2), dt=st.integers(0, 40))
    def heartbeat(self, i: int, dt: int) -> None:
        self._record(self.core.heartbeat(i, self._tick(dt)))

    @rule(i=st.integers(0, 2), synced=st.booleans(), dt=st.integers(0, 5))
    def sync(self, i: int, synced: bool, dt: int) -> None:
        self._record(self.core.set_synced(i, synced, self._tick(dt)))

    @invariant()
    def agrees_with_best_opportunity(self) -> None:
        c = self.core
        for b in range(3):
            for s in range(3):
                if b == s:
                    continue
                want = None
                if c.usable(b) and c.usable(s):
                    want = best_opportunity_cbps(c.book(b), c.book(s), c.fee_cbps(b),
                                                 c.fee_cbps(s), c.max_size)
                assert c.open_opportunity(b, s) == want

    @invariant()
    def events_tell_the_same_story(self) -> None:
        for e in self.last:  # each change made in the last step, as the books are now
            if e.kind is not EventKind.CLOSED:
                assert e.opportunity == self.core.open_opportunity(e.buy_book, e.sell_book)
        ts = [e.ts_ns for e in self.last]
        assert ts == sorted(ts)
        state: dict[tuple[int, int], OpportunityEvent] = {}
        for e in self.events:
            key, prev = (e.buy_book, e.sell_book), state.get((e.buy_book, e.sell_book))
            if e.kind is EventKind.OPENED:
                assert prev is None or prev.kind is EventKind.CLOSED
                assert e.duration_ns == 0 and e.peak_size == e.opportunity.size
            else:
                assert prev is not None and prev.kind is not EventKind.CLOSED
                assert e.open_ts_ns == prev.open_ts_ns and e.ts_ns >= prev.ts_ns
                assert e.peak_edge >= prev.peak_edge and e.peak_size >= prev.peak_size
                assert e.peak_edge >= e.opportunity.edge and e.peak_size >= e.opportunity.size
                assert (e.reason is CloseReason.NONE) == (e.kind is EventKind.UPDATED)
            state[key] = e
        assert sum(e.kind is not EventKind.CLOSED for e in state.values()) == self.core.open_count


ScannerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40,
                                            deadline=None)
TestScannerMachine = ScannerMachine.TestCase
