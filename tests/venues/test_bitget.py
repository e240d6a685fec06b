"""Bitget v1 ``books``: normalized content of real frames, the 2022 spot capture with
every checksum reproduced, the checksum vector (BigDecimal rendering), fault
injection, and malformed frames."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossbook import L2Book, Side, dtypes
from crossbook.io import read_capture
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Instrument, Kind, Quote, Status, Trade, level_events
from crossbook.replay import Replay
from crossbook.sync import BookNotSynced, Reason
from crossbook.venues import okx
from crossbook.venues.base import ParseError

from ..frame_mutations import malformed_frames
from crossbook.venues.bitget import Bitget, bitget_render, sniff
from crossbook.venues.okx import book_levels, interleaved_checksum

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
CAPTURE = DATA / "captures" / "bitget" / "bitget_spot.cap.gz"
VECTORS = DATA / "checksums" / "checksum_test_vectors.json"
MS = 10**6

GOG_UPDATE = (
    b'{"action":"update","arg":{"instType":"sp","channel":"books","instId":"GOGUSDT"},"data":[{"asks":'
    b'[["0.5625","16.3333"],["0.5631","9.0000"],["0.5637","9.6667"],["0.5643","13.0000"],["0.5649","15.6667"],'
    b'["0.5655","2339.4667"],["0.5673","13.6667"],["0.5679","11.0000"],["0.5685","10.3333"],["0.5697","8.7775"],'
    b'["0.5715","15.0000"],["0.5739","8.7133"]],"bids":[["0.5512","15.0667"],["0.5500","9.0919"],'
    b'["0.5488","13.0000"],["0.5482","3682.2333"],["0.5476","9.1318"],["0.5470","15.6667"],["0.5458","9.1619"],'
    b'["0.5452","14.3333"],["0.5446","9.1821"],["0.5440","12.3333"],["0.5428","11.6667"],["0.5422","11.0000"],'
    b'["0.5416","9.2329"],["0.5410","15.0000"]],"checksum":871848329,"ts":"1649290078141"}]}')
HOT_TRADE = (b'{"action":"update","arg":{"instType":"sp","channel":"trade","instId":"HOTUSDT"},'
             b'"data":[["1649290077777","0.005613","890.8","buy"]]}')
HOT_CANDLE = (b'{"action":"update","arg":{"instType":"sp","channel":"candle1m","instId":"HOTUSDT"},"data":'
              b'[["1649290020000","0.00562","0.005623","0.005613","0.005613","8587.44"]]}')
CULT_TICKER = (b'{"action":"snapshot","arg":{"instType":"sp","channel":"ticker","instId":"CULTUSDT"},"data":'
               b'[{"instId":"CULTUSDT","last":"0.00003511","open24h":"0.00004340","high24h":"0.00004397",'
               b'"low24h":"0.00003500","bestBid":"0.000036","bestAsk":"0.000036","baseVolume":"13526500963",'
               b'"quoteVolume":"557426","ts":1649290076193,"labeId":0}]}')


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared real-data set is not available")


# -- golden frames ---------------------------------------------------------------------


def test_real_update_is_normalized_exactly() -> None:
    p = Bitget([Instrument("bitget", "GOGUSDT", 4, 4)])
    (msg,) = p.parse(GOG_UPDATE, 1649290078399372000)
    assert isinstance(msg, BookMessage)
    assert (msg.venue, msg.symbol, msg.kind, msg.depth_limit) == ("bitget", "GOGUSDT", Kind.DELTA, None)
    assert (msg.first_seq, msg.last_seq, msg.prev_seq, msg.cross_seq) == (None, None, None, None)
    assert (msg.checksum, msg.checksum_alg) == (871848329, "bitget_v1_top25")
    assert (msg.ts_exchange_ns, msg.ts_recv_ns) == (1649290078141 * MS, 1649290078399372000)
    assert msg.levels[["side", "price", "size"]].tolist() == [
        (Side.BID, 5512, 150667), (Side.BID, 5500, 90919), (Side.BID, 5488, 130000),
        (Side.BID, 5482, 36822333), (Side.BID, 5476, 91318), (Side.BID, 5470, 156667),
        (Side.BID, 5458, 91619), (Side.BID, 5452, 143333), (Side.BID, 5446, 91821),
        (Side.BID, 5440, 123333), (Side.BID, 5428, 116667), (Side.BID, 5422, 110000),
        (Side.BID, 5416, 92329), (Side.BID, 5410, 150000),
        (Side.ASK, 5625, 163333), (Side.ASK, 5631, 90000), (Side.ASK, 5637, 96667),
        (Side.ASK, 5643, 130000), (Side.ASK, 5649, 156667), (Side.ASK, 5655, 23394667),
        (Side.ASK, 5673, 136667), (Side.ASK, 5679, 110000), (Side.ASK, 5685, 103333),
        (Side.ASK, 5697, 87775), (Side.ASK, 5715, 150000), (Side.ASK, 5739, 87133)]
    assert (msg.levels["count"] == 0).all() and msg.levels["flags"][-1] == dtypes.F_LAST


def test_real_snapshot_fixes_the_wire_precision() -> None:
    _need(CAPTURE)
    rec = next(r for r in read_capture(CAPTURE) if r.payload.startswith(
        b'{"action":"snapshot","arg":{"instType":"sp","channel":"books","instId":"STGUSDT"}'))
    p = Bitget()
    (msg,) = p.parse(rec.payload, rec.recv_ns)
    assert isinstance(msg, BookMessage)
    assert (msg.symbol, msg.kind, msg.checksum, msg.ts_exchange_ns) == (
        "STGUSDT", Kind.SNAPSHOT, -1605082578, 1649290077498 * MS)
    assert p.instruments.get("STGUSDT") == Instrument("bitget", "STGUSDT", 3, 3)
    bids = msg.levels[msg.levels["side"] == Side.BID]
    asks = msg.levels[msg.levels["side"] == Side.ASK]
    assert (len(bids), len(asks)) == (67, 69)
    assert bids[["price", "size"]][:3].tolist() == [(2861, 10542), (2833, 1766), (2806, 3409)]
    assert asks[["price", "size"]][:3].tolist() == [(2917, 60424), (2925, 30436), (2933, 30604)]
    assert (msg.levels["flags"] & dtypes.F_SNAPSHOT).all()


def test_trades_and_control_frames() -> None:
    p = Bitget([Instrument("bitget", "HOTUSDT", 7, 4)])
    (t,) = p.parse(HOT_TRADE, 9)
    assert t == Trade("bitget", "HOTUSDT", 56130, 8908000, Side.BID, None, 9, 1649290077777 * MS)
    for frame in (HOT_CANDLE, CULT_TICKER, b"pong",
                  b'{"event":"subscribe","arg":{"instType":"sp","channel":"books","instId":"CULTUSDT"}}'):
        (s,) = p.parse(frame, 1)
        assert isinstance(s, Status) and not s.error
    (err,) = p.parse(b'{"event":"error","code":30001,"msg":"instType:sp,channel:books doesn\'t exist"}', 2)
    assert isinstance(err, Status) and err.error and "30001" in err.text
    (early,) = Bitget().parse(GOG_UPDATE, 3)  # an update before any snapshot knows no exponents
    assert isinstance(early, Status) and early.error


def test_contract_and_shallow_books_are_named_apart() -> None:
    p = Bitget()
    snap = GOG_UPDATE.replace(b'"action":"update"', b'"action":"snapshot"')
    (spot,) = p.parse(snap, 0)
    (mc,) = p.parse(snap.replace(b'"instType":"sp"', b'"instType":"mc"'), 0)
    (b5,) = p.parse(snap.replace(b'"channel":"books"', b'"channel":"books5"')
                    .replace(b'"action":"snapshot",', b'"action":"update",'), 0)
    assert isinstance(spot, BookMessage) and isinstance(mc, BookMessage) and isinstance(b5, BookMessage)
    assert (spot.symbol, mc.symbol, b5.symbol) == ("GOGUSDT", "MC:GOGUSDT", "GOGUSDT@books5")
    assert (b5.kind, b5.depth_limit, p.depth_limit("GOGUSDT@books5"), p.depth_limit("GOGUSDT")) == (
        Kind.SNAPSHOT, 5, 5, None)


def test_value_too_precise_is_an_error_naming_it() -> None:
    p = Bitget([Instrument("bitget", "GOGUSDT", 4, 4)])
    with pytest.raises(ParseError, match="0.56251"):
        p.parse(GOG_UPDATE.replace(b'"0.5625"', b'"0.56251"'), 0)


# -- checksum --------------------------------------------------------------------------


def test_render_is_java_bigdecimal_to_string() -> None:
    assert [bitget_render(m, e) for m, e in [
        (1452, 12), (1450, 12), (3530, 8), (3100, 3), (1300000000000, 0), (56150, 7), (1, 6), (1, 7)]] == [
        "1.452E-9", "1.450E-9", "0.00003530", "3.100", "1300000000000", "0.0056150", "0.000001", "1E-7"]


def test_bitget_checksum_vector_reproduces() -> None:
    _need(VECTORS)
    (v,) = [v for v in json.loads(VECTORS.read_text())["bmoscon_orderbook_test_vectors"]["vectors"]
            if v["format"] == "BITGET"]
    inst = Bitget().instruments.resolve("X", v["bids"] + v["asks"])
    assert (inst.price_exp, inst.size_exp) == (12, 0)
    book = L2Book(inst.price_exp, inst.size_exp)
    book.apply(level_events(v["bids"], v["asks"], inst.price_exp, inst.size_exp))
    b, a = book_levels(book)
    got, text = interleaved_checksum(b, a, book.price_exp, book.size_exp, bitget_render)
    assert (text, got) == (v["checksum_input_string"], v["expected_checksum_signed_int32"])
    assert got == -574860598 and got & 0xFFFFFFFF == v["expected_checksum"]
    # OKX's rendering (plain, zeros stripped) is a different text and a different checksum.
    assert interleaved_checksum(b, a, book.price_exp, book.size_exp, okx.okx_render)[0] != got


# -- the capture -----------------------------------------------------------------------


def _records() -> list[CaptureRecord]:
    _need(CAPTURE)
    return list(read_capture(CAPTURE))


def _replay(records: list[CaptureRecord]) -> Replay:
    replay = Replay(Bitget())
    for rec in records:
        replay.feed(rec)
    return replay


def _is_book(rec: CaptureRecord) -> bool:
    return rec.kind is RecordKind.FRAME and b'"channel":"books"' in rec.payload[:100] and b'"data"' in rec.payload


def test_capture_reproduces_every_checksum() -> None:
    records = _records()
    replay = _replay(records)
    assert replay.parse_errors == []
    expected: dict[str, int] = {}
    for rec in filter(_is_book, records):
        obj = json.loads(rec.payload)
        expected[obj["arg"]["instId"]] = expected.get(obj["arg"]["instId"], 0) + sum(
            1 for d in obj["data"] if d.get("checksum"))
    reports = {r.symbol: r for r in replay.finish()}
    assert sorted(reports) == sorted(expected) and len(reports) == 8 and sum(expected.values()) == 443
    for symbol, r in reports.items():
        assert (r.checksums_ok, r.checksums_failed) == (expected[symbol], 0), symbol
        assert (r.gaps, r.resyncs, r.snapshots, r.state) == (0, 0, 1, "synced")
        replay.syncs[symbol].book.check_invariants()
    assert (reports["STGUSDT"].best_bid, reports["STGUSDT"].best_ask) == ("1.749 @ 2.861", "46.109 @ 2.915")
    assert (reports["CULTUSDT"].best_bid, reports["CULTUSDT"].best_ask) == (
        "285020 @ 0.00003505", "145214 @ 0.00003530")


def test_sniff_claims_v1_only() -> None:
    from crossbook.replay import open_capture

    _need(CAPTURE)
    parser, _ = open_capture(CAPTURE)
    assert isinstance(parser, Bitget)
    v2 = b'{"action":"snapshot","arg":{"instType":"SPOT","channel":"books","instId":"BTCUSDT"},"data":[]}'
    assert sniff(CaptureRecord(0, RecordKind.FRAME, v2)) is None
    assert sniff(CaptureRecord(0, RecordKind.FRAME, b'{"arg":{"channel":"books","instId":"BTC-USDT"}}')) is None
    assert okx.sniff(CaptureRecord(0, RecordKind.FRAME, GOG_UPDATE)) is None


# -- fault injection: no sequence numbers, so the checksum is the only detector --------


def _updates(records: list[CaptureRecord], inst_id: str) -> list[int]:
    head = f'{{"action":"update","arg":{{"instType":"sp","channel":"books","instId":"{inst_id}"}}'.encode()
    return [i for i, r in enumerate(records) if r.payload.startswith(head)]


def _fault_report(replay: Replay, records: list[CaptureRecord], symbol: str = "EOSUSDT") -> Any:
    r = {x.symbol: x for x in replay.finish()}[symbol]
    r = dataclasses.replace(r, events=list(r.events))  # as it stood before the rebuild
    sync = replay.syncs[symbol]
    assert not sync.synced and len(sync.book) == 0
    with pytest.raises(BookNotSynced):
        sync.view()
    snap = next(x for x in records if x.payload.startswith(
        f'{{"action":"snapshot","arg":{{"instType":"sp","channel":"books","instId":"{symbol}"}}'.encode()))
    replay.feed(snap)  # a new snapshot (the original one) rebuilds it
    assert sync.synced and sync.view().check_invariants() is None
    return r


def test_corrupted_size_is_a_checksum_mismatch() -> None:
    records = _records()
    k = _updates(records, "EOSUSDT")[0]
    payload = records[k].payload
    start = payload.index(b'"bids":[["') + 10
    size_at = payload.index(b'","', start) + 3
    bad = payload[:size_at] + (b"9" if payload[size_at:size_at + 1] != b"9" else b"8") + payload[size_at + 1:]
    records[k] = dataclasses.replace(records[k], payload=bad)
    replay = _replay(records)
    r = _fault_report(replay, records)
    assert r.checksums_failed == 1 and [e.reason for e in r.events] == [Reason.SNAPSHOT, Reason.CHECKSUM_MISMATCH]
    assert {x.symbol: x.state for x in replay.finish()}["GOGUSDT"] == "synced"  # others untouched


# -- malformed frames ---------------------------------------------------------------------

_BASES = [GOG_UPDATE, GOG_UPDATE.replace(b'"update"', b'"snapshot"'), HOT_TRADE, HOT_CANDLE, CULT_TICKER]
_frames = malformed_frames(_BASES)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=_frames, known=st.booleans())
def test_malformed_frames_give_parse_error_or_whole_records(frame: bytes, known: bool) -> None:
    p = Bitget([Instrument("bitget", "GOGUSDT", 4, 4), Instrument("bitget", "HOTUSDT", 7, 4)] if known else [])
    before = list(p.instruments)
    try:
        out = p.parse(frame, 0)
    except ParseError as exc:
        assert exc.venue == "bitget"
        assert list(p.instruments) == before
        return
    for m in out:
        assert isinstance(m, (BookMessage, Status, Quote, Trade))
        if isinstance(m, BookMessage):
            assert m.levels.dtype == dtypes.LEVEL_EVENT and (m.levels["size"] >= 0).all()
