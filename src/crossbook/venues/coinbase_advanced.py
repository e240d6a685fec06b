"""Coinbase Advanced Trade websocket: ``level2`` books (channel ``l2_data``),
``market_trades``, ``ticker``/``ticker_batch``, ``heartbeats`` and ``subscriptions``.

Raw samples (Coinbase's documented example; the update, trades and heartbeat are
the shapes of nautilus_trader's fixtures ``ws_l2_data_update.json`` etc.)::

    {"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z",
     "sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[
     {"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73",
      "new_quantity":"0.06317902"},...]}]}
    {"channel":"l2_data","client_id":"","timestamp":"2026-04-07T14:30:01.456789Z",
     "sequence_num":1,"events":[{"type":"update","product_id":"BTC-USD","updates":[
     {"side":"bid","event_time":"2026-04-07T14:30:01.456789Z","price_level":"68900.00",
      "new_quantity":"2.00000000"},{"side":"offer",...,"new_quantity":"0.00000000"}]}]}
    {"channel":"market_trades","client_id":"","timestamp":"...","sequence_num":5,"events":[
     {"type":"update","trades":[{"trade_id":"995098700","product_id":"BTC-USD",
      "price":"68900.50","size":"0.00150000","side":"BUY","time":"..."}]}]}
    {"channel":"heartbeats","client_id":"","timestamp":"...","sequence_num":0,"events":[
     {"current_time":"2026-04-07 14:30:10.000000000+00:00","heartbeat_counter":42}]}
    {"channel":"subscriptions","client_id":"","timestamp":"...","sequence_num":0,"events":[
     {"subscriptions":{"level2":["BTC-USD"]}}]}
    {"type":"error","message":"failure to subscribe"}

``new_quantity`` is the level's new size; "0" removes it. Sides: "bid" is a bid;
"offer" is what the wire sends for asks and "ask" (seen in some clients' tests) is
accepted as the same; anything else is a ParseError. ``timestamp`` has 9
fractional digits and is kept to the nanosecond; snapshot rows carry the
placeholder ``event_time`` 1970-01-01, so the engine time (``extra
["event_time_ns"]``, latest of the event's rows) is None for them.

Sequencing: ``sequence_num`` counts every message of the connection, whatever
its channel (connection scope: the brief's reading; Coinbase's page is silent).
Every book message carries it (``last_seq``/``conn_seq``) and books follow
:class:`~crossbook.sync_rules.ContiguousRule`. Frames that do not concern a
book (other products, other channels) still advance the counter, so the parser
gives every other known book a DELTA without levels carrying that number
(``extra["sequence_only"]``): without it each book would see the holes other
products leave and call them gaps, and it must be a delta, not a HEARTBEAT,
because BookSync judges deltas but takes a heartbeat's number on trust, which
would let a lost frame pass unseen. A snapshot event replaces its book
whenever it comes.

``market_trades`` side: its meaning (taker or maker) is not settled in the
sources read, so trades carry no aggressor. Trades and tickers of a product
with no book yet are reported as Status: the instrument table is what the
sequence-only deltas go to, so only book messages may add to it.

Exponents: prices and sizes are trimmed text; floors of 8 decimals (Coinbase's
finest increments) apply unless the caller passes Instruments.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import msgspec

from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import EMPTY_LEVELS, BookMessage, Kind, Message, Quote, Status, Trade
from crossbook.sync_rules import ContiguousRule, SequenceRule
from crossbook.venues._textlevels import iso_ns, text_levels
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase, decode_json

__all__ = ["PARSERS", "CoinbaseAdvanced", "sniff"]

_FLOOR = 8
_SIDES = {"bid": Side.BID, "offer": Side.ASK, "ask": Side.ASK}


class _Envelope(msgspec.Struct):
    channel: str
    timestamp: str
    sequence_num: int
    events: msgspec.Raw
    client_id: str = ""


class _Row(msgspec.Struct):
    side: str
    price_level: str
    new_quantity: str
    event_time: str | None = None


class _L2Event(msgspec.Struct):
    type: str
    product_id: str
    updates: list[_Row]


class _MarketTrade(msgspec.Struct):
    trade_id: str
    product_id: str
    price: str
    size: str
    time: str
    side: str = ""


class _TradeEvent(msgspec.Struct):
    trades: list[_MarketTrade]


class _Tick(msgspec.Struct):
    product_id: str
    best_bid: str | None = None
    best_bid_quantity: str | None = None
    best_ask: str | None = None
    best_ask_quantity: str | None = None


class _TickerEvent(msgspec.Struct):
    tickers: list[_Tick]


class _Heartbeat(msgspec.Struct):
    heartbeat_counter: int


_env = msgspec.json.Decoder(_Envelope)
_heartbeat_events = msgspec.json.Decoder(list[_Heartbeat])
_l2_events = msgspec.json.Decoder(list[_L2Event])
_trade_events = msgspec.json.Decoder(list[_TradeEvent])
_ticker_events = msgspec.json.Decoder(list[_TickerEvent])
_KINDS = {"snapshot": Kind.SNAPSHOT, "update": Kind.DELTA}


class CoinbaseAdvanced(VenueBase):
    venue: ClassVar[str] = "coinbase_advanced"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return ContiguousRule()

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        """Records of one frame, then a sequence-only delta for each other known book."""
        try:
            env = _env.decode(frame)
        except msgspec.ValidationError:
            return [self._control(frame, recv_ns)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed JSON ({exc})", frame) from exc
        try:
            ts_ns = iso_ns(env.timestamp)
            out = self._records(env, ts_ns, recv_ns)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {env.channel} events ({exc})", frame) from exc
        except (ValueError, TypeError, OverflowError) as exc:
            where = f"{env.channel} #{env.sequence_num}"
            raise ParseError(self.venue, f"{where}: {exc}", frame) from exc
        touched = {m.symbol for m in out if isinstance(m, BookMessage)}
        out.extend(self._carriers(touched, env.sequence_num, ts_ns, recv_ns))
        return out

    def _records(self, env: _Envelope, ts_ns: int, recv_ns: int) -> list[Message]:
        ch, seq, events = env.channel, env.sequence_num, env.events
        if ch == "l2_data":
            return [self._book(e, seq, ts_ns, recv_ns) for e in _l2_events.decode(events)]
        if ch == "market_trades":
            return [self._trade(t, recv_ns) for e in _trade_events.decode(events) for t in e.trades]
        if ch in ("ticker", "ticker_batch"):
            return [self._quote(t, ts_ns, recv_ns) for e in _ticker_events.decode(events)
                    for t in e.tickers]
        if ch == "heartbeats":
            beats = [e.heartbeat_counter for e in _heartbeat_events.decode(events)]
            return [Status(self.venue, None, f"heartbeat #{seq} counter {beats}", recv_ns)]
        return [Status(self.venue, None, f"{ch} #{seq}", recv_ns)]

    def _book(self, e: _L2Event, seq: int, ts_ns: int, recv_ns: int) -> BookMessage:
        kind = _KINDS.get(e.type)
        if kind is None:
            raise ValueError(f"l2_data event type {e.type!r} is not snapshot/update")
        sides: tuple[list[list[str]], list[list[str]]] = ([], [])
        engine_ns = 0
        for r in e.updates:
            side = _SIDES.get(r.side)
            if side is None:
                raise ValueError(f"side {r.side!r} is not bid/offer/ask")
            sides[side is Side.ASK].append([r.price_level, r.new_quantity])
            if r.event_time is not None:
                engine_ns = max(engine_ns, iso_ns(r.event_time))
        inst = self.instruments.resolve(e.product_id, sides[0] + sides[1],
                                        min_price_exp=_FLOOR, min_size_exp=_FLOOR)
        levels = text_levels(sides[0], sides[1], inst, ts_exchange_ns=ts_ns, ts_recv_ns=recv_ns,
                             snapshot=kind is Kind.SNAPSHOT)
        return BookMessage(self.venue, e.product_id, kind, levels, recv_ns, ts_ns, last_seq=seq,
                           conn_seq=seq, extra={"event_time_ns": engine_ns or None})

    def _carriers(self, touched: set[str], seq: int, ts_ns: int, recv_ns: int) -> Iterable[Message]:
        for inst in self.instruments:
            if inst.symbol not in touched:
                yield BookMessage(self.venue, inst.symbol, Kind.DELTA, EMPTY_LEVELS, recv_ns, ts_ns,
                                  last_seq=seq, conn_seq=seq, extra={"sequence_only": True})

    def _trade(self, t: _MarketTrade, recv_ns: int) -> Message:
        inst = self.instruments.get(t.product_id)
        if inst is None:
            return Status(self.venue, t.product_id, f"trade {t.trade_id} before any book", recv_ns)
        return Trade(self.venue, t.product_id, parse_fixed(t.price, inst.price_exp),
                     parse_fixed(t.size, inst.size_exp), None, t.trade_id, recv_ns,
                     iso_ns(t.time))

    def _quote(self, t: _Tick, ts_ns: int, recv_ns: int) -> Message:
        bid, bq, ask, aq = t.best_bid, t.best_bid_quantity, t.best_ask, t.best_ask_quantity
        if bid is None or bq is None or ask is None or aq is None:
            text = f"ticker bid {bid} ask {ask} (no sizes)"
            return Status(self.venue, t.product_id, text, recv_ns)
        inst = self.instruments.get(t.product_id)
        if inst is None:
            return Status(self.venue, t.product_id, f"ticker bid {bid} ask {ask} before any book",
                          recv_ns)
        p, s = inst.price_exp, inst.size_exp
        return Quote(self.venue, t.product_id, parse_fixed(bid, p), parse_fixed(bq, s),
                     parse_fixed(ask, p), parse_fixed(aq, s), None, recv_ns, ts_ns)

    def _control(self, frame: bytes, recv_ns: int) -> Message:
        obj = decode_json(self.venue, frame)
        if isinstance(obj, dict) and obj.get("type") == "error":
            return Status(self.venue, None, f"error: {obj.get('message')}", recv_ns, True)
        raise ParseError(self.venue, "expected an envelope with channel, timestamp, sequence_num "
                         "and events, or an error", frame)


PARSERS: dict[str, type[VenueBase]] = {CoinbaseAdvanced.venue: CoinbaseAdvanced}


def sniff(rec: CaptureRecord) -> str | None:
    """Advanced Trade envelopes name their channel and carry ``sequence_num``."""
    if rec.kind is not RecordKind.FRAME:
        return None
    head = rec.payload[:300]
    if b'"channel":"l2_data"' in head or (b'"sequence_num"' in head and b'"client_id"' in head):
        return CoinbaseAdvanced.venue
    return None
