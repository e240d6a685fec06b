"""Helpers shared by the simulator tests: rows, and the core's results as plain dicts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from crossbook import dtypes


def level_rows(rows: Sequence[tuple[int, ...]]) -> npt.NDArray[np.void]:
    """(ts_exchange_ns, ts_recv_ns, price, size, count, side, action, flags) tuples."""
    return np.array(rows, dtype=dtypes.LEVEL_EVENT)


def trade_rows(rows: list[tuple[int, ...]]) -> npt.NDArray[np.void]:
    """(ts_exchange_ns, ts_recv_ns, price, size, aggressor_side) tuples."""
    out = np.zeros(len(rows), dtype=dtypes.TRADE_EVENT)
    for i, (te, tr, p, s, side) in enumerate(rows):
        out[i] = (te, tr, p, s, side, (0,) * 7)
    return out


def as_dicts(arr: npt.NDArray[np.void]) -> list[dict[str, int]]:
    names = [n for n in arr.dtype.names or () if n != "reserved"]
    return [{n: int(row[n]) for n in names} for row in arr]
