"""Kraken spot WebSocket v1 (``wss://ws.kraken.com``): ``book``, ``trade``, ``ticker``, ``spread``.

Every decimal is quoted text at the pair's fixed precision, so exponents come
straight from the wire. The book has no sequence numbers: the CRC32 checksum
``"c"`` (updates only, never snapshots) is the only integrity check, computed
over the top 10 asks then the top 10 bids after the update is applied and the
book truncated to the subscribed depth (``book-N``), because Kraken sends no
delete for a level that falls out of the window. Verification builds the
checksum text in Cython (:func:`crossbook._checksum.kraken_bytes`);
:func:`kraken_text` is its plain-Python twin.

Raw samples (kraken_book_v1_2021 and the v1 docs)::

    {"event":"systemStatus","connectionID":17843232920108168701,"status":"online","version":"1.8.3"}
    {"channelID":992,"channelName":"book-1000","event":"subscriptionStatus","pair":"XMR/USD",
     "status":"subscribed","subscription":{"depth":1000,"name":"book"}}
    {"event":"heartbeat"}
    [992,{"as":[["354.80000000","1.40000000","1618678133.020508"],...],
          "bs":[["354.16000000","1.40000000","1618678133.063311"],...]},"book-1000","XMR/USD"]
    [992,{"b":[["354.15000000","5.00000000","1618678133.365913"]],"c":"2583817756"},
     "book-1000","XMR/USD"]
    [1920,{"a":[["0.042990","364630.28272081","1618678145.920470"]]},
          {"b":[["0.042990","0.00000000","1618678145.920708"]],"c":"4105471083"},
     "book-1000","SC/EUR"]
    [0,{"a":[["0.05005","0.00000500","1582905487.684110","r"]],"c":"974947235"},"book-10","BTC/USD"]
    [993,[["354.11000000","0.89594024","1618678142.557535","s","l",""]],"trade","XMR/USD"]
    [996,{"a":["355.24000000",27,"27.19106411"],"b":["354.32000000",6,"6.87748868"],
          "c":["355.23000000","1.20454360"],...},"ticker","XMR/USD"]
    [0,["5698.40000","5700.00000","1542057299.545897","1.01234567","0.98765432"],"spread","XBT/USD"]
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from crossbook import L2Book
from crossbook._checksum import kraken_bytes
from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import (
    Drop,
    BookMessage,
    Instrument,
    Kind,
    Message,
    Quote,
    Status,
    Trade,
    level_events,
)
from crossbook.sync_rules import SequenceRule, UnsequencedRule
from crossbook.venues.base import (
    ChecksumFn,
    ParseError,
    VenueBase,
    decode_json,
    digits_int,
    wire_decimals,
)

__all__ = ["PARSERS", "KrakenV1", "kraken_checksum", "kraken_checksum_text", "kraken_text", "sniff"]

CHECKSUM_ALG = "kraken_crc32_top10"
_CRC_LEVELS = 10
_U32 = 1 << 32


def _digits(mantissa: int, exp: int) -> str:
    """The decimal text of mantissa * 10**-exp with the point and leading zeros
    removed, which is just the mantissa's digits (zeros appended for exp < 0):
    no decimal text needs building at all."""
    if mantissa == 0:
        return ""
    return str(mantissa) if exp >= 0 else str(mantissa) + "0" * -exp


def kraken_text(bids: npt.NDArray[np.void], asks: npt.NDArray[np.void], price_exp: int,
                size_exp: int, depth: int = _CRC_LEVELS) -> str:
    """Plain-Python twin of :func:`crossbook._checksum.kraken_bytes` (test oracle,
    benchmark baseline): the checksum input of best-first DEPTH arrays."""
    rows = asks[:depth].tolist() + bids[:depth].tolist()
    pe, se = price_exp, size_exp
    if pe >= 0 and se >= 0:  # every real pair: the digits are the mantissas themselves
        return "".join(f"{p or ''}{s or ''}" for p, s, _ in rows)
    return "".join(_digits(p, pe) + _digits(s, se) for p, s, _ in rows)


def kraken_checksum_text(book: L2Book) -> str:
    """The string Kraken feeds to CRC32: top 10 asks (low to high), then top 10
    bids (high to low), each as price then size with the point and leading zeros
    removed. Values are rendered at the book's exponents, which must be the pair's
    precision (v1: the wire's fixed width; v2: the instrument's precision)."""
    bids, asks = book.depth(_CRC_LEVELS)
    return kraken_text(bids, asks, book.price_exp, book.size_exp)


def kraken_checksum(book: L2Book, msg: BookMessage) -> bool:
    """ChecksumFn for Kraken v1 and v2 books (unsigned CRC32)."""
    bids, asks = book.depth(_CRC_LEVELS)
    return zlib.crc32(kraken_bytes(bids, asks, book.price_exp, book.size_exp)) == msg.checksum


def _seconds_ns(venue: str, text: object) -> int:
    if not isinstance(text, str):
        raise ParseError(venue, f"timestamp must be decimal text, got {text!r}")
    try:
        return parse_fixed(text, 9)
    except (ValueError, OverflowError) as exc:
        raise ParseError(venue, f"bad timestamp {text!r}: {exc}") from exc


class KrakenV1(VenueBase):
    venue: ClassVar[str] = "kraken"

    def sync_rule(self, symbol: str) -> SequenceRule:
        return UnsequencedRule()

    def checksum(self, symbol: str) -> ChecksumFn:
        return kraken_checksum

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        obj = decode_json(self.venue, frame)
        if isinstance(obj, dict):
            return [self._event(obj, frame, recv_ns)]
        if not isinstance(obj, list) or len(obj) < 4:
            raise ParseError(self.venue, "expected an event object or a channel array", frame)
        chan_id, channel, pair = obj[0], obj[-2], obj[-1]
        if not (isinstance(chan_id, int) and isinstance(channel, str) and isinstance(pair, str)):
            raise ParseError(self.venue, "expected [id, payload..., name, pair]", frame)
        payload = obj[1:-2]
        if channel in ("trade", "ticker", "spread") and len(payload) != 1:
            raise ParseError(self.venue, f"{pair}: {channel} frame must carry one payload", frame)
        try:
            if channel.startswith("book-"):
                return [self._book(payload, channel, pair, recv_ns)]
            if channel == "trade":
                return list(self._trades(payload[0], pair, recv_ns))
            if channel == "ticker":
                return [self._ticker(payload[0], pair, recv_ns)]
            if channel == "spread":
                return [self._spread(payload[0], pair, recv_ns)]
        except ParseError as exc:
            raise ParseError(self.venue, exc.reason, frame) from exc
        return [Status(self.venue, pair, f"unhandled channel {channel}", recv_ns,
                       drop=Drop.UNSUPPORTED)]

    # -- control frames ----------------------------------------------------------

    def _event(self, obj: dict[str, object], frame: bytes, recv_ns: int) -> Status:
        event = obj.get("event")
        if not isinstance(event, str):
            raise ParseError(self.venue, "object without an event", frame)
        pair = obj.get("pair")
        symbol = pair if isinstance(pair, str) else None
        if event == "subscriptionStatus":
            status = obj.get("status")
            text = f"{status} {obj.get('channelName', '')}".rstrip()
            if status == "error":
                text = f"subscription error: {obj.get('errorMessage')}"
            return Status(self.venue, symbol, text, recv_ns, error=status == "error")
        if event == "systemStatus":
            status = obj.get("status")
            return Status(self.venue, None, f"system {status} (v{obj.get('version')})", recv_ns,
                          error=status not in ("online", None))
        if event == "error":
            text = f"error: {obj.get('errorMessage')}"
            return Status(self.venue, symbol, text, recv_ns, error=True)
        return Status(self.venue, symbol, event, recv_ns)  # heartbeat, pong

    # -- book ----------------------------------------------------------------

    def _book(
        self, payload: Sequence[object], channel: str, pair: str, recv_ns: int
    ) -> BookMessage:
        """Snapshot: one object with "as"/"bs". Update: one or two objects with
        "a" and/or "b"; "c" sits in the last one. Levels apply in array order."""
        depth_text = channel[5:]
        if not digits_int(depth_text):
            raise ParseError(self.venue, f"bad book channel name {channel!r}")
        depth = int(depth_text)
        asks: list[list[str]] = []
        bids: list[list[str]] = []
        checksum: int | None = None
        keys: list[str] = []
        if not payload:
            raise ParseError(self.venue, f"{pair}: book frame without levels")
        for part in payload:
            if not isinstance(part, dict):
                raise ParseError(self.venue, f"{pair}: book payload must be an object")
            for key, value in part.items():
                if key in keys or key not in ("as", "bs", "a", "b", "c"):
                    raise ParseError(self.venue, f"{pair}: unexpected or repeated book key {key!r}")
                keys.append(key)
                if key == "c":
                    checksum = self._checksum_value(pair, value)
                else:
                    (asks if key[0] == "a" else bids).extend(self._rows(pair, value))
        snapshot = "as" in keys or "bs" in keys
        if snapshot and any(k in keys for k in ("a", "b", "c")):
            raise ParseError(self.venue, f"{pair}: snapshot keys mixed with update keys")
        inst = self._guess(pair, bids + asks)
        try:
            levels = level_events(bids, asks, inst.price_exp, inst.size_exp,
                                  ts_recv_ns=recv_ns, snapshot=snapshot)
        except (ValueError, OverflowError, TypeError) as exc:
            raise ParseError(self.venue, f"{pair}: {exc}") from exc
        if (levels["size"] < 0).any() or (levels["price"] <= 0).any():
            raise ParseError(self.venue, f"{pair}: negative size or non-positive price")
        stamps = [_seconds_ns(self.venue, r[2]) for r in bids + asks]
        levels["ts_exchange_ns"] = stamps
        republished = sum(1 for r in bids + asks if len(r) == 4)
        self.instruments.add(inst)  # only now: a refused frame leaves no trace
        return BookMessage(
            self.venue, pair, Kind.SNAPSHOT if snapshot else Kind.DELTA, levels, recv_ns,
            max(stamps) if stamps else None,
            checksum=checksum, checksum_alg=CHECKSUM_ALG if checksum is not None else None,
            depth_limit=depth, extra={"republished": republished} if republished else {},
        )

    def _rows(self, pair: str, value: object) -> list[list[str]]:
        if not isinstance(value, list):
            raise ParseError(self.venue, f"{pair}: levels must be an array")
        for row in value:
            # [price, volume, timestamp] or with a 4th "r": republished after leaving the window.
            if (
                not isinstance(row, list)
                or len(row) not in (3, 4)
                or not all(isinstance(x, str) for x in row)
                or (len(row) == 4 and row[3] != "r")
            ):
                raise ParseError(self.venue, f"{pair}: bad level {row!r}")
        return value

    def _checksum_value(self, pair: str, value: object) -> int:
        crc = digits_int(value, 10) if isinstance(value, str) else None  # a CRC32: 10 digits
        if crc is None or crc >= _U32:
            raise ParseError(self.venue, f"{pair}: bad checksum {value!r}")
        return crc

    # -- trades and top of book ------------------------------------------------

    def _trades(self, value: object, pair: str, recv_ns: int) -> list[Trade]:
        """Rows [price, volume, time, side b|s, type m|l, misc]; side is the taker's."""
        if not isinstance(value, list):
            raise ParseError(self.venue, f"{pair}: trades must be an array")
        for row in value:
            ok = isinstance(row, list) and len(row) >= 4
            if not ok or not all(isinstance(x, str) for x in row[:4]):
                raise ParseError(self.venue, f"{pair}: bad trade {row!r}")
            if row[3] not in ("b", "s"):
                raise ParseError(self.venue, f"{pair}: bad trade side {row[3]!r}")
        inst = self._guess(pair, [row[:2] for row in value])
        out = []
        for row in value:
            price = self._fixed(pair, row[0], inst.price_exp)
            size = self._fixed(pair, row[1], inst.size_exp)
            aggressor = Side.BID if row[3] == "b" else Side.ASK
            out.append(Trade(self.venue, pair, price, size, aggressor, None, recv_ns,
                             _seconds_ns(self.venue, row[2])))
        self.instruments.add(inst)
        return out

    def _ticker(self, value: object, pair: str, recv_ns: int) -> Quote:
        """a/b = [price, whole-lot volume, lot volume]; the lot volume is the size."""
        if not isinstance(value, dict):
            raise ParseError(self.venue, f"{pair}: ticker must be an object")
        a, b = value.get("a"), value.get("b")
        if not (isinstance(a, list) and isinstance(b, list) and len(a) == 3 and len(b) == 3):
            raise ParseError(self.venue, f"{pair}: ticker without a/b [price, whole, lot]")
        return self._quote(pair, b[0], b[2], a[0], a[2], recv_ns, None)

    def _spread(self, value: object, pair: str, recv_ns: int) -> Quote:
        """[bid, ask, timestamp, bidVolume, askVolume]."""
        if not isinstance(value, list) or len(value) != 5:
            raise ParseError(self.venue, f"{pair}: spread must be [bid, ask, ts, bid vol, ask vol]")
        return self._quote(pair, value[0], value[3], value[1], value[4], recv_ns,
                           _seconds_ns(self.venue, value[2]))

    def _quote(self, pair: str, bp: object, bs: object, ap: object, as_: object,
               recv_ns: int, ts_ns: int | None) -> Quote:
        if not all(isinstance(x, str) for x in (bp, bs, ap, as_)):
            raise ParseError(self.venue, f"{pair}: quote values must be decimal text")
        texts: list[list[str]] = [[str(bp), str(bs)], [str(ap), str(as_)]]
        inst = self._guess(pair, texts)
        p, s = inst.price_exp, inst.size_exp
        bid_price, bid_size = self._fixed(pair, texts[0][0], p), self._fixed(pair, texts[0][1], s)
        ask_price, ask_size = self._fixed(pair, texts[1][0], p), self._fixed(pair, texts[1][1], s)
        self.instruments.add(inst)
        return Quote(self.venue, pair, bid_price, bid_size, ask_price, ask_size, None, recv_ns,
                     ts_ns)

    def _guess(self, pair: str, rows: list[list[str]]) -> Instrument:
        """The pair's instrument, or one inferred from the wire's fixed width; the
        caller stores it only once the whole frame has parsed."""
        inst = self.instruments.get(pair)
        if inst is None:
            inst = Instrument(self.venue, pair, wire_decimals(r[0] for r in rows),
                              wire_decimals(r[1] for r in rows))
        return inst

    def _fixed(self, pair: str, text: str, exp: int) -> int:
        try:
            value = parse_fixed(text, exp)
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{pair}: {exc}") from exc
        if value < 0:
            raise ParseError(self.venue, f"{pair}: negative value {text!r}")
        return value


#: Venue name -> parser class; crossbook.venues.registry collects these from every module.
PARSERS: dict[str, type[VenueBase]] = {KrakenV1.venue: KrakenV1}

_TAILS = (b',"trade","', b',"ticker","', b',"spread","', b',"book-')


def sniff(rec: CaptureRecord) -> str | None:
    """Kraken v1 frames end with ``"<channel>","<PAIR>"]``; its control objects
    name ``systemStatus`` / ``channelName``; its subscribe requests carry a
    ``subscription`` object."""
    p = rec.payload
    if rec.kind is RecordKind.SENT:
        return KrakenV1.venue if b'"event":"subscribe"' in p and b'"subscription":{' in p else None
    if rec.kind is not RecordKind.FRAME:
        return None
    if p.startswith(b"[") and p.rstrip().endswith(b'"]') and any(t in p[-60:] for t in _TAILS):
        return KrakenV1.venue
    if p.startswith(b"{") and (b'"event":"systemStatus"' in p or b'"channelName":"' in p):
        return KrakenV1.venue
    return None
