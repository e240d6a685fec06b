"""Helpers for the live tests: run a LiveFeed against a VenueSimulator, bounded in time."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest


from crossbook.io.capture import RecordKind, read_capture
from crossbook.live import LiveFeed
from crossbook.sync import Reason, SyncEvent
from crossbook.testing import VenueSimulator

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "src" / "crossbook" / "data"
SHARED = REPO.parent / "shared" / "data" / "captures"
RUN_TIMEOUT_S = 20.0


def shared_capture(rel: str) -> Path:
    path = SHARED / rel
    if not path.exists():
        pytest.skip(f"{path} not present (../shared/data is absent in a user's clone)")
    return path


@dataclass
class Run:
    feed: LiveFeed
    events: list[SyncEvent] = field(default_factory=list)
    items: int = 0

    def reasons(self, symbol: str | None = None) -> list[Reason]:
        return [e.reason for e in self.events if symbol is None or e.symbol == symbol]


async def run_feed(sim: VenueSimulator, symbols: list[str], tmp: Path, *,
                   consumer_delay_s: float = 0.0, **kw: object) -> Run:
    """Plays the whole capture into a LiveFeed and waits until the feed has consumed it."""
    venue = sim.venue
    opts: dict[str, object] = dict(ws_urls={venue: sim.ws_url}, rest_urls={venue: sim.rest_url},
                                   record_dir=tmp, seed=7, backoff_base_s=0.02,
                                   ping_interval_s=1.0, ping_timeout_s=5.0,
                                   snapshot_min_interval_s=0.2)
    opts.update(kw)
    feed = LiveFeed({venue: symbols}, **opts)  # type: ignore[arg-type]
    run = Run(feed)

    async def consume() -> None:
        async for item in feed:
            run.items += 1
            if isinstance(item, SyncEvent):
                run.events.append(item)
            if consumer_delay_s:
                await asyncio.sleep(consumer_delay_s)

    async with asyncio.timeout(RUN_TIMEOUT_S):
        async with feed:
            task = asyncio.create_task(consume())
            conn = feed.connections[venue]

            def synced() -> bool:
                syncs = [feed.sync(venue, s) for s in symbols]
                return all(s is not None and s.synced for s in syncs)

            if sim.gate_at is not None:
                while not synced():
                    await asyncio.sleep(0.005)
                sim.release()
            await sim.done.wait()

            def caught_up() -> bool:
                # Every frame the server sent was received and consumed, no resync in flight.
                # Ids alone cannot say so: OKX's 2022 books carry none (last_id stays None).
                sent = sum(1 for r in sim.sent if r.kind is RecordKind.FRAME)
                return not (conn.stats.frames < sent or feed.queue_depth or conn.pending
                            or not synced() or (sim.ids_comparable and any(
                                feed.sync(venue, s).last_id  # type: ignore[union-attr]
                                != sim.truth.syncs[s].last_id for s in symbols)))

            # Twice, a tick apart: a frame counted on receipt is queued after an await.
            while not caught_up():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.02)
            while not caught_up():
                await asyncio.sleep(0.01)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    return run


def same_book(a: object, b: object) -> bool:
    ab, aa = a.levels(1), a.levels(2)  # type: ignore[attr-defined]
    bb, ba = b.levels(1), b.levels(2)  # type: ignore[attr-defined]
    return bool(np.array_equal(ab, bb) and np.array_equal(aa, ba))


def recorded(paths: list[Path], kind: RecordKind) -> list[bytes]:
    """The payloads of one kind of record, in file order, across the parts."""
    out: list[bytes] = []
    for p in paths:
        out += [r.payload for r in read_capture(p) if r.kind is kind]
    return out


def aio(fn):  # type: ignore[no-untyped-def]
    """Runs an async test in a fresh event loop (no pytest plugin needed)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        return asyncio.run(asyncio.wait_for(fn(*args, **kwargs), 2 * RUN_TIMEOUT_S))
    return wrapper
