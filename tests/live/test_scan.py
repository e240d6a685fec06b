"""The scanner over live books (`crossbook watch`'s opportunities panel)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from crossbook.arb import best_opportunity, costs_with
from crossbook.cli import main
from crossbook.cli_live import _opportunities
from crossbook.io.capture import CaptureRecord, read_capture
from crossbook.live.scan import LiveScan
from crossbook.replay import Replay
from crossbook.venues.registry import make_parser

from .conftest import BUNDLED
from .test_cli import _simulator_thread

CAPTURES = {"binance": BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz",
            "binance_usdm": BUNDLED / "binance_usdm_btcusdt_20240808_slice.cap.gz"}
WATCHED = {"binance": ["BTCUSDT"], "binance_usdm": ["BTCUSDT"]}


def _tagged(venue: str, path: Path) -> Iterator[tuple[int, str, CaptureRecord]]:
    return ((r.recv_ns, venue, r) for r in read_capture(path))


def _scan_captures() -> LiveScan:
    """Spot and USD-M BTCUSDT (one local clock) in receive order, fees at zero: the
    books a live feed would hold, fed as its message callback feeds them."""
    costs = {v: costs_with(v, taker_bps=0) for v in CAPTURES}
    scan = LiveScan(WATCHED, costs=costs, max_age_ms=None)
    replays = {v: Replay(make_parser(v), on_message=scan.on_message) for v in CAPTURES}
    for _, venue, rec in heapq.merge(*(_tagged(v, p) for v, p in CAPTURES.items()),
                                     key=lambda t: t[0]):
        replays[venue].feed(rec)
    return scan


def test_open_opportunities_are_the_books_best_trade() -> None:
    """What the panel lists is open now, and is the best trade between the two books
    as they stand (best_opportunity on the scanner's books, computed independently)."""
    scan = _scan_captures()
    assert scan.assets == ["BTC/USD"] and scan.opened >= 1
    (scanner,) = scan.scanners.values()
    assert scan.open, "the capture ends with the perp bid above the spot ask"
    for (buy, sell), ev in scan.open.items():
        b, s = scanner.core.book(ev.buy_book), scanner.core.book(ev.sell_book)
        assert (buy, sell) == (scanner.listings[ev.buy_book].name, scanner.listings[ev.sell_book].name)
        assert best_opportunity(b, s, 0, 0) == ev.opportunity
    console = Console(record=True, width=200)
    console.print(_opportunities(scan))
    text = console.export_text()
    ev = next(iter(scan.open.values()))
    assert f"{ev.buy}" in text and f"{ev.sell}" in text and f"{ev.edge_bps:.2f}" in text
    assert f"scanning BTC/USD: {scan.opened} opened, {scan.closed} closed" in text


def test_one_book_per_asset_has_nothing_to_scan() -> None:
    scan = LiveScan({"binance": ["BTCUSDT"], "okx": ["ETH-USDT"]})
    assert scan.assets == []
    console = Console(record=True, width=200)
    console.print(_opportunities(scan))
    assert "nothing to scan" in console.export_text()


def test_watch_shows_the_scanner_panel(capsys: object) -> None:
    """`crossbook watch` on two venues against two simulators: the books and the panel."""
    with _simulator_thread("binance", CAPTURES["binance"], max_frames=1500, speed=50.0) as a, \
            _simulator_thread("binance_usdm", CAPTURES["binance_usdm"], max_frames=1500,
                              speed=50.0) as b:
        rc = main(["watch", "binance:BTCUSDT", "binance_usdm:BTCUSDT", "--duration", "2",
                   "--fees", "binance=0,binance_usdm=0",
                   "--ws-url", f"binance={a.ws_url}", "--rest-url", f"binance={a.rest_url}",
                   "--ws-url", f"binance_usdm={b.ws_url}",
                   "--rest-url", f"binance_usdm={b.rest_url}"])
    assert rc == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "opportunities (after taker fees)" in out and "scanning BTC/USD" in out
    assert "binance_usdm" in out and "synced" in out
