"""Deribit JSON-RPC v2: ``book.{instrument}.{raw|100ms|agg2}`` (snapshot, then
changes chained by change_id/prev_change_id), grouped ``book.{instrument}.{group}.{depth}.{interval}``
(every push a snapshot), ``ticker.*`` (venue top of book) and ``trades.*``.

Raw samples (as recorded, options; prices and amounts are JSON numbers)::

    {"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.ETH-30JUL21-2800-C.raw",
     "data":{"type":"snapshot","timestamp":1626993723632,"instrument_name":"ETH-30JUL21-2800-C",
     "change_id":13169025645,"bids":[["new",0.0015,4714.0],...],"asks":[["new",0.0025,873.0],...]}}}
    {"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-24SEP21-8000-P.raw",
     "data":{"type":"change","timestamp":1626993724318,"prev_change_id":33195894164,
     "instrument_name":"BTC-24SEP21-8000-P","change_id":33195894355,"bids":[],
     "asks":[["new",0.001,2.6]]}}}
    {"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.none.10.100ms",
     "data":{"timestamp":1554375447971,"instrument_name":"BTC-PERPETUAL","change_id":297219,
     "bids":[[5042.34,30.0]],"asks":[[5042.64,40.0]]}}}
    {"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.ETH-30JUL21-2800-C.raw",
     "data":{"instrument_name":"ETH-30JUL21-2800-C","timestamp":1626993723632,
     "best_bid_price":0.0015,"best_bid_amount":4714.0,"best_ask_price":0.0025,
     "best_ask_amount":873.0,...}}}
    {"jsonrpc":"2.0","method":"subscription","params":{"channel":"trades.BTC-PERPETUAL.raw",
     "data":[{"trade_id":"48079254","price":5042.5,"amount":40.0,"direction":"buy",
     "instrument_name":"BTC-PERPETUAL","timestamp":1590484156350,...}]}}
    {"jsonrpc":"2.0","id":0,"result":["book.ETH-30JUL21-2800-C.raw",...],"usIn":...,"testnet":false}
    {"jsonrpc":"2.0","id":7,"error":{"code":11050,"message":"bad_request"}}
    {"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}

Change ids are not contiguous (…164 -> …355): only prev_change_id links
messages, so the book follows crossbook.sync_rules.PrevChainRule. Actions are
explicit (new/change/delete -> ADD/UPDATE/DELETE; a delete carries amount 0).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from crossbook import dtypes
from crossbook._side import Side
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Drop, Instrument, Kind, Message, Quote, Status, Trade
from crossbook.sync_rules import PrevChainRule, SequenceRule
from crossbook.timeutil import NS_PER_MS
from crossbook.venues._exactnum import build_levels, resolve, to_mantissa
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase, digits_int

__all__ = ["PARSERS", "Deribit", "sniff"]

_ACTIONS = {"new": dtypes.ADD, "change": dtypes.UPDATE, "delete": dtypes.DELETE}
# Option ticks go down to 0.0001 (tick_size_steps) and amounts to 0.1 contract;
# JSON numbers are shortest-form, so a first snapshot of 0.002-only prices must
# not fix the exponent at 3. Other instruments take what their wire shows, at least this.
_OPTION = re.compile(r"^[A-Z0-9_]+-\d{1,2}[A-Z]{3}\d{2}-[0-9d]+-[CP]$")
_OPTION_FLOOR = (4, 1)
_OTHER_FLOOR = (2, 0)


class _Envelope(msgspec.Struct):
    jsonrpc: str = ""
    method: str | None = None
    params: msgspec.Raw = msgspec.Raw()  # empty when absent
    id: int | str | None = None
    result: msgspec.Raw = msgspec.Raw()
    error: msgspec.Raw = msgspec.Raw()


class _Params(msgspec.Struct):
    channel: str = ""
    data: msgspec.Raw = msgspec.Raw()


class _Book(msgspec.Struct):
    instrument_name: str
    timestamp: int
    change_id: int
    bids: list[list[Any]]
    asks: list[list[Any]]
    type: str | None = None
    prev_change_id: int | None = None


class _Ticker(msgspec.Struct):
    instrument_name: str
    timestamp: int
    best_bid_price: Decimal | None = None
    best_bid_amount: Decimal | None = None
    best_ask_price: Decimal | None = None
    best_ask_amount: Decimal | None = None


class _Trade(msgspec.Struct):
    instrument_name: str
    timestamp: int
    trade_id: str
    price: Decimal
    amount: Decimal
    direction: str


class _Error(msgspec.Struct):
    code: int = 0
    message: str = ""


_env = msgspec.json.Decoder(_Envelope)
_params = msgspec.json.Decoder(_Params)
_book = msgspec.json.Decoder(_Book, float_hook=Decimal)  # exact digits, never float
_ticker = msgspec.json.Decoder(_Ticker)
_trades = msgspec.json.Decoder(list[_Trade])
_error = msgspec.json.Decoder(_Error)


class Deribit(VenueBase):
    venue: ClassVar[str] = "deribit"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return PrevChainRule()

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            env = _env.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed JSON-RPC frame ({exc})", frame) from exc
        if env.method == "subscription" and env.params:
            return self._notification(env.params, frame, recv_ns)
        if env.method == "heartbeat":
            return [Status(self.venue, None, "heartbeat", recv_ns)]
        if env.error and bytes(env.error) != b"null":
            try:
                err = _error.decode(env.error)
            except DECODE_ERRORS:
                err = _Error(message=bytes(env.error).decode(errors="replace"))
            return [Status(self.venue, None, f"error id={env.id} {err.code}: {err.message}",
                           recv_ns, error=True)]
        if env.result:
            return [Status(self.venue, None, f"result id={env.id}: {bytes(env.result)[:200]!r}",
                           recv_ns)]
        raise ParseError(self.venue, "neither a notification nor a response", frame)

    def _notification(self, raw: msgspec.Raw, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            params = _params.decode(raw)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad subscription params ({exc})", frame) from exc
        channel, data = params.channel, params.data
        if not data:
            raise ParseError(self.venue, f"{channel}: notification without data", frame)
        kind = channel.split(".", 1)[0]
        try:
            if kind == "book":
                return [self._book(_book.decode(data), channel, recv_ns)]
            if kind == "ticker":
                return self._ticker(_ticker.decode(data), recv_ns)
            if kind == "trades":
                return [self._trade(t, recv_ns) for t in _trades.decode(data)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {channel} payload ({exc})", frame) from exc
        except (ValueError, OverflowError, TypeError) as exc:
            raise ParseError(self.venue, f"{channel}: {exc}", frame) from exc
        return [Status(self.venue, None, f"unhandled channel {channel}", recv_ns,
                       drop=Drop.UNSUPPORTED)]

    def _instrument(self, symbol: str, prices: list[object], sizes: list[object]) -> Instrument:
        floor = _OPTION_FLOOR if _OPTION.match(symbol) else _OTHER_FLOOR
        return resolve(self.instruments, symbol, prices, sizes,
                       min_price_exp=floor[0], min_size_exp=floor[1])

    def _book(self, b: _Book, channel: str, recv_ns: int) -> BookMessage:
        grouped = channel.count(".") == 4  # book.{instrument}.{group}.{depth}.{interval}
        sides: list[int] = []
        prices: list[object] = []
        sizes: list[object] = []
        actions: list[int] = []
        for side, rows in ((Side.BID, b.bids), (Side.ASK, b.asks)):
            for row in rows:
                action, price, size = _row(row, grouped)
                sides.append(side)
                prices.append(price)
                sizes.append(size)
                actions.append(action)
        if grouped or b.type == "snapshot":
            kind = Kind.SNAPSHOT
        elif b.type == "change":
            kind = Kind.DELTA
            if b.prev_change_id is None:
                raise ValueError(f"change {b.change_id} without prev_change_id")
        else:
            raise ValueError(f"unknown book type {b.type!r}")
        inst = self._instrument(b.instrument_name, prices, sizes)
        ts_ns = b.timestamp * NS_PER_MS
        levels = build_levels(sides, prices, sizes, inst, actions=actions, ts_exchange_ns=ts_ns,
                              ts_recv_ns=recv_ns, snapshot=kind is Kind.SNAPSHOT)
        depth = digits_int(channel.split(".")[3]) if grouped else None
        return BookMessage(self.venue, b.instrument_name, kind, levels, recv_ns, ts_ns,
                           last_seq=b.change_id,
                           prev_seq=None if kind is Kind.SNAPSHOT else b.prev_change_id,
                           depth_limit=depth, extra={"channel": channel})

    def _ticker(self, t: _Ticker, recv_ns: int) -> list[Message]:
        values = (t.best_bid_price, t.best_bid_amount, t.best_ask_price, t.best_ask_amount)
        if any(v is None for v in values):
            return [Status(self.venue, t.instrument_name, "ticker without best bid/ask", recv_ns)]
        inst = self._instrument(t.instrument_name, [values[0], values[2]], [values[1], values[3]])
        bp, ap = (to_mantissa(v, inst.price_exp) for v in (values[0], values[2]))
        bs, as_ = (to_mantissa(v, inst.size_exp) for v in (values[1], values[3]))
        # The ticker has no change_id, so it cannot be matched to a book state: seq None.
        return [Quote(self.venue, t.instrument_name, bp, bs, ap, as_, None, recv_ns,
                      t.timestamp * NS_PER_MS)]

    def _trade(self, t: _Trade, recv_ns: int) -> Trade:
        inst = self._instrument(t.instrument_name, [t.price], [t.amount])
        aggressor = {"buy": Side.BID, "sell": Side.ASK}.get(t.direction)
        if aggressor is None:
            raise ValueError(f"trade {t.trade_id}: unknown direction {t.direction!r}")
        return Trade(self.venue, t.instrument_name, to_mantissa(t.price, inst.price_exp),
                     to_mantissa(t.amount, inst.size_exp), aggressor, t.trade_id, recv_ns,
                     t.timestamp * NS_PER_MS)


def _row(row: list[Any], grouped: bool) -> tuple[int, object, object]:
    """(action, price, amount) of one wire row: [action, price, amount], or
    [price, amount] on grouped channels (absolute sizes)."""
    if grouped:
        if len(row) != 2:
            raise ValueError(f"grouped book row {row!r} is not [price, amount]")
        return dtypes.UPDATE, _number(row[0]), _number(row[1])
    if len(row) != 3 or not isinstance(row[0], str):
        raise ValueError(f"book row {row!r} is not [action, price, amount]")
    action = _ACTIONS.get(row[0])
    if action is None:
        raise ValueError(f"unknown book action {row[0]!r}")
    price, amount = _number(row[1]), _number(row[2])
    return action, price, (0 if action == dtypes.DELETE else amount)


def _number(v: object) -> Decimal | int:
    if isinstance(v, bool) or not isinstance(v, (Decimal, int)):
        raise ValueError(f"expected a JSON number, got {v!r}")
    return v


PARSERS: dict[str, type[VenueBase]] = {Deribit.venue: Deribit}

_CHANNELS = (b'"channel":"book.', b'"channel":"ticker.', b'"channel":"trades.')


def sniff(rec: CaptureRecord) -> str | None:
    """Deribit's JSON-RPC notifications on its own channel names, or a subscribe to them."""
    head = rec.payload[:300]
    if b'"jsonrpc":"2.0"' not in head:
        return None
    if rec.kind is RecordKind.FRAME and b'"method":"subscription"' in head and any(
            c in head for c in _CHANNELS):
        return Deribit.venue
    if rec.kind is RecordKind.SENT and b'"public/subscribe"' in head and b'"book.' in head:
        return Deribit.venue
    return None
