"""Bitfinex WebSocket v2 (``wss://api-pub.bitfinex.com/ws/2``): book (P0-P4), trades, ticker.

Frames are arrays keyed by a channel id that only the subscribe ack maps to a
symbol, so the parser keeps that map (the one piece of connection state it
needs). Numbers are JSON numbers, decoded from their own text, never a float.

Book rows are ``[PRICE, COUNT, AMOUNT]``: AMOUNT > 0 is a bid, < 0 an ask;
COUNT 0 deletes the level (AMOUNT then is 1 or -1 to name the side).

Sequencing (conf flag 65536, SEQ_ALL): every frame ends with a sequence number
that runs +1 across the whole connection, heartbeats included. A frame lost
on any channel could have been a book update, so a jump stops every book of
the connection: the parser reports it (Status) and sends each book a probe, an
empty delta whose ``prev_seq`` can chain onto nothing, so BookSync declares the
gap there and then. Each book message carries ``conn_seq`` = ``last_seq`` = the
frame's number and ``prev_seq`` = the number of the previous frame of the same
channel, which SeqAllRule chains; a number at or below the last one seen is a
duplicate or late frame and is dropped as stale.

Checksums (conf flag 131072): ``[CHAN, "cs", CHECKSUM]`` is a signed CRC32 of
``bid price:bid amount:ask price:-ask amount:...`` over the top 25 levels of
each side, interleaved, numbers written as JavaScript's ``String(number)``
(``2e-7``, not ``0.0000002``). The checksum is stored as its unsigned value.
Verification builds that text in Cython (:func:`crossbook._checksum.bitfinex_bytes`);
:func:`bitfinex_text` is its plain-Python twin.

Exponents: given as an ``Instrument``, else 8 for prices and amounts (or more
if the wire shows more): Bitfinex quotes at most 8 decimals, and a JSON number
drops its padding, so no single frame shows a pair's precision. Exponent 8
holds every value exactly whichever frame of the pair comes first; an
Instrument with the pair's own precision makes the core's ladder denser.

Raw samples (bitfinex_book_p0.cap.gz, 2021-04-17, conf flags 65536)::

    {"event":"info","version":2,"serverId":"083bd8d4-...","platform":{"status":1}}
    {"event":"conf","status":"OK","flags":65536}
    {"event":"subscribed","channel":"book","chanId":225206,"symbol":"tDOGUSD","prec":"P0",
     "freq":"F0","len":"100","pair":"DOGUSD"}
    [225206,[[277520,1,0.00383141],[277510,1,0.027],...,[400000,14,-0.293614]],16]
    [225206,[215350,0,1],18]
    [225206,[279380,1,0.0089],19]
    [225206,"hb",139]
    [225206,"cs",-1582707309,140]
    [232949,[0.068965,60157.36709703,0.0774,48578.50804052,0.001969,0.0262,0.076989,...],1]
    [232959,[[669899159,1618665870435,166.391496,0.076989],...],8]
    [232959,"te",[669899160,1618665870500,-10.5,0.076985],200]
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt

from crossbook import L2Book
from crossbook._checksum import bitfinex_bytes
from crossbook._side import Side
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import (
    EMPTY_LEVELS,
    BookMessage,
    Drop,
    Instrument,
    Kind,
    Message,
    Quote,
    Status,
    Trade,
)
from crossbook.sync_rules import Verdict
from crossbook.timeutil import NS_PER_MS
from crossbook.venues._jsonnum import (
    decimals,
    decoder,
    is_number,
    level_array,
    mantissa,
    max_decimals,
)
from crossbook.venues.base import DECODE_ERRORS, ChecksumFn, ParseError, VenueBase, digits_int

__all__ = [
    "PARSERS",
    "Bitfinex",
    "SeqAllRule",
    "bitfinex_checksum",
    "bitfinex_checksum_text",
    "bitfinex_text",
    "js_number",
    "raw_book_checksum",
    "sniff",
]

#: conf flags a client sends (``{"event":"conf","flags":SEQ_ALL | CHECKSUM_FLAG}``) to get
#: what this parser checks. TIMESTAMP (32768) is not supported: its extra element is refused.
SEQ_ALL = 65536
CHECKSUM_FLAG = 131072
CHECKSUM_ALG = "bitfinex_crc32_top25"
DEFAULT_EXP = 8
_CRC_LEVELS = 25
_NO_CHAIN = -1  # prev_seq of a probe: chains onto no real sequence number
_I32 = 1 << 31


# -- checksums ------------------------------------------------------------------------


def js_number(mantissa_: int, exp: int) -> str:
    """``mantissa * 10**-exp`` as JavaScript's ``String(number)`` writes it.

    Bitfinex renders the double it holds; the wire text is that double's
    shortest form, so the exact decimal we parsed has the same digits. Plain
    notation for 1e-6 <= |x| < 1e21, else ``d.ddde-7`` (ECMA-262 Number::toString).
    """
    if mantissa_ == 0:
        return "0"
    sign = "-" if mantissa_ < 0 else ""
    full = str(abs(mantissa_))
    digits = full.rstrip("0")
    k = len(digits)
    n = k - (exp - (len(full) - k))  # value = 0.<digits> * 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        mant = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{mant}e{'+' if e > 0 else '-'}{abs(e)}"
    return sign + text


def _interleave(bids: Sequence[tuple[str, str]], asks: Sequence[tuple[str, str]]) -> str:
    parts: list[str] = []
    for i in range(max(len(bids), len(asks))):
        if i < len(bids):
            parts += bids[i]
        if i < len(asks):
            parts += asks[i]
    return ":".join(parts)


def bitfinex_text(bids: npt.NDArray[np.void], asks: npt.NDArray[np.void], price_exp: int,
                  size_exp: int, depth: int = _CRC_LEVELS) -> str:
    """Plain-Python twin of :func:`crossbook._checksum.bitfinex_bytes` (test oracle,
    benchmark baseline): the checksum input of best-first DEPTH arrays."""
    pe, se = price_exp, size_exp
    return _interleave(
        [(js_number(int(r["price"]), pe), js_number(int(r["size"]), se)) for r in bids[:depth]],
        [(js_number(int(r["price"]), pe), js_number(-int(r["size"]), se)) for r in asks[:depth]],
    )


def bitfinex_checksum_text(book: L2Book) -> str:
    """The string Bitfinex feeds to CRC32 for a P0-P4 book (asks with negative amounts)."""
    bids, asks = book.depth(_CRC_LEVELS)
    return bitfinex_text(bids, asks, book.price_exp, book.size_exp)


def bitfinex_checksum(book: L2Book, msg: BookMessage) -> bool:
    """ChecksumFn for Bitfinex P-books; ``msg.checksum`` holds the unsigned value."""
    bids, asks = book.depth(_CRC_LEVELS)
    return zlib.crc32(bitfinex_bytes(bids, asks, book.price_exp, book.size_exp)) == msg.checksum


def _signed(crc: int) -> int:
    return crc - (1 << 32) if crc >= _I32 else crc


def raw_book_checksum(bids: Sequence[tuple[int, str]], asks: Sequence[tuple[int, str]]) -> int:
    """Signed checksum of a raw (R0) book: ``order id:amount`` for the top 25
    orders per side, in book order (price, then order id), asks negative.
    Amounts are the venue's decimal text, absolute. R0 books themselves are
    order-level and not kept by this parser; this serves checking that form."""
    def text(v: str, neg: bool) -> str:
        d = Decimal(v)
        m = mantissa(d, decimals(d))
        return js_number(-m if neg else m, decimals(d))

    s = _interleave([(str(i), text(a, False)) for i, a in bids[:_CRC_LEVELS]],
                    [(str(i), text(a, True)) for i, a in asks[:_CRC_LEVELS]])
    return _signed(zlib.crc32(s.encode("ascii")))


# -- sequencing ----------------------------------------------------------------------


class SeqAllRule:
    """SEQ_ALL: a book message applies when its ``prev_seq`` (the previous frame
    of its channel) is the book's last id; at or below that id it is stale;
    anything else is a gap. Without SEQ_ALL (no numbers) everything applies."""

    name: ClassVar[str] = "bitfinex_seq_all"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "stream"

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        return self.next(snapshot_id, msg)

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        if msg.last_seq is None or last_id is None:
            return Verdict.APPLY
        if msg.last_seq <= last_id:
            return Verdict.STALE
        return Verdict.APPLY if msg.prev_seq == last_id else Verdict.GAP


# -- parsing -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Channel:
    channel: str
    symbol: str
    depth: int | None = None
    raw: bool = False


@dataclass(slots=True)
class _BookPart:
    """A book frame's content, before its sequence fields are known."""

    kind: Kind
    levels: npt.NDArray[np.void] = field(default_factory=lambda: EMPTY_LEVELS)
    checksum: int | None = None


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Bitfinex(VenueBase):
    venue: ClassVar[str] = "bitfinex"

    def __init__(self, instruments: Sequence[Instrument] = ()) -> None:
        super().__init__(instruments)
        self._chans: dict[int, _Channel] = {}
        self._conn_last: int | None = None
        self._chan_last: dict[int, int] = {}  # channel id -> number of its last frame

    def sync_rule(self, symbol: str) -> SeqAllRule:
        return SeqAllRule()

    def checksum(self, symbol: str) -> ChecksumFn:
        return bitfinex_checksum

    def depth_limit(self, symbol: str) -> int | None:
        books = (c for c in self._chans.values() if c.channel == "book" and c.symbol == symbol)
        return next((c.depth for c in books), None)

    def channel_id(self, channel: str, symbol: str) -> int | None:
        """The id this connection's ack gave ``channel`` of ``symbol`` (an unsubscribe
        names it), or None when not subscribed."""
        return next((cid for cid, c in self._chans.items()
                     if c.channel == channel and c.symbol == symbol), None)

    def channel_of(self, chan_id: int) -> tuple[str, str] | None:
        """(channel, symbol) of a channel id this connection acknowledged."""
        c = self._chans.get(chan_id)
        return None if c is None else (c.channel, c.symbol)

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            obj = decoder.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed JSON ({exc})", frame) from exc
        try:
            if isinstance(obj, dict):
                return self._event(obj, recv_ns)
            if isinstance(obj, list):
                return self._channel_frame(obj, recv_ns)
        except ParseError as exc:
            raise ParseError(self.venue, exc.reason, frame) from exc
        raise ParseError(self.venue, "expected an event object or a channel array", frame)

    # -- events --------------------------------------------------------------------

    def _event(self, obj: dict[str, object], recv_ns: int) -> list[Message]:
        event = obj.get("event")
        if not isinstance(event, str):
            raise ParseError(self.venue, "object without an event")
        if event == "subscribed":
            return [self._subscribed(obj, recv_ns)]
        if event == "unsubscribed":
            cid = obj.get("chanId")
            ch = self._chans.pop(cid, None) if isinstance(cid, int) else None
            return [Status(self.venue, ch.symbol if ch else None, "unsubscribed", recv_ns)]
        if event == "info" and "version" in obj:
            return self._new_connection(obj, recv_ns)
        code, status = obj.get("code"), obj.get("status")
        if event == "info":
            # 20051: server restarting (reconnect); 20060/20061: maintenance start/end.
            text = f"info {code}: {obj.get('msg')}"
            return [Status(self.venue, None, text, recv_ns, error=code in (20051, 20060))]
        if event == "conf":
            text = f"conf {status} flags={obj.get('flags')}"
            return [Status(self.venue, None, text, recv_ns, error=status != "OK")]
        if event == "error":
            return [Status(self.venue, None, f"error {code}: {obj.get('msg')}", recv_ns, True)]
        return [Status(self.venue, None, event, recv_ns)]  # pong, auth, ...

    def _subscribed(self, obj: dict[str, object], recv_ns: int) -> Status:
        chan_id, channel, symbol = obj.get("chanId"), obj.get("channel"), obj.get("symbol")
        if not (isinstance(chan_id, int) and _int(chan_id) and isinstance(channel, str)):
            raise ParseError(self.venue, "subscribed ack without chanId/channel")
        if not isinstance(symbol, str):
            symbol = str(obj.get("key", ""))  # candles name a key, not a symbol
        depth: int | None = None
        if channel == "book":
            length = obj.get("len", "25")
            text = str(length) if _int(length) or isinstance(length, str) else ""
            depth = digits_int(text)
            if not depth:
                raise ParseError(self.venue, f"bad book len {length!r}")
        self._chans[chan_id] = _Channel(channel, symbol, depth, raw=obj.get("prec") == "R0")
        return Status(self.venue, symbol, f"subscribed {channel} chanId={chan_id}", recv_ns)

    def _new_connection(self, obj: dict[str, object], recv_ns: int) -> list[Message]:
        """An info with a version opens a connection: channel ids and numbers start
        over, and books of the previous connection are void until resubscribed."""
        books = sorted({c.symbol for c in self._chans.values()
                        if c.channel == "book" and self.instruments.get(c.symbol)})
        self._chans.clear()
        self._chan_last.clear()
        self._conn_last = None
        text = f"connected (v{obj.get('version')})"
        out: list[Message] = [Status(self.venue, None, text, recv_ns)]
        out += [BookMessage(self.venue, s, Kind.RESET, EMPTY_LEVELS, recv_ns) for s in books]
        return out

    # -- channel frames ----------------------------------------------------------------

    def _split(self, obj: list[object]) -> tuple[int, str | None, object, int | None]:
        """[CHAN, body(, SEQ)] or [CHAN, tag(, payload)(, SEQ)] -> (chan, tag, payload, seq)."""
        if len(obj) < 2 or not (isinstance(obj[0], int) and _int(obj[0])):
            raise ParseError(self.venue, "channel frame must start with a channel id")
        chan_id, body = obj[0], obj[1]
        tag: str | None = None
        payload: object = body
        if isinstance(body, str):
            tag = body
            if tag == "hb":
                rest = obj[2:]
            elif tag in ("cs", "te", "tu", "fte", "ftu") and len(obj) >= 3:
                payload, rest = obj[2], obj[3:]
            else:
                raise ParseError(self.venue, f"unknown message {tag!r}")
        elif isinstance(body, list):
            rest = obj[2:]
        else:
            raise ParseError(self.venue, f"unexpected body {body!r}")
        seq = rest[0] if len(rest) == 1 else None
        if len(rest) > 1 or (rest and not (isinstance(seq, int) and _int(seq) and seq >= 0)):
            raise ParseError(self.venue, f"bad sequence number in {rest!r}")
        return chan_id, tag, payload, seq  # type: ignore[return-value]

    def _channel_frame(self, obj: list[object], recv_ns: int) -> list[Message]:
        chan_id, tag, payload, seq = self._split(obj)
        ch = self._chans.get(chan_id)
        content = self._content(ch, tag, payload, recv_ns)  # may raise: the frame takes no number
        out, prev, fresh = self._track(chan_id, seq, recv_ns)
        probed = any(isinstance(m, BookMessage) for m in out)
        if ch is None and tag != "hb" and seq is not None and fresh and not probed:
            # The connection's numbers run on, so no book sees a jump, yet this frame's
            # data is lost: a corrupted channel id may have taken it from any book.
            out += self._probes(seq, recv_ns, f"frame {seq} for unknown channel {chan_id}")
        if not isinstance(content, _BookPart):
            return out + content
        assert ch is not None
        if content.kind is Kind.HEARTBEAT and not fresh:
            return out  # a late heartbeat would move the book's id backwards
        out.append(BookMessage(
            self.venue, ch.symbol, content.kind, content.levels, recv_ns,
            last_seq=seq, prev_seq=prev, conn_seq=seq, checksum=content.checksum,
            checksum_alg=CHECKSUM_ALG if content.checksum is not None else None,
            depth_limit=ch.depth if content.kind is not Kind.HEARTBEAT else None))
        return out

    def _track(
        self, chan_id: int, seq: int | None, recv_ns: int
    ) -> tuple[list[Message], int | None, bool]:
        """Connection-wide continuity: what to emit before the frame, the frame's
        prev_seq, and whether the frame is new (False: duplicate or late)."""
        if seq is None:
            return [], None, True
        last = self._conn_last
        if last is not None and seq <= last:
            text = f"sequence {seq} after {last}: duplicate or late frame, dropped as stale"
            return [Status(self.venue, None, text, recv_ns, True, Drop.STALE)], None, False
        out: list[Message] = []
        if last is not None and seq != last + 1:
            text = (f"sequence jumped {last} -> {seq}: {seq - last - 1} frame(s) lost; "
                    "every book of the connection is suspect")
            out.append(Status(self.venue, None, text, recv_ns, error=True))
            out += self._probes(seq, recv_ns, f"connection gap {last} -> {seq}")
        self._conn_last = seq
        prev = self._chan_last.get(chan_id)
        if chan_id in self._chans:
            self._chan_last[chan_id] = seq
        return out, prev, True

    def _probes(self, seq: int, recv_ns: int, why: str) -> list[Message]:
        """An empty delta to each book of the connection that chains onto nothing, so
        that each declares a gap: a frame that could have been any book's is lost."""
        out: list[Message] = []
        for cid, c in self._chans.items():
            known = cid in self._chan_last and self.instruments.get(c.symbol) is not None
            if c.channel != "book" or not known:
                continue  # a book with no snapshot yet has nothing to lose
            out.append(BookMessage(self.venue, c.symbol, Kind.DELTA, EMPTY_LEVELS, recv_ns,
                                   last_seq=seq, prev_seq=_NO_CHAIN, conn_seq=seq,
                                   extra={"probe": why}))
        return out

    def _content(
        self, ch: _Channel | None, tag: str | None, payload: object, recv_ns: int
    ) -> _BookPart | list[Message]:
        if ch is None:
            # A heartbeat can precede its channel's ack; data cannot, so data is lost.
            text = f"frame for an unknown channel ({tag or 'data'})"
            drop = None if tag == "hb" else Drop.UNROUTED
            return [Status(self.venue, None, text, recv_ns, drop=drop)]
        if ch.channel == "book":
            if ch.raw or not ch.symbol.startswith("t"):
                text = "raw (R0) and funding books are not kept"
                return [Status(self.venue, ch.symbol, text, recv_ns, True, Drop.UNSUPPORTED)]
            return self._book(ch, tag, payload, recv_ns)
        if ch.channel == "trades" and ch.symbol.startswith("t"):
            return self._trades(ch.symbol, tag, payload, recv_ns)
        if ch.channel == "ticker" and ch.symbol.startswith("t") and tag is None:
            return [self._ticker(ch.symbol, payload, recv_ns)]
        return [Status(self.venue, ch.symbol, f"{ch.channel} {tag or 'data'}", recv_ns)]

    def _guess(self, symbol: str, rows: list[list[Decimal | int]] | None = None) -> Instrument:
        """The symbol's instrument, else exponent 8, or what a book snapshot's rows
        show if more (trade and ticker sizes are left out: Bitfinex sums some in
        floating point). Callers store it only once their message has parsed."""
        inst = self.instruments.get(symbol)
        if inst is None:
            prices = max(DEFAULT_EXP, max_decimals(r[0] for r in rows or []))
            amounts = max(DEFAULT_EXP, max_decimals(r[2] for r in rows or [] if r[1]))
            inst = Instrument(self.venue, symbol, prices, amounts)
        return inst

    def _book(
        self, ch: _Channel, tag: str | None, payload: object, recv_ns: int
    ) -> _BookPart | list[Message]:
        if tag in ("hb", "cs"):
            if self.instruments.get(ch.symbol) is None:
                return [Status(self.venue, ch.symbol, f"{tag} before the book's snapshot", recv_ns)]
            if tag == "hb":
                return _BookPart(Kind.HEARTBEAT)
            if not (isinstance(payload, int) and _int(payload) and -_I32 <= payload < 2 * _I32):
                raise ParseError(self.venue, f"{ch.symbol}: bad checksum {payload!r}")
            return _BookPart(Kind.DELTA, checksum=payload & 0xFFFFFFFF)
        if tag is not None or not isinstance(payload, list):
            raise ParseError(self.venue, f"{ch.symbol}: unexpected book message {tag!r}")
        snapshot = not payload or isinstance(payload[0], list)
        rows = payload if snapshot else [payload]
        for r in rows:
            if not (isinstance(r, list) and len(r) == 3 and is_number(r[0]) and r[0] > 0
                    and _int(r[1]) and 0 <= r[1] < _I32 and is_number(r[2]) and r[2] != 0):
                raise ParseError(self.venue, f"{ch.symbol}: bad book row {r!r}")
        inst = self._guess(ch.symbol, rows if snapshot else None)
        try:
            out = [(Side.BID if r[2] > 0 else Side.ASK, mantissa(r[0], inst.price_exp),
                    abs(mantissa(r[2], inst.size_exp)) if r[1] else 0, r[1]) for r in rows]
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{ch.symbol}: {exc}") from exc
        self.instruments.add(inst)
        kind = Kind.SNAPSHOT if snapshot else Kind.DELTA
        return _BookPart(kind, level_array(out, ts_recv_ns=recv_ns, snapshot=snapshot))

    def _trades(self, symbol: str, tag: str | None, payload: object, recv_ns: int) -> list[Message]:
        """Rows [ID, MTS, AMOUNT, PRICE]; AMOUNT > 0: the taker bought. "tu" repeats a "te"."""
        if tag == "hb":
            return [Status(self.venue, symbol, "trades hb", recv_ns)]
        if tag == "tu":
            return [Status(self.venue, symbol, "trade update (already reported by te)", recv_ns)]
        if tag not in (None, "te") or not isinstance(payload, list):
            raise ParseError(self.venue, f"{symbol}: unexpected trades message {tag!r}")
        many = tag is None and (not payload or isinstance(payload[0], list))
        rows = payload if many else [payload]
        for r in rows:
            if not (isinstance(r, list) and len(r) == 4 and _int(r[0]) and _int(r[1])
                    and is_number(r[2]) and r[2] != 0 and is_number(r[3]) and r[3] > 0):
                raise ParseError(self.venue, f"{symbol}: bad trade {r!r}")
        inst = self._guess(symbol)
        self.instruments.add(inst)  # every row is valid: from here nothing raises
        out: list[Message] = []
        for r in rows:
            try:
                price, amount = mantissa(r[3], inst.price_exp), mantissa(r[2], inst.size_exp)
            except (ValueError, OverflowError) as exc:
                text = f"trade {r[0]} not exact: {exc}"
                out.append(Status(self.venue, symbol, text, recv_ns, error=True))
                continue
            side = Side.BID if amount > 0 else Side.ASK
            out.append(Trade(self.venue, symbol, price, abs(amount), side, str(r[0]), recv_ns,
                             r[1] * NS_PER_MS))
        return out

    def _ticker(self, symbol: str, payload: object, recv_ns: int) -> Message:
        """[BID, BID_SIZE, ASK, ASK_SIZE, ...]. Sizes are sums Bitfinex forms in
        floating point (1.7023900800000002): one that is not exact at the
        instrument's exponent is reported, never rounded into a Quote."""
        if not (isinstance(payload, list) and len(payload) >= 4
                and all(is_number(v) for v in payload[:4]) and min(payload[0], payload[2]) >= 0):
            raise ParseError(self.venue, f"{symbol}: bad ticker {payload!r}")
        bid, bid_size, ask, ask_size = payload[:4]
        inst = self._guess(symbol)
        self.instruments.add(inst)
        p, s = inst.price_exp, inst.size_exp
        try:
            values = (mantissa(bid, p), abs(mantissa(bid_size, s)),
                      mantissa(ask, p), abs(mantissa(ask_size, s)))
        except (ValueError, OverflowError) as exc:
            text = f"ticker not exact at the instrument's exponents: {exc}"
            return Status(self.venue, symbol, text, recv_ns)
        return Quote(self.venue, symbol, *values, None, recv_ns)


#: Venue name -> parser class; crossbook.venues.registry collects these from every module.
PARSERS: dict[str, type[VenueBase]] = {Bitfinex.venue: Bitfinex}


def sniff(rec: CaptureRecord) -> str | None:
    """Bitfinex: acks carrying ``chanId``, v2 info, and conf / ``prec`` requests."""
    p = rec.payload
    if not p.startswith(b"{"):
        return None
    if rec.kind is RecordKind.SENT:
        if b'"event":"conf"' in p or (b'"event":"subscribe"' in p and b'"prec":"' in p):
            return Bitfinex.venue
        return None
    if rec.kind is RecordKind.FRAME and (
        b'"chanId":' in p or p.startswith(b'{"event":"info","version":2')
    ):
        return Bitfinex.venue
    return None
