"""Every frame is accounted for (a book, market data, control, stale, unrouted,
unsupported, a venue error, a parse or sync error, or past the book cap), and
`crossbook verify` fails when frames were lost or nothing was checked."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
from pathlib import Path

import pytest

from crossbook.cli import main
from crossbook.io.capture import CaptureRecord, RecordKind, format_record
from crossbook import replay as replay_module

from ._kit import CAPTURES, SLICES, capture, frame_indices, replaced, run

_OUTCOMES = ("book", "market_data", "control", "stale", "unrouted", "unsupported", "venue_errors",
             "parse_errors", "sync_errors", "books_capped")

ACCOUNTED = [SLICES["binance"], CAPTURES / "bitfinex" / "bitfinex_book_p0.cap.gz",
             CAPTURES / "bitget" / "bitget_spot.cap.gz", CAPTURES / "okx" / "okx.cap.gz",
             CAPTURES / "kucoin" / "kucoin_level2.cap.gz", CAPTURES / "gateio" / "gateio_spot.cap.gz",
             CAPTURES / "huobi" / "huobi_depth.cap.gz",
             CAPTURES / "binance" / "binance_usdm_2021.cap.gz"]


@pytest.mark.parametrize("path", ACCOUNTED, ids=lambda p: p.name)
def test_every_frame_has_exactly_one_outcome(path: Path) -> None:
    venue, recs = capture(path)
    s = run(venue, recs).summary
    assert s.records == len(recs) == s.frames + s.sent
    assert sum(getattr(s, o) for o in _OUTCOMES) == s.frames


def _write(tmp_path: Path, recs: list[CaptureRecord], name: str = "cut.cap.gz") -> Path:
    out = tmp_path / name
    out.write_bytes(gzip.compress(b"".join(format_record(r) for r in recs)))
    return out


def _verify_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    rc = main(["verify", "--json", *args])
    return rc, json.loads(capsys.readouterr().out)


# -- frames that vanished before --------------------------------------------------------------


def test_bitfinex_frames_of_a_channel_without_ack_are_unrouted() -> None:
    venue, recs = capture(CAPTURES / "bitfinex" / "bitfinex_book_p0.cap.gz")

    def data_of(ack: int) -> list[int]:
        chan = re.search(rb'"chanId":(\d+)', recs[ack].payload).group(1)  # type: ignore[union-attr]
        return [i for i in frame_indices(recs, rb"^\[" + chan + rb",") if b'"hb"' not in recs[i].payload]

    ack = max(frame_indices(recs, rb'"event":"subscribed","channel":"book"'),
              key=lambda i: len(data_of(i)))
    symbol = re.search(rb'"symbol":"(\w+)"', recs[ack].payload).group(1).decode()  # type: ignore[union-attr]
    replay = run(venue, recs[:ack] + recs[ack + 1:])
    books = {r.symbol for r in replay.finish()}
    assert symbol not in books and len(books) == 6
    assert replay.summary.unrouted == len(data_of(ack)) > 50
    assert any("unrouted" in f or "no subscription" in f for f in replay.summary.failures())


def test_kraken_v1_book_needs_no_ack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Kraken v1 frames name their pair and channel: a lost ack costs nothing."""
    venue, recs = capture(CAPTURES / "kraken" / "kraken_book_v1_2021.cap.gz")
    acks = frame_indices(recs, rb'"event":"subscriptionStatus"')
    clean = [dataclasses.asdict(r) for r in run(venue, recs).finish()]
    cut = [r for i, r in enumerate(recs) if i not in set(acks)]
    replay = run(venue, cut)
    assert [dataclasses.asdict(r) for r in replay.finish()] == clean
    assert replay.summary.unrouted == 0


def test_okx_error_event_mid_stream_is_a_counted_venue_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    venue, recs = capture(CAPTURES / "okx" / "okx.cap.gz")
    i = frame_indices(recs, rb'"action":"update"')[20]
    error = b'{"event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"}'
    recs = recs[:i] + [CaptureRecord(recs[i].recv_ns, RecordKind.FRAME, error)] + recs[i:]
    replay = run(venue, recs)
    assert replay.summary.venue_errors == 1 and "60012" in replay.errors[0]
    assert len(replay.finish()) == 2
    rc, out = _verify_json(capsys, str(_write(tmp_path, recs)))
    assert rc == 1 and out["captures"][0]["venue_errors"] == 1


def test_capture_of_an_unsupported_channel_fails_verify(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Gate.io futures order book frames: the spot parser knows the envelope, not the channel.
    _, recs = capture(CAPTURES / "gateio" / "gateio_spot.cap.gz")
    futures = [CaptureRecord(r.recv_ns, r.kind, r.payload.replace(b'"spot.order_book_update"',
                                                                   b'"futures.order_book_update"'))
               for r in recs if r.kind is RecordKind.FRAME]
    replay = run("gateio", futures)
    assert replay.finish() == []
    n = len(frame_indices(futures, rb'"futures.order_book_update","event":"update"'))
    assert replay.summary.unsupported >= n > 100
    rc, out = _verify_json(capsys, "--venue", "gateio", str(_write(tmp_path, futures)))
    (summary,) = out["captures"]
    assert rc == 1 and out["books"] == [] and summary["books"] == 0
    assert "no order book" in summary["failures"][0]


def test_empty_capture_fails_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The replay itself calls a capture with nothing in it a failure...
    assert run("binance", []).summary.failures()
    # ...and verify refuses it before any work, in one line naming the file (exit 2).
    empty = _write(tmp_path, [], "empty.cap.gz")
    assert main(["verify", "--venue", "binance", "--json", str(empty)]) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and "no records" in err and len(err.strip().splitlines()) == 1


def test_verify_json_keeps_per_book_fields_and_adds_the_summary(
        capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _verify_json(capsys, str(SLICES["binance_coinm"]))
    (book,) = out["books"]
    (summary,) = out["captures"]
    assert rc == 0 and book["symbol"] == "BTCUSD_PERP" and book["parse_errors"] == 0
    assert summary["failures"] == [] and summary["books"] == 1
    assert set(_OUTCOMES) <= summary.keys()
    assert sum(summary[o] for o in _OUTCOMES) == summary["frames"] > 10_000


# -- the book cap ----------------------------------------------------------------------------


def test_default_book_cap_is_generous() -> None:
    assert replay_module.ReplaySummary().max_books == replay_module.DEFAULT_MAX_BOOKS == 10_000


def test_frames_each_naming_a_new_symbol_are_capped() -> None:
    venue, recs = capture(SLICES["binance"])
    snap = next(r for r in recs if r.kind is RecordKind.REST)
    depth = recs[frame_indices(recs, rb'"b":\[\["')[-1]]
    flood = []
    for k in range(300):
        sym = b"X%dUSDT" % k
        flood.append(CaptureRecord(depth.recv_ns, RecordKind.FRAME,
                                   depth.payload.replace(b'"s":"BTCUSDT"', b'"s":"' + sym + b'"')))
    replay = run(venue, [snap, *recs[:50], *flood], max_books=100)
    assert len(replay.finish()) == 100 and replay.summary.books == 100
    assert replay.summary.books_capped == 201  # the 300 new symbols and BTCUSDT take 100 books
    (failure,) = [f for f in replay.summary.failures() if "cap" in f]
    assert "201 frames" in failure and "100" in failure
    assert any("past the cap" in e for e in replay.errors)


def test_capped_books_keep_the_first_ones_whole() -> None:
    venue, recs = capture(CAPTURES / "binance" / "binance_spot_2021.cap.gz")
    clean = {r.symbol: dataclasses.asdict(r) for r in run(venue, recs).finish()}
    capped = run(venue, recs, max_books=2)
    kept = {r.symbol: dataclasses.asdict(r) for r in capped.finish()}
    assert len(kept) == 2 and all(kept[s] == clean[s] for s in kept)
    assert capped.summary.books_capped > 0
