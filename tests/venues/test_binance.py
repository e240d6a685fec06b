"""Binance spot, USD-M and COIN-M: parsing known frames, and whole captures that
must sync with no gap and agree with the venue's own bookTicker at every matching id."""

from __future__ import annotations

import itertools
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from crossbook import Side, dtypes
from crossbook.io import read_capture
from crossbook.io.capture import CaptureRecord
from crossbook.messages import BookMessage, Kind, Quote, Status, Trade
from crossbook.replay import BookReport, Replay
from crossbook.venues.base import ParseError
from crossbook.venues.binance import BinanceCoinm, BinanceSpot, BinanceUsdm

from ._venue_kit import duplicate, indices, records, replace, replay, swap

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "captures" / "binance"

DEPTH = (b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,'
         b'"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"]],'
         b'"a":[["61837.64000000","1.54698000"],["61839.85000000","0.00000000"]]}}')


# The same event as a raw (not combined) stream sends it.
DEPTH_UNWRAPPED = DEPTH[DEPTH.index(b'"data":') + 7:-1]


@pytest.mark.parametrize("frame", [DEPTH, DEPTH_UNWRAPPED], ids=["combined", "raw_stream"])
def test_spot_delta_is_normalized_exactly(frame: bytes) -> None:
    p = BinanceSpot()
    (msg,) = p.parse(frame, 123)
    assert isinstance(msg, BookMessage)
    assert (msg.venue, msg.symbol, msg.kind) == ("binance", "BTCUSDT", Kind.DELTA)
    assert (msg.first_seq, msg.last_seq, msg.prev_seq) == (50093239189, 50093239202, None)
    assert (msg.ts_exchange_ns, msg.ts_recv_ns) == (1723161255208 * 10**6, 123)
    inst = p.instruments.get("BTCUSDT")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (8, 8)  # the wire's width
    lv = msg.levels
    assert lv.dtype == dtypes.LEVEL_EVENT
    assert lv[["side", "price", "size"]].tolist() == [
        (Side.BID, 6173763000000, 0), (Side.ASK, 6183764000000, 154698000), (Side.ASK, 6183985000000, 0)]
    assert (lv["action"] == dtypes.UPDATE).all()
    assert lv["flags"].tolist() == [0, 0, dtypes.F_LAST]


def test_quote_trade_snapshot_and_control_frames() -> None:
    p = BinanceUsdm()
    (q,) = p.parse(b'{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":5123107839020,'
                   b'"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510",'
                   b'"T":1723161256313,"E":1723161256313}}', 1)
    assert q == Quote("binance_usdm", "BTCUSDT", 6180020, 2507, 6180030, 2510, 5123107839020, 1,
                      1723161256313 * 10**6)
    (t,) = p.parse(b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"T":2,"s":"BTCUSDT",'
                   b'"t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}', 3)
    assert t == Trade("binance_usdm", "BTCUSDT", 6180030, 6, Side.BID, "5266583935", 3, 2 * 10**6)
    (snap,) = p.parse_rest("https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000",
                           b'{"lastUpdateId":7,"E":5,"T":4,"bids":[["61800.10","1.000"]],"asks":[]}', 9)
    assert isinstance(snap, BookMessage) and snap.kind is Kind.SNAPSHOT and snap.last_seq == 7
    assert snap.levels[["price", "size"]].tolist() == [(6180010, 1000)]
    assert snap.levels["flags"].tolist() == [dtypes.F_SNAPSHOT | dtypes.F_LAST]
    (ack,) = p.parse(b'{"result":null,"id":1}', 0)
    assert isinstance(ack, Status) and not ack.error


@pytest.mark.parametrize("frame", [
    b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[["1.5"]],"a":[]}}',
    b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[["abc","1"]],"a":[]}}',
    b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","s":"BTCUSDT","U":"x","u":2,"b":[],"a":[]}}',
    b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[[true,"1"]],"a":[]}}',
    b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[{"p":"1"}],"a":[]}}',
    b'{"stream":"btcusdt@depth","data":{"e":"depthUpd',
    b'{"e":"mystery"}',
    b'[1,2,3]',
    b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","s":"BTC\x80","U":1,"u":2,"b":[],"a":[]}}',
    b'"\x80"',
])
def test_malformed_frames_raise_parse_error(frame: bytes) -> None:
    p = BinanceSpot()
    p.parse(DEPTH, 0)  # fixes the exponents
    with pytest.raises(ParseError, match="binance"):
        p.parse(frame, 0)


def test_value_too_precise_for_the_instrument_is_an_error_naming_it() -> None:
    p = BinanceSpot()
    p.parse(DEPTH, 0)
    bad = DEPTH.replace(b'"1.54698000"', b'"1.546980001"')
    with pytest.raises(ParseError, match="1.546980001"):
        p.parse(bad, 0)


@pytest.mark.parametrize(("parser", "stem"), [
    (BinanceSpot, "spot_btcusdt"), (BinanceUsdm, "usdm_btcusdt"), (BinanceCoinm, "cm_btcusd_perp")])
def test_capture_syncs_and_matches_book_ticker(parser: type, stem: str) -> None:
    files = sorted(DATA.glob(f"{stem}_2024080*.cap.gz"))
    if not files:
        pytest.skip(f"{DATA} is absent: the shared real-data set is not available")
    r = replay(parser(), (rec for f in files for rec in records(f)))
    assert r.parse_errors == []
    (report,) = r.finish()
    assert report.state == "synced"
    assert (report.gaps, report.resyncs, report.snapshots) == (0, 0, 1)
    assert report.tob_compared > 400
    assert report.tob_mismatched == 0
    reasons = [e.reason.value for e in report.events]
    assert reasons == ["first_delta", "snapshot"]
    r.syncs[report.symbol].book.check_invariants()


def test_dropped_frame_is_detected_as_a_gap() -> None:
    path = DATA / "spot_btcusdt_20240808.cap.gz"
    if not path.exists():
        pytest.skip(f"{DATA} is absent: the shared real-data set is not available")
    replay = Replay(BinanceSpot())
    depth_seen = 0
    for rec in itertools.islice(read_capture(path), 5000):
        if b"@depth" in rec.payload[:40]:
            depth_seen += 1
            if depth_seen == 200:
                continue  # the fault: one diff depth frame lost
        replay.feed(rec)
    (report,) = replay.finish()
    assert report.gaps == 1 and report.state == "resyncing"
    gap = [e for e in report.events if e.reason.value == "gap"]
    assert len(gap) == 1 and gap[0].new.value == "resyncing"
    sync = replay.syncs["BTCUSDT"]
    assert len(sync.book) == 0 and not sync.synced  # nothing stale is served
    assert sync.needs_snapshot


def test_snapshot_older_than_the_buffer_is_refused() -> None:
    p = BinanceSpot()
    replay = Replay(p)
    delta = DEPTH.replace(b'"U":50093239189', b'"U":100').replace(b'"u":50093239202', b'"u":110')
    replay.feed(read_one(b"1 " + delta))
    replay.feed(read_one(b'2 GET https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=5 '
                         b'{"lastUpdateId":90,"bids":[["1.00000000","1.00000000"]],"asks":[]}'))
    (report,) = replay.finish()
    assert report.state == "buffering"
    assert [e.reason.value for e in report.events] == ["first_delta", "snapshot_too_old"]
    assert replay.syncs["BTCUSDT"].needs_snapshot
    replay.feed(read_one(b'3 GET https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=5 '
                         b'{"lastUpdateId":104,"bids":[["1.00000000","1.00000000"]],"asks":[]}'))
    (report,) = replay.finish()
    assert report.state == "synced"
    assert replay.syncs["BTCUSDT"].last_id == 110
    assert np.array_equal(replay.syncs["BTCUSDT"].book.depth(5)[0]["price"], [100000000])


def read_one(line: bytes):  # type: ignore[no-untyped-def]
    from crossbook.io.capture import parse_line

    return parse_line(line)


def test_template_module_works_as_documented() -> None:
    from crossbook.venues import _template

    p = _template.ExampleVenue()
    (snap,) = p.parse(b'{"type":"snapshot","symbol":"BTC-USD","seq":1,"bids":[["100.5","2"]],"asks":[]}', 5)
    (delta,) = p.parse(b'{"type":"update","symbol":"BTC-USD","seq":2,"bids":[["100.5","0"]],"asks":[]}', 6)
    assert isinstance(snap, BookMessage) and isinstance(delta, BookMessage)
    assert snap.levels[["price", "size"]].tolist() == [(1005, 2)]
    assert (delta.kind, delta.last_seq) == (Kind.DELTA, 2)


def test_registry_finds_binance_and_skips_the_template() -> None:
    from crossbook.venues.registry import make_parser, venues

    names = venues()
    assert {"binance", "binance_usdm", "binance_coinm"} <= names.keys()
    assert "example" not in names
    assert isinstance(make_parser("binance"), BinanceSpot)
    with pytest.raises(ValueError, match="unknown venue"):
        make_parser("nope")


def test_replay_reports_an_unexpected_parser_exception_instead_of_dying() -> None:
    class Broken(BinanceSpot):
        def parse(self, frame: bytes, recv_ns: int) -> list:  # type: ignore[type-arg]
            raise KeyError("bug")

    replay = Replay(Broken())
    assert replay.feed(read_one(b"1 " + DEPTH)) == []
    (err,) = replay.parse_errors
    assert "unexpected KeyError in binance parser" in err


def _bundled_records() -> list[CaptureRecord]:
    ref = resources.files("crossbook") / "data" / "binance_spot_btcusdt_20240808_slice.cap.gz"
    with resources.as_file(ref) as path:
        return list(read_capture(path))


def _report(replay_: Replay) -> BookReport:
    (report,) = replay_.finish()
    return report


def _is_depth(rec: CaptureRecord) -> bool:
    return b"@depth" in rec.payload[:40]


def test_faults_injected_in_the_bundled_capture_are_each_caught() -> None:
    """Duplicate, reorder, truncate and corrupt frames of a real capture: each is
    detected and reported, and no book out of step is ever served."""
    records = _bundled_records()
    depth = indices(records, _is_depth)
    k = depth[300]

    clean = _report(replay(BinanceSpot(), records))
    assert (clean.gaps, clean.tob_mismatched, clean.state) == (0, 0, "synced")

    rep = _report(replay(BinanceSpot(), duplicate(records, k)))
    assert (rep.gaps, rep.stale_dropped - clean.stale_dropped, rep.state) == (0, 1, "synced")

    r = replay(BinanceSpot(), swap(records, k, depth[301]))
    rep = _report(r)
    assert rep.gaps == 1 and rep.state == "resyncing"
    assert len(r.syncs["BTCUSDT"].book) == 0 and r.syncs["BTCUSDT"].needs_snapshot

    r = replay(BinanceSpot(), replace(records, k, records[k].payload[100:], b""))
    rep = _report(r)
    assert len(r.parse_errors) == 1 and "line" in r.parse_errors[0]
    assert rep.gaps == 1 and rep.state == "resyncing"


def test_a_corrupted_size_at_the_touch_is_caught_by_the_venues_book_ticker() -> None:
    records = _bundled_records()
    r = replay(BinanceSpot(), records)
    quotes = {m.seq: m for rec in records if b"@bookTicker" in rec.payload[:40]
              for m in r.parser.parse(rec.payload, rec.recv_ns) if isinstance(m, Quote)}
    for i in indices(records, _is_depth):
        (msg,) = r.parser.parse(records[i].payload, records[i].recv_ns)
        q = quotes.get(msg.last_seq)
        bids = msg.levels[msg.levels["side"] == Side.BID]
        if q is not None and q.bid_price in bids["price"] and q.bid_size > 0:
            break
    else:
        pytest.fail("no depth frame sets the best bid at a quoted id")
    book = r.syncs["BTCUSDT"].book
    good, bad = (f'["{book.format_price(q.bid_price)}","{book.format_size(size)}"]'.encode()
                 for size in (q.bid_size, q.bid_size + 1))
    assert records[i].payload.count(good) == 1
    rep = _report(replay(BinanceSpot(), replace(records, i, good, bad)))
    assert rep.tob_mismatched >= 1 and rep.gaps == 0
