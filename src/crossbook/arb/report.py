"""What `crossbook scan` prints and writes as JSON (its pictures: crossbook.plots)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from crossbook.arb.fees import costs_for
from crossbook.arb.scanner import EventKind, OpportunityEvent
from crossbook.arb.session import ScanRun

__all__ = ["PairSummary", "print_summary", "summarize_pairs", "summary_dict"]


@dataclass(slots=True)
class PairSummary:
    """The opportunities of one ordered pair (buy on ``buy``, sell on ``sell``)."""

    buy: str
    sell: str
    count: int = 0
    outlived_latency: int = 0
    total_ns: int = 0
    max_ns: int = 0
    peak_edge_bps: float = 0.0
    peak_size: int = 0
    size_exp: int = 0
    pnl_at_close: float = 0.0  # sum of each opportunity's last pnl: an upper bound, not a fill
    durations_ns: list[int] = field(default_factory=list)


def summarize_pairs(events: list[OpportunityEvent], min_edge_bps: float = 0.0) -> list[PairSummary]:
    """Closed opportunities per pair, keeping those whose peak edge reached ``min_edge_bps``."""
    out: dict[tuple[str, str], PairSummary] = {}
    for e in events:
        if e.kind is not EventKind.CLOSED or e.peak_edge_bps < min_edge_bps:
            continue
        s = out.setdefault((e.buy, e.sell), PairSummary(e.buy, e.sell,
                                                        size_exp=e.opportunity.size_exp))
        s.count += 1
        s.outlived_latency += e.outlived_latency
        s.total_ns += e.duration_ns
        s.max_ns = max(s.max_ns, e.duration_ns)
        s.peak_edge_bps = max(s.peak_edge_bps, e.peak_edge_bps)
        s.peak_size = max(s.peak_size, e.peak_size)
        s.pnl_at_close += e.opportunity.pnl_float
        s.durations_ns.append(e.duration_ns)
    return sorted(out.values(), key=lambda s: (-s.count, s.buy, s.sell))


def _ms(ns: float) -> str:
    return f"{ns / 1e6:,.1f}"


def _table(title: str) -> Table:
    """A table that reads whole at 100 columns: no side rules, cells wrap, never cut."""
    return Table(title=title, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)


def _book(name: str) -> str:
    """'binance_coinm BTCUSD_PERP' over two lines: venue above symbol."""
    return name.replace(" ", "\n", 1)


def _books_table(run: ScanRun) -> Table:
    t = _table("Books (compared in common units: base-asset size)")
    for col, just in (("book", "left"), ("kind", "left"), ("contract", "left"),
                      ("taker bps", "right"), ("latency ms", "right"), ("state", "left")):
        t.add_column(col, justify=just, overflow="fold", no_wrap=col == "book")  # type: ignore[arg-type]
    states = {f"{r.venue} {r.symbol}": r.state for _, r in run.reports}
    for li in run.listings:
        c = costs_for(li.venue, run.costs)
        contract = (f"inverse, {li.contract_size} quote each" if li.inverse
                    else ("1 base unit" if li.contract_size == 1 else f"{li.contract_size} base"))
        t.add_row(_book(li.name), li.kind, contract, f"{float(c.taker_bps):g}", f"{c.latency_ms:g}",
                  states.get(li.name, "-"))
    return t


def _pairs_table(run: ScanRun, pairs: list[PairSummary], min_edge_bps: float) -> Table:
    t = _table(f"Opportunities after taker fees (peak edge >= {min_edge_bps:g} bps)")
    for col in ("buy on", "sell on", "count", "outlived\nlatency", "median\nms", "max ms",
                "peak edge\nbps", "peak\nsize", "closest\nedge bps"):
        t.add_column(col, justify="left" if col in ("buy on", "sell on") else "right",
                     overflow="fold", no_wrap=col in ("buy on", "sell on"))
    by_pair = {(p.buy, p.sell): p for p in pairs}
    for key, touch in sorted(run.touches.items()):
        p = by_pair.get(key)
        closest = f"{touch.best_edge_bps:+.2f}" if touch.checks else "-"
        if p is None:
            t.add_row(*map(_book, key), "0", "-", "-", "-", "-", "-", closest)
            continue
        d = sorted(p.durations_ns)
        t.add_row(*map(_book, key), f"{p.count:,}", f"{p.outlived_latency:,}", _ms(d[len(d) // 2]),
                  _ms(p.max_ns), f"{p.peak_edge_bps:.2f}",
                  f"{p.peak_size / 10**p.size_exp:g}", closest, style="green")
    return t


def _basis_table(run: ScanRun) -> Table:
    size = next((b.size / 10**b.size_exp for b in run.basis if b.size), None)
    t = _table("Basis: derivative vs spot, bps of spot (negative: derivative cheaper)")
    for col in ("spot", "derivative", "samples", "mid\nmean", "time\nmean", "min", "max", "last",
                f"sell deriv\nbuy spot\nsize {size:g}" if size else "sell deriv\nbuy spot",
                f"buy deriv\nsell spot\nsize {size:g}" if size else "buy deriv\nsell spot"):
        t.add_column(col, justify="left" if col in ("spot", "derivative") else "right",
                     overflow="fold", no_wrap=col in ("spot", "derivative"))
    def fmt(stats: dict[str, float | int | None], k: str) -> str:
        v = stats.get(k)
        return "-" if v is None else f"{v:+.2f}"

    for b in run.basis:
        s = b.stats()

        def f(k: str, s: dict[str, float | int | None] = s) -> str:
            return fmt(s, k)

        t.add_row(_book(b.spot), _book(b.perp), f"{len(b):,}", f("basis_bps_mean"), f("basis_bps_time_mean"),
                  f("basis_bps_min"), f("basis_bps_max"), f("basis_bps_last"),
                  f("sell_perp_bps_mean"), f("buy_perp_bps_mean"))
    return t


def print_summary(run: ScanRun, console: Console, min_edge_bps: float = 0.0) -> None:
    pairs = summarize_pairs(run.events, min_edge_bps)
    console.print(_books_table(run))
    console.print(_pairs_table(run, pairs, min_edge_bps))
    if run.basis:
        console.print(_basis_table(run))
    span = (run.last_ns - run.first_ns) / 1e9
    n = sum(p.count for p in pairs)
    console.print(f"{run.records:,} records over {span:,.1f} s; {n:,} opportunities after fees "
                  f"on {len(pairs)} of {len(run.touches)} ordered pairs.")
    touched = [t for t in run.touches.values() if t.checks]
    if n == 0 and touched:
        best = max(touched, key=lambda t: t.best_edge_bps)
        console.print(
            f"None crossed after fees: the closest was buying on {best.buy} and selling on "
            f"{best.sell}, {best.best_edge_bps:+.2f} bps after both taker fees at the touch.")
    for s in run.skipped:
        console.print(f"[yellow]skipped[/yellow] {s}")


def summary_dict(run: ScanRun, min_edge_bps: float = 0.0) -> dict[str, Any]:
    pairs = summarize_pairs(run.events, min_edge_bps)
    keep = {(p.buy, p.sell) for p in pairs}
    peaks = _peaks(run.events)
    return {
        "records": run.records, "first_ns": run.first_ns, "last_ns": run.last_ns,
        "min_edge_bps": min_edge_bps,
        "units": {a: {"price_exp": u.price_exp, "size_exp": u.size_exp}
                  for a, u in run.units.items()},
        "books": [{"name": li.name, "asset": li.asset, "kind": li.kind, "inverse": li.inverse,
                   "contract_size": str(li.contract_size)} for li in run.listings],
        "pairs": [{"buy": p.buy, "sell": p.sell, "count": p.count,
                   "outlived_latency": p.outlived_latency, "total_ms": p.total_ns / 1e6,
                   "max_ms": p.max_ns / 1e6, "peak_edge_bps": p.peak_edge_bps,
                   "peak_size": p.peak_size, "size_exp": p.size_exp} for p in pairs],
        "closest": [{"buy": t.buy, "sell": t.sell, "best_edge_bps": t.best_edge_bps
                     if t.checks else None, "at_ns": t.at_ns, "checks": t.checks}
                    for t in run.touches.values()],
        "basis": [{"spot": b.spot, "derivative": b.perp, "size": b.size, "size_exp": b.size_exp,
                   **b.stats()} for b in run.basis],
        # Every event of each opportunity that peaked at min_edge_bps, so lifetimes stay whole.
        "events": [e.as_dict() for e in run.events
                   if (e.buy, e.sell) in keep
                   and peaks[(e.buy, e.sell, e.open_ts_ns)] >= min_edge_bps],
        "skipped": run.skipped, "errors": run.errors,
    }


def _peaks(events: list[OpportunityEvent]) -> dict[tuple[str, str, int], float]:
    """Peak edge of each opportunity, keyed by (buy, sell, open time)."""
    peaks: dict[tuple[str, str, int], float] = defaultdict(float)
    for e in events:
        k = (e.buy, e.sell, e.open_ts_ns)
        peaks[k] = max(peaks[k], e.peak_edge_bps)
    return peaks
