"""Live ingestion: frames per second from local venue simulators into synced books
(20 books on 5 venues: Binance spot and USD-M, KuCoin, Bitget, Gate.io), and the time
from a frame's receipt to its book being updated (p50, p99).

The simulators run in a process of their own; the client (websockets over loopback,
parsing, BookSync, recording off) is one event loop in one thread, so it uses one
core; its CPU time is measured too (frames per client CPU second), which a shared
machine disturbs less than the wall clock. The receipt time is the client's stamp
when the socket handed it the frame; the update time is when the book's BookSync has
applied it (the feed's message callback), time queued included. Timing starts at
the first frame received (connecting and subscribing are not counted).

The benchmark asserts what it measured: every book synced, equal to its simulator's
truth, no gap. Figures are recorded in ``extra_info``, never asserted::

    python -m pytest benchmarks/bench_live.py --benchmark-enable -q -s

It needs ../shared/data/captures and the ``live`` extra; it skips without them.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from crossbook.io.capture import CaptureRecord, RecordKind, read_capture
from crossbook.messages import BookMessage, Message
from crossbook.sync import BookSync

if TYPE_CHECKING:
    from crossbook.live import LiveFeed

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "captures"
_NS_PER_US = 1_000
_TIMEOUT_S = 300.0
PACED_SPEED = 10.0

#: venue -> (capture, the books followed, REST snapshots the simulator's truth starts from)
VENUES: dict[str, tuple[str, list[str], int]] = {
    "binance": ("binance/binance_spot_2021.cap.gz", ["NKNUSDT", "LRCBTC", "BLZETH", "RUNEEUR"], 4),
    "binance_usdm": ("binance/binance_usdm_2021.cap.gz",
                     ["SUSHIUSDT", "CTKUSDT", "AKROUSDT", "KEEPUSDT"], 4),
    "kucoin": ("kucoin/kucoin_level2.cap.gz", ["SNX-BTC", "FET-BTC", "ANKR-BTC", "DAPPT-BTC"], 8),
    "bitget": ("bitget/bitget_spot.cap.gz", ["EOSUSDT", "GOGUSDT", "AVAXUSDT", "HOTUSDT"], 0),
    "gateio": ("gateio/gateio_spot.cap.gz", ["OMG_USDT", "NEO_BTC", "FAST_USDT", "DIS_USDT"], 8),
}


def _only(venue: str, path: Path, symbols: list[str]) -> Iterator[CaptureRecord]:
    """The capture without the frames of books not followed (the simulator plays every
    frame it has; a book nobody subscribed to would be one more book)."""
    from crossbook.live import spec_for

    route = spec_for(venue).route
    keep = set(symbols)
    for rec in read_capture(path):
        if rec.kind is not RecordKind.FRAME or route(rec.payload) in keep | {None}:
            yield rec


class _Latency:
    """Receipt-to-book time of every book message."""

    def __init__(self) -> None:
        self.us: list[float] = []

    def on_message(self, msg: Message, sync: BookSync | None) -> None:
        if isinstance(msg, BookMessage) and sync is not None:
            self.us.append((time.time_ns() - msg.ts_recv_ns) / _NS_PER_US)


def _serve(pipe: Connection, speed: float | None) -> None:
    """The five simulators, in a process of their own: sends their URLs, then how many
    frames each sent once all are done, then each followed book's truth on request."""
    from crossbook.testing import VenueSimulator

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        async with contextlib.AsyncExitStack() as stack:
            sims = {v: await stack.enter_async_context(VenueSimulator(
                        v, list(_only(v, SHARED / rel, symbols)), preroll_rest=max(preroll, 1),
                        speed=speed))
                    for v, (rel, symbols, preroll) in VENUES.items()}
            pipe.send({v: (s.ws_url, s.rest_url) for v, s in sims.items()})
            await asyncio.gather(*(s.done.wait() for s in sims.values()))
            pipe.send({v: sum(1 for r in s.sent if r.kind is RecordKind.FRAME)
                       for v, s in sims.items()})
            await loop.run_in_executor(None, pipe.recv)
            pipe.send({(v, sym): (s.truth.syncs[sym].last_id, s.truth_book(sym).levels(1),
                                  s.truth_book(sym).levels(2))
                       for v, s in sims.items() for sym in VENUES[v][1]})
            await loop.run_in_executor(None, pipe.recv)

    asyncio.run(serve())


async def _client(pipe: Connection) -> dict[str, float]:
    from crossbook.live import LiveFeed

    loop = asyncio.get_running_loop()
    urls = await loop.run_in_executor(None, pipe.recv)
    lat = _Latency()
    feed = LiveFeed({v: VENUES[v][1] for v in VENUES},
                    ws_urls={v: u[0] for v, u in urls.items()},
                    rest_urls={v: u[1] for v, u in urls.items()},
                    snapshot_min_interval_s=0.0, on_message=lat.on_message)
    async with feed:
        consumer = asyncio.create_task(feed.run())
        while not any(c.stats.frames for c in feed.connections.values()):
            await asyncio.sleep(0.001)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        sent = await loop.run_in_executor(None, pipe.recv)
        while not _caught_up(feed, sent):
            await asyncio.sleep(0.001)
        wall_s, cpu_s = time.perf_counter() - wall0, time.process_time() - cpu0
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
        frames = sum(c.stats.frames for c in feed.connections.values())
        pipe.send("truth")
        _check(feed, await loop.run_in_executor(None, pipe.recv))
        pipe.send("stop")
    us = np.asarray(lat.us)
    return {"frames": frames, "wall_s": wall_s, "client_cpu_s": cpu_s,
            "frames_per_s": frames / wall_s, "frames_per_cpu_s": frames / cpu_s,
            "books": sum(len(v[1]) for v in VENUES.values()), "book_messages": len(us),
            "latency_p50_us": float(np.percentile(us, 50)),
            "latency_p99_us": float(np.percentile(us, 99))}


def _caught_up(feed: LiveFeed, sent: dict[str, int]) -> bool:
    """Every frame sent was received and consumed, every book synced, no resync in flight."""
    if feed.queue_depth:
        return False
    for venue, conn in feed.connections.items():
        if conn.stats.frames < sent[venue] or conn.pending:
            return False
        if any(s is None or not s.synced for s in (feed.sync(venue, b) for b in conn.symbols)):
            return False
    return True


def _check(feed: LiveFeed, truth: dict[tuple[str, str], tuple[int, np.ndarray, np.ndarray]]) -> None:
    for (venue, symbol), (last_id, bids, asks) in truth.items():
        sync = feed.sync(venue, symbol)
        assert sync is not None and sync.last_id == last_id and sync.stats.gaps == 0, (venue, symbol)
        book = feed.book(venue, symbol)
        assert np.array_equal(book.levels(1), bids) and np.array_equal(book.levels(2), asks), (
            venue, symbol)


def _measure(speed: float | None) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(theirs, speed), daemon=True)
    server.start()
    try:
        return asyncio.run(asyncio.wait_for(_client(mine), _TIMEOUT_S))
    finally:
        server.join(10)
        if server.is_alive():
            server.kill()


def _require() -> None:
    pytest.importorskip("websockets")
    pytest.importorskip("httpx")
    if not SHARED.exists():
        pytest.skip(f"{SHARED} not present (../shared/data is absent in a user's clone)")


def _report(benchmark, figures: dict[str, float], what: str) -> None:  # type: ignore[no-untyped-def]
    assert figures["books"] == 20 and figures["book_messages"] > 0
    benchmark.extra_info.update(figures)
    print(f"\nlive ({what}): {figures['frames']:.0f} frames in {figures['wall_s']:.2f} s wall = "
          f"{figures['frames_per_s']:,.0f} frames/s ({figures['frames_per_cpu_s']:,.0f} per "
          f"client CPU second) into {figures['books']:.0f} books; receipt to book p50 "
          f"{figures['latency_p50_us']:,.0f} us, p99 {figures['latency_p99_us']:,.0f} us")


def test_live_throughput_twenty_books_five_venues(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The simulators send as fast as the client reads: the rate is the client's (its
    latency then is mostly time queued behind the flood)."""
    _require()
    _report(benchmark, benchmark.pedantic(_measure, args=(None,), rounds=1, iterations=1),
            "as fast as possible")


def test_live_latency_twenty_books_five_venues(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The captures at PACED_SPEED times their recorded pace, which the client keeps up
    with: receipt to book is the processing time, not a queue."""
    _require()
    _report(benchmark, benchmark.pedantic(_measure, args=(PACED_SPEED,), rounds=1, iterations=1),
            f"recorded pace x{PACED_SPEED:g}")
