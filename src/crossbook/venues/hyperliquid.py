"""Hyperliquid websocket: ``l2Book`` (every message a full snapshot of up to 20
levels a side, with the order count of each level) and ``trades``.

Raw samples (as recorded, 2025-01-26)::

    {"channel":"l2Book","data":{"coin":"BTC","time":1737918843542,"levels":[
     [{"n":5,"px":"105055.0","sz":"3.03622"},{"n":1,"px":"105054.0","sz":"0.1428"},...],
     [{"n":13,"px":"105056.0","sz":"6.34472"},...]]}}
    {"channel":"trades","data":[{"coin":"BTC","side":"B","px":"105056.0","sz":"0.00219",
     "hash":"0xde47...","time":1737918794873,"tid":121451470284048,"users":["0xe9ed...","0x6802..."]}]}
    {"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}}
    {"channel":"error","data":"Invalid subscription"}

There is no sequence number: each snapshot replaces the book (``time`` is kept as
the exchange time), so a lost message costs nothing once the next one arrives.
A snapshot older (by ``time``) than one already parsed for its coin would rewind
the book: it is dropped as stale (a Status) instead. Sizes and prices are decimal text
without padding ("0.1428"), so the text of one snapshot understates the
precision: prices are at most 6 decimals on perps and 8 on spot (Hyperliquid's
MAX_DECIMALS), sizes at most 5 on perps (szDecimals) and 8 on spot; those are the
floors of the inferred exponents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import msgspec

from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Drop, Instrument, Kind, Message, Status, Trade
from crossbook.sync_rules import SequenceRule, UnsequencedRule
from crossbook.timeutil import NS_PER_MS
from crossbook.venues._exactnum import build_levels, resolve
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase

__all__ = ["PARSERS", "Hyperliquid", "sniff"]

_DEPTH = 20
_PERP_FLOOR = (6, 5)
_SPOT_FLOOR = (8, 8)


class _Level(msgspec.Struct):
    px: str
    sz: str
    n: int


class _Book(msgspec.Struct):
    coin: str
    time: int
    levels: tuple[list[_Level], list[_Level]]


class _Trade(msgspec.Struct):
    coin: str
    side: str
    px: str
    sz: str
    time: int
    tid: int | None = None
    hash: str | None = None


class _Frame(msgspec.Struct):
    channel: str
    data: msgspec.Raw = msgspec.Raw()


_frame = msgspec.json.Decoder(_Frame)
_book = msgspec.json.Decoder(_Book)
_trades = msgspec.json.Decoder(list[_Trade])


class Hyperliquid(VenueBase):
    venue: ClassVar[str] = "hyperliquid"

    def __init__(self, instruments: Sequence[Instrument] = ()) -> None:
        super().__init__(instruments)
        self._book_ms: dict[str, int] = {}  # coin -> time of its newest snapshot

    def sync_rule(self, symbol: str) -> SequenceRule:
        return UnsequencedRule()

    def depth_limit(self, symbol: str) -> int | None:
        return _DEPTH

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            f = _frame.decode(frame)
            if f.channel == "l2Book":
                return [self._book(_book.decode(f.data), recv_ns)]
            if f.channel == "trades":
                return [self._trade(t, recv_ns) for t in _trades.decode(f.data)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed frame ({exc})", frame) from exc
        except (ValueError, OverflowError, TypeError) as exc:
            raise ParseError(self.venue, str(exc), frame) from exc
        text = bytes(f.data)[:200].decode(errors="replace")
        return [Status(self.venue, None, f"{f.channel}: {text}", recv_ns,
                       error=f.channel == "error")]

    def _instrument(self, coin: str, prices: list[str], sizes: list[str]) -> Instrument:
        spot = coin.startswith("@") or "/" in coin
        floor = _SPOT_FLOOR if spot else _PERP_FLOOR
        return resolve(self.instruments, coin, prices, sizes,
                       min_price_exp=floor[0], min_size_exp=floor[1])

    def _book(self, b: _Book, recv_ns: int) -> Message:
        newest = self._book_ms.get(b.coin)
        if newest is not None and b.time < newest:
            return Status(self.venue, b.coin, f"snapshot at {b.time} ms after one at {newest} ms: "
                          "dropped as stale", recv_ns, drop=Drop.STALE)
        bids, asks = b.levels
        rows = [*bids, *asks]
        inst = self._instrument(b.coin, [r.px for r in rows], [r.sz for r in rows])
        sides = [int(Side.BID)] * len(bids) + [int(Side.ASK)] * len(asks)
        ts_ns = b.time * NS_PER_MS
        levels = build_levels(sides, [r.px for r in rows], [r.sz for r in rows], inst,
                              counts=[r.n for r in rows], ts_exchange_ns=ts_ns,
                              ts_recv_ns=recv_ns, snapshot=True)
        if (levels["size"] == 0).any():
            raise ValueError(f"{b.coin} snapshot at {b.time} has a level of size 0")
        self._book_ms[b.coin] = b.time
        return BookMessage(self.venue, b.coin, Kind.SNAPSHOT, levels, recv_ns, ts_ns,
                           depth_limit=_DEPTH)

    def _trade(self, t: _Trade, recv_ns: int) -> Trade:
        inst = self._instrument(t.coin, [t.px], [t.sz])
        # side is the taker's: B a buy lifting asks, A a sell hitting bids.
        aggressor = {"B": Side.BID, "A": Side.ASK}.get(t.side)
        if aggressor is None:
            raise ValueError(f"trade {t.tid}: unknown side {t.side!r}")
        price, size = parse_fixed(t.px, inst.price_exp), parse_fixed(t.sz, inst.size_exp)
        if price < 0 or size < 0:
            raise ValueError(f"trade {t.tid}: negative price or size")
        return Trade(self.venue, t.coin, price, size, aggressor,
                     None if t.tid is None else str(t.tid), recv_ns, t.time * NS_PER_MS)


PARSERS: dict[str, type[VenueBase]] = {Hyperliquid.venue: Hyperliquid}


def sniff(rec: CaptureRecord) -> str | None:
    head = rec.payload[:80]
    if rec.kind is RecordKind.FRAME and head.startswith(b'{"channel":"l2Book","data":{"coin":'):
        return Hyperliquid.venue
    if rec.kind is RecordKind.SENT and b'"type":"l2Book"' in rec.payload[:200]:
        return Hyperliquid.venue
    return None
