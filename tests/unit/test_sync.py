"""BookSync on hand-built messages: every transition reported with its reason,
nothing served from an unsynced book, heartbeats judged like deltas."""

from __future__ import annotations

import pytest

from crossbook import Side
from crossbook.messages import EMPTY_LEVELS, BookMessage, Instrument, Kind, level_events
from crossbook.sync import BookNotSynced, BookSync, Reason, SyncState
from crossbook.sync_rules import BinanceFuturesRule, ContiguousRule, UpdateRangeRule

INST = Instrument("test", "X", 0, 0)


def msg(kind: Kind, seq: int, bids: list[list[str]] = (), first: int | None = None,  # type: ignore[assignment]
        ts: int = 0) -> BookMessage:
    levels = level_events(list(bids), [], 0, 0, snapshot=kind is Kind.SNAPSHOT) if bids else EMPTY_LEVELS
    return BookMessage("test", "X", kind, levels, ts, first_seq=first, last_seq=seq)


def test_stream_snapshot_then_contiguous_deltas() -> None:
    s = BookSync(INST, ContiguousRule())
    with pytest.raises(BookNotSynced):
        s.view()
    (ev,) = s.on_message(msg(Kind.SNAPSHOT, 10, [["100", "1"]]))
    assert (ev.old, ev.new, ev.reason) == (SyncState.INIT, SyncState.SYNCED, Reason.SNAPSHOT)
    assert s.on_message(msg(Kind.DELTA, 11, [["101", "2"]])) == []
    assert s.view().bbo() == ((101, 2), None)
    assert (s.stats.snapshot_levels, s.stats.levels_applied) == (1, 1)
    assert s.on_message(msg(Kind.DELTA, 11, [["99", "9"]])) == []  # a duplicate: stale, counted
    assert s.stats.stale_dropped == 1 and s.view().level(1, 99) is None
    assert s.resync_request is None
    (gap,) = s.on_message(msg(Kind.DELTA, 13, [["102", "1"]]))
    assert (gap.new, gap.reason) == (SyncState.RESYNCING, Reason.GAP)
    assert len(s.book) == 0 and not s.synced  # the book out of step is withheld and emptied
    assert s.resync_request == "resubscribe" and not s.needs_snapshot


def test_heartbeats_are_judged_by_the_rule() -> None:
    s = BookSync(INST, ContiguousRule())
    s.on_message(msg(Kind.SNAPSHOT, 10, [["100", "1"]]))
    assert s.on_message(msg(Kind.HEARTBEAT, 11)) == []
    assert s.last_id == 11
    assert s.on_message(msg(Kind.HEARTBEAT, 11)) == []  # late or repeated: stale
    assert s.last_id == 11 and s.synced
    (gap,) = s.on_message(msg(Kind.HEARTBEAT, 13))  # frame 12 was lost
    assert gap.reason is Reason.GAP and not s.synced


def test_rest_snapshot_alignment_buffers_and_replays() -> None:
    s = BookSync(INST, UpdateRangeRule())
    (ev,) = s.on_message(msg(Kind.DELTA, 105, [["100", "5"]], first=101))
    assert ev.reason is Reason.FIRST_DELTA and s.needs_snapshot
    assert s.resync_request == "rest_snapshot"
    s.on_message(msg(Kind.DELTA, 108, [["101", "6"]], first=106))
    (ev,) = s.on_message(msg(Kind.SNAPSHOT, 103, [["99", "1"]]))
    assert ev.reason is Reason.SNAPSHOT and ev.new is SyncState.SYNCED
    assert s.last_id == 108 and s.view().bbo() == ((101, 6), None)
    assert s.stats.snapshots == 1 and not s.needs_snapshot
    assert s.on_message(msg(Kind.SNAPSHOT, 200, [["1", "1"]])) == []  # REST snapshot while synced
    assert s.stats.snapshots_ignored == 1 and s.last_id == 108


def test_futures_alignment_keeps_the_delta_ending_at_the_snapshot() -> None:
    """Binance futures (venues.md 2.2): drop u < lastUpdateId; the first kept delta has
    U <= lastUpdateId <= u, here u == lastUpdateId; then pu chains to the previous u."""
    s = BookSync(INST, BinanceFuturesRule())

    def fut(first: int, last: int, prev: int, price: str) -> BookMessage:
        return BookMessage("test", "X", Kind.DELTA, level_events([[price, "1"]], [], 0, 0), 0,
                           first_seq=first, last_seq=last, prev_seq=prev)

    s.on_message(fut(90, 99, 80, "97"))  # u < L: in the snapshot already
    s.on_message(fut(95, 100, 99, "98"))  # u == L: straddles L, kept
    s.on_message(fut(104, 110, 100, "99"))  # U - pu != 1 on futures: pu chains
    (ev,) = s.on_message(msg(Kind.SNAPSHOT, 100, [["96", "1"]]))
    assert (ev.new, ev.reason) == (SyncState.SYNCED, Reason.SNAPSHOT)
    assert s.last_id == 110 and s.stats.stale_dropped == 1
    assert s.view().levels(Side.BID)["price"].tolist() == [99, 98, 96]


def test_venue_reset_reconnect_and_halt() -> None:
    s = BookSync(INST, ContiguousRule())
    s.on_message(msg(Kind.SNAPSHOT, 1, [["100", "1"]]))
    (ev,) = s.on_message(msg(Kind.RESET, 0))
    assert ev.reason is Reason.VENUE_RESET and len(s.book) == 0
    s.on_message(msg(Kind.SNAPSHOT, 1, [["100", "1"]]))
    (ev,) = s.reconnect(5)
    assert (ev.reason, ev.ts_recv_ns) == (Reason.RECONNECT, 5)
    (ev,) = s.halt(6, "operator")
    assert ev.new is SyncState.HALTED
    assert s.on_message(msg(Kind.SNAPSHOT, 1, [["100", "1"]])) == []
    assert s.state is SyncState.HALTED and s.stats.stale_dropped == 1


def test_buffer_overflow_is_reported() -> None:
    s = BookSync(INST, UpdateRangeRule(), max_buffer=3)
    events = []
    for k in range(5):
        events += s.on_message(msg(Kind.DELTA, 10 + k, [["100", "1"]], first=10 + k))
    assert [e.reason for e in events] == [Reason.FIRST_DELTA, Reason.BUFFER_OVERFLOW]
    assert s.stats.buffer_overflows == 1


def test_checksum_mismatch_loses_sync() -> None:
    verdicts = iter([True, False])
    s = BookSync(INST, ContiguousRule(), checksum=lambda book, m: next(verdicts))
    snap = BookMessage("test", "X", Kind.SNAPSHOT, level_events([["100", "1"]], [], 0, 0), 0,
                       last_seq=1, checksum=7)
    s.on_message(snap)
    delta = BookMessage("test", "X", Kind.DELTA, level_events([["100", "2"]], [], 0, 0), 1,
                        last_seq=2, checksum=8)
    (ev,) = s.on_message(delta)
    assert ev.reason is Reason.CHECKSUM_MISMATCH
    assert (s.stats.checksums_ok, s.stats.checksums_failed) == (1, 1)


def test_tick_is_learned_from_the_snapshot() -> None:
    s = BookSync(Instrument("test", "X", 8, 8), ContiguousRule())
    rows = [[f"{61837 + k / 100:.8f}", "1"] for k in range(20)]
    s.on_message(BookMessage("test", "X", Kind.SNAPSHOT, level_events(rows, [], 8, 8), 0, last_seq=1))
    assert s.book.tick == 10**6  # a 0.01 grid at exponent 8
    s.book.check_invariants()
