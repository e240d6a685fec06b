"""Golden-test kit: expected quotes, trades and statuses as read from a frame,
and the check of a parser's output against them (tests/venues/test_golden_messages.py)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from crossbook import Side
from crossbook.messages import BookMessage, Instrument, Message, Quote, Status, Trade
from crossbook.venues.base import VenueParser
from crossbook.venues.registry import make_parser

CAPTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "captures"
B, A = Side.BID, Side.ASK
_NS_PER_MS = 1_000_000


def iso_ns(text: str) -> int:
    """An ISO-8601 UTC time with up to 9 fractional digits, in ns since the epoch."""
    whole, _, frac = text.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(whole + "+00:00").timestamp())
    return seconds * 1_000_000_000 + int((frac + "000000000")[:9])


@dataclass(frozen=True)
class T:
    symbol: str
    price: str
    size: str
    aggressor: Side | None
    trade_id: str | None
    ts_exchange_ns: int | None


@dataclass(frozen=True)
class Q:
    symbol: str
    bid: str
    bid_size: str
    ask: str
    ask_size: str
    seq: int | None
    ts_exchange_ns: int | None


@dataclass(frozen=True)
class St:
    symbol: str | None
    error: bool
    words: tuple[str, ...] = ()  # the frame's evidence the text must carry


Want = T | Q | St


@dataclass(frozen=True)
class Case:
    venue: str
    frame: bytes
    want: tuple[Want, ...]
    setup: tuple[bytes, ...] = ()  # earlier frames of the same capture the frame depends on
    source: str = ""  # capture and line, or "doc"
    #: Exponents of the symbols' instruments, known before the frame (from a book snapshot
    #: or the instruments endpoint) by venues that take them only from there.
    exps: tuple[int, int] | None = None


RECV_NS = 1_700_000_000_123_456_789


def value(mantissa: int, exp: int) -> Decimal:
    return Decimal(mantissa).scaleb(-exp)


def check(parser: VenueParser, got: Message, want: Want) -> None:
    venue = parser.venue
    if isinstance(want, St):
        assert isinstance(got, Status), got
        assert (got.venue, got.symbol, got.error, got.ts_recv_ns) == (
            venue, want.symbol, want.error, RECV_NS), got
        for word in want.words:
            assert word in got.text, (word, got.text)
        return
    inst = parser.instruments.get(want.symbol)
    assert inst is not None, f"no instrument {want.symbol}"
    pe, se = inst.price_exp, inst.size_exp
    if isinstance(want, T):
        assert isinstance(got, Trade), got
        assert (got.venue, got.symbol, got.ts_recv_ns) == (venue, want.symbol, RECV_NS), got
        assert (value(got.price, pe), value(got.size, se)) == (
            Decimal(want.price), Decimal(want.size)), got
        assert (got.aggressor, got.trade_id, got.ts_exchange_ns) == (
            want.aggressor, want.trade_id, want.ts_exchange_ns), got
        return
    assert isinstance(got, Quote), got
    assert (got.venue, got.symbol, got.ts_recv_ns) == (venue, want.symbol, RECV_NS), got
    assert (value(got.bid_price, pe), value(got.bid_size, se)) == (
        Decimal(want.bid), Decimal(want.bid_size)), got
    assert (value(got.ask_price, pe), value(got.ask_size, se)) == (
        Decimal(want.ask), Decimal(want.ask_size)), got
    assert (got.seq, got.ts_exchange_ns) == (want.seq, want.ts_exchange_ns), got


def run(case: Case) -> None:
    parser = make_parser(case.venue)
    if case.exps is not None:
        for symbol in {w.symbol for w in case.want if w.symbol is not None}:
            parser.instruments.add(Instrument(case.venue, symbol, *case.exps))
    for i, frame in enumerate(case.setup):
        parser.parse(frame, RECV_NS - 1 - i)
    # Book messages riding along (Coinbase Advanced's sequence-only delta) have their own suites.
    got = [m for m in parser.parse(case.frame, RECV_NS) if not isinstance(m, BookMessage)]
    assert len(got) == len(case.want), got
    for g, w in zip(got, case.want):
        check(parser, g, w)



def capture_line(rel: str, line_no: int) -> bytes:
    """The frame on line ``line_no`` of a capture, or a skip when the shared data is absent."""
    path = CAPTURES / rel
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared real-data set is not available")
    with gzip.open(path, "rb") as f:
        for i, line in enumerate(f, 1):
            if i == line_no:
                return line.rstrip(b"\n").split(b" ", 1)[1]
    raise AssertionError(f"{rel} has no line {line_no}")
