"""The live feed: venue websockets and REST snapshots into synced books.

    socket task  --record-->  bounded queue  -->  consumer (parse, BookSync, callbacks)

Each venue has one connection (``_Connection``). Its socket task stamps every
frame's receive time, writes it to the recorder, then enqueues it; REST snapshot
responses take the same path. Recording and enqueueing happen under one lock per
connection, so the recording's order is the order in which the consumer parses:
the consumer is a ``crossbook.replay.Replay``, the very engine of ``crossbook
verify``, so a live run and the replay of its recording build the same books.

Resync is per book: after each message the consumer asks the book's BookSync what
it needs (``resync_request``) and fetches a REST snapshot (rate-limited per
venue) or resubscribes that one channel. A lost connection reconnects with
backoff and every book of it goes through ``BookSync.reconnect``.

The queue is bounded. ``overflow="block"`` stops reading the socket while the
consumer is behind (the venue may then drop the connection); ``"drop"`` drops the
frame (it is still recorded), counts it, and resyncs the book it concerned (every
book of the connection when the frame names none).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from crossbook import L2Book
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.live.policy import Backoff, RateLimiter
from crossbook.live.recorder import CaptureWriter
from crossbook.live.specs import VenueSpec, spec_for
from crossbook.messages import BookMessage, Kind, Message, Status
from crossbook.replay import Replay
from crossbook.sync import BookSync, SyncEvent
from crossbook.timeutil import NS_PER_S
from crossbook.venues.registry import make_parser

if TYPE_CHECKING:
    import httpx
    from websockets.asyncio.client import ClientConnection

__all__ = ["LiveFeed", "ConnectionStats", "Overflow", "parse_targets"]

Overflow = Literal["block", "drop"]
Item = Message | SyncEvent
_ALL = "*"


@dataclass(slots=True)
class ConnectionStats:
    """Counters of one venue connection; every int only grows."""

    frames: int = 0
    rest_snapshots: int = 0
    rest_failures: int = 0
    sent: int = 0
    connects: int = 0
    disconnects: int = 0
    dropped: int = 0  # frames the consumer never saw (overflow="drop")
    resubscribes: int = 0
    last_error: str = ""
    backoff_delays_s: list[float] = field(default_factory=list)


class _Connection:
    def __init__(self, spec: VenueSpec, symbols: Sequence[str], ws_url: str,
                 ws_override: str | None, rest_url: str | None,
                 recorder: CaptureWriter | None, backoff: Backoff,
                 snapshot_min_interval_s: float | None = None) -> None:
        self.spec = spec
        self.symbols = list(symbols)
        self.ws_url = ws_url
        self.ws_override = ws_override
        self.rest_url = rest_url
        self.recorder = recorder
        self.backoff = backoff
        self.events: list[SyncEvent] = []  # filled by the replay as it feeds a record
        self.replay = Replay(make_parser(spec.venue), on_event=self.events.append)
        self.stats = ConnectionStats()
        self.limiter = RateLimiter(spec.snapshot_min_interval_s if snapshot_min_interval_s is None
                                   else snapshot_min_interval_s)
        self.lock = asyncio.Lock()  # one order for the recording and the consumer
        self.pending: dict[str, float] = {}  # books with a resync in flight -> since (monotonic s)
        self.dropped_for: set[str] = set()  # books that lost a frame to overflow
        self.ws: ClientConnection | None = None

    @property
    def venue(self) -> str:
        return self.spec.venue


def parse_targets(targets: Sequence[str]) -> dict[str, list[str]]:
    """``["binance:BTCUSDT", "okx:BTC-USDT"]`` -> {venue: [symbols]}, order kept."""
    out: dict[str, list[str]] = {}
    for t in targets:
        venue, sep, symbol = t.partition(":")
        if not sep or not venue or not symbol:
            raise ValueError(f"expected VENUE:SYMBOL, got {t!r}")
        spec_for(venue)
        out.setdefault(venue, [])
        if symbol not in out[venue]:
            out[venue].append(symbol)
    return out


def _require_extra() -> None:
    missing = [m for m in ("websockets", "httpx") if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"crossbook.live needs {' and '.join(missing)}: "
                          "pip install 'crossbook[live]'")


def _ssl_context(ca_file: str | Path | None) -> ssl.SSLContext:
    """Certificates and host names are verified; ``ca_file`` adds a private CA."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


class LiveFeed:
    """Connects, subscribes, keeps one BookSync per (venue, symbol), records.

    Use as ``async with LiveFeed(...) as feed: async for item in feed: ...`` (items
    are normalized messages and SyncEvents), or ``await feed.run()`` with callbacks.
    """

    def __init__(
        self,
        subscriptions: Mapping[str, Sequence[str]],
        *,
        ws_urls: Mapping[str, str] | None = None,
        rest_urls: Mapping[str, str] | None = None,
        ca_file: str | Path | None = None,
        record_dir: str | Path | None = None,
        recorder_options: Mapping[str, object] | None = None,
        queue_size: int = 10_000,
        overflow: Overflow = "block",
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        seed: int | None = None,
        ping_interval_s: float | None = 20.0,
        ping_timeout_s: float | None = 20.0,
        open_timeout_s: float = 10.0,
        rest_timeout_s: float = 10.0,
        snapshot_min_interval_s: float | None = None,
        resync_timeout_s: float = 10.0,
        on_message: Callable[[Message, BookSync | None], None] | None = None,
        on_event: Callable[[SyncEvent], None] | None = None,
    ) -> None:
        _require_extra()
        if overflow not in ("block", "drop"):
            raise ValueError(f"overflow must be 'block' or 'drop', not {overflow!r}")
        ws_urls, rest_urls = dict(ws_urls or {}), dict(rest_urls or {})
        unknown = (set(ws_urls) | set(rest_urls)) - set(subscriptions)
        if unknown:
            raise ValueError(f"URL override for a venue not subscribed: {', '.join(sorted(unknown))}")
        self._ssl = _ssl_context(ca_file)
        self.overflow = overflow
        self.ping_interval_s, self.ping_timeout_s = ping_interval_s, ping_timeout_s
        self.open_timeout_s, self.rest_timeout_s = open_timeout_s, rest_timeout_s
        self.resync_timeout_s = resync_timeout_s
        self._on_message, self._on_event = on_message, on_event
        self.connections: dict[str, _Connection] = {}
        for i, (venue, symbols) in enumerate(subscriptions.items()):
            spec = spec_for(venue)
            rec = None
            if record_dir is not None:
                rec = CaptureWriter(record_dir, venue, **dict(recorder_options or {}))  # type: ignore[arg-type]
            backoff = Backoff(backoff_base_s, backoff_cap_s, None if seed is None else seed + i)
            self.connections[venue] = _Connection(
                spec, symbols, spec.ws_endpoint(symbols, ws_urls.get(venue)), ws_urls.get(venue),
                rest_urls.get(venue), rec, backoff, snapshot_min_interval_s)
        self._queue: asyncio.Queue[tuple[_Connection, CaptureRecord]] = asyncio.Queue(queue_size)
        self._out: deque[Item] = deque()
        self._tasks: list[asyncio.Task[None]] = []
        self._http: httpx.AsyncClient | None = None
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        import httpx

        self._http = httpx.AsyncClient(verify=self._ssl, timeout=self.rest_timeout_s)
        for conn in self.connections.values():
            self._tasks.append(asyncio.create_task(self._run(conn), name=f"live-{conn.venue}"))

    async def close(self) -> None:
        """Stops every task, closes sockets, flushes recordings. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        if self._http is not None:
            await self._http.aclose()
        for conn in self.connections.values():
            if conn.recorder is not None:
                conn.recorder.close()

    async def __aenter__(self) -> LiveFeed:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- views -------------------------------------------------------------------------

    def sync(self, venue: str, symbol: str) -> BookSync | None:
        return self.connections[venue].replay.syncs.get(symbol)

    def book(self, venue: str, symbol: str) -> L2Book:
        """The synced book; raises BookNotSynced (or KeyError before its first message)."""
        sync = self.sync(venue, symbol)
        if sync is None:
            raise KeyError(f"{venue} {symbol}: no message yet")
        return sync.view()

    def recordings(self) -> dict[str, list[Path]]:
        return {v: list(c.recorder.stats.files) for v, c in self.connections.items() if c.recorder}

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    # -- consumer ----------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Item]:
        return self

    async def __anext__(self) -> Item:
        while not self._out:
            if self._closed:
                raise StopAsyncIteration
            conn, item = await self._queue.get()
            self._process(conn, item)
        return self._out.popleft()

    async def run(self) -> None:
        """Consumes until cancelled or closed; callbacks see everything."""
        async for _ in self:
            pass

    def _emit_events(self, events: Sequence[SyncEvent]) -> None:
        for ev in events:
            self._out.append(ev)
            if self._on_event:
                self._on_event(ev)

    def _status(self, conn: _Connection, ts_ns: int, text: str, error: bool = False,
                symbol: str | None = None) -> None:
        st = Status(conn.venue, symbol, text, ts_ns, error)
        self._out.append(st)
        if self._on_message:
            self._on_message(st, None)

    def _process(self, conn: _Connection, item: CaptureRecord) -> None:
        if conn.dropped_for:
            self._resync_dropped(conn, item.recv_ns)
        if item.kind is RecordKind.CONNECT or item.kind is RecordKind.CLOSE:
            self._on_connection(conn, item)
            return
        replay = conn.replay
        errors_before = len(replay.parse_errors)
        msgs = replay.feed(item)
        for err in replay.parse_errors[errors_before:]:
            self._status(conn, item.recv_ns, f"parse error: {err}", error=True)
        self._emit_events(conn.events)
        conn.events.clear()
        touched: set[str] = set()
        for m in msgs:
            self._out.append(m)
            sync = replay.syncs.get(m.symbol) if m.symbol else None
            if self._on_message:
                self._on_message(m, sync)
            if isinstance(m, BookMessage):
                touched.add(m.symbol)
                if m.kind is Kind.SNAPSHOT:
                    conn.pending.pop(m.symbol, None)
        if item.kind is RecordKind.REST:
            # Answered, even if unusable (a parse error): the book's next message asks again.
            for symbol in [s for s in conn.pending if conn.spec.snapshot_path is not None
                           and conn.spec.snapshot_url(s, conn.rest_url) == item.url]:
                conn.pending.pop(symbol)
            for m in msgs:
                if m.symbol:
                    conn.pending.pop(m.symbol, None)
        for symbol in touched:
            self._maybe_resync(conn, symbol)

    def _on_connection(self, conn: _Connection, rec: CaptureRecord) -> None:
        """Fed to the replay as a recording's replay feeds it: the same resyncs."""
        if rec.kind is RecordKind.CONNECT:
            self._status(conn, rec.recv_ns, f"connected {rec.url}")
        else:
            self._status(conn, rec.recv_ns, f"disconnected: {rec.payload.decode()}", error=True)
            conn.pending.clear()
        conn.replay.feed(rec)
        self._emit_events(conn.events)
        conn.events.clear()

    def _resync_dropped(self, conn: _Connection, ts_ns: int) -> None:
        names = conn.dropped_for
        conn.dropped_for = set()
        targets = conn.replay.syncs if _ALL in names else {
            s: conn.replay.syncs[s] for s in names if s in conn.replay.syncs}
        for symbol, sync in targets.items():
            self._status(conn, ts_ns, "frame dropped (slow consumer): resync", True, symbol)
            self._emit_events(sync.reconnect(ts_ns))
            conn.pending.pop(symbol, None)
            self._maybe_resync(conn, symbol)

    def _maybe_resync(self, conn: _Connection, symbol: str) -> None:
        sync = conn.replay.syncs.get(symbol)
        request = sync.resync_request if sync is not None else None
        since = conn.pending.get(symbol)
        if request is None or self._closed or (
                since is not None and time.monotonic() - since < self.resync_timeout_s):
            return
        conn.pending[symbol] = time.monotonic()  # a resync unanswered this long is asked again
        if request == "rest_snapshot":
            self._spawn(self._fetch_snapshot(conn, symbol), f"snapshot-{conn.venue}-{symbol}")
        else:
            self._spawn(self._resubscribe(conn, symbol), f"resubscribe-{conn.venue}-{symbol}")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    # -- producers ---------------------------------------------------------------------

    async def _enqueue(self, conn: _Connection, item: CaptureRecord, *, droppable: bool) -> None:
        if droppable and self.overflow == "drop" and self._queue.full():
            conn.stats.dropped += 1
            conn.dropped_for.add(conn.spec.route(item.payload) or _ALL)
            return
        await self._queue.put((conn, item))

    async def _send(self, conn: _Connection, ws: ClientConnection, data: bytes) -> None:
        if conn.recorder is not None:
            conn.recorder.sent(time.time_ns(), data)
        conn.stats.sent += 1
        await ws.send(data.decode())

    async def _record(self, conn: _Connection, rec: CaptureRecord) -> None:
        """Writes a connection record and hands it to the consumer, in stream order."""
        async with conn.lock:
            if conn.recorder is not None:
                if rec.kind is RecordKind.CONNECT:
                    conn.recorder.connect(rec.recv_ns, rec.url or "")
                else:
                    conn.recorder.close_connection(rec.recv_ns, rec.payload.decode())
            await self._enqueue(conn, rec, droppable=False)

    async def _endpoint(self, conn: _Connection) -> str:
        """The URL to connect to; venues that hand out tokens are asked for one first."""
        spec = conn.spec
        if spec.token_path is None or spec.token_endpoint is None:
            return conn.ws_url
        assert self._http is not None, "started"
        url = (conn.rest_url or spec.rest_url or "").rstrip("/") + spec.token_path
        resp = await self._http.post(url)
        if resp.status_code != 200:
            raise OSError(f"POST {url}: HTTP {resp.status_code}")
        return spec.token_endpoint(resp.content, conn.ws_override, conn.stats.connects + 1)

    async def _run(self, conn: _Connection) -> None:
        import httpx
        import websockets

        while True:
            detail = "closed"
            try:
                url = await self._endpoint(conn)
                async with websockets.connect(
                    url, ssl=self._ssl if url.startswith("wss:") else None,
                    ping_interval=self.ping_interval_s, ping_timeout=self.ping_timeout_s,
                    open_timeout=self.open_timeout_s, max_size=None, compression=None,
                    close_timeout=1.0,
                ) as ws:
                    await self._session(conn, ws, url)
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, ValueError, httpx.HTTPError,
                    websockets.exceptions.WebSocketException) as exc:
                detail = f"{type(exc).__name__}: {exc}"
            conn.stats.disconnects += 1
            conn.stats.last_error = detail
            was_open, conn.ws = conn.ws is not None, None
            if was_open:
                await self._record(conn, CaptureRecord(time.time_ns(), RecordKind.CLOSE,
                                                       " ".join(detail.split()).encode()))
            delay = conn.backoff.next_delay_s()
            conn.stats.backoff_delays_s.append(delay)
            await asyncio.sleep(delay)

    async def _session(self, conn: _Connection, ws: ClientConnection, url: str) -> None:
        conn.ws = ws
        conn.stats.connects += 1
        # A token is a credential of its own: the recording names the server only.
        shown = url.partition("?")[0] if conn.spec.token_path else url
        await self._record(conn, CaptureRecord(time.time_ns(), RecordKind.CONNECT, b"", shown))
        for data in conn.spec.subscribe(conn.symbols):
            await self._send(conn, ws, data)
        pinger = None
        if conn.spec.app_ping and conn.spec.app_ping_interval_s > 0:
            pinger = asyncio.create_task(self._app_ping(conn, ws))
        try:
            first = True
            while True:
                frame = await ws.recv(decode=False)
                recv_ns = time.time_ns()
                data = frame if isinstance(frame, bytes) else frame.encode()
                if first:
                    conn.backoff.reset()  # the venue answered: the next failure starts over
                    first = False
                conn.stats.frames += 1
                async with conn.lock:
                    if conn.recorder is not None:
                        conn.recorder.frame(recv_ns, data)
                    await self._enqueue(conn, CaptureRecord(recv_ns, RecordKind.FRAME, data),
                                        droppable=True)
                answer = conn.spec.reply(data)
                if answer is not None:
                    await self._send(conn, ws, answer)
        finally:
            if pinger is not None:
                pinger.cancel()

    async def _app_ping(self, conn: _Connection, ws: ClientConnection) -> None:
        assert conn.spec.app_ping is not None
        while True:
            await asyncio.sleep(conn.spec.app_ping_interval_s)
            await self._send(conn, ws, conn.spec.app_ping)

    async def _fetch_snapshot(self, conn: _Connection, symbol: str) -> None:
        import httpx

        await conn.limiter.acquire()
        url = conn.spec.snapshot_url(symbol, conn.rest_url)
        assert self._http is not None, "started"
        try:
            resp = await self._http.get(url)
        except httpx.HTTPError as exc:
            conn.stats.rest_failures += 1
            conn.stats.last_error = f"GET {url}: {type(exc).__name__}: {exc}"
            conn.pending.pop(symbol, None)  # the next message of the book asks again
            return
        recv_ns = time.time_ns()
        if resp.status_code != 200:
            # An error body is no snapshot: not recorded, so the replay never parses it.
            conn.stats.rest_failures += 1
            conn.stats.last_error = f"GET {url}: HTTP {resp.status_code}"
            conn.pending.pop(symbol, None)
            return
        conn.stats.rest_snapshots += 1
        async with conn.lock:
            if conn.recorder is not None:
                conn.recorder.rest(recv_ns, url, resp.content)
            await self._enqueue(conn, CaptureRecord(recv_ns, RecordKind.REST, resp.content, url),
                                droppable=False)

    async def _resubscribe(self, conn: _Connection, symbol: str) -> None:
        ws = conn.ws
        if ws is None:
            conn.pending.pop(symbol, None)  # the reconnect subscribes afresh
            return
        conn.stats.resubscribes += 1
        unsubscribe = conn.spec.unsubscribe_channel
        channel_id = getattr(conn.replay.parser, "channel_id", None)
        chan = channel_id("book", symbol) if unsubscribe and channel_id else None
        if unsubscribe is not None and chan is not None:
            await self._send(conn, ws, unsubscribe(chan))
        for data in conn.spec.resubscribe([symbol]):
            await self._send(conn, ws, data)
