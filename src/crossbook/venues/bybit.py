"""Bybit v5 public websocket: ``orderbook.{depth}.{symbol}`` (snapshot + deltas,
depth-limited), ``publicTrade.{symbol}``, and control frames.

Raw samples (documentation examples, venues.md §7; the historical ob500 files
carry the same frames one per line)::

    {"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1672304484978,
     "data":{"s":"BTCUSDT","b":[["16493.50","0.006"],["16493.00","0.100"]],
     "a":[["16611.00","0.029"],["16612.00","0.213"]],"u":18521288,"seq":7961638724},
     "cts":1672304484976}
    {"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1687940967466,
     "data":{"s":"BTCUSDT","b":[["30247.20","30.028"],["30240.00","0"]],
     "a":[["30248.70","0"],["30249.30","0.892"]],"u":177400507,"seq":66544703342},
     "cts":1687940967464}
    {"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,
     "s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick",
     "i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]}
    {"success":true,"ret_msg":"subscribe","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b",
     "req_id":"10001","op":"subscribe"}

Sync (venues.md §7, §14.2): every snapshot replaces the book (the venue re-sends
one whenever it has a problem); ``u == 1`` means the service restarted, so the
parser emits a RESET before the message; a delta continues the book when its
``u`` is the previous one plus one, is stale when ``u`` is not above it, and is
a gap otherwise. The docs promise contiguous ``u`` only for the 1000-level
stream; the historical ob500 data is contiguous too, so the check is on by
default and can be relaxed (``BybitDepthRule(contiguous=False)``). ``seq`` (the
cross sequence, not contiguous) is kept as cross_seq; ``cts`` (matching-engine
time) goes to ``extra["ts_engine_ns"]``. Books are truncated to the topic's depth
after every message.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import (
    EMPTY_LEVELS,
    BookMessage,
    Drop,
    Instrument,
    Kind,
    Message,
    Status,
    Trade,
    level_events,
)
from crossbook.sync_rules import SequenceRule, Verdict
from crossbook.timeutil import NS_PER_MS
from crossbook.venues._textlevels import read_wired, wire_levels
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase, digits_int

__all__ = ["PARSERS", "Bybit", "BybitDepthRule", "sniff"]



class BybitDepthRule:
    """Deltas of ``orderbook.{depth}.{symbol}``: ``u`` must follow the book's ``u``."""

    name: ClassVar[str] = "bybit_depth"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "stream"

    def __init__(self, contiguous: bool = True) -> None:
        self.contiguous = contiguous

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        return self.next(snapshot_id, msg)

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        u = msg.last_seq
        if u is None:
            raise ValueError(f"{msg.venue} {msg.symbol}: delta lacks u")
        if last_id is None:
            return Verdict.GAP  # nothing to chain onto: only a snapshot can start a book
        if u <= last_id:
            return Verdict.STALE
        if self.contiguous and u != last_id + 1:
            return Verdict.GAP
        return Verdict.APPLY


class _Frame(msgspec.Struct):
    topic: str | None = None
    type: str | None = None
    ts: int | None = None
    cts: int | None = None
    data: msgspec.Raw = msgspec.Raw()
    op: str | None = None
    success: bool | None = None
    ret_msg: str | None = None


class _Depth(msgspec.Struct):
    s: str
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]
    u: int
    seq: int | None = None


class _WireDepth(msgspec.Struct):
    """_Depth with its level arrays left undecoded, for wire_levels."""

    s: str
    b: msgspec.Raw
    a: msgspec.Raw
    u: int
    seq: int | None = None


class _Wired(msgspec.Struct):
    """A _WireDepth whose levels wire_levels read, at its symbol's known exponents."""

    s: str
    u: int
    seq: int | None
    levels: npt.NDArray[np.void]


class _Trade(msgspec.Struct):
    T: int
    s: str
    S: str
    v: str
    p: str
    i: str


_frame = msgspec.json.Decoder(_Frame)
_depth = msgspec.json.Decoder(_Depth)
_wire_depth = msgspec.json.Decoder(_WireDepth)
_trades = msgspec.json.Decoder(list[_Trade])


class Bybit(VenueBase):
    venue: ClassVar[str] = "bybit"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return BybitDepthRule()

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            f = _frame.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed frame ({exc})", frame) from exc
        if f.topic is None:
            return [self._control(f, frame, recv_ns)]
        if not f.data:
            raise ParseError(self.venue, f"{f.topic}: no data", frame)
        try:
            if f.topic.startswith("orderbook."):
                return self._book(f, self._wired(f, recv_ns) or _depth.decode(f.data), recv_ns)
            if f.topic.startswith("publicTrade."):
                return [self._trade(t, recv_ns) for t in _trades.decode(f.data)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {f.topic} payload ({exc})", frame) from exc
        except (ValueError, OverflowError, TypeError) as exc:
            raise ParseError(self.venue, f"{f.topic}: {exc}", frame) from exc
        return [Status(self.venue, None, f"unhandled topic {f.topic}", recv_ns,
                       drop=Drop.UNSUPPORTED)]

    def _control(self, f: _Frame, frame: bytes, recv_ns: int) -> Status:
        if f.op is None and f.success is None:
            raise ParseError(self.venue, "neither a topic nor a control frame", frame)
        failed = f.success is False
        return Status(self.venue, None, f"{f.op}: success={f.success} {f.ret_msg or ''}".rstrip(),
                      recv_ns, error=failed)

    def _wired(self, f: _Frame, recv_ns: int) -> _Wired | None:
        return read_wired(lambda: _wire_depth.decode(f.data), lambda d: self.instruments.get(d.s),
                          lambda d, inst: self._wired_depth(f, d, inst, recv_ns))

    def _wired_depth(self, f: _Frame, d: _WireDepth, inst: Instrument,
                     recv_ns: int) -> _Wired | None:
        ts_exchange_ns = f.ts * NS_PER_MS if f.ts is not None else 0
        levels = wire_levels(d.b, d.a, inst, ts_exchange_ns=ts_exchange_ns, ts_recv_ns=recv_ns,
                             snapshot=f.type == "snapshot")
        return None if levels is None else _Wired(d.s, d.u, d.seq, levels)

    def _book(self, f: _Frame, d: _Depth | _Wired, recv_ns: int) -> list[Message]:
        topic = f.topic or ""
        parts = topic.split(".")
        if len(parts) != 3 or parts[2] != d.s:
            raise ValueError(f"topic {topic} does not name symbol {d.s}")
        depth = digits_int(parts[1])
        if f.type == "snapshot":
            kind = Kind.SNAPSHOT
        elif f.type == "delta":
            kind = Kind.DELTA
        else:
            raise ValueError(f"unknown book type {f.type!r}")
        ts_ns = f.ts * NS_PER_MS if f.ts is not None else None
        if isinstance(d, _Wired):
            levels = d.levels
        else:
            inst = self.instruments.resolve(d.s, [*d.b, *d.a])
            levels = level_events(d.b, d.a, inst.price_exp, inst.size_exp,
                                  ts_exchange_ns=ts_ns or 0, ts_recv_ns=recv_ns,
                                  snapshot=kind is Kind.SNAPSHOT)
        extra: dict[str, object] = {"topic": topic}
        if f.cts is not None:
            extra["ts_engine_ns"] = f.cts * NS_PER_MS
        msg = BookMessage(self.venue, d.s, kind, levels, recv_ns, ts_ns, last_seq=d.u,
                          cross_seq=d.seq, depth_limit=depth, extra=extra)
        if d.u == 1:
            # The service restarted: whatever the book held is void, whatever this message is.
            reset = BookMessage(self.venue, d.s, Kind.RESET, EMPTY_LEVELS, recv_ns, ts_ns,
                                last_seq=d.u, cross_seq=d.seq, extra={"topic": topic})
            return [reset, msg]
        return [msg]

    def _trade(self, t: _Trade, recv_ns: int) -> Trade:
        inst = self.instruments.resolve(t.s, [(t.p, t.v)])
        aggressor = {"Buy": Side.BID, "Sell": Side.ASK}.get(t.S)
        if aggressor is None:
            raise ValueError(f"trade {t.i}: unknown side {t.S!r}")
        price, size = parse_fixed(t.p, inst.price_exp), parse_fixed(t.v, inst.size_exp)
        if price < 0 or size < 0:
            raise ValueError(f"trade {t.i}: negative price or size")
        return Trade(self.venue, t.s, price, size, aggressor, t.i, recv_ns, t.T * NS_PER_MS)


PARSERS: dict[str, type[VenueBase]] = {Bybit.venue: Bybit}


def sniff(rec: CaptureRecord) -> str | None:
    """v5 topics (``orderbook.50.X``, ``publicTrade.X``) or a v5 subscribe; the legacy
    ``orderBookL2_25``/``trade.`` topics belong to bybit_legacy."""
    head = rec.payload[:120]
    if rec.kind is RecordKind.FRAME and (
            b'"topic":"orderbook.' in head or b'"topic":"publicTrade.' in head):
        return Bybit.venue
    if rec.kind is RecordKind.SENT and b'"op":"subscribe"' in head and (
            b'"orderbook.' in head or b'"publicTrade.' in head):
        return Bybit.venue
    return None
