"""Real recorded frames to damage, and replays that report what became of them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from crossbook.io.capture import CaptureRecord, RecordKind, read_capture
from crossbook.replay import Replay, open_capture
from crossbook.venues.registry import make_parser
from tests.venues._venue_kit import CAPTURES, need

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "crossbook" / "data"
SLICES = {
    "binance": BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz",
    "binance_usdm": BUNDLED / "binance_usdm_btcusdt_20240808_slice.cap.gz",
    "binance_coinm": BUNDLED / "binance_coinm_btcusd_perp_20240808_slice.cap.gz",
}

__all__ = ["BUNDLED", "CAPTURES", "SLICES", "capture", "frame_indices", "replaced", "run"]


def capture(path: Path) -> tuple[str, list[CaptureRecord]]:
    """The capture's venue (as verify recognises it) and its records."""
    parser, recs = open_capture(need(path))
    return parser.venue, list(recs)


def frame_indices(recs: Sequence[CaptureRecord], pattern: bytes) -> list[int]:
    rx = re.compile(pattern)
    return [i for i, r in enumerate(recs) if r.kind is RecordKind.FRAME and rx.search(r.payload)]


def replaced(recs: Sequence[CaptureRecord], i: int, payload: bytes) -> list[CaptureRecord]:
    out = list(recs)
    r = out[i]
    out[i] = CaptureRecord(r.recv_ns, r.kind, payload, r.url, r.line_no)
    return out


def run(venue: str, recs: Sequence[CaptureRecord], **kw: int) -> Replay:
    replay = Replay(make_parser(venue), **kw)
    for rec in recs:
        replay.feed(rec)
    replay.finish()
    return replay


def read(path: Path) -> list[CaptureRecord]:
    return list(read_capture(need(path)))
