"""Replaying captures through parsing and sync: the engine behind `crossbook verify`,
`crossbook replay` and the demo."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crossbook.io.capture import CaptureRecord, RecordKind, read_capture
from crossbook.messages import BookMessage, Message, Quote, Status
from crossbook.sync import BookSync, SyncEvent
from crossbook.venues.base import ParseError, VenueParser
from crossbook.venues.registry import make_parser, sniff_venue

__all__ = ["BookReport", "Replay", "open_capture"]

_MAX_PENDING_QUOTES = 100_000


@dataclass(slots=True)
class BookReport:
    """What happened to one book during a replay; every count is an int."""

    venue: str
    symbol: str
    frames: int = 0
    messages: int = 0
    levels: int = 0  # applied by deltas
    snapshot_levels: int = 0
    snapshots: int = 0
    gaps: int = 0
    resyncs: int = 0
    checksums_ok: int = 0
    checksums_failed: int = 0
    tob_compared: int = 0
    tob_mismatched: int = 0
    stale_dropped: int = 0
    crossed: int = 0
    state: str = "init"
    best_bid: str | None = None
    best_ask: str | None = None
    events: list[SyncEvent] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.checksums_failed or self.tob_mismatched or self.gaps or self.state != "synced")

    def as_dict(self) -> dict[str, object]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "events"}
        d["events"] = [
            {"ts_recv_ns": e.ts_recv_ns, "from": e.old.value, "to": e.new.value,
             "reason": e.reason.value, "detail": e.detail}
            for e in self.events
        ]
        return d


class _TopOfBookCheck:
    """Compares a venue's own top-of-book stream with our book at equal update ids.

    A quote can be compared only when the book sits at exactly the quote's
    update id; quotes wait (bounded) for that moment or are passed over."""

    def __init__(self) -> None:
        self.pending: dict[int, Quote] = {}
        self.compared = 0
        self.mismatched = 0
        self.first_mismatch: str | None = None

    def on_quote(self, q: Quote, sync: BookSync | None) -> None:
        if q.seq is None:
            return
        if sync is not None and sync.synced and sync.last_id == q.seq:
            self._compare(q, sync)
        elif sync is None or sync.last_id is None or q.seq > sync.last_id:
            if len(self.pending) >= _MAX_PENDING_QUOTES:
                self.pending.clear()
            self.pending[q.seq] = q

    def on_book(self, sync: BookSync) -> None:
        if sync.synced and self.pending:
            q = self.pending.pop(sync.last_id, None) if sync.last_id is not None else None
            if q is not None:
                self._compare(q, sync)

    def _compare(self, q: Quote, sync: BookSync) -> None:
        self.compared += 1
        ours = sync.book.bbo()
        theirs = ((q.bid_price, q.bid_size), (q.ask_price, q.ask_size))
        if ours != theirs:
            self.mismatched += 1
            if self.first_mismatch is None:
                self.first_mismatch = f"id {q.seq}: book {ours} venue {theirs}"


class Replay:
    """Feeds capture records of one venue to one BookSync per symbol."""

    def __init__(self, parser: VenueParser, *, on_event: Callable[[SyncEvent], None] | None = None,
                 on_message: Callable[[Message, BookSync | None], None] | None = None) -> None:
        self.parser = parser
        self.syncs: dict[str, BookSync] = {}
        self.reports: dict[str, BookReport] = {}
        self.tob: dict[str, _TopOfBookCheck] = {}
        self.parse_errors: list[str] = []
        self.records = 0
        self._on_event = on_event
        self._on_message = on_message

    def sync_for(self, msg: BookMessage) -> BookSync:
        sync = self.syncs.get(msg.symbol)
        if sync is None:
            inst = self.parser.instruments.get(msg.symbol)
            assert inst is not None, "a parser resolves the instrument before emitting"
            sync = self.syncs[msg.symbol] = BookSync(
                inst,
                self.parser.sync_rule(msg.symbol),
                checksum=self.parser.checksum(msg.symbol),
                depth_limit=self.parser.depth_limit(msg.symbol),
            )
            self.reports[msg.symbol] = BookReport(msg.venue, msg.symbol)
            self.tob[msg.symbol] = _TopOfBookCheck()
        return sync

    def feed(self, rec: CaptureRecord) -> list[Message]:
        self.records += 1
        try:
            if rec.kind is RecordKind.FRAME:
                msgs = self.parser.parse(rec.payload, rec.recv_ns)
            elif rec.kind is RecordKind.REST:
                msgs = self.parser.parse_rest(rec.url or "", rec.payload, rec.recv_ns)
            else:
                return []
        except ParseError as exc:
            self.parse_errors.append(f"line {rec.line_no}: {exc}")
            return []
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            # A parser must raise only ParseError; if one slips, the replay reports the
            # frame (as a failed check) instead of dying on it.
            self.parse_errors.append(
                f"line {rec.line_no}: unexpected {type(exc).__name__} in {self.parser.venue} parser: {exc}")
            return []
        if len(msgs) == 1:  # the usual frame
            symbol = self._dispatch(msgs[0])
            if symbol is not None:
                self.reports[symbol].frames += 1
            return msgs
        # A frame counts once per book it touched, however many messages it carried.
        for symbol in {s for s in map(self._dispatch, msgs) if s is not None}:
            self.reports[symbol].frames += 1
        return msgs

    def _dispatch(self, msg: Message) -> str | None:
        """Routes one message; returns the symbol of the book it concerned, if any."""
        if isinstance(msg, BookMessage):
            symbol = msg.symbol
            sync = self.syncs.get(symbol) or self.sync_for(msg)
            events = sync.on_message(msg)
            if events:
                self.reports[symbol].events.extend(events)
                if self._on_event:
                    for ev in events:
                        self._on_event(ev)
            self.tob[symbol].on_book(sync)
            if self._on_message:
                self._on_message(msg, sync)
            return symbol
        if isinstance(msg, Quote):
            sync_or_none = self.syncs.get(msg.symbol)
            if sync_or_none is not None:
                self.tob[msg.symbol].on_quote(msg, sync_or_none)
            if self._on_message:
                self._on_message(msg, sync_or_none)
            return msg.symbol if sync_or_none is not None else None
        if not isinstance(msg, Status) and self._on_message:
            self._on_message(msg, self.syncs.get(msg.symbol))
        return None

    def finish(self) -> list[BookReport]:
        out = []
        for symbol, sync in self.syncs.items():
            r = self.reports[symbol]
            st = sync.stats
            r.messages, r.levels, r.snapshots = st.messages, st.levels_applied, st.snapshots
            r.snapshot_levels = st.snapshot_levels
            r.gaps, r.resyncs = st.gaps, st.resyncs
            r.checksums_ok, r.checksums_failed = st.checksums_ok, st.checksums_failed
            r.stale_dropped, r.crossed = st.stale_dropped, st.crossed
            r.tob_compared, r.tob_mismatched = self.tob[symbol].compared, self.tob[symbol].mismatched
            r.state = sync.state.value
            bid, ask = sync.book.bbo() if sync.synced else (None, None)
            book = sync.book
            r.best_bid = f"{book.format_size(bid[1])} @ {book.format_price(bid[0])}" if bid else None
            r.best_ask = f"{book.format_size(ask[1])} @ {book.format_price(ask[0])}" if ask else None
            out.append(r)
        return out


def open_capture(path: str | Path, venue: str | None = None) -> tuple[VenueParser, Iterator[CaptureRecord]]:
    """A parser for the capture's venue (given, or recognised from its first records)
    and the capture's records."""
    records = read_capture(path)
    if venue is None:
        head = list(itertools.islice(records, 2000))
        venue = sniff_venue(head)
        if venue is None:
            raise ValueError(f"{path}: cannot tell the venue from the first records; pass --venue")
        records = itertools.chain(head, records)
    return make_parser(venue), records
