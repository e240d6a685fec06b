"""The venue tests' one kit: locating the real data, replaying records, injecting
faults into a capture, and the contract every parser keeps on malformed input
(ParseError or whole records, never another exception, never a level the core
would refuse). Malformed frames come from the suite's one generator."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crossbook import L2Book, dtypes
from crossbook.io import read_capture
from crossbook.io.capture import CaptureRecord, RecordKind, parse_line
from crossbook.messages import BookMessage, Message, Quote, Status, Trade
from crossbook.replay import Replay
from crossbook.venues.base import ParseError, VenueParser

from ..frame_mutations import malformed_frames

__all__ = ["CAPTURES", "SHARED", "VECTORS", "book_rows", "check_parse_contract", "drop", "duplicate",
           "frame_record", "indices", "levels_of", "malformed_frames", "need", "records", "replace",
           "replay", "swap", "vectors"]

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
CAPTURES = SHARED / "captures"
VECTORS = SHARED / "checksums" / "checksum_test_vectors.json"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared real-data set (../shared/data) is not available")
    return path


def vectors() -> dict[str, Any]:
    return json.loads(need(VECTORS).read_text())  # type: ignore[no-any-return]


def records(path: Path) -> list[CaptureRecord]:
    return list(read_capture(need(path)))


def frame_record(payload: bytes | str, recv_ns: int = 1) -> CaptureRecord:
    raw = payload.encode() if isinstance(payload, str) else payload
    return parse_line(b"%d %s" % (recv_ns, raw))


def replay(parser: VenueParser, recs: Iterable[CaptureRecord]) -> Replay:
    r = Replay(parser)
    for rec in recs:
        r.feed(rec)
    return r


def book_rows(book: L2Book, n: int = 1000) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    bids, asks = book.depth(n)
    return ([(int(p), int(s)) for p, s in zip(bids["price"], bids["size"])],
            [(int(p), int(s)) for p, s in zip(asks["price"], asks["size"])])


def levels_of(msg: Message) -> list[tuple[int, int, int, int]]:
    """(side, price, size, action) of every level of a book message."""
    assert isinstance(msg, BookMessage)
    return [(int(r["side"]), int(r["price"]), int(r["size"]), int(r["action"])) for r in msg.levels]


# -- fault injection ---------------------------------------------------------------

Pick = Callable[[CaptureRecord], bool]


def indices(recs: Sequence[CaptureRecord], pick: Pick) -> list[int]:
    return [i for i, r in enumerate(recs) if r.kind is RecordKind.FRAME and pick(r)]


def drop(recs: Sequence[CaptureRecord], i: int) -> list[CaptureRecord]:
    return [r for j, r in enumerate(recs) if j != i]


def duplicate(recs: Sequence[CaptureRecord], i: int) -> list[CaptureRecord]:
    out = list(recs)
    out.insert(i + 1, recs[i])
    return out


def swap(recs: Sequence[CaptureRecord], i: int, j: int) -> list[CaptureRecord]:
    out = list(recs)
    out[i], out[j] = out[j], out[i]
    return out


def replace(recs: Sequence[CaptureRecord], i: int, old: bytes, new: bytes) -> list[CaptureRecord]:
    out = list(recs)
    r = out[i]
    assert old in r.payload, (old, r.payload[:200])
    out[i] = CaptureRecord(r.recv_ns, r.kind, r.payload.replace(old, new, 1), r.url, r.line_no)
    return out


# -- malformed frames ----------------------------------------------------------------


def check_parse_contract(parser: VenueParser, payload: bytes) -> list[Message]:
    """Parses one frame: either ParseError, or whole, well-formed records whose levels
    the core accepts as one batch. Anything else (KeyError, RecursionError, ...) fails."""
    try:
        out = parser.parse(payload, 1)
    except ParseError:
        return []
    assert isinstance(out, list)
    for m in out:
        assert isinstance(m, (BookMessage, Quote, Trade, Status)), m
        if isinstance(m, BookMessage):
            lv = m.levels
            assert lv.dtype == dtypes.LEVEL_EVENT
            assert (lv["price"] >= 0).all() and (lv["size"] >= 0).all()
            assert np.isin(lv["side"], [1, 2]).all()
            inst = parser.instruments.get(m.symbol)
            assert inst is not None
            book = L2Book(inst.price_exp, inst.size_exp)
            book.apply(lv)  # a frame that parsed must be applicable as a whole
            book.check_invariants()
        elif isinstance(m, (Trade, Quote)):
            assert parser.instruments.get(m.symbol) is not None
    return out
