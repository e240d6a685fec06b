"""Each venue the simulator speaks, each fault: detected, only that book resyncs, the
books end equal to the simulator's truth, the recording is byte for byte what was sent,
and the recording replays (as `crossbook verify` does) to the same books."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossbook.io.capture import RecordKind, read_capture
from crossbook.replay import Replay
from crossbook.sync import Reason
from crossbook.testing import Faults, VenueSimulator
from crossbook.testing.simulator import played
from crossbook.venues.registry import make_parser

from .conftest import BUNDLED, aio, recorded, run_feed, same_book, shared_capture

_FRAMES = 1500  # of each bundled slice: enough to cross every fault, quick to play
BINANCE = {
    "binance": ("binance_spot_btcusdt_20240808_slice.cap.gz", "BTCUSDT"),
    "binance_usdm": ("binance_usdm_btcusdt_20240808_slice.cap.gz", "BTCUSDT"),
    "binance_coinm": ("binance_coinm_btcusd_perp_20240808_slice.cap.gz", "BTCUSD_PERP"),
}


def _depth_index(sim: VenueSimulator, after: int) -> int:
    """Index of the first diff-depth frame at or after ``after``."""
    return next(i for i in range(after, len(sim.frames)) if b"@depth" in sim.frames[i].payload[:40])


def _replayed(paths: list[Path], venue: str) -> Replay:
    replay = Replay(make_parser(venue))
    for p in paths:
        for rec in read_capture(p):
            replay.feed(rec)
    return replay


def _check_end(sim: VenueSimulator, feed: object, symbols: list[str], venue: str) -> None:
    paths = feed.recordings()[venue]  # type: ignore[attr-defined]
    # The socket and REST are two channels: each is compared in its own order.
    for kind in (RecordKind.FRAME, RecordKind.REST):
        assert recorded(paths, kind) == played(sim, [kind]), f"recorded {kind} differ from sent"
    replay = _replayed(paths, venue)
    for s in symbols:
        live = feed.book(venue, s)  # type: ignore[attr-defined]
        assert same_book(live, sim.truth_book(s)), f"{s}: live book differs from the venue's"
        assert same_book(replay.syncs[s].view(), live), f"{s}: replayed recording differs"


FAULTS = ["none", "drop", "duplicate", "disconnect", "stale_snapshot", "hang"]
EXPECT = {"drop": Reason.GAP, "disconnect": Reason.RECONNECT, "hang": Reason.RECONNECT,
          "stale_snapshot": Reason.SNAPSHOT_TOO_OLD}


def _faults(sim: VenueSimulator, fault: str) -> Faults:
    f = sim.faults
    at = _depth_index(sim, 400)
    if fault == "drop":
        f.drop_at.add(at)
    elif fault == "duplicate":
        f.duplicate_at.add(at)
    elif fault == "disconnect":
        f.disconnect_at.add(at)
    elif fault == "hang":
        f.hang_at.add(at)
    elif fault == "stale_snapshot":
        f.drop_at.add(at)  # the resync it causes is answered with the old snapshot first
        f.stale_snapshots = 2
    return f


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("venue", sorted(BINANCE))
@aio
async def test_binance_fault(venue: str, fault: str, tmp_path: Path) -> None:
    name, symbol = BINANCE[venue]
    async with VenueSimulator(venue, BUNDLED / name, max_frames=_FRAMES, gate_at=300) as sim:
        _faults(sim, fault)
        # Only the hang needs a quick ping timeout; elsewhere a loaded machine must not trip it.
        pings = dict(ping_interval_s=0.2, ping_timeout_s=0.3) if fault == "hang" else {}
        run = await run_feed(sim, [symbol], tmp_path, **pings)
        conn = run.feed.connections[venue]
        reasons = run.reasons(symbol)
        if fault in EXPECT:
            assert EXPECT[fault] in reasons, reasons
        else:
            assert reasons == [Reason.FIRST_DELTA, Reason.SNAPSHOT], reasons
        if fault == "hang":
            assert conn.stats.connects == 2 and "ping" in conn.stats.last_error
        _check_end(sim, run.feed, [symbol], venue)


@aio
async def test_gap_resyncs_only_that_book(tmp_path: Path) -> None:
    """Three books on one connection: a frame lost for one resyncs it alone (one REST
    snapshot), the others never leave SYNCED."""
    cap = shared_capture("binance/binance_spot_2021.cap.gz")
    async with VenueSimulator("binance", cap, preroll_rest=4) as sim:
        symbols = ["BLZETH", "LRCBTC", "NKNUSDT"]
        seen: set[str] = set()
        for i, rec in enumerate(sim.frames):  # hold the stream until every book had a delta
            if b"@depth" in rec.payload[:40]:
                seen |= {s for s in symbols if b'"s":"%s"' % s.encode() in rec.payload}
            if seen == set(symbols):
                sim.gate_at = i + 1
                break
        at = _depth_index(sim, (sim.gate_at or 0) + 1)
        victim = next(s for s in symbols if b'"s":"%s"' % s.encode() in sim.frames[at].payload)
        sim.faults.drop_at.add(at)
        run = await run_feed(sim, symbols, tmp_path)
        assert Reason.GAP in run.reasons(victim)
        for s in symbols:
            if s != victim:
                assert run.reasons(s) == [Reason.FIRST_DELTA, Reason.SNAPSHOT], (s, run.reasons(s))
        assert run.feed.connections["binance"].stats.connects == 1
        _check_end(sim, run.feed, symbols, "binance")


@aio
async def test_slow_consumer_drop_policy(tmp_path: Path) -> None:
    """A consumer slower than the feed with overflow='drop': frames are dropped and
    counted, the books they concerned resync, and end equal to the truth; the
    recording still holds every frame."""
    name, symbol = BINANCE["binance"]
    async with VenueSimulator("binance", BUNDLED / name, max_frames=800) as sim:
        run = await run_feed(sim, [symbol], tmp_path, queue_size=8, overflow="drop",
                             consumer_delay_s=0.0005)
        conn = run.feed.connections["binance"]
        assert conn.stats.dropped > 0
        assert Reason.RECONNECT in run.reasons(symbol)  # the drop's resync
        _check_end(sim, run.feed, [symbol], "binance")


@aio
async def test_slow_consumer_block_policy(tmp_path: Path) -> None:
    name, symbol = BINANCE["binance_usdm"]
    async with VenueSimulator("binance_usdm", BUNDLED / name, max_frames=500) as sim:
        # Blocking stops reading the socket, pongs included: a generous ping timeout here.
        run = await run_feed(sim, [symbol], tmp_path, queue_size=4, consumer_delay_s=0.0005,
                             ping_timeout_s=10.0)
        assert run.feed.connections["binance_usdm"].stats.dropped == 0
        assert run.reasons(symbol) == [Reason.FIRST_DELTA, Reason.SNAPSHOT]
        _check_end(sim, run.feed, [symbol], "binance_usdm")


@pytest.mark.parametrize("fault", ["none", "duplicate", "disconnect", "hang"])
@aio
async def test_hyperliquid(fault: str, tmp_path: Path) -> None:
    cap = shared_capture("hyperliquid/hyperliquid_btcusd_20250126.cap.gz")
    async with VenueSimulator("hyperliquid", cap) as sim:
        if fault != "none":
            getattr(sim.faults, f"{fault}_at").add(len(sim.frames) // 2)
        pings = dict(ping_interval_s=0.2, ping_timeout_s=0.3) if fault == "hang" else {}
        run = await run_feed(sim, ["BTC"], tmp_path, **pings)
        if fault in EXPECT:
            assert EXPECT[fault] in run.reasons("BTC")
        _check_end(sim, run.feed, ["BTC"], "hyperliquid")


@pytest.mark.parametrize("fault", ["none", "corrupt_checksum", "drop", "duplicate", "disconnect"])
@aio
async def test_okx(fault: str, tmp_path: Path) -> None:
    """OKX books (2022: checksum on every push, no seqId): a bad checksum or a lost push
    resubscribes that one book, whose new snapshot the venue renders from its truth."""
    cap = shared_capture("okx/okx.cap.gz")
    symbols = ["BTC-USDT", "UNI-USD-SWAP"]
    async with VenueSimulator("okx", cap) as sim:
        books = [i for i, r in enumerate(sim.frames)
                 if b'"channel":"books","instId":"BTC-USDT"},"action":"update"' in r.payload[:80]]
        sim.gate_at = books[0]
        at = books[len(books) // 2]
        if fault != "none":
            getattr(sim.faults, f"{fault}_at").add(at)
        run = await run_feed(sim, symbols, tmp_path)
        conn = run.feed.connections["okx"]
        if fault in ("corrupt_checksum", "drop"):
            assert Reason.CHECKSUM_MISMATCH in run.reasons("BTC-USDT")
            assert conn.stats.resubscribes == 1 and conn.stats.connects == 1
            assert run.reasons("UNI-USD-SWAP") == [Reason.SNAPSHOT]  # untouched
        if fault == "disconnect":
            assert Reason.RECONNECT in run.reasons("BTC-USDT") and conn.stats.connects == 2
        _check_end(sim, run.feed, symbols, "okx")


@pytest.mark.parametrize("fault", ["none", "drop", "duplicate", "disconnect"])
@aio
async def test_deribit(fault: str, tmp_path: Path) -> None:
    """Deribit books (prev_change_id chain): a lost change is a gap on that one book,
    which resubscribes; the venue answers with a snapshot rendered from its truth."""
    cap = shared_capture("deribit/deribit_options.cap.gz")
    victim, other = "BTC-24SEP21-8000-P", "BTC-31DEC21-34000-P"
    async with VenueSimulator("deribit", cap) as sim:
        changes = [i for i, r in enumerate(sim.frames)
                   if b'"channel":"book.%s.raw","data":{"type":"change"' % victim.encode() in r.payload]
        sim.gate_at = changes[0]
        at = changes[len(changes) // 2]
        if fault != "none":
            getattr(sim.faults, f"{fault}_at").add(at)
        run = await run_feed(sim, [victim, other], tmp_path)
        conn = run.feed.connections["deribit"]
        if fault == "drop":
            assert Reason.GAP in run.reasons(victim) and conn.stats.resubscribes == 1
            assert run.reasons(other) == [Reason.SNAPSHOT]
        if fault == "disconnect":
            assert Reason.RECONNECT in run.reasons(victim) and conn.stats.connects == 2
        _check_end(sim, run.feed, [victim, other], "deribit")
