"""Shared tools for the venue tests: locating the real data, replaying records,
injecting faults into a capture, and a hypothesis strategy of malformed frames."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from crossbook import L2Book, dtypes
from crossbook.io import read_capture
from crossbook.io.capture import CaptureRecord, RecordKind, parse_line
from crossbook.messages import BookMessage, Message, Quote, Status, Trade
from crossbook.replay import Replay
from crossbook.venues.base import ParseError, VenueBase

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
CAPTURES = SHARED / "captures"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared real-data set is not available")
    return path


def records(path: Path) -> list[CaptureRecord]:
    return list(read_capture(need(path)))


def frame_record(payload: bytes, recv_ns: int = 1) -> CaptureRecord:
    return parse_line(b"%d %s" % (recv_ns, payload))


def replay(parser: VenueBase, recs: Iterable[CaptureRecord]) -> Replay:
    r = Replay(parser)  # type: ignore[arg-type]
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

_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                       st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
_json_any = st.recursive(_json_leaf, lambda c: st.one_of(
    st.lists(c, max_size=3), st.dictionaries(st.text(max_size=5), c, max_size=3)), max_leaves=6)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:4]):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def _mutated(draw: st.DrawFn, samples: Sequence[bytes]) -> bytes:
    obj = json.loads(draw(st.sampled_from(samples)))
    paths = _paths(obj)
    if not paths:
        return json.dumps(draw(_json_any)).encode()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        parent = obj
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()):
                parent[path[-1]] = draw(_json_any)
            elif isinstance(parent, dict) or isinstance(parent, list) and path[-1] < len(parent):
                del parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            pass
    return json.dumps(obj).encode()


def malformed_frames(samples: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, truncated real frames, and real frames with fields changed
    to random JSON values or removed."""
    truncated = st.builds(lambda s, f: s[: int(len(s) * f)], st.sampled_from(samples),
                          st.floats(0, 0.999))
    return st.one_of(st.binary(max_size=200), truncated, _mutated(samples))


def assert_parses_cleanly(parser: VenueBase, frame: bytes) -> None:
    """ParseError or whole, well-formed records; never another exception."""
    try:
        out = parser.parse(frame, 1)
    except ParseError:
        return
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
