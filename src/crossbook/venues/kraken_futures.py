"""Kraken Futures WebSocket v1 (``wss://futures.kraken.com/ws/v1``): book, trade, ticker.

The ``book`` feed opens with a ``book_snapshot`` per product, then sends one
level per message, each with the product's ``seq``: the snapshot's seq, then
+1 for every delta, so continuity is ContiguousRule per product. Prices and
quantities are JSON numbers, decoded from their own text (never a float).
There is no checksum, and the book is not depth-limited.

Exponents: given as an ``Instrument``, or inferred once from the first
snapshot, trade or ticker of the product (the most decimals any of its numbers
needs, and the ``tickSize``'s when the venue sends one); a later value with more
decimals is a ParseError naming it. A book delta before the product's first
snapshot is reported as a Status: one level cannot fix the exponents, and the
snapshot supersedes it anyway. Quantities are contracts.

Raw samples (kraken_futures_book.cap.gz, 2021-07-22)::

    {"event":"info","version":1}
    {"event":"subscribed","feed":"book","product_ids":["PI_XRPUSD"]}
    {"feed":"book_snapshot","product_id":"PI_XRPUSD","timestamp":1626994927035,"seq":3456139,
     "tickSize":null,"bids":[{"price":0.5881,"qty":320.0},...],
     "asks":[{"price":0.5888,"qty":2500.0},...]}
    {"feed":"book","product_id":"PI_LTCUSD","side":"sell","seq":3423036,"price":119.46,
     "qty":21884.0,
     "timestamp":1626994927748}
    {"feed":"trade_snapshot","product_id":"FI_BCHUSD_210730","trades":[{"feed":"trade",
     "product_id":"FI_BCHUSD_210730","uid":"8b3e7e72-...","side":"buy","type":"fill","seq":1487,
     "time":1626994887094,"qty":50.0,"price":439.2},...]}
    {"feed":"trade","product_id":"PI_ETHUSD","uid":"...","side":"sell","type":"fill","seq":41723,
     "time":1626994934312,"qty":1500.0,"price":2004.45}
    {"feed":"ticker_lite","product_id":"PI_XRPUSD","bid":0.5881,"ask":0.5888,"change":4.08,...}
    {"feed":"heartbeat","time":1534262350627}
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import msgspec

from crossbook._side import Side
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Instrument, Kind, Message, Quote, Status, Trade
from crossbook.sync_rules import ContiguousRule, SequenceRule
from crossbook.timeutil import NS_PER_MS
from crossbook.venues._jsonnum import decimals, level_array, mantissa, max_decimals
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase

__all__ = ["PARSERS", "KrakenFutures", "sniff"]



class _Level(msgspec.Struct):
    price: Decimal
    qty: Decimal


class _Snapshot(msgspec.Struct):
    product_id: str
    seq: int
    bids: list[_Level]
    asks: list[_Level]
    timestamp: int | None = None
    tickSize: Decimal | None = None


class _Delta(msgspec.Struct):
    product_id: str
    side: str
    seq: int
    price: Decimal
    qty: Decimal
    timestamp: int | None = None


class _Trade(msgspec.Struct):
    product_id: str
    side: str
    price: Decimal
    qty: Decimal
    uid: str | None = None
    time: int | None = None
    seq: int | None = None


class _TradeSnapshot(msgspec.Struct):
    product_id: str
    trades: list[_Trade]


class _Ticker(msgspec.Struct):
    product_id: str
    bid: Decimal
    ask: Decimal
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None
    time: int | None = None


class _Head(msgspec.Struct):
    feed: str | None = None
    event: str | None = None
    product_id: str | None = None
    message: str | None = None


_head = msgspec.json.Decoder(_Head)
_snapshot = msgspec.json.Decoder(_Snapshot)
_delta = msgspec.json.Decoder(_Delta)
_trade = msgspec.json.Decoder(_Trade)
_trade_snapshot = msgspec.json.Decoder(_TradeSnapshot)
_ticker = msgspec.json.Decoder(_Ticker)


def _ms(value: int | None) -> int | None:
    return value * NS_PER_MS if value else None


class KrakenFutures(VenueBase):
    venue: ClassVar[str] = "kraken_futures"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return ContiguousRule()

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            head = _head.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed frame ({exc})", frame) from exc
        if head.event is not None:
            return [self._event(head, frame, recv_ns)]
        try:
            if head.feed == "book":
                return [self._delta(_delta.decode(frame), recv_ns)]
            if head.feed == "book_snapshot":
                return [self._snapshot(_snapshot.decode(frame), recv_ns)]
            if head.feed == "trade":
                return self._trades([_trade.decode(frame)], recv_ns)
            if head.feed == "trade_snapshot":
                return self._trades(_trade_snapshot.decode(frame).trades, recv_ns)
            if head.feed == "ticker":
                return [self._ticker(_ticker.decode(frame), recv_ns)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {head.feed} message ({exc})", frame) from exc
        except (ValueError, OverflowError) as exc:  # ParseError included: re-raised with the frame
            raise ParseError(self.venue, f"{head.product_id} {head.feed}: {exc}", frame) from exc
        if head.feed is None:
            raise ParseError(self.venue, "frame has neither feed nor event", frame)
        # ticker_lite has no sizes, so it is no Quote; heartbeats only say the link is alive.
        return [Status(self.venue, head.product_id, head.feed, recv_ns)]

    def _event(self, head: _Head, frame: bytes, recv_ns: int) -> Status:
        error = head.event in ("error", "alert", "subscribed_failed")
        text = f"{head.event} {head.feed or ''}".rstrip()
        if head.message:
            text += f": {head.message}"
        return Status(self.venue, head.product_id, text, recv_ns, error=error)

    def _snapshot(self, s: _Snapshot, recv_ns: int) -> BookMessage:
        inst = self.instruments.get(s.product_id)
        if inst is None:
            levels = s.bids + s.asks
            tick = decimals(s.tickSize) if s.tickSize is not None else 0
            inst = Instrument(self.venue, s.product_id,
                              max(tick, max_decimals(lv.price for lv in levels)),
                              max_decimals(lv.qty for lv in levels))
        rows = [self._row(inst, Side.BID, lv.price, lv.qty) for lv in s.bids]
        rows += [self._row(inst, Side.ASK, lv.price, lv.qty) for lv in s.asks]
        self.instruments.add(inst)  # only once the whole snapshot is exact
        ts_ns = _ms(s.timestamp)
        events = level_array(rows, ts_exchange_ns=ts_ns or 0, ts_recv_ns=recv_ns, snapshot=True)
        return BookMessage(self.venue, s.product_id, Kind.SNAPSHOT, events, recv_ns, ts_ns,
                           last_seq=s.seq)

    def _delta(self, d: _Delta, recv_ns: int) -> Message:
        side = {"buy": Side.BID, "sell": Side.ASK}.get(d.side)
        if side is None:
            raise ValueError(f"bad side {d.side!r}")
        inst = self.instruments.get(d.product_id)
        if inst is None:
            # One level is too little to fix the exponents from, and the stream's
            # snapshot supersedes any delta before it anyway: report, do not guess.
            return Status(self.venue, d.product_id, f"book delta seq {d.seq} before the product's "
                          "snapshot: superseded by it", recv_ns)
        ts_ns = _ms(d.timestamp)
        row = self._row(inst, side, d.price, d.qty)
        return BookMessage(self.venue, d.product_id, Kind.DELTA,
                           level_array([row], ts_exchange_ns=ts_ns or 0, ts_recv_ns=recv_ns),
                           recv_ns, ts_ns, last_seq=d.seq)

    def _row(
        self, inst: Instrument, side: Side, price: Decimal, qty: Decimal
    ) -> tuple[int, int, int, int]:
        p, q = mantissa(price, inst.price_exp), mantissa(qty, inst.size_exp)
        if p <= 0 or q < 0:
            raise ValueError(f"non-positive price {price} or negative qty {qty}")
        return (side, p, q, 0)

    def _guess(self, product: str, prices: list[Decimal], sizes: list[Decimal]) -> Instrument:
        """The product's instrument, or one inferred from these numbers; callers
        store it only once the whole message has parsed."""
        inst = self.instruments.get(product)
        if inst is None:
            inst = Instrument(self.venue, product, max_decimals(prices), max_decimals(sizes))
        return inst

    def _trades(self, trades: list[_Trade], recv_ns: int) -> list[Message]:
        """``side`` is the taker's side (Kraken Futures' trade feed classifies by taker)."""
        if not trades:
            return []
        if len({t.product_id for t in trades}) != 1:
            raise ValueError("trades of several products in one message")
        inst = self._guess(trades[0].product_id, [t.price for t in trades], [t.qty for t in trades])
        out: list[Message] = []
        for t in trades:
            if t.side not in ("buy", "sell"):
                raise ValueError(f"bad trade side {t.side!r}")
            price, size = mantissa(t.price, inst.price_exp), mantissa(t.qty, inst.size_exp)
            if price <= 0 or size <= 0:
                raise ValueError(f"trade {t.uid}: non-positive price or size")
            aggressor = Side.BID if t.side == "buy" else Side.ASK
            out.append(Trade(self.venue, t.product_id, price, size, aggressor, t.uid, recv_ns,
                             _ms(t.time)))
        self.instruments.add(inst)
        return out

    def _ticker(self, t: _Ticker, recv_ns: int) -> Message:
        if t.bid_size is None or t.ask_size is None:
            return Status(self.venue, t.product_id, "ticker without sizes", recv_ns)
        inst = self._guess(t.product_id, [t.bid, t.ask], [t.bid_size, t.ask_size])
        p, s = inst.price_exp, inst.size_exp
        values = (mantissa(t.bid, p), mantissa(t.bid_size, s),
                  mantissa(t.ask, p), mantissa(t.ask_size, s))
        if min(values) < 0:
            raise ValueError("negative ticker value")
        self.instruments.add(inst)
        return Quote(self.venue, t.product_id, *values, None, recv_ns, _ms(t.time))


#: Venue name -> parser class; crossbook.venues.registry collects these from every module.
PARSERS: dict[str, type[VenueBase]] = {KrakenFutures.venue: KrakenFutures}


def sniff(rec: CaptureRecord) -> str | None:
    """Kraken Futures names its channels ``feed`` and its instruments ``product_id(s)``."""
    p = rec.payload
    if rec.kind not in (RecordKind.FRAME, RecordKind.SENT) or not p.startswith(b"{"):
        return None
    if b'"feed":"' in p and (b'"product_id' in p or b'"feed":"heartbeat"' in p):
        return KrakenFutures.venue
    return None
