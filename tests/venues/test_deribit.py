"""Deribit book.{instrument}.raw: exact parsing of real and documented frames,
the options capture (prev_change_id chain, checked against the venue's own ticker),
faults, and malformed input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings

from crossbook import Side, dtypes
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Kind, Quote, Status, Trade
from crossbook.sync import BookNotSynced
from crossbook.venues.base import ParseError
from crossbook.venues.deribit import Deribit, sniff
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
)

CAPTURE = CAPTURES / "deribit" / "deribit_options.cap.gz"
ADD, UPDATE, DELETE = dtypes.ADD, dtypes.UPDATE, dtypes.DELETE
BID, ASK = int(Side.BID), int(Side.ASK)

# Real frames (venues.md [REC], also in the capture).
SNAPSHOT = (b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.ETH-30JUL21-2800-C.raw",'
            b'"data":{"type":"snapshot","timestamp":1626993723632,"instrument_name":"ETH-30JUL21-2800-C",'
            b'"change_id":13169025645,"bids":[["new",0.0015,4714.0],["new",0.001,861.0],'
            b'["new",0.0005,1.0]],"asks":[["new",0.0025,873.0],["new",0.003,167.0],["new",0.004,5.0],'
            b'["new",0.0055,5.0],["new",0.017,26.0],["new",0.02,4.0],["new",0.03,100.0],'
            b'["new",0.042,5.0],["new",0.045,50.0],["new",0.073,1.0],["new",0.15,25.0],'
            b'["new",0.232,13.0],["new",0.35,1.0]]}}}')
CHANGE = (b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-24SEP21-8000-P.raw",'
          b'"data":{"type":"change","timestamp":1626993724318,"prev_change_id":33195894164,'
          b'"instrument_name":"BTC-24SEP21-8000-P","change_id":33195894355,"bids":[],'
          b'"asks":[["new",0.001,2.6]]}}}')
# Documentation example (venues.md [DOC]), a perpetual at 100ms.
DOC_SNAPSHOT = (b'{"params":{"data":{"type":"snapshot","timestamp":1554373962454,'
                b'"instrument_name":"BTC-PERPETUAL","change_id":297217,"bids":[["new",5042.34,30],'
                b'["new",5041.94,20]],"asks":[["new",5042.64,40],["new",5043.3,40]]},'
                b'"channel":"book.BTC-PERPETUAL.100ms"},"method":"subscription","jsonrpc":"2.0"}')
DOC_CHANGE = (b'{"params":{"data":{"type":"change","timestamp":1554373911330,"prev_change_id":297217,'
              b'"instrument_name":"BTC-PERPETUAL","change_id":297218,"bids":[["delete",5041.94,0],'
              b'["delete",5042.34,0]],"asks":[]},"channel":"book.BTC-PERPETUAL.100ms"},'
              b'"method":"subscription","jsonrpc":"2.0"}')


def test_real_snapshot_is_normalized_exactly() -> None:
    p = Deribit()
    (m,) = p.parse(SNAPSHOT, 77)
    assert isinstance(m, BookMessage)
    assert (m.venue, m.symbol, m.kind) == ("deribit", "ETH-30JUL21-2800-C", Kind.SNAPSHOT)
    assert (m.last_seq, m.prev_seq, m.first_seq, m.checksum, m.depth_limit) == (
        13169025645, None, None, None, None)
    assert (m.ts_exchange_ns, m.ts_recv_ns) == (1626993723632 * 10**6, 77)
    inst = p.instruments.get("ETH-30JUL21-2800-C")
    # Option floor: ticks to 0.0001, amounts to 0.1, whatever the shortest JSON form shows.
    assert inst is not None and (inst.price_exp, inst.size_exp) == (4, 1)
    assert levels_of(m) == [
        (BID, 15, 47140, ADD), (BID, 10, 8610, ADD), (BID, 5, 10, ADD),
        (ASK, 25, 8730, ADD), (ASK, 30, 1670, ADD), (ASK, 40, 50, ADD), (ASK, 55, 50, ADD),
        (ASK, 170, 260, ADD), (ASK, 200, 40, ADD), (ASK, 300, 1000, ADD), (ASK, 420, 50, ADD),
        (ASK, 450, 500, ADD), (ASK, 730, 10, ADD), (ASK, 1500, 250, ADD), (ASK, 2320, 130, ADD),
        (ASK, 3500, 10, ADD)]
    assert (m.levels["flags"] & dtypes.F_SNAPSHOT).all()
    assert m.levels["flags"][-1] & dtypes.F_LAST
    assert (m.levels["ts_exchange_ns"] == 1626993723632 * 10**6).all()


def test_real_change_keeps_its_chain_and_action() -> None:
    p = Deribit()
    (m,) = p.parse(CHANGE, 5)
    assert isinstance(m, BookMessage) and m.kind is Kind.DELTA
    assert (m.symbol, m.last_seq, m.prev_seq) == ("BTC-24SEP21-8000-P", 33195894355, 33195894164)
    assert m.ts_exchange_ns == 1626993724318 * 10**6
    assert levels_of(m) == [(ASK, 10, 26, ADD)]
    assert m.levels["flags"].tolist() == [dtypes.F_LAST]


def test_documented_perpetual_snapshot_and_deletes() -> None:
    p = Deribit()
    (snap,) = p.parse(DOC_SNAPSHOT, 1)
    (chg,) = p.parse(DOC_CHANGE, 2)
    inst = p.instruments.get("BTC-PERPETUAL")
    assert inst is not None and (inst.price_exp, inst.size_exp) == (2, 0)
    assert levels_of(snap) == [(BID, 504234, 30, ADD), (BID, 504194, 20, ADD),
                               (ASK, 504264, 40, ADD), (ASK, 504330, 40, ADD)]
    assert (chg.last_seq, chg.prev_seq) == (297218, 297217)  # type: ignore[union-attr]
    assert levels_of(chg) == [(BID, 504194, 0, DELETE), (BID, 504234, 0, DELETE)]


def test_grouped_channel_is_a_depth_limited_snapshot() -> None:
    frame = (b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":'
             b'"book.BTC-PERPETUAL.none.10.100ms","data":{"timestamp":1554375447971,'
             b'"instrument_name":"BTC-PERPETUAL","change_id":297219,"bids":[[5042.34,30.0]],'
             b'"asks":[[5042.64,40.0]]}}}')
    (m,) = Deribit().parse(frame, 1)
    assert isinstance(m, BookMessage)
    assert (m.kind, m.depth_limit, m.last_seq, m.prev_seq) == (Kind.SNAPSHOT, 10, 297219, None)
    assert levels_of(m) == [(BID, 504234, 300, UPDATE), (ASK, 504264, 400, UPDATE)]


def test_ticker_trades_and_control_frames() -> None:
    p = Deribit()
    p.parse(SNAPSHOT, 0)
    (q,) = p.parse(b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":'
                   b'"ticker.ETH-30JUL21-2800-C.raw","data":{"timestamp":1626993725864,'
                   b'"instrument_name":"ETH-30JUL21-2800-C","best_bid_price":0.0015,'
                   b'"best_bid_amount":4737.0,"best_ask_price":0.0025,"best_ask_amount":873.0,'
                   b'"mark_price":0.001972}}}', 3)
    assert q == Quote("deribit", "ETH-30JUL21-2800-C", 15, 47370, 25, 8730, None, 3,
                      1626993725864 * 10**6)
    (t,) = p.parse(b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":'
                   b'"trades.ETH-30JUL21-2800-C.raw","data":[{"trade_seq":1,"trade_id":"ETH-1",'
                   b'"timestamp":1626993725000,"price":0.0025,"amount":3.0,"direction":"buy",'
                   b'"instrument_name":"ETH-30JUL21-2800-C"}]}}', 4)
    assert t == Trade("deribit", "ETH-30JUL21-2800-C", 25, 30, Side.BID, "ETH-1", 4,
                      1626993725000 * 10**6)
    (ack,) = p.parse(b'{"jsonrpc":"2.0","id":0,"result":["book.X.raw"],"testnet":false}', 5)
    assert isinstance(ack, Status) and not ack.error and "id=0" in ack.text
    (err,) = p.parse(b'{"jsonrpc":"2.0","id":7,"error":{"code":11050,"message":"bad_request"}}', 6)
    assert isinstance(err, Status) and err.error and "11050" in err.text
    (hb,) = p.parse(b'{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}', 7)
    assert isinstance(hb, Status) and hb.text == "heartbeat"


def test_value_finer_than_the_instrument_is_an_error_naming_it() -> None:
    p = Deribit()
    p.parse(CHANGE, 0)
    with pytest.raises(ParseError, match="0.00015"):
        p.parse(CHANGE.replace(b'["new",0.001,2.6]', b'["new",0.00015,2.6]'), 0)
    with pytest.raises(ParseError, match="2.65"):
        p.parse(CHANGE.replace(b'["new",0.001,2.6]', b'["new",0.001,2.65]'), 0)


@pytest.mark.parametrize("frame", [
    CHANGE.replace(b'"new"', b'"replace"'),
    CHANGE.replace(b'0.001,2.6', b'"0.001",2.6'),  # a string where the venue sends a number
    CHANGE.replace(b'0.001,2.6', b'0.001,-2.6'),
    CHANGE.replace(b'0.001,2.6', b'0.001,true'),
    CHANGE.replace(b'"prev_change_id":33195894164,', b''),
    CHANGE.replace(b'"type":"change"', b'"type":"mystery"'),
    CHANGE.replace(b'0.001,2.6', b'1e400,2.6'),
    CHANGE[:90],
    b'{"jsonrpc":"2.0","id":1}',
])
def test_malformed_frames_raise_parse_error(frame: bytes) -> None:
    with pytest.raises(ParseError, match="deribit"):
        Deribit().parse(frame, 0)


def test_sniff_and_registry() -> None:
    assert sniff(frame_record(CHANGE)) == "deribit"
    assert sniff(frame_record(b'{"jsonrpc":"2.0","method":"subscription","params":'
                              b'{"channel":"l2Book","data":{}}}')) is None
    assert sniff(frame_record(b'{"channel":"l2Book","data":{"coin":"BTC"}}')) is None
    assert isinstance(make_parser("deribit"), Deribit)


# -- the options capture ----------------------------------------------------------------

def _ticker_oracle(recs: list[CaptureRecord]) -> tuple[int, int]:
    """Compares the venue's ticker with our book at the same exchange timestamp.

    On raw channels a ticker is pushed for every book change with the change's
    timestamp, usually just before it: compare once the book reaches that time."""
    from crossbook.replay import Replay

    r = Replay(Deribit())
    at: dict[str, int | None] = {}
    pending: dict[tuple[str, int | None], Quote] = {}
    ok = bad = 0

    def compare(q: Quote) -> None:
        nonlocal ok, bad
        bid, ask = r.syncs[q.symbol].view().bbo()
        if (bid or (0, 0), ask or (0, 0)) == ((q.bid_price, q.bid_size), (q.ask_price, q.ask_size)):
            ok += 1
        else:
            bad += 1

    for rec in recs:
        for m in r.feed(rec):
            if isinstance(m, BookMessage):
                at[m.symbol] = m.ts_exchange_ns
                q = pending.pop((m.symbol, m.ts_exchange_ns), None)
                if q is not None:
                    compare(q)
            elif isinstance(m, Quote):
                if at.get(m.symbol) == m.ts_exchange_ns:
                    compare(m)
                else:
                    pending[(m.symbol, m.ts_exchange_ns)] = m
    return ok, bad


def test_capture_replays_in_chain_and_agrees_with_the_ticker() -> None:
    recs = records(CAPTURE)
    r = replay(Deribit(), recs)
    assert r.parse_errors == []
    reports = {rep.symbol: rep for rep in r.finish()}
    assert len(reports) == 10
    for rep in reports.values():
        assert (rep.state, rep.gaps, rep.resyncs, rep.snapshots, rep.stale_dropped) == (
            "synced", 0, 0, 1, 0), rep.symbol
        r.syncs[rep.symbol].book.check_invariants()
    assert reports["BTC-24SEP21-8000-P"].messages == 31
    assert book_rows(r.syncs["BTC-24SEP21-8000-P"].view(), 3) == (
        [(5, 1531)], [(15, 947), (20, 220), (25, 10)])
    # Expected values from a plain json+Decimal replay of the same frames.
    assert book_rows(r.syncs["BTC-31DEC21-34000-P"].view(), 2) == (
        [(2325, 15), (2320, 46)], [(2360, 84), (2375, 10)])
    assert book_rows(r.syncs["ETH-27AUG21-4000-P"].view()) == ([], [])  # an empty book is a book
    assert _ticker_oracle(recs) == (37, 0)


def _chain(recs: list[CaptureRecord]) -> list[int]:
    return indices(recs, lambda r: b'"channel":"book.BTC-24SEP21-8000-P.raw"' in r.payload[:120])


def test_dropped_change_is_a_gap_and_the_book_is_withheld_until_a_new_snapshot() -> None:
    recs = records(CAPTURE)
    chain = _chain(recs)
    r = replay(Deribit(), drop(recs, chain[5]))
    sync = r.syncs["BTC-24SEP21-8000-P"]
    (rep,) = [x for x in r.finish() if x.symbol == "BTC-24SEP21-8000-P"]
    assert (rep.gaps, rep.resyncs, rep.state) == (1, 1, "resyncing")
    (gap,) = [e for e in rep.events if e.reason.value == "gap"]
    assert gap.detail == "book at id 33195894530, got None..33195894766 (prev 33195894761)"
    assert not sync.synced and len(sync.book) == 0
    with pytest.raises(BookNotSynced):
        sync.view()
    # Resubscribing brings a new snapshot: the book is rebuilt from it.
    resent = frame_record(recs[chain[0]].payload, recs[-1].recv_ns + 1)
    r.feed(resent)
    assert sync.synced and book_rows(sync.view(), 1) == ([(5, 1531)], [(15, 947)])


def test_corrupted_size_is_invisible_to_sync_but_the_ticker_disagrees() -> None:
    # Deribit sends no checksum: a wrong amount with an intact chain cannot be seen
    # by BookSync (the limit of this venue). Only the venue's own ticker reveals it.
    recs = records(CAPTURE)
    i = indices(recs, lambda r: b'"change_id":33195894765' in r.payload)[0]
    bad = replace(recs, i, b'["change",0.2325,1.5]', b'["change",0.2325,1.6]')
    r = replay(Deribit(), bad)
    (rep,) = [x for x in r.finish() if x.symbol == "BTC-31DEC21-34000-P"]
    assert (rep.gaps, rep.state) == (0, "synced")
    ok, mismatched = _ticker_oracle(bad)
    # Every later ticker of that option disagrees: the wrong bid stays until a snapshot.
    assert (ok, mismatched) == (35, 2)


def test_sniff_recognises_the_capture() -> None:
    recs = records(CAPTURE)
    assert sniff(recs[0]) == "deribit" and recs[0].kind is RecordKind.SENT
    assert all(sniff(r) == "deribit" for r in recs if b'"subscription"' in r.payload[:60])


@settings(max_examples=300, deadline=None)
@given(malformed_frames([SNAPSHOT, CHANGE, DOC_SNAPSHOT, DOC_CHANGE]))
def test_malformed_frames_never_escape_as_other_errors(frame: bytes) -> None:
    p = Deribit()
    p.parse(SNAPSHOT, 0)
    check_parse_contract(p, frame)


def test_decimal_digits_are_kept_not_floated() -> None:
    # 0.1 + 0.2 style values: a float path would give 0.30000000000000004.
    p = Deribit()
    (m,) = p.parse(CHANGE.replace(b'["new",0.001,2.6]', b'["new",0.0003,0.3]'), 0)
    inst = p.instruments.get("BTC-24SEP21-8000-P")
    assert inst is not None and levels_of(m) == [(ASK, 3, 3, ADD)]
    assert Decimal("0.3") * 10**inst.size_exp == 3
