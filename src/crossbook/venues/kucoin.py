"""KuCoin spot websocket: ``/market/level2:{symbol}`` books aligned to the REST
snapshot ``GET /api/v3/market/orderbook/level2``, with ``/market/ticker`` quotes
and ``/market/match`` trades on the same connection.

Raw samples (2021 capture, cryptofeed)::

    {"id":"NSkIrWGB1s","type":"welcome"}
    {"id":"1","type":"ack"}
    GET https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=SNX-BTC {"code":"200000",
     "data":{"time":1619378326842,"sequence":"1612844051657","bids":[["0.00028678",
     "3.70422021"],...],"asks":[...]}}
    {"data":{"sequenceStart":1612844051658,"symbol":"SNX-BTC","changes":{"asks":[],
     "bids":[["0.00028624","0","1612844051658"]]},"sequenceEnd":1612844051658},
     "subject":"trade.l2update","topic":"/market/level2:SNX-BTC","type":"message"}
    {"data":{"sequenceStart":1613277183874,"symbol":"BCHSV-USDT","changes":{"asks":
     [["0","0","1613277183874"]],"bids":[]},"sequenceEnd":1613277183874},...}
    {"data":{"sequence":"1612844051653","bestAsk":"0.00028717","size":"0.01745248",
     "bestBidSize":"3.70422021","price":"0.00028676","time":1619378326323,
     "bestAskSize":"14.04274325","bestBid":"0.00028678"},"subject":"trade.ticker",
     "topic":"/market/ticker:SNX-BTC","type":"message"}
    {"data":{"symbol":"DAPPT-BTC","sequence":"1612701563869","side":"buy","size":"81.8814",
     "price":"0.0000001117","takerOrderId":"...","time":"1619378327739050725","type":"match",
     "makerOrderId":"...","tradeId":"6085c09769bc506996295e36"},"subject":"trade.l3match",
     "topic":"/market/match:DAPPT-BTC","type":"message"}

Changes are ``[price, size, sequence]``; size "0" removes the level and price "0"
changes nothing but still takes its sequence (KuCoin's own rule). A match's
``side`` is the taker's. The ticker's ``sequence`` is the book's: a Quote whose
``seq`` the replay compares with the book at that same sequence.

Sequencing (:class:`KucoinRule`): a message applies when ``sequenceStart <=
book+1`` and ``sequenceEnd > book``; ``sequenceEnd <= book`` is already in the
book; ``sequenceStart > book+1`` is a gap. KuCoin also says to skip the entries
of a straddling message whose own sequence is <= the book's: they need no
special case, because each price appears once per message with its latest size,
which the book already holds.

Exponents: KuCoin trims trailing zeros and a single delta shows little, so the
floors are 8 decimals for prices and sizes; a REST snapshot can need more (the
capture's BCHSV-USDT book holds a size "0.00019434546"), so a delta that has only
price-"0" entries does not fix a new symbol's exponents: before the symbol has a
book message it is reported as a Status (nothing is lost: no book exists yet,
and a missing first message shows up as a gap against the snapshot). Quotes and
trades of a symbol with no book yet are Status records for the same reason.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec

from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Drop, Instrument, Kind, Message, Quote, Status, Trade
from crossbook.sync_rules import SequenceRule, UpdateRangeRule
from crossbook.timeutil import NS_PER_MS
from crossbook.venues._textlevels import read_wired, text_levels, wire_levels
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase

__all__ = ["PARSERS", "Kucoin", "KucoinRule", "sniff"]

_FLOOR = 8


class _Env(msgspec.Struct):
    type: str
    topic: str = ""
    subject: str = ""
    data: msgspec.Raw = msgspec.Raw(b"null")
    id: str | int | None = None
    code: int | str | None = None


class _Changes(msgspec.Struct):
    asks: list[list[str]]
    bids: list[list[str]]


class _L2(msgspec.Struct):
    sequenceStart: int
    sequenceEnd: int
    symbol: str
    changes: _Changes
    time: int | None = None


class _Ticker(msgspec.Struct):
    sequence: str
    bestBid: str
    bestBidSize: str
    bestAsk: str
    bestAskSize: str
    time: int | None = None


class _Match(msgspec.Struct):
    symbol: str
    sequence: str
    side: str
    size: str
    price: str
    time: str
    tradeId: str


class _Snapshot(msgspec.Struct):
    sequence: str
    bids: list[list[str]]
    asks: list[list[str]]
    time: int | None = None


class _WireSnapshot(msgspec.Struct):
    """_Snapshot with its level arrays left undecoded, for wire_levels."""

    sequence: str
    bids: msgspec.Raw
    asks: msgspec.Raw
    time: int | None = None


class _Rest(msgspec.Struct):
    code: str
    data: msgspec.Raw = msgspec.Raw(b"null")
    msg: str = ""


_env = msgspec.json.Decoder(_Env)
_l2 = msgspec.json.Decoder(_L2)
_ticker = msgspec.json.Decoder(_Ticker)
_match = msgspec.json.Decoder(_Match)
_rest = msgspec.json.Decoder(_Rest)
_snapshot = msgspec.json.Decoder(_Snapshot)
_wire_snapshot = msgspec.json.Decoder(_WireSnapshot)


def _seq(text: str, what: str = "sequence") -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) >= 1 << 63:
        raise ValueError(f"{what} {text!r} is not a non-negative int64")
    return int(text)


def _no_price(row: list[str]) -> bool:
    """Price "0": KuCoin's marker for an entry that only takes a sequence number."""
    p = row[0] if row else ""
    return "0" in p and all(c in "0." for c in p)


class KucoinRule(UpdateRangeRule):
    """REST snapshot ``sequence`` + deltas ``sequenceStart``..``sequenceEnd``."""

    name: ClassVar[str] = "kucoin"


class Kucoin(VenueBase):
    venue: ClassVar[str] = "kucoin"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return KucoinRule()

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        """Records of one frame: a delta, a quote, a trade, or a Status."""
        try:
            env = _env.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"not a KuCoin message ({exc})", frame) from exc
        if env.type != "message":
            error = env.type == "error"
            return [Status(self.venue, None, f"{env.type} id={env.id} code={env.code}"
                           + (f" {bytes(env.data)[:200]!r}" if error else ""), recv_ns, error)]
        try:
            if env.subject == "trade.l2update":
                return [self._delta(_l2.decode(env.data), recv_ns)]
            if env.subject == "trade.ticker":
                symbol = env.topic.rpartition(":")[2]
                return [self._quote(symbol, _ticker.decode(env.data), recv_ns)]
            if env.subject in ("trade.l3match", "match"):
                return [self._trade(_match.decode(env.data), recv_ns)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {env.subject} data ({exc})", frame) from exc
        except (ValueError, TypeError, OverflowError) as exc:
            raise ParseError(self.venue, f"{env.topic}: {exc}", frame) from exc
        return [Status(self.venue, None, f"unhandled {env.subject} on {env.topic}", recv_ns,
                       drop=Drop.UNSUPPORTED)]

    def _delta(self, d: _L2, recv_ns: int) -> Message:
        for row in d.changes.asks + d.changes.bids:
            if len(row) != 3:  # a short row would pass its sequence off as a size
                raise ValueError(f"change {row!r} is not [price, size, sequence]")
            _seq(row[2])
        asks = [r for r in d.changes.asks if not _no_price(r)]
        bids = [r for r in d.changes.bids if not _no_price(r)]
        if d.sequenceStart > d.sequenceEnd or d.sequenceStart < 0:
            raise ValueError(f"sequenceStart..sequenceEnd {d.sequenceStart}..{d.sequenceEnd} "
                             "is not a range")
        if self.instruments.get(d.symbol) is None and not (asks or bids):
            return Status(self.venue, d.symbol, f"delta {d.sequenceStart}..{d.sequenceEnd} "
                          "without levels before the symbol's first book message", recv_ns)
        inst = self.instruments.resolve(d.symbol, bids + asks, min_price_exp=_FLOOR,
                                        min_size_exp=_FLOOR)
        ts_ns = d.time * NS_PER_MS if d.time is not None else None
        levels = text_levels(bids, asks, inst, ts_exchange_ns=ts_ns or 0, ts_recv_ns=recv_ns)
        return BookMessage(self.venue, d.symbol, Kind.DELTA, levels, recv_ns, ts_ns,
                           first_seq=d.sequenceStart, last_seq=d.sequenceEnd)

    def _quote(self, symbol: str, t: _Ticker, recv_ns: int) -> Message:
        inst = self.instruments.get(symbol)
        seq = _seq(t.sequence)
        if inst is None:
            return Status(self.venue, symbol, f"ticker {seq} before any book message", recv_ns)
        p, s = inst.price_exp, inst.size_exp
        return Quote(self.venue, symbol, parse_fixed(t.bestBid, p), parse_fixed(t.bestBidSize, s),
                     parse_fixed(t.bestAsk, p), parse_fixed(t.bestAskSize, s), seq, recv_ns,
                     t.time * NS_PER_MS if t.time is not None else None)

    def _trade(self, t: _Match, recv_ns: int) -> Message:
        if t.side not in ("buy", "sell"):
            raise ValueError(f"match side {t.side!r} is not buy/sell")
        inst = self.instruments.get(t.symbol)
        if inst is None:
            return Status(self.venue, t.symbol, f"trade {t.tradeId} before any book message",
                          recv_ns)
        return Trade(self.venue, t.symbol, parse_fixed(t.price, inst.price_exp),
                     parse_fixed(t.size, inst.size_exp), Side.BID if t.side == "buy" else Side.ASK,
                     t.tradeId, recv_ns, _seq(t.time, "time"))

    def parse_rest(self, url: str, body: bytes, recv_ns: int) -> list[Message]:
        parts = urlsplit(url)
        if not parts.path.endswith("/market/orderbook/level2"):
            # level2_20 / level2_100 are top-N windows: a full-depth diff book cannot start there.
            return [Status(self.venue, None, f"unhandled REST {parts.path}", recv_ns,
                           drop=Drop.UNSUPPORTED)]
        symbol = parse_qs(parts.query).get("symbol", [""])[0]
        if not symbol:
            raise ParseError(self.venue, f"order book URL without symbol: {url}")
        try:
            rest = _rest.decode(body)
            if rest.code != "200000":
                return [Status(self.venue, symbol, f"REST error {rest.code}: {rest.msg}", recv_ns,
                               True)]
            wired = self._wired_snapshot(symbol, rest.data, recv_ns)
            if wired is not None:
                return [wired]
            snap = _snapshot.decode(rest.data)
            seq = _seq(snap.sequence)
            inst = self.instruments.resolve(symbol, snap.bids + snap.asks, min_price_exp=_FLOOR,
                                            min_size_exp=_FLOOR)
            ts_ns = snap.time * NS_PER_MS if snap.time is not None else None
            levels = text_levels(snap.bids, snap.asks, inst, ts_exchange_ns=ts_ns or 0,
                                 ts_recv_ns=recv_ns, snapshot=True)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {symbol} snapshot ({exc})", body) from exc
        except (ValueError, TypeError, OverflowError) as exc:
            raise ParseError(self.venue, f"{symbol} snapshot: {exc}", body) from exc
        return [BookMessage(self.venue, symbol, Kind.SNAPSHOT, levels, recv_ns, ts_ns,
                            last_seq=seq)]

    def _wired_snapshot(self, symbol: str, data: msgspec.Raw, recv_ns: int) -> BookMessage | None:
        return read_wired(lambda: _wire_snapshot.decode(data),
                          lambda _: self.instruments.get(symbol),
                          lambda snap, inst: self._wired_message(symbol, snap, inst, recv_ns))

    def _wired_message(self, symbol: str, snap: _WireSnapshot, inst: Instrument,
                       recv_ns: int) -> BookMessage | None:
        seq = _seq(snap.sequence)
        ts_ns = snap.time * NS_PER_MS if snap.time is not None else None
        levels = wire_levels(snap.bids, snap.asks, inst, ts_exchange_ns=ts_ns or 0,
                             ts_recv_ns=recv_ns, snapshot=True)
        if levels is None:
            return None
        return BookMessage(self.venue, symbol, Kind.SNAPSHOT, levels, recv_ns, ts_ns, last_seq=seq)


PARSERS: dict[str, type[VenueBase]] = {Kucoin.venue: Kucoin}


def sniff(rec: CaptureRecord) -> str | None:
    """KuCoin REST by host; frames by their ``/market/`` topic and ``trade.*`` subject."""
    if rec.kind is RecordKind.REST:
        return Kucoin.venue if rec.url and "kucoin.com/" in rec.url else None
    frame = rec.payload if rec.kind is RecordKind.FRAME else b""
    if b'"subject":"trade.' in frame and b'"topic":"/market/' in frame:
        return Kucoin.venue
    return None
