"""Bitstamp websocket v2: ``diff_order_book_{pair}`` books aligned to the REST
snapshot ``GET /api/v2/order_book/{pair}``, and ``live_trades_{pair}``.

Raw samples (2022 capture, cryptofeed)::

    > {"event":"bts:subscribe","data":{"channel":"diff_order_book_ethusd"}}
    GET https://www.bitstamp.net/api/v2/order_book/ethusd {"timestamp": "1641343695",
     "microtimestamp": "1641343695681418", "bids": [["3802.90", "0.60000000"], ...],
     "asks": [...]}
    {"event":"bts:subscription_succeeded","channel":"diff_order_book_ethusd","data":{}}
    {"data":{"timestamp":"1641343691","microtimestamp":"1641343691406478","bids":[["3800.71",
     "1.76200000"],["3799.64","0.00000000"]],"asks":[]},"channel":"diff_order_book_ethusd",
     "event":"data"}
    {"data":{"id":216000477,"timestamp":"1641343699","amount":0.0792,"amount_str":"0.07920000",
     "price":3805.44,"price_str":"3805.44","type":0,"microtimestamp":"1641343699596000",
     "buy_order_id":1443875737346049,"sell_order_id":1443875731320832},
     "channel":"live_trades_ethusd","event":"trade"}
    {"event":"bts:request_reconnect","channel":"","data":""}

Amounts are absolute; "0.00000000" removes the level. Trades are read from their
``*_str`` fields (the bare numbers are floats); ``type`` 0 is a buy (the taker
bought), 1 a sell. Bitstamp pads every value to the pair's precision, so the
first row of a pair fixes its exponents exactly.

Sequencing (:class:`BitstampRule`): there are no ids; ``microtimestamp`` is the
only key, used as ``last_seq`` of diffs and of the REST snapshot. Diffs at or
before the snapshot's microtimestamp are in it and are dropped (the capture holds
two diffs with exactly the snapshot's microtimestamp whose every level the
snapshot already shows, so "at" belongs to the snapshot: ``<=``). The snapshot
is trusted only if the stream reaches back to it, i.e. some diff at or before it
was seen; otherwise changes between the snapshot and the first diff may be lost
and a newer snapshot is needed. Afterwards a diff older than the last applied one
was reordered (the book is rebuilt) and an equal one is a repeat (dropped); the
capture's 717 diffs rise strictly per pair. A lost diff cannot be seen.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from urllib.parse import urlsplit

import msgspec

from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Kind, Message, Status, Trade
from crossbook.sync_rules import SequenceRule, Verdict
from crossbook.timeutil import NS_PER_US
from crossbook.venues._textlevels import text_levels
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase

__all__ = ["PARSERS", "Bitstamp", "BitstampRule", "sniff"]

_BOOK = "diff_order_book_"
_TRADES = "live_trades_"


class _Env(msgspec.Struct):
    event: str
    channel: str = ""
    data: msgspec.Raw = msgspec.Raw(b"null")


class _Book(msgspec.Struct):
    microtimestamp: str
    bids: list[list[str]]
    asks: list[list[str]]
    timestamp: str = ""


class _Trade(msgspec.Struct):
    id: int
    price_str: str
    amount_str: str
    type: int
    microtimestamp: str


_env = msgspec.json.Decoder(_Env)
_book = msgspec.json.Decoder(_Book)
_trade = msgspec.json.Decoder(_Trade)


def _micros(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise ValueError(f"microtimestamp {text!r} is not a count of microseconds")
    return int(text)


class BitstampRule:
    """REST snapshot + diffs aligned on ``microtimestamp`` (see the module doc)."""

    name: ClassVar[str] = "bitstamp_microtimestamp"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "rest"

    def __init__(self) -> None:
        self._reached: int | None = None  # the snapshot id the stream was seen to reach

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        assert snapshot_id is not None and msg.last_seq is not None
        if msg.last_seq <= snapshot_id:
            self._reached = snapshot_id
            return Verdict.STALE
        return Verdict.APPLY if self._reached == snapshot_id else Verdict.GAP

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        assert last_id is not None and msg.last_seq is not None
        if msg.last_seq > last_id:
            return Verdict.APPLY
        return Verdict.STALE if msg.last_seq == last_id else Verdict.GAP


class Bitstamp(VenueBase):
    venue: ClassVar[str] = "bitstamp"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return BitstampRule()

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        """Records of one frame: a diff, a trade, or a Status for control events."""
        try:
            env = _env.decode(frame)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"not a Bitstamp event ({exc})", frame) from exc
        ch = env.channel
        try:
            if env.event == "data" and ch.startswith(_BOOK):
                return self._book(ch[len(_BOOK):], _book.decode(env.data), recv_ns, Kind.DELTA)
            if env.event == "trade" and ch.startswith(_TRADES):
                return [self._trade(ch[len(_TRADES):], _trade.decode(env.data), recv_ns)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {ch} data ({exc})", frame) from exc
        except (ValueError, TypeError, OverflowError) as exc:
            raise ParseError(self.venue, f"{ch}: {exc}", frame) from exc
        if env.event == "bts:error":
            return [Status(self.venue, None, f"error: {bytes(env.data)[:200]!r}", recv_ns, True)]
        return [Status(self.venue, None, f"{env.event} {ch}".strip(), recv_ns)]

    def parse_rest(self, url: str, body: bytes, recv_ns: int) -> list[Message]:
        path = urlsplit(url).path.rstrip("/")
        head, _, pair = path.rpartition("/")
        if not head.endswith("/api/v2/order_book") or not pair:
            return [Status(self.venue, None, f"unhandled REST {path}", recv_ns)]
        try:
            return self._book(pair, _book.decode(body), recv_ns, Kind.SNAPSHOT)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad order_book/{pair} ({exc})", body) from exc
        except (ValueError, TypeError, OverflowError) as exc:
            raise ParseError(self.venue, f"order_book/{pair}: {exc}", body) from exc

    def _book(self, pair: str, b: _Book, recv_ns: int, kind: Kind) -> list[Message]:
        us = _micros(b.microtimestamp)
        if self.instruments.get(pair) is None and not (b.bids or b.asks):
            return [Status(self.venue, pair, f"empty book message at {us} before the pair's "
                                             "first row: exponents unknown", recv_ns)]
        inst = self.instruments.resolve(pair, b.bids + b.asks)
        ts_exchange_ns = us * NS_PER_US
        levels = text_levels(b.bids, b.asks, inst, ts_exchange_ns=ts_exchange_ns,
                             ts_recv_ns=recv_ns, snapshot=kind is Kind.SNAPSHOT)
        return [BookMessage(self.venue, pair, kind, levels, recv_ns, ts_exchange_ns, last_seq=us)]

    def _trade(self, pair: str, t: _Trade, recv_ns: int) -> Trade:
        if t.type not in (0, 1):
            raise ValueError(f"trade {t.id} type {t.type} is not 0 (buy) or 1 (sell)")
        inst = self.instruments.resolve(pair, [[t.price_str, t.amount_str]])
        return Trade(self.venue, pair, parse_fixed(t.price_str, inst.price_exp),
                     parse_fixed(t.amount_str, inst.size_exp),
                     Side.BID if t.type == 0 else Side.ASK, str(t.id), recv_ns,
                     _micros(t.microtimestamp) * NS_PER_US)


PARSERS: dict[str, type[VenueBase]] = {Bitstamp.venue: Bitstamp}


def sniff(rec: CaptureRecord) -> str | None:
    """Bitstamp REST snapshots by host, frames by their ``bts:`` events or book channel."""
    if rec.kind is RecordKind.REST:
        return Bitstamp.venue if rec.url and "bitstamp.net/" in rec.url else None
    if rec.kind is RecordKind.FRAME:
        ends = rec.payload[:200] + rec.payload[-100:]  # the channel comes after the data
        if b'"event":"bts:' in ends or b'"channel":"diff_order_book_' in ends:
            return Bitstamp.venue
    return None
