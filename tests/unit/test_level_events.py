"""level_events (Cython) and its plain-Python twin build identical LEVEL_EVENT arrays
from venue text rows, and refuse the same bad rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crossbook import dtypes
from crossbook.messages import level_events, level_events_py

text = st.one_of(
    st.from_regex(r"-?[0-9]{1,12}(\.[0-9]{0,10})?", fullmatch=True),
    st.text(max_size=6),
)
rows = st.lists(st.lists(text, min_size=1, max_size=3), max_size=6)


def outcome(fn, *args, **kw):  # type: ignore[no-untyped-def]
    try:
        return fn(*args, **kw)
    except (ValueError, OverflowError, TypeError) as exc:
        return type(exc)


@given(bids=rows, asks=rows, pexp=st.integers(0, 10), sexp=st.integers(0, 10),
       snapshot=st.booleans(), ts=st.integers(0, 2**62))
@example(bids=[], asks=[["0", "-1"], ["10000000000", "0"]], pexp=9, sexp=0, snapshot=False, ts=0)
def test_twins_agree(bids, asks, pexp, sexp, snapshot, ts) -> None:  # type: ignore[no-untyped-def]
    fast = outcome(level_events, bids, asks, pexp, sexp, ts_recv_ns=ts, snapshot=snapshot)
    slow = outcome(level_events_py, bids, asks, pexp, sexp, ts_recv_ns=ts, snapshot=snapshot)
    if isinstance(fast, np.ndarray):
        assert isinstance(slow, np.ndarray) and fast.dtype == slow.dtype == dtypes.LEVEL_EVENT
        assert fast.tobytes() == slow.tobytes()
    else:
        assert fast == slow


def test_known_rows() -> None:
    ev = level_events([["61837.63", "0.5"]], [["61837.64", "0"]], 2, 1, ts_exchange_ns=7,
                      ts_recv_ns=9, snapshot=True)
    assert ev.tolist() == [
        (7, 9, 6183763, 5, 0, 1, dtypes.UPDATE, dtypes.F_SNAPSHOT),
        (7, 9, 6183764, 0, 0, 2, dtypes.UPDATE, dtypes.F_SNAPSHOT | dtypes.F_LAST),
    ]
    assert len(level_events([], [], 2, 2)) == 0
    with pytest.raises(ValueError, match="negative price '-1'"):
        level_events([["-1", "1"]], [], 0, 0)
    with pytest.raises(ValueError, match="negative size '-2' at price '1'"):
        level_events([], [["1", "-2"]], 0, 0)
    with pytest.raises(ValueError, match="'0.001' has more decimals"):
        level_events([["1", "0.001"]], [], 0, 2)
