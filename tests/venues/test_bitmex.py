"""BitMEX orderBookL2: id-keyed frames priced through the id formula learned from
the partial, the capture replayed against a plain-Python id-keyed book and the
venue's own quotes, what faults can and cannot do, and malformed input."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings

from crossbook import Side, dtypes
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Kind, Quote, Status, Trade
from crossbook.replay import Replay
from crossbook.venues.base import ParseError
from crossbook.venues.bitmex import Bitmex, sniff
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

CAPTURE = CAPTURES / "bitmex" / "bitmex_l2.cap.gz"
ADD, UPDATE, DELETE = dtypes.ADD, dtypes.UPDATE, dtypes.DELETE
BID, ASK = int(Side.BID), int(Side.ASK)

# XBTUSD rows from the capture (a partial cut to four rows, then real deltas).
PARTIAL = (b'{"table":"orderBookL2","action":"partial","keys":["symbol","id","side"],'
           b'"types":{"symbol":"symbol","id":"long","side":"symbol","size":"long","price":"float"},'
           b'"filter":{"symbol":"XBTUSD"},"data":[{"symbol":"XBTUSD","id":8796766500,"side":"Sell",'
           b'"size":200,"price":32335},{"symbol":"XBTUSD","id":8796779950,"side":"Sell","size":5,'
           b'"price":32200.5},{"symbol":"XBTUSD","id":8796792800,"side":"Buy","size":20000,'
           b'"price":32072},{"symbol":"XBTUSD","id":8796802450,"side":"Buy","size":3500,"price":31975.5}]}')
INSERT = (b'{"table":"orderBookL2","action":"insert","data":[{"symbol":"XBTUSD","id":8796765400,'
          b'"side":"Sell","size":21200,"price":32346},{"symbol":"XBTUSD","id":8796794450,"side":"Buy",'
          b'"size":15900,"price":32055.5}]}')
UPDATE_F = (b'{"table":"orderBookL2","action":"update","data":[{"symbol":"XBTUSD","id":8796766500,'
            b'"side":"Sell","size":100},{"symbol":"XBTUSD","id":8796792800,"side":"Buy","size":20500}]}')
DELETE_F = b'{"table":"orderBookL2","action":"delete","data":[{"symbol":"XBTUSD","id":8796779950,"side":"Sell"}]}'


def test_partial_teaches_the_id_formula_and_is_normalized_exactly() -> None:
    p = Bitmex()
    (m,) = p.parse(PARTIAL, 3)
    assert isinstance(m, BookMessage)
    assert (m.venue, m.symbol, m.kind, m.last_seq, m.ts_exchange_ns, m.depth_limit) == (
        "bitmex", "XBTUSD", Kind.SNAPSHOT, None, None, None)
    assert p.id_schemes["XBTUSD"] == (Decimal("0.01"), 8800000000)  # symbolIdx 88, idTick 0.01
    inst = p.instruments.get("XBTUSD")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (2, 0)
    assert levels_of(m) == [(ASK, 3233500, 200, ADD), (ASK, 3220050, 5, ADD),
                            (BID, 3207200, 20000, ADD), (BID, 3197550, 3500, ADD)]


def test_id_only_rows_are_priced_from_the_id() -> None:
    p = Bitmex()
    p.parse(PARTIAL, 0)
    (ins,) = p.parse(INSERT, 1)
    (upd,) = p.parse(UPDATE_F, 2)
    (dele,) = p.parse(DELETE_F, 3)
    assert levels_of(ins) == [(ASK, 3234600, 21200, ADD), (BID, 3205550, 15900, ADD)]
    assert levels_of(upd) == [(ASK, 3233500, 100, UPDATE), (BID, 3207200, 20500, UPDATE)]
    assert levels_of(dele) == [(ASK, 3220050, 0, DELETE)]
    r = replay(Bitmex(), [frame_record(f, i) for i, f in enumerate((PARTIAL, INSERT, UPDATE_F, DELETE_F))])
    assert book_rows(r.syncs["XBTUSD"].view()) == (
        [(3207200, 20500), (3205550, 15900), (3197550, 3500)], [(3233500, 100), (3234600, 21200)])


def test_quotes_trades_and_control_frames() -> None:
    p = Bitmex()
    (early,) = p.parse(b'{"table":"quote","action":"insert","data":[{"timestamp":"2021-07-22T22:36:10.014Z",'
                       b'"symbol":"XBTUSD","bidSize":1,"bidPrice":32072,"askPrice":32200.5,"askSize":5}]}', 1)
    assert isinstance(early, Status) and "before the book partial" in early.text
    p.parse(PARTIAL, 2)
    (q,) = p.parse(b'{"table":"quote","action":"insert","data":[{"timestamp":"2021-07-22T22:36:10.014Z",'
                   b'"symbol":"XBTUSD","bidSize":20000,"bidPrice":32072,"askPrice":32200.5,"askSize":5}]}', 3)
    assert q == Quote("bitmex", "XBTUSD", 3207200, 20000, 3220050, 5, None, 3, 1626993370014000000)
    (t,) = p.parse(b'{"table":"trade","action":"insert","data":[{"timestamp":"2021-07-22T22:36:10.014Z",'
                   b'"symbol":"XBTUSD","side":"Sell","size":52,"price":32072,"tickDirection":"MinusTick",'
                   b'"trdMatchID":"39744121"}]}', 4)
    assert t == Trade("bitmex", "XBTUSD", 3207200, 52, Side.ASK, "39744121", 4, 1626993370014000000)
    (w,) = p.parse(b'{"info":"Welcome to the BitMEX Realtime API.","version":"2021-07-14"}', 5)
    assert isinstance(w, Status) and w.text.startswith("Welcome")
    (e,) = p.parse(b'{"status":400,"error":"Unknown table: orderBook","request":{}}', 6)
    assert isinstance(e, Status) and e.error and "400" in e.text
    (early_delta,) = p.parse(DELETE_F.replace(b"XBTUSD", b"ETHUSD"), 7)
    assert isinstance(early_delta, Status) and early_delta.symbol == "ETHUSD"


@pytest.mark.parametrize("frame", [
    INSERT.replace(b'"price":32346', b'"price":32346.5'),  # contradicts its id
    INSERT.replace(b'"price":32346', b'"price":"32346"'),
    INSERT.replace(b'"size":21200', b'"size":-1'),
    INSERT.replace(b'"size":21200', b'"size":0'),
    INSERT.replace(b'"side":"Sell"', b'"side":"Ask"'),
    UPDATE_F.replace(b'"action":"update"', b'"action":"upsert"'),
    UPDATE_F.replace(b'"id":8796766500', b'"id":"8796766500"'),
    UPDATE_F.replace(b'"size":100', b'"size":100.5'),
    INSERT[:60],
    b'{"foo":1}',
])
def test_malformed_frames_raise_parse_error(frame: bytes) -> None:
    p = Bitmex()
    p.parse(PARTIAL, 0)
    with pytest.raises(ParseError, match="bitmex"):
        p.parse(frame, 0)


def test_a_partial_that_does_not_fit_the_formula_leaves_id_only_rows_unpriceable() -> None:
    p = Bitmex()
    p.parse(PARTIAL.replace(b'"price":31975.5', b'"price":31975'), 0)
    assert "XBTUSD" not in p.id_schemes
    with pytest.raises(ParseError, match="no id mapping"):
        p.parse(UPDATE_F, 0)


def test_sniff_and_registry() -> None:
    assert sniff(frame_record(INSERT)) == "bitmex"
    assert sniff(frame_record(b'{"topic":"orderBookL2_25.BTCUSD","type":"delta"}')) is None
    assert sniff(CaptureRecord(1, RecordKind.SENT, b'{"op":"subscribe","args":["orderBookL2_25.EOSUSD"]}')) is None
    assert isinstance(make_parser("bitmex"), Bitmex)


# -- the capture ----------------------------------------------------------------------------

def _reference(recs: list[CaptureRecord]) -> dict[str, dict[int, tuple[str, Decimal, int]]]:
    """Plain-Python id-keyed books: id -> (side, price, size); prices of id-only rows
    come from the row that inserted the id."""
    books: dict[str, dict[int, tuple[str, Decimal, int]]] = {}
    for rec in recs:
        o = json.loads(rec.payload, parse_float=Decimal) if rec.kind is RecordKind.FRAME else {}
        if o.get("table") != "orderBookL2":
            continue
        if o["action"] == "partial":
            books[o["filter"]["symbol"]] = {r["id"]: (r["side"], r["price"], r["size"]) for r in o["data"]}
            continue
        for r in o["data"]:
            b = books[r["symbol"]]
            if o["action"] == "delete":
                del b[r["id"]]
            elif o["action"] == "insert":
                b[r["id"]] = (r["side"], r["price"], r["size"])
            else:
                b[r["id"]] = (r["side"], b[r["id"]][1], r["size"])
    return books


def _quote_history_oracle(recs: list[CaptureRecord]) -> tuple[int, int]:
    """Every venue quote must be a top of book our book passed through (the quote
    stream is not ordered with the book stream, so equality at receipt is too strict)."""
    r = Replay(Bitmex())
    seen: dict[str, set[object]] = defaultdict(set)
    quotes: list[Quote] = []
    for rec in recs:
        for m in r.feed(rec):
            if isinstance(m, BookMessage) and r.syncs[m.symbol].synced:
                seen[m.symbol].add(r.syncs[m.symbol].book.bbo())
            elif isinstance(m, Quote):
                quotes.append(m)
    found = sum(((q.bid_price, q.bid_size), (q.ask_price, q.ask_size)) in seen[q.symbol] for q in quotes)
    return found, len(quotes) - found


def test_capture_replays_matches_the_id_keyed_reference_and_the_venue_quotes() -> None:
    recs = records(CAPTURE)
    p = Bitmex()
    r = replay(p, recs)
    assert r.parse_errors == []
    reports = r.finish()
    want = _reference(recs)
    assert {x.symbol for x in reports} == set(want) and len(want) == 10
    for rep in reports:
        assert (rep.state, rep.gaps, rep.resyncs, rep.snapshots) == ("synced", 0, 0, 1), rep.symbol
        inst = p.instruments.get(rep.symbol)
        assert inst is not None
        b = want[rep.symbol]
        rows = sorted((px, sz, side) for side, px, sz in b.values())
        expected = ([(int(px * 10**inst.price_exp), sz) for px, sz, side in reversed(rows) if side == "Buy"],
                    [(int(px * 10**inst.price_exp), sz) for px, sz, side in rows if side == "Sell"])
        book = r.syncs[rep.symbol].view()
        assert book_rows(book, 20000) == expected, rep.symbol
        assert book.unknown_deletes == 0
        book.check_invariants()
    assert _quote_history_oracle(recs) == (426, 0)


def _xbt(recs: list[CaptureRecord]) -> list[int]:
    return indices(recs, lambda x: x.payload.startswith(b'{"table":"orderBookL2","action":"update"')
                   and b'"XBTUSD"' in x.payload[:120])


# BitMEX sends no sequence number and no checksum: BookSync cannot see a lost,
# repeated, reordered or corrupted message (the venue's limit). The venue's own
# quotes can reveal damage at the top of the book, which these tests show.

def test_corrupted_top_size_is_revealed_only_by_the_venue_quotes() -> None:
    recs = records(CAPTURE)
    r0 = Replay(Bitmex())
    at_touch = None  # the first update whose first row lands on the touch
    for i, rec in enumerate(recs):
        for m in r0.feed(rec):
            if at_touch is None and isinstance(m, BookMessage) and rec.payload.startswith(
                    b'{"table":"orderBookL2","action":"update"'):
                bid, ask = r0.syncs[m.symbol].book.bbo()
                row = m.levels[0]
                touch = bid if row["side"] == BID else ask
                if touch is not None and touch[0] == row["price"]:
                    at_touch = i
    assert at_touch is not None
    bad = replace(recs, at_touch, b'"size":', b'"size":1')
    r = replay(Bitmex(), bad)
    assert all((x.gaps, x.state) == (0, "synced") for x in r.finish())
    found, missing = _quote_history_oracle(bad)
    assert missing > 0 and found + missing == 426


def test_lost_or_swapped_updates_are_not_detectable() -> None:
    recs = records(CAPTURE)
    xbt = _xbt(recs)
    for faulty in (drop(recs, xbt[10]), swap(recs, xbt[10], xbt[11])):
        r = replay(Bitmex(), faulty)
        rep = next(x for x in r.finish() if x.symbol == "XBTUSD")
        assert (rep.gaps, rep.state) == (0, "synced")


def test_a_new_partial_rebuilds_the_book() -> None:
    recs = records(CAPTURE)
    first = next(x for x in recs if x.payload.startswith(b'{"table":"orderBookL2","action":"partial"')
                 and b'"filter":{"symbol":"XBTUSD"}' in x.payload[:600])
    r = replay(Bitmex(), [*recs, first])
    rep = next(x for x in r.finish() if x.symbol == "XBTUSD")
    assert rep.snapshots == 2
    want = json.loads(first.payload, parse_float=Decimal)["data"]
    assert len(book_rows(r.syncs["XBTUSD"].view(), 20000)[0]) == sum(x["side"] == "Buy" for x in want)


@settings(max_examples=300, deadline=None)
@given(malformed_frames([PARTIAL, INSERT, UPDATE_F, DELETE_F]))
def test_malformed_frames_never_escape_as_other_errors(frame: bytes) -> None:
    p = Bitmex()
    p.parse(PARTIAL, 0)
    check_parse_contract(p, frame)
