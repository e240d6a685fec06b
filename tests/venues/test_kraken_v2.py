"""Kraken spot WebSocket v2: there is no v2 capture, so the oracles are the real
messages of Kraken's book page (MATIC/USD snapshot 2439117997 and update
2114181697, which only reproduce when numbers are re-rendered at the pair's
precision) and the Kraken checksum vectors sent through the v2 path as JSON
numbers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings

from crossbook import Side, dtypes
from crossbook.messages import BookMessage, Instrument, Kind, Quote, Status, Trade
from crossbook.sync import BookNotSynced, BookSync, SyncState
from crossbook.venues.base import ParseError, wire_decimals
from crossbook.venues.kraken_v2 import KrakenV2, rfc3339_ns, sniff

from ._venue_kit import check_parse_contract, frame_record, malformed_frames, vectors

SNAPSHOT = b"""{
    "channel": "book",
    "type": "snapshot",
    "data": [
        {
            "symbol": "MATIC/USD",
            "bids": [
                {"price": 0.5666, "qty": 4831.75496356},
                {"price": 0.5665, "qty": 6658.22734739},
                {"price": 0.5664, "qty": 18724.91513344},
                {"price": 0.5663, "qty": 11563.92544914},
                {"price": 0.5662, "qty": 14006.65365711},
                {"price": 0.5661, "qty": 17454.85679807},
                {"price": 0.566, "qty": 18097.1547},
                {"price": 0.5659, "qty": 33644.89175666},
                {"price": 0.5658, "qty": 148.3464},
                {"price": 0.5657, "qty": 606.70854372}
            ],
            "asks": [
                {"price": 0.5668, "qty": 4410.79769741},
                {"price": 0.5669, "qty": 4655.40412487},
                {"price": 0.567, "qty": 49844.89424998},
                {"price": 0.5671, "qty": 24306.41678},
                {"price": 0.5672, "qty": 29783.25223475},
                {"price": 0.5673, "qty": 57234.71239278},
                {"price": 0.5674, "qty": 45065.04744},
                {"price": 0.5675, "qty": 5912.76380354},
                {"price": 0.5676, "qty": 42514.92434778},
                {"price": 0.5677, "qty": 36304.0847022}
            ],
            "checksum": 2439117997,
            "timestamp": "2023-10-06T17:35:55.440295Z"
        }
    ]
}"""
UPDATE = b"""{
    "channel": "book",
    "type": "update",
    "data": [
        {
            "symbol": "MATIC/USD",
            "bids": [
                {"price": 0.5657, "qty": 1098.3947558}
            ],
            "asks": [],
            "checksum": 2114181697,
            "timestamp": "2023-10-06T17:35:55.440295Z"
        }
    ]
}"""
TS = 1696613755440295000
MATIC = Instrument("kraken_v2", "MATIC/USD", 4, 8)  # price_precision 4, qty_precision 8


def _sync(parser: KrakenV2, symbol: str = "MATIC/USD") -> BookSync:
    inst = parser.instruments.get(symbol)
    assert inst is not None
    return BookSync(inst, parser.sync_rule(symbol), checksum=parser.checksum(symbol),
                    depth_limit=parser.depth_limit(symbol))


def _feed(*payloads: bytes, parser: KrakenV2 | None = None) -> tuple[BookSync, list[BookMessage]]:
    p = parser or KrakenV2()
    msgs = [m for pl in payloads for m in p.parse(pl, 1) if isinstance(m, BookMessage)]
    sync = _sync(p)
    for m in msgs:
        sync.on_message(m)
    return sync, msgs


def test_snapshot_is_normalized_exactly() -> None:
    p = KrakenV2()
    (m,) = p.parse(SNAPSHOT, 5)
    assert isinstance(m, BookMessage)
    assert (m.venue, m.symbol, m.kind, m.checksum, m.checksum_alg) == (
        "kraken_v2", "MATIC/USD", Kind.SNAPSHOT, 2439117997, "kraken_crc32_top10")
    assert (m.ts_exchange_ns, m.ts_recv_ns, m.depth_limit) == (TS, 5, 10)
    assert (m.first_seq, m.last_seq, m.prev_seq) == (None, None, None)
    assert p.instruments.get("MATIC/USD") == MATIC  # inferred: the most decimals shown
    body = json.loads(SNAPSHOT, parse_float=Decimal)["data"][0]
    want = [(Side.BID, lv) for lv in body["bids"]] + [(Side.ASK, lv) for lv in body["asks"]]
    assert m.levels[["side", "price", "size"]].tolist() == [
        (s, int(lv["price"] * 10**4), int(lv["qty"] * 10**8)) for s, lv in want]
    assert m.levels[["side", "price", "size"]].tolist()[6] == (Side.BID, 5660, 1809715470000)
    assert (m.levels["flags"] & dtypes.F_SNAPSHOT).all() and (m.levels["ts_exchange_ns"] == TS).all()


def test_doc_snapshot_and_update_checksums_reproduce() -> None:
    sync, (_, upd) = _feed(SNAPSHOT, UPDATE)
    assert upd.kind is Kind.DELTA and upd.checksum == 2114181697
    assert upd.levels[["side", "price", "size"]].tolist() == [(Side.BID, 5657, 109839475580)]
    assert sync.state is SyncState.SYNCED
    assert (sync.stats.checksums_ok, sync.stats.checksums_failed) == (2, 0)
    book = sync.view()
    assert book.bbo() == ((5666, 483175496356), (5668, 441079769741))
    assert book.level(Side.BID, 5657) == (109839475580, 0)
    book.check_invariants()


def test_checksum_needs_the_pairs_precision() -> None:
    # One decimal too many renders 0.5666 as "0.56660": the CRC then differs.
    p = KrakenV2([Instrument("kraken_v2", "MATIC/USD", 5, 8)])
    sync, _ = _feed(SNAPSHOT, parser=p)
    assert sync.stats.checksums_failed == 1 and sync.state is SyncState.RESYNCING
    sync, _ = _feed(SNAPSHOT, UPDATE, parser=KrakenV2([MATIC]))
    assert sync.stats.checksums_ok == 2


def test_checksum_vectors_reproduce_through_json_numbers() -> None:
    data = vectors()
    cases = [(v["top10_bids_high_to_low"], v["top10_asks_low_to_high"], v["expected_checksum_uint32"])
             for v in data["official_doc_examples"] if "kraken" in v["id"]]
    cases += [(v["bids"], v["asks"], v["expected_checksum"])
              for v in data["bmoscon_orderbook_test_vectors"]["vectors"] if v["format"] == "KRAKEN"]
    cases += [(v["top10_bids_after_update_high_to_low"], v["top10_asks_after_update_low_to_high"],
               v["expected_checksum_uint32"])
              for v in data["real_recorded_vectors"]["vectors"] if v["venue"] == "kraken_ws_v1"]
    assert len(cases) == 9
    for bids, asks, expected in cases:
        rows = bids + asks
        inst = Instrument("kraken_v2", "X/Y", wire_decimals(r[0] for r in rows), wire_decimals(r[1] for r in rows))

        def lv(r: list[str]) -> str:  # as a JSON number: the padding is gone
            return f'{{"price":{Decimal(r[0]).normalize()},"qty":{Decimal(r[1]).normalize()}}}'

        payload = (f'{{"channel":"book","type":"snapshot","data":[{{"symbol":"X/Y",'
                   f'"bids":[{",".join(map(lv, bids))}],"asks":[{",".join(map(lv, asks))}],'
                   f'"checksum":{expected},"timestamp":"2023-10-06T17:35:55Z"}}]}}')
        p = KrakenV2([inst], depth=25)
        (m,) = p.parse(payload.encode(), 1)
        assert isinstance(m, BookMessage)
        sync = _sync(p, "X/Y")
        sync.on_message(m)
        assert (sync.stats.checksums_ok, sync.state) == (1, SyncState.SYNCED), expected


def test_book_is_truncated_to_the_subscribed_depth() -> None:
    p = KrakenV2()
    (ack,) = p.parse(b'{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,'
                     b'"symbol":"MATIC/USD"},"success":true,"time_in":"2023-10-06T17:35:55.123456Z",'
                     b'"time_out":"2023-10-06T17:35:55.123789Z"}', 1)
    assert ack == Status("kraken_v2", "MATIC/USD", "subscribe book", 1)
    insert = UPDATE.replace(b'"price": 0.5657', b'"price": 0.56665').replace(b'"checksum": 2114181697,', b"")
    p = KrakenV2([Instrument("kraken_v2", "MATIC/USD", 5, 8)], depth=10)
    sync, (_, upd) = _feed(SNAPSHOT.replace(b'"checksum": 2439117997,', b""), insert, parser=p)
    assert upd.depth_limit == 10
    bids = sync.view().levels(Side.BID)
    assert len(bids) == 10 and bids["price"][0] == 56665 and bids["price"][-1] == 56580  # 0.5657 fell out


def test_ack_depth_and_snapshot_inference() -> None:
    p = KrakenV2()
    p.parse(b'{"method":"subscribe","result":{"channel":"book","depth":100,"snapshot":true,'
            b'"symbol":"MATIC/USD"},"success":true}', 1)
    assert p.depth_limit("MATIC/USD") == 100
    (err,) = p.parse(b'{"error":"Currency pair not supported XYZ/USD","method":"subscribe",'
                     b'"success":false,"symbol":"XYZ/USD"}', 2)
    assert isinstance(err, Status) and err.error and "not supported" in err.text
    with pytest.raises(ValueError, match="depth"):
        KrakenV2(depth=11)


def test_trades_tickers_and_control_frames() -> None:
    p = KrakenV2()
    (t,) = p.parse(b'{"channel":"trade","type":"update","data":[{"symbol":"MATIC/USD","side":"sell",'
                   b'"price":0.5117,"qty":40.0,"ord_type":"market","trade_id":4665906,'
                   b'"timestamp":"2023-09-25T07:49:37.708706Z"}]}', 3)
    assert t == Trade("kraken_v2", "MATIC/USD", 5117, 40, Side.ASK, "4665906", 3, 1695628177708706000)
    (q,) = p.parse(b'{"channel":"ticker","type":"snapshot","data":[{"symbol":"ALGO/USD","bid":0.10025,'
                   b'"bid_qty":740.0,"ask":0.10036,"ask_qty":1361.44813783,"last":0.10035}]}', 4)
    assert q == Quote("kraken_v2", "ALGO/USD", 10025, 74000000000, 10036, 136144813783, None, 4, None)
    (hb,) = p.parse(b'{"channel":"heartbeat"}', 5)
    (st,) = p.parse(b'{"channel":"status","type":"update","data":[{"version":"2.0.0","system":"online",'
                    b'"api_version":"v2","connection_id":12393906104898154338}]}', 6)
    assert hb == Status("kraken_v2", None, "heartbeat", 5) and st == Status("kraken_v2", None, "status update", 6)


def test_rfc3339_is_exact() -> None:
    assert rfc3339_ns("2023-10-06T17:35:55.440295Z") == TS
    assert rfc3339_ns("2023-10-06T17:35:55.123456789Z") == 1696613755123456789
    assert rfc3339_ns("1970-01-01T00:00:01+00:00") == 10**9
    with pytest.raises(ValueError):
        rfc3339_ns("2023-10-06 17:35:55Z")


# -- faults ---------------------------------------------------------------------------------


def test_corrupted_quantity_is_caught_by_the_checksum() -> None:
    for bad in (SNAPSHOT.replace(b"148.3464", b"148.3465"), UPDATE.replace(b"1098.3947558", b"1098.3947559")):
        payloads = (bad, UPDATE) if bad.startswith(SNAPSHOT[:60]) else (SNAPSHOT, bad)
        sync, _ = _feed(*payloads, parser=KrakenV2([MATIC]))
        assert sync.stats.checksums_failed == 1 and sync.state is SyncState.RESYNCING
        with pytest.raises(BookNotSynced):
            sync.view()


def test_lost_snapshot_and_reordering() -> None:
    # No sequence numbers: an update without its snapshot is held, never served.
    sync, _ = _feed(UPDATE, parser=KrakenV2([MATIC]))
    assert sync.state is SyncState.BUFFERING and not sync.synced
    # An update that overtakes its snapshot is superseded by it; the book matches
    # the snapshot's checksum, and the lost change only shows at the next
    # checksum. That is the limit of a feed with no sequence numbers.
    sync, _ = _feed(UPDATE, SNAPSHOT, parser=KrakenV2([MATIC]))
    assert (sync.state, sync.stats.checksums_ok, sync.stats.stale_dropped) == (SyncState.SYNCED, 1, 1)
    # A duplicate update re-sets the same absolute size: harmless, and its checksum passes again.
    sync, _ = _feed(SNAPSHOT, UPDATE, UPDATE, parser=KrakenV2([MATIC]))
    assert (sync.stats.checksums_ok, sync.stats.checksums_failed) == (3, 0)


@pytest.mark.parametrize("bad", [
    UPDATE.replace(b"1098.3947558", b"1098.394755801"),  # finer than qty_precision 8
    UPDATE.replace(b"1098.3947558", b"-1"),
    UPDATE.replace(b"1098.3947558", b'"x"'),
    UPDATE.replace(b"2114181697", b"4294967296"),
    UPDATE.replace(b'"2023-10-06T17:35:55.440295Z"', b'"yesterday"'),
    b'{"channel":"book","type":"update","data":[{"bids":[]}]}',
    b'{"type":"update"}', b"[]", b'{"channel":"book","type":"update","data":{}}',
])
def test_malformed_frames_raise_parse_error(bad: bytes) -> None:
    p = KrakenV2([MATIC])
    with pytest.raises(ParseError, match="kraken_v2"):
        p.parse(bad, 0)


def test_value_finer_than_the_precision_names_it() -> None:
    with pytest.raises(ParseError, match="1098.394755801"):
        KrakenV2([MATIC]).parse(UPDATE.replace(b"1098.3947558", b"1098.394755801"), 0)


def test_sniffing() -> None:
    assert sniff(frame_record(SNAPSHOT.replace(b"\n", b"").replace(b" ", b""))) == "kraken_v2"
    assert sniff(frame_record(b'{"channel":"book","type":"update","data":[]}')) == "kraken_v2"
    assert sniff(frame_record(b'{"event":"subscribed","channel":"book","chanId":1,"symbol":"tBTCUSD"}')) is None
    assert sniff(frame_record(b'{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[]}')) is None
    assert sniff(frame_record(b'[992,{"b":[["1.0","1.0","1.0"]],"c":"1"},"book-10","XMR/USD"]')) is None


_SAMPLES = [SNAPSHOT, UPDATE,
            (b'{"channel":"trade","type":"update","data":[{"symbol":"MATIC/USD","side":"sell","price":0.5117,'
             b'"qty":40.0,"trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"}]}'),
            (b'{"channel":"ticker","type":"snapshot","data":[{"symbol":"ALGO/USD","bid":0.10025,"bid_qty":740.0,'
             b'"ask":0.10036,"ask_qty":1361.44813783}]}'),
            b'{"method":"subscribe","result":{"channel":"book","depth":10,"symbol":"MATIC/USD"},"success":true}']


@settings(max_examples=300, deadline=None)
@given(malformed_frames(_SAMPLES))
def test_random_malformed_frames_give_parse_error_or_records(payload: bytes) -> None:
    check_parse_contract(KrakenV2(), payload)
