"""Per-book series: OFI and touch removals by hand, the volume profile, and the collector
against the compiled book it samples (on the bundled real data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crossbook.analytics import SeriesCollector, collect_series, merged_records, ofi, volume_profile
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Quote, Trade
from crossbook.replay import Replay, open_capture
from tests.analytics import _synth

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "crossbook" / "data"
COINM = BUNDLED / "binance_coinm_btcusd_perp_20240808_slice.cap.gz"


def test_ofi_follows_cont_kukanov_stoikov_case_by_case() -> None:
    #            bid  bsz  ask  asz
    rows = [(100, 5, 101, 7),
            (100, 8, 101, 7),   # bid size up at the same price: +3
            (101, 2, 102, 4),   # bid up: +2 (new bid); ask up: +7 (old ask gone)
            (100, 9, 102, 1),   # bid down: -2 (old bid gone); ask size down: +3
            (100, 9, 101, 6),   # ask down: -6 (new ask)
            (100, 4, 101, 6)]   # bid size down: -5
    b, bs, a, as_ = (np.array(c) for c in zip(*rows))
    assert ofi(b, bs, a, as_).tolist() == [0, 3, 9, 1, -6, -5]
    # Never across a segment boundary.
    assert ofi(b, bs, a, as_, np.array([0, 0, 1, 1, 1, 1])).tolist() == [0, 3, 0, 1, -6, -5]


def test_top_series_measures() -> None:
    q = _synth.top([1, 2, 3, 4], bid=[100_00, 100_00, 99_99, 100_00], ask=[100_02, 100_03, 100_03, 100_03],
                   bid_size=[1000, 3000, 1000, 1000], ask_size=[3000, 1000, 1000, 1000])
    assert q.mid2.tolist() == [200_02, 200_03, 200_02, 200_03]  # exact: twice the mid
    np.testing.assert_allclose(q.mid, [100.01, 100.015, 100.01, 100.015])
    assert q.spread.tolist() == [2, 3, 4, 3]
    np.testing.assert_allclose(q.imbalance, [-0.5, 0.5, 0, 0])
    np.testing.assert_allclose(q.microprice[:2], [100.005, 100.0225])
    assert q.touch_removed().tolist() == [0, 1, -1, 0]  # ask rose, then bid fell
    np.testing.assert_allclose(np.diff(q.log_mid), np.diff(np.log(q.mid)))
    cut = q.between(2, 4)
    assert cut.ts_recv_ns.tolist() == [2, 3] and cut.bid_size.tolist() == [3000, 1000]
    assert set(q.as_arrays()) >= {"mid2", "spread", "ofi", "imbalance", "microprice"}


def test_volume_profile_sums_exactly_by_bucket_and_side() -> None:
    t = _synth.trades(ts=range(6), price=[100_00, 100_04, 100_05, 100_09, 100_10, 100_02],
                      size=[1, 2, 3, 4, 5, 6], side=[1, 2, 1, 0, 2, 1])
    vp = volume_profile(t, bucket=5)
    assert vp.price_lo.tolist() == [100_00, 100_05, 100_10]
    assert vp.buy.tolist() == [7, 3, 0] and vp.sell.tolist() == [2, 0, 5]
    assert vp.unknown.tolist() == [0, 4, 0] and vp.total.sum() == 21
    auto = volume_profile(t, buckets=4)
    assert auto.bucket == 5 and auto.total.sum() == 21  # 1, 2 or 5 x 10^k


def test_collector_samples_the_book_it_is_given() -> None:
    """Every book sample equals the compiled book's state right after that message."""
    parser, records = open_capture(COINM)
    collector = SeriesCollector(depth_levels=5)
    seen: list[tuple[object, ...]] = []
    counts = {"quotes": 0, "trades": 0}

    def on_message(msg: object, sync: object) -> None:
        collector.on_message(msg, sync)  # type: ignore[arg-type]
        if isinstance(msg, BookMessage) and sync is not None and sync.synced:  # type: ignore[attr-defined]
            book = sync.book  # type: ignore[attr-defined]
            bids, asks = book.depth(5)
            seen.append((book.bbo(), bids.copy(), asks.copy(), book.imbalance(5), book.microprice()))
        counts["quotes"] += isinstance(msg, Quote)
        counts["trades"] += isinstance(msg, Trade)

    replay = Replay(parser, on_message=on_message)
    for rec in records:
        replay.feed(rec)
    (v,) = collector.result().values()
    b = v.book
    assert len(b) == len(seen) > 1000  # grown well past the first 1024 rows
    assert (len(v.quotes), len(v.trades)) == (counts["quotes"], counts["trades"])
    for i in np.linspace(0, len(b) - 1, 25).astype(int):
        (bid, ask), bids, asks, imb, micro = seen[i]
        assert (b.bid_price[i], b.bid_size[i], b.ask_price[i], b.ask_size[i]) == (*bid, *ask)
        n = len(bids)
        assert b.bid_levels[i]["price"][:n].tolist() == bids["price"].tolist()
        assert b.ask_levels[i]["size"][:len(asks)].tolist() == asks["size"].tolist()
        assert b.depth_imbalance(5)[i] == pytest.approx(imb)
        assert b.microprice[i] == pytest.approx(micro * 10.0 ** -b.price_exp)
    assert (np.diff(b.ts_recv_ns) >= 0).all() and b.segment.max() == 0
    assert np.all(b.spread > 0)


def test_merged_records_interleave_by_receive_time() -> None:
    def recs(times: list[int]) -> list[CaptureRecord]:
        return [CaptureRecord(t, RecordKind.FRAME, b"") for t in times]

    out = list(merged_records([iter(recs([1, 5, 9])), iter(recs([2, 5, 7]))]))
    assert [(i, r.recv_ns) for i, r in out] == [(0, 1), (1, 2), (0, 5), (1, 5), (1, 7), (0, 9)]


def test_collect_series_merges_the_bundled_captures() -> None:
    series, reports, errors = collect_series(sorted(BUNDLED.glob("*.cap.gz")))
    assert not errors and len(reports) == 3 and all(not r.failed for _, r in reports)
    assert set(series) == {"binance BTCUSDT", "binance_usdm BTCUSDT", "binance_coinm BTCUSD_PERP"}
    for v in series.values():
        assert len(v.book) > 500 and len(v.quotes) > 1000 and len(v.trades) > 100
        assert v.book.depth_levels == 10
