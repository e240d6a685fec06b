"""The recorder's crash guarantee, rotation, and the backoff/rate-limit policies."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from pathlib import Path

import pytest

from crossbook.cli import main
from crossbook.io.capture import (
    CaptureFormatError,
    CaptureRecord,
    RecordKind,
    format_record,
    parse_line,
    read_capture,
)
from crossbook.live import Backoff, CaptureWriter, RateLimiter
from crossbook.replay import Replay
from crossbook.sync import Reason
from crossbook.testing import VenueSimulator
from crossbook.venues.registry import make_parser

from .conftest import BUNDLED, aio, run_feed


def _write(path: Path, n: int, **kw: object) -> CaptureWriter:
    w = CaptureWriter(path, "t", fsync=False, **kw)  # type: ignore[arg-type]
    for i in range(n):
        if i % 7 == 3:
            w.rest(1000 + i, f"http://x/depth?symbol=S{i}", b'{"lastUpdateId":%d}' % i)
        elif i % 7 == 5:
            w.sent(1000 + i, b'{"op":"subscribe"}')
        else:
            w.frame(1000 + i, b'{"i":%d,"pad":"%s"}' % (i, b"x" * (i % 13)))
    w.close()
    return w


def _read_all(path: Path) -> tuple[list[tuple[int, RecordKind, bytes]], bool]:
    out = []
    try:
        for r in read_capture(path):
            out.append((r.recv_ns, r.kind, r.payload))
    except CaptureFormatError:
        return out, True
    return out, False


def test_cut_at_any_byte_reads_complete_records_then_reports(tmp_path: Path) -> None:
    """A recording cut anywhere (a crash mid-write) reads back as a prefix of its records,
    each one whole, and the cut is reported unless it falls between two flushes."""
    w = _write(tmp_path, 24, flush_bytes=120)
    (path,) = w.stats.files
    full, truncated = _read_all(path)
    assert not truncated and len(full) == 24
    data = path.read_bytes()
    boundaries = {0, len(data)}
    pos = 0
    while pos < len(data):  # member ends: where the cut is clean
        dec = zlib.decompressobj(zlib.MAX_WBITS | 16)
        dec.decompress(data[pos:])
        pos = len(data) - len(dec.unused_data)
        boundaries.add(pos)
    assert w.stats.flushes == len(boundaries) - 1 > 5
    cut_file = tmp_path / "cut.cap.gz"
    for cut in range(len(data) + 1):
        cut_file.write_bytes(data[:cut])
        got, truncated = _read_all(cut_file)
        assert got == full[:len(got)], f"cut at {cut}: records differ from the prefix"
        assert truncated == (cut not in boundaries), f"cut at {cut}"


def test_rotation_by_size_and_join(tmp_path: Path) -> None:
    """Rotated parts are each a valid capture; replayed joined they give the same book as
    the original capture."""
    src = BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz"
    w = CaptureWriter(tmp_path, "binance", flush_bytes=32 * 1024, rotate_bytes=100 * 1024,
                      fsync=False)
    original = list(read_capture(src))
    for r in original:
        if r.kind is RecordKind.FRAME:
            w.frame(r.recv_ns, r.payload)
        elif r.kind is RecordKind.REST:
            w.rest(r.recv_ns, r.url or "", r.payload)
        else:
            w.sent(r.recv_ns, r.payload)
    w.close()
    assert len(w.stats.files) > 3
    joined = [rec for p in w.stats.files for rec in read_capture(p)]
    assert [(r.recv_ns, r.kind, r.payload, r.url) for r in joined] == [
        (r.recv_ns, r.kind, r.payload, r.url) for r in original]
    a, b = Replay(make_parser("binance")), Replay(make_parser("binance"))
    for r in original:
        a.feed(r)
    for r in joined:
        b.feed(r)
    assert a.syncs["BTCUSDT"].book.depth(50)[0].tolist() == b.syncs["BTCUSDT"].book.depth(50)[0].tolist()


def test_a_frame_with_a_line_break_is_refused(tmp_path: Path) -> None:
    w = CaptureWriter(tmp_path, "t", fsync=False)
    with pytest.raises(ValueError, match="line break"):
        w.frame(1, b'{"a":\n1}')
    w.close()
    assert w.stats.records == 0


def test_backoff_is_exponential_capped_jittered_and_seeded() -> None:
    a, b = Backoff(0.5, 8.0, seed=3), Backoff(0.5, 8.0, seed=3)
    delays = [a.next_delay_s() for _ in range(10)]
    assert delays == [b.next_delay_s() for _ in range(10)]
    for n, d in enumerate(delays):
        assert 0.0 <= d <= min(8.0, 0.5 * 2 ** n)
    assert len(set(delays)) == 10  # jittered
    a.reset()
    assert a.next_delay_s() <= 0.5


def test_rate_limiter_spaces_acquisitions() -> None:
    async def go() -> float:
        lim = RateLimiter(0.05)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for _ in range(4):
            await lim.acquire()
        return loop.time() - t0

    assert asyncio.run(go()) >= 0.15


def test_connection_records_round_trip(tmp_path: Path) -> None:
    """CONNECT and CLOSE lines read back as their own kinds; a multi-line reason stays one line."""
    w = CaptureWriter(tmp_path, "t", fsync=False)
    w.connect(10, "wss://127.0.0.1:1/stream")
    w.frame(11, b'{"a":1}')
    w.close_connection(12, "ConnectionClosedError: no close frame\nreceived")
    w.close()
    (path,) = w.stats.files
    recs = list(read_capture(path))
    assert [(r.recv_ns, r.kind) for r in recs] == [
        (10, RecordKind.CONNECT), (11, RecordKind.FRAME), (12, RecordKind.CLOSE)]
    assert recs[0].url == "wss://127.0.0.1:1/stream"
    assert recs[2].payload == b"ConnectionClosedError: no close frame received"
    assert [format_record(r) for r in recs] == gzip.decompress(path.read_bytes()).splitlines(
        keepends=True)
    damaged = parse_line(b"5 CONNECT wss://\xff/x\n")  # a bad byte in the URL: still a record
    assert damaged.kind is RecordKind.CONNECT and damaged.url == "wss://\ufffd/x"


@aio
async def test_a_reconnect_replays_as_a_resync_not_a_gap(tmp_path: Path) -> None:
    """The recording of a run with a lost connection marks it (CLOSE, then CONNECT):
    replayed, as `crossbook verify` does, the book resyncs for the reconnect and no
    gap is reported, and verify passes."""
    name = "binance_spot_btcusdt_20240808_slice.cap.gz"
    async with VenueSimulator("binance", BUNDLED / name, max_frames=1200, gate_at=300) as sim:
        at = next(i for i in range(500, len(sim.frames)) if b"@depth" in sim.frames[i].payload[:40])
        sim.faults.disconnect_at.add(at)
        run = await run_feed(sim, ["BTCUSDT"], tmp_path)
    paths = run.feed.recordings()["binance"]
    kinds = [r.kind for p in paths for r in read_capture(p)]
    assert kinds.count(RecordKind.CONNECT) == 2 and kinds.count(RecordKind.CLOSE) == 1
    replay = Replay(make_parser("binance"))
    for p in paths:
        for rec in read_capture(p):
            replay.feed(rec)
    (report,) = replay.finish()
    assert report.gaps == 0 and report.state == "synced", report
    assert Reason.RECONNECT in [e.reason for e in report.events]
    assert (replay.summary.connects, replay.summary.closes) == (2, 1)
    assert main(["verify", "--venue", "binance", "--join", *map(str, paths)]) == 0
    # Without the connection records (recordings before them), the same bytes read as a gap.
    unmarked = Replay(make_parser("binance"))
    for p in paths:
        for rec in read_capture(p):
            if rec.kind not in (RecordKind.CONNECT, RecordKind.CLOSE):
                unmarked.feed(rec)
    assert unmarked.finish()[0].gaps == 1


def test_a_connect_without_close_still_resyncs() -> None:
    """Recordings of two runs joined: the second CONNECT ends the first connection."""
    replay = Replay(make_parser("binance"))
    src = list(read_capture(BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz"))
    replay.feed(CaptureRecord(1, RecordKind.CONNECT, b"", "wss://a"))
    for rec in src[:400]:
        replay.feed(rec)
    assert replay.syncs["BTCUSDT"].synced
    replay.feed(CaptureRecord(2, RecordKind.CONNECT, b"", "wss://a"))
    assert replay.syncs["BTCUSDT"].state.value == "resyncing"
    assert replay.reports["BTCUSDT"].events[-1].reason is Reason.RECONNECT
