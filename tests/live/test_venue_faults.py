"""The fault matrix on Gate.io, KuCoin (REST snapshots) and Bitget (stream snapshots,
checksums): each fault is detected, only that book resyncs, the books end equal to the
simulator's truth, and the recording is byte for byte what was sent and replays to
the same books."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossbook.sync import Reason
from crossbook.testing import VenueSimulator

from .conftest import aio, run_feed, shared_capture
from .test_faults import EXPECT, _check_end

_HANG_PINGS = dict(ping_interval_s=0.2, ping_timeout_s=0.3)


def _updates(sim: VenueSimulator, marker: bytes, book: str) -> list[int]:
    """Indexes of the played frames that carry ``marker`` (a book update) and ``book``."""
    key = book.encode()
    return [i for i, r in enumerate(sim.frames) if marker in r.payload and key in r.payload]


def _gate_after_all(sim: VenueSimulator, marker: bytes, books: list[str]) -> int:
    """The first frame after every book had an update: REST books sync before it."""
    return max(_updates(sim, marker, b)[0] for b in books) + 1


def _inject(sim: VenueSimulator, fault: str, at: int) -> None:
    f = sim.faults
    if fault == "stale_snapshot":
        # The first snapshot of a book is the start-of-play one (the stream chains onto
        # it); the drop's resync is answered with it again, older than the stream by then.
        f.drop_at.add(at)
        f.stale_snapshots = 2
    elif fault != "none":
        getattr(f, f"{fault}_at").add(at)


def _assert_fault(run: object, fault: str, victim: str, other: str, start: list[Reason],
                  expect: dict[str, Reason]) -> None:
    """The fault is seen on the victim; a fault of one frame leaves the other book alone
    (a lost connection resyncs every book of it)."""
    reasons = run.reasons(victim)  # type: ignore[attr-defined]
    if fault in expect:
        assert expect[fault] in reasons, reasons
    else:
        assert reasons == start, reasons
    if fault not in ("disconnect", "hang"):
        assert run.reasons(other) == start, run.reasons(other)  # type: ignore[attr-defined]


REST_FAULTS = ["none", "drop", "duplicate", "disconnect", "stale_snapshot", "hang"]
_GATE_UPDATE = b'"channel":"spot.order_book_update","event":"update"'


@pytest.mark.parametrize("fault", REST_FAULTS)
@aio
async def test_gateio(fault: str, tmp_path: Path) -> None:
    """Gate.io ``spot.order_book_update`` (REST ``with_id`` snapshot, U/u chain)."""
    cap = shared_capture("gateio/gateio_spot.cap.gz")
    victim, other = "OMG_USDT", "NEO_BTC"
    async with VenueSimulator("gateio", cap, preroll_rest=8) as sim:
        sim.gate_at = _gate_after_all(sim, _GATE_UPDATE, [f'"s":"{b}"' for b in (victim, other)])
        later = [i for i in _updates(sim, _GATE_UPDATE, f'"s":"{victim}"') if i > sim.gate_at]
        _inject(sim, fault, later[len(later) // 2])
        run = await run_feed(sim, [victim, other], tmp_path,
                             **(_HANG_PINGS if fault == "hang" else {}))
        _assert_fault(run, fault, victim, other, [Reason.FIRST_DELTA, Reason.SNAPSHOT], EXPECT)
        _check_end(sim, run.feed, [victim, other], "gateio")


_KUCOIN_UPDATE = b'"subject":"trade.l2update"'


@pytest.mark.parametrize("fault", REST_FAULTS)
@aio
async def test_kucoin(fault: str, tmp_path: Path) -> None:
    """KuCoin ``/market/level2`` (bullet-public token, REST snapshot, sequence ranges):
    every connection first asks the simulator for a token, which names its socket."""
    cap = shared_capture("kucoin/kucoin_level2.cap.gz")
    victim, other = "SNX-BTC", "FET-BTC"
    async with VenueSimulator("kucoin", cap, preroll_rest=8) as sim:
        topics = [f'"topic":"/market/level2:{b}"' for b in (victim, other)]
        sim.gate_at = _gate_after_all(sim, _KUCOIN_UPDATE, topics)
        later = [i for i in _updates(sim, _KUCOIN_UPDATE, topics[0]) if i > sim.gate_at]
        _inject(sim, fault, later[len(later) // 2])
        run = await run_feed(sim, [victim, other], tmp_path,
                             **(_HANG_PINGS if fault == "hang" else {}))
        _assert_fault(run, fault, victim, other, [Reason.FIRST_DELTA, Reason.SNAPSHOT], EXPECT)
        conn = run.feed.connections["kucoin"]
        assert sim.tokens_served == conn.stats.connects >= 1
        _check_end(sim, run.feed, [victim, other], "kucoin")


_BITGET_EXPECT = EXPECT | {"corrupt_checksum": Reason.CHECKSUM_MISMATCH,
                           "drop": Reason.CHECKSUM_MISMATCH}
_BITGET_UPDATE = b'"action":"update","arg":{"instType":"sp","channel":"books"'


@pytest.mark.parametrize("fault", ["none", "corrupt_checksum", "drop", "duplicate", "disconnect",
                                   "hang"])
@aio
async def test_bitget(fault: str, tmp_path: Path) -> None:
    """Bitget v1 ``books`` (no sequence, a checksum on every push): a bad checksum or a
    lost push resubscribes that one book, answered with a snapshot of the truth."""
    cap = shared_capture("bitget/bitget_spot.cap.gz")
    victim, other = "EOSUSDT", "GOGUSDT"
    async with VenueSimulator("bitget", cap) as sim:
        updates = _updates(sim, _BITGET_UPDATE, f'"instId":"{victim}"')
        sim.gate_at = updates[0]
        _inject(sim, fault, updates[len(updates) // 2])
        run = await run_feed(sim, [victim, other], tmp_path,
                             **(_HANG_PINGS if fault == "hang" else {}))
        _assert_fault(run, fault, victim, other, [Reason.SNAPSHOT], _BITGET_EXPECT)
        conn = run.feed.connections["bitget"]
        if fault in ("corrupt_checksum", "drop"):
            assert conn.stats.resubscribes == 1 and conn.stats.connects == 1
        _check_end(sim, run.feed, [victim, other], "bitget")


_BITFINEX_EXPECT = EXPECT | {"corrupt_checksum": Reason.CHECKSUM_MISMATCH}


@pytest.mark.parametrize("fault", ["none", "corrupt_checksum", "drop", "duplicate", "disconnect",
                                   "hang"])
@aio
async def test_bitfinex(fault: str, tmp_path: Path) -> None:
    """Bitfinex v2 books with SEQ_ALL and checksums (the simulator numbers each
    connection's frames and sends a checksum after each book update): a bad checksum
    unsubscribes that channel by its id and subscribes again; a lost frame breaks the
    connection's numbering, which no book can be cleared of, so every book resyncs."""
    cap = shared_capture("bitfinex/bitfinex_book_p0.cap.gz")
    victim, other = "tIOTETH", "tDOGUSD"
    chans = {victim: b"[232955,[", other: b"[225206,["}
    async with VenueSimulator("bitfinex", cap) as sim:
        updates = {s: [i for i, r in enumerate(sim.frames) if r.payload.startswith(c)
                       and not r.payload.startswith(c + b"[")] for s, c in chans.items()}
        sim.gate_at = max(u[0] for u in updates.values()) + 1
        later = [i for i in updates[victim] if i > sim.gate_at]
        _inject(sim, fault, later[len(later) // 2])
        run = await run_feed(sim, [victim, other], tmp_path,
                             **(_HANG_PINGS if fault == "hang" else {}))
        conn = run.feed.connections["bitfinex"]
        if fault == "drop":  # every book of the connection
            assert Reason.GAP in run.reasons(victim) and Reason.GAP in run.reasons(other)
        else:
            _assert_fault(run, fault, victim, other, [Reason.SNAPSHOT], _BITFINEX_EXPECT)
        if fault == "corrupt_checksum":
            assert conn.stats.resubscribes == 1 and conn.stats.connects == 1
            assert any(b'"event":"unsubscribe","chanId":232955' in r for r in sim.received)
        _check_end(sim, run.feed, [victim, other], "bitfinex")
