"""Kraken spot WebSocket v1: exact parsing of real frames, every checksum of the
2021 book capture (5 pairs, depth 1000), the checksum vectors, trades and
tickers, and faults injected into the real capture."""

from __future__ import annotations

import json
import zlib
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings

from crossbook import L2Book, Side, dtypes
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord
from crossbook.messages import BookMessage, Kind, Quote, Status, Trade
from crossbook.replay import BookReport
from crossbook.sync import BookNotSynced, BookSync
from crossbook.venues.base import ParseError, wire_decimals
from crossbook.venues.kraken import KrakenV1, kraken_checksum_text, sniff
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

BOOK = CAPTURES / "kraken" / "kraken_book_v1_2021.cap.gz"
TRADES = CAPTURES / "kraken" / "kraken_trade_v1_2021.cap.gz"
TICKER = CAPTURES / "kraken" / "kraken_ticker_v1_2021.cap.gz"

XMR_UPDATE = (b'[992,{"b":[["354.15000000","5.00000000","1618678133.365913"]],"c":"2583817756"},'
              b'"book-1000","XMR/USD"]')
DOC_UPDATE = (b'[0,{"a":[["0.05120","0.00000500","1582905486.493008"],["0.05275","0.00000500",'
              b'"1582905486.493034"]]},{"b":[["0.04765","0.00000500","1582905486.493008"],'
              b'["0.04940","0.00000500","1582905486.493034"]],"c":"974947235"},"book-1000","BTC/USD"]')


def test_update_with_one_side_is_normalized_exactly() -> None:
    p = KrakenV1()
    (m,) = p.parse(XMR_UPDATE, 7)
    assert isinstance(m, BookMessage)
    assert (m.venue, m.symbol, m.kind) == ("kraken", "XMR/USD", Kind.DELTA)
    assert (m.checksum, m.checksum_alg, m.depth_limit) == (2583817756, "kraken_crc32_top10", 1000)
    assert (m.first_seq, m.last_seq, m.prev_seq, m.conn_seq) == (None, None, None, None)
    assert (m.ts_exchange_ns, m.ts_recv_ns) == (1618678133365913000, 7)
    assert m.levels[["side", "price", "size", "ts_exchange_ns", "flags"]].tolist() == [
        (Side.BID, 35415000000, 500000000, 1618678133365913000, dtypes.F_LAST)]
    inst = p.instruments.get("XMR/USD")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (8, 8)


def test_update_in_two_objects_keeps_both_sides_and_the_checksum_of_the_last() -> None:
    (m,) = KrakenV1().parse(DOC_UPDATE, 1)
    assert isinstance(m, BookMessage) and m.kind is Kind.DELTA and m.checksum == 974947235
    assert m.levels[["side", "price", "size"]].tolist() == [
        (Side.BID, 4765, 500), (Side.BID, 4940, 500), (Side.ASK, 5120, 500), (Side.ASK, 5275, 500)]
    assert m.levels["ts_exchange_ns"].tolist() == [1582905486493008000, 1582905486493034000] * 2
    assert m.ts_exchange_ns == 1582905486493034000


def test_republished_levels_are_counted() -> None:
    (m,) = KrakenV1().parse(b'[0,{"a":[["0.05005","0.00000500","1582905487.684110","r"]],'
                            b'"c":"1"},"book-10","BTC/USD"]', 1)
    assert isinstance(m, BookMessage) and m.depth_limit == 10 and m.extra == {"republished": 1}


def test_real_snapshot_matches_an_independent_decimal_parse() -> None:
    rec = next(r for r in records(BOOK) if r.payload.startswith(b'[992,{"as"'))
    (m,) = KrakenV1().parse(rec.payload, rec.recv_ns)
    assert isinstance(m, BookMessage) and m.kind is Kind.SNAPSHOT and m.checksum is None
    body = json.loads(rec.payload)[1]
    want = [(Side.BID, r) for r in body["bs"]] + [(Side.ASK, r) for r in body["as"]]
    got = m.levels[["side", "price", "size", "ts_exchange_ns"]].tolist()
    assert got == [(s, int(Decimal(p) * 10**8), int(Decimal(v) * 10**8), int(Decimal(t) * 10**9))
                   for s, (p, v, t) in want]
    assert got[0] == (Side.BID, 35416000000, 140000000, 1618678133049115000)  # "bs":[["354.16000000","1.40000000","1618678133.049115"]
    assert (m.levels["flags"] & dtypes.F_SNAPSHOT).all() and m.depth_limit == 1000


def test_control_frames_are_status() -> None:
    p = KrakenV1()
    hb, = p.parse(b'{"event":"heartbeat"}', 1)
    sub, = p.parse(b'{"channelID":992,"channelName":"book-1000","event":"subscriptionStatus",'
                   b'"pair":"XMR/USD","status":"subscribed","subscription":{"depth":1000,"name":"book"}}', 2)
    err, = p.parse(b'{"errorMessage":"Currency pair not supported","event":"subscriptionStatus",'
                   b'"pair":"XBT/XYZ","status":"error","subscription":{"name":"book"}}', 3)
    assert hb == Status("kraken", None, "heartbeat", 1)
    assert sub == Status("kraken", "XMR/USD", "subscribed book-1000", 2)
    assert isinstance(err, Status) and err.error and "not supported" in err.text


def test_trades_and_tickers_from_the_real_captures() -> None:
    p = KrakenV1()
    trades = [m for r in records(TRADES) if r.kind.value == "frame" for m in p.parse(r.payload, r.recv_ns)
              if isinstance(m, Trade)]
    rows = [row for r in records(TRADES) if r.payload.startswith(b"[") for row in json.loads(r.payload)[1]]
    assert len(trades) == len(rows) > 0
    assert trades[0] == Trade("kraken", "XMR/USD", 35411000000, 89594024, Side.ASK, None,
                              1618678142592855000, 1618678142557535000)
    assert [t.aggressor for t in trades] == [Side.BID if r[3] == "b" else Side.ASK for r in rows]
    q = KrakenV1()
    quotes = [m for r in records(TICKER) if r.kind.value == "frame" for m in q.parse(r.payload, r.recv_ns)
              if isinstance(m, Quote)]
    assert len(quotes) == sum(1 for r in records(TICKER) if r.payload.startswith(b"["))
    assert quotes[0] == Quote("kraken", "WAVES/EUR", 13232900, 18518432037, 13253900, 3572892241,
                              None, 1618678132949649800, None)


def test_book_capture_reproduces_every_checksum() -> None:
    recs = records(BOOK)
    r = replay(KrakenV1(), recs)
    assert r.parse_errors == []
    with_c: dict[str, int] = {}
    for rec in recs:
        if rec.payload.startswith(b"[") and b'"c":"' in rec.payload:
            pair = json.loads(rec.payload)[-1]
            with_c[pair] = with_c.get(pair, 0) + 1
    reports = {rep.symbol: rep for rep in r.finish()}
    assert set(reports) == {"XMR/USD", "SC/EUR", "WAVES/EUR", "KSM/XBT", "GRT/ETH"}
    for pair, rep in reports.items():
        assert (rep.checksums_failed, rep.gaps, rep.resyncs, rep.snapshots) == (0, 0, 0, 1), pair
        assert rep.checksums_ok == with_c[pair] > 0, pair
        assert rep.state == "synced"
        r.syncs[pair].book.check_invariants()
    assert sum(rep.checksums_ok for rep in reports.values()) == 2595


def _text_rows(book: L2Book, rows: npt.NDArray[np.void]) -> list[list[str]]:
    return [[book.format_price(int(x["price"])), book.format_size(int(x["size"]))] for x in rows]


def test_book_matches_the_recorded_vectors_at_their_messages() -> None:
    wanted = {json.dumps(v["raw_update_message"], separators=(",", ":")).encode(): v
              for v in vectors()["real_recorded_vectors"]["vectors"] if v["venue"] == "kraken_ws_v1"}
    r = replay(KrakenV1(), [])
    seen = 0
    for rec in records(BOOK):
        r.feed(rec)
        v = wanted.get(rec.payload)
        if v is None:
            continue
        seen += 1
        book = r.syncs[v["pair"]].view()
        bids, asks = book.depth(10)
        assert _text_rows(book, asks) == v["top10_asks_after_update_low_to_high"]
        assert _text_rows(book, bids) == v["top10_bids_after_update_high_to_low"]
        assert kraken_checksum_text(book) == v["checksum_input_string"]
    assert seen == 3  # XMR/USD, SC/EUR, WAVES/EUR (ETH/CHF is not in this capture)


def _book_from_rows(bids: list[list[str]], asks: list[list[str]]) -> L2Book:
    pe = wire_decimals(r[0] for r in bids + asks)
    se = wire_decimals(r[1] for r in bids + asks)
    book = L2Book(pe, se)
    for side, rows in ((Side.BID, bids), (Side.ASK, asks)):
        for row in rows:
            book.update(side, parse_fixed(row[0], pe), parse_fixed(row[1], se))
    return book


def test_checksum_vectors_reproduce() -> None:
    data = vectors()
    cases = [(v["top10_bids_high_to_low"], v["top10_asks_low_to_high"], v["checksum_input_string"],
              v["expected_checksum_uint32"]) for v in data["official_doc_examples"] if "kraken" in v["id"]]
    cases += [(v["bids"], v["asks"], v["checksum_input_string"], v["expected_checksum"])
              for v in data["bmoscon_orderbook_test_vectors"]["vectors"] if v["format"] == "KRAKEN"]
    cases += [(v["top10_bids_after_update_high_to_low"], v["top10_asks_after_update_low_to_high"],
               v["checksum_input_string"], v["expected_checksum_uint32"])
              for v in data["real_recorded_vectors"]["vectors"] if v["venue"] == "kraken_ws_v1"]
    assert len(cases) == 9
    for bids, asks, text, expected in cases:
        book = _book_from_rows(bids, asks)
        assert kraken_checksum_text(book) == text
        assert zlib.crc32(text.encode()) == expected


# -- faults injected into the real capture ------------------------------------------------


def _xmr() -> list[CaptureRecord]:
    return [r for r in records(BOOK) if r.payload.startswith(b"[992,")]


def _run(recs: list[CaptureRecord]) -> tuple[BookReport, BookSync]:
    r = replay(KrakenV1(), recs)
    (rep,) = r.finish()
    return rep, r.syncs["XMR/USD"]


def _assert_caught_by_checksum(recs: list[CaptureRecord]) -> None:
    rep, sync = _run(recs)
    assert rep.checksums_failed == 1 and rep.state == "resyncing"
    assert [e.reason.value for e in rep.events][-1] == "checksum_mismatch"
    assert not sync.synced and len(sync.book) == 0
    with pytest.raises(BookNotSynced):
        sync.view()


def test_clean_xmr_stream_passes() -> None:
    rep, _ = _run(_xmr())
    assert (rep.checksums_ok, rep.checksums_failed, rep.state) == (846, 0, "synced")


def test_corrupted_size_is_caught_by_the_checksum() -> None:
    recs = _xmr()
    assert recs[1].payload == XMR_UPDATE  # bid 354.15 is the 2nd best: inside the checksum's top 10
    recs[1] = frame_record(XMR_UPDATE.replace(b'"5.00000000"', b'"5.00000001"'), recs[1].recv_ns)
    _assert_caught_by_checksum(recs)


def test_duplicates_only_harm_when_they_come_late() -> None:
    # No sequence numbers: an immediate duplicate re-sets the same absolute sizes,
    # so it is harmless and passes its checksum again; a late one re-applies old
    # sizes over newer ones, and the checksum catches that.
    recs = _xmr()
    rep, sync = _run(recs[:31] + [recs[30]] + recs[31:])
    _, clean = _run(recs)
    assert (rep.checksums_ok, rep.checksums_failed) == (847, 0)
    for side in (Side.BID, Side.ASK):
        assert np.array_equal(sync.book.levels(side), clean.book.levels(side))
    # The first level each update sets: "side price" and size ("" for the snapshot).
    first = [next(((f"{k} {v[0][0]}", v[0][1]) for k, v in json.loads(r.payload)[1].items()
                   if k in ("a", "b")), ("", "")) for r in recs]
    early, late = next((i, j) for i in range(1, 200) for j in range(i + 1, 200)
                       if first[i][0] and first[i][0] == first[j][0] and first[i][1] != first[j][1])
    _assert_caught_by_checksum(recs[:late + 1] + [recs[early]] + recs[late + 1:])


# -- robustness ---------------------------------------------------------------------------


def test_value_finer_than_the_pair_precision_is_an_error_naming_it() -> None:
    p = KrakenV1()
    p.parse(XMR_UPDATE, 1)
    with pytest.raises(ParseError, match="354.150000001"):
        p.parse(XMR_UPDATE.replace(b"354.15000000", b"354.150000001"), 2)


@pytest.mark.parametrize("bad", [
    b'[992,{"b":[["354.15","5.0"]],"c":"1"},"book-1000","XMR/USD"]',
    b'[992,{"b":[["354.15","-5.0","1.0"]]},"book-1000","XMR/USD"]',
    b'[992,{"b":[["354.15","5.0","1.0"]],"c":"99999999999"},"book-1000","XMR/USD"]',
    b'[992,{"as":[],"c":"1"},"book-1000","XMR/USD"]',
    b'[992,{"x":[]},"book-1000","XMR/USD"]',
    b'[992,{"b":[["354.15","5.0","1.0","q"]]},"book-1000","XMR/USD"]',
    b'[992,"book-1000","XMR/USD"]', b'{"no":"event"}', b'[1,2,3,4]', b'"x"',
])
def test_malformed_frames_raise_parse_error(bad: bytes) -> None:
    with pytest.raises(ParseError, match="kraken"):
        KrakenV1().parse(bad, 0)


def test_sniffing_recognises_the_captures() -> None:
    for path in (BOOK, TRADES, TICKER):
        assert sniff_venue(records(path)) == "kraken"
    assert sniff(frame_record(b'{"feed":"book","product_id":"PI_XBTUSD"}')) is None
    assert sniff(frame_record(b'[225206,[279380,1,0.0089],19]')) is None


_SAMPLES = [XMR_UPDATE, DOC_UPDATE,
            b'[992,{"as":[["354.8","1.4","1618678133.020508"]],"bs":[["354.1","1.4","1.5"]]},"book-10","XMR/USD"]',
            b'[993,[["354.11000000","0.89594024","1618678142.557535","s","l",""]],"trade","XMR/USD"]',
            b'[996,{"a":["355.24000000",27,"27.19106411"],"b":["354.32000000",6,"6.87748868"]},"ticker","XMR/USD"]',
            b'[0,["5698.40000","5700.00000","1542057299.545897","1.01234567","0.98765432"],"spread","XBT/USD"]',
            b'{"channelID":992,"channelName":"book-1000","event":"subscriptionStatus","pair":"XMR/USD"}']


@settings(max_examples=300, deadline=None)
@given(malformed_frames(_SAMPLES))
def test_random_malformed_frames_give_parse_error_or_records(payload: bytes) -> None:
    check_parse_contract(KrakenV1(), payload)
