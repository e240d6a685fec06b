"""One fault-injection suite over (venue, capture, fault), run through Replay as
`crossbook verify` runs it.

Each fault is made in a real capture at one live delta of its busiest book, a
delta that moved the top of the book (so it lies inside any checksum window):

    drop          the frame is lost
    duplicate     the frame arrives twice in a row
    swap          the frame and the next delta of the same book arrive reversed
    corrupt_size  one size of the frame, at the top of the book, is off by one unit (in the
                  parsed message: each venue writes sizes its own way; the venue tests also
                  corrupt the text of checksum venues' frames)
    corrupt_seq   the frame's sequence id, in its text, is raised by 10**9 (Coinbase: its
                  exchange time by a year)

A detected fault is a gap, a checksum mismatch or a resync reported for that book,
and the book is never served out of step: at the end it is either withheld or
equal to the clean replay's book. A duplicate on a sequenced venue is dropped as
stale and the book stays right. What a venue's protocol cannot see is listed in
UNDETECTABLE, and a test shows that it indeed goes unseen (so the list stays true).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import numpy as np
import pytest

from crossbook.io.capture import CaptureRecord
from crossbook.messages import BookMessage, Kind, Message
from crossbook.replay import BookReport, Replay, open_capture
from crossbook.sync import BookNotSynced, Reason
from crossbook.venues.base import VenueParser
from crossbook.venues.registry import make_parser

from ._venue_kit import CAPTURES, book_rows, drop, duplicate, need, swap

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "crossbook" / "data"
_PREFIX_RECORDS = 1000
_SEQ_BUMP = 10**9


class Venue(NamedTuple):
    """What a venue's protocol carries: how its ids chain, and a checksum or not."""

    seq: str  # "chain": every frame names its place (a lost one shows); "rising": ids only rise; "": none
    seq_at: bytes | None  # where the id is in a frame: a regex whose group 1 is the id
    checksum: bool
    seq_bump: int = _SEQ_BUMP


VENUES: dict[str, Venue] = {
    "binance": Venue("chain", rb'"u":(\d+)', False),  # U <= previous u + 1 <= u
    "binance_usdm": Venue("chain", rb'"u":(\d+)', False),  # pu = previous u
    "binance_coinm": Venue("chain", rb'"u":(\d+)', False),
    "bitfinex": Venue("chain", rb',(\d+)\]$', False),  # SEQ_ALL: one counter for the connection
    "deribit": Venue("chain", rb'[{,]"change_id":(\d+)', False),  # prev_change_id
    "gateio": Venue("chain", rb'"u":(\d+)', False),  # U/u
    "kucoin": Venue("chain", rb'"sequenceEnd":(\d+)', False),  # sequenceStart/End
    "kraken_futures": Venue("chain", rb'"seq":(\d+)', False),  # seq + 1
    "bybit_legacy": Venue("rising", rb'"cross_seq":"?(\d+)', False),  # not contiguous
    "dydx_v3": Venue("rising", rb'"message_id":(\d+)', False),  # connection-wide
    "bitstamp": Venue("rising", rb'"microtimestamp":"(\d+)"', False),
    "coinbase": Venue("rising", rb'"time":"(\d{4})-', False, 1),  # exchange time only: a year later
    "kraken": Venue("", None, True),  # CRC32 of the top 10
    "okx": Venue("", None, True),  # the 2022 capture predates seqId: CRC32 of the top 25
    "bitget": Venue("", None, True),  # CRC32 of the top 25
    "bitmex": Venue("", None, False),
    "gemini": Venue("", None, False),
    "huobi": Venue("", None, False),  # every frame a whole book
    "huobi_swap": Venue("", None, False),
    "hyperliquid": Venue("", None, False),  # every frame a whole book
}

#: Venues with a parser but no capture to inject faults into (their unit tests cover the rules).
NO_CAPTURE = ("bybit", "coinbase_advanced", "dydx_v4", "gateio_obu", "kraken_v2")

CAPTURE_FILES = [
    *(BUNDLED / f"binance_{s}_20240808_slice.cap.gz" for s in ("spot_btcusdt", "usdm_btcusdt", "coinm_btcusd_perp")),
    *(CAPTURES / p for p in (
        "binance/binance_spot_2021.cap.gz", "binance/binance_usdm_2021.cap.gz",
        "bitfinex/bitfinex_book_p0.cap.gz", "bitget/bitget_spot.cap.gz", "bitmex/bitmex_l2.cap.gz",
        "bitstamp/bitstamp_diff.cap.gz", "bybit/bybit_legacy_l2_25_a.cap.gz", "coinbase/coinbase.cap.gz",
        "deribit/deribit_options.cap.gz", "dydx/dydx_v3_orderbook.cap.gz", "gateio/gateio_spot.cap.gz",
        "gemini/gemini_l2.cap.gz", "huobi/huobi_depth.cap.gz", "huobi/huobi_swap_depth.cap.gz",
        "hyperliquid/hyperliquid_btcusd_20250126.cap.gz", "kraken/kraken_book_v1_2021.cap.gz",
        "kraken_futures/kraken_futures_book.cap.gz", "kucoin/kucoin_level2.cap.gz", "okx/okx.cap.gz")),
]

FAULTS = ("drop", "duplicate", "swap", "corrupt_size", "corrupt_seq")


def _detectable(v: Venue, fault: str) -> bool:
    return {
        "drop": v.seq == "chain" or v.checksum,
        "duplicate": bool(v.seq) or v.checksum,  # dropped as stale, or harmless: sizes are absolute
        "swap": bool(v.seq) or v.checksum,
        "corrupt_size": v.checksum,
        "corrupt_seq": bool(v.seq),
    }[fault]


#: (venue, fault) the protocol cannot see, with what happens instead.
UNDETECTABLE: dict[tuple[str, str], str] = {
    (venue, fault): ("the next id still rises: the lost levels stay in the book"
                     if v.seq == "rising" and fault == "drop" else
                     "no sequence and no checksum" if not v.seq and not v.checksum else
                     "no checksum: a wrong size is served" if fault == "corrupt_size" else
                     "no sequence")
    for venue, v in VENUES.items() for fault in FAULTS if not _detectable(v, fault)
}


class Trace(NamedTuple):
    """The clean replay of a capture prefix and the fault's targets in it."""

    venue: str
    records: list[CaptureRecord]
    symbol: str
    target: int  # a live delta (a snapshot where the stream has only those) that moved the top
    partner: int  # the next one of the same book
    snapshots_only: bool
    snapshot: int  # the record of the book's first snapshot
    clean: BookReport
    clean_book: Any


def _prefix(path: Path) -> tuple[VenueParser, list[CaptureRecord]]:
    parser, records = open_capture(need(path))
    return parser, list(itertools.islice(records, _PREFIX_RECORDS))


@functools.cache
def trace(path: Path) -> Trace:
    parser, recs = _prefix(path)
    replay = Replay(parser)
    live: dict[Kind, dict[str, list[tuple[int, bool]]]] = {Kind.DELTA: {}, Kind.SNAPSHOT: {}}
    first_snapshot: dict[str, int] = {}
    for i, rec in enumerate(recs):  # live: (record index, moved the top) per symbol
        before = {s: (y.synced, y.stats.messages, y.stats.resyncs, y.book.bbo() if y.synced else None)
                  for s, y in replay.syncs.items()}
        books = [m for m in replay.feed(rec) if isinstance(m, BookMessage)]
        for m in books:
            if m.kind is Kind.SNAPSHOT:
                first_snapshot.setdefault(m.symbol, i)
        if len(books) != 1 or books[0].kind not in live or books[0].symbol not in before:
            continue
        s, y = books[0].symbol, replay.syncs[books[0].symbol]
        was_synced, msgs, resyncs, bbo = before[s]
        if was_synced and y.synced and (y.stats.messages, y.stats.resyncs) == (msgs + 1, resyncs):
            live[books[0].kind].setdefault(s, []).append((i, y.book.bbo() != bbo))
    snapshots_only = not live[Kind.DELTA]
    by_symbol = live[Kind.SNAPSHOT if snapshots_only else Kind.DELTA]
    symbol = max(by_symbol, key=lambda s: len(by_symbol[s]))
    deltas = by_symbol[symbol]
    assert len(deltas) >= 8, f"{path.name}: too few live deltas to inject a fault into"
    at = next(n for n, (_, moved) in enumerate(deltas) if moved and n >= 5 and n + 4 < len(deltas))
    # The replays stop a few frames of the book after the fault: enough for it to show.
    recs = recs[:deltas[at + 4][0] + 1]
    clean = Replay(make_parser(parser.venue))
    for rec in recs:
        clean.feed(rec)
    return Trace(parser.venue, recs, symbol, deltas[at][0], deltas[at + 1][0], snapshots_only,
                 first_snapshot[symbol], _report(clean, symbol), book_rows(clean.syncs[symbol].book))


class _Tampering:
    """The venue's parser, except that the messages of one record are changed: the
    record's bytes stay those of the capture, as a corrupted field would be read."""

    def __init__(self, parser: VenueParser, target: bytes, change: Callable[[BookMessage], BookMessage]) -> None:
        self._parser, self._target, self._change = parser, target, change

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)

    def parse(self, frame: bytes, recv_ns: int) -> list[Message]:
        out = self._parser.parse(frame, recv_ns)
        if frame is self._target:
            out = [self._change(m) if isinstance(m, BookMessage) else m for m in out]
        return out


def bump_seq(rec: CaptureRecord, v: Venue) -> CaptureRecord:
    """The record with its sequence id raised, in its own text."""
    assert v.seq_at is not None
    m = re.search(v.seq_at, rec.payload)
    assert m is not None, (v.seq_at, rec.payload[:200])
    bad = rec.payload[:m.start(1)] + b"%d" % (int(m[1]) + v.seq_bump) + rec.payload[m.end(1):]
    return CaptureRecord(rec.recv_ns, rec.kind, bad, rec.url, rec.line_no)


def _top_size_plus_one(m: BookMessage) -> BookMessage:
    lv = m.levels.copy()
    sized = np.flatnonzero(lv["size"] > 0)
    lv["size"][sized[0] if sized.size else 0] += 1  # a removal made an addition of one unit
    return msgspec.structs.replace(m, levels=lv)


def faulted(t: Trace, fault: str) -> Replay:
    parser, recs = make_parser(t.venue), list(t.records)
    k = t.target
    if fault == "drop":
        recs = drop(recs, k)
    elif fault == "duplicate":
        recs = duplicate(recs, k)
    elif fault == "swap":
        recs = swap(recs, k, t.partner)
    elif fault == "corrupt_size":
        parser = _Tampering(parser, recs[k].payload, _top_size_plus_one)  # type: ignore[assignment]
    else:
        recs[k] = bump_seq(recs[k], VENUES[t.venue])
    replay = Replay(parser)
    for rec in recs:
        replay.feed(rec)
    return replay


def _report(replay: Replay, symbol: str) -> BookReport:
    (r,) = [x for x in replay.finish() if x.symbol == symbol]
    return r


def _seen(t: Trace, r: BookReport) -> bool:
    c = t.clean
    return r.gaps > c.gaps or r.checksums_failed > c.checksums_failed or r.resyncs > c.resyncs


def _cases() -> list[Any]:
    out = []
    for path in CAPTURE_FILES:
        venue = path.name.split(".")[0]
        for fault in FAULTS:
            out.append(pytest.param(path, fault, id=f"{venue}-{fault}"))
    return out


@pytest.mark.parametrize(("path", "fault"), _cases())
def test_fault_is_detected_or_listed_as_undetectable(path: Path, fault: str) -> None:
    t = trace(path)
    v = VENUES[t.venue]
    if fault == "corrupt_seq" and not v.seq:
        assert v.seq_at is None and (t.venue, fault) in UNDETECTABLE  # no id to corrupt
        return
    replay = faulted(t, fault)
    r = _report(replay, t.symbol)
    sync = replay.syncs[t.symbol]
    right = book_rows(sync.book) == t.clean_book
    if t.snapshots_only:  # the next whole book heals any fault in the middle of the stream
        assert right and r.state == t.clean.state
    if fault == "duplicate":
        assert not _seen(t, r) and right and r.state == t.clean.state
        if v.seq and t.venue != "coinbase":  # an equal exchange time is not refused: an older one is
            assert r.stale_dropped == t.clean.stale_dropped + 1
        return
    if (t.venue, fault) in UNDETECTABLE:
        assert not _seen(t, r), (f"{t.venue} now detects {fault} ({UNDETECTABLE[t.venue, fault]}): "
                                 "move it out of UNDETECTABLE")
        return
    assert _seen(t, r), (f"{t.venue} {t.symbol}: {fault} at record {t.target} went unseen; "
                         f"state {r.state}, {r.stale_dropped - t.clean.stale_dropped} more stale drops than clean")
    assert r.resyncs == t.clean.resyncs + 1, "one fault, one resync"
    assert {e.reason for e in r.events} & {Reason.GAP, Reason.CHECKSUM_MISMATCH}
    # A book out of step is never served: withheld, or rebuilt from a later snapshot.
    if sync.synced:
        assert right, f"{t.venue} {t.symbol} {fault}: synced but not the clean book"
    else:
        assert len(sync.book) == 0
        with pytest.raises(BookNotSynced):
            sync.view()
        if sync.rule.snapshot_source == "stream":  # a resubscription's snapshot rebuilds the book
            snap = t.records[t.snapshot]
            replay.feed(CaptureRecord(t.records[-1].recv_ns + 1, snap.kind, snap.payload, snap.url, snap.line_no))
            assert sync.synced and sync.view().check_invariants() is None


def test_every_venue_is_classified() -> None:
    from crossbook.venues.registry import venues

    assert set(venues()) == set(VENUES) | set(NO_CAPTURE)
