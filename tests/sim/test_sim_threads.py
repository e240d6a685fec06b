"""The simulator's GIL-free calls (advance, run_builtin) against use from another thread.

While one thread runs the loop without the GIL, every call from another thread must either
raise BusyError or run, never crash or corrupt; and the run must end exactly as a run with
no interference. Each attempt uses a fresh simulator over a fixed block of rows (bounded
memory), until a call has met the busy guard; a guard-free build fails by crashing or by
never refusing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from crossbook import BusyError, dtypes
from crossbook.sim import CrossArbParams, Simulator, VenueConfig

_ROWS = 200_000
_ATTEMPTS = 30


def _rows(venue: int) -> npt.NDArray[np.void]:
    """A two-sided book churning at the touch, one message per row, never crossed."""
    i = np.arange(_ROWS)
    rows = np.zeros(_ROWS, dtype=dtypes.LEVEL_EVENT)
    rows["ts_recv_ns"] = 1 + 2 * i + venue
    rows["side"] = 1 + i % 2
    rows["price"] = np.where(i % 2 == 0, 1_000 - i % 7, 1_002 + venue + i % 5)
    rows["size"] = 1 + i % 11
    rows["action"] = dtypes.UPDATE
    rows["flags"] = dtypes.F_LAST
    return rows


def _simulator() -> Simulator:
    sim = Simulator([VenueConfig(), VenueConfig()])
    for v in (0, 1):
        sim.add_levels(v, _rows(v))
    return sim


def _outcome(sim: Simulator) -> tuple[Any, ...]:
    res = sim.results()
    return (sim.now, res.orders.tobytes(), res.fills.tobytes(), sim.bbo(0), sim.bbo(1))


_RUNS: dict[str, Callable[[Simulator], object]] = {
    "advance": lambda sim: sim.advance(2 * _ROWS + 2),
    "run_builtin": lambda sim: sim.run_builtin("cross-arb", CrossArbParams(max_size=3,
                                                                          cooldown_ns=50)),
}
# Reads only, so that an interleaving cannot change the run's outcome.
_CALLS: list[Callable[[Simulator], object]] = [
    lambda sim: sim.now, lambda sim: sim.bbo(0), lambda sim: sim.depth(1, 5),
    lambda sim: sim.results(), lambda sim: sim.account(0), lambda sim: sim.synced(1),
]


@pytest.mark.parametrize("run", sorted(_RUNS))
def test_calls_during_a_gil_free_run_are_refused_or_harmless(run: str) -> None:
    serial = _simulator()
    _RUNS[run](serial)
    expected = _outcome(serial)
    refused = 0
    for _ in range(_ATTEMPTS):
        sim = _simulator()
        errors: list[BaseException] = []

        def target(s: Simulator = sim) -> None:
            try:
                _RUNS[run](s)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        worker = threading.Thread(target=target)
        worker.start()
        k = 0
        while worker.is_alive():
            try:
                _CALLS[k % len(_CALLS)](sim)
            except BusyError:
                refused += 1
            k += 1
        worker.join(timeout=60)
        assert not worker.is_alive() and not errors, errors
        assert _outcome(sim) == expected
        if refused:
            break
    assert refused, f"no call met the busy guard in {_ATTEMPTS} runs of {run}"
