"""The capture format: read, write, round trip, and damaged files reported, never fatal."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from crossbook.cli import main
from crossbook.io import CaptureRecord, RecordKind, read_capture, write_capture
from crossbook.io.capture import CaptureFormatError, parse_line

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "crossbook" / "data"
SPOT = BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz"


def test_three_record_kinds() -> None:
    assert parse_line(b'17 {"a":1}\n') == CaptureRecord(17, RecordKind.FRAME, b'{"a":1}')
    assert parse_line(b'18 > {"op":"subscribe"}') == CaptureRecord(18, RecordKind.SENT, b'{"op":"subscribe"}')
    rest = parse_line(b"19 GET https://x/depth?symbol=A {}")
    assert (rest.kind, rest.url, rest.payload) == (RecordKind.REST, "https://x/depth?symbol=A", b"{}")
    for bad in (b"abc {}", b"12", b"12 GET https://x"):
        with pytest.raises(CaptureFormatError):
            parse_line(bad, 3, "f.cap")


@pytest.mark.parametrize("suffix", [".cap.gz", ".cap"])
def test_round_trip_is_byte_exact(tmp_path: Path, suffix: str) -> None:
    records = list(read_capture(SPOT))
    out = tmp_path / f"copy{suffix}"
    assert write_capture(out, records) == len(records)
    again = list(read_capture(out))
    assert [(r.recv_ns, r.kind, r.payload, r.url) for r in again] == [
        (r.recv_ns, r.kind, r.payload, r.url) for r in records]
    if suffix == ".cap":
        assert out.read_bytes() == gzip.decompress(SPOT.read_bytes())


def test_truncated_file_keeps_what_came_before_and_is_reported(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    cut = tmp_path / "cut.cap.gz"
    data = SPOT.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # a recorder killed mid-write
    seen = 0
    with pytest.raises(CaptureFormatError, match="truncated"):
        for _ in read_capture(cut):
            seen += 1
    assert seen > 1000
    assert main(["verify", str(cut)]) == 1
    out = capsys.readouterr().out
    assert "truncated" in out
    assert "BTCUSDT" in out and "synced" in out  # the books before the cut are reported
