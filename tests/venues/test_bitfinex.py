"""Bitfinex v2 books: exact parsing of real frames, the 2021 P0 capture (SEQ_ALL,
connection sequence 1..1670 with no hole) against a plain-Python book, the
checksum vectors (JavaScript number rendering, signed CRC32), and faults."""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings

from crossbook import L2Book, Side, dtypes
from crossbook.io.capture import CaptureRecord
from crossbook.messages import BookMessage, Instrument, Kind, Quote, Status, Trade
from crossbook.replay import Replay
from crossbook.sync import BookNotSynced
from crossbook.venues._jsonnum import decimals, mantissa
from crossbook.venues.base import ParseError
from crossbook.venues.bitfinex import (
    Bitfinex,
    bitfinex_checksum_text,
    js_number,
    raw_book_checksum,
    sniff,
)
from crossbook.venues.registry import sniff_venue

from ._venue_kit import (
    CAPTURES,
    check_parse_contract,
    frame_record,
    malformed_frames,
    records,
    replay,
    vectors,
)

CAPTURE = CAPTURES / "bitfinex" / "bitfinex_book_p0.cap.gz"
ACK = (b'{"event":"subscribed","channel":"book","chanId":225206,"symbol":"tDOGUSD","prec":"P0",'
       b'"freq":"F0","len":"100","pair":"DOGUSD"}')
SNAP = b"[225206,[[277520,1,0.00383141],[277510,1,0.027],[283460,1,-0.0011],[283510,2,-0.5]],16]"


def _primed() -> Bitfinex:
    p = Bitfinex()
    p.parse(ACK, 1)
    p.parse(SNAP, 2)
    return p


def test_real_snapshot_is_normalized_exactly() -> None:
    rec = next(r for r in records(CAPTURE) if r.payload.startswith(b"[225206,[["))
    p = Bitfinex()
    assert p.parse(ACK, 1) == [Status("bitfinex", "tDOGUSD", "subscribed book chanId=225206", 1)]
    (m,) = p.parse(rec.payload, rec.recv_ns)
    assert isinstance(m, BookMessage)
    assert (m.venue, m.symbol, m.kind, m.depth_limit) == ("bitfinex", "tDOGUSD", Kind.SNAPSHOT, 100)
    assert (m.last_seq, m.conn_seq, m.prev_seq, m.checksum, m.ts_exchange_ns) == (16, 16, None, None, None)
    assert p.instruments.get("tDOGUSD") == Instrument("bitfinex", "tDOGUSD", 8, 8)
    rows = json.loads(rec.payload, parse_float=Decimal)[1]
    assert m.levels[["side", "price", "size", "count"]].tolist() == [
        (Side.BID if a > 0 else Side.ASK, int(pr * 10**8), int(abs(a) * 10**8), c) for pr, c, a in rows]
    assert m.levels[["side", "price", "size", "count"]].tolist()[8] == (Side.BID, 27331000000000, 62800000, 2)
    assert (m.levels["flags"] & dtypes.F_SNAPSHOT).all()


def test_updates_deletes_heartbeats_and_checksum_frames() -> None:
    p = _primed()
    other = [b'[999,"hb",%d]' % n for n in (17, 20, 21, 22)]  # numbers taken by another channel
    assert p.parse(other[0], 3) == [Status("bitfinex", None, "frame for an unknown channel (hb)", 3)]
    (d,) = p.parse(b"[225206,[215350,0,1],18]", 3)
    (u,) = p.parse(b"[225206,[279380,1,0.0089],19]", 4)
    for o in other[1:]:
        p.parse(o, 4)
    (a,) = p.parse(b"[225206,[283460,0,-1],23]", 5)
    assert isinstance(d, BookMessage) and isinstance(u, BookMessage) and isinstance(a, BookMessage)
    assert (d.kind, d.prev_seq, d.last_seq, d.conn_seq) == (Kind.DELTA, 16, 18, 18)
    assert d.levels[["side", "price", "size", "count"]].tolist() == [(Side.BID, 21535000000000, 0, 0)]
    assert (u.prev_seq, u.last_seq) == (18, 19)
    assert u.levels[["side", "price", "size", "count"]].tolist() == [(Side.BID, 27938000000000, 890000, 1)]
    assert (a.prev_seq, a.last_seq) == (19, 23)
    assert a.levels[["side", "price", "size"]].tolist() == [(Side.ASK, 28346000000000, 0)]
    (hb,) = p.parse(b'[225206,"hb",24]', 6)
    assert isinstance(hb, BookMessage) and (hb.kind, hb.last_seq, hb.prev_seq) == (Kind.HEARTBEAT, 24, 23)
    (cs,) = p.parse(b'[225206,"cs",-1582707309,25]', 7)
    assert isinstance(cs, BookMessage) and (cs.kind, cs.checksum, cs.checksum_alg) == (
        Kind.DELTA, 2712259987, "bitfinex_crc32_top25")
    assert len(cs.levels) == 0 and (cs.prev_seq, cs.last_seq) == (24, 25)


def test_trades_tickers_and_events() -> None:
    p = Bitfinex()
    p.parse(b'{"event":"subscribed","channel":"trades","chanId":7,"symbol":"tBFTUSD","pair":"BFTUSD"}', 0)
    p.parse(b'{"event":"subscribed","channel":"ticker","chanId":8,"symbol":"tBFTUSD","pair":"BFTUSD"}', 0)
    t1, t2 = p.parse(b"[7,[[669899159,1618665870435,166.391496,0.076989],"
                     b"[669898213,1618661110078,-2272.50116833,0.068961]],8]", 1)
    assert t1 == Trade("bitfinex", "tBFTUSD", 7698900, 16639149600, Side.BID, "669899159", 1, 1618665870435 * 10**6)
    assert t2 == Trade("bitfinex", "tBFTUSD", 6896100, 227250116833, Side.ASK, "669898213", 1, 1618661110078 * 10**6)
    (te,) = p.parse(b'[7,"te",[669899160,1618665870500,-10.5,0.076985],9]', 2)
    assert isinstance(te, Trade) and (te.size, te.aggressor) == (1050000000, Side.ASK)
    (tu,) = p.parse(b'[7,"tu",[669899160,1618665870500,-10.5,0.076985],10]', 3)
    assert isinstance(tu, Status) and not tu.error
    (q,) = p.parse(b"[8,[0.068965,60157.36709703,0.0774,48578.50804052,0.001969,0.0262,0.076989,"
                   b"101459.39453471,0.0828,0.068961],11]", 4)
    assert q == Quote("bitfinex", "tBFTUSD", 6896500, 6015736709703, 7740000, 4857850804052, None, 4)
    # Bitfinex sums ticker sizes in floating point; such a size is reported, never rounded.
    (noisy,) = p.parse(b"[8,[0.0010261,168741.00600069,0.0010274,19203.444049780002,0,0,0,0,0,0],12]", 5)
    assert isinstance(noisy, Status) and "19203.444049780002" in noisy.text
    events = [b'{"event":"conf","status":"OK","flags":65536}',
              b'{"event":"error","msg":"symbol: invalid","code":10300}',
              b'{"event":"info","code":20051,"msg":"Stopping. Please try to reconnect"}',
              b'{"event":"unsubscribed","status":"OK","chanId":8}']
    conf, err, restart, unsub = (p.parse(e, 6)[0] for e in events)
    assert conf == Status("bitfinex", None, "conf OK flags=65536", 6)
    assert isinstance(err, Status) and err.error and isinstance(restart, Status) and restart.error
    assert unsub == Status("bitfinex", "tBFTUSD", "unsubscribed", 6)


def test_capture_replays_against_a_plain_python_book() -> None:
    recs = records(CAPTURE)
    r = replay(Bitfinex(), recs)
    assert r.parse_errors == []
    chans: dict[int, str] = {}
    seqs: list[int] = []
    ref: dict[str, dict[tuple[int, Decimal], Decimal]] = defaultdict(dict)
    count: dict[str, int] = defaultdict(int)
    for rec in recs:
        if rec.kind.value != "frame":
            continue
        d = json.loads(rec.payload, parse_float=Decimal)
        if isinstance(d, dict):
            if d.get("event") == "subscribed" and d["channel"] == "book":
                chans[d["chanId"]] = d["symbol"]
            continue
        seqs.append(d[-1])
        sym = chans.get(d[0])
        if sym is None:
            continue
        count[sym] += 1
        if isinstance(d[1], list):
            rows = d[1] if isinstance(d[1][0], list) else [d[1]]
            for price, cnt, amount in rows:
                key = (Side.BID if amount > 0 else Side.ASK, price)
                if cnt:
                    ref[sym][key] = abs(amount)
                else:
                    ref[sym].pop(key, None)
    assert seqs == list(range(1, 1671))  # the capture's own oracle: no hole on the connection
    reports = r.finish()
    assert {rep.symbol for rep in reports} == set(chans.values()) and len(reports) == 7
    for rep in reports:
        assert (rep.gaps, rep.resyncs, rep.snapshots, rep.stale_dropped, rep.state) == (0, 0, 1, 0, "synced")
        assert rep.messages == count[rep.symbol]
        book = r.syncs[rep.symbol].view()
        book.check_invariants()
        ours = {(side, Decimal(book.format_price(int(x["price"])))): Decimal(book.format_size(int(x["size"])))
                for side in (Side.BID, Side.ASK) for x in book.levels(side)}
        assert ours == ref[rep.symbol], rep.symbol


# -- checksums ---------------------------------------------------------------------------


def _bitfinex_vectors(fmt: str) -> list[dict[str, Any]]:
    vs = [v for v in vectors()["bmoscon_orderbook_test_vectors"]["vectors"] if v["format"] == fmt]
    assert vs
    return vs


def test_js_number_rendering() -> None:
    cases = {(2, 7): "2e-7", (15, 8): "1.5e-7", (1, 6): "0.000001", (63976, 0): "63976", (2000000, 0): "2000000",
             (-554122, 8): "-0.00554122", (7815425, 8): "0.07815425", (10**22, 0): "1e+22", (0, 8): "0",
             (123000, 3): "123", (-25, 9): "-2.5e-8"}
    assert {k: js_number(*k) for k in cases} == cases


def test_p_book_checksum_vectors_reproduce() -> None:
    for v in _bitfinex_vectors("BITFINEX"):
        rows = v["bids"] + v["asks"]
        pe = max(decimals(Decimal(r[0])) for r in rows)
        se = max(decimals(Decimal(r[1])) for r in rows)
        book = L2Book(pe, se)
        for side, key in ((Side.BID, "bids"), (Side.ASK, "asks")):
            for price, amount in v[key]:
                book.update(side, mantissa(Decimal(price), pe), mantissa(Decimal(amount), se))
        text = bitfinex_checksum_text(book)
        assert text == v["checksum_input_string"]
        crc = zlib.crc32(text.encode())
        assert crc == v["expected_checksum"]
        assert (crc - 2**32 if crc >= 2**31 else crc) == v["expected_checksum_signed_int32"]


def test_raw_book_checksum_vectors_reproduce() -> None:
    for v in _bitfinex_vectors("BITFINEX_L3_RAW"):
        bids = [(r[0], r[2]) for r in v["bids"]]
        asks = [(r[0], r[2]) for r in v["asks"]]
        assert raw_book_checksum(bids, asks) == v["expected_checksum_signed_int32"]


def _vector_frames(v: dict[str, Any], corrupt: bool = False) -> list[bytes]:
    def row(r: list[str], sign: int) -> str:
        return f"[{Decimal(r[0])},1,{Decimal(r[1]) * sign}]"

    rows = [row(r, 1) for r in v["bids"]] + [row(r, -1) for r in v["asks"]]
    if corrupt:
        rows[3] = rows[3].replace(",1,", ",1,1")
    return [b'{"event":"subscribed","channel":"book","chanId":5,"symbol":"tBTCUSD","prec":"P0","len":"25"}',
            f"[5,[{','.join(rows)}],1]".encode(), b'[5,"cs",%d,2]' % v["expected_checksum_signed_int32"]]


def test_checksum_frames_are_verified_and_a_corrupted_size_is_caught() -> None:
    for v in _bitfinex_vectors("BITFINEX"):
        r = replay(Bitfinex(), [frame_record(f, i) for i, f in enumerate(_vector_frames(v))])
        (rep,) = r.finish()
        assert (rep.checksums_ok, rep.checksums_failed, rep.state) == (1, 0, "synced")
    r = replay(Bitfinex(), [frame_record(f, i) for i, f in enumerate(_vector_frames(v, corrupt=True))])
    (rep,) = r.finish()
    assert (rep.checksums_ok, rep.checksums_failed, rep.state) == (0, 1, "resyncing")
    with pytest.raises(BookNotSynced):
        r.syncs["tBTCUSD"].view()


# -- faults in the real capture --------------------------------------------------------


def _frames() -> list[CaptureRecord]:
    return records(CAPTURE)


def _index(recs: list[CaptureRecord], seq: int) -> int:
    return next(i for i, r in enumerate(recs) if r.payload.startswith(b"[") and r.payload.endswith(b",%d]" % seq))


def _synced_at(recs: list[CaptureRecord], i: int) -> set[str]:
    r = replay(Bitfinex(), recs[:i])
    return {s for s, sync in r.syncs.items() if sync.synced}


def _assert_every_book_stopped(r: Replay, books: set[str]) -> None:
    reports = {rep.symbol: rep for rep in r.finish()}
    for s in books:
        assert (reports[s].gaps, reports[s].state) == (1, "resyncing"), s
        assert [e.reason.value for e in reports[s].events][-1] == "gap"
        assert not r.syncs[s].synced and len(r.syncs[s].book) == 0
        with pytest.raises(BookNotSynced):
            r.syncs[s].view()


def test_a_lost_frame_on_any_channel_stops_every_book() -> None:
    recs = _frames()
    acks = [json.loads(r.payload) for r in recs if b'"event":"subscribed"' in r.payload]
    not_book = {b"[%d," % a["chanId"] for a in acks if a["channel"] != "book"}
    # A ticker or trades frame: the loss of any frame is a hole in the one sequence.
    i = next(i for i, r in enumerate(recs) if i > len(recs) // 2 and r.payload[:8] in not_book)
    books = _synced_at(recs, i)
    assert len(books) == 7
    r = replay(Bitfinex(), recs[:i] + recs[i + 1:])
    _assert_every_book_stopped(r, books)


def test_swapped_frames_stop_every_book() -> None:
    recs = _frames()
    i = _index(recs, 800)
    books = _synced_at(recs, i)
    recs[i], recs[i + 1] = recs[i + 1], recs[i]
    _assert_every_book_stopped(replay(Bitfinex(), recs), books)


def test_duplicate_book_frame_is_dropped_as_stale() -> None:
    recs = _frames()
    i = _index(recs, 900)
    assert not recs[i].payload.endswith(b'"hb",900]')
    parser = Bitfinex()
    replay(parser, recs[: i + 1])
    status, again = parser.parse(recs[i].payload, 0)
    assert isinstance(status, Status) and status.error and "duplicate or late" in status.text
    assert isinstance(again, BookMessage) and (again.last_seq, again.prev_seq) == (900, None)
    r = replay(Bitfinex(), recs[: i + 1] + [recs[i]] + recs[i + 1:])
    reports = r.finish()
    assert sum(rep.gaps for rep in reports) == 0 and all(rep.state == "synced" for rep in reports)
    assert sum(rep.stale_dropped for rep in reports) == 1


def test_new_connection_voids_the_books() -> None:
    recs = _frames()
    r = replay(Bitfinex(), [*recs, frame_record(b'{"event":"info","version":2,"platform":{"status":1}}', 2**62)])
    reports = r.finish()
    assert len(reports) == 7
    assert all(rep.state == "resyncing" and rep.events[-1].reason.value == "venue_reset" for rep in reports)


# -- robustness ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    b"[225206,[279380,1,0],19]", b"[225206,[279380,-1,1],19]", b"[225206,[-5,1,1],19]",
    b'[225206,[279380,1,"1"],19]', b"[225206,[279380,1,0.0089],-19]", b"[225206,[279380,1,0.0089],19,20]",
    b"[225206,[279380,1,0.000000001],19]", b'[225206,"cs",4294967296,19]', b'[225206,"zz",19]',
    b"[225206]", b'["x",[1,1,1]]', b'{"chanId":1}', b'"hb"', b"[225206,[[1,1,1],[2,1]],19]",
])
def test_malformed_frames_raise_parse_error_and_leave_the_sequence_alone(bad: bytes) -> None:
    p = _primed()
    with pytest.raises(ParseError, match="bitfinex"):
        p.parse(bad, 0)
    (m,) = p.parse(b"[225206,[279380,1,0.0089],17]", 0)
    assert isinstance(m, BookMessage) and m.prev_seq == 16  # the refused frame took no number


def test_sniffing() -> None:
    assert sniff_venue(records(CAPTURE)) == "bitfinex"
    assert sniff(frame_record(ACK)) == "bitfinex"
    assert sniff(frame_record(b"[225206,[279380,1,0.0089],19]")) is None
    assert sniff(frame_record(b'{"event":"info","version":1}')) is None
    assert sniff(frame_record(b'{"time":1,"channel":"spot.order_book_update","event":"subscribe"}')) is None


_SAMPLES = [SNAP, b"[225206,[279380,1,0.0089],19]", b'[225206,"hb",20]', b'[225206,"cs",-1582707309,21]',
            ACK, b'{"event":"info","version":2}', b'{"event":"conf","status":"OK","flags":65536}',
            b"[7,[[669899159,1618665870435,166.391496,0.076989]],8]", b'[7,"te",[1,2,-10.5,0.07],9]',
            b"[8,[0.068965,60157.36709703,0.0774,48578.50804052,0.001969,0.0262,0.076989,1,0.08,0.06],11]"]


@settings(max_examples=300, deadline=None)
@given(malformed_frames(_SAMPLES))
def test_random_malformed_frames_give_parse_error_or_records(payload: bytes) -> None:
    p = _primed()
    p.parse(b'{"event":"subscribed","channel":"trades","chanId":7,"symbol":"tBFTUSD"}', 0)
    p.parse(b'{"event":"subscribed","channel":"ticker","chanId":8,"symbol":"tBFTUSD"}', 0)
    check_parse_contract(p, payload)
