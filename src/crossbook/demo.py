"""`crossbook demo`: the package's main job on the bundled real data.

Three Binance BTC markets recorded over the same 90 seconds on one clock (spot,
USD-M perpetual, COIN-M inverse perpetual): every book rebuilt from its raw feed
and checked against Binance's own top of book; the spot/perpetual basis and any
cross-market opportunity after fees; which market leads and how the others follow.
"""

from __future__ import annotations

import contextlib
from importlib import resources
from pathlib import Path

from typing import TYPE_CHECKING

from rich.console import Console

from crossbook import Side
from crossbook.console import book_report_table, depth_table, mid_text, print_plots, progress
from crossbook.replay_files import replay_files

if TYPE_CHECKING:
    from crossbook.analytics import Analysis
    from crossbook.arb.session import ScanRun

__all__ = ["DEMO_FILES", "run_demo"]

DEMO_FILES = (
    "binance_spot_btcusdt_20240808_slice.cap.gz",
    "binance_usdm_btcusdt_20240808_slice.cap.gz",
    "binance_coinm_btcusd_perp_20240808_slice.cap.gz",
)


def _books(paths: list[Path], console: Console, levels: int) -> bool:
    reports, failed = [], False
    with progress(console) as on_progress:
        replays = [replay_files([path], None, on_progress) for path in paths]
    for replay, book_reports in replays:
        for r in book_reports:
            reports.append(r)
            failed |= r.failed
            sync = replay.syncs[r.symbol]
            if sync.synced:
                book = sync.view()
                console.print(depth_table(
                    f"{r.venue} {r.symbol}: {len(book.levels(Side.BID)):,} bids / "
                    f"{len(book.levels(Side.ASK)):,} asks, mid {mid_text(book)}", book, levels))
    console.print(book_report_table(reports, "Book sync, checked against Binance's bookTicker"))
    return failed


def _plots(run: ScanRun, analysis: Analysis, plot_dir: Path, console: Console) -> None:
    from crossbook.plots import analysis_charts, scan_chart

    def draw() -> list[Path]:
        plot_dir.mkdir(parents=True, exist_ok=True)
        return [scan_chart(run, plot_dir / "scan.png"), *analysis_charts(analysis, plot_dir)]

    print_plots(console, draw)


def run_demo(console: Console, *, levels: int = 10, plot_dir: Path | None = None) -> int:
    from crossbook.analytics import analyze, collect_series
    from crossbook.analytics.report import print_summary as print_leadlag
    from crossbook.arb.report import print_summary as print_scan
    from crossbook.arb.session import ScanSettings, run_scan

    with contextlib.ExitStack() as stack:
        data = resources.files("crossbook") / "data"
        paths = [stack.enter_context(resources.as_file(data / name)) for name in DEMO_FILES]
        console.rule("1. Books rebuilt from the raw feeds, checked against Binance's bookTicker")
        failed = _books(paths, console, levels)
        console.rule("2. Basis and cross-market opportunities after taker fees")
        with progress(console) as on_progress:
            run = run_scan(paths, ScanSettings(), on_progress=lambda n: on_progress("scanning", n))
        print_scan(run, console)
        console.rule("3. Which market leads (Hayashi-Yoshida lead-lag) and how the others follow")
        with progress(console) as on_progress:
            series, _, errors = collect_series(
                paths, on_progress=lambda n: on_progress("collecting series", n))
        analysis = analyze(series)
        print_leadlag(analysis, console)
        if plot_dir is not None:
            _plots(run, analysis, plot_dir, console)
    console.print("Data: the first 90 s of Binance BTC captures of 2024-08-08 23:54 UTC "
                  "(see crossbook/data/README.md). A short window: on the full 6-minute "
                  "recording USD-M leads spot by ~12 ms.")
    return 1 if failed or run.errors or errors else 0
