"""What every venue module shares: the parser interface, instrument exponents,
and decoding errors that name the frame."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import ClassVar, Protocol

import msgspec

from crossbook.messages import Instrument, Message
from crossbook.sync import ChecksumFn
from crossbook.sync_rules import SequenceRule

__all__ = [
    "ParseError",
    "InstrumentTable",
    "VenueParser",
    "VenueBase",
    "ChecksumFn",
    "wire_decimals",
    "decode_json",
    "DECODE_ERRORS",
    "digits_int",
]

# ChecksumFn is defined with BookSync, which calls it; venue modules name it from here.

_decoder = msgspec.json.Decoder()

#: What a msgspec decoder raises on bad input: invalid UTF-8 inside a JSON string is
#: a UnicodeDecodeError, not a msgspec.DecodeError, and JSON nested deeper than the
#: interpreter's recursion limit a RecursionError. Venue modules catch this tuple.
DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


class ParseError(ValueError):
    """A frame the parser cannot turn into messages; carries the frame's start."""

    def __init__(self, venue: str, reason: str, frame: bytes | str = b"") -> None:
        head = frame[:120] if isinstance(frame, (bytes, str)) else b""
        super().__init__(f"{venue}: {reason} in frame {head!r}")
        self.venue = venue
        self.reason = reason


def digits_int(text: str, max_digits: int = 18) -> int | None:
    """The value of a run of at most ``max_digits`` ASCII digits, else None. Never int() on
    unbounded frame text: Python refuses 4,300-digit strings with a bare ValueError, and
    ``isdigit`` alone admits digits such as "²" that int() cannot read."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def decode_json(venue: str, frame: bytes | str) -> object:
    try:
        return _decoder.decode(frame)
    except DECODE_ERRORS as exc:
        raise ParseError(venue, f"malformed JSON ({exc})", frame) from exc


def wire_decimals(texts: Iterable[str]) -> int:
    """Most digits after the point in any of the texts: the venue's own precision.

    Venues pad to their precision ("61837.63000000", "0.000"), so the widest
    text is the exponent at which every value of the instrument is exact.
    Exponent notation counts too: "1.5E-7" needs 8 decimals.
    """
    best = 0
    for t in texts:
        mant, _, exp = t.lower().partition("e")
        dot = mant.find(".")
        frac = len(mant) - dot - 1 if dot >= 0 else 0
        # An exponent of more than 3 digits makes no int64 mantissa at any exponent:
        # it is left to the value's own parse to refuse, not turned into an exponent.
        digits = exp.lstrip("+-")
        shift = int(exp) if digits.isascii() and digits.isdigit() and len(digits) <= 3 else 0
        best = max(best, frac - shift)
    return best


def _texts(rows: Iterable[Sequence[object]], col: int) -> list[str]:
    out = []
    for r in rows:
        v = r[col] if len(r) > col else None
        if isinstance(v, str):
            out.append(v)
    return out


class InstrumentTable:
    """Exponents per symbol: given by the user, or inferred once from the first
    book message of a symbol (its wire precision) and fixed from then on; a later
    value that does not fit is an error naming it, never rounded."""

    def __init__(self, venue: str, instruments: Sequence[Instrument] = ()) -> None:
        self.venue = venue
        self._by_symbol = {i.symbol: i for i in instruments}

    def get(self, symbol: str) -> Instrument | None:
        return self._by_symbol.get(symbol)

    def resolve(self, symbol: str, rows: Iterable[Sequence[object]], *, min_price_exp: int = 0,
                min_size_exp: int = 0) -> Instrument:
        """The symbol's instrument, inferred once from the widest text of its [price, size] rows.

        A venue that trims trailing zeros shows less precision in one message than
        its instrument has, so the caller passes floors (its finest increments);
        a later finer value is still a ParseError naming it, never rounded.
        (JSON numbers have their own twin, _exactnum.resolve: a number has no text
        width to read, so its digits are counted from its exact decimal value.)
        """
        inst = self._by_symbol.get(symbol)
        if inst is None:
            rows = list(rows)
            inst = Instrument(self.venue, symbol,
                              price_exp=max(min_price_exp, wire_decimals(_texts(rows, 0))),
                              size_exp=max(min_size_exp, wire_decimals(_texts(rows, 1))))
            self._by_symbol[symbol] = inst
        return inst

    def add(self, inst: Instrument) -> None:
        self._by_symbol[inst.symbol] = inst

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_symbol.values())


class VenueParser(Protocol):
    """A venue module's parser: pure functions of a frame, plus its sync rule."""

    venue: ClassVar[str]
    instruments: InstrumentTable

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        """Every record a websocket frame carries (possibly none)."""
        ...

    def parse_rest(self, url: str, body: bytes, recv_ns: int) -> list[Message]:
        """Records of a REST response (order-book snapshots)."""
        ...

    def sync_rule(self, symbol: str) -> SequenceRule:
        """The sequencing rule that books of this symbol follow."""
        ...

    def checksum(self, symbol: str) -> ChecksumFn | None:
        """How to verify the venue's checksum on this symbol's book, if it sends one."""
        ...

    def depth_limit(self, symbol: str) -> int | None:
        """Levels per side the venue keeps for this symbol's book (None: unlimited)."""
        ...


class VenueBase:
    """Shared plumbing for venue parsers; a venue module subclasses it and
    implements parse, parse_rest (if it has REST snapshots) and sync_rule."""

    venue: ClassVar[str]

    def __init__(self, instruments: Sequence[Instrument] = ()) -> None:
        self.instruments = InstrumentTable(self.venue, instruments)

    def parse_rest(self, url: str, body: bytes, recv_ns: int) -> list[Message]:
        raise ParseError(self.venue, f"no REST responses expected (got {url})", body)

    def checksum(self, symbol: str) -> ChecksumFn | None:
        return None

    def depth_limit(self, symbol: str) -> int | None:
        return None
