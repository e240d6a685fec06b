"""Capture files into a Replay: the checks a file passes before it is read, and one
or several files replayed as one recording.

Progress is reported through a callback, so that this module needs no terminal.
"""

from __future__ import annotations

import gzip
import itertools
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

from crossbook.io.capture import CaptureFormatError, read_capture
from crossbook.replay import BookReport, Replay, open_capture
from crossbook.venues.registry import make_parser, sniff_venue

__all__ = ["CaptureFileError", "ProgressCallback", "check_capture", "replay_files"]

#: Called with a file's name and the records read from it so far.
ProgressCallback = Callable[[str, int], None]

_GZIP_MAGIC = b"\x1f\x8b"
_PROGRESS_EVERY = 5000
_SNIFF_RECORDS = 2000  # as many as open_capture reads to recognise the venue


class CaptureFileError(ValueError):
    """A file that cannot be read as a capture; the message names the file and the fault."""


def _head_bytes(path: Path) -> bytes:
    if not path.exists():
        raise CaptureFileError(f"{path}: no such file")
    if path.is_dir():
        raise CaptureFileError(f"{path}: is a directory, not a capture file")
    try:
        with path.open("rb") as f:
            head = f.read(2)
    except OSError as exc:
        raise CaptureFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not head:
        raise CaptureFileError(f"{path}: empty file")
    if path.suffix == ".gz" and head != _GZIP_MAGIC:
        raise CaptureFileError(f"{path}: not a gzip file")
    return head


def check_capture(path: str | Path, venue: str | None = None) -> str:
    """The venue of a capture file (``venue`` when given), after checking that the
    file exists, is not empty, is gzip when its name says so, and that its first
    records are capture lines; raises CaptureFileError saying what is wrong."""
    if venue is not None:
        try:
            make_parser(venue)
        except ValueError as exc:  # an unknown name: the message lists the known ones
            raise CaptureFileError(str(exc)) from None
    p = Path(path)
    _head_bytes(p)
    try:
        head = list(itertools.islice(read_capture(p), _SNIFF_RECORDS))
    except CaptureFormatError as exc:
        raise CaptureFileError(str(exc)) from None
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise CaptureFileError(f"{p}: not a readable gzip file ({exc})") from None
    if not head:
        raise CaptureFileError(f"{p}: no records (empty once decompressed, or blank lines only)")
    if venue is not None:
        return venue
    found = sniff_venue(head)
    if found is None:
        raise CaptureFileError(f"{p}: cannot tell the venue from the first records; pass --venue")
    return found


def replay_files(paths: Sequence[str | Path], venue: str | None = None,
                 on_progress: ProgressCallback | None = None) -> tuple[Replay, list[BookReport]]:
    """Replays one capture, or several of one venue as one continuous recording (books
    carried across the file boundaries), and returns the replay and its book reports.

    Damage part way through a file (a malformed line, a truncated gzip stream) ends
    that file and is recorded in ``replay.parse_errors``: the books up to the damage
    are still worth reporting, and the damage fails the check."""
    parser, records = open_capture(paths[0], venue)
    replay = Replay(parser)
    sources = [(Path(paths[0]).name, records)]
    sources += [(Path(p).name, open_capture(p, parser.venue)[1]) for p in paths[1:]]
    for name, recs in sources:
        if on_progress is not None:
            on_progress(name, 0)
        try:
            for i, rec in enumerate(recs, 1):
                replay.feed(rec)
                if on_progress is not None and i % _PROGRESS_EVERY == 0:
                    on_progress(name, i)
        except CaptureFormatError as exc:
            replay.parse_errors.append(str(exc))
    return replay, replay.finish()
