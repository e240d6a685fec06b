"""Bybit legacy (v2, 2021) ``orderBookL2_25.{symbol}``: id-keyed levels with
insert/update/delete, on USDT-linear and inverse contracts; ``trade.{symbol}``.

Raw samples (as recorded, 2021-04-17; USDT-linear sends ids and cross_seq as
text and sizes as JSON numbers, inverse sends them as numbers)::

    {"topic":"orderBookL2_25.BCHUSDT","type":"snapshot","data":{"order_book":[{"price":"1053.05",
     "symbol":"BCHUSDT","id":"10530500","side":"Buy","size":2.63},...]},
     "cross_seq":"864131773","timestamp_e6":"1618677786389362"}
    {"topic":"orderBookL2_25.EOSUSD","type":"snapshot","data":[{"price":"7.943","symbol":"EOSUSD",
     "id":79430,"side":"Buy","size":154219},...],"cross_seq":1225777224,"timestamp_e6":1618677786558146}
    {"topic":"orderBookL2_25.BCHUSDT","type":"delta","data":{"delete":[{"price":"1054.30",
     "symbol":"BCHUSDT","id":"10543000","side":"Buy"}],"update":[{"price":"1053.90",
     "symbol":"BCHUSDT","id":"10539000","side":"Buy","size":3.66}],"insert":[{"price":"1052.95",
     "symbol":"BCHUSDT","id":"10529500","side":"Buy","size":20.3}]},
     "cross_seq":"864131802","timestamp_e6":"1618677786430132"}
    {"topic":"trade.BTCUSD","data":[{"trade_time_ms":1618677786614,"symbol":"BTCUSD","side":"Sell",
     "size":4,"price":60621.5,"trade_id":"5ffb8b77-900c-507d-97a2-0922557ffe54",...}]}
    {"success":true,"ret_msg":"","conn_id":"38cf0ac3-...","request":{"op":"subscribe",
     "args":["trade.BCHUSDT"]}}

A level is keyed by ``id``, and every id maps to one price: ``id == price * 10**4``
in every row of both recorded captures. Deletes carry the price too, so the
book needs no id table (a parser keeps no state); a delete without a price is
resolved through that mapping, and a row whose id contradicts its price is an
error rather than a silently misplaced level. Within a message deletes apply
first, then updates, then inserts.

Linear sizes are JSON numbers with float noise on the wire (``10.7699995``):
they are kept exactly as sent, so linear sizes get at least 8 decimals.

Sequencing: ``cross_seq`` rises with every message of a book but is not
contiguous, and there is no previous-id field, so a lost message cannot be
seen. What can be seen: a repeated ``cross_seq`` (a duplicate: stale) and a
lower one (a message older than the book arrived after a newer one was
applied, so the book skipped it: a gap).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Literal

import msgspec

from crossbook import dtypes
from crossbook._side import Side
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Drop, Instrument, Kind, Message, Status, Trade
from crossbook.sync_rules import SequenceRule, Verdict
from crossbook.timeutil import NS_PER_MS, NS_PER_US
from crossbook.venues._exactnum import build_levels, resolve, to_mantissa
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase

__all__ = ["PARSERS", "BybitLegacy", "CrossSeqRule", "sniff"]

_ID_SCALE = Decimal(10) ** 4
_SIDES = {"Buy": Side.BID, "Sell": Side.ASK}
_DEPTH = 25


class CrossSeqRule:
    """Books whose messages carry a rising, non-contiguous sequence and nothing else."""

    name: ClassVar[str] = "bybit_cross_seq"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "stream"

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        return self.next(snapshot_id, msg)

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        seq = msg.last_seq
        if seq is None:
            raise ValueError(f"{msg.venue} {msg.symbol}: delta lacks cross_seq")
        if last_id is None or seq > last_id:
            return Verdict.APPLY
        return Verdict.STALE if seq == last_id else Verdict.GAP


class _Frame(msgspec.Struct):
    topic: str | None = None
    type: str | None = None
    data: Any = None
    cross_seq: int | str | None = None
    timestamp_e6: int | str | None = None
    success: bool | None = None
    ret_msg: str | None = None
    request: Any = None


_frame = msgspec.json.Decoder(_Frame, float_hook=Decimal)  # sizes keep their digits


class BybitLegacy(VenueBase):
    venue: ClassVar[str] = "bybit_legacy"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return CrossSeqRule()

    def depth_limit(self, symbol: str) -> int | None:
        return _DEPTH

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            f = _frame.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed frame ({exc})", frame) from exc
        if f.topic is None:
            if f.success is None:
                raise ParseError(self.venue, "neither a topic nor a response", frame)
            return [Status(self.venue, None, f"success={f.success} {f.ret_msg or ''} "
                           f"{f.request!r}"[:200], recv_ns, error=f.success is not True)]
        try:
            if f.topic.startswith("orderBookL2_25."):
                return [self._book(f, recv_ns)]
            if f.topic.startswith("trade."):
                return self._trades(f.data, recv_ns)
        except (ValueError, OverflowError, TypeError, KeyError, AttributeError) as exc:
            raise ParseError(self.venue, f"{f.topic}: {exc!r}", frame) from exc
        return [Status(self.venue, None, f"unhandled topic {f.topic}", recv_ns,
                       drop=Drop.UNSUPPORTED)]

    def _instrument(self, symbol: str, rows: list[dict[str, Any]]) -> Instrument:
        linear = symbol.endswith("USDT")
        return resolve(self.instruments, symbol, [r.get("price") for r in rows],
                       [r.get("size") for r in rows], min_size_exp=8 if linear else 0)

    def _book(self, f: _Frame, recv_ns: int) -> BookMessage:
        symbol = (f.topic or "").split(".", 1)[1]
        if f.type == "snapshot":
            rows = f.data["order_book"] if isinstance(f.data, dict) else f.data
            groups = [(dtypes.ADD, _rows(rows))]
            kind = Kind.SNAPSHOT
        elif f.type == "delta" and isinstance(f.data, dict):
            groups = [(a, _rows(f.data.get(k, []))) for a, k in (
                (dtypes.DELETE, "delete"), (dtypes.UPDATE, "update"), (dtypes.ADD, "insert"))]
            kind = Kind.DELTA
        else:
            raise ValueError(f"unknown book message type {f.type!r}")
        seq = _int(f.cross_seq, "cross_seq")
        ts_ns = _int(f.timestamp_e6, "timestamp_e6") * NS_PER_US
        inst = self._instrument(symbol, [r for _, rows in groups for r in rows])
        sides: list[int] = []
        prices: list[object] = []
        sizes: list[object] = []
        actions: list[int] = []
        for action, rows in groups:
            for r in rows:
                if r.get("symbol", symbol) != symbol:
                    raise ValueError(f"row of {r.get('symbol')!r} in the {symbol} book")
                sides.append(_SIDES[r["side"]])
                prices.append(_price(r))
                sizes.append(0 if action == dtypes.DELETE else r["size"])
                actions.append(action)
        levels = build_levels(sides, prices, sizes, inst, actions=actions, ts_exchange_ns=ts_ns,
                              ts_recv_ns=recv_ns, snapshot=kind is Kind.SNAPSHOT)
        if kind is Kind.DELTA and ((levels["action"] != dtypes.DELETE) & (levels["size"] == 0)).any():
            raise ValueError("insert or update with size 0")
        return BookMessage(self.venue, symbol, kind, levels, recv_ns, ts_ns, last_seq=seq,
                           cross_seq=seq, depth_limit=_DEPTH, extra={"topic": f.topic})

    def _trades(self, data: object, recv_ns: int) -> list[Message]:
        out: list[Message] = []
        for t in _rows(data):
            symbol = t["symbol"]
            inst = self._instrument(symbol, [t])
            out.append(Trade(self.venue, symbol, to_mantissa(t["price"], inst.price_exp),
                             to_mantissa(t["size"], inst.size_exp), _SIDES[t["side"]],
                             str(t["trade_id"]), recv_ns,
                             _int(t["trade_time_ms"], "time") * NS_PER_MS))
        return out


def _rows(rows: object) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"expected a list of objects, got {str(rows)[:60]}")
    return rows


def _int(v: object, what: str) -> int:
    """An integer sent as a JSON number or as decimal digits."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) < 20:
        return int(v)
    raise ValueError(f"{what} {v!r} is not an integer")


def _price(row: dict[str, Any]) -> Decimal | str:
    """The row's price, checked against its id (id == price * 10**4)."""
    ident = Decimal(_int(row["id"], "id"))
    price = row.get("price")
    if price is None:
        return ident / _ID_SCALE
    if not isinstance(price, str):
        raise ValueError(f"price {price!r} is not decimal text")
    try:
        ok = Decimal(price) * _ID_SCALE == ident
    except ArithmeticError:
        ok = False
    if not ok:
        raise ValueError(f"id {row['id']} does not map to price {price!r}")
    return price


PARSERS: dict[str, type[VenueBase]] = {BybitLegacy.venue: BybitLegacy}


def sniff(rec: CaptureRecord) -> str | None:
    head = rec.payload[:120]
    if rec.kind is RecordKind.FRAME and b'"topic":"orderBookL2_25.' in head:
        return BybitLegacy.venue
    if rec.kind is RecordKind.SENT and b'"op":"subscribe"' in head and b'"orderBookL2_25.' in head:
        return BybitLegacy.venue
    return None
