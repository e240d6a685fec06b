"""Binance spot, USD-M and COIN-M: diff depth, REST depth snapshots, bookTicker, trades.

Raw samples (combined stream, as recorded)::

    {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT",
     "U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"]],"a":[...]}}
    {"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000",
     "B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}
    GET https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000
     {"lastUpdateId":50093239218,"bids":[["61837.63000000","3.78826000"],...],"asks":[...]}

USD-M and COIN-M deltas add "pu" (the previous message's u) and "T"; their
sequencing rule differs from spot (see crossbook.sync_rules). Quantities are
absolute; 0 removes the level.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec

from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Drop, Instrument, Kind, Message, Quote, Status, Trade, json_level_events
from crossbook.sync_rules import BinanceFuturesRule, BinanceSpotRule, SequenceRule
from crossbook.timeutil import NS_PER_MS
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase, decode_json

__all__ = ["BinanceSpot", "BinanceUsdm", "BinanceCoinm", "PARSERS", "sniff"]



class _Envelope(msgspec.Struct):
    stream: str
    data: msgspec.Raw


# Level arrays stay undecoded (Raw): json_level_events reads them straight into rows.
class _Depth(msgspec.Struct):
    s: str
    U: int
    u: int
    b: msgspec.Raw
    a: msgspec.Raw
    E: int = 0
    T: int = 0
    pu: int | None = None


class _Ticker(msgspec.Struct):
    s: str
    u: int
    b: str
    B: str
    a: str
    A: str
    E: int = 0
    T: int = 0


class _Trade(msgspec.Struct):
    s: str
    t: int
    p: str
    q: str
    m: bool
    E: int = 0
    T: int = 0


class _Snapshot(msgspec.Struct):
    lastUpdateId: int
    bids: msgspec.Raw
    asks: msgspec.Raw
    E: int = 0
    T: int = 0


class _DepthEnvelope(msgspec.Struct):
    stream: str
    data: _Depth


_env = msgspec.json.Decoder(_Envelope)
# Depth frames are most of the bytes: decode them in one typed pass when the
# stream name (always the first key Binance writes) says what they are.
_depth_env = msgspec.json.Decoder(_DepthEnvelope)
_depth = msgspec.json.Decoder(_Depth)
_ticker = msgspec.json.Decoder(_Ticker)
_trade = msgspec.json.Decoder(_Trade)
_snapshot = msgspec.json.Decoder(_Snapshot)
_rows = msgspec.json.Decoder(list[list[str]])


class _BinanceBase(VenueBase):
    rule: ClassVar[type[SequenceRule]]

    def sync_rule(self, symbol: str) -> SequenceRule:
        return self.rule()

    # -- websocket -------------------------------------------------------------

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        if frame.startswith(b'{"stream":"') and frame.find(b"@depth", 11, 64) > 0:
            try:
                return [self._delta(_depth_env.decode(frame).data, recv_ns)]
            except DECODE_ERRORS:
                pass  # not the shape we hoped for: the general path below says why
        try:
            env = _env.decode(frame)
        except msgspec.ValidationError:
            return self._parse_unwrapped(frame, recv_ns)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed JSON ({exc})", frame) from exc
        stream = env.stream
        try:
            if "@depth" in stream:
                return [self._delta(_depth.decode(env.data), recv_ns)]
            if stream.endswith("@bookTicker"):
                return [self._quote(_ticker.decode(env.data), recv_ns)]
            if stream.endswith("@trade"):
                return [self._trade(_trade.decode(env.data), recv_ns)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {stream} payload ({exc})", frame) from exc
        return [Status(self.venue, None, f"unhandled stream {stream}", recv_ns,
                       drop=Drop.UNSUPPORTED)]

    def _parse_unwrapped(self, frame: bytes, recv_ns: int) -> list[Message]:
        obj = decode_json(self.venue, frame)
        if not isinstance(obj, dict):
            raise ParseError(self.venue, "expected a JSON object", frame)
        kind = obj.get("e")
        try:
            if kind == "depthUpdate":  # decoded again from the bytes: its levels stay Raw
                return [self._delta(_depth.decode(frame), recv_ns)]
            if kind == "bookTicker" or (kind is None and {"u", "b", "a", "B", "A"} <= obj.keys()):
                return [self._quote(msgspec.convert(obj, _Ticker), recv_ns)]
            if kind == "trade":
                return [self._trade(msgspec.convert(obj, _Trade), recv_ns)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {kind} payload ({exc})", frame) from exc
        if "result" in obj and "id" in obj:
            return [Status(self.venue, None, f"ack id={obj['id']} result={obj['result']}", recv_ns)]
        if "code" in obj:
            return [Status(self.venue, None, f"error {obj.get('code')}: {obj.get('msg')}", recv_ns, True)]
        raise ParseError(self.venue, f"unknown event {kind!r}", frame)

    def _instrument(self, symbol: str, bids: msgspec.Raw, asks: msgspec.Raw) -> Instrument:
        inst = self.instruments.get(symbol)
        if inst is None:  # first sight of the symbol: its wire precision sets the exponents
            try:
                rows = _rows.decode(bids) + _rows.decode(asks)
            except DECODE_ERRORS as exc:
                raise ParseError(self.venue, f"{symbol}: bad level arrays ({exc})") from exc
            inst = self.instruments.resolve(symbol, rows)
        return inst

    def _delta(self, d: _Depth, recv_ns: int) -> BookMessage:
        if d.pu is None and self.rule is BinanceFuturesRule:
            # The futures chain is pu == previous u: without it no delta can be placed.
            raise ParseError(self.venue, f"{d.s} U={d.U} u={d.u}: depth update without pu")
        inst = self.instruments.get(d.s) or self._instrument(d.s, d.b, d.a)
        ts_ns = (d.T or d.E) * NS_PER_MS or None
        try:
            levels = json_level_events(d.b, d.a, inst.price_exp, inst.size_exp, ts_ns or 0, recv_ns)
        except (ValueError, OverflowError, TypeError) as exc:
            raise ParseError(self.venue, f"{d.s} U={d.U}: {exc}") from exc
        return BookMessage(self.venue, d.s, Kind.DELTA, levels, recv_ns, ts_ns,
                           first_seq=d.U, last_seq=d.u, prev_seq=d.pu)

    def _quote(self, t: _Ticker, recv_ns: int) -> Quote:
        inst = self.instruments.resolve(t.s, [[t.b, t.B], [t.a, t.A]])
        p, s = inst.price_exp, inst.size_exp
        try:
            return Quote(self.venue, t.s, parse_fixed(t.b, p), parse_fixed(t.B, s),
                         parse_fixed(t.a, p), parse_fixed(t.A, s), t.u, recv_ns,
                         (t.T or t.E) * NS_PER_MS or None)
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{t.s} bookTicker u={t.u}: {exc}") from exc

    def _trade(self, t: _Trade, recv_ns: int) -> Trade:
        inst = self.instruments.resolve(t.s, [[t.p, t.q]])
        # m: the buyer is the maker, so the taker sold.
        aggressor = Side.ASK if t.m else Side.BID
        try:
            return Trade(self.venue, t.s, parse_fixed(t.p, inst.price_exp),
                         parse_fixed(t.q, inst.size_exp), aggressor, str(t.t), recv_ns,
                         (t.T or t.E) * NS_PER_MS or None)
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{t.s} trade {t.t}: {exc}") from exc

    # -- REST ------------------------------------------------------------------

    def parse_rest(self, url: str, body: bytes, recv_ns: int) -> list[Message]:
        parts = urlsplit(url)
        if not parts.path.endswith("/depth"):
            return [Status(self.venue, None, f"unhandled REST {parts.path}", recv_ns,
                           drop=Drop.UNSUPPORTED)]
        symbol = parse_qs(parts.query).get("symbol", [""])[0].upper()
        if not symbol:
            raise ParseError(self.venue, f"depth URL without symbol: {url}")
        try:
            snap = _snapshot.decode(body)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad depth snapshot for {symbol} ({exc})", body) from exc
        inst = self._instrument(symbol, snap.bids, snap.asks)
        ts_ns = (snap.T or snap.E) * NS_PER_MS or None
        try:
            levels = json_level_events(snap.bids, snap.asks, inst.price_exp, inst.size_exp,
                                       ts_exchange_ns=ts_ns or 0, ts_recv_ns=recv_ns, snapshot=True)
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{symbol} snapshot {snap.lastUpdateId}: {exc}") from exc
        return [BookMessage(self.venue, symbol, Kind.SNAPSHOT, levels, recv_ns, ts_ns,
                            last_seq=snap.lastUpdateId)]


class BinanceSpot(_BinanceBase):
    venue: ClassVar[str] = "binance"
    rule: ClassVar[type[SequenceRule]] = BinanceSpotRule


class BinanceUsdm(_BinanceBase):
    venue: ClassVar[str] = "binance_usdm"
    rule: ClassVar[type[SequenceRule]] = BinanceFuturesRule


class BinanceCoinm(_BinanceBase):
    venue: ClassVar[str] = "binance_coinm"
    rule: ClassVar[type[SequenceRule]] = BinanceFuturesRule


#: Venue name -> parser class; crossbook.venues.registry collects these from every module.
PARSERS: dict[str, type[VenueBase]] = {
    BinanceSpot.venue: BinanceSpot,
    BinanceUsdm.venue: BinanceUsdm,
    BinanceCoinm.venue: BinanceCoinm,
}


def sniff(rec: CaptureRecord) -> str | None:
    """The Binance venue a capture record comes from, or None."""
    if rec.kind is RecordKind.REST and rec.url:
        if "/fapi/" in rec.url:
            return BinanceUsdm.venue
        if "/dapi/" in rec.url:
            return BinanceCoinm.venue
        if "binance" in rec.url and "/api/v3/" in rec.url:
            return BinanceSpot.venue
    if rec.kind is RecordKind.FRAME and b'"e":"depthUpdate"' in rec.payload[:200]:
        head = rec.payload[:200]
        if b'"ps":' in head:
            return BinanceCoinm.venue
        if b'"pu":' in head:
            return BinanceUsdm.venue
        return BinanceSpot.venue
    return None
