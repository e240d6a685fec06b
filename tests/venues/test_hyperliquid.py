"""Hyperliquid l2Book: full snapshots with order counts, parsed exactly; the
capture replayed with every snapshot checked level by level; what faults can and
cannot do to a snapshot-only feed; malformed input."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings

from crossbook import Side, dtypes
from crossbook.io.capture import CaptureRecord
from crossbook.messages import BookMessage, Kind, Status, Trade
from crossbook.venues.base import ParseError
from crossbook.venues.hyperliquid import Hyperliquid, sniff
from crossbook.venues.registry import make_parser

from ._venue_kit import (
    CAPTURES,
    check_parse_contract,
    drop,
    duplicate,
    frame_record,
    indices,
    malformed_frames,
    records,
    replace,
    replay,
    swap,
)

CAPTURE = CAPTURES / "hyperliquid" / "hyperliquid_btcusd_20250126.cap.gz"
BID, ASK = int(Side.BID), int(Side.ASK)

# The first three levels a side of the capture's first frame.
BOOK = (b'{"channel":"l2Book","data":{"coin":"BTC","time":1737918843542,"levels":[['
        b'{"n":5,"px":"105055.0","sz":"3.03622"},{"n":1,"px":"105054.0","sz":"0.1428"},'
        b'{"n":2,"px":"105053.0","sz":"0.16179"}],[{"n":13,"px":"105056.0","sz":"6.34472"},'
        b'{"n":1,"px":"105057.0","sz":"0.00019"},{"n":2,"px":"105058.0","sz":"0.5"}]]}}')
TRADES = (b'{"channel":"trades","data":[{"coin":"BTC","hash":"0xde47","px":"105056.0","side":"B",'
          b'"sz":"0.00219","tid":121451470284048,"time":1737918794873,"users":["0xe9","0x68"]},'
          b'{"coin":"BTC","hash":"0x2b25","px":"105055.0","side":"A","sz":"0.00015",'
          b'"tid":588047386913648,"time":1737918796007,"users":["0xb0","0x68"]}]}')


def test_snapshot_is_normalized_exactly_with_order_counts() -> None:
    p = Hyperliquid()
    (m,) = p.parse(BOOK, 11)
    assert isinstance(m, BookMessage)
    assert (m.venue, m.symbol, m.kind, m.depth_limit) == ("hyperliquid", "BTC", Kind.SNAPSHOT, 20)
    assert (m.ts_exchange_ns, m.ts_recv_ns, m.last_seq, m.checksum) == (
        1737918843542 * 10**6, 11, None, None)
    inst = p.instruments.get("BTC")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (6, 5)  # perp floors
    rows = [(int(r["side"]), int(r["price"]), int(r["size"]), int(r["count"])) for r in m.levels]
    assert rows == [(BID, 105055000000, 303622, 5), (BID, 105054000000, 14280, 1),
                    (BID, 105053000000, 16179, 2), (ASK, 105056000000, 634472, 13),
                    (ASK, 105057000000, 19, 1), (ASK, 105058000000, 50000, 2)]
    assert (m.levels["flags"] & dtypes.F_SNAPSHOT).all()


def test_trades_and_control_frames() -> None:
    p = Hyperliquid()
    t1, t2 = p.parse(TRADES, 4)
    assert t1 == Trade("hyperliquid", "BTC", 105056000000, 219, Side.BID, "121451470284048", 4,
                       1737918794873 * 10**6)
    assert isinstance(t2, Trade) and t2.aggressor is Side.ASK and t2.size == 15
    (ack,) = p.parse(b'{"channel":"subscriptionResponse","data":{"method":"subscribe",'
                     b'"subscription":{"type":"l2Book","coin":"BTC"}}}', 5)
    assert isinstance(ack, Status) and not ack.error and "l2Book" in ack.text
    (err,) = p.parse(b'{"channel":"error","data":"Invalid subscription"}', 6)
    assert isinstance(err, Status) and err.error
    (pong,) = p.parse(b'{"channel":"pong"}', 7)
    assert isinstance(pong, Status) and pong.text.startswith("pong")


def test_spot_coins_get_spot_floors() -> None:
    p = Hyperliquid()
    p.parse(BOOK.replace(b'"coin":"BTC"', b'"coin":"@107"'), 0)
    inst = p.instruments.get("@107")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (8, 8)


@pytest.mark.parametrize("frame", [
    BOOK.replace(b'"sz":"0.1428"', b'"sz":"0.142801"'),  # finer than 5 decimals: named
    BOOK.replace(b'"sz":"0.1428"', b'"sz":0.1428'),
    BOOK.replace(b'"sz":"0.1428"', b'"sz":"-0.1428"'),
    BOOK.replace(b'"sz":"0.1428"', b'"sz":"0"'),
    BOOK.replace(b'"n":5', b'"n":-5'),
    BOOK.replace(b'"n":5', b'"n":99999999999'),
    BOOK.replace(b'"px":"105055.0"', b'"px":"1e999"'),
    BOOK.replace(b'"levels":[[', b'"levels":[[],[],['),
    BOOK[:120],
    b'{"data":{}}',
])
def test_malformed_frames_raise_parse_error(frame: bytes) -> None:
    p = Hyperliquid()
    p.parse(BOOK, 0)
    with pytest.raises(ParseError, match="hyperliquid"):
        p.parse(frame, 0)


def test_value_too_fine_is_named() -> None:
    p = Hyperliquid()
    p.parse(BOOK, 0)
    with pytest.raises(ParseError, match="0.142801"):
        p.parse(BOOK.replace(b'"sz":"0.1428"', b'"sz":"0.142801"'), 0)


def test_sniff_and_registry() -> None:
    assert sniff(frame_record(BOOK)) == "hyperliquid"
    assert sniff(frame_record(TRADES)) is None  # a trades frame alone names no book venue
    assert isinstance(make_parser("hyperliquid"), Hyperliquid)


# -- the capture ---------------------------------------------------------------------------

def _expected(rec: CaptureRecord) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """A snapshot frame's levels by plain json + Decimal: (price, size, count) best first."""
    bids, asks = json.loads(rec.payload)["data"]["levels"]
    conv = [[(int(Decimal(lv["px"]) * 10**6), int(Decimal(lv["sz"]) * 10**5), lv["n"]) for lv in side]
            for side in (bids, asks)]
    return conv[0], conv[1]


def _book(r: object) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    bids, asks = r.syncs["BTC"].view().depth(50)  # type: ignore[attr-defined]
    return ([(int(x["price"]), int(x["size"]), int(x["count"])) for x in bids],
            [(int(x["price"]), int(x["size"]), int(x["count"])) for x in asks])


def _books(recs: list[CaptureRecord]) -> list[int]:
    return indices(recs, lambda r: r.payload.startswith(b'{"channel":"l2Book"'))


def test_capture_every_snapshot_is_the_book() -> None:
    recs = records(CAPTURE)
    p = Hyperliquid()
    r = replay(p, [])
    books = _books(recs)
    assert len(books) == 46
    for i, rec in enumerate(recs):
        out = r.feed(rec)
        if i in books:
            assert _book(r) == _expected(rec)
        else:
            assert all(isinstance(m, Trade) for m in out) and out
    assert r.parse_errors == []
    (rep,) = r.finish()
    assert (rep.state, rep.snapshots, rep.gaps, rep.resyncs) == ("synced", 46, 0, 0)
    assert (rep.best_bid, rep.best_ask) == ("1.12931 @ 105050.000000", "6.13423 @ 105051.000000")
    r.syncs["BTC"].book.check_invariants()


# Faults: the feed has no sequence and no checksum, so nothing can be *detected*;
# what holds instead is that every snapshot replaces the book whole, so a lost,
# repeated or corrupted frame is healed by the next one. A reordering of the last
# two frames leaves the older book in place, and nothing can tell (the limit).

def test_dropped_duplicated_or_corrupted_frames_are_healed_by_the_next_snapshot() -> None:
    recs = records(CAPTURE)
    books = _books(recs)
    last = recs[books[-1]]
    victim = books[20]
    corrupted = replace(recs, victim, b'"sz":"', b'"sz":"9')
    for faulty in (drop(recs, victim), duplicate(recs, victim), corrupted):
        r = replay(Hyperliquid(), faulty)
        (rep,) = r.finish()
        assert (rep.state, rep.gaps) == ("synced", 0)
        assert _book(r) == _expected(last)


def test_swapped_last_frames_keep_the_newer_book() -> None:
    recs = records(CAPTURE)
    books = _books(recs)
    r = replay(Hyperliquid(), swap(recs, books[-2], books[-1]))
    (rep,) = r.finish()
    assert (rep.state, rep.gaps, r.summary.stale) == ("synced", 0, 1)  # the older one, by time
    assert _book(r) == _expected(recs[books[-1]]) != _expected(recs[books[-2]])


@settings(max_examples=300, deadline=None)
@given(malformed_frames([BOOK, TRADES]))
def test_malformed_frames_never_escape_as_other_errors(frame: bytes) -> None:
    p = Hyperliquid()
    p.parse(BOOK, 0)
    check_parse_contract(p, frame)
