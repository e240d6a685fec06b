"""The raw capture format: gzip text, one event per line, in receive order.

    <recv_ns> <frame>              a websocket frame as received
    <recv_ns> > <frame>            a frame the recorder sent (subscribe, conf)
    <recv_ns> GET <url> <body>     a REST response, URL as requested
    <recv_ns> CONNECT <url>        a live recorder opened a websocket connection
    <recv_ns> CLOSE <reason>       ... and that connection ended

Frames are kept byte for byte, so a capture replays exactly. The connection
records let a replay tell a reconnect (every book of the connection resyncs)
from a lost frame (a gap).
"""

from __future__ import annotations

import enum
import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

__all__ = ["RecordKind", "CaptureRecord", "CaptureFormatError", "read_capture", "write_capture"]


class RecordKind(enum.Enum):
    FRAME = "frame"
    SENT = "sent"
    REST = "rest"
    CONNECT = "connect"
    CLOSE = "close"


class CaptureFormatError(ValueError):
    """A capture line that does not follow the format; names the file and line."""


@dataclass(slots=True)
class CaptureRecord:
    """One line of a capture. A value: nothing downstream changes one. (Not
    ``frozen``: a frozen dataclass pays ``object.__setattr__`` per field, and one
    of these is built per line.)"""

    recv_ns: int
    kind: RecordKind
    payload: bytes  # the frame, the REST body, or a CLOSE's reason
    url: str | None = None  # REST and CONNECT records only
    line_no: int = 0


def _open(path: str | Path) -> BinaryIO:
    p = Path(path)
    with p.open("rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    if gz:
        return cast(BinaryIO, gzip.open(p, "rb"))
    return p.open("rb")


def parse_line(line: bytes, line_no: int = 0, source: str = "<capture>") -> CaptureRecord:
    line = line.rstrip(b"\r\n")
    ts, sep, rest = line.partition(b" ")
    if not sep or not ts.isdigit():
        raise CaptureFormatError(f"{source}: line {line_no} is not `<recv_ns> <frame>`")
    recv_ns = int(ts)
    if rest.startswith(b"> "):
        return CaptureRecord(recv_ns, RecordKind.SENT, rest[2:], None, line_no)
    if rest.startswith(b"GET "):
        url, sep, body = rest[4:].partition(b" ")
        if not sep:
            raise CaptureFormatError(f"{source}: line {line_no} is a REST record without a body")
        return CaptureRecord(recv_ns, RecordKind.REST, body, url.decode(), line_no)
    if rest.startswith(b"CONNECT "):
        # The URL only names the server: a damaged byte must not stop the replay.
        return CaptureRecord(recv_ns, RecordKind.CONNECT, b"", rest[8:].decode(errors="replace"),
                             line_no)
    if rest.startswith(b"CLOSE "):
        return CaptureRecord(recv_ns, RecordKind.CLOSE, rest[6:], None, line_no)
    return CaptureRecord(recv_ns, RecordKind.FRAME, rest, None, line_no)


def read_capture(path: str | Path) -> Iterator[CaptureRecord]:
    """Records of a capture file (gzip or plain), in file order.

    A malformed line or a truncated gzip stream raises CaptureFormatError naming
    the place, after the records before it have been yielded: skipping would
    lose data silently.
    """
    source = str(path)
    with _open(path) as stream:
        line_no = 0
        try:
            for line in stream:
                line_no += 1
                if not line.strip():
                    continue
                yield parse_line(line, line_no, source)
        except (EOFError, gzip.BadGzipFile) as exc:
            raise CaptureFormatError(f"{source}: truncated or corrupt after line {line_no}: {exc}") from exc


def format_record(rec: CaptureRecord) -> bytes:
    if rec.kind is RecordKind.SENT:
        return b"%d > %s\n" % (rec.recv_ns, rec.payload)
    if rec.kind is RecordKind.REST:
        return b"%d GET %s %s\n" % (rec.recv_ns, (rec.url or "").encode(), rec.payload)
    if rec.kind is RecordKind.CONNECT:
        return b"%d CONNECT %s\n" % (rec.recv_ns, (rec.url or "").encode())
    if rec.kind is RecordKind.CLOSE:
        return b"%d CLOSE %s\n" % (rec.recv_ns, rec.payload)
    return b"%d %s\n" % (rec.recv_ns, rec.payload)


def write_capture(path: str | Path, records: Iterable[CaptureRecord]) -> int:
    """Writes records (gzip when the name ends in .gz); returns how many."""
    p = Path(path)
    n = 0
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "wb") as out:
        for rec in records:
            out.write(format_record(rec))
            n += 1
    return n
