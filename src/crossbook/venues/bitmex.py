"""BitMEX realtime API: ``orderBookL2`` / ``orderBookL2_25`` (partial, then
insert/update/delete keyed by id), ``quote`` (the venue's top of book) and ``trade``.

Raw samples (as recorded, 2021-07-22; prices are JSON numbers)::

    {"info":"Welcome to the BitMEX Realtime API.","version":"2021-07-14T01:26:29.000Z",...}
    {"success":true,"subscribe":"orderBookL2:XRPU21","request":{"op":"subscribe","args":[...]}}
    {"table":"orderBookL2","action":"partial","keys":["symbol","id","side"],...,
     "filter":{"symbol":"XRPU21"},"data":[{"symbol":"XRPU21","id":56799989301,"side":"Sell",
     "size":3000,"price":0.00010699},...]}
    {"table":"orderBookL2","action":"insert","data":[{"symbol":"SOLUSDT","id":54899972480,
     "side":"Sell","size":991,"price":27.52}]}
    {"table":"orderBookL2","action":"update","data":[{"symbol":"UNIUSDT","id":51999982703,
     "side":"Sell","size":123}]}
    {"table":"orderBookL2","action":"delete","data":[{"symbol":"BCHUSD","id":40199991245,"side":"Buy"}]}
    {"table":"quote","action":"insert","data":[{"timestamp":"2021-07-22T22:36:10.014Z",
     "symbol":"UNIUSDT","bidSize":750,"bidPrice":17.277,"askPrice":17.297,"askSize":123}]}
    {"table":"trade","action":"insert","data":[{"timestamp":"2021-07-22T22:36:10.014Z",
     "symbol":"UNIUSDT","side":"Buy","size":52,"price":17.297,...}]}

Updates and deletes name a level by id only. BitMEX ids of this generation
encode the price: ``id == 100000000 * symbolIdx - price / idTick``. The parser
learns (idTick, 100000000 * symbolIdx) of a symbol from its partial (two rows
fix both; every row must agree and the base must be a multiple of 1e8), keeps
it as instrument metadata, prices id-only rows with it, and checks it against
every row that carries a price. In the recorded capture it holds for all 10
symbols and every insert. A symbol whose partial does not fit the formula
(later API versions send the price on every row) simply has no mapping, and an
id-only row for it is an error. Rows for a symbol without a partial are
reported and ignored, as BitMEX asks ("ignore messages until the partial").

There are no sequence numbers and no checksum: a lost message cannot be seen
(UnsequencedRule); each partial replaces the book.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from crossbook import dtypes
from crossbook._side import Side
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Drop, Instrument, Kind, Message, Quote, Status, Trade
from crossbook.sync_rules import SequenceRule, UnsequencedRule
from crossbook.venues._exactnum import build_levels, iso_ns, resolve, to_mantissa
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase

__all__ = ["PARSERS", "Bitmex", "sniff"]

_SIDES = {"Buy": int(Side.BID), "Sell": int(Side.ASK)}
_ACTIONS = {"insert": dtypes.ADD, "update": dtypes.UPDATE, "delete": dtypes.DELETE}
_ID_BASE = 100_000_000
_BOOKS = {"orderBookL2": None, "orderBookL2_25": 25}


class _Frame(msgspec.Struct):
    table: str | None = None
    action: str | None = None
    data: Any = None
    filter: Any = None
    info: str | None = None
    success: bool | None = None
    subscribe: str | None = None
    error: str | None = None
    status: int | None = None


_frame = msgspec.json.Decoder(_Frame, float_hook=Decimal)  # prices keep their digits


class Bitmex(VenueBase):
    venue: ClassVar[str] = "bitmex"

    def __init__(self, instruments: Any = ()) -> None:
        super().__init__(instruments)
        #: symbol -> (idTick, 1e8 * symbolIdx), learned from the partial: instrument metadata.
        self.id_schemes: dict[str, tuple[Decimal, int]] = {}

    def sync_rule(self, symbol: str) -> SequenceRule:
        return UnsequencedRule()

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            f = _frame.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed frame ({exc})", frame) from exc
        if f.table is None:
            return [self._control(f, frame, recv_ns)]
        try:
            if f.table in _BOOKS:
                return self._book(f, recv_ns)
            if f.table in ("quote", "trade"):
                return [self._top_or_trade(f.table, r, recv_ns) for r in _objects(f.data)]
        except (ValueError, OverflowError, TypeError, KeyError, ArithmeticError) as exc:
            raise ParseError(self.venue, f"{f.table} {f.action}: {exc!r}", frame) from exc
        return [Status(self.venue, None, f"unhandled table {f.table}", recv_ns,
                       drop=Drop.UNSUPPORTED)]

    def _control(self, f: _Frame, frame: bytes, recv_ns: int) -> Status:
        if f.info is not None:
            return Status(self.venue, None, f.info, recv_ns)
        if f.error is not None:
            return Status(self.venue, None, f"error {f.status}: {f.error}", recv_ns, error=True)
        if f.success is not None:
            return Status(self.venue, None, f"success={f.success} {f.subscribe or ''}".rstrip(),
                          recv_ns, error=not f.success)
        raise ParseError(self.venue, "neither a table nor a control frame", frame)

    def _instrument(self, symbol: str, rows: list[dict[str, Any]]) -> Instrument:
        scheme = self.id_schemes.get(symbol)
        return resolve(self.instruments, symbol,
                       [r.get("price") for r in rows] + ([scheme[0]] if scheme else []),
                       [r.get("size") for r in rows])

    def _book(self, f: _Frame, recv_ns: int) -> list[Message]:
        depth = _BOOKS[f.table or ""]
        rows = _objects(f.data)
        if f.action == "partial":
            symbol = (f.filter or {}).get("symbol") if isinstance(f.filter, dict) else None
            symbol = symbol or (rows[0]["symbol"] if rows else None)
            if not isinstance(symbol, str):
                raise ValueError("partial without a symbol")
            self.id_schemes.pop(symbol, None)
            scheme = _learn_scheme(rows)
            if scheme is not None:
                self.id_schemes[symbol] = scheme
            return [self._levels(symbol, Kind.SNAPSHOT, dtypes.ADD, rows, depth, recv_ns)]
        action = _ACTIONS.get(f.action or "")
        if action is None:
            raise ValueError(f"unknown action {f.action!r}")
        by_symbol: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_symbol[r["symbol"]].append(r)
        out: list[Message] = []
        for symbol, rs in by_symbol.items():
            if self.instruments.get(symbol) is None:
                out.append(Status(self.venue, symbol, f"{f.action} before the partial: ignored",
                                  recv_ns, drop=Drop.STALE))
                continue
            out.append(self._levels(symbol, Kind.DELTA, action, rs, depth, recv_ns))
        return out

    def _levels(self, symbol: str, kind: Kind, action: int, rows: list[dict[str, Any]],
                depth: int | None, recv_ns: int) -> BookMessage:
        inst = self._instrument(symbol, rows)
        scheme = self.id_schemes.get(symbol)
        prices = [_price(r, scheme) for r in rows]
        sizes = [0 if action == dtypes.DELETE else r["size"] for r in rows]
        stamps = [iso_ns(r["timestamp"]) for r in rows if "timestamp" in r]
        ts_ns = max(stamps) if stamps else None
        levels = build_levels([_SIDES[r["side"]] for r in rows], prices, sizes, inst,
                              actions=[action] * len(rows), ts_exchange_ns=ts_ns or 0,
                              ts_recv_ns=recv_ns, snapshot=kind is Kind.SNAPSHOT)
        if action != dtypes.DELETE and (levels["size"] == 0).any():
            raise ValueError(f"{symbol}: a level of size 0 outside a delete")
        return BookMessage(self.venue, symbol, kind, levels, recv_ns, ts_ns, depth_limit=depth)

    def _top_or_trade(self, table: str, row: dict[str, Any], recv_ns: int) -> Message:
        if self.instruments.get(row["symbol"]) is None:
            # Exponents come from the book's partial; a guess from one price could contradict it.
            return Status(self.venue, row["symbol"], f"{table} before the book partial", recv_ns)
        return self._quote(row, recv_ns) if table == "quote" else self._trade(row, recv_ns)

    def _quote(self, q: dict[str, Any], recv_ns: int) -> Quote:
        symbol = q["symbol"]
        inst = self._instrument(symbol, [{"price": q["bidPrice"], "size": q["bidSize"]},
                                         {"price": q["askPrice"], "size": q["askSize"]}])
        p, s = inst.price_exp, inst.size_exp
        # An empty side comes as null.
        return Quote(self.venue, symbol, _opt(q["bidPrice"], p), _opt(q["bidSize"], s),
                     _opt(q["askPrice"], p), _opt(q["askSize"], s), None, recv_ns,
                     iso_ns(q["timestamp"]))

    def _trade(self, t: dict[str, Any], recv_ns: int) -> Trade:
        symbol = t["symbol"]
        inst = self._instrument(symbol, [t])
        return Trade(self.venue, symbol, to_mantissa(t["price"], inst.price_exp),
                     to_mantissa(t["size"], inst.size_exp),
                     Side.BID if _SIDES[t["side"]] == Side.BID else Side.ASK,
                     t.get("trdMatchID"), recv_ns, iso_ns(t["timestamp"]))


def _learn_scheme(rows: list[dict[str, Any]]) -> tuple[Decimal, int] | None:
    """(idTick, base) with price == (base - id) * idTick for every row, if they fit one."""
    priced = [(int(r["id"]), _number(r["price"])) for r in rows if "price" in r]
    if len(priced) < 2:
        return None
    (id_a, p_a), (id_b, p_b) = min(priced), max(priced)
    if id_a == id_b or p_a == p_b:
        return None
    tick = (p_a - p_b) / (id_b - id_a)
    base = id_a + p_a / tick
    if tick <= 0 or base != base.to_integral_value() or int(base) % _ID_BASE:
        return None
    if any((base - i) * tick != p for i, p in priced):
        return None
    return tick, int(base)


def _price(row: dict[str, Any], scheme: tuple[Decimal, int] | None) -> Decimal:
    ident = row["id"]
    if isinstance(ident, bool) or not isinstance(ident, int):
        raise ValueError(f"id {ident!r} is not an integer")
    if "price" in row:
        price = _number(row["price"])
        if scheme is not None and (scheme[1] - ident) * scheme[0] != price:
            raise ValueError(f"id {ident} does not map to price {price}")
        return price
    if scheme is None:
        raise ValueError(f"id {ident} has no price and the symbol has no id mapping")
    return (scheme[1] - ident) * scheme[0]


def _number(v: object) -> Decimal:
    if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
        raise ValueError(f"expected a JSON number, got {v!r}")
    return Decimal(v)


def _opt(v: object, exp: int) -> int:
    return 0 if v is None else to_mantissa(v, exp)


def _objects(rows: object) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"expected a list of objects, got {str(rows)[:60]}")
    return rows


PARSERS: dict[str, type[VenueBase]] = {Bitmex.venue: Bitmex}


def sniff(rec: CaptureRecord) -> str | None:
    head = rec.payload[:200]
    if rec.kind is RecordKind.FRAME and (b'"table":"orderBookL2' in head
                                         or b'"info":"Welcome to the BitMEX' in head):
        return Bitmex.venue
    if rec.kind is RecordKind.SENT and b'"op":"subscribe"' in head and (
            b'"orderBookL2:' in head or b'"orderBookL2_25:' in head):
        return Bitmex.venue
    return None
