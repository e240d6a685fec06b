"""Kraken spot WebSocket v2 (``wss://ws.kraken.com/v2``): ``book``, ``trade``, ``ticker``.

Prices and quantities are JSON numbers carrying full precision; they are
decoded from their own text (never a float) into mantissas. The book has no
sequence number: the unsigned CRC32 ``checksum`` on snapshots *and* updates is
the only integrity check. It is Kraken v1's top-10 string, but since a JSON
number drops its padding (``0.566``), each value is re-rendered at the pair's
precision (``price_precision`` / ``qty_precision``) before the point and the
leading zeros are stripped. So the book's exponents must be those precisions:
pass them as an ``Instrument`` (price_exp = price_precision, size_exp =
qty_precision); without one they are inferred from the first message of the
symbol (the most decimals any of its numbers shows), and a wrong guess shows
up as a checksum mismatch, never as a silently wrong book.

The subscribed depth matters: Kraken sends no delete for a level pushed out of
the window, so the book is truncated to it after every message. It is taken
from the subscribe ack, else from the parser's ``depth`` argument, else from
the snapshot (the smallest allowed depth that holds it).

Raw samples (docs.kraken.com book page, 2023-10-06)::

    {"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,
     "symbol":"MATIC/USD"},"success":true,"time_in":"2023-10-06T17:35:55.123456Z",
     "time_out":"2023-10-06T17:35:55.123789Z"}
    {"channel":"book","type":"snapshot","data":[{"symbol":"MATIC/USD",
     "bids":[{"price":0.5666,"qty":4831.75496356},...],
     "asks":[{"price":0.5668,"qty":4410.79769741},...],
     "checksum":2439117997,"timestamp":"2023-10-06T17:35:55.440295Z"}]}
    {"channel":"book","type":"update","data":[{"symbol":"MATIC/USD","bids":[{"price":0.5657,
     "qty":1098.3947558}],"asks":[],"checksum":2114181697,
     "timestamp":"2023-10-06T17:35:55.440295Z"}]}
    {"channel":"heartbeat"}
    {"channel":"status","type":"update","data":[{"version":"2.0.0","system":"online",
     "api_version":"v2","connection_id":12393906104898154338}]}
    {"channel":"trade","type":"update","data":[{"symbol":"MATIC/USD","side":"sell","price":0.5117,
     "qty":40.0,"ord_type":"market","trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"}]}
    {"channel":"ticker","type":"snapshot","data":[{"symbol":"ALGO/USD","bid":0.10025,
     "bid_qty":740.0,
     "ask":0.10036,"ask_qty":1361.44813783,"last":0.10035,"volume":997038.98383185}]}
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

import msgspec

from crossbook._side import Side
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Instrument, Kind, Message, Quote, Status, Trade
from crossbook.sync_rules import SequenceRule, UnsequencedRule
from crossbook.venues._jsonnum import level_array, mantissa, max_decimals
from crossbook.venues.base import DECODE_ERRORS, ChecksumFn, ParseError, VenueBase
from crossbook.venues.kraken import kraken_checksum

__all__ = ["PARSERS", "KrakenV2", "rfc3339_ns", "sniff"]

CHECKSUM_ALG = "kraken_crc32_top10"
DEPTHS = (10, 25, 100, 500, 1000)
_U32 = 1 << 32


class _Level(msgspec.Struct, forbid_unknown_fields=True):
    price: Decimal
    qty: Decimal


class _Book(msgspec.Struct):
    symbol: str
    bids: list[_Level] = []
    asks: list[_Level] = []
    checksum: int | None = None
    timestamp: str | None = None


class _Trade(msgspec.Struct):
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    trade_id: int | None = None
    timestamp: str | None = None


class _Ticker(msgspec.Struct):
    symbol: str
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal
    timestamp: str | None = None


class _Envelope(msgspec.Struct):
    channel: str | None = None
    type: str | None = None
    data: msgspec.Raw = msgspec.Raw()  # empty when absent
    method: str | None = None
    success: bool | None = None
    error: str | None = None
    result: msgspec.Raw = msgspec.Raw()


class _Ack(msgspec.Struct):
    channel: str | None = None
    symbol: str | None = None
    depth: int | None = None


_envelope = msgspec.json.Decoder(_Envelope)
_books = msgspec.json.Decoder(list[_Book])
_trades = msgspec.json.Decoder(list[_Trade])
_tickers = msgspec.json.Decoder(list[_Ticker])
_ack = msgspec.json.Decoder(_Ack)

_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]00:00)\Z")


def rfc3339_ns(text: str) -> int:
    """``2023-10-06T17:35:55.440295Z`` -> ns since the epoch, exactly (UTC only)."""
    m = _RFC3339.match(text)
    if m is None:
        raise ValueError(f"not an RFC3339 UTC timestamp: {text!r}")
    seconds = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1_000_000_000 + int((m.group(2) or "").ljust(9, "0"))


class KrakenV2(VenueBase):
    venue: ClassVar[str] = "kraken_v2"

    def __init__(self, instruments: Sequence[Instrument] = (), depth: int | None = None) -> None:
        super().__init__(instruments)
        if depth is not None and depth not in DEPTHS:
            raise ValueError(f"Kraken book depth must be one of {DEPTHS}, got {depth}")
        self.default_depth = depth
        self._depth: dict[str, int] = {}  # symbol -> subscribed depth (acks, snapshots)

    def sync_rule(self, symbol: str) -> SequenceRule:
        return UnsequencedRule()

    def checksum(self, symbol: str) -> ChecksumFn:
        return kraken_checksum

    def depth_limit(self, symbol: str) -> int | None:
        return self._depth.get(symbol, self.default_depth)

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            env = _envelope.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed frame ({exc})", frame) from exc
        try:
            if env.method is not None:
                return [self._ack(env, recv_ns)]
            if env.channel == "book" and env.type in ("snapshot", "update") and env.data:
                snap = env.type == "snapshot"
                return [self._book(b, snap, recv_ns) for b in _books.decode(env.data)]
            if env.channel == "trade" and env.data:
                return [self._trade(t, recv_ns) for t in _trades.decode(env.data)]
            if env.channel == "ticker" and env.data:
                return [self._ticker(t, recv_ns) for t in _tickers.decode(env.data)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {env.channel} payload ({exc})", frame) from exc
        except ParseError as exc:
            raise ParseError(self.venue, exc.reason, frame) from exc
        if env.channel is None:
            raise ParseError(self.venue, "frame has neither channel nor method", frame)
        return [Status(self.venue, None, f"{env.channel} {env.type or ''}".rstrip(), recv_ns)]

    def _ack(self, env: _Envelope, recv_ns: int) -> Status:
        ack = _ack.decode(env.result) if env.result else _Ack()
        if env.success is False or env.error:
            text = f"{env.method} failed: {env.error}"
            return Status(self.venue, ack.symbol, text, recv_ns, error=True)
        if env.method == "subscribe" and ack.channel == "book" and ack.symbol and ack.depth:
            self._depth[ack.symbol] = ack.depth
        return Status(self.venue, ack.symbol, f"{env.method} {ack.channel or ''}".rstrip(), recv_ns)

    def _guess(self, symbol: str, prices: list[Decimal], sizes: list[Decimal]) -> Instrument:
        """The symbol's instrument, or one inferred from these numbers; callers
        store it only once the whole message has parsed."""
        inst = self.instruments.get(symbol)
        if inst is None:
            inst = Instrument(self.venue, symbol, max_decimals(prices), max_decimals(sizes))
        return inst

    def _book(self, b: _Book, snapshot: bool, recv_ns: int) -> BookMessage:
        if b.checksum is not None and not 0 <= b.checksum < _U32:
            raise ParseError(self.venue, f"{b.symbol}: checksum {b.checksum} is not a uint32")
        levels = [(Side.BID, lv) for lv in b.bids] + [(Side.ASK, lv) for lv in b.asks]
        try:
            inst = self._guess(b.symbol, [lv.price for _, lv in levels],
                               [lv.qty for _, lv in levels])
            rows = [(side, mantissa(lv.price, inst.price_exp), mantissa(lv.qty, inst.size_exp), 0)
                    for side, lv in levels]
            ts_ns = rfc3339_ns(b.timestamp) if b.timestamp is not None else None
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{b.symbol}: {exc}") from exc
        if any(price <= 0 or size < 0 for _, price, size, _ in rows):
            raise ParseError(self.venue, f"{b.symbol}: negative size or non-positive price")
        self.instruments.add(inst)
        if snapshot and b.symbol not in self._depth and self.default_depth is None:
            most = max(len(b.bids), len(b.asks))
            self._depth[b.symbol] = next((d for d in DEPTHS if d >= most), DEPTHS[-1])
        return BookMessage(
            self.venue, b.symbol, Kind.SNAPSHOT if snapshot else Kind.DELTA,
            level_array(rows, ts_exchange_ns=ts_ns or 0, ts_recv_ns=recv_ns, snapshot=snapshot),
            recv_ns, ts_ns, checksum=b.checksum,
            checksum_alg=CHECKSUM_ALG if b.checksum is not None else None,
            depth_limit=self.depth_limit(b.symbol),
        )

    def _trade(self, t: _Trade, recv_ns: int) -> Trade:
        if t.side not in ("buy", "sell"):
            raise ParseError(self.venue, f"{t.symbol}: bad trade side {t.side!r}")
        try:
            inst = self._guess(t.symbol, [t.price], [t.qty])
            price, size = mantissa(t.price, inst.price_exp), mantissa(t.qty, inst.size_exp)
            ts_ns = rfc3339_ns(t.timestamp) if t.timestamp is not None else None
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{t.symbol} trade {t.trade_id}: {exc}") from exc
        if price <= 0 or size <= 0:
            raise ParseError(self.venue, f"{t.symbol} trade {t.trade_id}: price or size <= 0")
        self.instruments.add(inst)
        aggressor = Side.BID if t.side == "buy" else Side.ASK  # side is the taker's
        trade_id = None if t.trade_id is None else str(t.trade_id)
        return Trade(self.venue, t.symbol, price, size, aggressor, trade_id, recv_ns, ts_ns)

    def _ticker(self, t: _Ticker, recv_ns: int) -> Quote:
        try:
            inst = self._guess(t.symbol, [t.bid, t.ask], [t.bid_qty, t.ask_qty])
            p, s = inst.price_exp, inst.size_exp
            values = (mantissa(t.bid, p), mantissa(t.bid_qty, s),
                      mantissa(t.ask, p), mantissa(t.ask_qty, s))
            ts_ns = rfc3339_ns(t.timestamp) if t.timestamp is not None else None
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{t.symbol} ticker: {exc}") from exc
        if min(values) < 0:
            raise ParseError(self.venue, f"{t.symbol} ticker: negative value")
        self.instruments.add(inst)
        return Quote(self.venue, t.symbol, *values, None, recv_ns, ts_ns)


#: Venue name -> parser class; crossbook.venues.registry collects these from every module.
PARSERS: dict[str, type[VenueBase]] = {KrakenV2.venue: KrakenV2}


def sniff(rec: CaptureRecord) -> str | None:
    """Kraken v2 book frames: a top-level ``"channel":"book"`` with a ``type`` and
    a ``data`` array (OKX says ``books``, Bitfinex acks have ``chanId``)."""
    p = rec.payload
    if rec.kind is RecordKind.SENT:
        ok = b'"method":"subscribe"' in p and b'"channel":"book"' in p
        return KrakenV2.venue if ok else None
    if rec.kind is not RecordKind.FRAME or not p.startswith(b"{") or b'"chanId"' in p:
        return None
    if b'"channel":"book"' in p[:40] and b'"data":[' in p and (
        b'"type":"snapshot"' in p[:80] or b'"type":"update"' in p[:80]
    ):
        return KrakenV2.venue
    if b'"method":"subscribe"' in p and b'"channel":"book"' in p and b'"success"' in p:
        return KrakenV2.venue
    return None
