"""Coinbase Exchange (ex-Pro) websocket: ``level2`` / ``level2_batch`` books,
``matches`` trades and ``ticker`` on the same connection.

Raw samples (2021 capture, ``ws-feed.pro.coinbase.com``; the schema is unchanged)::

    {"type":"subscriptions","channels":[{"name":"level2","product_ids":["BAND-GBP",...]}]}
    {"type":"snapshot","product_id":"BAND-GBP","asks":[["14.8024","12.77"],...],
     "bids":[["14.7550","40.00"],...]}
    {"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"]],
     "time":"2021-04-17T16:43:37.075687Z"}
    {"type":"match","trade_id":280232,"maker_order_id":"2a0d...","taker_order_id":"3c82...",
     "side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC",
     "sequence":177100030,"time":"2021-04-17T16:43:37.089723Z"}
    {"type":"ticker","sequence":333938798,"product_id":"BAND-GBP","price":"14.7775",
     "best_bid":"14.7550","best_ask":"14.8060","side":"buy","time":"...","trade_id":881613,
     "last_size":"0.04",...}
    {"type":"error","message":"Failed to subscribe","reason":"level2, level3, and full
     channels now require authentication. ..."}

Sizes are absolute; "0" (often "0.00000000") removes the level. ``changes`` sides
are "buy" (bid) and "sell" (ask). A match's ``side`` is the maker's, so the
aggressor is the other side.

Sequencing (:class:`ExchangeTimeRule`): level2 carries no sequence number, so a
dropped frame cannot be seen; the snapshot arrives in the stream and replaces the
book. What can be seen is order: ``time`` of a product's l2updates never goes
back (equal times are common: one engine event, several frames), so a frame whose
time is older than the last applied one was delivered out of order and the book
is rebuilt. Tickers carry no sizes before 2022, so they are reported, not
turned into quotes, unless ``best_bid_size``/``best_ask_size`` are present.

Exponents: Coinbase trims trailing zeros ("4781.0", "0.7923"), so one message
understates the precision; its increments go down to 1e-8 for both prices and
sizes, which are the floors here unless the caller passes Instruments.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import msgspec

from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Drop, Kind, Message, Quote, Status, Trade
from crossbook.sync_rules import SequenceRule, Verdict
from crossbook.venues._textlevels import iso_ns, text_levels
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase, decode_json

__all__ = ["PARSERS", "CoinbaseExchange", "ExchangeTimeRule", "sniff"]

_FLOOR = 8


class _Snapshot(msgspec.Struct, tag_field="type", tag="snapshot"):
    product_id: str
    bids: list[list[str]]
    asks: list[list[str]]
    time: str | None = None


class _L2Update(msgspec.Struct, tag_field="type", tag="l2update"):
    product_id: str
    changes: list[list[str]]
    time: str | None = None


class _Match(msgspec.Struct, tag_field="type", tag="match"):
    product_id: str
    trade_id: int
    side: str
    size: str
    price: str
    time: str


class _LastMatch(_Match, tag="last_match"):
    pass


class _Ticker(msgspec.Struct, tag_field="type", tag="ticker"):
    product_id: str
    sequence: int | None = None
    best_bid: str | None = None
    best_ask: str | None = None
    best_bid_size: str | None = None
    best_ask_size: str | None = None
    time: str | None = None


_Frame = _Snapshot | _L2Update | _Match | _LastMatch | _Ticker
_decode = msgspec.json.Decoder(_Frame)
_SIDES = {"buy": 0, "sell": 1}


class ExchangeTimeRule:
    """Snapshots come in the stream; deltas apply unless their exchange time is
    older than the last applied one (delivered out of order: rebuild).

    The rule remembers that time itself because Coinbase level2 has no id for
    BookSync to track; ``first`` starts over at every snapshot.
    """

    name: ClassVar[str] = "coinbase_time"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "stream"

    def __init__(self) -> None:
        self._last_ns: int | None = None

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        self._last_ns = msg.ts_exchange_ns
        return Verdict.APPLY

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        ts_ns = msg.ts_exchange_ns
        if ts_ns is not None and self._last_ns is not None and ts_ns < self._last_ns:
            return Verdict.GAP
        if ts_ns is not None:
            self._last_ns = ts_ns
        return Verdict.APPLY


class CoinbaseExchange(VenueBase):
    venue: ClassVar[str] = "coinbase"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return ExchangeTimeRule()

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        """Records of one frame: a book message, a trade, a quote, or a Status."""
        try:
            m = _decode.decode(frame)
        except msgspec.ValidationError:
            return [self._other(frame, recv_ns)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed JSON ({exc})", frame) from exc
        try:
            if isinstance(m, _L2Update):
                return [self._update(m, recv_ns)]
            if isinstance(m, _Snapshot):
                return [self._snapshot(m, recv_ns)]
            if isinstance(m, _Match):
                return [self._trade(m, recv_ns)]
            return [self._ticker(m, recv_ns)]
        except (ValueError, TypeError, OverflowError) as exc:
            raise ParseError(self.venue, f"{m.product_id}: {exc}", frame) from exc

    def _snapshot(self, m: _Snapshot, recv_ns: int) -> BookMessage:
        inst = self.instruments.resolve(m.product_id, m.bids + m.asks,
                                        min_price_exp=_FLOOR, min_size_exp=_FLOOR)
        ts_ns = iso_ns(m.time) if m.time is not None else None
        levels = text_levels(m.bids, m.asks, inst, ts_exchange_ns=ts_ns or 0, ts_recv_ns=recv_ns,
                             snapshot=True)
        return BookMessage(self.venue, m.product_id, Kind.SNAPSHOT, levels, recv_ns, ts_ns)

    def _update(self, m: _L2Update, recv_ns: int) -> BookMessage:
        sides: tuple[list[list[str]], list[list[str]]] = ([], [])
        for change in m.changes:
            side = _SIDES.get(change[0]) if change else None
            if side is None:
                raise ValueError(f"change {change!r} has no side buy/sell")
            sides[side].append(change[1:])
        inst = self.instruments.resolve(m.product_id, sides[0] + sides[1],
                                        min_price_exp=_FLOOR, min_size_exp=_FLOOR)
        ts_ns = iso_ns(m.time) if m.time is not None else None
        levels = text_levels(sides[0], sides[1], inst, ts_exchange_ns=ts_ns or 0,
                             ts_recv_ns=recv_ns)
        return BookMessage(self.venue, m.product_id, Kind.DELTA, levels, recv_ns, ts_ns)

    def _trade(self, m: _Match, recv_ns: int) -> Message:
        maker = _SIDES.get(m.side)
        if maker is None:
            raise ValueError(f"match side {m.side!r} is not buy/sell")
        inst = self.instruments.resolve(m.product_id, [[m.price, m.size]],
                                        min_price_exp=_FLOOR, min_size_exp=_FLOOR)
        aggressor = Side.ASK if maker == 0 else Side.BID
        return Trade(self.venue, m.product_id, parse_fixed(m.price, inst.price_exp),
                     parse_fixed(m.size, inst.size_exp), aggressor, str(m.trade_id), recv_ns,
                     iso_ns(m.time))

    def _ticker(self, m: _Ticker, recv_ns: int) -> Message:
        ts_ns = iso_ns(m.time) if m.time is not None else None
        bid, bq, ask, aq = m.best_bid, m.best_bid_size, m.best_ask, m.best_ask_size
        if bid is None or bq is None or ask is None or aq is None:
            return Status(self.venue, m.product_id,
                          f"ticker seq {m.sequence}: bid {bid} ask {ask} (no sizes)", recv_ns)
        inst = self.instruments.resolve(m.product_id, [[bid, bq], [ask, aq]],
                                        min_price_exp=_FLOOR, min_size_exp=_FLOOR)
        p, s = inst.price_exp, inst.size_exp
        # The ticker's sequence is the full channel's, not an id the level2 book reaches.
        return Quote(self.venue, m.product_id, parse_fixed(bid, p), parse_fixed(bq, s),
                     parse_fixed(ask, p), parse_fixed(aq, s), None, recv_ns, ts_ns)

    def _other(self, frame: bytes, recv_ns: int) -> Message:
        obj = decode_json(self.venue, frame)
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise ParseError(self.venue, "expected an object with a string 'type'", frame)
        kind = obj["type"]
        if kind in ("snapshot", "l2update", "match", "last_match", "ticker"):
            try:
                msgspec.convert(obj, _Frame)  # only to name what is wrong
            except msgspec.ValidationError as exc:
                raise ParseError(self.venue, f"bad {kind} frame ({exc})", frame) from exc
            raise ParseError(self.venue, f"bad {kind} frame", frame)
        product = obj.get("product_id") if isinstance(obj.get("product_id"), str) else None
        if kind == "error":
            return Status(self.venue, product,
                          f"error: {obj.get('message')} ({obj.get('reason')})", recv_ns, True)
        if kind == "subscriptions":
            chans = obj.get("channels")
            chans = chans if isinstance(chans, list) else []
            names = [c.get("name") for c in chans if isinstance(c, dict)]
            return Status(self.venue, None, f"subscribed {names}", recv_ns)
        return Status(self.venue, product, f"unhandled type {kind}", recv_ns,
                      drop=Drop.UNSUPPORTED)


PARSERS: dict[str, type[VenueBase]] = {CoinbaseExchange.venue: CoinbaseExchange}


def sniff(rec: CaptureRecord) -> str | None:
    """Coinbase Exchange level2 frames: typed objects keyed by ``product_id``."""
    if rec.kind is not RecordKind.FRAME:
        return None
    head = rec.payload[:60]
    if head.startswith((b'{"type":"l2update","product_id"', b'{"type":"snapshot","product_id"',
                        b'{"type":"subscriptions","channels":[{"name"')):
        return CoinbaseExchange.venue
    return None
