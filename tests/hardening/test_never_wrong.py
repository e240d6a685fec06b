"""A book must never stay "synced" while it is wrong: a corrupted sequence id,
a frame whose channel id is corrupted, an older snapshot after a newer one, and
rows or pushes that do not match the protocol are each detected or refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crossbook.messages import Status
from crossbook.sync import Reason
from crossbook.venues.base import ParseError

from ._kit import CAPTURES, SLICES, capture, frame_indices, replaced, run

_BIG = 10**9
_TOP = 2**63 - 1

# venue capture, frames to corrupt (a book delta), the last-update-id field (group 1 = digits)
CORRUPTIBLE: dict[str, tuple[Path, bytes, bytes]] = {
    "binance spot": (SLICES["binance"], rb'^\{"stream":"btcusdt@depth', rb'"u":(\d+)'),
    "binance usd-m": (SLICES["binance_usdm"], rb"@depth", rb'"u":(\d+)'),
    "binance coin-m": (SLICES["binance_coinm"], rb"@depth", rb'"u":(\d+)'),
    "deribit": (CAPTURES / "deribit" / "deribit_options.cap.gz",
                rb'"type":"change".*"instrument_name":"BTC-24SEP21-8000-P"', rb'"change_id":(\d+)'),
    "bitfinex": (CAPTURES / "bitfinex" / "bitfinex_book_p0.cap.gz", rb"^\[\d+,\[[-\d.e]+,\d+,[-\d.e]+\],\d+\]$",
                 rb",(\d+)\]$"),
    "kucoin": (CAPTURES / "kucoin" / "kucoin_level2.cap.gz", rb'"subject":"trade.l2update"',
               rb'"sequenceEnd":(\d+)'),
    "gateio": (CAPTURES / "gateio" / "gateio_spot.cap.gz", rb'"channel":"spot.order_book_update"',
               rb'"u":(\d+)'),
    "dydx": (CAPTURES / "dydx" / "dydx_v3_orderbook.cap.gz", rb'"type":"channel_data"',
             rb'"message_id":(\d+)'),
    "kraken futures": (CAPTURES / "kraken_futures" / "kraken_futures_book.cap.gz",
                       rb'^\{"feed":"book","product_id"', rb'"seq":(\d+)'),
    "bybit legacy": (CAPTURES / "bybit" / "bybit_legacy_l2_25_a.cap.gz", rb'"type":"delta"',
                     rb'"cross_seq":"(\d+)"'),
}


@pytest.mark.parametrize("to", ["plus 1e9", "int64 max"])
@pytest.mark.parametrize("name", sorted(CORRUPTIBLE))
def test_a_last_id_corrupted_upward_loses_sync(name: str, to: str) -> None:
    path, frames, field = CORRUPTIBLE[name]
    venue, recs = capture(path)
    clean = {r.symbol: r for r in run(venue, recs).finish()}
    candidates = frame_indices(recs, frames)
    i = candidates[len(candidates) // 2]
    m = re.search(field, recs[i].payload)
    assert m is not None, recs[i].payload[:200]
    value = int(m.group(1)) + _BIG if to == "plus 1e9" else _TOP
    start, end = m.span(1)
    bad = recs[i].payload[:start] + str(value).encode() + recs[i].payload[end:]
    replay = run(venue, replaced(recs, i, bad))
    reports = {r.symbol: r for r in replay.finish()}
    hit = [s for s, r in reports.items() if r.gaps > clean[s].gaps]
    assert hit, f"{name}: the corrupted id went unnoticed"
    for symbol in hit:
        gap = [e for e in reports[symbol].events if e.reason is Reason.GAP]
        assert gap and gap[-1].detail, gap
    assert any(reports[s].failed for s in hit)


def test_stale_by_id_yet_newer_says_why() -> None:
    venue, recs = capture(SLICES["binance"])
    i = frame_indices(recs, rb'^\{"stream":"btcusdt@depth')[-100]
    bad = re.sub(rb'"u":(\d+)', lambda m: b'"u":%d' % (int(m.group(1)) + _BIG), recs[i].payload)
    (report,) = run(venue, replaced(recs, i, bad)).finish()
    (gap,) = [e for e in report.events if e.reason is Reason.GAP]
    assert "stale by id" in gap.detail and "corrupted" in gap.detail
    assert report.state != "synced"


# -- Bitfinex: a frame whose channel id is corrupted -----------------------------------------


@pytest.mark.parametrize("to", [b"1", b"999999"])
def test_bitfinex_frame_with_a_corrupted_channel_id_is_a_gap(to: bytes) -> None:
    venue, recs = capture(CAPTURES / "bitfinex" / "bitfinex_book_p0.cap.gz")
    clean = {r.symbol: r for r in run(venue, recs).finish()}
    deltas = frame_indices(recs, rb"^\[\d+,\[[-\d.e]+,\d+,[-\d.e]+\],\d+\]$")
    i = deltas[len(deltas) // 2]
    bad = re.sub(rb"^\[\d+,", b"[" + to + b",", recs[i].payload)
    replay = run(venue, replaced(recs, i, bad))
    reports = replay.finish()
    assert sum(r.gaps for r in reports) > sum(r.gaps for r in clean.values())
    assert replay.summary.unrouted == 1 and replay.summary.failures()


def test_bitfinex_heartbeat_before_its_ack_is_no_gap() -> None:
    venue, recs = capture(CAPTURES / "bitfinex" / "bitfinex_book_p0.cap.gz")
    replay = run(venue, recs)
    assert all(r.gaps == 0 for r in replay.finish())
    assert replay.summary.unrouted == 0 and replay.summary.failures() == []


# -- Hyperliquid: an older snapshot after a newer one ------------------------------------------


def test_hyperliquid_older_snapshot_is_dropped_as_stale() -> None:
    venue, recs = capture(CAPTURES / "hyperliquid" / "hyperliquid_btcusd_20250126.cap.gz")
    books = frame_indices(recs, rb'"channel":"l2Book"')
    older, newer = books[-3], books[-2]
    moved = replaced(replaced(recs, older, recs[newer].payload), newer, recs[older].payload)
    replay = run(venue, moved[: newer + 1])
    (report,) = replay.finish()
    assert replay.summary.stale == 1
    t_newer = re.search(rb'"time":(\d+)', recs[newer].payload).group(1)  # type: ignore[union-attr]
    assert report.best_bid is not None
    parser = replay.parser
    out = parser.parse(recs[older].payload, 1)
    assert isinstance(out[0], Status) and getattr(out[0], "drop", None) is not None
    assert out[0].drop.value == "stale"
    assert t_newer.decode() in out[0].text


# -- shapes the protocol does not have --------------------------------------------------------


def test_okx_level_row_of_five_fields_is_refused() -> None:
    venue, recs = capture(CAPTURES / "okx" / "okx.cap.gz")
    i = frame_indices(recs, rb'"action":"update"')[5]
    bad = re.sub(rb'(\["[0-9.]+","[0-9.]+","\d+","\d+")\]', rb'\1,"7"]', recs[i].payload, count=1)
    assert bad != recs[i].payload
    with pytest.raises(ParseError, match="is not \\[price, size, liquidated orders, orders\\]"):
        run(venue, recs[:i]).parser.parse(bad, 1)
    three = re.sub(rb'\["([0-9.]+)","([0-9.]+)","\d+","\d+"\]', rb'["\1","\2","0"]',
                   recs[i].payload, count=1)
    with pytest.raises(ParseError):
        run(venue, recs[:i]).parser.parse(three, 1)


def test_bitget_push_without_a_book_is_refused() -> None:
    venue, recs = capture(CAPTURES / "bitget" / "bitget_spot.cap.gz")
    for pattern in (rb'"action":"update","arg":\{"instType":"sp","channel":"books"',
                    rb'"action":"snapshot","arg":\{"instType":"sp","channel":"books"'):
        i = frame_indices(recs, pattern)[3]
        empty = re.sub(rb'"data":\[.*\]\}$', b'"data":[]}', recs[i].payload)
        with pytest.raises(ParseError, match="push without a book"):
            run(venue, recs[:i]).parser.parse(empty, 1)
