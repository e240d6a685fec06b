"""Level arrays read undecoded (wire_levels) against the decoding path they stand in
for: every venue that uses them parses, or refuses, each frame exactly as it does when
it decodes every row, on the real captures and on frames whose level arrays take odd
shapes (bare numbers, further fields, escapes, blanks, values that do not fit)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any
from unittest import mock

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossbook.io.capture import CaptureRecord, RecordKind, parse_line
from crossbook.messages import BookMessage, Instrument, Message
from crossbook.venues import bitget, bybit, gateio, kucoin
from crossbook.venues._textlevels import text_levels, wire_levels
from crossbook.venues.base import VenueBase

from ._venue_kit import CAPTURES, SHARED, need, records

# -- wire_levels on its own --------------------------------------------------------------

INST = Instrument("x", "X", 4, 3)
_strict_rows = msgspec.json.Decoder(list[tuple[str, str]])


@pytest.mark.parametrize(("bids", "asks"), [
    (b'[["1.5","2"],["1.4","0"]]', b'[["1.6","0.001"]]'),
    (b'[]', b'[]'),
    (b'[ [ "1.5" , "2" ] ]', b'[]'),  # blanks anywhere JSON allows them
    (b'[["\\u0031.5","2"]]', b'[]'),  # an escape the decoder reads as "1.5"
])
def test_rows_of_two_strings_are_read_as_decoded(bids: bytes, asks: bytes) -> None:
    got = wire_levels(msgspec.Raw(bids), msgspec.Raw(asks), INST, ts_exchange_ns=5, ts_recv_ns=6,
                      snapshot=True)
    want = text_levels(_strict_rows.decode(bids), _strict_rows.decode(asks), INST,  # type: ignore[arg-type]
                       ts_exchange_ns=5, ts_recv_ns=6, snapshot=True)
    assert got is not None and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("bids", [
    b'[[1.5,"2"]]', b'[["1.5",2]]', b'[[1.5,2]]',  # bare numbers: decoders want strings
    b'[["1.5","2","3"]]', b'[["1.5","2",3]]', b'[["1.5","2",null]]',  # further fields
    b'[["1.5","2",["3"]]]', b'[["1.5","2",{"n":"3"}]]', b'[["1.5","2"],["1","2","x"]]',
    b'[["1.5"]]', b'[["1.5","2"],"x"]', b'{"p":"1"}', b'"x"', b'[[true,"2"]]',  # not rows
    b'[["1.55555","2"]]', b'[["-1.5","2"]]', b'[["1.5","x"]]', b'[["1.5","2"]',  # bad values
    b'[["1.5","2"],["1.5","2",["x","y"]],["1","2"]]',
])
def test_anything_else_is_left_to_the_decoding_path(bids: bytes) -> None:
    assert wire_levels(msgspec.Raw(bids), msgspec.Raw(b"[]"), INST) is None
    assert wire_levels(msgspec.Raw(b"[]"), msgspec.Raw(bids), INST) is None


def test_an_empty_array_written_with_blanks_is_read_as_empty() -> None:
    got = wire_levels(msgspec.Raw(b"[ ]"), msgspec.Raw(b'[["1","2"]]'), INST)
    assert got is not None and got[["side", "price", "size"]].tolist() == [(2, 10000, 2000)]


_texts = st.one_of(
    st.sampled_from(["1.5", "0", "2", "-1", "1e3", "1E-2", ".5", "5.", "-0", "", " 1", "1,5", "0x1",
                     "NaN", "\u0661", "0.0001", "0.00001", "99999999999999999999", '"', "\\"]),
    st.text(max_size=5))
_numbers = st.one_of(st.integers(0, 10**6), st.sampled_from([1.5, 0.25, 2.0]), st.integers(-10**20, 10**20),
                     st.floats(allow_nan=False, allow_infinity=False))
_cells = st.one_of(_texts, _numbers, st.none(), st.booleans(), st.lists(_texts, max_size=2),
                   st.dictionaries(st.just("p"), _texts, max_size=1))
# Mostly rows a venue could send, as text or as bare numbers, some with further fields.
_decimals = st.one_of(st.sampled_from(["1.5", "0", "2", "0.001"]), st.integers(0, 10**6),
                      st.sampled_from([1.5, 0.25]))
_pairs = st.lists(_decimals, min_size=2, max_size=2)
_rows = st.one_of(_pairs, st.builds(lambda r, more: r + more, _pairs, st.lists(_cells, min_size=1, max_size=2)),
                  st.lists(_cells, max_size=4), _cells)
# Mostly two-field rows, and now and then one odd row among them.
_arrays = st.builds(lambda rows, odd, at: rows[:at] + odd + rows[at:], st.lists(_pairs, max_size=4),
                    st.lists(_rows, max_size=1), st.integers(0, 4))
_layouts = st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " : ")])


@settings(max_examples=500, deadline=None)
@given(bids=_arrays, asks=_arrays, layout=_layouts, ascii_only=st.booleans())
def test_whatever_is_read_decodes_as_text_rows_to_the_same_levels(
        bids: list[Any], asks: list[Any], layout: tuple[str, str], ascii_only: bool) -> None:
    raw = [json.dumps(side, separators=layout, ensure_ascii=ascii_only).encode() for side in (bids, asks)]
    got = wire_levels(msgspec.Raw(raw[0]), msgspec.Raw(raw[1]), INST, ts_recv_ns=9)
    if got is None:
        return
    rows = [_strict_rows.decode(r) for r in raw]  # never raises for what wire_levels read
    want = text_levels(rows[0], rows[1], INST, ts_recv_ns=9)  # type: ignore[arg-type]
    assert got.tobytes() == want.tobytes()


# -- venues: with and without the undecoded reading -----------------------------------------

def _declines(*args: object, **kwargs: object) -> None:
    return None


def _outcome(call: Callable[[], list[Message]]) -> object:
    """Every field of every record, levels as bytes; or the exception's type and text."""
    try:
        out = call()
    except Exception as exc:  # noqa: BLE001 -- any exception must be the same one
        return type(exc).__name__, str(exc)
    return [(type(m).__name__, {f: (getattr(m, f).tobytes(), str(getattr(m, f).dtype))
                                 if isinstance(m, BookMessage) and f == "levels" else getattr(m, f)
                                 for f in m.__struct_fields__}) for m in out]


@contextmanager
def _counting(module: ModuleType) -> Iterator[list[bool]]:
    """Whether each wire_levels call of the module read its arrays."""
    seen: list[bool] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = wire_levels(*args, **kwargs)
        seen.append(out is not None)
        return out

    with mock.patch.object(module, "wire_levels", spy):
        yield seen


class _Twins:
    """Two parsers fed alike, one never reading levels undecoded: each step must give
    the same records or the same error, and leave the same instruments."""

    def __init__(self, module: ModuleType, make: Callable[[], VenueBase]) -> None:
        self.module = module
        self.fast, self.slow = make(), make()

    def step(self, feed: Callable[[VenueBase], list[Message]]) -> object:
        got = _outcome(lambda: feed(self.fast))
        with mock.patch.object(self.module, "wire_levels", _declines):
            want = _outcome(lambda: feed(self.slow))
        assert got == want
        assert list(self.fast.instruments) == list(self.slow.instruments)
        return got

    def record(self, rec: CaptureRecord) -> object:
        if rec.kind is RecordKind.REST:
            assert rec.url is not None
            url = rec.url
            return self.step(lambda p: p.parse_rest(url, rec.payload, rec.recv_ns))
        if rec.kind is RecordKind.FRAME:
            return self.step(lambda p: p.parse(rec.payload, rec.recv_ns))
        return None


def _ob500() -> list[CaptureRecord]:
    with gzip.open(need(SHARED / "vendor_files" / "2024-12-01_XRPUSDT_ob500.data.gz"), "rb") as f:
        return [parse_line(b"%d %s" % (json.loads(ln)["ts"] * 10**6, ln.strip())) for ln in f]


REAL = {
    "bitget": (bitget, bitget.Bitget, lambda: records(CAPTURES / "bitget" / "bitget_spot.cap.gz")),
    "bybit": (bybit, bybit.Bybit, _ob500),
    "kucoin": (kucoin, kucoin.Kucoin, lambda: records(CAPTURES / "kucoin" / "kucoin_level2.cap.gz")),
    "gateio": (gateio, gateio.GateSpot, lambda: records(CAPTURES / "gateio" / "gateio_spot.cap.gz")),
}


@pytest.mark.parametrize("venue", list(REAL))
def test_real_captures_parse_the_same_record_by_record(venue: str) -> None:
    module, make, recs = REAL[venue]
    twins = _Twins(module, make)
    with _counting(module) as seen:
        for rec in recs():
            twins.record(rec)
    assert seen and all(seen)  # the capture did go through the undecoded reading


# Golden frames (venue docs and captures) as JSON objects, where their level arrays are,
# the exponents their instrument has, and how each is fed.
GOLDEN: dict[str, tuple[ModuleType, Callable[[list[Instrument]], VenueBase], Instrument, dict[str, Any],
                        list[tuple[Any, ...]], Callable[[VenueBase, bytes], list[Message]]]] = {
    "bitget": (
        bitget, bitget.Bitget, Instrument("bitget", "GOGUSDT", 4, 4),
        {"action": "update", "arg": {"instType": "sp", "channel": "books", "instId": "GOGUSDT"},
         "data": [{"asks": [["0.5625", "16.3333"], ["0.5631", "9.0000"]],
                   "bids": [["0.5512", "15.0667"], ["0.5500", "9.0919"]],
                   "checksum": 871848329, "ts": "1649290078141"}]},
        [("data", 0, "asks"), ("data", 0, "bids")],
        lambda p, frame: p.parse(frame, 7)),
    "bybit": (
        bybit, bybit.Bybit, Instrument("bybit", "BTCUSDT", 2, 3),
        {"topic": "orderbook.50.BTCUSDT", "type": "delta", "ts": 1687940967466,
         "data": {"s": "BTCUSDT", "b": [["30247.20", "30.028"], ["30240.00", "0"]],
                  "a": [["30248.70", "0"], ["30249.30", "0.892"]], "u": 177400507, "seq": 66544703342},
         "cts": 1687940967464},
        [("data", "b"), ("data", "a")],
        lambda p, frame: p.parse(frame, 7)),
    "kucoin": (
        kucoin, kucoin.Kucoin, Instrument("kucoin", "SNX-BTC", 8, 8),
        {"code": "200000", "data": {"time": 1619378326842, "sequence": "1612844051657",
                                    "bids": [["0.00028678", "3.70422021"], ["0.00028624", "0.01333209"]],
                                    "asks": [["0.00028717", "14.04274325"], ["0.00028734", "40.1036"]]}},
        [("data", "bids"), ("data", "asks")],
        lambda p, body: p.parse_rest("https://api.kucoin.com/api/v3/market/orderbook/level2?"
                                     "symbol=SNX-BTC", body, 7)),
    "gateio": (
        gateio, gateio.GateSpot, Instrument("gateio", "HAI_ETH", 8, 10),
        {"id": 2691446, "asks": [["0.00010396", "5876.967"], ["0.0001052", "16944.291"]],
         "bids": [["0.00010322", "5360.209"], ["0.00010276", "20.80412499"]]},
        [("asks",), ("bids",)],
        lambda p, body: p.parse_rest("https://api.gateio.ws/api/v4/spot/order_book?currency_pair="
                                     "HAI_ETH&limit=100&with_id=true", body, 7)),
}


@pytest.mark.parametrize("venue", list(GOLDEN))
def test_golden_frame_is_read_undecoded(venue: str) -> None:
    module, make, inst, obj, _, feed = GOLDEN[venue]
    twins = _Twins(module, lambda: make([inst]))
    with _counting(module) as seen:
        out = twins.step(lambda p: feed(p, json.dumps(obj).encode()))
    assert seen == [True] and isinstance(out, list) and out


def _at(obj: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        obj = obj[key]
    return obj


@st.composite
def _changed(draw: st.DrawFn, obj: dict[str, Any], paths: list[tuple[Any, ...]]) -> bytes:
    """The frame with its level arrays changed: a cell replaced, fields added or cut, a
    row or a whole array replaced; written compact or with blanks, escaped or not."""
    obj = json.loads(json.dumps(obj))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        rows = _at(obj, path)
        how = draw(st.sampled_from(["cell", "extend", "cut", "row", "array"]))
        i = draw(st.integers(0, 3))
        if how == "array":
            _at(obj, path[:-1])[path[-1]] = draw(st.one_of(_arrays, _cells))
        elif not isinstance(rows, list) or i >= len(rows):
            continue
        elif how == "row":
            rows[i] = draw(st.one_of(st.lists(_cells, max_size=4), _cells))
        elif not isinstance(rows[i], list):
            continue
        elif how == "cell" and rows[i]:
            rows[i][draw(st.integers(0, len(rows[i]) - 1))] = draw(_cells)
        elif how == "extend":
            rows[i].extend(draw(st.lists(_cells, min_size=1, max_size=2)))
        elif how == "cut":
            del rows[i][draw(st.integers(0, 2)):]
    text = json.dumps(obj, separators=draw(_layouts), ensure_ascii=draw(st.booleans())).encode()
    if draw(st.booleans()):
        text = text.replace(b'"0', b'"\\u0030')  # escaped digits decode to the same text
    return text


@pytest.mark.parametrize("venue", list(GOLDEN))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_changed_level_arrays_parse_or_fail_the_same(venue: str, data: st.DataObject) -> None:
    module, make, inst, obj, paths, feed = GOLDEN[venue]
    known = data.draw(st.booleans())
    twins = _Twins(module, lambda: make([inst] if known else []))
    frame = data.draw(_changed(obj, paths))
    twins.step(lambda p: feed(p, frame))
    twins.step(lambda p: feed(p, json.dumps(obj).encode()))  # and the next frame as well
