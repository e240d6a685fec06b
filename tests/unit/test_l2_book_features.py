"""L2Book.apply's per-event depth_out and features_out: hand cases, the features'
definitions against the book's own scalar methods, and refused output arrays."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossbook import InvalidInputError, L2Book, Side, dtypes

UPD, DEL, CLR = dtypes.UPDATE, dtypes.DELETE, dtypes.CLEAR


def events(*rows: tuple[int, int, int, int, int]) -> np.ndarray:
    """(side, action, price, size, count) rows as LEVEL_EVENT."""
    ev = np.zeros(len(rows), dtype=dtypes.LEVEL_EVENT)
    for i, (side, action, price, size, count) in enumerate(rows):
        ev[i] = (i, i, price, size, count, side, action, 0)
    return ev


def book_with(bids: list[tuple[int, int, int]], asks: list[tuple[int, int, int]]) -> L2Book:
    book = L2Book(price_exp=2, size_exp=3)
    book.load_snapshot(bids, asks)
    return book


def features_of(book: L2Book, ev: np.ndarray, n: int = 10) -> np.ndarray:
    out = np.zeros(len(ev), dtype=dtypes.BOOK_FEATURES)
    book.apply(ev, features_out=out, n=n)
    return out


def test_depth_out_hand_case() -> None:
    book = book_with([(100, 5, 2), (99, 7, 1), (97, 1, 4)], [(103, 2, 3)])
    ev = events((Side.BID, UPD, 101, 3, 9), (Side.ASK, DEL, 103, 0, 0), (Side.BID, DEL, 99, 0, 0))
    depth = np.full(3 * 2 * 3 * 24, 0xAB, np.uint8).view(dtypes.DEPTH).reshape(3, 2, 3)
    book.apply(ev, depth_out=depth, n=3)
    z = (0, 0, 0)
    assert depth.tolist() == [
        [[(101, 3, 9), (100, 5, 2), (99, 7, 1)], [(103, 2, 3), z, z]],
        [[(101, 3, 9), (100, 5, 2), (99, 7, 1)], [z, z, z]],
        [[(101, 3, 9), (100, 5, 2), (97, 1, 4)], [z, z, z]],
    ]
    assert not depth.view(np.uint8).reshape(-1, 24)[:, 20:].any()  # padding written too


def test_features_of_a_two_sided_book() -> None:
    book = book_with([(100, 3, 0), (99, 1, 0)], [(103, 1, 0), (104, 4, 0)])
    (f,) = features_of(book, events((Side.BID, UPD, 99, 5, 0)), n=2)
    assert f["flags"] == dtypes.FEAT_TWO_SIDED
    assert (f["mid_x2"], f["spread"]) == (203, 3)  # mid 101.5: odd in half-ticks
    # B = 3 + 5 over the top two bids, A = 1 + 4: (100 * 5 + 103 * 8) / 13.
    assert f["microprice"] == (100 * 5 + 103 * 8) / 13
    assert f["imbalance"] == (8 - 5) / 13
    assert (f["ofi"], f["ofi_bid"], f["ofi_ask"]) == (0, 0, 0)  # below the touch: no flow


def test_features_of_one_sided_crossed_and_empty_books() -> None:
    book = book_with([(100, 3, 0)], [])
    one, crossed, cleared = features_of(
        book, events((Side.BID, UPD, 100, 4, 0), (Side.ASK, UPD, 98, 2, 0), (0, CLR, 0, 0, 0)))
    assert (one["flags"], one["mid_x2"], one["spread"], one["imbalance"]) == (0, 0, 0, 1.0)
    assert math.isnan(one["microprice"])
    assert crossed["flags"] == dtypes.FEAT_TWO_SIDED and crossed["spread"] == -2
    assert crossed["mid_x2"] == 198
    assert cleared["flags"] == 0 and math.isnan(cleared["imbalance"])
    assert (cleared["ofi_bid"], cleared["ofi_ask"], cleared["ofi"]) == (-4, -2, -2)


def test_mid_x2_does_not_overflow_at_the_top_of_int64() -> None:
    top = (1 << 63) - 1
    book = book_with([(top - 1, 1, 0)], [])
    (f,) = features_of(book, events((Side.ASK, UPD, top, 1, 0)))
    assert int(f["mid_x2"]) == 2 * top - 1 and f["spread"] == 1


# Cont-Kukanov-Stoikov at the touch: (best before, event, ofi_bid, ofi_ask).
OFI_CASES = [
    ("bid size up at the touch", (Side.BID, UPD, 100, 8, 0), 3, 0),
    ("bid size down at the touch", (Side.BID, UPD, 100, 1, 0), -4, 0),
    ("bid improves", (Side.BID, UPD, 101, 2, 0), 2, 0),
    ("bid touch removed", (Side.BID, DEL, 100, 0, 0), -5, 0),
    ("ask size up at the touch", (Side.ASK, UPD, 103, 9, 0), 0, 2),
    ("ask improves", (Side.ASK, UPD, 102, 1, 0), 0, 1),
    ("ask touch removed", (Side.ASK, DEL, 103, 0, 0), 0, -7),
    ("below the touch", (Side.BID, UPD, 99, 50, 0), 0, 0),
]


@pytest.mark.parametrize(("what", "event", "ofi_bid", "ofi_ask"), OFI_CASES, ids=[c[0] for c in OFI_CASES])
def test_order_flow_imbalance_cases(what: str, event: tuple[int, int, int, int, int],
                                    ofi_bid: int, ofi_ask: int) -> None:
    book = book_with([(100, 5, 0), (98, 6, 0)], [(103, 7, 0), (104, 1, 0)])
    (f,) = features_of(book, events(event))
    assert (f["ofi_bid"], f["ofi_ask"], f["ofi"]) == (ofi_bid, ofi_ask, ofi_bid - ofi_ask)


def test_order_flow_imbalance_of_sides_that_appear_and_the_first_event_of_a_batch() -> None:
    book = L2Book()
    f = features_of(book, events((Side.BID, UPD, 10, 4, 0), (Side.ASK, UPD, 12, 3, 0)))
    assert [(r["ofi_bid"], r["ofi_ask"], r["ofi"]) for r in f] == [(4, 0, 4), (0, 3, -3)]
    # The next batch measures its first event from the book as the last one left it.
    (g,) = features_of(book, events((Side.BID, UPD, 10, 6, 0)))
    assert g["ofi"] == 2


small_events = st.lists(
    st.tuples(st.sampled_from([1, 2]), st.sampled_from([UPD, UPD, DEL, CLR]),
              st.integers(95, 105), st.integers(0, 6), st.integers(0, 3)),
    min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(rows=small_events, n=st.integers(1, 4))
def test_features_agree_with_the_books_scalar_methods(rows: list[tuple[int, int, int, int, int]],
                                                      n: int) -> None:
    """The batch's rows equal what mid(), spread(), microprice() (n=1), imbalance(n) and
    depth(n) say after each event applied alone, and ofi is the touch's flow by definition.
    Few prices: most events resize a level already in the top n."""
    rows = [(s, a, p + (0 if s == Side.BID else 5), q, c) for s, a, p, q, c in rows]
    ev = events(*rows)
    batch, single = L2Book(), L2Book()
    out = features_of(batch, ev, n)
    depth = np.zeros((len(ev), 2, n), dtype=dtypes.DEPTH)
    L2Book().apply(ev, depth_out=depth, n=n)
    for i in range(len(ev)):
        (b0, a0) = single.bbo()
        single.apply(ev[i:i + 1])
        f, (b1, a1) = out[i], single.bbo()
        for side, want in enumerate(single.depth(n)):
            assert depth[i, side, :len(want)].tolist() == want.tolist()
            assert depth[i, side, len(want):].tobytes() == bytes(24 * (n - len(want)))
        mid, spread = single.mid(), single.spread()
        assert (f["mid_x2"] / 2, f["spread"]) == ((mid, spread) if mid is not None else (0, 0))
        want_micro = single.microprice() if n == 1 else None
        if mid is None:
            assert math.isnan(f["microprice"])
        elif want_micro is not None:
            assert f["microprice"] == want_micro
        imbalance = single.imbalance(n)
        assert math.isnan(f["imbalance"]) if imbalance is None else f["imbalance"] == imbalance
        assert f["ofi_bid"] == flow(b0, b1, better=lambda x, y: x > y)
        assert f["ofi_ask"] == flow(a0, a1, better=lambda x, y: x < y)


def flow(before: tuple[int, int] | None, now: tuple[int, int] | None, better: Any) -> int:
    """One side's flow spelled out case by case (a side that appears improves on nothing)."""
    if now is None:
        return -before[1] if before else 0
    if before is None or better(now[0], before[0]):
        return now[1]
    return now[1] - before[1] if now[0] == before[0] else -before[1]


def test_outputs_with_more_rows_keep_the_rest_and_large_batches_agree() -> None:
    rng = np.random.default_rng(7)
    k = 5000  # above the size that releases the GIL
    ev = np.zeros(k, dtype=dtypes.LEVEL_EVENT)
    ev["side"] = rng.integers(1, 3, k)
    ev["action"] = UPD
    ev["price"] = rng.integers(0, 50, k) + np.where(ev["side"] == Side.ASK, 50, 0)
    ev["size"] = rng.integers(0, 4, k)
    depth = np.ones((k + 2, 2, 4), dtype=dtypes.DEPTH)
    feats = np.ones(k + 2, dtype=dtypes.BOOK_FEATURES)
    bbo = np.zeros(k, dtype=dtypes.BBO)
    book = L2Book()
    book.apply(ev, bbo, depth_out=depth, features_out=feats, n=4)
    assert depth[k:].tolist() == np.ones((2, 2, 4), dtype=dtypes.DEPTH).tolist()
    assert feats[k:].tolist() == np.ones(2, dtype=dtypes.BOOK_FEATURES).tolist()
    bids, asks = book.depth(4)
    assert depth[k - 1, 0, :len(bids)].tolist() == bids.tolist()
    assert depth[k - 1, 1, :len(asks)].tolist() == asks.tolist()
    only = np.zeros(k, dtype=dtypes.BOOK_FEATURES)
    L2Book().apply(ev, features_out=only, n=4)  # the same values without depth_out
    assert only.tobytes() == feats[:k].tobytes()
    two = feats["flags"][:k] == dtypes.FEAT_TWO_SIDED
    assert two.any()
    assert ((bbo["bid_price"] + bbo["ask_price"])[two] == feats["mid_x2"][:k][two].astype(np.int64)).all()


def _bad_outputs() -> list[tuple[str, dict[str, Any], type[Exception], str]]:
    d = dtypes.DEPTH
    f = dtypes.BOOK_FEATURES
    ro = np.zeros((3, 2, 2), d)
    ro.flags.writeable = False
    unaligned = np.frombuffer(bytearray(1 + 3 * 64), np.uint8)[1:].view(f)
    return [
        ("depth dtype", {"depth_out": np.zeros((3, 2, 2), dtypes.BBO)}, TypeError, "must have dtype"),
        ("depth 1-d", {"depth_out": np.zeros(12, d)}, ValueError, "3-dimensional"),
        ("depth n", {"depth_out": np.zeros((3, 2, 3), d)}, ValueError, r"shape \(rows, 2, n\) with n=2"),
        ("depth sides", {"depth_out": np.zeros((3, 1, 2), d)}, ValueError, "shape"),
        ("depth rows", {"depth_out": np.zeros((2, 2, 2), d)}, ValueError, "fewer than the 3 events"),
        ("depth strided", {"depth_out": np.zeros((6, 2, 2), d)[::2]}, ValueError, "C-contiguous"),
        ("depth read-only", {"depth_out": ro}, ValueError, "read-only"),
        ("features dtype", {"features_out": np.zeros(3, dtypes.BBO)}, TypeError, "must have dtype"),
        ("features rows", {"features_out": np.zeros(2, f)}, ValueError, "fewer than the 3 events"),
        ("features unaligned", {"features_out": unaligned}, ValueError, "not aligned"),
        ("features list", {"features_out": [0, 0, 0]}, TypeError, "numpy array"),
        ("n zero", {"features_out": np.zeros(3, f), "n": 0}, ValueError, "n must be >= 1"),
    ]


@pytest.mark.parametrize(("what", "kwargs", "error", "match"), _bad_outputs(),
                         ids=[c[0] for c in _bad_outputs()])
def test_bad_output_arrays_are_refused_before_anything_is_applied(
        what: str, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    book = book_with([(100, 5, 0)], [(103, 2, 0)])
    ev = events((Side.BID, UPD, 101, 1, 0), (Side.ASK, DEL, 103, 0, 0), (Side.BID, UPD, 90, 1, 0))
    kwargs.setdefault("n", 2)
    with pytest.raises(error, match=match):
        book.apply(ev, **kwargs)
    assert book.bbo() == ((100, 5), (103, 2)) and len(book) == 2


def test_outputs_sharing_memory_are_refused() -> None:
    book = book_with([(100, 5, 0)], [(103, 2, 0)])
    ev = events((Side.BID, UPD, 101, 1, 0), (Side.ASK, DEL, 103, 0, 0))
    buf = np.zeros(4, dtype=dtypes.BOOK_FEATURES)
    depth = buf.view(np.uint8)[: 2 * 2 * 24].view(dtypes.DEPTH).reshape(2, 2, 1)
    with pytest.raises(ValueError, match="depth_out and features_out share memory"):
        book.apply(ev, depth_out=depth, features_out=buf, n=1)
    raw = np.zeros(192, np.uint8)
    shared_ev = raw[:80].view(dtypes.LEVEL_EVENT)
    shared_ev[:] = ev
    with pytest.raises(ValueError, match="events and features_out share memory"):
        book.apply(shared_ev, features_out=raw[64:].view(dtypes.BOOK_FEATURES))
    assert book.bbo() == ((100, 5), (103, 2))


def test_a_bad_event_leaves_book_and_outputs_untouched() -> None:
    book = book_with([(100, 5, 0)], [(103, 2, 0)])
    ev = events((Side.BID, UPD, 101, 1, 0), (Side.ASK, UPD, 104, -1, 0))
    depth = np.ones((2, 2, 1), dtype=dtypes.DEPTH)
    feats = np.ones(2, dtype=dtypes.BOOK_FEATURES)
    with pytest.raises(InvalidInputError, match="event 1: size must be >= 0"):
        book.apply(ev, depth_out=depth, features_out=feats, n=1)
    assert book.bbo() == ((100, 5), (103, 2))
    assert depth.tolist() == np.ones((2, 2, 1), dtype=dtypes.DEPTH).tolist()
    assert feats.tolist() == np.ones(2, dtype=dtypes.BOOK_FEATURES).tolist()
