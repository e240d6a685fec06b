"""Huobi/HTX market websocket: ``market.$symbol.depth.step0`` (every push a full
snapshot of up to 150 levels a side), ``market.$symbol.trade.detail``, pings and
acks; spot (venue "huobi") and coin-margined swaps (venue "huobi_swap").

Raw samples (as recorded; the venue gzips frames, the recorder decoded them;
prices and sizes are JSON numbers, in exponent form when small or large)::

    {"id":1,"status":"ok","subbed":"market.trioeth.depth.step0","ts":1618678070653}
    {"ch":"market.trioeth.depth.step0","ts":1618678069870,"tick":{"bids":[[9.121E-7,92730.24],...],
     "asks":[[9.28E-7,4342.25],...],"ts":1618678069868,"version":100182534697}}
    {"ch":"market.ATOM-USD.depth.step0","ts":1645289384843,"tick":{"mrid":74377472700,
     "id":1645289384,"bids":[[26.5766,50],...],"asks":[...],"ts":1645289384842,"version":1645289384,
     "ch":"market.ATOM-USD.depth.step0"}}
    {"ch":"market.trioeth.trade.detail","ts":1618678027942,"tick":{"id":100182534526,
     "ts":1618678027940,"data":[{"id":100182534526255757567432481,"ts":1618678027940,
     "tradeId":100045088885,"amount":20995.88,"price":9.2E-7,"direction":"buy"}]}}
    {"ping":1618678073643}

What the recorded captures hold: only ``depth.step0`` snapshots (no incremental
``mbp`` feed with seqNum/prevSeqNum, no swap ``depth.size_150.high_freq``), so
each push replaces the book and no sequence can be checked: spot ``version``
rises push by push (kept as last_seq), swap ``version`` is the push's second
and repeats (``mrid``, the last match id, is kept as cross_seq).

Spot sizes are the venue's floating-point sums printed in full
(``4491208.1828904385``, 17 significant digits): kept exactly, never rounded.
A spot instrument's size exponent gives the mantissa every digit an int64 has
beyond the first book's largest size. A book that still does not fit (the
recorded borusdt and xvgeth books never do: 15 decimals beside 4-digit sizes)
is reported as a Status error and a RESET, so the older book is withheld
rather than served as current. Swap sizes are whole contracts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from crossbook._side import Side
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import (
    Drop,
    EMPTY_LEVELS,
    BookMessage,
    Instrument,
    Kind,
    Message,
    Status,
    Trade,
    json_level_events,
)
from crossbook.sync_rules import SequenceRule, UnsequencedRule
from crossbook.timeutil import NS_PER_MS
from crossbook.venues._exactnum import decimals, to_mantissa
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase

__all__ = ["PARSERS", "HuobiSpot", "HuobiSwap", "sniff"]

_DEPTH = 150
_INT64_DIGITS = 18  # every 18-digit mantissa fits an int64


class _Frame(msgspec.Struct):
    ch: str | None = None
    ts: int | None = None
    tick: Any = None
    ping: int | None = None
    pong: int | None = None
    status: str | None = None
    subbed: str | None = None
    unsubbed: str | None = None
    id: str | int | None = None
    err_code: str | None = msgspec.field(default=None, name="err-code")
    err_msg: str | None = msgspec.field(default=None, name="err-msg")


# The level arrays stay undecoded: json_level_events reads their numbers' exact text.
class _Depth(msgspec.Struct):
    bids: msgspec.Raw
    asks: msgspec.Raw
    ts: int
    version: int
    mrid: int | None = None


class _DepthFrame(msgspec.Struct):
    ch: str
    tick: _Depth


class _Trade(msgspec.Struct):
    ts: int
    amount: Decimal
    price: Decimal
    direction: str
    tradeId: int | None = None
    id: int | None = None


_frame = msgspec.json.Decoder(_Frame, float_hook=Decimal)
_depth_frame = msgspec.json.Decoder(_DepthFrame)
_rows = msgspec.json.Decoder(list[tuple[Decimal, Decimal]])


def _decimal_rows(d: _Depth) -> list[tuple[Decimal, Decimal]]:
    """The levels as exact Decimals: for inferring exponents and explaining failures."""
    rows = _rows.decode(d.bids) + _rows.decode(d.asks)
    for row in rows:
        for v in row:
            if not v.is_finite():  # a Decimal field takes "NaN" text; no comparison does
                raise ValueError(f"not a finite number: {v}")
    return rows


class _HuobiBase(VenueBase):
    whole_contracts: ClassVar[bool] = False

    def sync_rule(self, symbol: str) -> SequenceRule:
        return UnsequencedRule()

    def depth_limit(self, symbol: str) -> int | None:
        return _DEPTH

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        if frame.startswith(b'{"ch":"market.') and frame.find(b".depth.step", 14, 80) > 0:
            return self._depth(frame, recv_ns)  # nearly every frame
        try:
            f = _frame.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed frame ({exc})", frame) from exc
        if f.ch is None:
            return [self._control(f, frame, recv_ns)]
        parts = f.ch.split(".")
        if len(parts) < 3 or parts[0] != "market" or not isinstance(f.tick, dict):
            raise ParseError(self.venue, f"unexpected channel {f.ch!r}", frame)
        symbol = parts[1]
        try:
            if parts[2] == "depth" and len(parts) == 4 and parts[3].startswith("step"):
                return self._depth(frame, recv_ns)
            if parts[2:] == ["trade", "detail"]:
                if self.instruments.get(symbol) is None:
                    # Exponents come from the first book; one trade price could contradict it.
                    return [Status(self.venue, symbol, "trades before the first book", recv_ns)]
                data = msgspec.convert(f.tick.get("data"), list[_Trade])
                return [self._trade(symbol, t, recv_ns) for t in data]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {f.ch} payload ({exc})", frame) from exc
        except (ValueError, OverflowError, TypeError) as exc:
            raise ParseError(self.venue, f"{f.ch}: {exc}", frame) from exc
        return [Status(self.venue, symbol, f"unhandled channel {f.ch}", recv_ns,
                       drop=Drop.UNSUPPORTED)]

    def _depth(self, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            f = _depth_frame.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad depth payload ({exc})", frame) from exc
        parts = f.ch.split(".")
        if len(parts) != 4 or parts[0] != "market" or parts[2] != "depth" or not parts[3].startswith("step"):
            raise ParseError(self.venue, f"unexpected channel {f.ch!r}", frame)
        try:
            return self._snapshot(parts[1], f.tick, recv_ns)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {f.ch} levels ({exc})", frame) from exc
        except (ValueError, OverflowError, TypeError) as exc:
            raise ParseError(self.venue, f"{f.ch}: {exc}", frame) from exc

    def _control(self, f: _Frame, frame: bytes, recv_ns: int) -> Status:
        if f.ping is not None:
            # The client must answer {"pong": <same>} or be disconnected.
            return Status(self.venue, None, f"ping {f.ping}", recv_ns)
        if f.pong is not None:
            return Status(self.venue, None, f"pong {f.pong}", recv_ns)
        if f.status == "ok":
            return Status(self.venue, None, f"ok {f.subbed or f.unsubbed or ''} id={f.id}", recv_ns)
        if f.status == "error":
            return Status(self.venue, None, f"error {f.err_code}: {f.err_msg}", recv_ns, error=True)
        raise ParseError(self.venue, "neither a channel push nor a control frame", frame)

    def _instrument(self, symbol: str, rows: list[tuple[Decimal, Decimal]]) -> Instrument:
        inst = self.instruments.get(symbol)
        if inst is None:
            sizes = [r[1] for r in rows]
            size_exp = decimals(sizes)
            if not self.whole_contracts:
                # Spot sizes are doubles printed to 17 significant digits: give the
                # mantissa every digit an int64 has beyond the first book's largest size.
                biggest = max((abs(v) for v in sizes), default=Decimal(0))
                size_exp = max(0, _INT64_DIGITS - len(str(int(biggest))))
            inst = Instrument(self.venue, symbol, price_exp=decimals(r[0] for r in rows),
                              size_exp=size_exp)
            self.instruments.add(inst)
        return inst

    def _snapshot(self, symbol: str, d: _Depth, recv_ns: int) -> list[Message]:
        inst = self.instruments.get(symbol) or self._instrument(symbol, _decimal_rows(d))
        ts_ns = d.ts * NS_PER_MS
        try:
            levels = json_level_events(d.bids, d.asks, inst.price_exp, inst.size_exp, ts_ns,
                                       recv_ns, snapshot=True)
        except (ValueError, OverflowError) as exc:
            if any(r[0] < 0 or r[1] < 0 for r in _decimal_rows(d)):
                raise
            # A valid book this instrument's mantissas cannot hold exactly: the book
            # already held is older than the venue's, so it is withheld, loudly.
            return [BookMessage(self.venue, symbol, Kind.RESET, EMPTY_LEVELS, recv_ns, ts_ns,
                                last_seq=d.version, cross_seq=d.mrid),
                    Status(self.venue, symbol, f"book version {d.version} not representable: {exc}",
                           recv_ns, error=True)]
        if (levels["size"] == 0).any():
            raise ValueError(f"{symbol} version {d.version}: a level of size 0 in a snapshot")
        return [BookMessage(self.venue, symbol, Kind.SNAPSHOT, levels, recv_ns, ts_ns,
                            last_seq=d.version, cross_seq=d.mrid, depth_limit=_DEPTH)]

    def _trade(self, symbol: str, t: _Trade, recv_ns: int) -> Trade:
        inst = self._instrument(symbol, [(t.price, t.amount)])
        aggressor = {"buy": Side.BID, "sell": Side.ASK}.get(t.direction)
        if aggressor is None:
            raise ValueError(f"trade {t.tradeId}: unknown direction {t.direction!r}")
        trade_id = t.tradeId if t.tradeId is not None else t.id
        return Trade(self.venue, symbol, to_mantissa(t.price, inst.price_exp),
                     to_mantissa(t.amount, inst.size_exp), aggressor,
                     None if trade_id is None else str(trade_id), recv_ns, t.ts * NS_PER_MS)


class HuobiSpot(_HuobiBase):
    venue: ClassVar[str] = "huobi"


class HuobiSwap(_HuobiBase):
    venue: ClassVar[str] = "huobi_swap"
    whole_contracts: ClassVar[bool] = True


PARSERS: dict[str, type[VenueBase]] = {HuobiSpot.venue: HuobiSpot, HuobiSwap.venue: HuobiSwap}


def sniff(rec: CaptureRecord) -> str | None:
    """Spot symbols are lower case (market.btcusdt.*), contract codes upper case with a dash."""
    head = rec.payload[:100]
    if rec.kind is RecordKind.FRAME and head.startswith(b'{"ch":"market.'):
        channel = head[len(b'{"ch":"market.'):].split(b'"', 1)[0]
    elif rec.kind is RecordKind.SENT and head.startswith(b'{"sub":"market.'):
        channel = head[len(b'{"sub":"market.'):].split(b'"', 1)[0]
    else:
        return None
    symbol, _, rest = channel.partition(b".")
    if not rest.startswith((b"depth.", b"trade.detail")):
        return None
    if b"-" in symbol and symbol.upper() == symbol:
        return HuobiSwap.venue
    return HuobiSpot.venue if symbol.islower() and symbol.isalnum() else None
