"""Shared pieces of the vendor-file readers: opening (compressed) files, the
error type that names the place, and synthetic orders that stand for a book's
unknown resting orders.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO, cast

import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook._side import Side

__all__ = [
    "SYNTHETIC_ID_BASE",
    "ZSTD_MAGIC",
    "DataFormatError",
    "Source",
    "open_binary",
    "source_name",
    "synthetic_orders",
]

#: A path, or a binary file object already open (its name is used in errors).
Source = str | Path | IO[bytes]

#: Synthetic order ids start here. Venue ids (ITCH, CME, Bitstamp) stay far
#: below 2**63, so a synthetic id can never collide with a real one.
SYNTHETIC_ID_BASE = 1 << 63

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class DataFormatError(ValueError):
    """Input that does not follow its file format.

    ``source`` names the file, ``line`` the 1-based line (or record) number, 0
    when the error is not tied to one place.
    """

    def __init__(self, source: str, line: int, message: str) -> None:
        self.source = source
        self.line = line
        self.reason = message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


def source_name(src: Source) -> str:
    if isinstance(src, (str, Path)):
        return str(src)
    return str(getattr(src, "name", "<stream>"))


@contextmanager
def open_binary(src: Source, *, keep_zstd: bool = False) -> Iterator[BinaryIO]:
    """The decompressed bytes of ``src``, whatever the compression.

    The format is told by its magic bytes, never by the file name, so a renamed
    file still reads: gzip, xz, bzip2 and zstd (through ``zstandard``, only
    needed for zstd) are recognised; anything else is read as is. With
    ``keep_zstd`` a zstd stream is left compressed (for a decoder that inflates
    it itself).
    """
    if isinstance(src, (str, Path)):
        with Path(src).open("rb") as f:
            yield _decompressor(cast(BinaryIO, f), f.peek(6)[:6], keep_zstd)
        return
    stream = cast(BinaryIO, src)
    if hasattr(stream, "peek"):
        head = stream.peek(6)[:6]
    elif stream.seekable():
        pos = stream.tell()
        head = stream.read(6)
        stream.seek(pos)
    else:  # a pipe without peek: the magic bytes cannot be put back, so buffer it
        stream = io.BytesIO(stream.read())
        head = stream.getvalue()[:6]
    yield _decompressor(stream, head, keep_zstd)


def _decompressor(stream: BinaryIO, head: bytes, keep_zstd: bool) -> BinaryIO:
    if head[:2] == b"\x1f\x8b":
        return cast(BinaryIO, gzip.GzipFile(fileobj=stream, mode="rb"))
    if head[:6] == b"\xfd7zXZ\x00":
        return cast(BinaryIO, lzma.LZMAFile(stream, "rb"))
    if head[:3] == b"BZh":
        return cast(BinaryIO, bz2.BZ2File(stream, "rb"))
    if head[:4] == ZSTD_MAGIC and not keep_zstd:
        try:
            import zstandard
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "reading a zstd-compressed file needs the 'zstandard' package "
                "(pip install zstandard)"
            ) from exc
        return cast(
            BinaryIO, zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
        )
    return stream


def synthetic_orders(
    bids: npt.NDArray[np.void],
    asks: npt.NDArray[np.void],
    *,
    ts_ns: int = 0,
    first_id: int = SYNTHETIC_ID_BASE,
    per_count: bool = False,
) -> npt.NDArray[np.void]:
    """ORDER_EVENT adds that rebuild aggregated levels (DEPTH rows, best first).

    A level of a book that starts mid-stream stands for orders whose ids the
    feed never sent. One synthetic order per level (ids ``first_id``,
    ``first_id + 1``, ... in bid-then-ask order) carries the level's size; with
    ``per_count`` a level with count ``c > 1`` becomes ``c`` orders (``c - 1``
    of size 1 and one with the rest) so order counts match too. The events
    carry F_SNAPSHOT and the last one F_LAST.
    """
    rows: list[tuple[int, int, int]] = []  # side, price, size of each order
    for side, levels in ((Side.BID, bids), (Side.ASK, asks)):
        for lvl in levels:
            price, size, count = int(lvl["price"]), int(lvl["size"]), int(lvl["count"])
            if size <= 0:
                continue
            n = max(1, count) if per_count else 1
            if n > size:
                raise ValueError(f"level {price} has {count} orders but only size {size}")
            rows.extend((side, price, 1) for _ in range(n - 1))
            rows.append((side, price, size - (n - 1)))
    out = np.zeros(len(rows), dtype=dtypes.ORDER_EVENT)
    if not rows:
        return out
    arr = np.array(rows, dtype=np.int64)
    out["ts_exchange_ns"] = ts_ns
    out["order_id"] = np.arange(len(rows), dtype=np.uint64) + np.uint64(first_id)
    out["side"] = arr[:, 0]
    out["price"] = arr[:, 1]
    out["size"] = arr[:, 2]
    out["action"] = dtypes.ORDER_ADD
    out["flags"] = dtypes.F_SNAPSHOT
    out["flags"][-1] |= dtypes.F_LAST
    return out
