"""Replaying captures through parsing and sync: the engine behind `crossbook verify`,
`crossbook replay` and the demo."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crossbook.io.capture import CaptureRecord, RecordKind, read_capture
from crossbook.messages import BookMessage, Drop, Message, Quote, Status
from crossbook.sync import BookSync, SyncEvent
from crossbook.venues.base import ParseError, VenueParser
from crossbook.venues.registry import make_parser, sniff_venue

__all__ = ["BookReport", "Replay", "ReplaySummary", "open_capture", "DEFAULT_MAX_BOOKS"]

_MAX_PENDING_QUOTES = 100_000
#: Books one replay keeps at most: an empty book costs memory, and a stream of frames
#: each naming a new symbol must not grow without bound.
DEFAULT_MAX_BOOKS = 10_000
_MAX_ERROR_TEXTS = 100  # each error is counted; the first ones are kept as text


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


@dataclass(slots=True)
class ReplaySummary:
    """What became of every record of a replay. Each websocket frame or REST
    response counts under exactly one outcome (``frames`` is their sum):

    book: it reached a book (applied, buffered or dropped as stale there: see the
    book's report); market_data: trades and quotes; control: acknowledgements,
    heartbeats, info; stale: late or duplicate, dropped by the parser;
    unrouted: its channel was never acknowledged; unsupported: a channel crossbook
    does not keep; venue_errors: an error the venue sent (or a frame it refused);
    parse_errors, sync_errors: refused by the parser, or raised while syncing its
    book (that book resyncs); books_capped: for a new book past ``max_books``.
    """

    records: int = 0
    sent: int = 0  # frames the recorder sent (subscriptions)
    connects: int = 0  # websocket connections a live recorder opened (CONNECT records)
    closes: int = 0  # ... and saw end (CLOSE records)
    frames: int = 0
    book: int = 0
    market_data: int = 0
    control: int = 0
    stale: int = 0
    unrouted: int = 0
    unsupported: int = 0
    venue_errors: int = 0
    parse_errors: int = 0
    sync_errors: int = 0
    books_capped: int = 0
    books: int = 0
    max_books: int = DEFAULT_MAX_BOOKS

    def failures(self) -> list[str]:
        """Why a verification of this replay must fail; empty when nothing was lost."""
        out = []
        if self.books == 0:
            what = f"{self.frames:,} frames" if self.frames else "no frames"
            out.append(f"no order book to check ({what}: "
                       f"{self.unsupported:,} of unsupported channels, {self.unrouted:,} unrouted)")
        for name, why in (("parse_errors", "refused by the parser"),
                          ("sync_errors", "raised while syncing their book"),
                          ("unrouted", "for channels no subscription acknowledged"),
                          ("venue_errors", "reported as errors (by the venue, or a book withheld)"),
                          ("books_capped", f"for books past the cap of {self.max_books:,}")):
            n = getattr(self, name)
            if n:
                out.append(f"{n:,} frames {why}")
        return out

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


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
                 on_message: Callable[[Message, BookSync | None], None] | None = None,
                 max_books: int = DEFAULT_MAX_BOOKS) -> None:
        self.parser = parser
        self.syncs: dict[str, BookSync] = {}
        self.reports: dict[str, BookReport] = {}
        self.tob: dict[str, _TopOfBookCheck] = {}
        self.parse_errors: list[str] = []
        #: Why frames were lost: sync errors, venue errors, unrouted frames, the book cap
        #: (the first ones of each; the summary counts them all).
        self.errors: list[str] = []
        self.summary = ReplaySummary(max_books=max_books)
        self._on_event = on_event
        self._on_message = on_message
        self._flag: str | None = None  # the outcome _dispatch forces on the frame, if any
        self._connected = False  # a CONNECT seen and no CLOSE since

    @property
    def records(self) -> int:
        return self.summary.records

    def _note(self, text: str) -> None:
        if len(self.errors) < _MAX_ERROR_TEXTS:
            self.errors.append(text)

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
        summary = self.summary
        summary.records += 1
        if rec.kind is RecordKind.SENT:
            summary.sent += 1
            return []
        if rec.kind is RecordKind.CONNECT or rec.kind is RecordKind.CLOSE:
            self._connection(rec)
            return []
        summary.frames += 1
        try:
            if rec.kind is RecordKind.FRAME:
                msgs = self.parser.parse(rec.payload, rec.recv_ns)
            else:
                msgs = self.parser.parse_rest(rec.url or "", rec.payload, rec.recv_ns)
        except ParseError as exc:
            summary.parse_errors += 1
            self.parse_errors.append(f"line {rec.line_no}: {exc}")
            return []
        except Exception as exc:  # one frame must never stop the replay
            # A parser must raise only ParseError; if anything else slips, the replay
            # reports the frame (as a failed check) instead of dying on it.
            summary.parse_errors += 1
            self.parse_errors.append(f"line {rec.line_no}: unexpected {type(exc).__name__} "
                                     f"in {self.parser.venue} parser: {exc}")
            return []
        outcome = self._route(msgs, rec.line_no)
        setattr(summary, outcome, getattr(summary, outcome) + 1)
        return msgs

    def _connection(self, rec: CaptureRecord) -> None:
        """A connection that ended voids what every book had in flight: each resyncs
        (reason RECONNECT), where a replay without the record would see a gap. A
        CONNECT with no CLOSE before it (a crash, or recordings of two runs joined)
        means the same."""
        if rec.kind is RecordKind.CONNECT:
            self.summary.connects += 1
            ended, self._connected = self._connected, True
        else:
            self.summary.closes += 1
            ended, self._connected = True, False
        if ended:
            self.reconnect(rec.recv_ns)

    def reconnect(self, ts_recv_ns: int) -> list[SyncEvent]:
        """Every book goes through ``BookSync.reconnect``; returns the events."""
        out: list[SyncEvent] = []
        for symbol, sync in self.syncs.items():
            events = sync.reconnect(ts_recv_ns)
            self.reports[symbol].events.extend(events)
            out.extend(events)
        if self._on_event:
            for ev in out:
                self._on_event(ev)
        return out

    def _route(self, msgs: list[Message], line_no: int) -> str:
        """Dispatches a frame's messages; returns the frame's outcome (a summary field)."""
        self._flag = None
        if len(msgs) == 1:  # the usual frame
            symbol = self._dispatch(msgs[0], line_no)
            if symbol is not None:
                self.reports[symbol].frames += 1
            symbols: tuple[str, ...] = () if symbol is None else (symbol,)
        else:
            # A frame counts once per book it touched, however many messages it carried.
            touched = (self._dispatch(m, line_no) for m in msgs)
            symbols = tuple({s for s in touched if s is not None})
            for symbol in symbols:
                self.reports[symbol].frames += 1
        if self._flag is not None:
            return self._flag
        if len(msgs) == 1 and symbols:
            return "book"
        worst = self._outcome(msgs, line_no)
        # A loss the parser reports outweighs the probes it sends the books along with it.
        return "book" if symbols and worst not in ("venue_errors", "unrouted") else worst

    def _outcome(self, msgs: list[Message], line_no: int) -> str:
        """The outcome of a frame that reached no book: the worst of its messages'."""
        found = {"control"}
        for m in msgs:
            if not isinstance(m, Status):
                found.add("market_data")
            elif m.drop is not None or m.error:
                outcome = m.drop.value if m.drop is not None else "venue_errors"
                found.add(outcome)
                if outcome in ("unrouted", "venue_errors"):
                    self._note(f"line {line_no}: {m.venue} {m.symbol or ''}: {m.text}")
        return next(o for o in ("venue_errors", "unrouted", "stale", "unsupported", "market_data",
                                "control") if o in found)

    def _dispatch(self, msg: Message, line_no: int = 0) -> str | None:
        """Routes one message; returns the symbol of the book it concerned, if any."""
        if isinstance(msg, BookMessage):
            symbol = msg.symbol
            sync = self.syncs.get(symbol)
            if sync is None:
                if len(self.syncs) >= self.summary.max_books:
                    self._flag = "books_capped"
                    if not self.summary.books_capped:
                        self._note(f"line {line_no}: {msg.venue} {symbol}: a new book past the cap "
                                   f"of {self.summary.max_books:,} books; its frames are dropped")
                    return None
                try:
                    sync = self.sync_for(msg)
                except Exception as exc:  # e.g. exponents no book can hold
                    self._flag = "sync_errors"
                    self._note(f"line {line_no}: {msg.venue} {symbol}: no book: {exc}")
                    return None
            errors = sync.stats.errors
            events = sync.on_message(msg)
            if sync.stats.errors != errors:
                self._flag = "sync_errors"
                self._note(f"line {line_no}: {msg.venue} {symbol}: {events[-1].detail}"
                           if events else f"line {line_no}: {msg.venue} {symbol}: sync error")
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
        self.summary.books = len(self.syncs)
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
