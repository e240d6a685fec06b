"""Recording what a live connection received, in the capture format, before anything
parses it.

Each flush appends one complete gzip member and fsyncs the file. A gzip file
is a sequence of members, so a crash (or a disk that fills) loses at most the
records not yet flushed and never corrupts the members already written:
``crossbook.io.read_capture`` reads a file cut at any byte as every record
before the cut and then reports the truncation (``CaptureFormatError``).

Files rotate by size (compressed bytes) or age; each part is a capture of its
own, and ``crossbook verify --join`` replays the parts of one connection as
one stream.
"""

from __future__ import annotations

import gzip
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from crossbook.timeutil import NS_PER_S

__all__ = ["CaptureWriter", "RecorderStats"]



@dataclass(slots=True)
class RecorderStats:
    records: int = 0
    bytes_raw: int = 0
    bytes_written: int = 0
    flushes: int = 0
    files: list[Path] = field(default_factory=list)


class CaptureWriter:
    """Appends capture records for one connection under ``directory``.

    ``flush_bytes``/``flush_interval_s`` bound what a crash can lose;
    ``rotate_bytes``/``rotate_interval_s`` start a new part file. Every record
    gets its receive time from the caller, first on the line.
    """

    def __init__(self, directory: str | Path, name: str, *, flush_bytes: int = 256 * 1024,
                 flush_interval_s: float = 1.0, rotate_bytes: int = 256 * 1024 * 1024,
                 rotate_interval_s: float = 3600.0, compresslevel: int = 6,
                 fsync: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.flush_bytes = flush_bytes
        self.flush_interval_ns = int(flush_interval_s * NS_PER_S)
        self.rotate_bytes = rotate_bytes
        self.rotate_interval_ns = int(rotate_interval_s * NS_PER_S)
        self.compresslevel = compresslevel
        self.fsync = fsync
        self.stats = RecorderStats()
        self._buf: list[bytes] = []
        self._buf_bytes = 0
        self._last_flush_ns = time.monotonic_ns()
        self._file_opened_ns = 0
        self._file_bytes = 0
        self._path: Path | None = None
        self._closed = False

    @property
    def path(self) -> Path | None:
        """The part being written (None before the first flush)."""
        return self._path

    # -- records -----------------------------------------------------------------------

    def frame(self, recv_ns: int, payload: bytes) -> None:
        self._add(b"%d %s\n" % (recv_ns, payload))

    def sent(self, recv_ns: int, payload: bytes) -> None:
        self._add(b"%d > %s\n" % (recv_ns, payload))

    def rest(self, recv_ns: int, url: str, body: bytes) -> None:
        self._add(b"%d GET %s %s\n" % (recv_ns, url.encode(), body))

    def connect(self, recv_ns: int, url: str) -> None:
        self._add(b"%d CONNECT %s\n" % (recv_ns, url.encode()))

    def close_connection(self, recv_ns: int, reason: str) -> None:
        # The reason is an exception's text: kept to one line so the record stays one.
        one_line = " ".join(reason.split()) or "closed"
        self._add(b"%d CLOSE %s\n" % (recv_ns, one_line.encode()))

    def _add(self, line: bytes) -> None:
        if self._closed:
            raise ValueError(f"recorder {self.name} is closed")
        if line.count(b"\n") != 1 or b"\r" in line:
            # A newline inside a frame would split it into two records on replay.
            raise ValueError(f"{self.name}: a frame with a line break cannot be recorded as one line")
        self._buf.append(line)
        self._buf_bytes += len(line)
        self.stats.records += 1
        self.stats.bytes_raw += len(line)
        if self._buf_bytes >= self.flush_bytes or (
                time.monotonic_ns() - self._last_flush_ns >= self.flush_interval_ns):
            self.flush()

    # -- files -------------------------------------------------------------------------

    def flush(self) -> None:
        """Writes what is buffered as one gzip member and makes it durable."""
        self._last_flush_ns = time.monotonic_ns()
        if not self._buf:
            return
        now_ns = time.time_ns()
        if self._path is None or self._file_bytes >= self.rotate_bytes or (
                now_ns - self._file_opened_ns >= self.rotate_interval_ns):
            self._new_part(now_ns)
        assert self._path is not None
        member = gzip.compress(b"".join(self._buf), compresslevel=self.compresslevel, mtime=0)
        self._buf.clear()
        self._buf_bytes = 0
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(member)
            while view:
                view = view[os.write(fd, view):]
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        self._file_bytes += len(member)
        self.stats.bytes_written += len(member)
        self.stats.flushes += 1

    def _new_part(self, now_ns: int) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now_ns // NS_PER_S))
        n = len(self.stats.files)
        self._path = self.directory / f"{self.name}-{stamp}-{n:04d}.cap.gz"
        self._file_opened_ns = now_ns
        self._file_bytes = 0
        self.stats.files.append(self._path)

    def close(self) -> None:
        if not self._closed:
            self.flush()
            self._closed = True
