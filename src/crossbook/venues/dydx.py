"""dYdX indexer websockets: v3 ``v3_orderbook`` (levels ordered by offset) and
v4 ``v4_orderbook`` (plain absolute sizes), with their trade channels.

Raw samples, v3 (as recorded, 2021-10-28, subscribed with ``includeOffsets``)::

    {"type":"connected","connection_id":"60a4fc71-...","message_id":0}
    {"type":"subscribed","connection_id":"60a4fc71-...","message_id":1,"channel":"v3_orderbook",
     "id":"ETH-USD","contents":{"bids":[{"price":"1","offset":"2693487298","size":"6.2"},...],
     "asks":[{"price":"4217.8","offset":"2693987001","size":"0"},...]}}
    {"type":"channel_data","connection_id":"60a4fc71-...","message_id":21,"id":"ETH-USD",
     "channel":"v3_orderbook","contents":{"offset":"2693988240","bids":[],"asks":[["4217.8","13.34"]]}}
    {"type":"channel_data","connection_id":"60a4fc71-...","message_id":291,"id":"ETH-USD",
     "channel":"v3_trades","contents":{"trades":[{"size":"0.1","side":"BUY","price":"4215.6",
     "createdAt":"2021-10-28T18:03:51.833Z"}]}}

v4 (indexer documentation and client test fixtures)::

    {"type":"subscribed","connection_id":"9a75aff4-...","message_id":1,"channel":"v4_orderbook",
     "id":"ETH-USD","contents":{"bids":[{"price":"3040.6","size":"0.658"},...],"asks":[...]}}
    {"type":"channel_data","connection_id":"9a75aff4-...","message_id":2,"channel":"v4_orderbook",
     "id":"BTC-USD","version":"1.0.0","contents":{"bids":[["65554","0"]]}}
    {"type":"channel_batch_data","connection_id":"...","message_id":3,"channel":"v4_orderbook",
     "id":"BTC-USD","version":"1.0.0","contents":[{"bids":[["75292","0"]]},{"asks":[["75440","0.053"]]}]}

Sequencing. ``message_id`` counts every message of a connection, all channels
together, so one book sees rising ids with holes: an id equal to the book's is a
duplicate (stale), a lower one means messages were reordered (a gap); a lost
message cannot be seen from one book. The v3 capture shows the venue delivering
subscription replies out of id order, so ids are not checked across books.

v3 orders each price level by its own offset, not the book by message: a level
change applies only when the message's offset is above the level's current
offset (messages arrive with lower offsets than levels already seen: 34 such
level changes in the recorded capture). The snapshot lists levels of size 0
only to carry their offsets. BookSync has no per-level hook, so the parser
follows each v3 snapshot with an empty companion delta carrying the snapshot's
offset table, and V3OffsetRule (one per book) keeps every level's offset and
size; it turns a stale level change into a no-op in place (the level's current
size, or a delete of an absent level) and drops a message whose every change is stale.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import msgspec
import numpy as np

from crossbook import dtypes
from crossbook._side import Side
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import EMPTY_LEVELS, BookMessage, Instrument, Kind, Message, Status, Trade
from crossbook.sync_rules import SequenceRule, Verdict
from crossbook.venues._exactnum import build_levels, iso_ns, resolve, to_mantissa
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase

__all__ = ["PARSERS", "DydxV3", "DydxV4", "MessageIdRule", "V3OffsetRule", "sniff"]

_SNAPSHOT_OFFSETS = "dydx_v3_snapshot_offsets"
_SIDES = {"bids": int(Side.BID), "asks": int(Side.ASK)}


class MessageIdRule:
    """Books fed by a connection-wide rising message id."""

    name: ClassVar[str] = "dydx_message_id"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "stream"

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        return self.next(snapshot_id, msg)

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        mid = msg.last_seq
        if mid is None:
            raise ValueError(f"{msg.venue} {msg.symbol}: delta lacks message_id")
        if last_id is None or mid > last_id:
            return Verdict.APPLY
        return Verdict.STALE if mid == last_id else Verdict.GAP


class V3OffsetRule(MessageIdRule):
    """MessageIdRule plus v3's per-level offsets (see the module docstring)."""

    name: ClassVar[str] = "dydx_v3_offsets"

    def __init__(self) -> None:
        self._levels: dict[tuple[int, int], tuple[int, int]] = {}  # (side, price) -> (offset, size)
        self._ready = False
        self.stale_levels = 0

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        table = msg.extra.get(_SNAPSHOT_OFFSETS)
        if table is not None:
            assert isinstance(table, tuple) and len(table) == 4
            self._levels = {(int(s), int(p)): (int(o), int(z)) for s, p, z, o in zip(*table)}
            self._ready = True
            return Verdict.APPLY
        verdict = super().next(last_id, msg)
        if verdict is not Verdict.APPLY:
            return verdict
        if not self._ready:
            return Verdict.GAP  # no offsets to judge levels by: only a snapshot can start
        offset = msg.extra["offset"]
        assert isinstance(offset, int)
        lv = msg.levels
        stale = [i for i in range(len(lv))
                 if offset <= self._levels.get((int(lv["side"][i]), int(lv["price"][i])), (-1, 0))[0]]
        if stale and len(stale) == len(lv):
            self.stale_levels += len(stale)
            return Verdict.STALE
        for i in stale:
            _, size = self._levels[(int(lv["side"][i]), int(lv["price"][i]))]
            lv["size"][i] = size
            lv["action"][i] = dtypes.UPDATE if size else dtypes.DELETE
        self.stale_levels += len(stale)
        for i in set(range(len(lv))) - set(stale):
            self._levels[(int(lv["side"][i]), int(lv["price"][i]))] = (offset, int(lv["size"][i]))
        return Verdict.APPLY


class _Frame(msgspec.Struct):
    type: str
    message_id: int | None = None
    channel: str | None = None
    id: str | None = None
    contents: Any = None
    message: str | None = None
    connection_id: str | None = None
    version: str | None = None


_frame = msgspec.json.Decoder(_Frame)


class _DydxBase(VenueBase):
    book_channel: ClassVar[str]
    trade_channel: ClassVar[str]

    def sync_rule(self, symbol: str) -> SequenceRule:
        return MessageIdRule()

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            f = _frame.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed frame ({exc})", frame) from exc
        try:
            if f.channel == self.book_channel and f.type in ("subscribed", "channel_data",
                                                             "channel_batch_data"):
                return self._book(f, _market(f), recv_ns)
            if f.channel == self.trade_channel and f.type in ("subscribed", "channel_data",
                                                              "channel_batch_data"):
                return self._trades(f, _market(f), recv_ns)
        except (ValueError, OverflowError, TypeError, KeyError, AttributeError) as exc:
            raise ParseError(self.venue, f"{f.channel} {f.id}: {exc!r}", frame) from exc
        if f.type in ("connected", "subscribed", "unsubscribed", "error", "channel_data",
                      "channel_batch_data", "pong"):
            text = f"{f.type} {f.channel or ''} {f.id or ''} {f.message or ''}".split()
            return [Status(self.venue, f.id, " ".join(text), recv_ns, error=f.type == "error")]
        raise ParseError(self.venue, f"unknown message type {f.type!r}", frame)

    def _book(self, f: _Frame, market: str, recv_ns: int) -> list[Message]:
        raise NotImplementedError

    def _instrument(self, market: str, rows: list[tuple[int, str, str]]) -> Instrument:
        return resolve(self.instruments, market, [r[1] for r in rows], [r[2] for r in rows])

    def _trades(self, f: _Frame, market: str, recv_ns: int) -> list[Message]:
        parts = f.contents if isinstance(f.contents, list) else [f.contents]
        out: list[Message] = []
        for part in parts:
            for t in _objects(part["trades"]):
                inst = self._instrument(market, [(0, t["price"], t["size"])])
                aggressor = {"BUY": Side.BID, "SELL": Side.ASK}[t["side"]]
                out.append(Trade(self.venue, market, to_mantissa(_text(t["price"]), inst.price_exp),
                                 to_mantissa(_text(t["size"]), inst.size_exp), aggressor,
                                 None if t.get("id") is None else str(t["id"]), recv_ns,
                                 iso_ns(t["createdAt"]) if "createdAt" in t else None))
        return out


class DydxV3(_DydxBase):
    venue: ClassVar[str] = "dydx_v3"
    book_channel: ClassVar[str] = "v3_orderbook"
    trade_channel: ClassVar[str] = "v3_trades"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return V3OffsetRule()

    def _book(self, f: _Frame, market: str, recv_ns: int) -> list[Message]:
        c = f.contents
        if not isinstance(c, dict):
            raise ValueError("contents is not an object")
        if f.type == "subscribed":
            snap_rows = [(_SIDES[k], _text(x["price"]), _text(x["size"]), _int(x["offset"]))
                         for k in ("bids", "asks") for x in _objects(c[k])]
            inst = self._instrument(market, [(s, p, z) for s, p, z, _ in snap_rows])
            table = build_levels([r[0] for r in snap_rows], [r[1] for r in snap_rows],
                                 [r[2] for r in snap_rows], inst, ts_recv_ns=recv_ns, snapshot=True)
            live = table[table["size"] > 0]  # size 0 rows only carry an offset
            if len(live):
                live["flags"][-1] |= dtypes.F_LAST
            offsets = np.array([r[3] for r in snap_rows], dtype=np.int64)
            snap = BookMessage(self.venue, market, Kind.SNAPSHOT, live, recv_ns, None,
                               last_seq=f.message_id, conn_seq=f.message_id)
            companion = BookMessage(
                self.venue, market, Kind.DELTA, EMPTY_LEVELS, recv_ns, None,
                last_seq=f.message_id, conn_seq=f.message_id,
                extra={_SNAPSHOT_OFFSETS: (table["side"], table["price"], table["size"], offsets)})
            return [snap, companion]
        rows = [(_SIDES[k], _text(p), _text(s)) for k in ("bids", "asks") for p, s in _pairs(c[k])]
        inst = self._instrument(market, rows)
        levels = build_levels([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                              inst, ts_recv_ns=recv_ns)
        if f.message_id is None:
            raise ValueError("channel_data without message_id")
        return [BookMessage(self.venue, market, Kind.DELTA, levels, recv_ns, None,
                            last_seq=f.message_id, conn_seq=f.message_id,
                            extra={"offset": _int(c["offset"])})]


class DydxV4(_DydxBase):
    venue: ClassVar[str] = "dydx_v4"
    book_channel: ClassVar[str] = "v4_orderbook"
    trade_channel: ClassVar[str] = "v4_trades"

    def _book(self, f: _Frame, market: str, recv_ns: int) -> list[Message]:
        snapshot = f.type == "subscribed"
        parts = f.contents if f.type == "channel_batch_data" else [f.contents]
        if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
            raise ValueError("contents is not an object (or a list of them in a batch)")
        rows: list[tuple[int, str, str]] = []
        for part in parts:  # a batch's parts apply in order
            for k in ("bids", "asks"):
                entries = part.get(k) or []
                if snapshot:
                    rows += [(_SIDES[k], _text(x["price"]), _text(x["size"])) for x in _objects(entries)]
                else:
                    rows += [(_SIDES[k], _text(p), _text(s)) for p, s in _pairs(entries)]
        inst = self._instrument(market, rows)
        levels = build_levels([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                              inst, ts_recv_ns=recv_ns, snapshot=snapshot)
        if snapshot and (levels["size"] == 0).any():
            raise ValueError("snapshot level of size 0")
        if not snapshot and f.message_id is None:
            raise ValueError(f"{f.type} without message_id")
        return [BookMessage(self.venue, market, Kind.SNAPSHOT if snapshot else Kind.DELTA, levels,
                            recv_ns, None, last_seq=f.message_id, conn_seq=f.message_id,
                            extra={"version": f.version} if f.version else {})]


def _market(f: _Frame) -> str:
    if not f.id:
        raise ValueError("message without a market id")
    return f.id


def _objects(rows: object) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"expected a list of objects, got {str(rows)[:60]}")
    return rows


def _pairs(rows: object) -> list[tuple[object, object]]:
    """[price, size] rows; v4 fixtures show an optional third field (an offset), ignored."""
    if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) in (2, 3) for r in rows):
        raise ValueError(f"expected [price, size] rows, got {str(rows)[:60]}")
    return [(r[0], r[1]) for r in rows]


def _text(v: object) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected decimal text, got {v!r}")
    return v


def _int(v: object) -> int:
    if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) < 19:
        return int(v)
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 62:
        return v
    raise ValueError(f"offset {v!r} is not a non-negative integer")


PARSERS: dict[str, type[VenueBase]] = {DydxV3.venue: DydxV3, DydxV4.venue: DydxV4}


def sniff(rec: CaptureRecord) -> str | None:
    head = rec.payload[:300]
    if rec.kind not in (RecordKind.FRAME, RecordKind.SENT):
        return None
    if b'"channel":"v3_orderbook"' in head:
        return DydxV3.venue
    if b'"channel":"v4_orderbook"' in head:
        return DydxV4.venue
    return None
