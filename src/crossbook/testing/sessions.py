"""Per-connection conversation of the venue simulator: what it says on connect, how it
answers a client's requests, and what becomes of each captured frame on the way out.

Most venues need nothing of it beyond answering a book subscribe with a snapshot
(``PlainSession``). Bitfinex (``BitfinexSession``) numbers every channel frame per
connection (conf flag SEQ_ALL), names channels by ids its acks hand out, sends only
the channels subscribed on the connection, unsubscribes by channel id, and sends a
checksum frame after each book update when the client asked for them (flag 131072).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from crossbook._side import Side
from crossbook.replay import Replay
from crossbook.sync import BookSync

if TYPE_CHECKING:
    from crossbook.testing.venue_speech import Speech

__all__ = ["BitfinexSession", "PlainSession", "Session"]


class Session(Protocol):
    #: Whether the connection numbers frames its own way, so that a client's book ids
    #: are not the truth's (Bitfinex SEQ_ALL: per connection).
    renumbers: bool

    def greeting(self) -> list[bytes]:
        """Frames sent as the connection opens, before anything else."""
        ...

    def answer(self, request: bytes) -> list[bytes]:
        """Frames owed to a client's request, sent before the next captured frame."""
        ...

    def outgoing(self, frame: bytes) -> list[bytes]:
        """What a captured frame becomes on this connection (possibly nothing)."""
        ...


class PlainSession:
    """Frames go out as captured; a stream-snapshot venue answers each book subscribe
    with a snapshot of its truth (the capture holds the first ones)."""

    renumbers = False

    def __init__(self, speech: Speech, truth: Replay) -> None:
        self.speech, self.truth = speech, truth

    def greeting(self) -> list[bytes]:
        return []

    def answer(self, request: bytes) -> list[bytes]:
        render = self.speech.render_snapshot
        if render is None:
            return []
        try:
            obj = json.loads(request)
        except ValueError:
            return []
        out = []
        for symbol in self.speech.subscribed(obj):
            sync = self.truth.syncs.get(symbol)
            if sync is not None and sync.synced:
                out.append(render(symbol, sync))
        return out

    def outgoing(self, frame: bytes) -> list[bytes]:
        return [frame]


_SEQ_ALL, _CHECKSUM = 65536, 131072
_TRAILING_SEQ = re.compile(rb",\d+\]$")
_CRC_LEVELS = 25


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class BitfinexSession:
    """One Bitfinex v2 connection. Channel ids are the capture's (the truth's parser
    knows them from the capture's acks); a book subscribed after its capture ack went
    by is answered with an ack and a snapshot rendered from the truth."""

    renumbers = True

    def __init__(self, speech: Speech, truth: Replay) -> None:
        self.truth = truth
        self.flags = 0
        self.seq = 0
        self.wanted: set[str] = set()  # book symbols subscribed, ack not yet sent
        self.open: set[int] = set()  # channel ids acknowledged on this connection

    def greeting(self) -> list[bytes]:
        return [_dumps({"event": "info", "version": 2, "serverId": "crossbook-simulator",
                        "platform": {"status": 1}})]

    def _parser_chan(self, symbol: str) -> int | None:
        chan_id: Callable[[str, str], int | None] = getattr(self.truth.parser, "channel_id")
        return chan_id("book", symbol)

    def answer(self, request: bytes) -> list[bytes]:
        try:
            obj = json.loads(request)
        except ValueError:
            return []
        if not isinstance(obj, dict):
            return []
        event = obj.get("event")
        if event == "conf" and isinstance(obj.get("flags"), int):
            self.flags = obj["flags"]
            return [_dumps({"event": "conf", "status": "OK", "flags": self.flags})]
        if event == "unsubscribe" and obj.get("chanId") in self.open:
            self.open.discard(obj["chanId"])
            return [_dumps({"event": "unsubscribed", "status": "OK", "chanId": obj["chanId"]})]
        if event == "subscribe" and obj.get("channel") == "book" and isinstance(obj.get("symbol"), str):
            return self._subscribe(obj["symbol"])
        return []

    def _subscribe(self, symbol: str) -> list[bytes]:
        sync = self.truth.syncs.get(symbol)
        chan = self._parser_chan(symbol)
        if chan in self.open:  # as Bitfinex: a channel is unsubscribed before it is subscribed again
            return [_dumps({"event": "error", "msg": "subscribe: dup", "code": 10301,
                            "channel": "book", "symbol": symbol})]
        if chan is None or sync is None or not sync.synced:
            self.wanted.add(symbol)  # the capture's own ack and snapshot will come
            return []
        self.open.add(chan)
        ack = _dumps({"event": "subscribed", "channel": "book", "chanId": chan, "symbol": symbol,
                      "prec": "P0", "freq": "F0", "pair": symbol[1:],
                      # the truth's book depth (the capture's), whatever the client asked
                      "len": str(self.truth.parser.depth_limit(symbol))})
        return [ack, self._numbered(chan, _snapshot_rows(sync))]

    def _numbered(self, chan: int, body: str) -> bytes:
        """A channel frame with this connection's next number, when numbers are on."""
        if not self.flags & _SEQ_ALL:
            return f"[{chan},{body}]".encode()
        self.seq += 1
        return f"[{chan},{body},{self.seq}]".encode()

    def outgoing(self, frame: bytes) -> list[bytes]:
        if frame.startswith(b"{"):
            return self._event(frame)
        chan_text = frame[1:frame.find(b",")]
        if not chan_text.isdigit() or int(chan_text) not in self.open:
            return []
        chan = int(chan_text)
        body = _TRAILING_SEQ.sub(b"]", frame)[len(chan_text) + 2:-1].decode()
        out = [self._numbered(chan, body)]
        channel_of: Callable[[int], tuple[str, str] | None] = getattr(self.truth.parser, "channel_of")
        info = channel_of(chan)
        is_update = body.startswith("[") and not body.startswith("[[")
        if self.flags & _CHECKSUM and info is not None and info[0] == "book" and is_update:
            sync = self.truth.syncs.get(info[1])
            if sync is not None and sync.synced:
                out.append(self._numbered(chan, f'"cs",{_checksum(sync)}'))
        return out

    def _event(self, frame: bytes) -> list[bytes]:
        """The capture's own events: its info and conf answer were its connection's, not
        this one's; an ack goes out if this connection asked for that book."""
        try:
            obj = json.loads(frame)
        except ValueError:
            return []
        symbol = obj.get("symbol") if isinstance(obj, dict) else None
        if obj.get("event") == "subscribed" and obj.get("channel") == "book" and symbol in self.wanted:
            self.wanted.discard(symbol)
            self.open.add(obj["chanId"])
            return [frame]
        return []


def _snapshot_rows(sync: BookSync) -> str:
    from crossbook.venues.bitfinex import js_number

    book = sync.book
    rows = []
    for side, sign in ((Side.BID, ""), (Side.ASK, "-")):
        for r in book.levels(int(side)):
            rows.append(f"[{js_number(int(r['price']), book.price_exp)},{max(int(r['count']), 1)},"
                        f"{sign}{js_number(int(r['size']), book.size_exp)}]")
    return "[" + ",".join(rows) + "]"


def _checksum(sync: BookSync) -> int:
    from crossbook.venues.bitfinex import bitfinex_checksum_text

    crc = zlib.crc32(bitfinex_checksum_text(sync.book).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc
