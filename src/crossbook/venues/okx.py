"""OKX v5 public websocket: order books, tickers and trades.

Book channels and the book each one feeds (one BookSync per book symbol):

=================  ======================  =========  ==============================
channel            book symbol             depth      pushes
=================  ======================  =========  ==============================
books              ``BTC-USDT``            400        snapshot, then updates
books-l2-tbt       ``BTC-USDT``            400        snapshot, then updates
books50-l2-tbt     ``BTC-USDT@books50-l2-tbt``  50    snapshot, then updates
books5             ``BTC-USDT@books5``     5          every push a snapshot
bbo-tbt            ``BTC-USDT@bbo-tbt``    1          every push a snapshot
=================  ======================  =========  ==============================

``books`` and ``books-l2-tbt`` are the same 400-level book and OKX refuses both on
one connection, so they share the plain instId; the shallower books are other books
of the same instrument and would corrupt it if they shared its BookSync, hence the
qualified names. Exponents are per instrument (instId), shared by all its books.

Raw samples::

    {"arg":{"channel":"books","instId":"UNI-USD-SWAP"},"action":"snapshot","data":[{"asks":
     [["5.148","60","0","1"],["5.149","192","0","1"],...],"bids":[["5.14","251","0","2"],
     ["5.139","25","0","1"],...],"ts":"1652459225363","checksum":555605283}]}
                                                     (2022 capture: no seqId yet)
    {"arg":{"channel":"books","instId":"UNI-USD-SWAP"},"action":"update","data":[{"asks":[],
     "bids":[["5.134","68","0","2"]],"ts":"1652459229495","checksum":1573501972}]}
    {"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],
     "bids":[["8476.97","256","0","12"]],"ts":"1597026383085","checksum":0,
     "prevSeqId":123456,"seqId":123457}]}                      (2026: checksum always 0)
    ... "data":[{"asks":[],"bids":[],"ts":"...","checksum":0,"prevSeqId":15,"seqId":15}]
                                                          (keep-alive after ~60 s idle)
    ... "data":[{"asks":[...],"bids":[...],"ts":"...","prevSeqId":15,"seqId":3}]
                                                        (maintenance sequence reset)
    {"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[["8476.98","415","0",
     "13"]],"bids":[["8476.97","256","0","12"]],"instId":"BTC-USDT","ts":"1597026383085",
     "seqId":123456}]}                (docs' shape; bbo-tbt: the same with 1 level)
    {"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT","instId":
     "BTC-USDT","last":"30227.6","lastSz":"0.00000088","askPx":"30230.3","askSz":"1.92174778",
     "bidPx":"30230.2","bidSz":"0.4112",...,"ts":"1652459235637"}]}
    {"arg":{"channel":"trades","instId":"UNI-USD-SWAP"},"data":[{"instId":"UNI-USD-SWAP",
     "tradeId":"12883020","px":"5.123","sz":"100","side":"sell","ts":"1652459215150"}]}
    {"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a4d3ae55"}
    {"event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"}
    pong
    GET https://www.okx.com/api/v5/public/instruments?instType=SPOT
     {"code":"0","msg":"","data":[{"instId":"BTC-USDT","tickSz":"0.1","lotSz":"0.00000001",...}]}

Sequencing (:class:`OkxSeqRule`): an update applies when its ``prevSeqId`` is the
book's ``seqId``; ``seqId == prevSeqId`` with no levels is a keep-alive, and
``seqId < prevSeqId`` a legal maintenance reset, both applied through the same
chain test. Captures from before seqId existed (2022) carry none: the checksum is
their only guard.

Checksum (legacy; OKX fixed the field at 0 from 2026-06-23, so 0 means absent):
CRC32 of the top 25 levels interleaved ``bid px:bid sz:ask px:ask sz:...`` (a side
that runs out is skipped), as a signed int32. Numbers are the wire text, which OKX
sends without trailing zeros ("5.16", "30261"): mantissas are rendered at the
instrument's exponent and stripped the same way. Verification builds that text
in Cython (:func:`crossbook._checksum.okx_bytes`); :func:`okx_text` is its
plain-Python twin.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import ClassVar, Literal
from urllib.parse import urlsplit

import msgspec
import numpy as np
import numpy.typing as npt

from crossbook import L2Book
from crossbook._checksum import okx_bytes
from crossbook._side import Side
from crossbook.fixedpoint import format_fixed, parse_fixed
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
from crossbook.sync_rules import SequenceRule, Verdict
from crossbook.timeutil import NS_PER_MS
from crossbook.venues.base import (
    DECODE_ERRORS,
    ChecksumFn,
    ParseError,
    VenueBase,
    decode_json,
    digits_int,
    wire_decimals,
)

__all__ = [
    "PARSERS",
    "Okx",
    "OkxSeqRule",
    "book_levels",
    "crc32_signed",
    "depth_pairs",
    "infer_instrument",
    "interleaved_checksum",
    "interleaved_text",
    "ms_to_ns",
    "okx_checksum",
    "top25_checksum",
    "okx_render",
    "okx_text",
    "sniff",
    "text_levels",
    "verify_okx_checksum",
]

_MAX_MS = ((1 << 63) - 1) // NS_PER_MS  # the last millisecond an int64 of nanoseconds holds (2262)
_MAX_EXP = 18  # 10**18 already fills most of an int64 mantissa
_INT32 = 1 << 31
CHECKSUM_ALG = "okx_legacy_top25"

#: channel -> (levels the venue keeps, every push is a snapshot)
_BOOK_CHANNELS: dict[str, tuple[int, bool]] = {
    "books": (400, False),
    "books-l2-tbt": (400, False),
    "books50-l2-tbt": (50, False),
    "books5": (5, True),
    "bbo-tbt": (1, True),
}
_PLAIN_SYMBOL = frozenset({"books", "books-l2-tbt"})


# -- checksum -------------------------------------------------------------------


def crc32_signed(text: str | bytes) -> int:
    """zlib's CRC32 of the ASCII text, as the signed int32 OKX and Bitget send."""
    crc = zlib.crc32(text.encode("ascii") if isinstance(text, str) else text)
    return crc - (1 << 32) if crc >= _INT32 else crc


def okx_render(mantissa: int, exp: int) -> str:
    """OKX wire text of a value: plain decimal, trailing zeros and a bare point dropped."""
    s = format_fixed(mantissa, exp)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def depth_pairs(levels: npt.NDArray[np.void]) -> list[tuple[int, int]]:
    """(price, size) mantissas of DEPTH rows, in their order."""
    return list(zip(levels["price"].tolist(), levels["size"].tolist(), strict=True))


def book_levels(book: L2Book, n: int = 25) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Top ``n`` (price, size) mantissas per side, best first."""
    bids, asks = book.depth(n)
    return depth_pairs(bids), depth_pairs(asks)


def interleaved_text(
    bids: Sequence[tuple[int, int]],
    asks: Sequence[tuple[int, int]],
    price_exp: int,
    size_exp: int,
    render: Callable[[int, int], str],
    depth: int = 25,
) -> str:
    """The OKX-style checksum input ``bid px:bid sz:ask px:ask sz:...``, best first."""
    parts: list[str] = []
    for i in range(depth):
        for side in (bids, asks):
            if i < len(side):
                px, sz = side[i]
                parts.append(render(px, price_exp))
                parts.append(render(sz, size_exp))
    return ":".join(parts)


def interleaved_checksum(
    bids: Sequence[tuple[int, int]],
    asks: Sequence[tuple[int, int]],
    price_exp: int,
    size_exp: int,
    render: Callable[[int, int], str],
    depth: int = 25,
) -> tuple[int, str]:
    """The OKX-style checksum (signed) and its input string, from best-first levels."""
    text = interleaved_text(bids, asks, price_exp, size_exp, render, depth)
    return crc32_signed(text), text


def okx_text(bids: npt.NDArray[np.void], asks: npt.NDArray[np.void], price_exp: int,
             size_exp: int, depth: int = 25) -> str:
    """Plain-Python twin of :func:`crossbook._checksum.okx_bytes` (test oracle, benchmark
    baseline): the checksum input of best-first DEPTH arrays."""
    return interleaved_text(depth_pairs(bids), depth_pairs(asks), price_exp, size_exp,
                            okx_render, depth)


def top25_checksum(book: L2Book, text: Callable[..., bytes]) -> int:
    """Signed CRC32 of the checksum text (``okx_bytes``, ``bitget_bytes``) of the top 25."""
    bids, asks = book.depth(25)
    return crc32_signed(text(bids, asks, book.price_exp, book.size_exp))


def okx_checksum(book: L2Book) -> int:
    return top25_checksum(book, okx_bytes)


def verify_okx_checksum(book: L2Book, msg: BookMessage) -> bool:
    """ChecksumFn: the book's top 25 against the message's signed checksum."""
    return msg.checksum is not None and okx_checksum(book) == msg.checksum


# -- sequencing -----------------------------------------------------------------


class OkxSeqRule:
    """prevSeqId chain with OKX's two documented exceptions.

    The generic PrevChainRule calls a message stale when its seqId is at or below
    the book's; after an OKX maintenance reset seqIds restart low, so a book that
    missed the reset would then drop every later message as stale while serving a
    frozen book. Here a message that does not chain is stale only if this very
    (prevSeqId, seqId) pair was already applied (a duplicate); anything else is a
    gap, and the book is rebuilt: the safe side of an ambiguity.
    """

    name: ClassVar[str] = "okx_seq"
    snapshot_source: ClassVar[Literal["rest", "stream"]] = "stream"
    #: applied pairs remembered for duplicate detection; older duplicates read as gaps
    memory: ClassVar[int] = 4096

    def __init__(self) -> None:
        self._applied: dict[tuple[int, int], None] = {}

    def first(self, snapshot_id: int | None, msg: BookMessage) -> Verdict:
        return self.next(snapshot_id, msg)

    def next(self, last_id: int | None, msg: BookMessage) -> Verdict:
        if msg.prev_seq is None or msg.last_seq is None or last_id is None:
            return Verdict.APPLY  # pre-seqId feed: only the checksum can judge
        pair = (msg.prev_seq, msg.last_seq)
        if msg.prev_seq == last_id:
            self._applied[pair] = None
            if len(self._applied) > self.memory:
                del self._applied[next(iter(self._applied))]
            return Verdict.APPLY
        return Verdict.STALE if pair in self._applied else Verdict.GAP


# -- wire structures ----------------------------------------------------------------


class _Arg(msgspec.Struct):
    channel: str
    instId: str = ""


class _Push(msgspec.Struct):
    arg: _Arg
    data: msgspec.Raw
    action: str | None = None


class _Book(msgspec.Struct):
    asks: list[list[str]]
    bids: list[list[str]]
    ts: str
    checksum: int | None = None
    seqId: int | None = None
    prevSeqId: int | None = None
    instId: str | None = None


class _Ticker(msgspec.Struct):
    instId: str
    bidPx: str
    bidSz: str
    askPx: str
    askSz: str
    ts: str


class _Trade(msgspec.Struct):
    instId: str
    px: str
    sz: str
    side: str
    ts: str
    tradeId: str | None = None


class _InstrumentSpec(msgspec.Struct):
    instId: str
    tickSz: str
    lotSz: str
    ctVal: str = ""
    ctType: str = ""


class _Instruments(msgspec.Struct):
    data: list[_InstrumentSpec]
    code: str = "0"


_push = msgspec.json.Decoder(_Push)
_books = msgspec.json.Decoder(list[_Book])
_tickers = msgspec.json.Decoder(list[_Ticker])
_trades = msgspec.json.Decoder(list[_Trade])
_instruments = msgspec.json.Decoder(_Instruments)


def ms_to_ns(venue: str, ts: str) -> int:
    if not (ts.isascii() and ts.isdigit()) or len(ts) > 16 or int(ts) > _MAX_MS:
        raise ParseError(venue, f"bad millisecond timestamp {ts!r} (not an int64 of nanoseconds)")
    return int(ts) * NS_PER_MS


def text_levels(
    venue: str,
    inst: Instrument,
    bids: list[list[str]],
    asks: list[list[str]],
    *,
    ts_exchange_ns: int,
    ts_recv_ns: int,
    snapshot: bool,
    count_col: int | None,
) -> npt.NDArray[np.void]:
    """LEVEL_EVENT rows, with the venue's order count where it sends one; refuses
    negative sizes and counts that the book could not hold."""
    try:
        levels = level_events(bids, asks, inst.price_exp, inst.size_exp, snapshot=snapshot,
                              ts_exchange_ns=ts_exchange_ns, ts_recv_ns=ts_recv_ns)
    except (ValueError, OverflowError, TypeError) as exc:
        raise ParseError(venue, f"{inst.symbol}: {exc}") from exc
    if len(levels) and (levels["size"] < 0).any():
        raise ParseError(venue, f"{inst.symbol}: negative size in {bids + asks}")
    if count_col is not None:
        counts = [r[count_col] if len(r) > count_col else "0" for r in bids + asks]
        if not all(c.isascii() and c.isdigit() and len(c) < 10 for c in counts):
            raise ParseError(venue, f"{inst.symbol}: bad order count in {counts}")
        levels["count"] = [int(c) for c in counts]
    return levels


def infer_instrument(venue: str, symbol: str, rows: list[list[str]]) -> Instrument:
    """Exponents from a snapshot's wire text; refused when the text is absurd, so a
    bad frame cannot fix exponents that every later frame would then fail."""
    try:
        pe = wire_decimals(r[0] for r in rows)
        se = wire_decimals(r[1] for r in rows)
    except IndexError:
        raise ParseError(venue, f"{symbol}: level row without price and size") from None
    if pe > _MAX_EXP or se > _MAX_EXP:
        raise ParseError(venue, f"{symbol}: over {_MAX_EXP} decimals in a level")
    return Instrument(venue, symbol, pe, se)


class Okx(VenueBase):
    venue: ClassVar[str] = "okx"

    # -- websocket ------------------------------------------------------------------

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        if frame.strip() == b"pong":
            return [Status(self.venue, None, "pong", recv_ns)]
        try:
            push = _push.decode(frame)
        except msgspec.ValidationError:
            return self._event(frame, recv_ns)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"malformed JSON ({exc})", frame) from exc
        channel = push.arg.channel
        try:
            if channel in _BOOK_CHANNELS:
                out: list[Message] = []
                for d in _books.decode(push.data):
                    out.extend(self._book(channel, push.arg.instId or d.instId or "",
                                          push.action, d, recv_ns))
                return out
            if channel == "tickers":
                return [self._quote(t, recv_ns) for t in _tickers.decode(push.data)]
            if channel in ("trades", "trades-all"):
                return [self._trade(t, recv_ns) for t in _trades.decode(push.data)]
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad {channel} data ({exc})", frame) from exc
        except ParseError as exc:
            raise ParseError(self.venue, exc.reason, frame) from exc
        symbol = push.arg.instId or None
        return [Status(self.venue, symbol, f"unhandled channel {channel}", recv_ns,
                       drop=Drop.UNSUPPORTED)]

    def _event(self, frame: bytes, recv_ns: int) -> list[Message]:
        obj = decode_json(self.venue, frame)
        if not isinstance(obj, dict) or not isinstance(obj.get("event"), str):
            raise ParseError(self.venue, "neither a push (arg+data) nor an event", frame)
        event = obj["event"]
        arg = obj.get("arg")
        inst = arg.get("instId") if isinstance(arg, dict) else None
        symbol = inst if isinstance(inst, str) else None
        if event == "error" or event.endswith("-error"):
            text = f"{event} {obj.get('code')}: {obj.get('msg')}"
            return [Status(self.venue, symbol, text, recv_ns, error=True)]
        detail = arg if arg is not None else obj.get("msg", "")
        return [Status(self.venue, symbol, f"{event} {detail}", recv_ns)]

    def _book(self, channel: str, inst_id: str, action: str | None, d: _Book,
              recv_ns: int) -> list[Message]:
        depth, snapshot_only = _BOOK_CHANNELS[channel]
        if not inst_id:
            raise ParseError(self.venue, f"{channel} push without instId")
        if snapshot_only or action == "snapshot":
            kind = Kind.SNAPSHOT
        elif action == "update":
            kind = Kind.DELTA
        else:
            raise ParseError(self.venue, f"{inst_id} {channel}: unknown action {action!r}")
        symbol = inst_id if channel in _PLAIN_SYMBOL else f"{inst_id}@{channel}"
        bad = next((r for r in (*d.bids, *d.asks) if len(r) != 4), None)
        if bad is not None:  # any other shape would put another column in the count's place
            raise ParseError(self.venue, f"{inst_id}: level {bad} is not [price, size, "
                             "liquidated orders, orders]")
        inst = self.instruments.get(inst_id)
        if inst is None and kind is Kind.DELTA:
            # A stream snapshot always precedes its updates, and BookSync would drop an
            # earlier update anyway; inferring exponents from a few update values could
            # fix them too small for the whole book.
            return [Status(self.venue, symbol, f"{channel} update before any snapshot: "
                           "exponents unknown, dropped", recv_ns, error=True,
                           drop=Drop.STALE)]
        ts_ns = ms_to_ns(self.venue, d.ts)
        checksum = d.checksum or None  # OKX sends 0 since the checksum was retired
        if checksum is not None and not -_INT32 <= checksum < _INT32:
            raise ParseError(self.venue, f"{inst_id}: checksum {checksum} is not an int32")
        fresh = inst is None
        if inst is None:
            inst = infer_instrument(self.venue, inst_id, d.bids + d.asks)
        levels = text_levels(self.venue, inst, d.bids, d.asks, ts_exchange_ns=ts_ns,
                             ts_recv_ns=recv_ns, snapshot=kind is Kind.SNAPSHOT, count_col=3)
        # Registered only once the whole frame parsed: a bad frame fixes no exponents.
        if fresh:
            self.instruments.add(inst)
        if symbol != inst_id and self.instruments.get(symbol) is None:
            self.instruments.add(replace(inst, symbol=symbol))
        extra: dict[str, object] = {"channel": channel}
        out: list[Message] = []
        if kind is Kind.DELTA and d.seqId is not None and d.prevSeqId is not None:
            if d.seqId == d.prevSeqId and not len(levels):
                extra["keepalive"] = True
            elif d.seqId < d.prevSeqId:
                extra["seq_reset"] = True
                out.append(Status(self.venue, symbol, f"sequence reset: prevSeqId {d.prevSeqId}"
                                  f" -> seqId {d.seqId}", recv_ns))
        out.insert(0, BookMessage(
            self.venue, symbol, kind, levels, recv_ns, ts_ns,
            last_seq=d.seqId, prev_seq=d.prevSeqId,
            checksum=checksum, checksum_alg=CHECKSUM_ALG if checksum is not None else None,
            depth_limit=depth, extra=extra))
        return out

    def _quote(self, t: _Ticker, recv_ns: int) -> Message:
        inst = self.instruments.get(t.instId)
        ts_ns = ms_to_ns(self.venue, t.ts)
        if inst is None or not (t.bidPx and t.askPx and t.bidSz and t.askSz):
            why = "exponents unknown until its first book snapshot" if inst is None else "one-sided"
            return Status(self.venue, t.instId, f"ticker not used: {why}", recv_ns)
        p, s = inst.price_exp, inst.size_exp
        try:
            return Quote(self.venue, t.instId, parse_fixed(t.bidPx, p), parse_fixed(t.bidSz, s),
                         parse_fixed(t.askPx, p), parse_fixed(t.askSz, s), None, recv_ns, ts_ns)
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{t.instId} ticker: {exc}") from exc

    def _trade(self, t: _Trade, recv_ns: int) -> Message:
        inst = self.instruments.get(t.instId)
        ts_ns = ms_to_ns(self.venue, t.ts)
        if inst is None:
            return Status(self.venue, t.instId, f"trade {t.tradeId} not used: exponents "
                          "unknown until its first book snapshot", recv_ns)
        if t.side not in ("buy", "sell"):
            raise ParseError(self.venue, f"{t.instId} trade {t.tradeId}: side {t.side!r}")
        try:
            return Trade(self.venue, t.instId, parse_fixed(t.px, inst.price_exp),
                         parse_fixed(t.sz, inst.size_exp),
                         Side.BID if t.side == "buy" else Side.ASK, t.tradeId, recv_ns, ts_ns)
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{t.instId} trade {t.tradeId}: {exc}") from exc

    # -- REST -------------------------------------------------------------------------

    def parse_rest(self, url: str, body: bytes, recv_ns: int) -> list[Message]:
        """``/api/v5/public/instruments`` fixes exponents from tickSz/lotSz, which beats
        inferring them from a shallow book (bbo-tbt shows one level)."""
        path = urlsplit(url).path
        if not path.endswith("/public/instruments"):
            return [Status(self.venue, None, f"unhandled REST {path}", recv_ns,
                           drop=Drop.UNSUPPORTED)]
        try:
            specs = _instruments.decode(body)
        except DECODE_ERRORS as exc:
            raise ParseError(self.venue, f"bad instruments response ({exc})", body) from exc
        if specs.code != "0":
            return [Status(self.venue, None, f"instruments error code {specs.code}", recv_ns, True)]
        added, kept = 0, []
        for spec in specs.data:
            inst = self._from_spec(spec)
            old = self.instruments.get(spec.instId)
            if old is None:
                self.instruments.add(inst)
                added += 1
            elif (old.price_exp, old.size_exp) != (inst.price_exp, inst.size_exp):
                kept.append(spec.instId)  # its books already hold mantissas at the old exponents
        text = f"{added} instruments added"
        if kept:
            text += f"; kept earlier exponents of {kept}"
        return [Status(self.venue, None, text, recv_ns)]

    def _from_spec(self, spec: _InstrumentSpec) -> Instrument:
        for v in (spec.tickSz, spec.lotSz):
            try:
                parse_fixed(v, _MAX_EXP)
            except (ValueError, OverflowError) as exc:
                raise ParseError(self.venue, f"{spec.instId}: bad tick/lot {v!r} ({exc})") from exc
        ct = spec.ctVal
        whole = 0 < (digits_int(ct, 10) or 0) < 1 << 31
        return Instrument(self.venue, spec.instId, wire_decimals([spec.tickSz]),
                          wire_decimals([spec.lotSz]), contract_size=int(ct) if whole else 1,
                          inverse=spec.ctType == "inverse")

    # -- hooks ------------------------------------------------------------------------

    def sync_rule(self, symbol: str) -> SequenceRule:
        return OkxSeqRule()

    def checksum(self, symbol: str) -> ChecksumFn | None:
        return verify_okx_checksum

    def depth_limit(self, symbol: str) -> int | None:
        _, _, channel = symbol.partition("@")
        return _BOOK_CHANNELS.get(channel or "books", (None, False))[0]


PARSERS: dict[str, type[VenueBase]] = {Okx.venue: Okx}


def sniff(rec: CaptureRecord) -> str | None:
    """OKX v5: pushes open with ``{"arg":{"channel":``, acks carry the same arg, and
    subscriptions list ``{"channel":..,"instId":..}`` objects (Bitget's lead with instType)."""
    head = rec.payload[:200]
    if rec.kind is RecordKind.FRAME:
        if head.startswith(b'{"arg":{"channel":"'):
            return Okx.venue
        if head.startswith(b'{"event":"') and b'"arg":{"channel":"' in head:
            return Okx.venue
    if rec.kind is RecordKind.SENT and b'"args":[{"channel":"' in head and b'"op":"' in head:
        return Okx.venue
    return None
