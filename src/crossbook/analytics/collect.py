"""Replaying several captures together, in receive-time order, into per-book series."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from crossbook.analytics.series import SeriesCollector, VenueSeries
from crossbook.io.capture import CaptureRecord
from crossbook.replay import BookReport, Replay, open_capture

__all__ = ["collect_series", "merged_records"]


def merged_records(streams: Sequence[Iterator[CaptureRecord]]) -> Iterator[tuple[int, CaptureRecord]]:
    """(stream index, record) of all streams in receive-time order.

    Each stream is already in receive order; the captures share one local clock,
    so a k-way merge on ``recv_ns`` (ties: lower stream index first) interleaves
    them as they were received."""
    tagged = [_tag(i, s) for i, s in enumerate(streams)]
    for _, i, rec in heapq.merge(*tagged):
        yield i, rec


def _tag(i: int, stream: Iterator[CaptureRecord]) -> Iterator[tuple[int, int, CaptureRecord]]:
    # (recv_ns, i) is unique across streams' heads, so records themselves are never compared.
    for rec in stream:
        yield rec.recv_ns, i, rec


def collect_series(
    paths: Sequence[str | Path],
    *,
    depth_levels: int = 10,
    venue: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, VenueSeries], list[tuple[str, BookReport]], list[str]]:
    """Replays the captures merged in receive order and returns the series of every
    book, the book reports (one row per venue's book, named by its captures) and the
    parse errors. ``on_progress`` is called with the record count every 5000 records.

    Captures of the same venue go through one parser and one set of books: a
    recording split into consecutive files (a new file at midnight, with no new
    snapshot) continues the book of the file before it."""
    collector = SeriesCollector(depth_levels)
    replays: dict[str, Replay] = {}
    files: dict[str, list[str]] = {}
    streams: list[Iterator[CaptureRecord]] = []
    owner: list[Replay] = []
    for path in paths:
        parser, records = open_capture(path, venue)
        if parser.venue not in replays:
            replays[parser.venue] = Replay(parser, on_message=collector.on_message)
            files[parser.venue] = []
        files[parser.venue].append(Path(path).name)
        owner.append(replays[parser.venue])
        streams.append(records)
    for count, (i, rec) in enumerate(merged_records(streams), 1):
        owner[i].feed(rec)
        if on_progress is not None and count % 5000 == 0:
            on_progress(count)
    reports = [(" + ".join(files[v]), r) for v, rp in replays.items() for r in rp.finish()]
    errors = [f"{v}: {e}" for v, rp in replays.items() for e in rp.parse_errors]
    return collector.result(), reports, errors
