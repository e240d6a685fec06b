"""The recorder's crash guarantee, rotation, and the backoff/rate-limit policies."""

from __future__ import annotations

import asyncio
import zlib
from pathlib import Path

import pytest

from crossbook.io.capture import CaptureFormatError, RecordKind, read_capture
from crossbook.live import Backoff, CaptureWriter, RateLimiter
from crossbook.replay import Replay
from crossbook.venues.registry import make_parser

from .conftest import BUNDLED


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
