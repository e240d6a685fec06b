"""What `crossbook scan` prints, writes as JSON and draws."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from crossbook.arb.fees import costs_for
from crossbook.arb.scanner import EventKind, OpportunityEvent
from crossbook.arb.session import ScanRun

__all__ = ["PairSummary", "plot_scan", "print_summary", "summarize_pairs", "summary_dict"]


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


def _books_table(run: ScanRun) -> Table:
    t = Table(title="Books (compared in common units: base-asset size)", header_style="bold")
    for col, just in (("book", "left"), ("kind", "left"), ("contract", "left"),
                      ("taker bps", "right"), ("latency ms", "right"), ("state", "left")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    states = {f"{r.venue} {r.symbol}": r.state for _, r in run.reports}
    for li in run.listings:
        c = costs_for(li.venue, run.costs)
        contract = (f"inverse, {li.contract_size} quote each" if li.inverse
                    else ("1 base unit" if li.contract_size == 1 else f"{li.contract_size} base"))
        t.add_row(li.name, li.kind, contract, f"{float(c.taker_bps):g}", f"{c.latency_ms:g}",
                  states.get(li.name, "-"))
    return t


def _pairs_table(run: ScanRun, pairs: list[PairSummary], min_edge_bps: float) -> Table:
    t = Table(title=f"Opportunities after taker fees (peak edge >= {min_edge_bps:g} bps)",
              header_style="bold")
    for col in ("buy on", "sell on", "count", "outlived latency", "median ms", "max ms",
                "peak edge bps", "peak size", "closest top-of-book edge bps"):
        t.add_column(col, justify="left" if col in ("buy on", "sell on") else "right")
    by_pair = {(p.buy, p.sell): p for p in pairs}
    for key, touch in sorted(run.touches.items()):
        p = by_pair.get(key)
        closest = f"{touch.best_edge_bps:+.2f}" if touch.checks else "-"
        if p is None:
            t.add_row(*key, "0", "-", "-", "-", "-", "-", closest)
            continue
        d = sorted(p.durations_ns)
        t.add_row(*key, f"{p.count:,}", f"{p.outlived_latency:,}", _ms(d[len(d) // 2]),
                  _ms(p.max_ns), f"{p.peak_edge_bps:.2f}",
                  f"{p.peak_size / 10**p.size_exp:g}", closest, style="green")
    return t


def _basis_table(run: ScanRun) -> Table:
    size = next((b.size / 10**b.size_exp for b in run.basis if b.size), None)
    t = Table(title="Basis: derivative vs spot, bps of spot (negative: derivative cheaper)",
              header_style="bold")
    for col in ("spot", "derivative", "samples", "mid mean", "time mean", "min", "max", "last",
                f"sell deriv/buy spot {size:g}" if size else "sell deriv/buy spot",
                f"buy deriv/sell spot {size:g}" if size else "buy deriv/sell spot"):
        t.add_column(col, justify="left" if col in ("spot", "derivative") else "right")
    def fmt(stats: dict[str, float | int | None], k: str) -> str:
        v = stats.get(k)
        return "-" if v is None else f"{v:+.2f}"

    for b in run.basis:
        s = b.stats()

        def f(k: str, s: dict[str, float | int | None] = s) -> str:
            return fmt(s, k)

        t.add_row(b.spot, b.perp, f"{len(b):,}", f("basis_bps_mean"), f("basis_bps_time_mean"),
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


def plot_scan(run: ScanRun, path: str | Path, title: str | None = None) -> Path:
    """Mids of every book with each opportunity's opening marked (on the buy book: ^,
    on the sell book: v), each pair's opportunities as bars over time, and the basis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    closed = [e for e in run.events if e.kind is EventKind.CLOSED]
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(12, 9), sharex=True,
                                        gridspec_kw={"height_ratios": [3, 1, 2]})
    colors = _plot_mids(ax1, run, closed)
    ax1.set_title(title or (f"{len(closed)} opportunities after taker fees" if closed else
                            "no opportunity after taker fees"))
    _plot_lifetimes(ax2, run, closed, colors)
    _plot_basis(ax3, run)
    ax3.set_xlabel("seconds since the first record")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _plot_mids(ax: Any, run: ScanRun, closed: list[OpportunityEvent]) -> dict[str, Any]:
    import numpy as np

    t0, colors = run.first_ns, {}
    series = {name: m.arrays() for name, m in run.mids.items()}
    for name, (ts, mid) in series.items():
        if len(ts):
            (line,) = ax.step((ts - t0) / 1e9, mid, where="post", lw=0.9, label=name)
            colors[name] = line.get_color()
    for book, marker in (("buy", "^"), ("sell", "v")):
        xs, ys = [], []
        for e in closed:
            ts, mid = series.get(getattr(e, book), (np.zeros(0, np.int64), np.zeros(0)))
            k = int(np.searchsorted(ts, e.open_ts_ns, side="right")) - 1
            if k >= 0:
                xs.append((e.open_ts_ns - t0) / 1e9)
                ys.append(mid[k])
        if xs:
            ax.scatter(xs, ys, marker=marker, s=36, color="k", zorder=3,
                       label=f"opportunity opens ({book} book)")
    ax.set_ylabel("mid (quote per base)")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return colors


def _plot_lifetimes(ax: Any, run: ScanRun, closed: list[OpportunityEvent],
                    colors: dict[str, Any]) -> None:
    pairs = sorted({(e.buy, e.sell) for e in closed})
    for row, (buy, sell) in enumerate(pairs):
        spans = [((e.open_ts_ns - run.first_ns) / 1e9, max(e.duration_ns / 1e9, 0.05))
                 for e in closed if (e.buy, e.sell) == (buy, sell)]
        ax.broken_barh(spans, (row - 0.35, 0.7), color=colors.get(buy, "tab:red"), alpha=0.8)
    ax.set_yticks(range(len(pairs)), [f"buy {b}\nsell {s}" for b, s in pairs], fontsize=7)
    if not pairs:
        ax.set_yticks([])
        text = "no opportunity after taker fees on any pair"
        touched = [t for t in run.touches.values() if t.checks]
        if touched:
            best = max(touched, key=lambda t: t.best_edge_bps)
            text += (f"\nclosest: {best.best_edge_bps:+.2f} bps at the touch after fees, "
                     f"buying {best.buy}, selling {best.sell}")
        ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(-0.6, max(len(pairs), 1) - 0.4)
    ax.grid(alpha=0.3, axis="x")


def _plot_basis(ax: Any, run: ScanRun) -> None:
    import numpy as np

    for b in run.basis:
        s = b.samples
        x = (s["ts_recv_ns"] - run.first_ns) / 1e9
        (line,) = ax.step(x, s["basis_bps"], where="post", lw=1.0, label=f"{b.perp} mid basis")
        if b.size and not np.all(np.isnan(s["sell_perp_bps"])):
            ax.fill_between(x, s["sell_perp_bps"], s["buy_perp_bps"], step="post",
                            color=line.get_color(), alpha=0.15,
                            label=f"executable for {b.size / 10**b.size_exp:g} (sell..buy)")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel("basis vs spot (bps)")
    ax.grid(alpha=0.3)
    if run.basis:
        ax.legend(loc="best", fontsize=8)
