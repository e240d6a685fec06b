"""Databento readers: golden records from DBN and CSV, malformed input, and
MBO replays checked against Databento's own MBP-10."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path

import numpy as np
import pytest

import crossbook
from crossbook import dtypes
from crossbook.io import databento as DB
from crossbook.io._common import synthetic_orders

pytest.importorskip("databento_dbn", reason="the DBN tests need databento-dbn")

ARL_MBO = "arl_xnas_20250717_first_part.mbo.csv.gz"
ARL_MBP = "arl_xnas_20250717_first_part.mbp-10.csv.gz"
ES_FILES = ["esh4-glbx-mdp3-20231225.mbo.dbn.zst", "esm4-glbx-mdp3-20240508.mbo.dbn.zst"]
MBP_FIXTURES = ["test_data.mbp-10.dbn", "test_data.mbp-10.v1.dbn.zst",
                "test_data.mbp-10.v2.dbn.zst", "test_data.mbp-10.v3.dbn.zst"]  # fmt: skip

needs_book = pytest.mark.skipif(
    not hasattr(crossbook, "OrderBook"), reason="crossbook.OrderBook is not built in this install"
)


def _iso(y: int, mo: int, d: int, h: int, mi: int, s: int, ns: int) -> int:
    return int(dt.datetime(y, mo, d, h, mi, s, tzinfo=dt.UTC).timestamp()) * 10**9 + ns


@pytest.fixture(scope="module")
def arl(databento_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    return (DB.read_csv_mbo(databento_dir / ARL_MBO).records,
            DB.read_csv_mbp10(databento_dir / ARL_MBP).records)  # fmt: skip


# ------------------------------------------------------------------ golden records


def test_dbn_mbo_fixture_every_field(databento_dir: Path) -> None:
    data = DB.read_dbn_mbo(databento_dir / "test_data.mbo.v3.dbn")
    assert (data.schema, data.dataset, data.symbols) == ("mbo", "GLBX.MDP3", ("ESH1",))
    assert data.records.dtype == DB.MBO and len(data.records) == 2
    # ts_recv, ts_event, price, size, instrument_id, sequence, ts_in_delta,
    # publisher_id, flags, action, side, order_id, channel_id
    assert data.records[0].tolist() == (
        1609160400000704060, 1609160400000429831, 3722750000000, 1, 5482, 1170352, 22993,
        1, 128, b"C", b"A", 647784973705, 0,
    )  # fmt: skip
    assert data.records[1]["order_id"] == 647784973631


def test_dbn_es_first_record_is_snapshot(databento_dir: Path) -> None:
    recs = DB.read_dbn_mbo(databento_dir / ES_FILES[0]).records
    assert len(recs) == 68792
    assert recs[0].tolist() == (
        1703462400000000000, 1703422805243925307, 4799000000000, 2, 17077, 682, 0,
        1, 40, b"A", b"B", 6412777162812, 0,
    )  # fmt: skip
    esm = DB.read_dbn_mbo(databento_dir / ES_FILES[1]).records
    assert len(esm) == 13796 and esm[0]["action"] == b"R" and esm[0]["price"] == DB.UNDEF_PRICE


def test_dbn_mbp10_fixture_every_version(databento_dir: Path) -> None:
    arrays = [DB.read_dbn_mbp10(databento_dir / f).records for f in MBP_FIXTURES]
    for other in arrays[1:]:
        assert other.tobytes() == arrays[0].tobytes()  # DBN v1, v2, v3, plain and zstd agree
    r = arrays[0][0]
    head = tuple(r[f] for f in ("ts_recv", "ts_event", "price", "size", "sequence", "flags",
                                "action", "side", "depth"))  # fmt: skip
    assert head == (1609160400000704060, 1609160400000429831, 3722750000000, 1, 1170352, 128,
                    b"C", b"A", 9)  # fmt: skip
    assert r["bids"][0].tolist() == (3720250000000, 24, 15)
    assert r["asks"][0].tolist() == (3720500000000, 10, 8)
    assert r["bids"][9].tolist() == (3718000000000, 67, 39)
    assert r["asks"][9].tolist() == (3722750000000, 44, 26)


def test_csv_mbo_every_field(arl: tuple[np.ndarray, np.ndarray]) -> None:
    mbo, _ = arl
    assert len(mbo) == 3000
    # 2025-07-17T07:05:09.035793433Z,2025-07-17T07:05:09.035627674Z,160,2,1108,R,N,,0,0,0,8,0,0,ARL
    assert mbo[0].tolist() == (
        _iso(2025, 7, 17, 7, 5, 9, 35793433), _iso(2025, 7, 17, 7, 5, 9, 35627674),
        DB.UNDEF_PRICE, 0, 1108, 0, 0, 2, 8, b"R", b"N", 0, 0,
    )  # fmt: skip
    # ...08:05:03.360842448Z,...08:05:03.360677248Z,160,2,1108,A,B,5.510000000,100,0,817593,130,165200,851012,ARL
    assert mbo[1].tolist() == (
        _iso(2025, 7, 17, 8, 5, 3, 360842448), _iso(2025, 7, 17, 8, 5, 3, 360677248),
        5_510_000_000, 100, 1108, 851012, 165200, 2, 130, b"A", b"B", 817593, 0,
    )  # fmt: skip


def test_csv_mbp10_row(arl: tuple[np.ndarray, np.ndarray], databento_dir: Path) -> None:
    _, mbp = arl
    assert len(mbp) == 1942
    # 1,2025-07-17T08:05:03.360677248Z,...,A,B,0,5.51,100,130,165200,851012,5.51,100,1,,0,0,...
    r = mbp[1]
    assert (r["action"], r["side"], r["depth"], r["price"], r["size"], r["sequence"]) == (
        b"A", b"B", 0, 5_510_000_000, 100, 851012,
    )  # fmt: skip
    assert r["bids"][0].tolist() == (5_510_000_000, 100, 1)
    assert (r["bids"]["price"][1:] == DB.UNDEF_PRICE).all() and (r["asks"]["size"] == 0).all()
    assert DB.present_levels(r["bids"]).tolist() == [(5_510_000_000, 100, 1)]
    assert DB.read_csv_mbp10(databento_dir / ARL_MBP).symbols == ("ARL",)


def test_csv_raw_integer_prices_and_times(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text(
        "ts_recv,ts_event,action,side,price,size,order_id,flags,sequence\n"
        "1752739503360842448,1752739503360677248,A,B,5510000000,100,817593,130,851012\n"
    )
    rec = DB.read_csv_mbo(path).records[0]
    assert (rec["ts_recv"], rec["price"], rec["instrument_id"]) == (
        1752739503360842448,
        5_510_000_000,
        0,
    )


# ------------------------------------------------------------------ to events


def test_events_semantics_on_arl(arl: tuple[np.ndarray, np.ndarray]) -> None:
    mbo, _ = arl
    out = DB.mbo_to_events(mbo)
    ev = out.events
    assert ev.dtype == dtypes.ORDER_EVENT and len(ev) == 3000 - 25  # 24 T + 1 F are trades
    assert ev[0].tolist() == (
        mbo[0]["ts_event"],
        mbo[0]["ts_recv"],
        0,
        0,
        0,
        0,
        dtypes.ORDER_CLEAR,
        0,
        0,
    )
    assert ev[1].tolist() == (mbo[1]["ts_event"], mbo[1]["ts_recv"], 817593, 5_510_000_000, 100,
                              1, dtypes.ORDER_ADD, dtypes.F_LAST, 0)  # fmt: skip
    # The ITCH execution at sequence 56150102 is T (aggressor), F (fill of
    # order 68625181), C 1 (its depletion): only the C changes the book.
    group = np.flatnonzero(mbo["sequence"] == 56150102)
    assert mbo["action"][group].tolist() == [b"T", b"F", b"C"]
    assert set(group[:2]) <= set(out.trade_record) and group[2] in out.event_record
    c = ev[out.event_record == group[2]][0]
    assert (c["action"], c["order_id"], c["size"], c["side"]) == (
        dtypes.ORDER_CANCEL,
        68625181,
        1,
        2,
    )
    assert len(out.trade_record) == 25


def test_f_last_moves_to_the_last_book_event() -> None:
    recs = np.zeros(6, dtype=DB.MBO)
    recs["action"] = [b"A", b"T", b"F", b"C", b"C", b"N"]
    recs["side"] = [b"B", b"A", b"B", b"B", b"B", b"N"]
    recs["flags"] = [0, 0, 128, 0, 0, 128 | 32]
    recs["size"] = [5, 2, 2, 2, 0, 0]
    recs["order_id"] = [7, 0, 7, 7, 7, 0]
    out = DB.mbo_to_events(recs)
    # the C of size 0 cancels nothing (Databento) and would mean "all" to us
    assert out.event_record.tolist() == [0, 3]
    assert out.events["flags"].tolist() == [dtypes.F_LAST, dtypes.F_LAST]
    assert out.trade_record.tolist() == [1, 2]


def test_instruments_must_be_chosen() -> None:
    recs = np.zeros(2, dtype=DB.MBO)
    recs["action"], recs["side"], recs["size"] = b"A", b"B", 1
    recs["instrument_id"] = [1, 2]
    with pytest.raises(ValueError, match="pass instrument_id"):
        DB.mbo_to_events(recs)
    assert DB.mbo_to_events(recs, instrument_id=2).event_record.tolist() == [1]


# ------------------------------------------------------------------ malformed

HEADER = "ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,price,size,channel_id,order_id,flags,ts_in_delta,sequence,symbol\n"
GOOD = "2025-07-17T08:05:03.360842448Z,2025-07-17T08:05:03.360677248Z,160,2,1108,A,B,5.510000000,100,0,817593,130,165200,851012,ARL\n"


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (GOOD[:60] + "\n", "expected 15 fields"),  # truncated line
        (GOOD.replace(",A,B,", ",X,B,"), "column action: bad action 'X'"),
        (GOOD.replace("5.510000000", "abc"), "column price: not a price: 'abc'"),
        (GOOD.replace("5.510000000", "5.5100000001"), "more decimals"),
        (GOOD.replace(",A,B,", ",A,Q,"), "bad side 'Q'"),
        (
            GOOD.replace("2025-07-17T08:05:03.360842448Z", "yesterday"),
            "column ts_recv: not an ISO-8601 time or integer ns: 'yesterday'",
        ),
    ],
)
def test_malformed_csv_names_file_and_line(tmp_path: Path, line: str, needle: str) -> None:
    path = tmp_path / "bad.mbo.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write(HEADER + GOOD + line)
    with pytest.raises(DB.DatabentoFormatError) as err:
        DB.read_csv_mbo(path)
    assert needle in str(err.value) and f"{path}:3:" in str(err.value)


def test_csv_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("ts_recv,ts_event,action\n1,2,A\n")
    with pytest.raises(
        DB.DatabentoFormatError,
        match=r"x.csv:1: missing columns side, price, size, order_id, flags, sequence",
    ):
        DB.read_csv_mbo(path)


def test_malformed_dbn(databento_dir: Path) -> None:
    data = (databento_dir / "test_data.mbo.v3.dbn").read_bytes()
    with pytest.raises(DB.DatabentoFormatError, match="truncated: 46 bytes after record 1"):
        DB.read_dbn_mbo(io.BytesIO(data[:-10]))
    with pytest.raises(DB.DatabentoFormatError, match="not a readable DBN stream"):
        DB.read_dbn_mbo(io.BytesIO(b"not dbn at all" * 10))
    with pytest.raises(DB.DatabentoFormatError, match="expected mbo records, got MBP10Msg"):
        DB.read_dbn_mbo(databento_dir / MBP_FIXTURES[0])


# ------------------------------------------------------------------ replays


def _rows(levels: np.ndarray) -> list[tuple[int, int, int]]:
    return [tuple(map(int, row)) for row in levels.tolist()]


@needs_book
def test_arl_mbo_reproduces_every_mbp10_row(arl: tuple[np.ndarray, np.ndarray]) -> None:
    mbo, mbp = arl
    out = DB.mbo_to_events(mbo)
    checkpoints = DB.mbp_checkpoints(mbo, mbp)
    # Only one MBP-10 row is a trade whose venue message also depleted the
    # resting order (T, F, C share sequence 56150102): it shows the book after
    # the C, not at the T.
    at_trade = [i for i in range(len(mbp)) if mbo["action"][checkpoints[i]] != mbp["action"][i]]
    assert len(at_trade) == 1 and mbo["action"][checkpoints[at_trade[0]]] == b"C"
    book = crossbook.OrderBook(price_exp=DB.PRICE_EXP, on_anomaly="raise")
    ends = np.searchsorted(out.event_record, checkpoints, side="right")
    done, mismatches = 0, []
    for i, end in enumerate(ends):
        book.apply(out.events[done:end])
        done = end
        bids, asks = book.depth(10)
        if (_rows(bids), _rows(asks)) != (_rows(DB.present_levels(mbp["bids"][i])),
                                          _rows(DB.present_levels(mbp["asks"][i]))):  # fmt: skip
            mismatches.append(i)
    assert len(ends) == 1942 and mismatches == []
    book.check_invariants()


@needs_book
def test_two_record_fixture_against_its_mbp10_twin(databento_dir: Path) -> None:
    mbo = DB.read_dbn_mbo(databento_dir / "test_data.mbo.v3.dbn").records
    mbp = DB.read_dbn_mbp10(databento_dir / "test_data.mbp-10.v3.dbn.zst").records
    # Record 0 (cancel at 3722.75, the 10th ask) has an MBP-10 twin; record 1
    # (3723.00, beyond the 10th ask) has none, and MBP-10 record 1 (sequence
    # 1170356) comes from a record the MBO fixture does not hold.
    with pytest.raises(ValueError, match="MBP-10 record 1"):
        DB.mbp_checkpoints(mbo, mbp)
    assert DB.mbp_checkpoints(mbo, mbp[:1]).tolist() == [0]
    twin = [
        mbp[0][f]
        for f in ("ts_recv", "ts_event", "sequence", "action", "side", "price", "size", "flags")
    ]
    assert twin == [
        mbo[0][f]
        for f in ("ts_recv", "ts_event", "sequence", "action", "side", "price", "size", "flags")
    ]
    # The book before record 0: MBP-10 record 0's levels (synthetic orders,
    # as many as each level's count) plus the two orders the records cancel.
    seed = synthetic_orders(
        DB.present_levels(mbp[0]["bids"]), DB.present_levels(mbp[0]["asks"]), per_count=True
    )
    book = crossbook.OrderBook(price_exp=DB.PRICE_EXP, on_anomaly="raise")
    book.apply(seed)
    for r in mbo:
        book.add(int(r["order_id"]), int(crossbook.Side.ASK), int(r["price"]), int(r["size"]))
    events = DB.mbo_to_events(mbo).events
    book.apply(events[:1])
    got_bids, got_asks = book.depth(10)
    assert _rows(got_bids) == _rows(mbp[0]["bids"]) and _rows(got_asks) == _rows(mbp[0]["asks"])
    # MBP-10's depth field is the level's index in the book
    assert int(np.flatnonzero(got_asks["price"] == mbo[0]["price"])[0]) == mbp[0]["depth"]
    book.apply(events[1:])  # beyond the 10th level: the top 10 must not move
    assert _rows(book.depth(10)[1]) == _rows(mbp[0]["asks"]) and len(book) == len(seed)


def _es_replay(path: Path) -> tuple[np.ndarray, DB.MboEvents, crossbook.OrderBook, np.ndarray]:
    recs = DB.read_dbn_mbo(path).records
    out = DB.mbo_to_events(recs)
    book = crossbook.OrderBook(price_exp=DB.PRICE_EXP, on_anomaly="count")
    bbo = np.zeros(len(out.events), dtype=dtypes.BBO)
    book.apply(out.events, bbo)
    return recs, out, book, bbo


@needs_book
@pytest.mark.parametrize(
    ("name", "resting", "crossed_preopen"), [(ES_FILES[0], 11217, 891), (ES_FILES[1], 13598, 0)]
)
def test_es_replays_without_anomalies(
    databento_dir: Path, name: str, resting: int, crossed_preopen: int
) -> None:
    recs, out, book, bbo = _es_replay(databento_dir / name)
    assert book.anomalies == {} and len(book) == resting
    book.check_invariants()
    # Crossed only while CME's pre-open collects orders (before the opening
    # trade); never at an event boundary once trading runs.
    last = (out.events["flags"] & dtypes.F_LAST) != 0
    crossed = (
        last
        & (bbo["bid_size"] > 0)
        & (bbo["ask_size"] > 0)
        & (bbo["bid_price"] >= bbo["ask_price"])
    )
    first_trade = recs["ts_recv"][recs["action"] == b"T"].min()
    assert int(crossed.sum()) == crossed_preopen
    assert not crossed[out.events["ts_recv_ns"] >= first_trade].any()


@needs_book
def test_es_fills_never_change_the_book(databento_dir: Path) -> None:
    """What the ES data itself contains: fills that do not fit the book as an
    execution would (hence F is a trade, not a book event)."""
    recs = DB.read_dbn_mbo(databento_dir / ES_FILES[0]).records
    out = DB.mbo_to_events(recs)
    book = crossbook.OrderBook(price_exp=DB.PRICE_EXP, on_anomaly="raise")
    fills = np.flatnonzero(recs["action"] == b"F")
    ends = np.searchsorted(out.event_record, fills)
    unknown = larger = done = 0
    for f, end in zip(fills, ends, strict=True):
        book.apply(out.events[done:end])
        done = end
        info = book.order(int(recs["order_id"][f]))
        unknown += info is None
        larger += info is not None and int(recs["size"][f]) > info.size
    # 7 side-N fills of the opening uncross (23:00:00.1) name ids that appear
    # nowhere else in the file (never displayed in the book); 28 fill iceberg
    # orders for more than their displayed size.
    assert (len(fills), unknown, larger) == (6371, 7, 28)
    # Every fill of a resting order is followed by that order's C or M (its
    # depletion), with only more trades of it in between.
    assert sum(_depleted_later(recs, int(f)) for f in fills) == len(fills) - unknown


def _depleted_later(recs: np.ndarray, f: int) -> bool:
    later = f + 1 + np.flatnonzero(recs["order_id"][f + 1 :] == recs["order_id"][f])
    actions = [a for a in recs["action"][later].tolist() if a not in (b"F", b"T")]
    return bool(actions) and actions[0] in (b"C", b"M")
