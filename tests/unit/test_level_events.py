"""level_events (Cython) and its plain-Python twin build identical LEVEL_EVENT arrays
from venue text rows, and refuse the same bad rows."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crossbook import dtypes
from crossbook.messages import json_level_events, json_level_events_py, level_events, level_events_py

text = st.one_of(
    st.from_regex(r"-?[0-9]{1,12}(\.[0-9]{0,10})?", fullmatch=True),
    st.text(max_size=6),
)
rows = st.lists(st.lists(text, min_size=1, max_size=3), max_size=6)


def outcome(fn, *args, **kw):  # type: ignore[no-untyped-def]
    try:
        return fn(*args, **kw)
    except (ValueError, OverflowError, TypeError) as exc:
        return type(exc)


@given(bids=rows, asks=rows, pexp=st.integers(0, 10), sexp=st.integers(0, 10),
       snapshot=st.booleans(), ts=st.integers(0, 2**62))
@example(bids=[], asks=[["0", "-1"], ["10000000000", "0"]], pexp=9, sexp=0, snapshot=False, ts=0)
def test_twins_agree(bids, asks, pexp, sexp, snapshot, ts) -> None:  # type: ignore[no-untyped-def]
    fast = outcome(level_events, bids, asks, pexp, sexp, ts_recv_ns=ts, snapshot=snapshot)
    slow = outcome(level_events_py, bids, asks, pexp, sexp, ts_recv_ns=ts, snapshot=snapshot)
    if isinstance(fast, np.ndarray):
        assert isinstance(slow, np.ndarray) and fast.dtype == slow.dtype == dtypes.LEVEL_EVENT
        assert fast.tobytes() == slow.tobytes()
    else:
        assert fast == slow


def test_known_rows() -> None:
    ev = level_events([["61837.63", "0.5"]], [["61837.64", "0"]], 2, 1, ts_exchange_ns=7,
                      ts_recv_ns=9, snapshot=True)
    assert ev.tolist() == [
        (7, 9, 6183763, 5, 0, 1, dtypes.UPDATE, dtypes.F_SNAPSHOT),
        (7, 9, 6183764, 0, 0, 2, dtypes.UPDATE, dtypes.F_SNAPSHOT | dtypes.F_LAST),
    ]
    assert len(level_events([], [], 2, 2)) == 0
    with pytest.raises(ValueError, match="negative price '-1'"):
        level_events([["-1", "1"]], [], 0, 0)
    with pytest.raises(ValueError, match="negative size '-2' at price '1'"):
        level_events([], [["1", "-2"]], 0, 0)
    with pytest.raises(ValueError, match="'0.001' has more decimals"):
        level_events([["1", "0.001"]], [], 0, 2)


# -- from undecoded JSON arrays (json_level_events) -----------------------------------

_ws = st.sampled_from(["", " ", "\n", "\t "])


# Cells as venues write them (text, or JSON numbers with exponents), and near misses
# ("01", "5.", "+1") that JSON forbids when bare.
json_cell = st.one_of(
    text,
    st.from_regex(r"-?(0|[1-9][0-9]{0,8})(\.[0-9]{1,9})?([eE][+-]?[0-9]{1,2})?", fullmatch=True),
    st.sampled_from(["01", "5.", "+1", "-", "1e", "true", "null", "1E400"]),
)


@st.composite
def json_rows(draw):  # type: ignore[no-untyped-def]
    """The JSON text of a level array: mostly the venues' shape, sometimes not."""
    row_texts = []
    for row in draw(st.lists(st.lists(json_cell, min_size=1, max_size=4), max_size=5)):
        cells = [draw(st.sampled_from(['"{}"', '"{}"', "{}"])).format(c.replace('"', "'")) for c in row]
        sep = draw(_ws) + "," + draw(_ws)
        row_texts.append("[" + draw(_ws) + sep.join(cells) + draw(_ws) + "]")
    body = "[" + draw(_ws) + ("," + draw(_ws)).join(row_texts) + draw(_ws) + "]"
    mangle = draw(st.sampled_from(["", "", "", "cut", "junk", "escape"]))
    if mangle == "cut":
        body = body[: draw(st.integers(0, len(body)))]
    elif mangle == "junk":
        body += draw(st.sampled_from([" x", "]", ",", "{}"]))
    elif mangle == "escape":
        body = body.replace("1", "\\u0031", 1)
    return body.encode()


@given(bids=json_rows(), asks=json_rows(), pexp=st.integers(0, 10), sexp=st.integers(0, 10),
       snapshot=st.booleans(), ts=st.integers(0, 2**62), strict=st.booleans())
@example(bids=b'[["1.5","2"]]', asks=b'[ ["1\\u0030", "3", "x"] ]', pexp=1, sexp=0, snapshot=False, ts=0,
         strict=False)
@example(bids=b'[["1.5","2"]] ', asks=b"{}", pexp=1, sexp=0, snapshot=True, ts=0, strict=False)
@example(bids=b"[[9.121E-7, 92730.24], [0, 5, 7]]", asks=b"[[1e2,-0.0]]", pexp=9, sexp=2, snapshot=False, ts=0,
         strict=False)
@example(bids=b'[["1\\u0030", "2"]]', asks=b'[["3","4"]]', pexp=0, sexp=0, snapshot=False, ts=0, strict=True)
def test_json_twins_agree(bids, asks, pexp, sexp, snapshot, ts, strict) -> None:  # type: ignore[no-untyped-def]
    fast = outcome(json_level_events, bids, asks, pexp, sexp, ts_recv_ns=ts, snapshot=snapshot,
                   strict=strict)
    slow = outcome(json_level_events_py, bids, asks, pexp, sexp, ts_recv_ns=ts, snapshot=snapshot,
                   strict=strict)
    if strict:
        assert fast is None or isinstance(fast, np.ndarray)  # strict never raises
    if isinstance(fast, np.ndarray):
        assert isinstance(slow, np.ndarray) and fast.tobytes() == slow.tobytes()
    else:
        assert fast == slow


def test_json_level_events_reads_msgspec_raw() -> None:
    raw = msgspec.json.decode(b'{"b":[["61837.63000000","0.5"]],"a":[]}', type=dict[str, msgspec.Raw])
    ev = json_level_events(raw["b"], raw["a"], 8, 8)
    assert ev.tolist() == level_events([["61837.63000000", "0.5"]], [], 8, 8).tolist()
    with pytest.raises(ValueError, match="malformed bid level array"):
        json_level_events(b'[["1","2"]', b"[]", 0, 0)
    with pytest.raises(TypeError):
        json_level_events("[]", b"[]", 0, 0)  # text, not bytes: the caller encodes


def test_json_level_events_beyond_the_stack_buffer() -> None:
    """A REST snapshot has thousands of rows: they go to the heap, same result."""
    rows = [[f"{61000 - i}.{i % 100:02d}", f"{i % 7}.5"] for i in range(3000)]
    raw = msgspec.json.encode(rows)
    fast = json_level_events(raw, raw, 2, 1, 5, 6, snapshot=True)
    assert fast.tobytes() == json_level_events_py(raw, raw, 2, 1, 5, 6, snapshot=True).tobytes()
    assert len(fast) == 6000 and fast.flags.aligned and fast.flags.writeable


def test_json_level_events_compact_numeric_rows() -> None:
    """The shortest rows ([0,0]) still fit the scanner's bound on the row count."""
    raw = b"[" + b",".join(b"[%d,%d]" % (i % 10, i % 3) for i in range(700)) + b"]"
    fast = json_level_events(raw, b"[]", 0, 0)
    assert fast.tobytes() == json_level_events_py(raw, b"[]", 0, 0).tobytes() and len(fast) == 700
