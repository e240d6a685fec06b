"""Helpers for the Kraken (v1, v2, Futures) and Bitfinex venue tests: the real
data's location, replaying records, and the contract every parser keeps on
malformed input (ParseError or records, never another exception, never a
level the core would refuse)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from crossbook import L2Book, dtypes
from crossbook.io import read_capture
from crossbook.io.capture import CaptureRecord, parse_line
from crossbook.messages import BookMessage, Message, Quote, Status, Trade
from crossbook.replay import Replay
from crossbook.venues.base import ParseError, VenueParser

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
CAPTURES = DATA / "captures"
VECTORS = DATA / "checksums" / "checksum_test_vectors.json"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared real-data set (../shared/data) is not available")
    return path


def records(path: Path) -> list[CaptureRecord]:
    return list(read_capture(need(path)))


def vectors() -> dict[str, Any]:
    return json.loads(need(VECTORS).read_text())  # type: ignore[no-any-return]


def frame(payload: bytes | str, recv_ns: int = 1) -> CaptureRecord:
    raw = payload.encode() if isinstance(payload, str) else payload
    return parse_line(b"%d %s" % (recv_ns, raw))


def replay(parser: VenueParser, recs: Iterable[CaptureRecord]) -> Replay:
    r = Replay(parser)
    for rec in recs:
        r.feed(rec)
    return r


def check_parse_contract(parser: VenueParser, payload: bytes) -> list[Message]:
    """Parses one frame: either ParseError, or well-formed records whose levels
    the core accepts. Anything else (KeyError, TypeError, ...) fails the test."""
    try:
        out = parser.parse(payload, 1)
    except ParseError:
        return []
    assert isinstance(out, list)
    for m in out:
        assert isinstance(m, (BookMessage, Trade, Quote, Status)), m
        if isinstance(m, BookMessage):
            lv = m.levels
            assert lv.dtype == dtypes.LEVEL_EVENT
            assert (lv["price"] >= 0).all() and (lv["size"] >= 0).all()
            assert np.isin(lv["side"], (1, 2)).all()
            inst = parser.instruments.get(m.symbol)
            assert inst is not None
            L2Book(inst.price_exp, inst.size_exp).apply(lv)
        elif isinstance(m, (Trade, Quote)):
            assert parser.instruments.get(m.symbol) is not None
    return out


_JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=12),
    st.floats(allow_nan=False, allow_infinity=False), st.just(""), st.just("0"), st.just("-1"),
    st.just("1e400"), st.just("0.000000001"), st.lists(st.integers(), max_size=3), st.just({}),
)


def _paths(obj: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*here, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*here, i))
    return out


def _mutate(obj: Any, path: tuple[Any, ...], leaf: Any, drop: bool) -> Any:
    if not path:
        return leaf
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        if drop and not rest:
            return {k: v for k, v in obj.items() if k != head}
        return {k: (_mutate(v, rest, leaf, drop) if k == head else v) for k, v in obj.items()}
    if drop and not rest:
        return [v for i, v in enumerate(obj) if i != head]
    return [_mutate(v, rest, leaf, drop) if i == head else v for i, v in enumerate(obj)]


def malformed_frames(samples: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, real frames cut short, and real frames with one value
    replaced by a random one of another type or one key/element removed."""
    decoded = [json.loads(s) for s in samples]

    @st.composite
    def mutated(draw: st.DrawFn) -> bytes:
        obj = draw(st.sampled_from(decoded))
        path = draw(st.sampled_from(_paths(obj)))
        drop = bool(path) and draw(st.booleans())
        return json.dumps(_mutate(obj, path, draw(_JSON_LEAF), drop)).encode()

    @st.composite
    def truncated(draw: st.DrawFn) -> bytes:
        s = draw(st.sampled_from(list(samples)))
        return s[: draw(st.integers(0, max(0, len(s) - 1)))]

    return st.one_of(st.binary(max_size=64), truncated(), mutated())
