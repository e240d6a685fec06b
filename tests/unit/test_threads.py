"""Concurrent use of the compiled classes: every GIL-free batch call against every
other method of the same object, and a thread that writes into a batch's array.

A method called while a batch runs on another thread must raise BusyError, never
race with the batch. Each case hammers one method from the main thread while a
batch runs, repeating the batch until the guard has fired (or failing after a
bounded time): a test that saw no refusal proved nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest

import crossbook
from crossbook import BusyError, InvalidInputError, _core
from crossbook.order_types import TimeInForce
from tests.unit.bound_calls import (
    TARGETS,
    bound_methods,
    hammer_during_batch,
    level_events,
    order_requests,
    scan_events,
)

@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_bound_method_is_covered(target: str) -> None:
    cls, calls, _ = TARGETS[target]
    assert bound_methods(cls) == set(calls)


_CASES = [(t, m) for t in sorted(TARGETS) for m in sorted(TARGETS[t][1])]


@pytest.mark.parametrize(("target", "method"), _CASES)
def test_method_during_batch_is_refused(target: str, method: str) -> None:
    _, calls, factory = TARGETS[target]
    obj, batch, check = factory()
    refusals = hammer_during_batch(batch, lambda: calls[method](obj))
    assert refusals > 0, f"{target}.{method} was never refused while a batch ran"
    check()


def test_busy_error_is_a_runtime_error() -> None:
    assert issubclass(BusyError, RuntimeError)


@pytest.mark.parametrize("target", ["L2Book", "OrderBook"])
def test_setstate_during_batch_leaves_the_object_alone(target: str) -> None:
    _, _, factory = TARGETS[target]
    obj, batch, _ = factory()
    state = type(obj)().__getstate__()
    t = threading.Thread(target=batch)
    t.start()
    while t.is_alive():
        obj.__setstate__(state)  # ignored by pybind11 on a constructed object
    t.join()
    obj.check_invariants()
    assert len(obj) > 0


# ------------------------------------------------- a thread writing into the batch

_RACES = 60
_RACE_EVENTS = 200_000  # enough to run without the GIL, small enough to repeat
_BAD_PRICE = -7


def race_writer(arr: np.ndarray, field: str, index: int, good: int, bad: int,
                go: threading.Event, stop: threading.Event) -> threading.Thread:
    """A thread that flips arr[field][index] between good and bad until stopped,
    then leaves it good."""
    column = arr[field]

    def run() -> None:
        go.wait()
        while not stop.is_set():
            column[index] = bad
            column[index] = good
        column[index] = good

    return threading.Thread(target=run)


def race(batch: Callable[[], object], arr: np.ndarray, field: str, index: int, good: int,
         bad: int) -> tuple[int, int]:
    """Runs the batch while a writer flips one value; returns (applied, refused)."""
    go, stop = threading.Event(), threading.Event()
    w = race_writer(arr, field, index, good, bad, go, stop)
    w.start()
    go.set()
    try:
        batch()
        return 1, 0
    except InvalidInputError:
        return 0, 1
    finally:
        stop.set()
        w.join()


def test_l2_apply_never_takes_a_value_written_during_the_batch() -> None:
    ev = level_events()[:_RACE_EVENTS].copy()
    k = len(ev) // 2
    ev["side"][k], ev["price"][k] = 1, 30_000  # would become the best bid
    refused = 0
    for _ in range(_RACES):
        b = crossbook.L2Book()
        refused += race(lambda: b.apply(ev), ev, "price", k, 30_000, _BAD_PRICE)[1]
        b.check_invariants()
        for side in (1, 2):
            assert (b.levels(side)["price"] >= 0).all()
        b.bbo()
    assert refused < _RACES, "the writer never let a batch through"


def test_scanner_never_takes_a_book_index_written_during_the_batch() -> None:
    ev = scan_events()[:_RACE_EVENTS].copy()
    k = len(ev) // 2
    for _ in range(_RACES // 2):
        s = _core.ArbScanner(0, 0, [0, 0])
        race(lambda: s.process(ev), ev, "book", k, 1, 1_000_000)
        assert s.num_books == 2
        for i in range(2):
            assert (s.book(i).levels(1)["price"] >= 0).all()


def test_engine_never_rests_a_price_written_during_the_batch() -> None:
    req = order_requests()[: _RACE_EVENTS // 2].copy()
    req["tif"] = TimeInForce.GTC
    req["price"] = np.where(req["side"] == 1, 100, 10_000)
    k = len(req) // 2
    for _ in range(_RACES // 2):
        e = crossbook.MatchingEngine()
        race(lambda: e.submit_batch(req), req, "price", k, 100, _BAD_PRICE)
        e.check_invariants()
        assert (e.book.levels(1)["price"] >= 0).all()
