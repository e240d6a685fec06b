"""dYdX v3 (per-level offsets) and v4: frames parsed exactly, the v3 capture
replayed against a plain-Python offset-aware book, the offset rule on its own,
faults, and malformed input."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings

from crossbook import Side, dtypes
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Kind, Status, Trade
from crossbook.sync import BookNotSynced
from crossbook.venues.base import ParseError
from crossbook.venues.dydx import DydxV3, DydxV4, V3OffsetRule, sniff
from crossbook.venues.registry import make_parser

from ._venue_kit import (
    CAPTURES,
    check_parse_contract,
    book_rows,
    drop,
    duplicate,
    frame_record,
    indices,
    levels_of,
    malformed_frames,
    records,
    replace,
    replay,
    swap,
)

CAPTURE = CAPTURES / "dydx" / "dydx_v3_orderbook.cap.gz"
UPD, DEL = dtypes.UPDATE, dtypes.DELETE
BID, ASK = int(Side.BID), int(Side.ASK)

V3_SNAPSHOT = (b'{"type":"subscribed","connection_id":"60a4","message_id":4,"channel":"v3_orderbook",'
               b'"id":"UMA-USD","contents":{"bids":[{"price":"4","offset":"2663635828","size":"5000"},'
               b'{"price":"10","offset":"2567946490","size":"10"},{"price":"5.02","offset":"2637229687",'
               b'"size":"0"}],"asks":[{"price":"11.3","offset":"2693988195","size":"6673.2"}]}}')
V3_DELTA = (b'{"type":"channel_data","connection_id":"60a4","message_id":21,"id":"UMA-USD",'
            b'"channel":"v3_orderbook","contents":{"offset":"2693988240","bids":[["10","12.5"]],'
            b'"asks":[["11.3","0"]]}}')
V3_TRADES = (b'{"type":"channel_data","connection_id":"60a4","message_id":291,"id":"ETH-USD",'
             b'"channel":"v3_trades","contents":{"trades":[{"size":"0.1","side":"BUY","price":"4215.6",'
             b'"createdAt":"2021-10-28T18:03:51.833Z"}]}}')
V4_SNAPSHOT = (b'{"type":"subscribed","connection_id":"9a75","message_id":1,"channel":"v4_orderbook",'
               b'"id":"ETH-USD","contents":{"bids":[{"price":"3040.6","size":"0.658"},'
               b'{"price":"3009.8","size":"6.645"}],"asks":[{"price":"3073.1","size":"0.022"}]}}')
V4_DELTA = (b'{"type":"channel_data","connection_id":"9a75","message_id":2,"channel":"v4_orderbook",'
            b'"id":"ETH-USD","version":"1.0.0","contents":{"bids":[["3040.6","0"]]}}')
V4_BATCH = (b'{"type":"channel_batch_data","connection_id":"9a75","message_id":3,"channel":"v4_orderbook",'
            b'"id":"ETH-USD","version":"1.0.0","contents":[{"bids":[["3041.2","1.5"]]},'
            b'{"asks":[["3073.1","0.5"]]},{"bids":[["3041.2","0.75"]]}]}')


def test_v3_snapshot_is_a_snapshot_plus_its_offset_table() -> None:
    p = DydxV3()
    snap, companion = p.parse(V3_SNAPSHOT, 8)
    assert isinstance(snap, BookMessage) and isinstance(companion, BookMessage)
    assert (snap.venue, snap.symbol, snap.kind, snap.last_seq, snap.conn_seq, snap.ts_exchange_ns) == (
        "dydx_v3", "UMA-USD", Kind.SNAPSHOT, 4, 4, None)
    inst = p.instruments.get("UMA-USD")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (2, 1)
    # The size-0 level only carries its offset: not in the book, in the table.
    assert levels_of(snap) == [(BID, 400, 50000, UPD), (BID, 1000, 100, UPD), (ASK, 1130, 66732, UPD)]
    assert companion.kind is Kind.DELTA and len(companion.levels) == 0 and companion.last_seq == 4
    sides, prices, sizes, offsets = companion.extra["dydx_v3_snapshot_offsets"]  # type: ignore[misc]
    assert list(zip(sides.tolist(), prices.tolist(), sizes.tolist(), offsets.tolist())) == [
        (BID, 400, 50000, 2663635828), (BID, 1000, 100, 2567946490), (BID, 502, 0, 2637229687),
        (ASK, 1130, 66732, 2693988195)]


def test_v3_delta_carries_its_offset() -> None:
    p = DydxV3()
    p.parse(V3_SNAPSHOT, 0)
    (m,) = p.parse(V3_DELTA, 9)
    assert isinstance(m, BookMessage) and m.kind is Kind.DELTA
    assert (m.last_seq, m.conn_seq, m.extra["offset"]) == (21, 21, 2693988240)
    assert levels_of(m) == [(BID, 1000, 125, UPD), (ASK, 1130, 0, UPD)]


def test_v3_offset_rule_ignores_level_changes_older_than_the_level() -> None:
    p = DydxV3()
    _, companion = p.parse(V3_SNAPSHOT, 0)
    rule = V3OffsetRule()
    assert rule.first(4, companion).value == "apply"  # learns the snapshot's offsets
    # offset 2600000000: newer than the 10 bid (2567946490), older than the 11.3 ask.
    (m,) = p.parse(V3_DELTA.replace(b'"offset":"2693988240"', b'"offset":"2600000000"'), 0)
    assert rule.next(4, m).value == "apply"
    assert levels_of(m) == [(BID, 1000, 125, UPD), (ASK, 1130, 66732, UPD)]  # the ask kept its size
    assert rule.stale_levels == 1
    # A change to the deleted 5.02 bid older than its recorded offset: nothing fresh, dropped.
    (old,) = p.parse(V3_DELTA.replace(b'"offset":"2693988240"', b'"offset":"2600000001"')
                     .replace(b'"message_id":21', b'"message_id":22')
                     .replace(b'"bids":[["10","12.5"]],"asks":[["11.3","0"]]', b'"bids":[["5.02","7"]],"asks":[]'), 0)
    assert rule.next(21, old).value == "stale"
    assert rule.next(22, old).value == "stale" and rule.next(23, old).value == "gap"


def test_v3_trades_and_control_frames() -> None:
    p = DydxV3()
    (t,) = p.parse(V3_TRADES, 5)
    assert t == Trade("dydx_v3", "ETH-USD", 42156, 1, Side.BID, None, 5, 1635444231833000000)
    (c,) = p.parse(b'{"type":"connected","connection_id":"60a4","message_id":0}', 6)
    assert isinstance(c, Status) and not c.error and c.text == "connected"
    (e,) = p.parse(b'{"type":"error","message":"Invalid subscribe message","connection_id":"x",'
                   b'"message_id":3}', 7)
    assert isinstance(e, Status) and e.error and "Invalid subscribe" in e.text


def test_v4_snapshot_delta_and_batch() -> None:
    p = DydxV4()
    (snap,) = p.parse(V4_SNAPSHOT, 1)
    (delta,) = p.parse(V4_DELTA, 2)
    (batch,) = p.parse(V4_BATCH, 3)
    inst = p.instruments.get("ETH-USD")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (1, 3)
    assert isinstance(snap, BookMessage) and (snap.kind, snap.last_seq) == (Kind.SNAPSHOT, 1)
    assert levels_of(snap) == [(BID, 30406, 658, UPD), (BID, 30098, 6645, UPD), (ASK, 30731, 22, UPD)]
    assert isinstance(delta, BookMessage) and (delta.kind, delta.last_seq, delta.extra) == (
        Kind.DELTA, 2, {"version": "1.0.0"})
    assert levels_of(delta) == [(BID, 30406, 0, UPD)]
    assert levels_of(batch) == [(BID, 30412, 1500, UPD), (ASK, 30731, 500, UPD), (BID, 30412, 750, UPD)]
    r = replay(DydxV4(), [frame_record(f, i) for i, f in enumerate((V4_SNAPSHOT, V4_DELTA, V4_BATCH))])
    (rep,) = r.finish()
    assert (rep.state, rep.gaps) == ("synced", 0)
    assert book_rows(r.syncs["ETH-USD"].view()) == ([(30412, 750), (30098, 6645)], [(30731, 500)])
    r.feed(frame_record(V4_BATCH, 9))  # the same message id again: a duplicate
    assert r.syncs["ETH-USD"].stats.stale_dropped == 1
    r.feed(frame_record(V4_DELTA, 10))  # an older id after a newer one: reordered, a gap
    assert not r.syncs["ETH-USD"].synced


def test_v4_trades() -> None:
    (t,) = DydxV4().parse(b'{"type":"channel_data","connection_id":"x","message_id":5,"channel":"v4_trades",'
                          b'"id":"BTC-USD","version":"2.1.0","contents":{"trades":[{"id":"0145","side":"SELL",'
                          b'"size":"0.0003","price":"66686","type":"LIMIT","createdAt":"2026-02-19T05:32:59.174Z",'
                          b'"createdAtHeight":"123"}]}}', 4)
    assert t == Trade("dydx_v4", "BTC-USD", 66686, 3, Side.ASK, "0145", 4, 1771479179174000000)


@pytest.mark.parametrize(("parser", "frame"), [
    (DydxV3, V3_DELTA.replace(b'"offset":"2693988240"', b'"offset":"-1"')),
    (DydxV3, V3_DELTA.replace(b'"offset":"2693988240",', b'')),
    (DydxV3, V3_DELTA.replace(b'["10","12.5"]', b'[10,"12.5"]')),
    (DydxV3, V3_DELTA.replace(b'["10","12.5"]', b'["10","12.55"]')),  # finer than 1 decimal
    (DydxV3, V3_DELTA.replace(b'["10","12.5"]', b'["10","-1"]')),
    (DydxV3, V3_DELTA.replace(b'"message_id":21,', b'')),
    (DydxV3, V3_DELTA.replace(b'"id":"UMA-USD",', b'')),
    (DydxV3, V3_TRADES.replace(b'"BUY"', b'"LONG"')),
    (DydxV3, V3_TRADES.replace(b'18:03:51.833Z', b'18:03:51.833')),
    (DydxV4, V4_BATCH.replace(b'[{"bids"', b'[7,{"bids"')),
    (DydxV4, V4_SNAPSHOT.replace(b'"size":"0.658"', b'"size":"0"')),
    (DydxV4, b'{"type":"mystery"}'),
    (DydxV4, V4_DELTA[:70]),
])
def test_malformed_frames_raise_parse_error(parser: type, frame: bytes) -> None:
    p = parser()
    p.parse(V3_SNAPSHOT if parser is DydxV3 else V4_SNAPSHOT, 0)
    with pytest.raises(ParseError, match="dydx"):
        p.parse(frame, 0)


def test_sniff_and_registry() -> None:
    assert sniff(frame_record(V3_DELTA)) == "dydx_v3"
    assert sniff(frame_record(V4_DELTA)) == "dydx_v4"
    assert sniff(frame_record(b'{"type":"connected","connection_id":"x","message_id":0}')) is None
    assert isinstance(make_parser("dydx_v3"), DydxV3) and isinstance(make_parser("dydx_v4"), DydxV4)


# -- the v3 capture --------------------------------------------------------------------------

def _reference(recs: list[CaptureRecord], exps: dict[str, tuple[int, int]], use_offsets: bool = True
               ) -> dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]]:
    """Plain-Python v3 books: (side, price) -> (offset, size), a change applied only
    when its offset is above the level's (dYdX v3 documentation)."""
    books: dict[str, dict[tuple[str, Decimal], tuple[int, Decimal]]] = {}
    for rec in recs:
        o = json.loads(rec.payload) if rec.kind is RecordKind.FRAME else {}
        if o.get("channel") != "v3_orderbook":
            continue
        c, b = o["contents"], books.setdefault(o["id"], {})
        if o["type"] == "subscribed":
            b.clear()
            for k in ("bids", "asks"):
                for x in c[k]:
                    b[(k, Decimal(x["price"]))] = (int(x["offset"]), Decimal(x["size"]))
            continue
        off = int(c["offset"])
        for k in ("bids", "asks"):
            for px, sz in c[k]:
                cur = b.get((k, Decimal(px)))
                if not use_offsets or cur is None or off > cur[0]:
                    b[(k, Decimal(px))] = (off, Decimal(sz))
    out = {}
    for m, b in books.items():
        pe, se = exps[m]
        side = {k: sorted(((p, s) for (kk, p), (_, s) in b.items() if kk == k and s > 0),
                          reverse=k == "bids") for k in ("bids", "asks")}
        out[m] = tuple([(int(p * 10**pe), int(s * 10**se)) for p, s in side[k]] for k in ("bids", "asks"))
    return out  # type: ignore[return-value]


def test_v3_capture_replays_and_matches_the_offset_aware_reference() -> None:
    recs = records(CAPTURE)
    p = DydxV3()
    r = replay(p, recs)
    assert r.parse_errors == []
    reports = r.finish()
    assert len(reports) == 10
    exps = {i.symbol: (i.price_exp, i.size_exp) for i in p.instruments}
    want = _reference(recs, exps)
    naive = _reference(recs, exps, use_offsets=False)
    differ = 0
    for rep in reports:
        assert (rep.state, rep.gaps, rep.resyncs, rep.snapshots) == ("synced", 0, 0, 1), rep.symbol
        sync = r.syncs[rep.symbol]
        assert book_rows(sync.view(), 5000) == want[rep.symbol], rep.symbol
        differ += book_rows(sync.view(), 5000) != naive[rep.symbol]
        sync.book.check_invariants()
        assert not sync.book.is_crossed()
    # 34 level changes arrive older than the level; ignoring them matters for 2 final books.
    assert sum(r.syncs[s].rule.stale_levels for s in r.syncs) == 34  # type: ignore[attr-defined]
    assert differ == 2
    assert (reports[0].symbol, reports[0].best_bid, reports[0].best_ask) == (
        "ETH-USD", "222.960 @ 4215.5", "100.530 @ 4215.6")


def _eth(recs: list[CaptureRecord]) -> list[int]:
    return indices(recs, lambda r: b'"channel_data"' in r.payload[:30]
                   and b'"id":"ETH-USD","channel":"v3_orderbook"' in r.payload[:200])


def test_v3_swapped_messages_are_a_gap_and_the_book_is_withheld() -> None:
    recs = records(CAPTURE)
    eth = _eth(recs)
    r = replay(DydxV3(), swap(recs, eth[100], eth[101]))
    rep = next(x for x in r.finish() if x.symbol == "ETH-USD")
    assert (rep.gaps, rep.resyncs, rep.state) == (1, 1, "resyncing")
    sync = r.syncs["ETH-USD"]
    with pytest.raises(BookNotSynced):
        sync.view()
    resub = next(i for i, x in enumerate(recs) if b'"subscribed"' in x.payload[:30]
                 and b'"v3_orderbook","id":"ETH-USD"' in x.payload[:200])
    r.feed(recs[resub])  # a resubscription's snapshot rebuilds it
    assert sync.synced


def test_v3_dropped_message_or_corrupted_size_are_not_detectable() -> None:
    # message_id counts the whole connection, so one book sees holes anyway, and
    # there is no checksum: a lost message or a wrong size cannot be seen (the limit).
    recs = records(CAPTURE)
    eth = _eth(recs)
    for faulty in (drop(recs, eth[100]),
                   replace(recs, eth[100], b'"contents":{"offset":"', b'"contents":{"offset":"1')):
        r = replay(DydxV3(), faulty)
        rep = next(x for x in r.finish() if x.symbol == "ETH-USD")
        assert (rep.gaps, rep.state) == (0, "synced")


@settings(max_examples=200, deadline=None)
@given(malformed_frames([V3_SNAPSHOT, V3_DELTA, V3_TRADES]))
def test_v3_malformed_frames_never_escape_as_other_errors(frame: bytes) -> None:
    p = DydxV3()
    p.parse(V3_SNAPSHOT, 0)
    check_parse_contract(p, frame)


@settings(max_examples=200, deadline=None)
@given(malformed_frames([V4_SNAPSHOT, V4_DELTA, V4_BATCH]))
def test_v4_malformed_frames_never_escape_as_other_errors(frame: bytes) -> None:
    p = DydxV4()
    p.parse(V4_SNAPSHOT, 0)
    check_parse_contract(p, frame)
