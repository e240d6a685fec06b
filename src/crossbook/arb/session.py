"""The engine behind `crossbook scan`: captures of several venues replayed as one
stream, in receive-time order, through sync, unit conversion, the scanner and
the basis collectors.

The captures share one local clock, so a k-way merge on the receive time
interleaves them as they were received. Books are grouped by the asset their
listing declares (``Listing.asset``); only books of one group are compared.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from crossbook.arb import compiled
from crossbook.arb.basis import BasisCollector, BasisSeries
from crossbook.arb.fees import FEE_DENOMINATOR, VenueCosts, costs_for
from crossbook.arb.scanner import OpportunityEvent, ScanCore, ScanCoreLike
from crossbook.arb.stream import Scanner
from crossbook.arb.units import CommonUnits, Listing, common_units, default_listing
from crossbook.io.capture import CaptureFormatError, CaptureRecord, RecordKind
from crossbook.messages import BookMessage, Instrument, Kind, Message
from crossbook.replay import BookReport, Replay, open_capture
from crossbook.sync import BookSync
from crossbook.venues.base import ParseError
from crossbook.venues.registry import make_parser

__all__ = [
    "MidSeries",
    "PairTouch",
    "ScanRun",
    "ScanSettings",
    "discover_instruments",
    "merged_records",
    "run_scan",
]

_PRESCAN_RECORDS = 5000
_D = FEE_DENOMINATOR


@dataclass(frozen=True, slots=True)
class ScanSettings:
    costs: Mapping[str, VenueCosts] = field(default_factory=dict)  # overrides of the defaults
    max_age_ms: float | None = 1000.0
    basis_size: str | None = "1"  # base units for the executable basis (decimal text)
    max_size: str | None = None  # base units; caps every opportunity
    listings: Mapping[tuple[str, str], Listing] = field(default_factory=dict)  # declared ones
    #: "python" (crossbook.arb.scanner.ScanCore), "compiled" (the C++ ArbScanner), or
    #: "auto": the C++ ArbScanner when crossbook._core has it, else the Python twin.
    #: Both give the same events (tests/arb/test_compiled.py compares them).
    core: str = "auto"


@dataclass(slots=True)
class MidSeries:
    """A book's mid (real units, float) after each of its updates, for plots."""

    name: str
    ts_recv_ns: list[int] = field(default_factory=list)
    mid: list[float] = field(default_factory=list)

    def arrays(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        return np.asarray(self.ts_recv_ns, np.int64), np.asarray(self.mid, np.float64)


@dataclass(slots=True)
class PairTouch:
    """The closest a pair came to an opportunity: the best top-of-book edge after
    both taker fees (bps of the ask), over every moment both books were usable."""

    buy: str
    sell: str
    best_edge_bps: float = -np.inf
    at_ns: int = 0
    checks: int = 0


@dataclass(slots=True)
class ScanRun:
    """Everything a scan found."""

    listings: list[Listing]
    costs: dict[str, VenueCosts]  # the overrides in force (defaults for the other venues)
    units: dict[str, CommonUnits]  # by asset
    scanners: dict[str, Scanner]
    events: list[OpportunityEvent]
    basis: list[BasisSeries]
    mids: dict[str, MidSeries]
    touches: dict[tuple[str, str], PairTouch]
    reports: list[tuple[str, BookReport]]
    errors: list[str]
    skipped: list[str]
    records: int
    first_ns: int
    last_ns: int


def merged_records(
        streams: Sequence[Iterator[CaptureRecord]]) -> Iterator[tuple[int, CaptureRecord]]:
    """(stream index, record) of every stream, in receive-time order (ties: lower index)."""
    def tag(i: int, s: Iterator[CaptureRecord]) -> Iterator[tuple[int, int, CaptureRecord]]:
        return ((rec.recv_ns, i, rec) for rec in s)

    for _, i, rec in heapq.merge(*(tag(i, s) for i, s in enumerate(streams))):
        yield i, rec


def discover_instruments(venue: str, records: Iterator[CaptureRecord],
                         limit: int = _PRESCAN_RECORDS) -> list[Instrument]:
    """The instruments a fresh parser of ``venue`` learns from the first records: the
    exponents the replay itself will infer (the same first messages decide them), known
    before the replay so that every book of an asset can share common units."""
    probe = make_parser(venue)
    ticks: dict[str, int] = {}
    for rec in itertools.islice(records, limit):
        try:
            if rec.kind is RecordKind.FRAME:
                msgs = probe.parse(rec.payload, rec.recv_ns)
            elif rec.kind is RecordKind.REST:
                msgs = probe.parse_rest(rec.url or "", rec.payload, rec.recv_ns)
            else:
                continue
        except (ParseError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            continue  # the replay reports it
        for m in msgs:
            # The books' ladder hint, learnt as the sync layer does (the grid of a snapshot).
            if isinstance(m, BookMessage) and m.kind is Kind.SNAPSHOT and len(m.levels) >= 8:
                ticks.setdefault(m.symbol, int(np.gcd.reduce(m.levels["price"])))
    return [i if i.tick is not None or ticks.get(i.symbol, 0) < 2
            else replace(i, tick=ticks[i.symbol]) for i in probe.instruments]


class _Group:
    """One asset's scanner, its basis collectors and the bookkeeping for the summary."""

    def __init__(self, asset: str, units: CommonUnits, settings: ScanSettings,
                 mids: dict[str, MidSeries], touches: dict[tuple[str, str], PairTouch]) -> None:
        self.asset, self.units, self.settings = asset, units, settings
        max_size = (None if settings.max_size is None
                    else _mantissa(settings.max_size, units.size_exp))
        self.scanner = Scanner(units, costs=settings.costs, max_age_ms=settings.max_age_ms,
                               max_size=max_size, on_update=self._on_update,
                               core_factory=_core_factory(settings.core))
        self.basis_size = (None if settings.basis_size is None
                           else _mantissa(settings.basis_size, units.size_exp))
        self.collectors: list[tuple[int, int, BasisCollector]] = []
        self.mids, self.touches = mids, touches

    def add(self, listing: Listing, inst: Instrument, tick: int) -> None:
        i = self.scanner.add(listing, inst.price_exp, inst.size_exp, tick)
        self.mids[listing.name] = MidSeries(listing.name)
        for j, other in enumerate(self.scanner.listings[:-1]):
            spot, deriv = (j, i) if other.kind == "spot" else (i, j)
            if "spot" in (other.kind, listing.kind) and other.kind != listing.kind:
                names = self.scanner.listings[spot].name, self.scanner.listings[deriv].name
                self.collectors.append(
                    (spot, deriv, BasisCollector(*names, self.basis_size, self.units.size_exp)))
            for b, s in ((i, j), (j, i)):
                key = (self.scanner.listings[b].name, self.scanner.listings[s].name)
                self.touches[key] = PairTouch(*key)

    def _on_update(self, i: int, ts: int) -> None:
        sc = self.scanner
        book = sc.book(i)
        if book is not None and (mid := book.mid()) is not None:
            m = self.mids[sc.listings[i].name]
            m.ts_recv_ns.append(ts)
            m.mid.append(mid * 10.0 ** -self.units.price_exp)
        for spot, deriv, c in self.collectors:
            if i in (spot, deriv):
                c.sample(ts, sc.book(spot), sc.book(deriv))
        if book is not None:
            self._touch(i, ts)

    def _touch(self, i: int, ts: int) -> None:
        sc = self.scanner
        bid_i, ask_i = sc.core.book(i).bbo()
        fee_i = sc.core.fee_cbps(i)
        for j in range(len(sc.listings)):
            if j == i or sc.book(j) is None:
                continue
            bid_j, ask_j = sc.core.book(j).bbo()
            fee_j = sc.core.fee_cbps(j)
            for (b, ask, fb), (s, bid, fs) in (((i, ask_i, fee_i), (j, bid_j, fee_j)),
                                               ((j, ask_j, fee_j), (i, bid_i, fee_i))):
                if ask is None or bid is None or ask[0] == 0:
                    continue
                edge = (bid[0] * (_D - fs) - ask[0] * (_D + fb)) / (ask[0] * 100)
                t = self.touches[(sc.listings[b].name, sc.listings[s].name)]
                t.checks += 1
                if edge > t.best_edge_bps:
                    t.best_edge_bps, t.at_ns = edge, ts


def _core_factory(name: str) -> Callable[[int, int, int | None, int | None], ScanCoreLike]:
    if name == "python" or (name == "auto" and not compiled.available()):
        return ScanCore
    if name == "compiled" and not compiled.available():
        raise ValueError("this build of crossbook._core has no ArbScanner; use --core python")
    if name in ("compiled", "auto"):
        return compiled.CompiledScanCore
    raise ValueError(f"core must be auto, python or compiled, got {name!r}")


def _mantissa(text: str, exp: int) -> int:
    from crossbook.fixedpoint import parse_fixed_py

    v = parse_fixed_py(text, exp)
    if v <= 0:
        raise ValueError(f"size must be > 0, got {text!r}")
    return v


class _Session:
    def __init__(self, settings: ScanSettings, prescanned: list[Instrument]) -> None:
        self.settings = settings
        self.groups: dict[str, _Group] = {}
        self.mids: dict[str, MidSeries] = {}
        self.touches: dict[tuple[str, str], PairTouch] = {}
        self.listings: list[Listing] = []
        self.skipped: list[str] = []
        self._seen: set[tuple[str, str]] = set()
        self._asset: dict[tuple[str, str], str] = {}
        self._units = self._plan(prescanned)
        # Every book known before the replay is registered before it: the compiled core's
        # set of books is fixed at its first event.
        for inst in prescanned:
            if (inst.venue, inst.symbol) not in self._seen:
                self._seen.add((inst.venue, inst.symbol))
                self._register(inst, inst.tick or 1)

    def _listing(self, inst: Instrument) -> Listing:
        return self.settings.listings.get((inst.venue, inst.symbol)) or default_listing(inst)

    def _plan(self, insts: list[Instrument]) -> dict[str, CommonUnits]:
        by_asset: dict[str, list[tuple[Listing, int, int]]] = {}
        for inst in insts:
            by_asset.setdefault(self._listing(inst).asset, []).append(
                (self._listing(inst), inst.price_exp, inst.size_exp))
        return {a: common_units(items) for a, items in by_asset.items()}

    def on_message(self, msg: Message, sync: BookSync | None) -> None:
        if isinstance(msg, BookMessage) and sync is not None:
            key = (msg.venue, msg.symbol)
            if key not in self._seen:
                self._seen.add(key)
                self._register(sync.instrument, sync.book.tick)
            asset = self._asset.get(key)
            if asset is not None:
                self.groups[asset].scanner.on_message(msg, sync)

    def _register(self, inst: Instrument, tick: int) -> None:
        listing = self._listing(inst)
        units = self._units.get(listing.asset) or common_units([(listing, inst.price_exp,
                                                                 inst.size_exp)])
        group = self.groups.get(listing.asset)
        if group is None:
            group = self.groups[listing.asset] = _Group(listing.asset, units, self.settings,
                                                        self.mids, self.touches)
        try:
            costs_for(listing.venue, self.settings.costs)
            group.add(listing, inst, tick)
        except (KeyError, ValueError, RuntimeError) as exc:
            self.skipped.append(f"{listing.name}: {exc}")
            return
        self._asset[(inst.venue, inst.symbol)] = listing.asset
        self.listings.append(listing)


def run_scan(paths: Sequence[str | Path], settings: ScanSettings | None = None, *,
             venue: str | None = None,
             on_progress: Callable[[int], None] | None = None) -> ScanRun:
    """Replays the captures merged in receive order through the scanner. Captures of
    one venue share a parser and books (a recording split into files continues)."""
    settings = settings or ScanSettings()
    opened = [open_capture(p, venue) for p in paths]
    prescanned: list[Instrument] = []
    for path, (parser, _) in zip(paths, opened, strict=True):
        prescanned += discover_instruments(parser.venue, open_capture(path, parser.venue)[1])
    session = _Session(settings, prescanned)
    replays: dict[str, Replay] = {}
    files: dict[str, list[str]] = {}
    owner: list[Replay] = []
    for path, (parser, _) in zip(paths, opened, strict=True):
        if parser.venue not in replays:
            replays[parser.venue] = Replay(parser, on_message=session.on_message)
            files[parser.venue] = []
        files[parser.venue].append(Path(path).name)
        owner.append(replays[parser.venue])
    errors: list[str] = []
    count, first, last = 0, 0, 0
    try:
        for count, (i, rec) in enumerate(merged_records([r for _, r in opened]), 1):
            first = first or rec.recv_ns
            last = rec.recv_ns
            owner[i].feed(rec)
            if on_progress is not None and count % 5000 == 0:
                on_progress(count)
    except CaptureFormatError as exc:
        errors.append(str(exc))  # the books up to the damage are still worth reporting
    events: list[OpportunityEvent] = []
    for g in session.groups.values():
        g.scanner.finish(last)
        events += g.scanner.events
    events.sort(key=lambda e: e.ts_ns)  # stable: each scanner's own order is kept
    reports = [(" + ".join(files[v]), r) for v, rp in replays.items() for r in rp.finish()]
    errors += [f"{v}: {e}" for v, rp in replays.items() for e in rp.parse_errors]
    groups = session.groups
    return ScanRun(session.listings, dict(settings.costs), {a: g.units for a, g in groups.items()},
                   {a: g.scanner for a, g in groups.items()}, events,
                   [c.result() for g in groups.values() for _, _, c in g.collectors],
                   session.mids, session.touches, reports, errors, session.skipped, count,
                   first, last)
