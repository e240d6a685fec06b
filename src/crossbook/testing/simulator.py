"""A venue on 127.0.0.1: websocket and REST, replaying a recorded capture, with faults.

The simulator plays a capture's frames (at the recorded pace times ``speed``,
or as fast as the client reads when ``speed`` is None) to whoever subscribes,
and keeps the venue's truth: the capture's records fed through crossbook's own
parser and BookSync, including every frame it withheld or skipped. REST
snapshot requests are answered from that truth at the moment they arrive, in the
venue's own format. Every byte it sends is logged (``sent``) so a test can
compare a client's recording with it.

Faults (``Faults``), by frame index in the played stream:

- ``disconnect_at``: close the connection before these frames; ``skip_on_disconnect``
  frames then pass by (fed to the truth, sent to no one), as a real outage would;
- ``drop_at``: never send the frame (a sequence gap);
- ``duplicate_at``: send the frame twice;
- ``corrupt_checksum_at``: send the frame with its checksum changed;
- ``hang_at``: stop sending and stop reading (so no pong answers a ping) until the
  client gives up and reconnects;
- ``stale_snapshots``: the first N REST snapshots of each book are the one taken
  at the start (older than the stream by the time they are served).

Supported venues (``venue_speech.SPEECH``): the Binance family, Gate.io and KuCoin
(REST snapshots rendered from the truth; KuCoin's bullet-public token POST names
this server), OKX, Deribit, Bitget and Bitfinex (stream snapshots: the capture's
own, then rendered from the truth on every later subscribe; Bitfinex's per-connection
numbering, channel ids and checksums are ``sessions.BitfinexSession``) and venues
whose every book message is a full snapshot (Hyperliquid).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from crossbook import L2Book
from crossbook.io.capture import CaptureRecord, RecordKind, read_capture
from crossbook.replay import Replay
from crossbook.testing.sessions import Session
from crossbook.testing.venue_speech import SPEECH, book_rows
from crossbook.timeutil import NS_PER_S
from crossbook.venues.registry import make_parser

if TYPE_CHECKING:
    from websockets.asyncio.server import Server, ServerConnection
    from websockets.http11 import Request, Response

__all__ = ["Faults", "SentRecord", "VenueSimulator", "book_rows", "corrupt_checksum", "played"]

_TOKEN = "simulated-bullet-token"

_YIELD_EVERY = 64  # frames sent between yields to the loop when not paced


@dataclass(slots=True)
class Faults:
    disconnect_at: set[int] = field(default_factory=set)
    skip_on_disconnect: int = 5
    drop_at: set[int] = field(default_factory=set)
    duplicate_at: set[int] = field(default_factory=set)
    corrupt_checksum_at: set[int] = field(default_factory=set)
    hang_at: set[int] = field(default_factory=set)
    stale_snapshots: int = 0


@dataclass(frozen=True, slots=True)
class SentRecord:
    """What the simulator put on the wire: a frame, or a REST body with its URL path."""

    kind: RecordKind
    payload: bytes
    path: str | None = None


class VenueSimulator:
    """``async with VenueSimulator("binance", capture) as sim:`` then point a client at
    ``sim.ws_url`` and ``sim.rest_url``."""

    def __init__(self, venue: str, capture: str | Path | Iterable[CaptureRecord], *,
                 speed: float | None = None, faults: Faults | None = None,
                 ssl_context: ssl.SSLContext | None = None, max_frames: int | None = None,
                 hang_timeout_s: float = 10.0, preroll_rest: int = 1,
                 gate_at: int | None = None) -> None:
        if venue not in SPEECH:
            raise ValueError(f"the simulator does not speak {venue!r} yet; it speaks "
                             f"{', '.join(sorted(SPEECH))}")
        self.venue = venue
        self.speech = SPEECH[venue]
        self.speed = speed
        self.faults = faults or Faults()
        self.ssl_context = ssl_context
        self.hang_timeout_s = hang_timeout_s
        self.truth = Replay(make_parser(venue))
        records = read_capture(capture) if isinstance(capture, (str, Path)) else capture
        self.frames = self._preroll(iter(records), max_frames, preroll_rest)
        self.pos = 0
        self.sent: list[SentRecord] = []
        self.received: list[bytes] = []
        self.connections = 0
        self.snapshots_served = 0
        self._served: dict[str, int] = {}  # REST snapshots served, by book
        self.tokens_served = 0
        self.done = asyncio.Event()
        #: Play stops before this frame until ``release()``: a test holds the stream
        #: there until its client is in sync, so a fault lands on a synced book.
        self.gate_at = gate_at
        self._gate = asyncio.Event()
        self._server: Server | None = None
        self._stale_bodies: dict[str, bytes] = {}
        self._new_conn = asyncio.Event()
        self._handlers: set[asyncio.Task[None]] = set()
        self._inject: list[bytes] = []  # answers owed to requests, sent before the next frame
        self._session: Session = self.speech.session(self.speech, self.truth)
        self._port = 0

    def _preroll(self, records: Iterable[CaptureRecord], max_frames: int | None,
                 preroll_rest: int) -> list[CaptureRecord]:
        """Feeds the truth up to the capture's ``preroll_rest``-th REST snapshot (the
        venue's history before the client came); the frames after it are played."""
        frames: list[CaptureRecord] = []
        rolling = self.speech.start == "rest"
        for rec in records:
            if rolling:
                self.truth.feed(rec)
                preroll_rest -= rec.kind is RecordKind.REST
                rolling = preroll_rest > 0
            elif rec.kind is RecordKind.FRAME:
                frames.append(rec)
                if max_frames is not None and len(frames) >= max_frames:
                    break
        if rolling:
            raise ValueError(f"{self.venue} capture has no REST snapshot to start the truth from")
        return frames

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> VenueSimulator:
        from websockets.asyncio.server import serve

        self._server = await serve(self._handler, "127.0.0.1", 0, ssl=self.ssl_context,
                                   process_request=self._process_request, compression=None,
                                   ping_interval=None, max_size=None)
        sock = next(iter(self._server.sockets))
        self._port = sock.getsockname()[1]
        if self.speech.start == "rest":
            self._stale_bodies = {s: self._snapshot_body(s) for s, sync in self.truth.syncs.items()
                                  if sync.synced}
        return self

    async def close(self) -> None:
        """Stops the server; handlers waiting (gate, hang, idle) are cancelled."""
        for task in list(self._handlers):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> VenueSimulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def ws_url(self) -> str:
        scheme = "wss" if self.ssl_context else "ws"
        return f"{scheme}://127.0.0.1:{self._port}/stream"

    @property
    def rest_url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self._port}"

    @property
    def ids_comparable(self) -> bool:
        """Whether a client's book ids can be compared with the truth's (not when the
        venue numbers each connection's frames afresh)."""
        return not self._session.renumbers

    def release(self) -> None:
        self._gate.set()

    def truth_book(self, symbol: str) -> L2Book:
        return self.truth.syncs[symbol].view()

    # -- REST --------------------------------------------------------------------------

    def _snapshot_body(self, symbol: str) -> bytes:
        assert self.speech.render_rest is not None
        return self.speech.render_rest(symbol, self.truth.syncs[symbol])

    def _token_body(self) -> bytes:
        """KuCoin's bullet-public answer, naming this server."""
        server = {"endpoint": self.ws_url, "encrypt": self.ssl_context is not None,
                  "protocol": "websocket", "pingInterval": 18000, "pingTimeout": 10000}
        return json.dumps({"code": "200000", "data": {"token": _TOKEN, "instanceServers": [server]}},
                          separators=(",", ":")).encode()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        headers = request.headers
        if headers.get("Upgrade", "").lower() == "websocket":
            return None
        parts = urlsplit(request.path)
        if parts.path == self.speech.token_path:
            self.tokens_served += 1
            return self._json(connection, self._token_body())
        symbol = parse_qs(parts.query).get(self.speech.rest_symbol, [""])[0]
        sync = self.truth.syncs.get(symbol)
        if parts.path != self.speech.rest_path or sync is None or not sync.synced:
            return connection.respond(404, '{"code":-1121,"msg":"Invalid symbol."}')
        served = self._served.get(symbol, 0)
        self._served[symbol] = served + 1
        if served < self.faults.stale_snapshots and symbol in self._stale_bodies:
            body = self._stale_bodies[symbol]
        else:
            body = self._snapshot_body(symbol)
        self.snapshots_served += 1
        self.sent.append(SentRecord(RecordKind.REST, body, request.path))
        return self._json(connection, body)

    @staticmethod
    def _json(connection: ServerConnection, body: bytes) -> Response:
        response = connection.respond(200, body.decode())
        response.headers["Content-Type"] = "application/json"
        return response

    # -- websocket ---------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        me = asyncio.current_task()
        assert me is not None
        self._handlers.add(me)
        me.add_done_callback(self._handlers.discard)
        self.connections += 1
        self._new_conn.set()
        self._new_conn = asyncio.Event()
        self._session = self.speech.session(self.speech, self.truth)
        self._inject = self._session.greeting()  # what the last connection was owed is void
        seen = len(self.received)
        reader = asyncio.create_task(self._read(ws))
        try:
            await self._wait_subscribed(seen, reader)
            await self._play(ws)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read(self, ws: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            async for msg in ws:
                data = msg.encode() if isinstance(msg, str) else msg
                self.received.append(data)
                self._inject += self._session.answer(data)

    async def _wait_subscribed(self, seen: int, reader: asyncio.Task[None]) -> None:
        while len(self.received) <= seen and not reader.done():
            await asyncio.sleep(0.001)

    def _advance(self, n: int) -> None:
        """Frames that pass while nobody hears them: the venue's book moves on."""
        for _ in range(n):
            if self.pos >= len(self.frames):
                break
            self.truth.feed(self.frames[self.pos])
            self.pos += 1

    async def _play(self, ws: ServerConnection) -> None:
        f = self.faults
        prev_ns: int | None = None
        while self.pos < len(self.frames):
            i, rec = self.pos, self.frames[self.pos]
            if i == self.gate_at:
                await self._gate.wait()
            if i in f.disconnect_at:
                f.disconnect_at.discard(i)
                self._advance(f.skip_on_disconnect)
                await ws.close(1012, "simulated restart")
                return
            if i in f.hang_at:
                f.hang_at.discard(i)
                await self._hang(ws)
                return
            if self.speed and prev_ns is not None and rec.recv_ns > prev_ns:
                await asyncio.sleep((rec.recv_ns - prev_ns) / NS_PER_S / self.speed)
            elif i % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
            await self._send_owed(ws)
            prev_ns = rec.recv_ns
            self.truth.feed(rec)
            self.pos += 1
            out = self._session.outgoing(rec.payload)  # numbers are used even by a lost frame
            if i in f.drop_at:
                continue
            if i in f.corrupt_checksum_at:
                at = next(k for k, p in enumerate(out) if _has_checksum(p))
                out[at] = corrupt_checksum(out[at])
            for payload in out:
                for _ in range(2 if i in f.duplicate_at else 1):
                    self.sent.append(SentRecord(RecordKind.FRAME, payload))
                    await ws.send(payload.decode())
        self.done.set()
        while ws.state.name == "OPEN":  # the stream is over; subscribes are still answered
            await self._send_owed(ws)
            await asyncio.sleep(0.005)

    async def _send_owed(self, ws: ServerConnection) -> None:
        while self._inject:
            snap = self._inject.pop(0)
            self.sent.append(SentRecord(RecordKind.FRAME, snap))
            await ws.send(snap.decode())

    async def _hang(self, ws: ServerConnection) -> None:
        """Neither sends nor reads (pings go unanswered) until the client reconnects."""
        transport = ws.transport
        transport.pause_reading()
        new_conn = self._new_conn
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(new_conn.wait(), self.hang_timeout_s)
        transport.abort()


_CHECKSUM_KEYS = (b'"checksum":', b'"cs",')


def _has_checksum(frame: bytes) -> bool:
    return any(k in frame for k in _CHECKSUM_KEYS)


def corrupt_checksum(frame: bytes) -> bytes:
    """The frame with its checksum field's value changed (its last digit bumped)."""
    for key in _CHECKSUM_KEYS:
        at = frame.find(key)
        if at >= 0:
            end = at + len(key)
            while end < len(frame) and frame[end:end + 1] in b"-0123456789":
                end += 1
            digit = frame[end - 1] - ord("0")
            return frame[:end - 1] + str((digit + 1) % 10).encode() + frame[end:]
    raise ValueError("frame carries no checksum to corrupt")


def played(sim: VenueSimulator, kinds: Sequence[RecordKind] = (RecordKind.FRAME, RecordKind.REST)) -> list[bytes]:
    return [s.payload for s in sim.sent if s.kind in kinds]
