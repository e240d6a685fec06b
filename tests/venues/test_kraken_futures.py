"""Kraken Futures book feed: exact parsing of real frames, the 2021 capture
(10 products, contiguous seq per product) against a plain-Python book, and
faults injected into it."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings

from crossbook import Side, dtypes
from crossbook.io.capture import CaptureRecord
from crossbook.messages import BookMessage, Instrument, Kind, Quote, Status, Trade
from crossbook.replay import BookReport, Replay
from crossbook.venues.base import ParseError
from crossbook.venues.kraken_futures import KrakenFutures, sniff
from crossbook.venues.registry import sniff_venue

from ._venue_kit import CAPTURES, check_parse_contract, frame_record, malformed_frames, records, replay

CAPTURE = CAPTURES / "kraken_futures" / "kraken_futures_book.cap.gz"
LTC = Instrument("kraken_futures", "PI_LTCUSD", 2, 0)
DELTA = (b'{"feed":"book","product_id":"PI_LTCUSD","side":"sell","seq":3423036,"price":119.46,'
         b'"qty":21884.0,"timestamp":1626994927748}')
TRADE = (b'{"feed":"trade","product_id":"PI_LTCUSD","uid":"e2429e31-8b9d-4195-900e-fd42be2dec89",'
         b'"side":"buy","type":"fill","seq":5956,"time":1626994929946,"qty":320.0,"price":119.44}')


def _book_records() -> list[CaptureRecord]:
    return [r for r in records(CAPTURE) if r.payload.startswith((b'{"feed":"book', b'{"event"'))]


def test_real_snapshot_is_normalized_exactly() -> None:
    rec = next(r for r in records(CAPTURE) if r.payload.startswith(b'{"feed":"book_snapshot"'))
    p = KrakenFutures()
    (m,) = p.parse(rec.payload, rec.recv_ns)
    assert isinstance(m, BookMessage)
    assert (m.venue, m.symbol, m.kind, m.last_seq) == ("kraken_futures", "FI_BCHUSD_210730", Kind.SNAPSHOT, 91192)
    assert (m.ts_exchange_ns, m.ts_recv_ns) == (1626994925378 * 10**6, 1626994927690547000)
    assert (m.checksum, m.depth_limit, m.prev_seq) == (None, None, None)
    assert p.instruments.get("FI_BCHUSD_210730") == Instrument("kraken_futures", "FI_BCHUSD_210730", 1, 0)
    body = json.loads(rec.payload, parse_float=Decimal)
    want = [(Side.BID, lv) for lv in body["bids"]] + [(Side.ASK, lv) for lv in body["asks"]]
    got = m.levels[["side", "price", "size"]].tolist()
    assert got == [(s, int(lv["price"] * 10), int(lv["qty"])) for s, lv in want]
    assert got[0] == (Side.BID, 4393, 20108) and got[11] == (Side.ASK, 4396, 50)
    assert (m.levels["flags"] & dtypes.F_SNAPSHOT).all()


def test_delta_trade_and_control_frames() -> None:
    p = KrakenFutures([LTC])
    (d,) = p.parse(DELTA, 9)
    assert isinstance(d, BookMessage) and (d.kind, d.last_seq, d.ts_exchange_ns) == (
        Kind.DELTA, 3423036, 1626994927748 * 10**6)
    assert d.levels[["side", "price", "size", "flags"]].tolist() == [(Side.ASK, 11946, 21884, dtypes.F_LAST)]
    (z,) = p.parse(DELTA.replace(b'"qty":21884.0', b'"qty":0.0'), 9)
    assert isinstance(z, BookMessage) and z.levels["size"].tolist() == [0]
    (t,) = p.parse(TRADE, 10)
    assert t == Trade("kraken_futures", "PI_LTCUSD", 11944, 320, Side.BID,
                      "e2429e31-8b9d-4195-900e-fd42be2dec89", 10, 1626994929946 * 10**6)
    (q,) = p.parse(b'{"feed":"ticker","product_id":"PI_LTCUSD","bid":119.31,"ask":119.42,'
                   b'"bid_size":320.0,"ask_size":900.0,"time":1626994929946}', 11)
    assert q == Quote("kraken_futures", "PI_LTCUSD", 11931, 320, 11942, 900, None, 11, 1626994929946 * 10**6)
    (lite,) = p.parse(b'{"feed":"ticker_lite","product_id":"PI_LTCUSD","bid":119.31,"ask":119.42}', 12)
    assert isinstance(lite, Status) and not lite.error
    (info,) = p.parse(b'{"event":"info","version":1}', 13)
    (sub,) = p.parse(b'{"event":"subscribed","feed":"book","product_ids":["PI_LTCUSD"]}', 14)
    (err,) = p.parse(b'{"event":"error","message":"Invalid product id"}', 15)
    assert info == Status("kraken_futures", None, "info", 13)
    assert sub == Status("kraken_futures", None, "subscribed book", 14)
    assert isinstance(err, Status) and err.error and "Invalid product id" in err.text


def test_delta_before_any_snapshot_is_reported_not_guessed() -> None:
    p = KrakenFutures()
    (m,) = p.parse(DELTA, 1)
    assert isinstance(m, Status) and "before the product's snapshot" in m.text
    assert p.instruments.get("PI_LTCUSD") is None


def test_capture_replays_against_a_plain_python_book() -> None:
    recs = records(CAPTURE)
    r = replay(KrakenFutures(), recs)
    assert r.parse_errors == []
    ref: dict[str, dict[tuple[int, Decimal], Decimal]] = defaultdict(dict)
    count: dict[str, int] = defaultdict(int)
    for rec in recs:
        d = json.loads(rec.payload, parse_float=Decimal) if rec.kind.value == "frame" else {}
        if d.get("feed") == "book_snapshot":
            ref[d["product_id"]] = {(s, lv["price"]): lv["qty"] for s, key in ((Side.BID, "bids"), (Side.ASK, "asks"))
                                    for lv in d[key]}
        elif d.get("feed") == "book" and "event" not in d:
            side = Side.BID if d["side"] == "buy" else Side.ASK
            if d["qty"]:
                ref[d["product_id"]][side, d["price"]] = d["qty"]
            else:
                ref[d["product_id"]].pop((side, d["price"]), None)
        else:
            continue
        count[d["product_id"]] += 1
    reports = r.finish()
    assert len(reports) == 10 and sum(rep.messages for rep in reports) == 7024
    for rep in reports:
        assert (rep.gaps, rep.resyncs, rep.snapshots, rep.stale_dropped, rep.state) == (0, 0, 1, 0, "synced")
        assert rep.messages == count[rep.symbol]
        book = r.syncs[rep.symbol].view()
        book.check_invariants()
        ours = {(side, Decimal(book.format_price(int(x["price"])))): Decimal(book.format_size(int(x["size"])))
                for side in (Side.BID, Side.ASK) for x in book.levels(side)}
        assert ours == ref[rep.symbol], rep.symbol


def test_trades_in_the_capture() -> None:
    p = KrakenFutures()
    trades = [m for rec in records(CAPTURE) if rec.kind.value == "frame"
              for m in p.parse(rec.payload, rec.recv_ns) if isinstance(m, Trade)]
    rows = [t for rec in records(CAPTURE) if rec.payload.startswith(b'{"feed":"trade')
            for t in json.loads(rec.payload).get("trades", [json.loads(rec.payload)])]
    assert len(trades) == len(rows) > 1000
    assert [t.aggressor for t in trades] == [Side.BID if row["side"] == "buy" else Side.ASK for row in rows]
    assert [t.trade_id for t in trades] == [row["uid"] for row in rows]


# -- faults ----------------------------------------------------------------------------


def _ltc() -> list[CaptureRecord]:
    return [r for r in _book_records() if b'"product_id":"PI_LTCUSD"' in r.payload]


def _ltc_report(recs: list[CaptureRecord]) -> tuple[Replay, BookReport]:
    r = replay(KrakenFutures(), recs)
    (rep,) = r.finish()
    return r, rep


def test_corrupted_size() -> None:
    recs = _ltc()
    target = recs[100]
    qty = json.loads(target.payload)["qty"]
    # A plausible wrong size cannot be seen: no checksum on this feed (its limit).
    recs[100] = frame_record(target.payload.replace(b'"qty":%s' % str(qty).encode(), b'"qty":%s' % str(qty + 1).encode()),
                      target.recv_ns)
    _, rep = _ltc_report(recs)
    assert (rep.gaps, rep.state) == (0, "synced")
    # One finer than the product's exponent is refused, which loses the frame: a gap next.
    recs[100] = frame_record(target.payload.replace(b'"qty":%s' % str(qty).encode(), b'"qty":0.5'), target.recv_ns)
    r, rep = _ltc_report(recs)
    assert len(r.parse_errors) == 1 and "0.5" in r.parse_errors[0]
    assert (rep.gaps, rep.state) == (1, "resyncing")


# -- robustness ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    DELTA.replace(b'"side":"sell"', b'"side":"up"'),
    DELTA.replace(b'"qty":21884.0', b'"qty":-1.0'),
    DELTA.replace(b'"price":119.46', b'"price":"abc"'),
    DELTA.replace(b'"seq":3423036,', b""),
    DELTA.replace(b'"price":119.46', b'"price":119.461'),
    b'{"product_id":"PI_LTCUSD"}', b"[1]", b'{"feed":"book_snapshot","product_id":"X","seq":1}',
])
def test_malformed_frames_raise_parse_error(bad: bytes) -> None:
    with pytest.raises(ParseError, match="kraken_futures"):
        KrakenFutures([LTC]).parse(bad, 0)


def test_sniffing() -> None:
    assert sniff_venue(records(CAPTURE)) == "kraken_futures"
    assert sniff(frame_record(b'{"type":"snapshot","product_id":"BTC-USD","bids":[],"asks":[]}')) is None
    assert sniff(frame_record(b'{"channel":"book","type":"update","data":[]}')) is None


_SAMPLES = [DELTA, TRADE,
            (b'{"feed":"book_snapshot","product_id":"PI_LTCUSD","timestamp":1626994927711,"seq":3423035,'
             b'"tickSize":null,"bids":[{"price":119.31,"qty":320.0}],"asks":[{"price":119.42,"qty":900.0}]}'),
            (b'{"feed":"trade_snapshot","product_id":"PI_LTCUSD","trades":[{"feed":"trade","product_id":"PI_LTCUSD",'
             b'"uid":"u","side":"buy","type":"fill","seq":1,"time":1,"qty":320.0,"price":119.35}]}'),
            b'{"feed":"ticker","product_id":"PI_LTCUSD","bid":119.31,"ask":119.42,"bid_size":3.0,"ask_size":9.0}',
            b'{"event":"subscribed","feed":"book","product_ids":["PI_LTCUSD"]}']


@settings(max_examples=300, deadline=None)
@given(malformed_frames(_SAMPLES))
def test_random_malformed_frames_give_parse_error_or_records(payload: bytes) -> None:
    p = KrakenFutures()
    p.parse(_SAMPLES[2], 0)
    check_parse_contract(p, payload)
