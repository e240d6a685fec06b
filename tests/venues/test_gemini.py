"""Gemini market data v2 (l2): exact parsing of real frames, the 10-symbol
capture, what can and cannot be detected without any sequence, malformed input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from crossbook import Side, dtypes
from crossbook.io.capture import RecordKind
from crossbook.messages import BookMessage, Kind, Status, Trade
from crossbook.sync import BookNotSynced, BookSync
from crossbook.venues.base import ParseError
from crossbook.venues.gemini import Gemini, sniff

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

CAPTURE = CAPTURES / "gemini" / "gemini_l2.cap.gz"
BID, ASK, UPDATE = int(Side.BID), int(Side.ASK), dtypes.UPDATE
SYMBOLS = {"ALCXUSD", "ANKRUSD", "GRTUSD", "LTCETH", "ETHEUR", "BATBTC", "ZECLTC", "FILUSD",
           "LINKETH", "BTCGBP"}

# Real frames from the capture; the initial one cut to two rows per side and two trades.
INITIAL = (b'{"type":"l2_updates","symbol":"LINKETH","changes":[["buy","0.0093213","54.210659"],'
           b'["buy","0.0093212","108.421317"],["sell","0.0093512","54.189994"],'
           b'["sell","0.0093532","108.379988"]],"trades":[{"type":"trade","symbol":"LINKETH",'
           b'"event_id":45464081674,"timestamp":1624492845764,"price":"0.0093643","quantity":"8.720621",'
           b'"side":"buy"},{"type":"trade","symbol":"LINKETH","event_id":45458431282,'
           b'"timestamp":1624488165157,"price":"0.0092527","quantity":"7","side":"sell"}],'
           b'"auction_events":[]}')
UPDATE_FRAME = (b'{"type":"l2_updates","symbol":"LINKETH","changes":[["buy","0.0092442","3"],'
                b'["buy","0.0092697","0"],["buy","0.0092334","100"]]}')
TRADE = (b'{"type":"trade","symbol":"ANKRUSD","event_id":45465818387,"timestamp":1624493670759,'
         b'"price":"0.07946","quantity":"1020.482111","side":"buy"}')
HEARTBEAT = b'{"type":"heartbeat","timestamp":1624493666869}'


def test_initial_frame_is_a_snapshot_followed_by_its_trades() -> None:
    p = Gemini()
    snap, t1, t2 = p.parse(INITIAL, 7)
    assert isinstance(snap, BookMessage)
    assert (snap.venue, snap.symbol, snap.kind, snap.ts_exchange_ns, snap.ts_recv_ns) == (
        "gemini", "LINKETH", Kind.SNAPSHOT, None, 7)
    assert (snap.first_seq, snap.last_seq, snap.conn_seq, snap.checksum) == (None, None, None, None)
    inst = p.instruments.get("LINKETH")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (8, 10)
    assert levels_of(snap) == [
        (BID, 932130, 542106590000, UPDATE), (BID, 932120, 1084213170000, UPDATE),
        (ASK, 935120, 541899940000, UPDATE), (ASK, 935320, 1083799880000, UPDATE)]
    assert snap.levels["flags"].tolist() == [dtypes.F_SNAPSHOT] * 3 + [dtypes.F_SNAPSHOT | dtypes.F_LAST]
    # The taker's side: "buy" is a buyer lifting the ask.
    assert t1 == Trade("gemini", "LINKETH", 936430, 87206210000, Side.BID, "45464081674", 7,
                       1624492845764 * 10**6)
    assert t2 == Trade("gemini", "LINKETH", 925270, 70000000000, Side.ASK, "45458431282", 7,
                       1624488165157 * 10**6)


def test_updates_trades_and_heartbeats() -> None:
    p = Gemini()
    p.parse(INITIAL, 1)
    (u,) = p.parse(UPDATE_FRAME, 2)
    assert isinstance(u, BookMessage) and (u.kind, u.ts_exchange_ns) == (Kind.DELTA, None)
    assert levels_of(u) == [(BID, 924420, 30000000000, UPDATE), (BID, 926970, 0, UPDATE),
                            (BID, 923340, 1000000000000, UPDATE)]
    (t,) = p.parse(TRADE, 3)
    assert t == Trade("gemini", "ANKRUSD", 7946000, 10204821110000, Side.BID, "45465818387", 3,
                      1624493670759 * 10**6)
    (hb,) = p.parse(HEARTBEAT, 4)
    assert hb == Status("gemini", None, "heartbeat 1624493666869", 4)
    (err,) = p.parse(b'{"result":"error","reason":"InvalidJson","message":"bad"}', 5)
    assert isinstance(err, Status) and err.error and "InvalidJson" in err.text
    (cand,) = p.parse(b'{"type":"candles_1m_updates","symbol":"BTCUSD","changes":[]}', 6)
    assert isinstance(cand, Status) and not cand.error


def test_a_past_trade_that_does_not_fit_costs_only_itself() -> None:
    p = Gemini()
    bad = INITIAL.replace(b'"quantity":"7"', b'"quantity":"0.12345678901"')  # 11 decimals
    snap, t1, status = p.parse(bad, 1)
    assert isinstance(snap, BookMessage) and len(snap.levels) == 4
    assert isinstance(t1, Trade)
    assert isinstance(status, Status) and status.error and "0.12345678901" in status.text
    with pytest.raises(ParseError, match="0.12345678901"):
        p.parse(TRADE.replace(b'"ANKRUSD"', b'"LINKETH"').replace(b'"1020.482111"', b'"0.12345678901"'), 2)


@pytest.mark.parametrize(("frame", "match"), [
    (UPDATE_FRAME.replace(b'"buy","0.0092442"', b'"bid","0.0092442"'), "side"),
    (UPDATE_FRAME.replace(b'"0.0092442"', b'"0.000000001"'), "0.000000001"),
    (UPDATE_FRAME.replace(b'"100"', b'"-100"'), "negative"),
    (UPDATE_FRAME.replace(b'"100"', b'100'), "l2_updates"),
    (UPDATE_FRAME.replace(b'"0.0092442","3"', b'"0.0092442"'), "price and a size"),
    (TRADE.replace(b'"buy"', b'"both"'), "side"),
    (TRADE.replace(b'1624493670759', b'"1624493670759"'), "trade"),
    (b'{"type":"l2_updates"}', "l2_updates"),
    (b'42', "object"),
])
def test_bad_frames_are_parse_errors(frame: bytes, match: str) -> None:
    p = Gemini()
    p.parse(INITIAL, 0)
    p.parse(TRADE, 0)
    with pytest.raises(ParseError, match=match):
        p.parse(frame, 0)


def test_sniff() -> None:
    assert sniff(frame_record(UPDATE_FRAME)) == "gemini"
    assert sniff(frame_record(HEARTBEAT)) is None  # too generic to claim
    assert sniff(frame_record(b'{"type":"l2update","product_id":"X","changes":[]}')) is None


def test_capture_replays_every_symbol_to_a_synced_book() -> None:
    recs = records(CAPTURE)
    trades: list[Trade] = []
    r = replay(Gemini(), [])
    for rec in recs:
        trades += [m for m in r.feed(rec) if isinstance(m, Trade)]
    assert r.parse_errors == []
    reports = {x.symbol: x for x in r.finish()}
    assert set(reports) == SYMBOLS
    for rep in reports.values():
        assert (rep.state, rep.snapshots, rep.gaps, rep.resyncs, rep.crossed) == ("synced", 1, 0, 0, 0)
        assert [e.reason.value for e in rep.events] == ["snapshot"]
        r.syncs[rep.symbol].book.check_invariants()
    assert sum(rep.messages for rep in reports.values()) == 655
    assert len(trades) == 10 * 50 + 16  # each snapshot's last 50, then the live ones
    # Trades go to 10 decimals where the book stops at 8 (hence the size floor).
    assert 149920461 in {t.size for t in trades if t.symbol == "BTCGBP"}  # "0.0149920461"
    assert (reports["ETHEUR"].best_bid, reports["ETHEUR"].best_ask) == (
        "2.5370030000 @ 1648.98000000", "1.2610000000 @ 1661.57000000")


def _updates(symbol: bytes):  # type: ignore[no-untyped-def]
    head = b'{"type":"l2_updates","symbol":"' + symbol + b'","changes"'
    return lambda rec: rec.payload.startswith(head) and b'"trades"' not in rec.payload


def test_limits_loss_repeat_reorder_and_damage_are_invisible() -> None:
    """v2 books carry no sequence, no time and no checksum: a dropped, repeated,
    reordered or damaged frame leaves a book that still claims to be synced. This
    is the venue's limit, stated so it is never mistaken for a guarantee; only a
    crossed book gives a broken one away (next test)."""
    recs = records(CAPTURE)
    upd = indices(recs, _updates(b"FILUSD"))
    clean = book_rows(replay(Gemini(), recs).syncs["FILUSD"].view())
    changes = [{(c[0], c[1]): c[2] for c in json.loads(recs[i].payload)["changes"]} for i in upd]
    # The last two frames that set one level to different sizes, nothing touching it later.
    a, b = next((a, b) for b in range(len(upd) - 1, 0, -1) for a in range(b - 1, -1, -1)
                if any(k in changes[a] and changes[a][k] != v and
                       not any(k in later for later in changes[b + 1:])
                       for k, v in changes[b].items()))
    faults = {
        "drop": drop(recs, upd[-1]),
        "swap": swap(recs, upd[a], upd[b]),
        "damage": replace(recs, upd[-1], b'"58.7762","0"', b'"58.7762","7"'),
    }
    for name, faulty in faults.items():
        r = replay(Gemini(), faulty)
        rep = {x.symbol: x for x in r.finish()}["FILUSD"]
        assert (rep.gaps, rep.resyncs, rep.state) == (0, 0, "synced"), name
        assert book_rows(r.syncs["FILUSD"].view()) != clean, name
    # Sizes are absolute: a repeat right away changes nothing.
    r = replay(Gemini(), duplicate(recs, upd[-1]))
    assert book_rows(r.syncs["FILUSD"].view()) == clean


def test_a_crossed_book_is_the_one_visible_symptom() -> None:
    p = Gemini()
    (snap, *_) = p.parse(INITIAL, 1)
    inst = p.instruments.get("LINKETH")
    assert isinstance(snap, BookMessage) and inst is not None
    sync = BookSync(inst, p.sync_rule("LINKETH"), resync_on_crossed=True)
    sync.on_message(snap)
    (bad,) = p.parse(UPDATE_FRAME.replace(b'"0.0092442","3"', b'"0.0094442","3"'), 2)
    assert isinstance(bad, BookMessage)
    assert [e.reason.value for e in sync.on_message(bad)] == ["crossed"]
    with pytest.raises(BookNotSynced):
        sync.view()
    sync.on_message(snap)  # resubscribing brings a new initial frame
    assert sync.synced and book_rows(sync.view())[0][0] == (932130, 542106590000)


def test_capture_records_are_all_frames_or_the_subscription() -> None:
    kinds = {rec.kind for rec in records(CAPTURE)}
    assert kinds == {RecordKind.FRAME, RecordKind.SENT}  # no REST, no sequence anywhere


@settings(max_examples=300, deadline=None)
@given(malformed_frames([INITIAL, UPDATE_FRAME, TRADE, HEARTBEAT]))
def test_malformed_frames_never_escape_as_other_errors(frame: bytes) -> None:
    p = Gemini()
    p.parse(INITIAL, 0)
    check_parse_contract(p, frame)
    check_parse_contract(Gemini(), frame)
