"""Gemini market data v2 (``wss://api.gemini.com/v2/marketdata``): ``l2`` books
and the trades that come on the same subscription.

The capture (2021, cryptofeed) is v2: ``l2_updates`` frames with ``changes``,
``trade`` and ``heartbeat`` frames, and no ``socket_sequence`` anywhere (that
counter is v1's, ``/v1/marketdata/{symbol}``, which this module does not read).

Raw samples (as recorded)::

    > {"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCGBP","LINKETH",...]}]}
    {"type":"l2_updates","symbol":"ALCXUSD","changes":[["buy","302.75","0.00001"],
     ["buy","302.32","2.445529"],...,["sell","303.38","4.15"],...],"trades":[{"type":"trade",
     "symbol":"ALCXUSD","event_id":45465785975,"timestamp":1624493651491,"price":"302.53",
     "quantity":"0.992143","side":"buy"},...],"auction_events":[]}
    {"type":"l2_updates","symbol":"GRTUSD","changes":[["sell","0.6196","1200"]]}
    {"type":"trade","symbol":"ETHEUR","event_id":45465810155,"timestamp":1624493667114,
     "price":"1648.97","quantity":"0.1","side":"sell"}
    {"type":"heartbeat","timestamp":1624493666869}

The first ``l2_updates`` of a symbol is its whole book plus its last 50 trades
and auction events; the keys ``trades``/``auction_events`` mark it (increments
never have them), so it is a SNAPSHOT and the trades follow it as Trade records.
Quantities are the level's new size; "0" removes it. A trade's ``side`` is the
taker's.

Sequencing: v2 carries no sequence number and no time on book frames, so a
dropped, repeated or reordered frame cannot be seen (sizes are absolute, so a
repeat right away is harmless); only a crossed book betrays a broken one (BookSync
counts it, and can resync on it). The snapshot is in the stream: resubscribe to
rebuild.

Exponents: Gemini trims trailing zeros, so one message understates the
precision; floors of 8 decimals for prices and 10 for quantities (trades carry
10 even where the book has 8) apply unless the caller passes Instruments. A
snapshot's past trade that still does not fit becomes an error Status; the
snapshot itself goes through.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Drop, Kind, Message, Status, Trade
from crossbook.sync_rules import SequenceRule, UnsequencedRule
from crossbook.timeutil import NS_PER_MS
from crossbook.venues._textlevels import text_levels
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase, decode_json

__all__ = ["PARSERS", "Gemini", "sniff"]

# Book quantities stop at 8 decimals but trades go to 10 ("0.0149920461" BTC, in the capture).
_PRICE_FLOOR, _SIZE_FLOOR = 8, 10
_SIDES = {"buy": 0, "sell": 1}


class _Trade(msgspec.Struct, tag_field="type", tag="trade"):
    symbol: str
    price: str
    quantity: str
    side: str
    timestamp: int
    event_id: int | None = None
    eventid: int | None = None
    tid: int | None = None


class _L2(msgspec.Struct, tag_field="type", tag="l2_updates"):
    symbol: str
    changes: list[list[str]]
    trades: list[_Trade] | None = None
    auction_events: list[msgspec.Raw] | None = None


class _Heartbeat(msgspec.Struct, tag_field="type", tag="heartbeat"):
    timestamp: int | None = None


_decode = msgspec.json.Decoder(_L2 | _Trade | _Heartbeat)


class Gemini(VenueBase):
    venue: ClassVar[str] = "gemini"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return UnsequencedRule("stream")

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        """Records of one frame: a book message (and a snapshot's trades), a trade, or a Status."""
        try:
            m = _decode.decode(frame)
        except msgspec.ValidationError as exc:
            return [self._other(frame, recv_ns, exc)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed JSON ({exc})", frame) from exc
        try:
            if isinstance(m, _L2):
                return self._book(m, recv_ns)
            if isinstance(m, _Trade):
                return [self._trade(m, recv_ns)]
        except (ValueError, TypeError, OverflowError) as exc:
            raise ParseError(self.venue, f"{m.symbol}: {exc}", frame) from exc
        return [Status(self.venue, None, f"heartbeat {m.timestamp}", recv_ns)]

    def _book(self, m: _L2, recv_ns: int) -> list[Message]:
        sides: tuple[list[list[str]], list[list[str]]] = ([], [])
        for change in m.changes:
            side = _SIDES.get(change[0]) if change else None
            if side is None:
                raise ValueError(f"change {change!r} has no side buy/sell")
            sides[side].append(change[1:])
        snapshot = m.trades is not None or m.auction_events is not None
        inst = self.instruments.resolve(m.symbol, sides[0] + sides[1],
                                        min_price_exp=_PRICE_FLOOR, min_size_exp=_SIZE_FLOOR)
        levels = text_levels(sides[0], sides[1], inst, ts_recv_ns=recv_ns, snapshot=snapshot)
        out: list[Message] = [BookMessage(self.venue, m.symbol,
                                          Kind.SNAPSHOT if snapshot else Kind.DELTA,
                                          levels, recv_ns)]
        for t in m.trades or ():
            try:
                out.append(self._trade(t, recv_ns))
            except (ValueError, OverflowError) as exc:
                # A past trade that does not fit must not cost the book its snapshot.
                text = f"trade {t.event_id}: {exc}"
                out.append(Status(self.venue, m.symbol, text, recv_ns, True))
        if m.auction_events:
            out.append(Status(self.venue, m.symbol, f"{len(m.auction_events)} auction events",
                              recv_ns))
        return out

    def _trade(self, t: _Trade, recv_ns: int) -> Trade:
        taker = _SIDES.get(t.side)
        if taker is None:
            raise ValueError(f"trade side {t.side!r} is not buy/sell")
        inst = self.instruments.resolve(t.symbol, [[t.price, t.quantity]],
                                        min_price_exp=_PRICE_FLOOR, min_size_exp=_SIZE_FLOOR)
        ids = [i for i in (t.tid, t.event_id, t.eventid) if i is not None]
        return Trade(self.venue, t.symbol, parse_fixed(t.price, inst.price_exp),
                     parse_fixed(t.quantity, inst.size_exp), Side.BID if taker == 0 else Side.ASK,
                     str(ids[0]) if ids else None, recv_ns, t.timestamp * NS_PER_MS)

    def _other(self, frame: bytes, recv_ns: int, exc: msgspec.ValidationError) -> Message:
        obj = decode_json(self.venue, frame)
        if not isinstance(obj, dict):
            raise ParseError(self.venue, "expected a JSON object", frame)
        kind = obj.get("type")
        if obj.get("result") == "error" or kind == "error":
            return Status(self.venue, None, f"error {obj.get('reason')}: {obj.get('message')}",
                          recv_ns, True)
        if isinstance(kind, str) and kind not in ("l2_updates", "trade", "heartbeat"):
            return Status(self.venue, None, f"unhandled type {kind}", recv_ns,
                          drop=Drop.UNSUPPORTED)
        raise ParseError(self.venue, f"bad {kind} frame ({exc})", frame)


PARSERS: dict[str, type[VenueBase]] = {Gemini.venue: Gemini}


def sniff(rec: CaptureRecord) -> str | None:
    """Gemini v2 book frames start with their type and symbol."""
    if rec.kind is RecordKind.FRAME and rec.payload.startswith(b'{"type":"l2_updates","symbol"'):
        return Gemini.venue
    return None
