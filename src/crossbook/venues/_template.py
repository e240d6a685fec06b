"""Template for a new venue module: copy to ``<venue>.py`` and fill in.

A venue module is declarative where it can be and pure everywhere: it turns one
raw frame into crossbook.messages records and names the sequencing rule its
books follow. It never does I/O, never keeps a book, never raises anything but
ParseError on bad input. The registry picks it up by its ``PARSERS`` and
``sniff``; nothing else changes. Put a raw sample of every frame kind it
handles in the docstring of its parse function, and recorded frames under
tests/venues as its test data. (Modules whose name starts with "_" are skipped
by the registry, so this one is never loaded as a venue.)

Raw samples::

    {"type":"snapshot","symbol":"BTC-USD","seq":1,"bids":[["100.5","2"]],"asks":[]}
    {"type":"update","symbol":"BTC-USD","seq":2,"bids":[["100.5","0"]],"asks":[]}
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Kind, Message, Status, level_events
from crossbook.sync_rules import ContiguousRule, SequenceRule
from crossbook.venues.base import DECODE_ERRORS, ParseError, VenueBase

__all__ = ["ExampleVenue", "PARSERS", "sniff"]


class _Book(msgspec.Struct):
    type: str
    symbol: str
    seq: int
    bids: list[list[str]]
    asks: list[list[str]]


_decode = msgspec.json.Decoder(_Book)


class ExampleVenue(VenueBase):
    venue: ClassVar[str] = "example"

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        try:
            m = _decode.decode(frame)
        except DECODE_ERRORS as exc:  # includes ValidationError
            raise ParseError(self.venue, str(exc), frame) from exc
        kind = {"snapshot": Kind.SNAPSHOT, "update": Kind.DELTA}.get(m.type)
        if kind is None:
            return [Status(self.venue, m.symbol, f"unhandled type {m.type}", recv_ns)]
        inst = self.instruments.resolve(m.symbol, m.bids + m.asks)
        try:
            levels = level_events(m.bids, m.asks, inst.price_exp, inst.size_exp,
                                  ts_recv_ns=recv_ns, snapshot=kind is Kind.SNAPSHOT)
        except (ValueError, OverflowError) as exc:
            raise ParseError(self.venue, f"{m.symbol} seq {m.seq}: {exc}", frame) from exc
        return [BookMessage(self.venue, m.symbol, kind, levels, recv_ns, last_seq=m.seq)]

    def sync_rule(self, symbol: str) -> SequenceRule:
        return ContiguousRule()


PARSERS: dict[str, type[VenueBase]] = {ExampleVenue.venue: ExampleVenue}


def sniff(rec: CaptureRecord) -> str | None:
    if rec.kind is RecordKind.FRAME and rec.payload.startswith(b'{"type":"snapshot","symbol"'):
        return ExampleVenue.venue
    return None
