"""Bybit legacy orderBookL2_25: id-keyed frames parsed exactly, both captures
replayed against a plain-Python id-keyed book, faults, and malformed input."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings

from crossbook import Side, dtypes
from crossbook.io.capture import CaptureRecord
from crossbook.messages import BookMessage, Kind, Status, Trade
from crossbook.sync import BookNotSynced
from crossbook.venues.base import ParseError
from crossbook.venues.bybit_legacy import BybitLegacy, sniff
from crossbook.venues.registry import make_parser

from ._venue_kit import (
    CAPTURES,
    check_parse_contract,
    book_rows,
    drop,
    frame_record,
    indices,
    levels_of,
    malformed_frames,
    records,
    replace,
    replay,
    swap,
)

A = CAPTURES / "bybit" / "bybit_legacy_l2_25_a.cap.gz"
B = CAPTURES / "bybit" / "bybit_legacy_l2_25_b.cap.gz"
ADD, UPDATE, DELETE = dtypes.ADD, dtypes.UPDATE, dtypes.DELETE
BID, ASK = int(Side.BID), int(Side.ASK)

# Real frames from capture a (BCHUSDT, linear) and b (EOSUSD, inverse).
SNAP_LINEAR = (b'{"topic":"orderBookL2_25.BCHUSDT","type":"snapshot","data":{"order_book":['
               b'{"price":"1053.05","symbol":"BCHUSDT","id":"10530500","side":"Buy","size":2.63},'
               b'{"price":"1054.50","symbol":"BCHUSDT","id":"10545000","side":"Sell","size":30},'
               b'{"price":"1055.15","symbol":"BCHUSDT","id":"10551500","side":"Sell","size":12.849999}]},'
               b'"cross_seq":"864131773","timestamp_e6":"1618677786389362"}')
DELTA_LINEAR = (b'{"topic":"orderBookL2_25.BCHUSDT","type":"delta","data":{"delete":[{"price":"1053.80",'
                b'"symbol":"BCHUSDT","id":"10538000","side":"Buy"},{"price":"1055.85","symbol":"BCHUSDT",'
                b'"id":"10558500","side":"Sell"},{"price":"1055.80","symbol":"BCHUSDT","id":"10558000",'
                b'"side":"Sell"}],"update":[{"price":"1053.75","symbol":"BCHUSDT","id":"10537500",'
                b'"side":"Buy","size":17.46},{"price":"1053.85","symbol":"BCHUSDT","id":"10538500",'
                b'"side":"Buy","size":8.85}],"insert":[{"price":"1054.70","symbol":"BCHUSDT",'
                b'"id":"10547000","side":"Sell","size":3.71},{"price":"1052.90","symbol":"BCHUSDT",'
                b'"id":"10529000","side":"Buy","size":7.93}]},"cross_seq":"864131817",'
                b'"timestamp_e6":"1618677786548764"}')
DELTA_INVERSE = (b'{"topic":"orderBookL2_25.EOSUSD","type":"delta","data":{"delete":[],"update":'
                 b'[{"price":"7.971","symbol":"EOSUSD","id":79710,"side":"Buy","size":47766}],'
                 b'"insert":[],"transactTimeE6":0},"cross_seq":1225777225,"timestamp_e6":1618677786598877}')


def test_linear_snapshot_keeps_the_wire_digits() -> None:
    p = BybitLegacy()
    (m,) = p.parse(SNAP_LINEAR, 3)
    assert isinstance(m, BookMessage)
    assert (m.venue, m.symbol, m.kind, m.depth_limit) == ("bybit_legacy", "BCHUSDT", Kind.SNAPSHOT, 25)
    assert (m.last_seq, m.cross_seq, m.ts_exchange_ns, m.ts_recv_ns) == (
        864131773, 864131773, 1618677786389362 * 1000, 3)
    inst = p.instruments.get("BCHUSDT")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (2, 8)
    # 12.849999 is what the venue sent (float noise on its side): kept, not rounded to 12.85.
    assert levels_of(m) == [(BID, 105305, 263000000, ADD), (ASK, 105450, 3000000000, ADD),
                            (ASK, 105515, 1284999900, ADD)]


def test_linear_delta_orders_deletes_updates_inserts() -> None:
    p = BybitLegacy()
    p.parse(SNAP_LINEAR, 0)
    (m,) = p.parse(DELTA_LINEAR, 4)
    assert isinstance(m, BookMessage) and m.kind is Kind.DELTA and m.last_seq == 864131817
    assert levels_of(m) == [
        (BID, 105380, 0, DELETE), (ASK, 105585, 0, DELETE), (ASK, 105580, 0, DELETE),
        (BID, 105375, 1746000000, UPDATE), (BID, 105385, 885000000, UPDATE),
        (ASK, 105470, 371000000, ADD), (BID, 105290, 793000000, ADD)]
    assert m.levels["flags"].tolist() == [0] * 6 + [dtypes.F_LAST]


def test_inverse_delta_has_numeric_ids_and_integer_sizes() -> None:
    p = BybitLegacy()
    (m,) = p.parse(DELTA_INVERSE, 1)
    inst = p.instruments.get("EOSUSD")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (3, 0)
    assert isinstance(m, BookMessage) and (m.last_seq, m.ts_exchange_ns) == (
        1225777225, 1618677786598877000)
    assert levels_of(m) == [(BID, 7971, 47766, UPDATE)]


def test_delete_without_price_uses_the_id_mapping() -> None:
    p = BybitLegacy()
    p.parse(DELTA_INVERSE, 0)
    frame = DELTA_INVERSE.replace(b'"delete":[]', b'"delete":[{"symbol":"EOSUSD","id":79700,"side":"Sell"}]')
    (m,) = p.parse(frame, 0)
    assert levels_of(m)[0] == (ASK, 7970, 0, DELETE)


def test_trades_and_acks() -> None:
    p = BybitLegacy()
    (t,) = p.parse(b'{"topic":"trade.BCHUSDT","data":[{"symbol":"BCHUSDT","tick_direction":"MinusTick",'
                   b'"price":"1053.90","size":0.14,"timestamp":"2021-04-17T16:43:05.000Z",'
                   b'"trade_time_ms":"1618677785116","side":"Buy","trade_id":"01cacfe9"}]}', 7)
    assert t == Trade("bybit_legacy", "BCHUSDT", 105390, 14000000, Side.BID, "01cacfe9", 7,
                      1618677785116 * 10**6)
    (t2,) = p.parse(b'{"topic":"trade.BTCUSD","data":[{"trade_time_ms":1618677786614,"symbol":"BTCUSD",'
                    b'"side":"Sell","size":4,"price":60621.5,"trade_id":"5ffb8b77","cross_seq":5938955347}]}', 8)
    assert isinstance(t2, Trade) and (t2.price, t2.size, t2.aggressor) == (606215, 4, Side.ASK)
    (ack,) = p.parse(b'{"success":true,"ret_msg":"","conn_id":"95a3","request":{"op":"subscribe",'
                     b'"args":["trade.EOSUSD"]}}', 9)
    assert isinstance(ack, Status) and not ack.error and "trade.EOSUSD" in ack.text


@pytest.mark.parametrize("frame", [
    DELTA_INVERSE.replace(b'"id":79710', b'"id":79711'),  # id contradicts price
    DELTA_INVERSE.replace(b'"side":"Buy"', b'"side":"Bid"'),
    DELTA_INVERSE.replace(b'"size":47766', b'"size":-1'),
    DELTA_INVERSE.replace(b'"size":47766', b'"size":0'),
    DELTA_INVERSE.replace(b'"size":47766', b'"size":4.5'),  # finer than the inverse lot
    DELTA_INVERSE.replace(b'"cross_seq":1225777225', b'"cross_seq":"x1"'),
    DELTA_INVERSE.replace(b'"type":"delta"', b'"type":"patch"'),
    DELTA_INVERSE.replace(b'"symbol":"EOSUSD"', b'"symbol":"BTCUSD"'),
    DELTA_INVERSE[:80],
    b'{"topic":"orderBookL2_25.EOSUSD","type":"delta","data":[1,2]}',
    b'{"nothing":true}',
])
def test_malformed_frames_raise_parse_error(frame: bytes) -> None:
    p = BybitLegacy()
    p.parse(DELTA_INVERSE, 0)
    with pytest.raises(ParseError, match="bybit_legacy"):
        p.parse(frame, 0)


def test_sniff_and_registry() -> None:
    assert sniff(frame_record(DELTA_LINEAR)) == "bybit_legacy"
    assert sniff(frame_record(b'{"topic":"orderbook.50.BTCUSDT","type":"delta"}')) is None
    assert isinstance(make_parser("bybit_legacy"), BybitLegacy)


# -- the captures -------------------------------------------------------------------------

def _reference(recs: list[CaptureRecord]) -> dict[str, tuple[list[tuple[int, int]], ...]]:
    """Plain-Python id-keyed books (id -> side, price, size), as the venue defines them."""
    books: dict[str, dict[str, tuple[str, Decimal, Decimal]]] = {}
    for rec in recs:
        o = json.loads(rec.payload, parse_float=Decimal) if rec.payload[:1] == b"{" else {}
        if not str(o.get("topic", "")).startswith("orderBookL2_25."):
            continue
        sym, d = o["topic"].split(".")[1], o["data"]
        if o["type"] == "snapshot":
            rows = d["order_book"] if isinstance(d, dict) else d
            books[sym] = {str(r["id"]): (r["side"], Decimal(r["price"]), Decimal(r["size"])) for r in rows}
            continue
        b = books[sym]
        for r in d["delete"]:
            del b[str(r["id"])]  # the venue never deletes an id it has not sent
        for r in d["update"] + d["insert"]:
            b[str(r["id"])] = (r["side"], Decimal(r["price"]), Decimal(r["size"]))
    out = {}
    for sym, b in books.items():
        pe, se = (2 if sym in ("BCHUSDT", "LTCUSDT", "ETHUSDT", "BTCUSD") else
                  4 if sym == "ADAUSDT" else 3), (8 if sym.endswith("USDT") else 0)
        rows = sorted(((side, p, s) for side, p, s in b.values()), key=lambda x: x[1])
        out[sym] = ([(int(p * 10**pe), int(s * 10**se)) for side, p, s in reversed(rows) if side == "Buy"],
                    [(int(p * 10**pe), int(s * 10**se)) for side, p, s in rows if side == "Sell"])
    return out


@pytest.mark.parametrize("path", [A, B], ids=["a", "b"])
def test_capture_replays_and_matches_the_id_keyed_reference(path: object) -> None:
    recs = records(path)  # type: ignore[arg-type]
    r = replay(BybitLegacy(), recs)
    assert r.parse_errors == []
    want = _reference(recs)
    reports = r.finish()
    assert {x.symbol for x in reports} == set(want)
    for rep in reports:
        assert (rep.state, rep.gaps, rep.resyncs, rep.snapshots, rep.stale_dropped) == (
            "synced", 0, 0, 1, 0), rep.symbol
        book = r.syncs[rep.symbol].view()
        assert book_rows(book, 100) == want[rep.symbol], rep.symbol
        assert book.unknown_deletes == 0 and not book.is_crossed()
        book.check_invariants()


def _bch(recs: list[CaptureRecord]) -> list[int]:
    return indices(recs, lambda r: r.payload.startswith(b'{"topic":"orderBookL2_25.BCHUSDT"'))


def test_swapped_messages_are_a_gap_and_the_book_is_withheld() -> None:
    recs = records(A)
    bch = _bch(recs)
    r = replay(BybitLegacy(), swap(recs, bch[40], bch[41]))
    rep = next(x for x in r.finish() if x.symbol == "BCHUSDT")
    assert (rep.gaps, rep.resyncs, rep.state) == (1, 1, "resyncing")
    sync = r.syncs["BCHUSDT"]
    with pytest.raises(BookNotSynced):
        sync.view()
    r.feed(recs[bch[0]])  # a resubscribe brings a new snapshot: the book is served again
    assert sync.synced


def test_dropped_message_is_invisible_to_sync_but_leaves_unknown_deletes() -> None:
    # cross_seq is not contiguous and there is no previous id: a lost message cannot
    # be seen by the sequence rule (the venue's limit). The id-keyed protocol still
    # betrays it: the venue later deletes levels the lost message inserted, and the
    # core counts those unknown deletes (BookSync does not act on them; see the report).
    recs = records(A)
    bch = _bch(recs)
    lost = next(i for i in bch[1:] if b'"insert":[{' in recs[i].payload)
    r = replay(BybitLegacy(), drop(recs, lost))
    rep = next(x for x in r.finish() if x.symbol == "BCHUSDT")
    assert (rep.gaps, rep.state) == (0, "synced")
    assert r.syncs["BCHUSDT"].book.unknown_deletes > 0


def test_corrupted_size_is_not_detectable() -> None:
    # No checksum: a wrong size is served until the venue updates that id again.
    recs = records(B)
    i = indices(recs, lambda r: b'"cross_seq":1225777225,' in r.payload)[0]
    r = replay(BybitLegacy(), replace(recs, i, b'"size":47766', b'"size":47767'))
    rep = next(x for x in r.finish() if x.symbol == "EOSUSD")
    assert (rep.gaps, rep.state) == (0, "synced")


@settings(max_examples=300, deadline=None)
@given(malformed_frames([SNAP_LINEAR, DELTA_LINEAR, DELTA_INVERSE]))
def test_malformed_frames_never_escape_as_other_errors(frame: bytes) -> None:
    p = BybitLegacy()
    p.parse(SNAP_LINEAR, 0)
    check_parse_contract(p, frame)
