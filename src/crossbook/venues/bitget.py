"""Bitget websocket API v1 (2022): ``books`` with the OKX-style checksum, trades.

v1 public subscriptions name the market with ``instType`` ``sp`` (spot) or ``mc``
(mix contracts); the same instId can exist in both, so contract books are named
``MC:BTCUSDT`` and spot books plain ``BTCUSDT``. ``books5``/``books15`` push whole
shallow books and get their own book symbol (``BTCUSDT@books5``).

Raw samples::

    {"action":"snapshot","arg":{"instType":"sp","channel":"books","instId":"STGUSDT"},
     "data":[{"asks":[["2.917","60.424"],["2.925","30.436"],...],"bids":[["2.861","10.542"],
     ["2.833","1.766"],...],"checksum":-1605082578,"ts":"1649290077498"}]}
    {"action":"update","arg":{"instType":"sp","channel":"books","instId":"GOGUSDT"},
     "data":[{"asks":[["0.5625","16.3333"],["0.5631","9.0000"],...],"bids":[["0.5512",
     "15.0667"],...],"checksum":871848329,"ts":"1649290078141"}]}
    {"action":"update","arg":{"instType":"sp","channel":"trade","instId":"HOTUSDT"},
     "data":[["1649290077777","0.005613","890.8","buy"]]}      (the snapshot: 50 such rows)
    {"action":"snapshot","arg":{"instType":"sp","channel":"ticker","instId":"CULTUSDT"},
     "data":[{"instId":"CULTUSDT","last":"0.00003511","bestBid":"0.000036",...}]}
                                          (no sizes: reported, not turned into a Quote)
    {"event":"subscribe","arg":{"instType":"sp","channel":"books","instId":"CULTUSDT"}}
    {"event":"error","code":30001,"msg":"..."}                    (error event shape)
    pong

Sequencing: v1 books carry no sequence number, so every update applies and the
checksum is the only guard (UnsequencedRule).

Checksum: as OKX (top 25, bid/ask interleaved ``px:sz``, CRC32 as signed int32),
but the numbers are Java ``BigDecimal.toString`` of the wire text: Bitget pads to
the pair's precision and keeps it ("3.100", "0.00003530"), and a value under
1e-6 turns scientific ("1.452E-9"). Python's ``str(Decimal)`` follows the same
rule, so mantissas are rendered through Decimal at the instrument's exponent,
which therefore has to be the wire precision (it is inferred from the wire).
Verification builds that text in Cython (:func:`crossbook._checksum.bitget_bytes`);
:func:`bitget_text` is its plain-Python twin.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from typing import ClassVar

import msgspec
import numpy as np
import numpy.typing as npt

from crossbook import L2Book
from crossbook._checksum import bitget_bytes
from crossbook._side import Side
from crossbook.fixedpoint import parse_fixed
from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Drop, Instrument, Kind, Message, Status, Trade
from crossbook.sync_rules import SequenceRule, UnsequencedRule
from crossbook.venues._textlevels import read_wired, wire_levels
from crossbook.venues.base import DECODE_ERRORS, ChecksumFn, ParseError, VenueBase, decode_json
from crossbook.venues.okx import (
    depth_pairs,
    infer_instrument,
    interleaved_text,
    ms_to_ns,
    text_levels,
    top25_checksum,
)

__all__ = [
    "PARSERS", "Bitget", "bitget_checksum", "bitget_render", "bitget_text", "sniff",
    "verify_bitget_checksum",
]

_INT32 = 1 << 31
CHECKSUM_ALG = "bitget_v1_top25"

#: channel -> (levels the venue keeps, every push is a snapshot); v1 ``books`` is
#: the whole book as far as the capture shows (no level ever falls out unannounced).
_BOOK_CHANNELS: dict[str, tuple[int | None, bool]] = {
    "books": (None, False),
    "books5": (5, True),
    "books15": (15, True),
}
_V1_INST_TYPE = re.compile(rb'"instType":"(?:sp|SP|mc|MC)"')


def bitget_render(mantissa: int, exp: int) -> str:
    """Java BigDecimal.toString of ``mantissa`` x 10^-exp (what Bitget's checksum hashes)."""
    return str(Decimal(mantissa).scaleb(-exp))


def bitget_text(bids: npt.NDArray[np.void], asks: npt.NDArray[np.void], price_exp: int,
                size_exp: int, depth: int = 25) -> str:
    """Plain-Python twin of :func:`crossbook._checksum.bitget_bytes` (test oracle, benchmark
    baseline): the checksum input of best-first DEPTH arrays."""
    return interleaved_text(depth_pairs(bids), depth_pairs(asks), price_exp, size_exp,
                            bitget_render, depth)


def bitget_checksum(book: L2Book) -> int:
    return top25_checksum(book, bitget_bytes)


def verify_bitget_checksum(book: L2Book, msg: BookMessage) -> bool:
    return msg.checksum is not None and bitget_checksum(book) == msg.checksum


class _Arg(msgspec.Struct):
    instType: str
    channel: str
    instId: str


class _Push(msgspec.Struct):
    arg: _Arg
    data: msgspec.Raw
    action: str | None = None


class _Book(msgspec.Struct):
    asks: list[list[str]]
    bids: list[list[str]]
    ts: str
    checksum: int | None = None


class _WireBook(msgspec.Struct):
    """_Book with its level arrays left undecoded, for wire_levels."""

    asks: msgspec.Raw
    bids: msgspec.Raw
    ts: str
    checksum: int | None = None


class _Wired(msgspec.Struct):
    """A _WireBook whose levels wire_levels read, at its instrument's known exponents."""

    ts: str
    checksum: int | None
    inst: Instrument
    levels: npt.NDArray[np.void]


_push = msgspec.json.Decoder(_Push)
_books = msgspec.json.Decoder(list[_Book])
_wire_books = msgspec.json.Decoder(list[_WireBook])
_trades = msgspec.json.Decoder(list[list[str]])


class Bitget(VenueBase):
    venue: ClassVar[str] = "bitget"

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        if frame.strip() == b"pong":
            return [Status(self.venue, None, "pong", recv_ns)]
        try:
            push = _push.decode(frame)
        except msgspec.ValidationError:
            return self._event(frame, recv_ns)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed JSON ({exc})", frame) from exc
        arg = push.arg
        spot = arg.instType.lower() == "sp"
        inst_id = arg.instId if spot else f"{arg.instType.upper()}:{arg.instId}"
        try:
            if arg.channel in _BOOK_CHANNELS:
                books = self._wired(arg.channel, inst_id, push.action, push.data, recv_ns)
                out: list[Message] = []
                for d in _books.decode(push.data) if books is None else books:
                    out.extend(self._book(arg.channel, inst_id, push.action, d, recv_ns))
                if not out:  # v1 pushes one book per frame: an empty push is not the protocol
                    raise ParseError(self.venue, f"{inst_id} {arg.channel}: push without a book")
                return out
            if arg.channel == "trade":
                return [self._trade(inst_id, row, recv_ns) for row in _trades.decode(push.data)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {arg.channel} data ({exc})", frame) from exc
        except ParseError as exc:
            raise ParseError(self.venue, exc.reason, frame) from exc
        return [Status(self.venue, inst_id, f"unhandled channel {arg.channel}", recv_ns,
                       drop=Drop.UNSUPPORTED)]

    def _event(self, frame: bytes, recv_ns: int) -> list[Message]:
        obj = decode_json(self.venue, frame)
        if not isinstance(obj, dict) or not isinstance(obj.get("event"), str):
            raise ParseError(self.venue, "neither a push (arg+data) nor an event", frame)
        event = obj["event"]
        arg = obj.get("arg")
        inst = arg.get("instId") if isinstance(arg, dict) else None
        symbol = inst if isinstance(inst, str) else None
        if event == "error":
            text = f"error {obj.get('code')}: {obj.get('msg')}"
            return [Status(self.venue, symbol, text, recv_ns, error=True)]
        detail = arg if arg is not None else obj.get("msg", "")
        return [Status(self.venue, symbol, f"{event} {detail}", recv_ns)]

    def _wired(self, channel: str, inst_id: str, action: str | None, data: msgspec.Raw,
               recv_ns: int) -> list[_Wired] | None:
        snapshot = _BOOK_CHANNELS[channel][1] or action == "snapshot"
        return read_wired(lambda: _wire_books.decode(data), lambda _: self.instruments.get(inst_id),
                          lambda books, inst: self._wired_books(books, inst, snapshot, recv_ns))

    def _wired_books(self, books: list[_WireBook], inst: Instrument, snapshot: bool,
                     recv_ns: int) -> list[_Wired] | None:
        out = []
        for d in books:
            ts_ns = ms_to_ns(self.venue, d.ts)
            levels = wire_levels(d.bids, d.asks, inst, ts_exchange_ns=ts_ns, ts_recv_ns=recv_ns,
                                 snapshot=snapshot)
            if levels is None:
                return None
            out.append(_Wired(d.ts, d.checksum, inst, levels))
        return out

    def _book(self, channel: str, inst_id: str, action: str | None, d: _Book | _Wired,
              recv_ns: int) -> list[Message]:
        depth, snapshot_only = _BOOK_CHANNELS[channel]
        if snapshot_only or action == "snapshot":
            kind = Kind.SNAPSHOT
        elif action == "update":
            kind = Kind.DELTA
        else:
            raise ParseError(self.venue, f"{inst_id} {channel}: unknown action {action!r}")
        symbol = inst_id if channel == "books" else f"{inst_id}@{channel}"
        inst = self.instruments.get(inst_id)
        if inst is None and kind is Kind.DELTA:
            # The snapshot comes first on subscribe; BookSync would drop this anyway.
            return [Status(self.venue, symbol, f"{channel} update before any snapshot: "
                           "exponents unknown, dropped", recv_ns, error=True, drop=Drop.STALE)]
        ts_ns = ms_to_ns(self.venue, d.ts)
        if d.checksum is not None and not -_INT32 <= d.checksum < _INT32:
            raise ParseError(self.venue, f"{inst_id}: checksum {d.checksum} is not an int32")
        fresh = inst is None
        if isinstance(d, _Wired):
            inst, levels = d.inst, d.levels
        else:
            if inst is None:
                inst = infer_instrument(self.venue, inst_id, d.bids + d.asks)
            levels = text_levels(self.venue, inst, d.bids, d.asks, ts_exchange_ns=ts_ns,
                                 ts_recv_ns=recv_ns, snapshot=kind is Kind.SNAPSHOT, count_col=None)
        # Registered only once the whole frame parsed: a bad frame fixes no exponents.
        if fresh:
            self.instruments.add(inst)
        if symbol != inst_id and self.instruments.get(symbol) is None:
            self.instruments.add(replace(inst, symbol=symbol))
        return [BookMessage(
            self.venue, symbol, kind, levels, recv_ns, ts_ns, checksum=d.checksum,
            checksum_alg=CHECKSUM_ALG if d.checksum is not None else None,
            depth_limit=depth, extra={"channel": channel})]

    def _trade(self, inst_id: str, row: list[str], recv_ns: int) -> Message:
        inst = self.instruments.get(inst_id)
        if len(row) != 4 or row[3] not in ("buy", "sell"):
            raise ParseError(self.venue, f"{inst_id}: trade row {row} is not [ts, px, sz, side]")
        ts_ns = ms_to_ns(self.venue, row[0])
        if inst is None:
            return Status(self.venue, inst_id, "trade not used: exponents unknown until "
                          "its first book snapshot", recv_ns)
        try:
            return Trade(self.venue, inst_id, parse_fixed(row[1], inst.price_exp),
                         parse_fixed(row[2], inst.size_exp),
                         Side.BID if row[3] == "buy" else Side.ASK, None, recv_ns, ts_ns)
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{inst_id} trade: {exc}") from exc

    def sync_rule(self, symbol: str) -> SequenceRule:
        return UnsequencedRule()

    def checksum(self, symbol: str) -> ChecksumFn | None:
        return verify_bitget_checksum

    def depth_limit(self, symbol: str) -> int | None:
        _, _, channel = symbol.partition("@")
        return _BOOK_CHANNELS.get(channel or "books", (None, False))[0]


PARSERS: dict[str, type[VenueBase]] = {Bitget.venue: Bitget}


def sniff(rec: CaptureRecord) -> str | None:
    """Bitget v1: an ``arg`` (or subscription) led by instType sp/mc; v2's SPOT and
    USDT-FUTURES are another protocol and are not claimed."""
    if rec.kind is RecordKind.REST:
        return None
    head = rec.payload[:200]
    led = b'"arg":{"instType":"' in head or b'"args":[{"instType":"' in head
    if led and _V1_INST_TYPE.search(head):
        return Bitget.venue
    return None
