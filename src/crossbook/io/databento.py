"""Databento MBO and MBP-10, from DBN files (through ``databento-dbn``) and CSV.

Both formats decode to one record array per schema (``MBO`` or ``MBP10``, every
field as given; prices are int64 x 1e-9, ``PRICE_EXP = 9``; a missing price is
``UNDEF_PRICE``, an undefined timestamp -1). A CSV export line
(``pretty_ts``/``pretty_px``)::

    ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,price,size,channel_id,order_id,flags,ts_in_delta,sequence,symbol
    2025-07-17T08:05:03.360842448Z,2025-07-17T08:05:03.360677248Z,160,2,1108,A,B,5.510000000,100,0,817593,130,165200,851012,ARL

Columns are found by name, so extra ones (an index, ``order_id`` on MBP-10)
are ignored; times are ISO-8601 or integer ns, prices decimal text (parsed
exactly) or integer units of 1e-9.

``mbo_to_events`` turns MBO records into ORDER_EVENTs with Databento's
semantics (databento.com/docs, "Order tracking" and the MBO schema):

- A add; C cancel of ``size`` (the quantity cancelled, a partial cancel keeps
  the order); M modify to a new price and size; R clear (side N: both sides).
- T trade and F fill do not change the book: the venue's depletion of the
  resting order comes as a C or M record (in ITCH data in the same message as
  the F, in CME data in a later one). They are returned as trades. N changes
  nothing. The data agree: in the ES files every F whose order rests is
  followed by a C or M of that order, and fills of iceberg orders exceed the
  displayed size, so treating F as an execution would deplete twice.
- F_LAST (flags & 128) ends a venue event: the book should only be looked at
  after it. It becomes our F_LAST; when it sits on a record that changes no
  book (T, F, N), it moves to the last book event before it, whose book is the
  book at that boundary. F_SNAPSHOT (32) becomes our F_SNAPSHOT.

MBP-10 records give the book after each record that touched the top 10 levels.
``mbp_checkpoints`` finds the MBO record each MBP-10 record corresponds to.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from crossbook import dtypes
from crossbook.fixedpoint import parse_fixed
from crossbook.io._common import ZSTD_MAGIC, DataFormatError, Source, open_binary, source_name
from crossbook.timeutil import iso_ns

__all__ = [
    "F_LAST",
    "F_SNAPSHOT",
    "MBO",
    "MBP10",
    "PRICE_EXP",
    "UNDEF_PRICE",
    "DatabentoData",
    "DatabentoFormatError",
    "MboEvents",
    "mbo_to_events",
    "mbp_checkpoints",
    "present_levels",
    "read_csv_mbo",
    "read_csv_mbp10",
    "read_dbn_mbo",
    "read_dbn_mbp10",
]

PRICE_EXP = 9
UNDEF_PRICE = (1 << 63) - 1
#: Databento's flag bits (a record's ``flags``).
F_LAST, F_SNAPSHOT = 128, 32
_UNDEF_TS = (1 << 64) - 1

_HEADER = [
    ("ts_recv", "<i8"),
    ("ts_event", "<i8"),
    ("price", "<i8"),
    ("size", "<u4"),
    ("instrument_id", "<u4"),
    ("sequence", "<u4"),
    ("ts_in_delta", "<i4"),
    ("publisher_id", "<u2"),
    ("flags", "u1"),
    ("action", "S1"),
    ("side", "S1"),
]
#: One MBO record. ``action`` and ``side`` are one byte (b"A", b"B", ...).
MBO = np.dtype(_HEADER + [("order_id", "<u8"), ("channel_id", "u1")], align=True)
#: One MBP-10 record: the update, then 10 levels a side (DEPTH rows, best
#: first; an empty level has price UNDEF_PRICE, size 0, count 0).
MBP10 = np.dtype(
    _HEADER + [("depth", "u1"), ("bids", dtypes.DEPTH, (10,)), ("asks", dtypes.DEPTH, (10,))],
    align=True,
)

_ACTIONS = frozenset(b"ACMRTFN")
_SIDES = frozenset(b"ABN")


class DatabentoFormatError(DataFormatError):
    """A DBN or CSV file that does not decode; names the file and line/record."""


@dataclass(frozen=True, slots=True)
class DatabentoData:
    """Records of one file; ``dataset`` is empty for CSV (it does not say)."""

    source: str
    schema: str
    records: npt.NDArray[np.void]
    dataset: str
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MboEvents:
    """Book events of MBO records. ``events[i]`` comes from record
    ``event_record[i]``; ``trade_record`` indexes the T and F records."""

    events: npt.NDArray[np.void]
    event_record: npt.NDArray[np.int64]
    trade_record: npt.NDArray[np.int64]


# ------------------------------------------------------------------------ DBN


def _dbn_records(src: Source, schema: str) -> tuple[Any, list[Any]]:
    try:
        import databento_dbn as dbn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "reading DBN needs 'databento-dbn' (pip install 'crossbook[dbn]')"
        ) from exc
    name = source_name(src)
    out: list[Any] = []
    try:
        # databento-dbn inflates zstd itself; other compressions are undone here.
        with open_binary(src, keep_zstd=True) as f:
            chunk = f.read(1 << 20)
            zstd = chunk[:4] == ZSTD_MAGIC
            decoder = dbn.DBNDecoder(
                compression=dbn.Compression.from_str("zstd" if zstd else "none")
            )
            while chunk:
                out.extend(decoder.write_and_decode(chunk))
                chunk = f.read(1 << 20)
    except (OSError, EOFError, dbn.DBNError, ValueError) as exc:
        raise DatabentoFormatError(name, 0, f"not a readable DBN stream: {exc}") from exc
    if decoder.buffer():
        raise DatabentoFormatError(
            name, 0, f"truncated: {len(decoder.buffer())} bytes after record {max(0, len(out) - 1)}"
        )
    if not out or not isinstance(out[0], dbn.Metadata):
        raise DatabentoFormatError(name, 0, "no DBN metadata header")
    meta, recs = out[0], out[1:]
    want = {"mbo": dbn.MBOMsg, "mbp-10": dbn.MBP10Msg}[schema]
    skip = (dbn.SymbolMappingMsg, dbn.SystemMsg)  # live-stream bookkeeping, not data
    kept = []
    for i, r in enumerate(recs, 1):
        if isinstance(r, want):
            kept.append(r)
        elif not isinstance(r, skip):
            raise DatabentoFormatError(
                name, i, f"expected {schema} records, got {type(r).__name__}"
            )
    return meta, kept


def _ts(v: int) -> int:
    return -1 if v == _UNDEF_TS else int(v)


def _header(r: Any) -> tuple[Any, ...]:
    return (_ts(r.ts_recv), _ts(r.ts_event), r.price, r.size, r.instrument_id, r.sequence,
            r.ts_in_delta, r.publisher_id, int(r.flags), str(r.action.value), str(r.side.value))  # fmt: skip


def _mbo_row(r: Any) -> tuple[Any, ...]:
    return _header(r) + (r.order_id, r.channel_id)


def _mbp_row(r: Any) -> tuple[Any, ...]:
    bids = [(lv.bid_px, lv.bid_sz, lv.bid_ct) for lv in r.levels]
    asks = [(lv.ask_px, lv.ask_sz, lv.ask_ct) for lv in r.levels]
    return _header(r) + (r.depth, bids, asks)


def _array(rows: list[tuple[Any, ...]], dtype: np.dtype[Any]) -> npt.NDArray[np.void]:
    # Field by field into zeros, so the alignment padding is zero and equal
    # files give equal bytes.
    out = np.zeros(len(rows), dtype=dtype)
    if rows:
        out[...] = np.array(rows, dtype=dtype)
    return out


def _metadata(name: str, schema: str, meta: Any, recs: npt.NDArray[np.void]) -> DatabentoData:
    return DatabentoData(name, schema, recs, str(meta.dataset or ""), tuple(meta.symbols or ()))


def read_dbn_mbo(src: Source) -> DatabentoData:
    """MBO records of a DBN file (any DBN version, plain or zstd)."""
    meta, recs = _dbn_records(src, "mbo")
    arr = _array([_mbo_row(r) for r in recs], MBO)
    return _metadata(source_name(src), "mbo", meta, arr)


def read_dbn_mbp10(src: Source) -> DatabentoData:
    """MBP-10 records of a DBN file (any DBN version, plain or zstd)."""
    meta, recs = _dbn_records(src, "mbp-10")
    arr = _array([_mbp_row(r) for r in recs], MBP10)
    return _metadata(source_name(src), "mbp-10", meta, arr)


# ------------------------------------------------------------------------ CSV


def _csv_rows(src: Source) -> Iterator[tuple[int, dict[str, str]]]:
    name = source_name(src)
    with open_binary(src) as f:
        text = io.TextIOWrapper(f, encoding="utf-8", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise DatabentoFormatError(name, 1, "empty file: no CSV header") from None
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise DatabentoFormatError(name, 1, f"cannot read: {exc}") from exc
        try:
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise DatabentoFormatError(
                        name, reader.line_num, f"expected {len(header)} fields, got {len(row)}"
                    )
                yield reader.line_num, dict(zip(header, row, strict=True))
        except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
            raise DatabentoFormatError(name, reader.line_num, f"cannot read: {exc}") from exc


def _csv_ts(text: str) -> int:
    if "-" in text:
        return iso_ns(text)
    if not text.isdigit():
        raise ValueError(f"not an ISO-8601 time or integer ns: {text!r}")
    return int(text)


def _csv_price(text: str) -> int:
    if not text:
        return UNDEF_PRICE
    # Databento's pretty prices always have a point; without one the column
    # holds the raw integer in units of 1e-9.
    if "." in text:
        return parse_fixed(text, PRICE_EXP)
    if not text.lstrip("-").isdigit():
        raise ValueError(f"not a price: {text!r}")
    return int(text)


def _csv_int(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"not a non-negative integer: {text!r}")
    return int(text)


def _char(allowed: frozenset[int], what: str) -> Any:
    def parse(text: str) -> str:
        if len(text) != 1 or ord(text) not in allowed:
            raise ValueError(f"bad {what} {text!r} (one of {bytes(sorted(allowed)).decode()})")
        return text

    return parse


_ACTION, _SIDE = _char(_ACTIONS, "action"), _char(_SIDES, "side")
_REQUIRED_MBO = (
    "ts_recv",
    "ts_event",
    "action",
    "side",
    "price",
    "size",
    "order_id",
    "flags",
    "sequence",
)
_REQUIRED_MBP = (
    _REQUIRED_MBO[:6]
    + ("flags", "sequence", "depth")
    + tuple(
        f"{s}_{k}_{i:02d}" for i in range(10) for s in ("bid", "ask") for k in ("px", "sz", "ct")
    )
)


def _col(row: dict[str, str], key: str, parse: Any, optional: bool = False) -> Any:
    text = row.get(key, "0" if optional else None)
    if text is None:
        raise KeyError(key)
    try:
        return parse(text or "0") if optional else parse(text)
    except ValueError as exc:
        raise ValueError(f"column {key}: {exc}") from None


def _csv_header(row: dict[str, str]) -> tuple[Any, ...]:
    return (
        _col(row, "ts_recv", _csv_ts), _col(row, "ts_event", _csv_ts),
        _col(row, "price", _csv_price), _col(row, "size", _csv_int),
        _col(row, "instrument_id", _csv_int, True), _col(row, "sequence", _csv_int),
        _col(row, "ts_in_delta", int, True), _col(row, "publisher_id", _csv_int, True),
        _col(row, "flags", _csv_int), _col(row, "action", _ACTION), _col(row, "side", _SIDE),
    )  # fmt: skip


def _csv_mbo(row: dict[str, str]) -> tuple[Any, ...]:
    return _csv_header(row) + (
        _col(row, "order_id", _csv_int),
        _col(row, "channel_id", _csv_int, True),
    )


def _csv_mbp(row: dict[str, str]) -> tuple[Any, ...]:
    def side(s: str) -> list[tuple[int, int, int]]:
        return [
            (_col(row, f"{s}_px_{i:02d}", _csv_price), _col(row, f"{s}_sz_{i:02d}", _csv_int),
             _col(row, f"{s}_ct_{i:02d}", _csv_int))
            for i in range(10)
        ]  # fmt: skip

    return _csv_header(row) + (_col(row, "depth", _csv_int), side("bid"), side("ask"))


def _read_csv(src: Source, schema: str, dtype: np.dtype[Any], parse: Any) -> DatabentoData:
    name = source_name(src)
    rows: list[tuple[Any, ...]] = []
    symbols: dict[str, None] = {}
    required = _REQUIRED_MBO if dtype == MBO else _REQUIRED_MBP
    for line, row in _csv_rows(src):
        if not rows and (missing := [c for c in required if c not in row]):
            raise DatabentoFormatError(name, 1, f"missing columns {', '.join(missing)}")
        try:
            rows.append(parse(row))
        except KeyError as exc:
            raise DatabentoFormatError(name, line, f"missing column {exc.args[0]!r}") from None
        except (ValueError, OverflowError) as exc:
            raise DatabentoFormatError(name, line, str(exc)) from None
        if row.get("symbol"):
            symbols[row["symbol"]] = None
    try:
        arr = _array(rows, dtype)
    except OverflowError as exc:  # a value past its field's width (size > u32, ...)
        raise DatabentoFormatError(name, 0, f"a value does not fit its field: {exc}") from None
    return DatabentoData(name, schema, arr, "", tuple(symbols))


def read_csv_mbo(src: Source) -> DatabentoData:
    """MBO records of a Databento CSV export (plain or compressed)."""
    return _read_csv(src, "mbo", MBO, _csv_mbo)


def read_csv_mbp10(src: Source) -> DatabentoData:
    """MBP-10 records of a Databento CSV export (plain or compressed)."""
    return _read_csv(src, "mbp-10", MBP10, _csv_mbp)


# --------------------------------------------------------------- conversion


def mbo_to_events(records: npt.NDArray[np.void], *, instrument_id: int | None = None) -> MboEvents:
    """ORDER_EVENTs (price_exp 9) of one instrument's MBO records.

    ``instrument_id`` selects one when the records hold several (else an error).
    A C of size 0 cancels nothing in Databento's semantics and is left out
    (ORDER_EVENT reads cancel size 0 as "all").
    """
    ids = np.unique(records["instrument_id"])
    if instrument_id is None and len(ids) > 1:
        raise ValueError(f"records hold instruments {ids.tolist()}: pass instrument_id=")
    if instrument_id is not None:
        index = np.flatnonzero(records["instrument_id"] == instrument_id)
        recs = records[index]
    else:
        index, recs = np.arange(len(records)), records
    act = recs["action"]
    book = np.isin(act, [b"A", b"C", b"M", b"R"]) & ~((act == b"C") & (recs["size"] == 0))
    rows = np.flatnonzero(book)
    r = recs[rows]
    ev = np.zeros(len(r), dtype=dtypes.ORDER_EVENT)
    ev["ts_exchange_ns"], ev["ts_recv_ns"] = r["ts_event"], r["ts_recv"]
    ev["order_id"], ev["size"] = r["order_id"], r["size"]
    ev["price"] = np.where(r["action"] == b"R", 0, r["price"])
    ev["side"] = np.select([r["side"] == b"B", r["side"] == b"A"], [1, 2], 0)
    ev["action"] = np.select(
        [r["action"] == b"A", r["action"] == b"C", r["action"] == b"M"],
        [dtypes.ORDER_ADD, dtypes.ORDER_CANCEL, dtypes.ORDER_MODIFY],
        dtypes.ORDER_CLEAR,
    )
    last = (r["flags"] & F_LAST) != 0
    # A boundary on a record without a book effect belongs to the book event
    # before it: the book has not changed since.
    moved = np.flatnonzero(~book & ((recs["flags"] & F_LAST) != 0))
    owner = np.searchsorted(rows, moved) - 1
    last[owner[owner >= 0]] = True
    ev["flags"] = np.where(last, dtypes.F_LAST, 0) | np.where(
        (r["flags"] & F_SNAPSHOT) != 0, dtypes.F_SNAPSHOT, 0
    )
    trades = np.flatnonzero(np.isin(act, [b"T", b"F"]))
    return MboEvents(ev, index[rows].astype(np.int64), index[trades].astype(np.int64))


def mbp_checkpoints(mbo: npt.NDArray[np.void], mbp: npt.NDArray[np.void]) -> npt.NDArray[np.int64]:
    """For each MBP-10 record, the index of the MBO record after which the
    book must show the MBP-10 levels.

    A non-trade MBP-10 record is the book after its MBO twin (same ts_event,
    sequence, action, price and size, found in file order). A trade (T) shows
    the book after every MBO record of the same venue message (same ts_event
    and sequence): when the venue sent the resting order's depletion in that
    message (ITCH: T, F, C) it is already in the MBP-10 record. (Where the
    depletion comes in a later message, as the C or M after CME fills do, the
    rule checks the book before it; only the ITCH case is verified here, on
    the ARL files.) The trade's side may differ between the schemas (ARL's
    MBO says B, its MBP-10 A), so it is not matched. Raises ValueError naming
    the first MBP-10 record without a twin.
    """
    key_mbo = list(zip(mbo["ts_event"].tolist(), mbo["sequence"].tolist(), mbo["action"].tolist(),
                       mbo["price"].tolist(), mbo["size"].tolist()))  # fmt: skip
    group = list(zip(mbo["ts_event"].tolist(), mbo["sequence"].tolist()))
    out = np.empty(len(mbp), dtype=np.int64)
    j = 0
    for i, rec in enumerate(mbp):
        key = (int(rec["ts_event"]), int(rec["sequence"]), bytes(rec["action"]),
               int(rec["price"]), int(rec["size"]))  # fmt: skip
        while j < len(key_mbo) and key_mbo[j] != key:
            j += 1
        if j == len(key_mbo):
            raise ValueError(f"MBP-10 record {i} {key} has no MBO twin after the previous one")
        k = j
        if key[2] == b"T":
            while k + 1 < len(group) and group[k + 1] == group[j]:
                k += 1
        out[i] = k
        j += 1
    return out


def present_levels(levels: npt.NDArray[np.void]) -> npt.NDArray[np.void]:
    """The non-empty DEPTH rows of one side of an MBP-10 record."""
    out: npt.NDArray[np.void] = levels[(levels["price"] != UNDEF_PRICE) & (levels["size"] > 0)]
    return out
