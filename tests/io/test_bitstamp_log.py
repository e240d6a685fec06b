"""Bitstamp 2015 order-feed log: golden lines, malformed input, and a replay
from empty with its unknown ids counted, never fatal."""

from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest

import crossbook
from crossbook import dtypes
from crossbook.io import bitstamp_log as B

LOG = "2015-05-01.log.xz"

needs_book = pytest.mark.skipif(
    not hasattr(crossbook, "OrderBook"), reason="crossbook.OrderBook is not built in this install"
)


@pytest.fixture(scope="module")
def log(bitstamp_dir: Path) -> B.BitstampLog:
    return B.read_log(bitstamp_dir / LOG)


def test_counts(log: B.BitstampLog) -> None:
    counts = np.bincount(log.events["action"], minlength=4).tolist()
    assert counts[dtypes.ORDER_ADD] == 24894
    assert counts[dtypes.ORDER_MODIFY] == 602
    assert counts[dtypes.ORDER_CANCEL] == 24918
    assert (len(log.trades), len(log.snapshots)) == (575, 5011)
    assert (np.diff(log.events["ts_recv_ns"]) >= 0).all()


def test_golden_order_lines(log: B.BitstampLog) -> None:
    ev, line = log.events, log.event_line
    # 1430438404518 order_created {"price": "236.47", "amount": "2.00000000",
    #   "datetime": "1430438404", "id": 65595247, "order_type": 0}
    assert (line[0], log.created_ns[0]) == (1, 1430438404 * 10**9)
    assert ev[0].tolist() == (1430438404 * 10**9, 1430438404518 * 10**6, 65595247, 23647, 200000000,
                              1, dtypes.ORDER_ADD, dtypes.F_LAST, 0)  # fmt: skip
    # 1430438404635 order_changed {"price": "236.47", "amount": "1.78855669", ... "id": 65595247, ...}
    assert ev[1].tolist() == (0, 1430438404635 * 10**6, 65595247, 23647, 178855669,
                              1, dtypes.ORDER_MODIFY, dtypes.F_LAST, 0)  # fmt: skip
    # 1430438404637 order_deleted {"price": "236.47", "amount": "0.00000000",
    #   "datetime": "1430438340", "id": 65595187, "order_type": 1}
    assert ev[2].tolist() == (0, 1430438404637 * 10**6, 65595187, 23647, 0,
                              2, dtypes.ORDER_CANCEL, dtypes.F_LAST, 0)  # fmt: skip
    assert (line[2], log.created_ns[2]) == (3, 1430438340 * 10**9)


def test_golden_trades_and_snapshot(log: B.BitstampLog) -> None:
    # 1430438404645 trade {"price": 236.47, "amount": 0.21144331, "id": 8111041}
    assert log.trades[0].tolist() == (1430438404645 * 10**6, 4, 8111041, 23647, 21144331)
    # 1430438406348 trade {"price": 236.47, "amount": 1.7885566900000001, "id": 8111042}
    assert log.trades[1].tolist() == (1430438406348 * 10**6, 15, 8111042, 23647, 178855669)
    snap = log.snapshots[0]
    assert (snap.line, snap.ts_recv_ns, len(snap.bids), len(snap.asks)) == (
        7,
        1430438405885 * 10**6,
        20,
        20,
    )
    assert snap.bids[0].tolist() == (23647, 178855669, 0) and snap.bids[-1].tolist() == (
        23473,
        2653332959,
        0,
    )
    assert snap.asks[:2].tolist() == [(23664, 379520000, 0), (23665, 2384239943, 0)]


ORDER = '{"price": "236.47", "amount": "2.00000000", "datetime": "1430438404", "id": 1, "order_type": 0}'


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("1430438404518 order_created", "expected '<local_ms> <event> <json>'"),  # truncated line
        ("1430438404518 order_created " + ORDER[:40], "bad JSON"),  # truncated JSON
        ("1430438404518 order_moved " + ORDER, "unknown event 'order_moved'"),
        (
            "1430438404518 order_created " + ORDER.replace('"236.47"', '"abc"'),
            "not a decimal number: 'abc'",
        ),
        ("1430438404518 order_created " + ORDER.replace('"236.47"', '"236.475"'), "more decimals"),
        (
            "1430438404518 order_created " + ORDER.replace('"order_type": 0', '"order_type": 2'),
            "bad order_type 2",
        ),
        ("1430438404518 order_created " + ORDER.replace('"id": 1, ', ""), "missing field 'id'"),
        (
            '1430438404518 trade {"price": 236.47, "amount": 0.123456789, "id": 5}',
            "more decimals than exponent 8",
        ),
        ('1430438404518 trade {"price": "x", "amount": 1, "id": 5}', "not a decimal number"),
        (
            '1430438404518 order_book {"bids": [["1.00"]], "asks": []}',
            "bids[0] is not [price, amount]",
        ),
    ],
)
def test_malformed_names_file_and_line(tmp_path: Path, line: str, needle: str) -> None:
    path = tmp_path / "bad.log.xz"
    with lzma.open(path, "wt") as f:
        f.write("1430438404518 order_created " + ORDER + "\n" + line + "\n")
    with pytest.raises(B.BitstampLogFormatError) as err:
        B.read_log(path)
    assert needle in str(err.value) and f"{path}:2:" in str(err.value)


def test_truncated_xz_stream(tmp_path: Path, bitstamp_dir: Path) -> None:
    path = tmp_path / "cut.log.xz"
    path.write_bytes((bitstamp_dir / LOG).read_bytes()[:20000])
    with pytest.raises(B.BitstampLogFormatError, match="truncated or corrupt"):
        B.read_log(path)


@needs_book
def test_replay_from_empty_counts_unknown_ids(log: B.BitstampLog) -> None:
    book = crossbook.OrderBook(price_exp=B.PRICE_EXP, size_exp=B.SIZE_EXP, on_anomaly="count")
    book.apply(log.events)
    # 208 deletes name ids the replay never holds: 184 orders from before the
    # log (179 never seen again, 5 whose create arrives after the delete),
    # 21 repeated deletes, and 3 deletes of the 3 ids first seen in an
    # order_changed; plus 5 order_changed of unknown ids (4 of those, 1 after
    # its order's delete). README's "205" counts ids never created.
    assert book.anomalies == {"unknown_order": 213}
    # 179 orders still open when the log ends (3 of them changed) and the 5
    # whose delete came before their create
    assert len(book) == 184
    book.check_invariants()


@needs_book
def test_replay_agrees_with_the_snapshots_at_the_top(log: B.BitstampLog) -> None:
    """Not an exact oracle (no initial state), but the touch should agree."""
    book = crossbook.OrderBook(price_exp=B.PRICE_EXP, size_exp=B.SIZE_EXP, on_anomaly="count")
    ends = np.searchsorted(log.event_line, [s.line for s in log.snapshots])
    done = same_touch = 0
    for snap, end in zip(log.snapshots, ends, strict=True):
        book.apply(log.events[done:end])
        done = end
        bids, asks = book.depth(1)
        same_touch += _touch(bids) == _touch(snap.bids) and _touch(asks) == _touch(snap.asks)
    assert same_touch == 4951  # of 5011 snapshots


def _touch(levels: np.ndarray) -> list[tuple[int, int]]:
    return [(int(p), int(s)) for p, s in zip(levels["price"][:1], levels["size"][:1], strict=True)]
