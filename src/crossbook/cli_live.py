"""`crossbook record` and `crossbook watch`: live feeds from the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from crossbook.arb.fees import parse_fee_overrides
from crossbook.live.scan import LiveScan
from crossbook.messages import BookMessage, Message
from crossbook.sync import BookSync
from crossbook.timeutil import NS_PER_MS, NS_PER_S

__all__ = ["add_live_parsers", "cmd_record", "cmd_watch"]

_RATE_WINDOW_S = 5.0


def _pairs(values: Sequence[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values or ():
        venue, sep, url = v.partition("=")
        if not sep or not venue or not url:
            raise ValueError(f"{flag} expects VENUE=URL, got {v!r}")
        out[venue] = url
    return out


@dataclass(slots=True)
class _BookStats:
    messages: int = 0
    recent_ns: list[int] = field(default_factory=list)  # receive times within the rate window
    latency_ms: float | None = None

    def rate(self, now_ns: int) -> float:
        horizon = now_ns - int(_RATE_WINDOW_S * NS_PER_S)
        self.recent_ns = [t for t in self.recent_ns if t >= horizon]
        return len(self.recent_ns) / _RATE_WINDOW_S


class _Watcher:
    """Per-book counters and the scanner, fed by the LiveFeed's message callback."""

    def __init__(self, scan: LiveScan | None = None) -> None:
        self.books: dict[tuple[str, str], _BookStats] = {}
        self.scan = scan

    def on_message(self, msg: Message, sync: BookSync | None) -> None:
        if self.scan is not None:
            self.scan.on_message(msg, sync)
        if not isinstance(msg, BookMessage):
            return
        st = self.books.setdefault((msg.venue, msg.symbol), _BookStats())
        st.messages += 1
        st.recent_ns.append(msg.ts_recv_ns)
        if msg.ts_exchange_ns:
            st.latency_ms = (msg.ts_recv_ns - msg.ts_exchange_ns) / NS_PER_MS


def _feed(args: argparse.Namespace, record: bool, watcher: _Watcher | None = None) -> Any:
    from crossbook.live import LiveFeed, parse_targets

    return LiveFeed(
        parse_targets(args.targets),
        ws_urls=_pairs(args.ws_url, "--ws-url"),
        rest_urls=_pairs(args.rest_url, "--rest-url"),
        ca_file=args.ca,
        record_dir=args.output if record else None,
        queue_size=args.queue_size,
        overflow=args.overflow,
        on_message=watcher.on_message if watcher else None,
    )


def _touch(sync: BookSync | None) -> tuple[str, str]:
    if sync is None or not sync.synced:
        return "-", "-"
    bid, ask = sync.book.bbo()
    fmt = sync.book
    b = f"{fmt.format_size(bid[1])} @ {fmt.format_price(bid[0])}" if bid else "-"
    a = f"{fmt.format_size(ask[1])} @ {fmt.format_price(ask[0])}" if ask else "-"
    return b, a


def _table(feed: Any, watcher: _Watcher) -> Table:
    now_ns = time.time_ns()
    table = Table(title="crossbook watch", header_style="bold")
    for name in ("venue", "symbol", "state", "best bid", "best ask", "msgs/s", "latency ms",
                 "resyncs", "drops"):
        table.add_column(name, justify="right" if name in ("msgs/s", "latency ms", "resyncs",
                                                          "drops") else "left")
    for venue, conn in feed.connections.items():
        for symbol in conn.symbols:
            sync = feed.sync(venue, symbol)
            st = watcher.books.get((venue, symbol), _BookStats())
            bid, ask = _touch(sync)
            state = sync.state.value if sync else "waiting"
            lat = f"{st.latency_ms:.1f}" if st.latency_ms is not None else "-"
            table.add_row(venue, symbol, state, bid, ask, f"{st.rate(now_ns):.1f}", lat,
                          str(sync.stats.resyncs if sync else 0), str(conn.stats.dropped),
                          style=None if sync and sync.synced else "yellow")
    return table


def _opportunities(scan: LiveScan) -> Table:
    """The scanner's open opportunities, best edge first."""
    caption = (f"scanning {', '.join(scan.assets)}: {scan.opened} opened, {scan.closed} closed"
               if scan.assets else "no asset is quoted by two watched books: nothing to scan")
    for asset, why in sorted(scan.skipped.items()):
        caption += f"\n{asset} not scanned: {why}"
    table = Table(title="opportunities (after taker fees)", caption=caption, header_style="bold")
    for name in ("buy on", "sell on", "edge bps", "peak bps", "size", "pnl", "open ms"):
        table.add_column(name, justify="left" if name in ("buy on", "sell on") else "right")
    now_ns = time.time_ns()
    for ev in sorted(scan.open.values(), key=lambda e: -e.edge_bps):
        opp = ev.opportunity
        table.add_row(ev.buy, ev.sell, f"{ev.edge_bps:.2f}", f"{ev.peak_edge_bps:.2f}",
                      f"{float(opp.size_real):g}", f"{float(opp.pnl):.6g}",
                      f"{max(0, now_ns - ev.open_ts_ns) / NS_PER_MS:.0f}")
    return table


def _view(feed: Any, watcher: _Watcher) -> Group | Table:
    books = _table(feed, watcher)
    return books if watcher.scan is None else Group(books, _opportunities(watcher.scan))


async def _run_for(feed: Any, duration_s: float | None, tick: Any = None) -> None:
    async with feed:
        consumer = asyncio.create_task(feed.run())
        deadline = None if duration_s is None else time.monotonic() + duration_s
        try:
            while deadline is None or time.monotonic() < deadline:
                if consumer.done():
                    break
                if tick is not None:
                    tick()
                await asyncio.sleep(0.25 if deadline is None else
                                    min(0.25, max(0.0, deadline - time.monotonic())))
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer


def _summary(feed: Any) -> Table:
    table = Table(title="crossbook record", header_style="bold")
    for name in ("venue", "symbol", "state", "messages", "resyncs", "frames", "drops",
                 "reconnects", "files"):
        table.add_column(name)
    for venue, conn in feed.connections.items():
        files = ", ".join(str(p) for p in feed.recordings().get(venue, []))
        for symbol in conn.symbols:
            sync = feed.sync(venue, symbol)
            table.add_row(venue, symbol, sync.state.value if sync else "no data",
                          str(sync.stats.messages if sync else 0),
                          str(sync.stats.resyncs if sync else 0), str(conn.stats.frames),
                          str(conn.stats.dropped), str(max(0, conn.stats.connects - 1)), files)
    return table


def cmd_record(args: argparse.Namespace) -> int:
    console = _wide(stderr=True)
    try:
        feed = _feed(args, record=True)
    except (ValueError, ImportError) as exc:
        console.print(f"[red]error[/red] {exc}")
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_for(feed, args.duration))
    console.print(_summary(feed))
    return 0


def _wide(stderr: bool = False) -> Console:
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=200)


def cmd_watch(args: argparse.Namespace) -> int:
    from crossbook.live import parse_targets

    console = _wide()
    try:
        scan = LiveScan(parse_targets(args.targets), costs=parse_fee_overrides(args.fees),
                        max_age_ms=args.max_age_ms)
        watcher = _Watcher(scan)
        feed = _feed(args, record=args.output is not None, watcher=watcher)
    except (ValueError, ImportError) as exc:
        Console(stderr=True).print(f"[red]error[/red] {exc}")
        return 2
    with Live(_view(feed, watcher), console=console, refresh_per_second=4,
              transient=False) as live, contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_for(feed, args.duration, lambda: live.update(_view(feed, watcher))))
        live.update(_view(feed, watcher))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("targets", nargs="+", metavar="VENUE:SYMBOL",
                   help="books to follow, e.g. binance:BTCUSDT okx:BTC-USDT")
    p.add_argument("--ws-url", action="append", metavar="VENUE=URL",
                   help="connect VENUE's websocket here instead (a test server, a proxy)")
    p.add_argument("--rest-url", action="append", metavar="VENUE=URL",
                   help="base URL of VENUE's REST snapshots")
    p.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long")
    p.add_argument("--ca", metavar="FILE", help="also trust this certificate authority (PEM)")
    p.add_argument("--queue-size", type=int, default=10_000,
                   help="frames held between the socket and the books (default 10000)")
    p.add_argument("--overflow", choices=("block", "drop"), default="block",
                   help="when the queue is full: stop reading (block) or drop the frame and "
                        "resync its book (drop); default block")


def add_live_parsers(subparsers: Any) -> None:
    """Adds `record` and `watch` to the `crossbook` command's subparsers."""
    rec = subparsers.add_parser("record", help="record venue feeds losslessly (capture format) "
                                "while keeping their books in sync")
    _common(rec)
    rec.add_argument("-o", "--output", required=True, metavar="DIR",
                     help="directory for the captures (one per venue connection, rotated)")
    rec.set_defaults(func=cmd_record)
    w = subparsers.add_parser("watch", help="live view of books: touch, sync state, msgs/s, "
                              "feed latency, resyncs, and the scanner's open opportunities")
    _common(w)
    w.add_argument("-o", "--output", metavar="DIR", help="also record into DIR")
    w.add_argument("--max-age-ms", type=float, default=5000.0, metavar="MS",
                   help="the scanner counts a book without a message for this long as stale "
                        "(its opportunities close); default 5000")
    w.add_argument("--fees", action="append", metavar="VENUE=TAKER[/MAKER][@MS],...",
                   help="the scanner's fees in bps and latency in ms per venue, overriding "
                        "crossbook.arb.fees.DEFAULT_COSTS; repeatable")
    w.set_defaults(func=cmd_watch)
