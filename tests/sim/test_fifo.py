"""Exact FIFO on order-level data (crossbook.sim.fifo) against the plain-Python twin
(tests/reference/ref_fifo.py), by hand and on the real LOBSTER and Databento files;
and the validation script on a small sample."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from crossbook import dtypes
from crossbook.sim.fifo import EXECUTION, PASSIVE, FifoStatus, fifo_fills
from tests.reference.ref_fifo import ref_fifo_fills
from tests.sim._util import as_dicts

# benchmarks/ lives beside tests/, not in the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import validate_queue_models as vq  # noqa: E402

BID, ASK = 1, 2
ADD, MODIFY, EXECUTE = dtypes.ORDER_ADD, dtypes.ORDER_MODIFY, dtypes.ORDER_EXECUTE


def _events(rows: list[tuple[int, int, int, int, int, int]]) -> np.ndarray:
    """(ts, order_id, side, price, size, action) rows."""
    ev = np.zeros(len(rows), dtype=dtypes.ORDER_EVENT)
    for i, (ts, oid, side, price, size, action) in enumerate(rows):
        ev[i] = (ts, ts, oid, price, size, side, action, dtypes.F_LAST, 0)
    return ev


def _execs(rows: list[tuple[int, int, int, int, int, int]]) -> np.ndarray:
    """(ts, seq, order_id, price, size, resting side) rows."""
    return np.array(rows, dtype=EXECUTION)


def _orders(rows: list[tuple[int, int, int, int]]) -> np.ndarray:
    return np.array(rows, dtype=PASSIVE)


def _both(ev: np.ndarray, ex: np.ndarray, orders: np.ndarray) -> list[dict[str, int]]:
    got = as_dicts(fifo_fills(ev, np.arange(len(ev)), ex, orders))
    assert got == ref_fifo_fills(ev, np.arange(len(ev)), ex, orders)
    return got


# Orders 1 (5) and 2 (5) bid at 100 before the passive order joins at t=15;
# order 3 (5) joins after it; an ask at 102 keeps the book uncrossed.
BOOK = [(10, 1, BID, 100, 5, ADD), (11, 2, BID, 100, 5, ADD), (12, 9, ASK, 102, 5, ADD),
        (20, 3, BID, 100, 5, ADD)]


def test_executions_ahead_move_it_and_one_behind_fills_it() -> None:
    ev = _events(BOOK + [(30, 1, BID, 100, 5, EXECUTE), (40, 3, BID, 100, 2, EXECUTE)])
    ex = _execs([(30, 4, 1, 100, 5, BID), (40, 5, 3, 100, 2, BID)])
    got = _both(ev, ex, _orders([(15, BID, 100, 3)]))
    # Order 1 was ahead: nothing. Order 3 is behind: its execution of 2 was ours.
    assert got == [dict(filled=2, ts_first_fill_ns=40, ts_fill_ns=-1, status=FifoStatus.OPEN)]


def test_a_modify_that_loses_the_place_puts_an_order_behind() -> None:
    ev = _events(BOOK + [(30, 2, BID, 100, 7, MODIFY), (40, 2, BID, 100, 1, EXECUTE)])
    ex = _execs([(40, 5, 2, 100, 1, BID)])
    assert _both(ev, ex, _orders([(15, BID, 100, 1)]))[0]["ts_fill_ns"] == 40
    # A size decrease keeps the place: the execution is of an order ahead.
    ev = _events(BOOK + [(30, 2, BID, 100, 3, MODIFY), (40, 2, BID, 100, 1, EXECUTE)])
    assert _both(ev, ex, _orders([(15, BID, 100, 1)]))[0]["status"] == FifoStatus.OPEN


def test_an_execution_through_the_price_fills_and_crossing_orders_are_refused() -> None:
    ev = _events(BOOK + [(25, 4, BID, 99, 5, ADD), (30, 4, BID, 99, 5, EXECUTE)])
    ex = _execs([(30, 5, 4, 99, 5, BID)])
    got = _both(ev, ex, _orders([(15, BID, 100, 2), (15, BID, 102, 1), (15, ASK, 100, 1)]))
    assert [g["status"] for g in got] == [FifoStatus.FILLED, FifoStatus.CROSSED, FifoStatus.CROSSED]
    assert got[0]["ts_fill_ns"] == 30


def test_an_order_placed_at_a_time_joins_after_the_events_of_that_time() -> None:
    # Order 3 is added at t=20 and the passive order placed at t=20: order 3 is ahead.
    ev = _events(BOOK + [(40, 3, BID, 100, 2, EXECUTE)])
    ex = _execs([(40, 4, 3, 100, 2, BID)])
    assert _both(ev, ex, _orders([(20, BID, 100, 1)]))[0]["status"] == FifoStatus.OPEN
    assert _both(ev, ex, _orders([(19, BID, 100, 1)]))[0]["status"] == FifoStatus.FILLED


@pytest.fixture(scope="module")
def data_sets() -> list[vq.Dataset]:
    if not (vq.DATA / "lobster").is_dir() or not (vq.DATA / "databento").is_dir():
        pytest.skip(f"real market data not found at {vq.DATA.resolve()} (CI provides it)")
    return vq.datasets()


def test_exact_fifo_matches_the_reference_on_the_real_files(data_sets: list[vq.Dataset]) -> None:
    for k, ds in enumerate(data_sets):
        orders = vq.random_orders(ds, 60, seed=k)[0]
        got = as_dicts(fifo_fills(ds.events, ds.event_seq, ds.executions, orders,
                                  price_exp=ds.price_exp))
        assert got == ref_fifo_fills(ds.events, ds.event_seq, ds.executions, orders), ds.name
        assert any(g["status"] == FifoStatus.FILLED for g in got), ds.name


def test_the_validation_runs_on_a_small_sample(data_sets: list[vq.Dataset]) -> None:
    rows = vq.validate(data_sets[:2], n_orders=20, seed=1, models=("conservative", "power:3"))
    assert [r.model for r in rows] == ["conservative", "power:3"] * 2
    for r in rows:
        assert 0 < r.orders <= 20 and 0.0 <= r.outcome_match <= 1.0
    assert "| LOBSTER AAPL | power:3 |" in vq.table(rows)
