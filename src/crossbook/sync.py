"""BookSync: one book's state machine, from raw messages to a book that is
provably in step with the venue, or reported as not.

    INIT --delta--> BUFFERING --snapshot aligns--> SYNCED
    SYNCED --gap | checksum mismatch | venue reset | reconnect--> RESYNCING
    RESYNCING --snapshot aligns--> SYNCED
    any --halt()--> HALTED

Every transition is reported as a SyncEvent with its reason. A message is
applied, buffered, or counted as dropped with a reason; never lost silently.
While not SYNCED the book is withheld from consumers (``view()`` raises).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from crossbook import L2Book, dtypes
from crossbook.messages import BookMessage, Instrument, Kind
from crossbook.sync_rules import SequenceRule, Verdict

# Fewer levels say little about the grid (one level's gcd is its own price).
_MIN_LEVELS_FOR_TICK = 8

__all__ = ["SyncState", "Reason", "SyncEvent", "SyncStats", "BookSync", "BookNotSynced", "ChecksumFn"]

#: A checksum verifier: True when the book matches the message's checksum.
ChecksumFn = Callable[[L2Book, BookMessage], bool]


class SyncState(enum.Enum):
    INIT = "init"
    BUFFERING = "buffering"
    SYNCED = "synced"
    RESYNCING = "resyncing"
    HALTED = "halted"


class Reason(enum.Enum):
    SNAPSHOT = "snapshot"  # a snapshot aligned: the book is in step
    FIRST_DELTA = "first_delta"  # deltas buffered while waiting for a snapshot
    GAP = "gap"
    SNAPSHOT_TOO_OLD = "snapshot_too_old"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    CROSSED = "crossed"
    VENUE_RESET = "venue_reset"
    RECONNECT = "reconnect"
    BUFFER_OVERFLOW = "buffer_overflow"
    HALT = "halt"
    INVALID_MESSAGE = "invalid_message"  # judging or applying a message raised


class BookNotSynced(RuntimeError):
    """The book is not in step with the venue; its levels must not be used."""


@dataclass(frozen=True, slots=True)
class SyncEvent:
    venue: str
    symbol: str
    ts_recv_ns: int
    old: SyncState
    new: SyncState
    reason: Reason
    detail: str = ""


@dataclass(slots=True)
class SyncStats:
    messages: int = 0
    snapshots: int = 0
    deltas_applied: int = 0
    levels_applied: int = 0  # by deltas
    snapshot_levels: int = 0  # loaded from snapshots
    heartbeats: int = 0
    stale_dropped: int = 0
    buffered: int = 0
    gaps: int = 0
    resyncs: int = 0
    checksums_ok: int = 0
    checksums_failed: int = 0
    crossed: int = 0
    snapshots_too_old: int = 0
    snapshots_ignored: int = 0
    buffer_overflows: int = 0
    errors: int = 0  # messages whose judging or applying raised (each a resync)


@dataclass(slots=True)
class _Cursor:
    """Where the book is in the venue's sequence."""

    last_id: int | None = None
    fresh_snapshot: bool = True  # no delta applied since the snapshot
    # The last applied delta's first id and exchange time: a delta judged stale that is
    # newer than it by either was not seen before; a corrupted id made it look old.
    first_id: int | None = None
    ts_exchange_ns: int | None = None
    events: list[SyncEvent] = field(default_factory=list)


class BookSync:
    def __init__(
        self,
        instrument: Instrument,
        rule: SequenceRule,
        *,
        checksum: ChecksumFn | None = None,
        depth_limit: int | None = None,
        max_buffer: int = 100_000,
        resync_on_crossed: bool = False,
    ) -> None:
        self.instrument = instrument
        self.rule = rule
        self.checksum = checksum
        self.depth_limit = depth_limit
        self.max_buffer = max_buffer
        self.resync_on_crossed = resync_on_crossed
        self.book = L2Book(instrument.price_exp, instrument.size_exp, instrument.tick or 1)
        self.state = SyncState.INIT
        self.stats = SyncStats()
        self._buffer: deque[BookMessage] = deque()
        self._cur = _Cursor()
        self._crossed = False
        #: Receive time of the last message fed (ns); 0 before the first.
        self.last_ts_recv_ns = 0

    # -- queries ----------------------------------------------------------------

    @property
    def synced(self) -> bool:
        return self.state is SyncState.SYNCED

    @property
    def last_id(self) -> int | None:
        return self._cur.last_id

    @property
    def needs_snapshot(self) -> bool:
        """True when the driver should fetch a REST snapshot for this book."""
        return self.resync_request == "rest_snapshot"

    @property
    def resync_request(self) -> str | None:
        """What the driver must do to rebuild this one book, or None when nothing:
        "rest_snapshot" (fetch the venue's REST book) or "resubscribe" (re-subscribe
        to this symbol's channel: stream venues send a fresh snapshot on subscribe)."""
        if self.state not in (SyncState.BUFFERING, SyncState.RESYNCING):
            return None
        return "rest_snapshot" if self.rule.snapshot_source == "rest" else "resubscribe"

    def view(self) -> L2Book:
        """The book, only while it is in step with the venue."""
        if not self.synced:
            raise BookNotSynced(
                f"{self.instrument.venue} {self.instrument.symbol} is {self.state.value}"
            )
        return self.book

    # -- input ------------------------------------------------------------------

    def on_message(self, msg: BookMessage) -> list[SyncEvent]:
        """Feeds one message; returns the state changes it caused."""
        events: list[SyncEvent] = []
        self._cur.events = events
        self.stats.messages += 1
        self.last_ts_recv_ns = msg.ts_recv_ns
        try:
            self._route(msg)
        except Exception as exc:  # one bad message must cost its book, not the feed
            self.stats.errors += 1
            self._lose_sync(msg.ts_recv_ns, Reason.INVALID_MESSAGE, f"{type(exc).__name__}: {exc}")
        return events

    def _route(self, msg: BookMessage) -> None:
        kind = msg.kind
        if self.state is SyncState.SYNCED and kind is Kind.DELTA:  # nearly every message
            self._on_live_delta(msg)
        elif self.state is SyncState.HALTED:
            self.stats.stale_dropped += 1
        elif kind is Kind.SNAPSHOT:
            self._on_snapshot(msg)
        elif kind is Kind.RESET:
            self._lose_sync(msg.ts_recv_ns, Reason.VENUE_RESET, "venue reset the book")
        elif kind is Kind.HEARTBEAT:
            self._on_heartbeat(msg)
        else:
            self._buffer_delta(msg)

    def reconnect(self, ts_recv_ns: int) -> list[SyncEvent]:
        """The connection dropped: whatever was in flight is unknown."""
        self._cur.events = []
        self._buffer.clear()
        self._lose_sync(ts_recv_ns, Reason.RECONNECT, "connection restarted")
        return self._cur.events

    def halt(self, ts_recv_ns: int, detail: str = "") -> list[SyncEvent]:
        self._cur.events = []
        self.book.clear()
        self._buffer.clear()
        self._move(SyncState.HALTED, ts_recv_ns, Reason.HALT, detail)
        return self._cur.events

    # -- transitions ------------------------------------------------------------

    def _move(self, new: SyncState, ts_ns: int, reason: Reason, detail: str = "") -> None:
        ev = SyncEvent(
            self.instrument.venue, self.instrument.symbol, ts_ns, self.state, new, reason, detail
        )
        self.state = new
        self._cur.events.append(ev)

    def _lose_sync(self, ts_ns: int, reason: Reason, detail: str) -> None:
        if self.state is SyncState.HALTED:
            return
        if reason is Reason.GAP:
            self.stats.gaps += 1
        self.stats.resyncs += 1
        self.book.clear()  # a book out of step is never served, not even stale
        self._cur.last_id = None
        self._cur.fresh_snapshot = True
        self._crossed = False
        self._move(SyncState.RESYNCING, ts_ns, reason, detail)

    def _buffer_delta(self, msg: BookMessage) -> None:
        if self.state is SyncState.INIT:
            self._move(SyncState.BUFFERING, msg.ts_recv_ns, Reason.FIRST_DELTA)
        if len(self._buffer) >= self.max_buffer:
            # Dropping only the oldest would leave a hole no snapshot can fill: start over, loudly.
            self.stats.stale_dropped += len(self._buffer)
            self._buffer.clear()
            self.stats.buffer_overflows += 1
            self._lose_sync(msg.ts_recv_ns, Reason.BUFFER_OVERFLOW, f"over {self.max_buffer} deltas")
        self._buffer.append(msg)
        self.stats.buffered += 1

    def _judge(self, msg: BookMessage) -> Verdict:
        cur = self._cur
        if cur.fresh_snapshot:
            return self.rule.first(cur.last_id, msg)
        return self.rule.next(cur.last_id, msg)

    def _on_snapshot(self, msg: BookMessage) -> None:
        if self.state is SyncState.SYNCED and self.rule.snapshot_source == "rest":
            # A REST snapshot predates deltas already applied; loading it would rewind the book.
            self.stats.snapshots_ignored += 1
            return
        self.stats.snapshots += 1
        self.stats.snapshot_levels += len(msg.levels)
        pending, self._buffer = self._buffer, deque()
        if self.rule.snapshot_source == "stream":
            # The stream sends its snapshot first: anything buffered before it is superseded.
            self.stats.stale_dropped += len(pending)
            pending.clear()
        self.book.clear()
        self._learn_tick(msg)
        self.book.apply(msg.levels)
        self._truncate(msg)
        self._cur.last_id = msg.last_seq
        self._cur.fresh_snapshot = True
        if not self._checksum_ok(msg):
            self._buffer = pending
            return
        replayed = 0
        while pending:
            delta = pending.popleft()
            verdict = self._judge(delta)
            if verdict is Verdict.STALE:
                self.stats.stale_dropped += 1
                continue
            if verdict is Verdict.GAP:
                pending.appendleft(delta)
                self._buffer = pending
                self._gap_after_snapshot(delta)
                return
            replayed += 1
            if not self._apply(delta):
                self._buffer = pending
                return
        self._move(SyncState.SYNCED, msg.ts_recv_ns, Reason.SNAPSHOT,
                   f"at id {msg.last_seq}; {replayed} buffered deltas applied")

    def _learn_tick(self, snapshot: BookMessage) -> None:
        """The book's ladder is indexed in ticks: take the grid of the snapshot's
        prices as the hint (the book refines it if a later price is off it)."""
        if self.instrument.tick is not None or len(snapshot.levels) < _MIN_LEVELS_FOR_TICK:
            return
        tick = int(np.gcd.reduce(snapshot.levels["price"]))
        if 1 < tick <= dtypes.MAX_TICK_HINT:
            self.book.set_tick(tick)

    def _gap_after_snapshot(self, delta: BookMessage) -> None:
        detail = f"book at id {self._cur.last_id}, next delta {delta.first_seq}..{delta.last_seq}"
        if self._cur.fresh_snapshot:
            # Nothing chains onto the snapshot: it is older than the deltas we hold.
            self.stats.snapshots_too_old += 1
            self.book.clear()
            self._cur.last_id = None
            new = SyncState.RESYNCING if self.state is SyncState.SYNCED else self.state
            self._move(new if new is not SyncState.INIT else SyncState.BUFFERING,
                       delta.ts_recv_ns, Reason.SNAPSHOT_TOO_OLD, detail)
        else:
            self._lose_sync(delta.ts_recv_ns, Reason.GAP, detail)

    def _on_live_delta(self, msg: BookMessage) -> None:
        verdict = self._judge(msg)
        if verdict is Verdict.STALE:
            newer = self._newer_than_last(msg)
            if newer:
                self._lose_sync(msg.ts_recv_ns, Reason.GAP,
                                f"book at id {self._cur.last_id}, got {msg.first_seq}..{msg.last_seq}: "
                                f"stale by id but {newer}: an id was corrupted upward")
                self._buffer.append(msg)
                self.stats.buffered += 1
            else:
                self.stats.stale_dropped += 1
        elif verdict is Verdict.GAP:
            detail = f"book at id {self._cur.last_id}, got {msg.first_seq}..{msg.last_seq} (prev {msg.prev_seq})"
            self._lose_sync(msg.ts_recv_ns, Reason.GAP, detail)
            self._buffer.append(msg)  # it may chain onto the next snapshot
            self.stats.buffered += 1
        else:
            self._apply(msg)

    def _newer_than_last(self, msg: BookMessage) -> str:
        """Why a delta judged stale is newer than the last applied one, or ""."""
        cur = self._cur
        if cur.fresh_snapshot:
            return ""  # a snapshot's own id and time are not comparable with a delta's
        if msg.first_seq is not None and cur.first_id is not None and msg.first_seq > cur.first_id:
            return f"its first id is above the last applied delta's ({cur.first_id})"
        ts_ns = msg.ts_exchange_ns
        if ts_ns is not None and cur.ts_exchange_ns is not None and ts_ns > cur.ts_exchange_ns:
            return f"its exchange time is after the last applied delta's ({cur.ts_exchange_ns} ns)"
        return ""

    def _apply(self, msg: BookMessage) -> bool:
        """Applies a delta judged APPLY; False when its checksum then failed."""
        book, stats, levels = self.book, self.stats, msg.levels
        book.apply(levels)
        self._truncate(msg)
        cur = self._cur
        if msg.last_seq is not None:
            cur.last_id = msg.last_seq
        cur.fresh_snapshot = False
        cur.first_id, cur.ts_exchange_ns = msg.first_seq, msg.ts_exchange_ns
        stats.deltas_applied += 1
        stats.levels_applied += len(levels)
        if not self._checksum_ok(msg):
            return False
        crossed = book.is_crossed()
        if crossed and not self._crossed:
            stats.crossed += 1
            if self.resync_on_crossed:
                self._lose_sync(msg.ts_recv_ns, Reason.CROSSED, f"bbo {book.bbo()}")
                return False
        self._crossed = crossed
        return True

    def _on_heartbeat(self, msg: BookMessage) -> None:
        """A heartbeat carries a sequence number: judged like a delta, never taken on
        trust, so that one arriving after a lost frame reveals the gap."""
        self.stats.heartbeats += 1
        if self.state is not SyncState.SYNCED or msg.last_seq is None:
            return
        verdict = self._judge(msg)
        if verdict is Verdict.GAP:
            self._lose_sync(msg.ts_recv_ns, Reason.GAP,
                            f"book at id {self._cur.last_id}, heartbeat at {msg.last_seq}")
        elif verdict is Verdict.APPLY:
            self._cur.last_id = msg.last_seq

    def _truncate(self, msg: BookMessage) -> None:
        limit = msg.depth_limit or self.depth_limit
        if limit:
            self.book.truncate(limit)

    def _checksum_ok(self, msg: BookMessage) -> bool:
        if msg.checksum is None or self.checksum is None:
            return True
        if self.checksum(self.book, msg):
            self.stats.checksums_ok += 1
            return True
        self.stats.checksums_failed += 1
        self._lose_sync(msg.ts_recv_ns, Reason.CHECKSUM_MISMATCH,
                        f"venue checksum {msg.checksum} ({msg.checksum_alg})")
        return False
