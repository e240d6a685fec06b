"""KuCoin /market/level2: exact parsing of real and documented frames, the
sequenceStart/sequenceEnd rule, the 9-symbol capture checked against KuCoin's own
ticker at every equal sequence, faults, and malformed input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from crossbook import Side, dtypes
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import EMPTY_LEVELS, BookMessage, Kind, Quote, Status, Trade
from crossbook.sync import BookNotSynced, BookSync
from crossbook.sync_rules import Verdict
from crossbook.venues.base import ParseError
from crossbook.venues.kucoin import Kucoin, KucoinRule, sniff

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

CAPTURE = CAPTURES / "kucoin" / "kucoin_level2.cap.gz"
BID, ASK, UPDATE = int(Side.BID), int(Side.ASK), dtypes.UPDATE
URL = "https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=SNX-BTC"

# Real records of the capture (the REST body cut to two rows per side).
REST_BODY = (b'{"code":"200000","data":{"time":1619378326842,"sequence":"1612844051657","bids":'
             b'[["0.00028678","3.70422021"],["0.00028624","0.01333209"]],"asks":[["0.00028717",'
             b'"14.04274325"],["0.00028734","40.10362848"]]}}')
DELTA = (b'{"data":{"sequenceStart":1612844051659,"symbol":"SNX-BTC","changes":{"asks":[["0.00028717",'
         b'"43.28845008","1612844051659"]],"bids":[]},"sequenceEnd":1612844051659},'
         b'"subject":"trade.l2update","topic":"/market/level2:SNX-BTC","type":"message"}')
NO_PRICE = (b'{"data":{"sequenceStart":1613277183874,"symbol":"BCHSV-USDT","changes":{"asks":'
            b'[["0","0","1613277183874"]],"bids":[]},"sequenceEnd":1613277183874},'
            b'"subject":"trade.l2update","topic":"/market/level2:BCHSV-USDT","type":"message"}')
DAPPT_BODY = REST_BODY.replace(b'"0.00028678"', b'"0.0000001117"')  # a DAPPT-BTC book (10 decimals)
TICKER = (b'{"data":{"sequence":"1612844051653","bestAsk":"0.00028717","size":"0.01745248",'
          b'"bestBidSize":"3.70422021","price":"0.00028676","time":1619378326323,'
          b'"bestAskSize":"14.04274325","bestBid":"0.00028678"},"subject":"trade.ticker",'
          b'"topic":"/market/ticker:SNX-BTC","type":"message"}')
MATCH = (b'{"data":{"symbol":"DAPPT-BTC","sequence":"1612701563869","side":"buy","size":"81.8814",'
         b'"price":"0.0000001117","takerOrderId":"6085c097587c2000060cde57","time":"1619378327739050725",'
         b'"type":"match","makerOrderId":"6085c06144b3790006512a4d","tradeId":"6085c09769bc506996295e36"},'
         b'"subject":"trade.l3match","topic":"/market/match:DAPPT-BTC","type":"message"}')
# venues.md 11.1 [DOC]: KuCoin's current example (with "time").
DOC = (b'{"topic":"/market/level2:BTC-USDT","type":"message","subject":"trade.l2update","data":'
       b'{"changes":{"asks":[["67993.3","1.21427407","14701689783"]],"bids":[]},'
       b'"sequenceEnd":14701689783,"sequenceStart":14701689783,"symbol":"BTC-USDT","time":1729816425625}}')


def test_rest_snapshot_and_delta_are_normalized_exactly() -> None:
    p = Kucoin()
    (snap,) = p.parse_rest(URL, REST_BODY, 3)
    assert isinstance(snap, BookMessage)
    assert (snap.venue, snap.symbol, snap.kind, snap.last_seq) == ("kucoin", "SNX-BTC", Kind.SNAPSHOT,
                                                                   1612844051657)
    assert (snap.ts_exchange_ns, snap.ts_recv_ns) == (1619378326842 * 10**6, 3)
    inst = p.instruments.get("SNX-BTC")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (8, 8)
    assert levels_of(snap) == [(BID, 28678, 370422021, UPDATE), (BID, 28624, 1333209, UPDATE),
                               (ASK, 28717, 1404274325, UPDATE), (ASK, 28734, 4010362848, UPDATE)]
    (d,) = p.parse(DELTA, 4)
    assert isinstance(d, BookMessage) and (d.kind, d.first_seq, d.last_seq) == (
        Kind.DELTA, 1612844051659, 1612844051659)
    assert d.ts_exchange_ns is None  # the 2021 feed had no "time"
    assert levels_of(d) == [(ASK, 28717, 4328845008, UPDATE)]
    (doc,) = Kucoin().parse(DOC, 5)
    assert isinstance(doc, BookMessage) and doc.ts_exchange_ns == 1729816425625 * 10**6
    assert levels_of(doc) == [(ASK, 6799330000000, 121427407, UPDATE)]


def test_price_zero_takes_a_sequence_number_and_nothing_else() -> None:
    p = Kucoin()
    (early,) = p.parse(NO_PRICE, 1)
    # No book yet and nothing to fix the exponents with: reported, not guessed.
    assert isinstance(early, Status) and "without levels" in early.text
    p.parse_rest(URL.replace("SNX-BTC", "BCHSV-USDT"), REST_BODY, 2)
    (m,) = p.parse(NO_PRICE, 3)
    assert isinstance(m, BookMessage) and len(m.levels) == 0
    assert (m.first_seq, m.last_seq) == (1613277183874, 1613277183874)


def test_quotes_trades_and_control_frames() -> None:
    p = Kucoin()
    (early,) = p.parse(TICKER, 1)
    assert isinstance(early, Status) and "before any book" in early.text
    p.parse_rest(URL, REST_BODY, 2)
    (q,) = p.parse(TICKER, 3)
    # The ticker's sequence is the book's: the replay compares them at equal ids.
    assert q == Quote("kucoin", "SNX-BTC", 28678, 370422021, 28717, 1404274325, 1612844051653, 3,
                      1619378326323 * 10**6)
    p.parse_rest(URL.replace("SNX-BTC", "DAPPT-BTC"), DAPPT_BODY, 4)
    (t,) = p.parse(MATCH, 5)
    assert t == Trade("kucoin", "DAPPT-BTC", 1117, 8188140000, Side.BID, "6085c09769bc506996295e36", 5,
                      1619378327739050725)  # ns, as sent
    assert p.parse(b'{"id":"NSkIrWGB1s","type":"welcome"}', 6) == [
        Status("kucoin", None, "welcome id=NSkIrWGB1s code=None", 6)]
    (ack,) = p.parse(b'{"id":"1","type":"ack"}', 7)
    assert isinstance(ack, Status) and not ack.error
    (err,) = p.parse(b'{"id":"1","type":"error","code":404,"data":"topic not found"}', 8)
    assert isinstance(err, Status) and err.error and "topic not found" in err.text
    (candle,) = p.parse(b'{"data":{"symbol":"EQZ-BTC","candles":["1619378280","1"]},'
                        b'"subject":"trade.candles.update","topic":"/market/candles:EQZ-BTC_1min",'
                        b'"type":"message"}', 9)
    assert isinstance(candle, Status) and "candles" in candle.text
    (rest_err,) = p.parse_rest(URL, b'{"code":"400003","msg":"KC-API-KEY not exists"}', 10)
    assert isinstance(rest_err, Status) and rest_err.error
    (part,) = p.parse_rest(URL.replace("level2?", "level2_100?"), REST_BODY, 11)
    assert isinstance(part, Status) and "level2_100" in part.text


@pytest.mark.parametrize(("frame", "match"), [
    (DELTA.replace(b'"43.28845008"', b'"43.288450081"'), "43.288450081"),
    (DELTA.replace(b'"43.28845008"', b'"-43"'), "negative"),
    (DELTA.replace(b'"sequenceStart":1612844051659', b'"sequenceStart":1612844051660'), "sequenceStart"),
    (DELTA.replace(b'"sequenceEnd":1612844051659', b'"sequenceEnd":"1612844051659"'), "trade.l2update"),
    (DELTA.replace(b',"43.28845008","1612844051659"', b''), "not \\[price, size, sequence\\]"),
    (DELTA.replace(b'"43.28845008",', b''), "not \\[price, size, sequence\\]"),
    (DELTA.replace(b'"1612844051659"]', b'"x"]'), "sequence 'x'"),
    (TICKER.replace(b'"1612844051653"', b'"16128440516.53"'), "sequence"),
    (MATCH.replace(b'"buy"', b'"long"'), "side"),
    (b'{"type":"message","subject":"trade.l2update","data":{}}', "trade.l2update"),
    (b'{"subject":"trade.l2update"}', "not a KuCoin message"),
    (b'[[["0","0"]]]', "not a KuCoin message"),
])
def test_bad_frames_are_parse_errors(frame: bytes, match: str) -> None:
    p = Kucoin()
    p.parse_rest(URL, REST_BODY, 0)
    p.parse_rest(URL.replace("SNX-BTC", "DAPPT-BTC"), DAPPT_BODY, 0)
    with pytest.raises(ParseError, match=match):
        p.parse(frame, 0)


def _delta(start: int, end: int) -> BookMessage:
    return BookMessage("kucoin", "x", Kind.DELTA, EMPTY_LEVELS, 0, first_seq=start, last_seq=end)


def test_rule_is_kucoins_calibration() -> None:
    rule = KucoinRule()
    assert rule.first(100, _delta(95, 100)) is Verdict.STALE  # sequenceEnd <= book
    assert rule.first(100, _delta(95, 105)) is Verdict.APPLY  # straddles the snapshot
    assert rule.first(100, _delta(101, 101)) is Verdict.APPLY
    assert rule.first(100, _delta(102, 103)) is Verdict.GAP
    assert rule.next(105, _delta(106, 110)) is Verdict.APPLY
    assert rule.next(105, _delta(107, 110)) is Verdict.GAP
    assert rule.next(105, _delta(105, 105)) is Verdict.STALE


def test_capture_syncs_and_matches_the_ticker_at_every_equal_sequence() -> None:
    r = replay(Kucoin(), records(CAPTURE))
    assert r.parse_errors == []
    reports = {x.symbol: x for x in r.finish()}
    assert set(reports) == {"BCHSV-USDT", "SNX-BTC", "CAPP-BTC", "ANKR-BTC", "FET-BTC", "DAPPT-BTC",
                            "NRG-BTC", "COV-BTC", "EQZ-BTC"}
    for rep in reports.values():
        assert (rep.state, rep.snapshots, rep.gaps, rep.resyncs, rep.crossed) == ("synced", 1, 0, 0, 0)
        assert rep.tob_mismatched == 0 and rep.tob_compared > 0
        r.syncs[rep.symbol].book.check_invariants()
    assert {s: rep.tob_compared for s, rep in reports.items()} == {
        "BCHSV-USDT": 266, "SNX-BTC": 154, "CAPP-BTC": 51, "ANKR-BTC": 77, "FET-BTC": 108,
        "DAPPT-BTC": 52, "NRG-BTC": 34, "COV-BTC": 30, "EQZ-BTC": 26}
    # The REST snapshot needs 11 decimals for one size ("0.00019434546"): the first BCHSV
    # delta had only a price-"0" entry, so it did not fix a too-narrow exponent.
    inst = r.parser.instruments.get("BCHSV-USDT")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (8, 11)


def _l2(symbol: bytes):  # type: ignore[no-untyped-def]
    return lambda rec: b'"topic":"/market/level2:' + symbol + b'"' in rec.payload


def _rest_body(sync: BookSync) -> bytes:
    """A REST snapshot of a synced book, in KuCoin's text."""
    book = sync.view()
    rows = {side: [[book.format_price(int(p)), book.format_size(int(s))]
                   for p, s, _ in book.levels(side).tolist()] for side in (BID, ASK)}
    return json.dumps({"code": "200000", "data": {"sequence": str(sync.last_id),
                                                  "bids": rows[BID], "asks": rows[ASK]}}).encode()


def test_faults_in_the_capture_are_caught() -> None:
    recs = records(CAPTURE)
    d = indices(recs, _l2(b"BCHSV-USDT"))
    # A lost message: a gap; the book is emptied and withheld until a new snapshot aligns.
    r = replay(Kucoin(), drop(recs, d[400]))
    rep = {x.symbol: x for x in r.finish()}["BCHSV-USDT"]
    assert (rep.gaps, rep.resyncs, rep.state) == (1, 1, "resyncing")
    sync = r.syncs["BCHSV-USDT"]
    assert sync.needs_snapshot and len(sync.book) == 0
    with pytest.raises(BookNotSynced):
        sync.view()
    # The driver fetches a snapshot (here: the true book just before the lost message's
    # successor, taken from a clean replay); the buffered messages then rebuild the book.
    before = replay(Kucoin(), recs[:d[401]]).syncs["BCHSV-USDT"]
    r.feed(CaptureRecord(1, RecordKind.REST, _rest_body(before), URL.replace("SNX-BTC", "BCHSV-USDT")))
    clean_book = replay(Kucoin(), recs).syncs["BCHSV-USDT"].view()
    assert sync.synced and book_rows(sync.view()) == book_rows(clean_book)
    # Two messages swapped: the later one arrives first, a gap.
    rep = {x.symbol: x for x in replay(Kucoin(), swap(recs, d[400], d[401])).finish()}["BCHSV-USDT"]
    assert (rep.gaps, rep.state) == (1, "resyncing")
    # A repeated message: already in the book, dropped; the book equals the clean one.
    clean = replay(Kucoin(), recs)
    twice = replay(Kucoin(), duplicate(recs, d[400]))
    rep = {x.symbol: x for x in twice.finish()}["BCHSV-USDT"]
    assert (rep.gaps, rep.state, rep.stale_dropped) == (
        0, "synced", {x.symbol: x for x in clean.finish()}["BCHSV-USDT"].stale_dropped + 1)
    assert book_rows(twice.syncs["BCHSV-USDT"].view()) == book_rows(clean.syncs["BCHSV-USDT"].view())


def test_a_damaged_size_shows_against_the_venues_ticker() -> None:
    """No checksum, but the ticker carries the book's sequence: a wrong best size is a
    top-of-book mismatch (reported, and it fails `crossbook verify`)."""
    recs = records(CAPTURE)
    rest = next(i for i, x in enumerate(recs) if x.kind is RecordKind.REST and "BCHSV" in (x.url or ""))
    r = replay(Kucoin(), replace(recs, rest, b'[["242.649","5"]', b'[["242.649","6"]'))
    rep = {x.symbol: x for x in r.finish()}["BCHSV-USDT"]
    assert rep.tob_mismatched == 1 and rep.failed
    assert r.tob["BCHSV-USDT"].first_mismatch == (
        "id 1613277183892: book ((24264900000, 600000000000), (24295100000, 451280965000)) "
        "venue ((24264900000, 500000000000), (24295100000, 451280965000))")


def test_snapshot_older_than_the_buffered_deltas_is_refused() -> None:
    p = Kucoin()
    late = DELTA.replace(b"1612844051659", b"1612844051670")
    r = replay(p, [frame_record(late, 1), CaptureRecord(2, RecordKind.REST, REST_BODY, URL)])
    (rep,) = r.finish()
    assert [e.reason.value for e in rep.events] == ["first_delta", "snapshot_too_old"]
    assert r.syncs["SNX-BTC"].needs_snapshot


def test_sniff() -> None:
    assert sniff(frame_record(DELTA)) == "kucoin"
    assert sniff(frame_record(TICKER)) == "kucoin"
    assert sniff(CaptureRecord(1, RecordKind.REST, REST_BODY, URL)) == "kucoin"
    assert sniff(frame_record(b'{"id":"1","type":"ack"}')) is None


@settings(max_examples=300, deadline=None)
@given(malformed_frames([DELTA, NO_PRICE, TICKER, MATCH, DOC]))
def test_malformed_frames_never_escape_as_other_errors(frame: bytes) -> None:
    p = Kucoin()
    p.parse_rest(URL, REST_BODY, 0)
    check_parse_contract(p, frame)
    check_parse_contract(Kucoin(), frame)


@settings(max_examples=200, deadline=None)
@given(malformed_frames([REST_BODY]))
def test_malformed_rest_bodies_never_escape_as_other_errors(body: bytes) -> None:
    try:
        out = Kucoin().parse_rest(URL, body, 0)
    except ParseError:
        return
    assert all(isinstance(m, (BookMessage, Status)) for m in out)
