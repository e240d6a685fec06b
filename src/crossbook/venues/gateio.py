"""Gate.io spot websocket v4: ``spot.order_book_update`` aligned to the REST
snapshot ``GET /api/v4/spot/order_book?with_id=true`` (venue "gateio"), and Order
Book V2 ``spot.obu`` (venue "gateio_obu"); ``spot.trades`` on either connection.

Raw samples (2021 capture, cryptofeed; ``spot.obu`` and ``full`` from Gate's docs)::

    > {"time":1619093532,"channel":"spot.order_book_update","event":"subscribe",
       "payload":["HAI_ETH","100ms"]}
    {"time":1619093532,"channel":"spot.order_book_update","event":"subscribe",
     "result":{"status":"success"}}
    {"time":1619093532,"channel":"spot.order_book_update","event":"update","result":{
     "t":1619093532978,"e":"depthUpdate","E":1619093532,"s":"HAI_ETH","U":2691446,
     "u":2691446,"b":[["0.00010322","5360.209"],...],"a":[...]}}
    GET https://api.gateio.ws/api/v4/spot/order_book?currency_pair=HAI_ETH&limit=100&with_id=true
     {"id":2691446,"asks":[["0.00010396","5876.967"],...],"bids":[...]}
    {"time":1619093543,"channel":"spot.trades","event":"update","result":{"id":816995772,
     "create_time":1619093543,"create_time_ms":"1619093543708.2642","side":"sell",
     "currency_pair":"DIS_USDT","amount":"0.2010000000","price":"121.5800000000"}}
    {"time":1606294781,"time_ms":1606294781236,"channel":"spot.order_book_update",
     "event":"update","result":{"t":1606294781123,"full":true,"l":"100","s":"BTC_USDT",
     "U":48776301,"u":48776306,"b":[...],"a":[...]}}
    {"channel":"spot.obu","result":{"t":1747054612695,"s":"ob.BTC_USDT.50","U":73777715169,
     "u":73777715212,"b":[["104024.5","10343"],...],"a":[["104027.2","0"],...]},
     "time_ms":1747054612925}

Amounts are absolute; "0" removes the level. A trade's ``side`` is the taker's.
``spot.tickers`` (no sizes) and ``spot.candlesticks`` are reported as Status.

Sequencing, ``spot.order_book_update`` (:class:`GateRule`): after the REST
snapshot ``id``, drop ``u < id+1``; the first applied needs ``U <= id+1 <= u``;
then a gap is ``U > local+1``, and ``u <= local`` is already in the book. In the
capture the REST ``id`` equals a preceding push's ``u`` (HAI_ETH, OMG_USDT,
ZKS_ETH, INK_USDT, FAST_USDT, BTC_USDC) or precedes the next push (DIS_USDT),
and every chain is contiguous. Pushes of 2021 have no ``full``/``l`` keys; a
``full:true`` push replaces the book, so it comes out as a RESET (the venue
voids the book) then a SNAPSHOT at ``u``: BookSync keeps a REST-sourced book's
synced state against snapshots, and this one is newer than the book, not older.

Sequencing, ``spot.obu`` (:class:`GateObuRule`): the first push is ``full:true``
(the book, at ``u``); each increment needs ``U == local+1``; ``u <= local`` is
a repeat; anything else is a gap (Gate: unsubscribe and subscribe again). The
book symbol is the pair of the stream ``ob.{pair}.{depth}`` and its depth is the
stream's.

Depth: ``spot.order_book_update`` at 100ms (the capture's) keeps 100 levels, at
20ms 20: the parser's ``depth`` (default 100) truncates the book as Gate's
window does.

Exponents: Gate trims trailing zeros in books (trades pad to 10); real amounts
carry 10 decimals ("0.3132069159"), so the floors are 8 for prices and 10 for
amounts unless the caller passes Instruments. Trades of a pair with no book yet
are Status records: fixing exponents from a trade could make the book's values
unrepresentable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal
from urllib.parse import parse_qs, urlsplit

import msgspec

from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import EMPTY_LEVELS, BookMessage, Drop, Instrument, Kind, Message, Status, Trade
from crossbook.sync_rules import SequenceRule, UpdateRangeRule, Verdict
from crossbook.timeutil import NS_PER_MS
from crossbook.venues._textlevels import read_wired, text_levels, wire_levels
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase, digits_int

__all__ = ["PARSERS", "GateObu", "GateObuRule", "GateRule", "GateSpot", "sniff"]

_PRICE_FLOOR, _SIZE_FLOOR = 8, 10


class _Env(msgspec.Struct):
    channel: str
    event: str = ""
    result: msgspec.Raw = msgspec.Raw(b"null")
    error: msgspec.Raw = msgspec.Raw(b"null")
    time_ms: int | None = None


class _Book(msgspec.Struct):
    s: str
    u: int
    b: list[list[str]]
    a: list[list[str]]
    U: int | None = None
    t: int | None = None
    full: bool = False


class _Trade(msgspec.Struct):
    id: int
    currency_pair: str
    side: str
    amount: str
    price: str
    create_time_ms: str


class _Snapshot(msgspec.Struct):
    id: int
    bids: list[list[str]]
    asks: list[list[str]]
    current: int | None = None


class _WireSnapshot(msgspec.Struct):
    """_Snapshot with its level arrays left undecoded, for wire_levels."""

    id: int
    bids: msgspec.Raw
    asks: msgspec.Raw
    current: int | None = None


_env = msgspec.json.Decoder(_Env)
_book = msgspec.json.Decoder(_Book)
_trade = msgspec.json.Decoder(_Trade)
_snapshot = msgspec.json.Decoder(_Snapshot)
_wire_snapshot = msgspec.json.Decoder(_WireSnapshot)


class GateRule(UpdateRangeRule):
    """``spot.order_book_update`` against the REST snapshot ``id``."""

    name: ClassVar[str] = "gateio"


class GateObuRule:
    """``spot.obu``: every increment starts right after the book's ``u``."""

    name: ClassVar[str] = "gateio_obu"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "stream"

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        return self.next(snapshot_id, msg)

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        assert msg.first_seq is not None and msg.last_seq is not None
        if last_id is not None and msg.first_seq == last_id + 1:
            return Verdict.APPLY
        if last_id is not None and msg.last_seq <= last_id:
            return Verdict.STALE
        return Verdict.GAP


class _GateBase(VenueBase):
    book_channel: ClassVar[str]

    def __init__(self, instruments: Sequence[Instrument] = (), *, depth: int = 100) -> None:
        super().__init__(instruments)
        if depth <= 0:
            raise ValueError(f"depth must be positive, got {depth}")
        self.depth = depth

    def depth_limit(self, symbol: str) -> int | None:
        return self.depth

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        """Records of one frame: book messages, a trade, or a Status."""
        try:
            env = _env.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"not a Gate.io v4 message ({exc})", frame) from exc
        ch = env.channel
        if bytes(env.error) != b"null":
            return [Status(self.venue, None, f"{ch} {env.event} error {bytes(env.error)[:200]!r}",
                           recv_ns, True)]
        try:
            if ch == self.book_channel and env.event in ("update", "all", ""):
                return self._book(_book.decode(env.result), recv_ns)
            if ch == "spot.trades" and env.event == "update":
                return [self._trade(_trade.decode(env.result), recv_ns)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {ch} result ({exc})", frame) from exc
        except (ValueError, TypeError, OverflowError) as exc:
            raise ParseError(self.venue, f"{ch}: {exc}", frame) from exc
        drop = Drop.UNSUPPORTED if env.event in ("update", "all") else None  # not an ack
        return [Status(self.venue, None, f"{ch} {env.event} {bytes(env.result)[:120]!r}", recv_ns,
                       drop=drop)]

    def _book(self, b: _Book, recv_ns: int) -> list[Message]:
        raise NotImplementedError

    def _levels(self, symbol: str, b: _Book, recv_ns: int, snapshot: bool,
                depth: int) -> BookMessage:
        inst = self.instruments.resolve(symbol, b.b + b.a, min_price_exp=_PRICE_FLOOR,
                                        min_size_exp=_SIZE_FLOOR)
        ts_ns = b.t * NS_PER_MS if b.t is not None else None
        levels = text_levels(b.b, b.a, inst, ts_exchange_ns=ts_ns or 0, ts_recv_ns=recv_ns,
                             snapshot=snapshot)
        return BookMessage(self.venue, symbol, Kind.SNAPSHOT if snapshot else Kind.DELTA, levels,
                           recv_ns, ts_ns, first_seq=None if snapshot else b.U, last_seq=b.u,
                           depth_limit=depth)

    def _trade(self, t: _Trade, recv_ns: int) -> Message:
        if t.side not in ("buy", "sell"):
            raise ValueError(f"trade {t.id} side {t.side!r} is not buy/sell")
        inst = self.instruments.get(t.currency_pair)
        if inst is None:
            return Status(self.venue, t.currency_pair, f"trade {t.id} before any book message",
                          recv_ns)
        # create_time_ms is decimal text in ms with a fraction: exact ns at exponent 6.
        taker = Side.BID if t.side == "buy" else Side.ASK
        return Trade(self.venue, t.currency_pair, parse_fixed(t.price, inst.price_exp),
                     parse_fixed(t.amount, inst.size_exp), taker, str(t.id), recv_ns,
                     parse_fixed(t.create_time_ms, 6))


class GateSpot(_GateBase):
    venue: ClassVar[str] = "gateio"
    book_channel: ClassVar[str] = "spot.order_book_update"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return GateRule()

    def _book(self, b: _Book, recv_ns: int) -> list[Message]:
        if b.full:
            snap = self._levels(b.s, b, recv_ns, True, self.depth)
            reset = BookMessage(self.venue, b.s, Kind.RESET, EMPTY_LEVELS, recv_ns,
                                snap.ts_exchange_ns, last_seq=b.u)
            return [reset, snap]
        if b.U is None:
            raise ValueError(f"{b.s} increment u={b.u} lacks U")
        return [self._levels(b.s, b, recv_ns, False, self.depth)]

    def parse_rest(self, url: str, body: bytes, recv_ns: int) -> list[Message]:
        parts = urlsplit(url)
        if not parts.path.endswith("/spot/order_book"):
            return [Status(self.venue, None, f"unhandled REST {parts.path}", recv_ns,
                           drop=Drop.UNSUPPORTED)]
        query = parse_qs(parts.query)
        pair = query.get("currency_pair", [""])[0]
        if not pair:
            raise ParseError(self.venue, f"order_book URL without currency_pair: {url}")
        if query.get("with_id", ["false"])[0] != "true":
            return [Status(self.venue, pair, "order_book without with_id=true has no id to "
                                             "align on", recv_ns, True)]
        wired = self._wired_snapshot(pair, body, recv_ns)
        if wired is not None:
            return [wired]
        try:
            snap = _snapshot.decode(body)
            b = _Book(pair, snap.id, snap.bids, snap.asks, t=snap.current)
            return [self._levels(pair, b, recv_ns, True, self.depth)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {pair} order_book ({exc})", body) from exc
        except (ValueError, TypeError, OverflowError) as exc:
            raise ParseError(self.venue, f"{pair} order_book: {exc}", body) from exc

    def _wired_snapshot(self, pair: str, body: bytes, recv_ns: int) -> BookMessage | None:
        # Pushes are left to the decoding path: a few levels each, they decode faster
        # than the undecoded read sets up.
        return read_wired(lambda: _wire_snapshot.decode(body),
                          lambda _: self.instruments.get(pair),
                          lambda snap, inst: self._wired_message(pair, snap, inst, recv_ns))

    def _wired_message(self, pair: str, snap: _WireSnapshot, inst: Instrument,
                       recv_ns: int) -> BookMessage | None:
        ts_ns = snap.current * NS_PER_MS if snap.current is not None else None
        levels = wire_levels(snap.bids, snap.asks, inst, ts_exchange_ns=ts_ns or 0,
                             ts_recv_ns=recv_ns, snapshot=True)
        if levels is None:
            return None
        return BookMessage(self.venue, pair, Kind.SNAPSHOT, levels, recv_ns, ts_ns,
                           last_seq=snap.id, depth_limit=self.depth)


class GateObu(_GateBase):
    venue: ClassVar[str] = "gateio_obu"
    book_channel: ClassVar[str] = "spot.obu"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return GateObuRule()

    def _book(self, b: _Book, recv_ns: int) -> list[Message]:
        prefix, pair, depth = (b.s.split(".") + ["", ""])[:3]
        if prefix != "ob" or not pair or not digits_int(depth):
            raise ValueError(f"stream {b.s!r} is not ob.<pair>.<depth>")
        if not b.full and b.U is None:
            raise ValueError(f"{b.s} increment u={b.u} lacks U")
        return [self._levels(pair, b, recv_ns, b.full, int(depth))]

    def depth_limit(self, symbol: str) -> int | None:
        return None  # each message names its stream's depth


PARSERS: dict[str, type[VenueBase]] = {GateSpot.venue: GateSpot, GateObu.venue: GateObu}


def sniff(rec: CaptureRecord) -> str | None:
    """Gate.io REST by host and path; frames by their book channel."""
    if rec.kind is RecordKind.REST:
        url = rec.url or ""
        if ("gateio.ws/" in url or "gate.io/" in url) and "/spot/order_book" in url:
            return GateSpot.venue
        return None
    if rec.kind is RecordKind.FRAME:
        if b'"channel":"spot.order_book_update"' in rec.payload[:200]:
            return GateSpot.venue
        if b'"channel":"spot.obu"' in rec.payload[:200]:
            return GateObu.venue
    return None
