"""Gate.io spot.order_book_update (REST-aligned) and spot.obu (Order Book V2):
exact parsing of real and documented frames, both sequencing rules, the 10-pair
capture (and an independent oracle inside it), faults, malformed input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from crossbook import L2Book, Side, dtypes
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import EMPTY_LEVELS, BookMessage, Kind, Status, Trade
from crossbook.sync import BookNotSynced, BookSync
from crossbook.sync_rules import Verdict
from crossbook.venues.base import ParseError
from crossbook.venues.gateio import GateObu, GateObuRule, GateRule, GateSpot, sniff
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
    replay,
    swap,
)

CAPTURE = CAPTURES / "gateio" / "gateio_spot.cap.gz"
BID, ASK, UPDATE = int(Side.BID), int(Side.ASK), dtypes.UPDATE
URL = "https://api.gateio.ws/api/v4/spot/order_book?currency_pair=HAI_ETH&limit=100&with_id=true"

# Real records of the capture (the REST body cut to two rows per side).
REST_BODY = (b'{"id":2691446,"asks":[["0.00010396","5876.967"],["0.0001052","16944.291"]],'
             b'"bids":[["0.00010322","5360.209"],["0.00010276","20.80412499"]]}')
PUSH = (b'{"time":1619093538,"channel":"spot.order_book_update","event":"update","result":'
        b'{"t":1619093538766,"e":"depthUpdate","E":1619093538,"s":"HAI_ETH","U":2691447,"u":2691448,'
        b'"b":[["0.00010322","0"]],"a":[["0.00010396","0"]]}}')
PUSH2 = (b'{"time":1619093538,"channel":"spot.order_book_update","event":"update","result":'
         b'{"t":1619093538875,"e":"depthUpdate","E":1619093538,"s":"HAI_ETH","U":2691449,"u":2691452,'
         b'"b":[["0.00010335","5997.415"]],"a":[["0.00010408","6120.906"]]}}')
TRADE = (b'{"time":1619093543,"channel":"spot.trades","event":"update","result":{"id":816995772,'
         b'"create_time":1619093543,"create_time_ms":"1619093543708.2642","side":"sell",'
         b'"currency_pair":"HAI_ETH","amount":"0.2010000000","price":"0.0001032200"}}')
ACK = (b'{"time":1619093532,"channel":"spot.order_book_update","event":"subscribe",'
       b'"result":{"status":"success"}}')
# venues.md 11.2 [DOC-MIRROR]: a full-depth push, and an Order Book V2 increment.
FULL = (b'{"time":1606294781,"time_ms":1606294781236,"channel":"spot.order_book_update","event":"update",'
        b'"result":{"t":1606294781123,"full":true,"l":"100","e":"depthUpdate","E":1606294781,'
        b'"s":"BTC_USDT","U":48776301,"u":48776306,"b":[["19137.74","0.0001"],["19088.37","0"]],'
        b'"a":[["19137.75","0.6135"]]}}')
OBU = (b'{"channel":"spot.obu","result":{"t":1747054612695,"s":"ob.BTC_USDT.50","U":73777715169,'
       b'"u":73777715212,"b":[["104024.5","10343"],["104014.5","509392"]],"a":[["104027.2","0"],'
       b'["104027.4","0"]]},"time_ms":1747054612925}')


def obu(u: int, U: int | None = None, full: bool = False, bids: list[list[str]] | None = None) -> bytes:
    res: dict[str, object] = {"t": 1747054612695, "s": "ob.BTC_USDT.50", "u": u,
                              "b": bids or [], "a": [["104027.2", "1"]]}
    if full:
        res["full"] = True
    if U is not None:
        res["U"] = U
    return json.dumps({"channel": "spot.obu", "result": res, "time_ms": 1747054612925}).encode()


def test_rest_snapshot_push_and_trade_are_normalized_exactly() -> None:
    p = GateSpot()
    (snap,) = p.parse_rest(URL, REST_BODY, 1)
    assert isinstance(snap, BookMessage)
    assert (snap.venue, snap.symbol, snap.kind, snap.last_seq, snap.depth_limit) == (
        "gateio", "HAI_ETH", Kind.SNAPSHOT, 2691446, 100)
    assert (snap.ts_exchange_ns, snap.first_seq) == (None, None)
    inst = p.instruments.get("HAI_ETH")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (8, 10)
    assert levels_of(snap) == [(BID, 10322, 53602090000000, UPDATE), (BID, 10276, 208041249900, UPDATE),
                               (ASK, 10396, 58769670000000, UPDATE), (ASK, 10520, 169442910000000, UPDATE)]
    (d,) = p.parse(PUSH, 2)
    assert isinstance(d, BookMessage)
    assert (d.kind, d.first_seq, d.last_seq, d.depth_limit) == (Kind.DELTA, 2691447, 2691448, 100)
    assert d.ts_exchange_ns == 1619093538766 * 10**6
    assert levels_of(d) == [(BID, 10322, 0, UPDATE), (ASK, 10396, 0, UPDATE)]
    (t,) = p.parse(TRADE, 3)
    # create_time_ms has a fraction of a millisecond: kept exactly, in ns.
    assert t == Trade("gateio", "HAI_ETH", 10322, 2010000000, Side.ASK, "816995772", 3,
                      1619093543708264200)


def test_full_push_replaces_the_book_as_reset_then_snapshot() -> None:
    reset, snap = GateSpot().parse(FULL, 5)
    assert isinstance(reset, BookMessage) and isinstance(snap, BookMessage)
    assert (reset.kind, reset.symbol, len(reset.levels)) == (Kind.RESET, "BTC_USDT", 0)
    assert (snap.kind, snap.last_seq, snap.first_seq, snap.ts_exchange_ns) == (
        Kind.SNAPSHOT, 48776306, None, 1606294781123 * 10**6)
    assert levels_of(snap) == [(BID, 1913774000000, 1000000, UPDATE), (BID, 1908837000000, 0, UPDATE),
                               (ASK, 1913775000000, 6135000000, UPDATE)]


def test_a_full_push_mid_stream_rebuilds_the_synced_book() -> None:
    r = replay(GateSpot(), [CaptureRecord(1, RecordKind.REST, REST_BODY, URL), frame_record(PUSH, 2)])
    full = PUSH2.replace(b'"U":2691449', b'"full":true,"U":2691449')
    r.feed(frame_record(full, 3))
    (rep,) = r.finish()
    assert [e.reason.value for e in rep.events] == ["snapshot", "venue_reset", "snapshot"]
    sync = r.syncs["HAI_ETH"]
    assert sync.synced and sync.last_id == 2691452
    assert book_rows(sync.view()) == ([(10335, 59974150000000)], [(10408, 61209060000000)])


def test_control_frames_and_other_channels() -> None:
    p = GateSpot()
    (ack,) = p.parse(ACK, 1)
    assert isinstance(ack, Status) and not ack.error and "subscribe" in ack.text
    (err,) = p.parse(b'{"time":1,"channel":"spot.order_book_update","event":"subscribe",'
                     b'"error":{"code":2,"message":"invalid argument"},"result":null}', 2)
    assert isinstance(err, Status) and err.error and "invalid argument" in err.text
    (tick,) = p.parse(b'{"time":1619093533,"channel":"spot.tickers","event":"update","result":'
                      b'{"currency_pair":"NEO_BTC","last":"0.0018716","lowest_ask":"0.0018734",'
                      b'"highest_bid":"0.0018697"}}', 3)
    assert isinstance(tick, Status) and not tick.error
    (early,) = p.parse(TRADE, 4)
    assert isinstance(early, Status) and "before any book" in early.text
    (noid,) = p.parse_rest(URL.replace("&with_id=true", ""), REST_BODY, 5)
    assert isinstance(noid, Status) and noid.error


@pytest.mark.parametrize(("frame", "match"), [
    (PUSH.replace(b'"0.00010322","0"', b'"0.000103221","0"'), "0.000103221"),
    (PUSH.replace(b'"0.00010322","0"', b'"0.00010322","-1"'), "negative"),
    (PUSH.replace(b'"U":2691447,', b''), "lacks U"),
    (PUSH.replace(b'"u":2691448', b'"u":"2691448"'), "spot.order_book_update"),
    (PUSH.replace(b'["0.00010322","0"]', b'["0.00010322"]'), "price and a size"),
    (TRADE.replace(b'"sell"', b'"short"'), "side"),
    (TRADE.replace(b'"1619093543708.2642"', b'"1619093543708.2642001"'), "2642001"),
    (b'{"result":{}}', "not a Gate.io v4 message"),
    (b'nul', "not a Gate.io v4 message"),
])
def test_bad_frames_are_parse_errors(frame: bytes, match: str) -> None:
    p = GateSpot()
    p.parse_rest(URL, REST_BODY, 0)
    with pytest.raises(ParseError, match=match):
        p.parse(frame, 0)


def _delta(U: int, u: int) -> BookMessage:
    return BookMessage("gateio", "x", Kind.DELTA, EMPTY_LEVELS, 0, first_seq=U, last_seq=u)


def test_rules() -> None:
    rule = GateRule()
    assert rule.first(100, _delta(90, 100)) is Verdict.STALE  # u < baseId+1
    assert rule.first(100, _delta(95, 103)) is Verdict.APPLY  # U <= baseId+1 <= u
    assert rule.first(100, _delta(102, 103)) is Verdict.GAP  # baseId+1 < U: refetch
    assert rule.next(103, _delta(104, 104)) is Verdict.APPLY
    assert rule.next(103, _delta(105, 106)) is Verdict.GAP  # U > local+1
    obu_rule = GateObuRule()
    assert obu_rule.first(100, _delta(101, 120)) is Verdict.APPLY
    assert obu_rule.next(120, _delta(120, 125)) is Verdict.GAP  # V2 wants U == local+1 exactly
    assert obu_rule.next(120, _delta(110, 120)) is Verdict.STALE
    assert obu_rule.next(None, _delta(1, 2)) is Verdict.GAP


def test_capture_replays_every_pair_to_a_synced_book() -> None:
    r = replay(GateSpot(), records(CAPTURE))
    assert r.parse_errors == []
    reports = {x.symbol: x for x in r.finish()}
    assert len(reports) == 10
    for rep in reports.values():
        assert (rep.state, rep.snapshots, rep.gaps, rep.resyncs, rep.crossed) == ("synced", 1, 0, 0, 0)
        assert [e.reason.value for e in rep.events] == ["first_delta", "snapshot"]
        book = r.syncs[rep.symbol].book
        book.check_invariants()
        assert max(len(book.levels(BID)), len(book.levels(ASK))) <= 100
    assert {s: rep.stale_dropped for s, rep in reports.items()} == {
        "HAI_ETH": 1, "QTUM3S_USDT": 2, "FAST_USDT": 1, "OMG_USDT": 1, "ZKS_ETH": 1, "NEO_BTC": 3,
        "INK_USDT": 1, "DIS_USDT": 0, "BTC_USDC": 2, "NANO_USDT": 1}
    assert (reports["DIS_USDT"].best_bid, reports["DIS_USDT"].best_ask) == (
        "0.1480000000 @ 121.50000000", "0.0089699900 @ 122.23000000")


def test_where_the_first_push_is_a_whole_book_it_rebuilds_the_rest_snapshot_exactly() -> None:
    """An oracle inside the capture: for six pairs Gate's first push (2021, no `full`
    flag) was the whole 100-level book; that book plus the pushes up to the REST id
    must equal the REST snapshot, level for level."""
    recs = records(CAPTURE)
    p = GateSpot()
    first: dict[str, L2Book] = {}
    rest: dict[str, BookMessage] = {}
    done: set[str] = set()
    for rec in recs:
        if rec.kind is RecordKind.REST:
            (s,) = p.parse_rest(rec.url or "", rec.payload, rec.recv_ns)
            assert isinstance(s, BookMessage)
            rest[s.symbol] = s
            continue
        if b'"spot.order_book_update","event":"update"' not in rec.payload:
            continue
        (m,) = p.parse(rec.payload, rec.recv_ns)
        assert isinstance(m, BookMessage) and m.last_seq is not None
        inst = p.instruments.get(m.symbol)
        assert inst is not None
        if m.symbol not in first:
            first[m.symbol] = L2Book(inst.price_exp, inst.size_exp)
        elif m.symbol in rest and m.last_seq > (rest[m.symbol].last_seq or 0):
            done.add(m.symbol)
        if m.symbol not in done:
            first[m.symbol].apply(m.levels)
    matched = set()
    for sym, book in first.items():
        ref = L2Book(book.price_exp, book.size_exp)
        ref.apply(rest[sym].levels)
        if book_rows(book) == book_rows(ref):
            matched.add(sym)
    assert matched == {"HAI_ETH", "QTUM3S_USDT", "OMG_USDT", "ZKS_ETH", "NEO_BTC", "INK_USDT"}


def _pushes(pair: bytes):  # type: ignore[no-untyped-def]
    return lambda rec: b'"s":"' + pair + b'"' in rec.payload and b'"event":"update"' in rec.payload[:100]


def _rest_body(sync: BookSync) -> bytes:
    """A REST snapshot of a synced book, in Gate's text."""
    book = sync.view()
    rows = {side: [[book.format_price(int(p)), book.format_size(int(s))]
                   for p, s, _ in book.levels(side).tolist()] for side in (BID, ASK)}
    return json.dumps({"id": sync.last_id, "bids": rows[BID], "asks": rows[ASK]}).encode()


def test_faults_in_the_capture_are_caught() -> None:
    recs = records(CAPTURE)
    d = indices(recs, _pushes(b"OMG_USDT"))
    r = replay(GateSpot(), drop(recs, d[20]))
    rep = {x.symbol: x for x in r.finish()}["OMG_USDT"]
    assert (rep.gaps, rep.resyncs, rep.state) == (1, 1, "resyncing")
    sync = r.syncs["OMG_USDT"]
    assert sync.needs_snapshot and len(sync.book) == 0
    with pytest.raises(BookNotSynced):
        sync.view()
    # A new REST snapshot (the true book before the lost push's successor, from a clean
    # replay) and the buffered pushes rebuild the book exactly.
    before = replay(GateSpot(), recs[:d[21]]).syncs["OMG_USDT"]
    r.feed(CaptureRecord(1, RecordKind.REST, _rest_body(before), URL.replace("HAI_ETH", "OMG_USDT")))
    assert sync.synced
    assert book_rows(sync.view()) == book_rows(replay(GateSpot(), recs).syncs["OMG_USDT"].view())
    rep = {x.symbol: x for x in replay(GateSpot(), swap(recs, d[20], d[21])).finish()}["OMG_USDT"]
    assert (rep.gaps, rep.state) == (1, "resyncing")
    clean = replay(GateSpot(), recs)
    twice = replay(GateSpot(), duplicate(recs, d[20]))
    rep = {x.symbol: x for x in twice.finish()}["OMG_USDT"]
    assert (rep.gaps, rep.state, rep.stale_dropped) == (0, "synced", 2)
    assert book_rows(twice.syncs["OMG_USDT"].view()) == book_rows(clean.syncs["OMG_USDT"].view())


def test_limit_a_damaged_amount_cannot_be_seen() -> None:
    """spot.order_book_update has no checksum and the capture no top-of-book stream
    with ids: a wrong amount in a delivered push stays in a synced book."""
    recs = records(CAPTURE)
    i = indices(recs, _pushes(b"NEO_BTC"))[-1]
    r = replay(GateSpot(), [*recs[:i], frame_record(recs[i].payload.replace(b'"9.561"', b'"9.562"'))])
    rep = {x.symbol: x for x in r.finish()}["NEO_BTC"]
    assert (rep.gaps, rep.state) == (0, "synced")


def test_depth_is_the_subscriptions_window() -> None:
    p = GateSpot(depth=1)
    better = PUSH.replace(b'"b":[["0.00010322","0"]],"a":[["0.00010396","0"]]',
                          b'"b":[["0.00010330","1"]],"a":[]')
    r = replay(p, [CaptureRecord(1, RecordKind.REST, REST_BODY, URL), frame_record(better, 2)])
    assert book_rows(r.syncs["HAI_ETH"].view()) == ([(10330, 10000000000)], [(10396, 58769670000000)])
    with pytest.raises(ValueError, match="depth"):
        GateSpot(depth=0)


def test_obu_increment_and_full_push() -> None:
    p = GateObu()
    (m,) = p.parse(OBU, 4)
    assert isinstance(m, BookMessage)
    assert (m.venue, m.symbol, m.kind, m.first_seq, m.last_seq, m.depth_limit) == (
        "gateio_obu", "BTC_USDT", Kind.DELTA, 73777715169, 73777715212, 50)
    assert m.ts_exchange_ns == 1747054612695 * 10**6
    assert levels_of(m) == [(BID, 10402450000000, 103430000000000, UPDATE),
                            (BID, 10401450000000, 5093920000000000, UPDATE),
                            (ASK, 10402720000000, 0, UPDATE), (ASK, 10402740000000, 0, UPDATE)]
    (f,) = p.parse(obu(100, full=True, bids=[["104024.5", "2"]]), 5)
    assert isinstance(f, BookMessage) and (f.kind, f.last_seq, f.first_seq) == (Kind.SNAPSHOT, 100, None)
    with pytest.raises(ParseError, match="ob.<pair>.<depth>"):
        p.parse(OBU.replace(b"ob.BTC_USDT.50", b"BTC_USDT"), 6)
    with pytest.raises(ParseError, match="lacks U"):
        p.parse(obu(101), 6)


def test_obu_sequence_gaps_repeats_and_resubscription() -> None:
    frames = [obu(100, full=True, bids=[["104024.5", "2"]]), obu(105, 101), obu(110, 106),
              obu(110, 106),  # repeated: dropped
              obu(120, 112),  # 111 missing: gap
              obu(130, full=True, bids=[["104000.0", "1"]]), obu(131, 131)]
    assert isinstance(make_parser("gateio_obu"), GateObu) and isinstance(make_parser("gateio"), GateSpot)
    r = replay(GateObu(), [frame_record(f, i) for i, f in enumerate(frames)])
    (rep,) = r.finish()
    assert [e.reason.value for e in rep.events] == ["snapshot", "gap", "snapshot"]
    # Dropped: the repeat, and the gapped increment the new full push superseded.
    assert (rep.gaps, rep.stale_dropped, rep.state) == (1, 2, "synced")
    sync = r.syncs["BTC_USDT"]
    assert sync.last_id == 131
    assert book_rows(sync.view()) == ([(10400000000000, 10**10)], [(10402720000000, 10**10)])


def test_sniff() -> None:
    assert sniff(frame_record(PUSH)) == "gateio"
    assert sniff(frame_record(OBU)) == "gateio_obu"
    assert sniff(CaptureRecord(1, RecordKind.REST, REST_BODY, URL)) == "gateio"
    assert sniff(frame_record(TRADE)) is None  # either venue's connection carries trades


@settings(max_examples=300, deadline=None)
@given(malformed_frames([PUSH, PUSH2, TRADE, FULL, ACK]))
def test_malformed_frames_never_escape_as_other_errors(frame: bytes) -> None:
    p = GateSpot()
    p.parse_rest(URL, REST_BODY, 0)
    check_parse_contract(p, frame)
    check_parse_contract(GateSpot(), frame)


@settings(max_examples=200, deadline=None)
@given(malformed_frames([OBU, obu(100, full=True, bids=[["1.5", "2"]])]))
def test_malformed_obu_frames_never_escape_as_other_errors(frame: bytes) -> None:
    check_parse_contract(GateObu(), frame)


@settings(max_examples=200, deadline=None)
@given(malformed_frames([REST_BODY]))
def test_malformed_rest_bodies_never_escape_as_other_errors(body: bytes) -> None:
    try:
        out = GateSpot().parse_rest(URL, body, 0)
    except ParseError:
        return
    assert all(isinstance(m, (BookMessage, Status)) for m in out)
