"""What every compiled class owes its caller whatever it is handed: no use before
construction, exponents in range, output arrays without stray bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pytest

import crossbook
from crossbook import InvalidInputError, _core, dtypes
from tests.unit.bound_calls import TARGETS

_CASES = [(t, m) for t in sorted(TARGETS) for m in sorted(TARGETS[t][1])]


@pytest.mark.parametrize(("target", "method"), _CASES)
def test_method_before_init_is_refused(target: str, method: str) -> None:
    cls, calls, _ = TARGETS[target]
    obj = cast(Any, cls).__new__(cls)  # as pickle and copy can: no __init__
    with pytest.raises(TypeError, match=r"__init__ has not been called"):
        calls[method](obj)


# ------------------------------------------------------------------ exponents

_MAKERS: dict[str, Callable[[int, int], Any]] = {
    "L2Book": lambda pe, se: crossbook.L2Book(pe, se),
    "OrderBook": lambda pe, se: crossbook.OrderBook(pe, se),
    "MatchingEngine": lambda pe, se: crossbook.MatchingEngine(pe, se),
    "ArbScanner": lambda pe, se: _core.ArbScanner(pe, se, [0, 0]),
}


@pytest.mark.parametrize("maker", sorted(_MAKERS))
@pytest.mark.parametrize("exp", [-18, 0, 18])
def test_exponents_at_the_edges_are_accepted(maker: str, exp: int) -> None:
    _MAKERS[maker](exp, 0)
    _MAKERS[maker](0, exp)


@pytest.mark.parametrize("maker", sorted(_MAKERS))
@pytest.mark.parametrize("exp", [-19, 19, 2**31 - 1, -(2**31)])
def test_exponents_out_of_range_are_refused(maker: str, exp: int) -> None:
    with pytest.raises(InvalidInputError, match=r"price_exp must be in \[-18, 18\]"):
        _MAKERS[maker](exp, 0)
    with pytest.raises(InvalidInputError, match=r"size_exp must be in \[-18, 18\]"):
        _MAKERS[maker](0, exp)


def test_extreme_exponents_format_exactly() -> None:
    b = crossbook.L2Book(price_exp=18, size_exp=-18)
    assert b.format_price(2**63 - 1) == "9.223372036854775807"
    assert b.format_size(1) == "1" + "0" * 18


# ------------------------------------------------------ padding of DEPTH rows

_PAD = np.zeros(dtypes.DEPTH.itemsize, dtype=bool)
_PAD[20:] = True  # price i8, size i8, count i4, then 4 bytes of padding
assert dtypes.DEPTH.fields is not None and dtypes.DEPTH.fields["count"][1] == 16


def padding_bytes(rows: np.ndarray) -> np.ndarray:
    raw = np.frombuffer(rows.tobytes(), dtype=np.uint8).reshape(len(rows), rows.dtype.itemsize)
    return raw[:, _PAD]


def dirty_heap(n_rows: int) -> None:
    """Leaves freed memory full of 0xAB where the next arrays are likely to land."""
    for _ in range(8):
        junk = np.full(n_rows * dtypes.DEPTH.itemsize, 0xAB, dtype=np.uint8)
        del junk


def filled_books() -> dict[str, Any]:
    l2 = crossbook.L2Book()
    l2.load_snapshot([(100 - i, i + 1) for i in range(50)], [(200 + i, i + 1) for i in range(50)])
    ob = crossbook.OrderBook()
    for i in range(50):
        ob.add(i + 1, 1, 100 - i, 1)
        ob.add(i + 100, 2, 200 + i, 1)
    engine = crossbook.MatchingEngine()
    for i in range(50):
        engine.submit(i + 1, 1, 1, 100 - i, 1)
    scanner = _core.ArbScanner(0, 0, [0, 0])
    ev = np.zeros(50, dtype=dtypes.SCAN_EVENT)
    ev["price"], ev["size"], ev["side"], ev["action"] = 100 - np.arange(50), 1, 1, dtypes.UPDATE
    ev["flags"] = dtypes.F_LAST
    scanner.process(ev)
    return {"L2Book": l2, "OrderBook": ob, "OrderBookView": engine.book,
            "ArbBookView": scanner.book(0), "_keep": (engine, scanner)}


@pytest.mark.parametrize("target", ["L2Book", "OrderBook", "OrderBookView", "ArbBookView"])
def test_depth_rows_have_zeroed_padding(target: str) -> None:
    book = filled_books()[target]
    for _ in range(20):
        dirty_heap(50)
        bids = book.levels(1)
        dirty_heap(50)
        depth_bids, _ = book.depth(50)
        assert len(bids) == len(depth_bids) == 50
        assert not padding_bytes(bids).any()
        assert not padding_bytes(depth_bids).any()


def test_depth_into_zeroes_the_padding_it_writes() -> None:
    book = filled_books()["L2Book"]
    bids = np.frombuffer(b"\xab" * (10 * dtypes.DEPTH.itemsize), dtype=dtypes.DEPTH).copy()
    asks = bids.copy()
    for depth_into in (book.depth_into, book._depth_into):
        assert depth_into(bids, asks) == (10, 10)
        assert not padding_bytes(bids).any() and not padding_bytes(asks).any()
