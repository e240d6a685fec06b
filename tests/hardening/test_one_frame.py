"""One frame must never stop a replay: whatever a parser or a book's sync raises
on one frame is a counted, reported error (and a resync of that book), and the
replay goes on with every other book. Each cause is also a clean ParseError."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from crossbook.messages import BookMessage, Instrument, Kind, Message
from crossbook.replay import Replay
from crossbook.sync import BookSync, Reason, SyncState
from crossbook.sync_rules import BinanceFuturesRule
from crossbook.venues.base import ParseError
from crossbook.venues.binance import BinanceUsdm
from crossbook.venues.registry import make_parser, venues

from ._kit import CAPTURES, SLICES, capture, frame_indices, read, replaced, run

DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


@pytest.mark.parametrize("venue", sorted(venues()))
def test_deeply_nested_json_is_a_parse_error(venue: str) -> None:
    for frame in (DEEP_ARRAY, DEEP_OBJECT, b'{"stream":"x@depth","data":' + DEEP_OBJECT + b"}",
                  b'{"ch":"market.x.depth.step0","tick":' + DEEP_OBJECT + b"}"):
        with pytest.raises(ParseError):
            make_parser(venue).parse(frame, 1)


def _spot_with(i_from_end: int, payload: bytes) -> tuple[list, int]:
    recs = read(SLICES["binance"])
    depth = frame_indices(recs, rb'^\{"stream":"btcusdt@depth')
    i = depth[-i_from_end]
    return replaced(recs, i, payload), i


def test_replay_counts_a_deeply_nested_frame_and_goes_on() -> None:
    recs, _ = _spot_with(50, DEEP_OBJECT)
    r = run("binance", recs)
    assert r.summary.parse_errors == 1 and "malformed JSON" in r.parse_errors[0]
    (report,) = r.finish()
    assert report.symbol == "BTCUSDT" and report.frames > 1000
    assert report.gaps == 1  # the lost frame is a hole in the chain, reported there


def test_bitget_timestamp_with_an_extra_digit_is_a_parse_error() -> None:
    venue, recs = capture(CAPTURES / "bitget" / "bitget_spot.cap.gz")
    i = frame_indices(recs, rb'"channel":"books".*"ts":"\d{13}"')[40]
    frame = re.sub(rb'"ts":"(\d{13})"', rb'"ts":"\g<1>7"', recs[i].payload)
    with pytest.raises(ParseError, match=r"bad millisecond timestamp '\d{14}'"):
        run(venue, recs[:i]).parser.parse(frame, 1)
    r = run(venue, replaced(recs, i, frame))
    assert r.summary.parse_errors == 1 and len(r.finish()) == 8


def test_huobi_nan_price_is_a_parse_error() -> None:
    venue, recs = capture(CAPTURES / "huobi" / "huobi_depth.cap.gz")
    firsts = frame_indices(recs, rb'^\{"ch":"market\.trioeth\.depth')
    for i in firsts[:2]:  # the symbol's first book (exponents unknown), then a later one
        frame = re.sub(rb'"bids":\[\[[0-9.E-]+,', b'"bids":[["NaN",', recs[i].payload, count=1)
        with pytest.raises(ParseError, match="not a finite number: NaN"):
            run(venue, recs[:i]).parser.parse(frame, 1)


@pytest.mark.parametrize("venue", ["binance_usdm", "binance_coinm"])
def test_futures_depth_without_pu_is_a_parse_error_and_the_replay_goes_on(venue: str) -> None:
    recs = read(SLICES[venue])
    i = frame_indices(recs, rb"@depth")[-50]
    frame = re.sub(rb',"pu":\d+', b"", recs[i].payload)
    with pytest.raises(ParseError, match="without pu"):
        make_parser(venue).parse(frame, 1)
    r = run(venue, replaced(recs, i, frame))
    (report,) = r.finish()
    assert r.summary.parse_errors == 1 and report.gaps == 1 and report.frames > 1000


def _delta(last: int, prev: int | None) -> BookMessage:
    return BookMessage("binance_usdm", "X", Kind.DELTA, np.zeros(0, dtype=_level_dtype()), 5,
                       first_seq=last, last_seq=last, prev_seq=prev)


def _level_dtype() -> np.dtype:
    from crossbook import dtypes
    return dtypes.LEVEL_EVENT


def test_book_sync_turns_a_rule_error_into_a_resync() -> None:
    sync = BookSync(Instrument("binance_usdm", "X", 2, 2), BinanceFuturesRule())
    snap = BookMessage("binance_usdm", "X", Kind.SNAPSHOT, np.zeros(0, dtype=_level_dtype()), 1,
                       last_seq=10)
    sync.on_message(_delta(10, 9))
    sync.on_message(snap)
    sync.on_message(_delta(11, 10))
    assert sync.synced
    (event,) = sync.on_message(_delta(12, None))  # no pu: the rule cannot judge it
    assert event.reason is Reason.INVALID_MESSAGE and "lacks prev_seq" in event.detail
    assert sync.state is SyncState.RESYNCING and sync.stats.errors == 1 and sync.stats.resyncs == 1


class _NoPu(BinanceUsdm):
    """Emits one delta without pu, as a parser without the check would."""

    def __init__(self, bad_u: int) -> None:
        super().__init__()
        self.bad_u = bad_u

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        out = super().parse(frame, recv_ns)
        return [BookMessage(m.venue, m.symbol, m.kind, m.levels, m.ts_recv_ns, m.ts_exchange_ns,
                            m.first_seq, m.last_seq, None)
                if isinstance(m, BookMessage) and m.last_seq == self.bad_u else m for m in out]


def test_replay_counts_a_sync_error_resyncs_that_book_and_goes_on() -> None:
    recs = read(SLICES["binance_usdm"])
    i = frame_indices(recs, rb"@depth")[-50]
    bad_u = int(re.search(rb'"u":(\d+)', recs[i].payload).group(1))  # type: ignore[union-attr]
    r = Replay(_NoPu(bad_u))
    for rec in recs:
        r.feed(rec)
    (report,) = r.finish()
    assert r.summary.sync_errors == 1 and r.summary.failures()
    assert any(e.reason is Reason.INVALID_MESSAGE for e in report.events)
    assert report.resyncs == 1 and report.state != "synced"


class _Exploding(BinanceUsdm):
    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        if b"EXPLODE" in frame:
            raise ZeroDivisionError("a bug in a parser")
        return super().parse(frame, recv_ns)


def test_any_exception_of_a_parser_is_one_counted_error() -> None:
    recs = read(SLICES["binance_usdm"])
    i = frame_indices(recs, rb"@bookTicker")[-20]
    r = Replay(_Exploding())
    for rec in replaced(recs, i, b'{"EXPLODE":1}'):
        r.feed(rec)
    (report,) = r.finish()
    assert r.summary.parse_errors == 1 and "ZeroDivisionError" in r.parse_errors[0]
    assert report.state == "synced" and report.frames > 1000


# -- numbers refused in time linear in their length ------------------------------------------

_HUGE = ["5e99999999", "-5E+99999999", "5e-99999999", "1" + "0" * 300 + "e99999999",
         "0.5e-99999999"]

_TIMED = textwrap.dedent("""
    import sys, time
    from crossbook.fixedpoint import parse_fixed, parse_fixed_py
    from crossbook.venues._exactnum import to_mantissa
    from crossbook.venues._jsonnum import decoder, mantissa
    from decimal import Decimal
    texts = sys.argv[1:]
    worst = 0.0
    for text in texts:
        for f in (parse_fixed, parse_fixed_py, to_mantissa, lambda t, e: mantissa(decoder.decode(t), e)):
            for exp in (0, 2, 8):
                t0 = time.perf_counter()
                try:
                    f(text, exp)
                    raise SystemExit(f"{text!r} was accepted")
                except (ValueError, OverflowError):
                    pass
                worst = max(worst, time.perf_counter() - t0)
    for value, exp in ((5, 10**8), (5, -10**8), (10**300, 2)):
        t0 = time.perf_counter()
        for f in (parse_fixed, parse_fixed_py):
            try:
                f(value, exp)
                raise SystemExit(f"{value} at {exp} was accepted")
            except (ValueError, OverflowError):
                pass
        worst = max(worst, time.perf_counter() - t0)
    print(worst)
""")


def test_numbers_with_huge_exponents_are_refused_at_once() -> None:
    # In a child process: before the bound, 10**(10**8) ran for minutes in one C call.
    out = subprocess.run([sys.executable, "-c", _TIMED, *_HUGE], capture_output=True, text=True,
                         timeout=60, check=True)
    assert float(out.stdout.strip().splitlines()[-1]) < 0.05


def test_a_huge_exponent_in_a_frame_is_a_parse_error() -> None:
    recs = read(SLICES["binance"])
    i = frame_indices(recs, rb'^\{"stream":"btcusdt@depth.*"b":\[\["')[-30]
    frame = re.sub(rb'"b":\[\["[0-9.]+"', b'"b":[["5e99999999"', recs[i].payload, count=1)
    r = run("binance", replaced(recs, i, frame))
    assert r.summary.parse_errors == 1 and "does not fit" in r.parse_errors[0]
