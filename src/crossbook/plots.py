"""Every picture crossbook draws, in one place: a book's depth chart, the analysis's
mids, lead-lag curves and event study, the scan's opportunities and basis, and a
backtest's equity, inventory and fills.

Plots sit above analytics and arb and read their results; neither imports this module.
matplotlib is imported lazily (an optional dependency: pip install "crossbook[plot]"),
and its absence raises PlotsUnavailable; every function writes one PNG and returns its path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crossbook import L2Book, Side
from crossbook.arb.scanner import EventKind

if TYPE_CHECKING:
    from crossbook.analytics.analysis import Analysis
    from crossbook.analytics.events import EventStudy
    from crossbook.analytics.leadlag import LeadLag
    from crossbook.analytics.series import VenueSeries
    from crossbook.arb.scanner import OpportunityEvent
    from crossbook.arb.session import ScanRun
    from crossbook.sim.report import BacktestReport

__all__ = ["Interval", "PlotsUnavailable", "analysis_charts", "backtest_charts", "depth_chart",
           "event_chart", "leadlag_chart", "mids_chart", "scan_chart"]

#: An interval to shade on the mids chart: (start_ns, end_ns, label), receive clock.
Interval = tuple[int, int, str]


class PlotsUnavailable(RuntimeError):
    """matplotlib is not installed."""


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotsUnavailable('plots need matplotlib: pip install "crossbook[plot]"') from exc
    return plt


def depth_chart(book: L2Book, path: str | Path, *, title: str = "", levels: int = 200) -> Path:
    """Cumulative size against price for both sides (the classic depth chart)."""
    plt = _pyplot()
    scale_p = 10.0 ** -book.price_exp  # floats for drawing only, never for the book itself
    scale_s = 10.0 ** -book.size_exp
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    for side, colour, label in ((Side.BID, "#1a9850", "bids"), (Side.ASK, "#d73027", "asks")):
        rows = book.levels(side)[:levels]
        if len(rows) == 0:
            continue
        prices = rows["price"] * scale_p
        cumulative = rows["size"].cumsum() * scale_s
        ax.step(prices, cumulative, where="post", color=colour, label=f"{label} ({len(rows)} levels)")
        ax.fill_between(prices, cumulative, step="post", color=colour, alpha=0.25)
    ax.set_xlabel("price")
    ax.set_ylabel("cumulative size")
    ax.set_title(title or repr(book))
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, plt, path)


_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")
_MAX_POINTS = 20_000  # per line: more points than pixels only slow the drawing


def _utc(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _thin(t: Any, v: Any) -> tuple[Any, Any]:
    """At most about _MAX_POINTS points, keeping each bucket's first, min and max."""
    if len(t) <= _MAX_POINTS:
        return t, v
    step = -(-len(t) // (_MAX_POINTS // 3))
    idx = np.arange(0, len(t), step)
    lo = np.minimum.reduceat(v, idx)
    hi = np.maximum.reduceat(v, idx)
    tt = np.repeat(t[idx], 3)
    vv = np.column_stack([v[idx], lo, hi]).ravel()
    return tt, vv


def _short(name: str) -> str:
    """'binance_usdm BTCUSDT' stays; long names are cut for legends."""
    return name if len(name) <= 28 else name[:27] + "…"


def mids_chart(
    series: dict[str, VenueSeries],
    path: str | Path,
    *,
    source: str = "quote",
    reference: str | None = None,
    opportunities: Sequence[Interval] = (),
    title: str = "",
) -> Path:
    """The mids of the venues over time (top) and each one's distance to ``reference``
    (default: the first) in bps (bottom), with ``opportunities`` shaded on both."""
    plt = _pyplot()
    names = [k for k, v in series.items() if len(v.top(source))]
    if not names:
        raise ValueError("no top-of-book samples to draw")
    ref = reference or names[0]
    t0 = min(int(series[k].top(source).ts_recv_ns[0]) for k in names)
    fig, (ax, axb) = plt.subplots(2, 1, figsize=(11, 6.5), dpi=110, sharex=True,
                                  gridspec_kw={"height_ratios": [3, 2]})
    rt = series[ref].top(source)
    for i, name in enumerate(names):
        top = series[name].top(source)
        secs = (top.ts_recv_ns - t0) / 1e9
        colour = _COLOURS[i % len(_COLOURS)]
        ax.step(*_thin(secs, top.mid), where="post", lw=0.9, color=colour, label=_short(name))
        if name != ref:
            j = np.searchsorted(rt.ts_recv_ns, top.ts_recv_ns, side="right") - 1
            ok = j >= 0
            basis = 1e4 * (top.log_mid[ok] - rt.log_mid[j[ok]])
            axb.step(*_thin(secs[ok], basis), where="post", lw=0.8, color=colour,
                     label=f"{_short(name)} - {_short(ref)}")
    _shade(ax, axb, opportunities, t0)
    ax.set_ylabel("mid (quote currency)")
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title(title or f"Mids of {len(names)} books ({source} top of book)")
    axb.axhline(0, color="grey", lw=0.6)
    axb.set_ylabel("vs reference (bps)")
    axb.set_xlabel(f"seconds since {_utc(t0)} (receive clock)")
    if len(names) > 1:
        axb.legend(loc="best", fontsize=8)
    axb.grid(alpha=0.3)
    return _save(fig, plt, path)


def _shade(ax: Any, axb: Any, opportunities: Sequence[Interval], t0: int) -> None:
    labelled = False
    for start, end, label in opportunities:
        a, b = (start - t0) / 1e9, (end - t0) / 1e9
        for axis in (ax, axb):
            axis.axvspan(a, max(b, a + 1e-3), color="#ffbf00", alpha=0.25, lw=0,
                         label=None if labelled or axis is axb else "opportunity")
        labelled = True
        if label and len(opportunities) <= 12:
            ax.annotate(label, (a, 0.98), xycoords=("data", "axes fraction"), fontsize=7,
                        rotation=90, va="top", ha="right", color="#6b5400",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.7})


def leadlag_chart(pairs: Sequence[LeadLag], path: str | Path, *, title: str = "") -> Path:
    """HY correlation against lag for each pair, the peak marked and explained."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=110)
    for i, p in enumerate(pairs):
        colour = _COLOURS[i % len(_COLOURS)]
        lag_ms = p.lags_ns / 1e6
        ax.plot(lag_ms, p.rho, color=colour, lw=1.2,
                label=f"X={_short(p.x)}, Y={_short(p.y)}: {p.describe()} "
                      f"(peak ρ {p.peak_rho:.2f}, LLR {p.llr:.2f})")
        ax.plot([p.peak_lag_ns / 1e6], [p.peak_rho], "o", color=colour, ms=6)
        ax.axvline(p.peak_lag_ns / 1e6, color=colour, ls=":", lw=1)
    ax.axvline(0, color="grey", lw=0.8)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel("lag (ms): positive = X leads Y")
    ax.set_ylabel("Hayashi-Yoshida correlation of log-mid changes")
    ax.set_title(title or "Lead-lag between books")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    ymin, ymax = ax.get_ylim()
    ax.set_ylim(ymin, ymax + 0.25 * (ymax - ymin))  # room for the legend
    return _save(fig, plt, path)


_PANELS = (("mid", "follower mid (bps, in the shock's direction)"),
           ("spread", "follower spread change (bps)"),
           ("imbalance", "follower best-level imbalance (in the shock's direction)"),
           ("depth", "follower depth change (%, log)"))


_KIND_STYLE = {"touch": "-", "ofi": "--"}


def event_chart(studies: Sequence[EventStudy], path: str | Path, *, title: str = "") -> Path:
    """Mean response with its band at each horizon: one colour per follower, one line
    style per shock kind; the leader's own mid response is drawn in grey on the mid panel."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5), dpi=110, sharex=True)
    followers = list(dict.fromkeys(s.follower for s in studies))
    leaders_drawn: set[tuple[str, str]] = set()
    for s in studies:
        colour = _COLOURS[followers.index(s.follower) % len(_COLOURS)]
        style = _KIND_STYLE.get(s.kind, "-.")
        h_ms = s.horizons_ns / 1e6
        label = f"{_short(s.follower)} after {s.kind} ({len(s.shocks)} shocks)"
        for ax, (key, ylabel) in zip(axes.ravel(), _PANELS):
            r = s.responses.get(key)
            if r is None:
                continue
            ax.plot(h_ms, r.mean, style, marker="o", color=colour, ms=3, lw=1.3, label=label)
            ax.fill_between(h_ms, r.lo, r.hi, color=colour, alpha=0.12, lw=0)
            ax.set_ylabel(ylabel, fontsize=8)
        own = s.responses.get("leader_mid")
        if own is not None and (s.leader, s.kind) not in leaders_drawn:
            leaders_drawn.add((s.leader, s.kind))
            axes[0, 0].plot(h_ms, own.mean, style, color="grey", lw=1.2,
                            label=f"leader {_short(s.leader)} itself after {s.kind}")
    for ax in axes.ravel():
        ax.set_xscale("log")
        ax.axhline(0, color="grey", lw=0.6)
        ax.grid(alpha=0.3, which="both")
    for ax in axes[1]:
        ax.set_xlabel("time after the shock on the leader (ms, receive clock)")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    leaders = ", ".join(sorted({s.leader for s in studies}))
    fig.suptitle(title or f"Response of the followers to the order-flow shocks of {leaders} "
                 "(mean and 95% band)", fontsize=11)
    return _save(fig, plt, path)


def _save(fig: Any, plt: Any, path: str | Path) -> Path:
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out


def analysis_charts(a: Analysis, out_dir: str | Path,
                    opportunities: Sequence[Interval] = ()) -> list[Path]:
    """mids.png, and leadlag.png and event_study.png when the analysis has them."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [mids_chart(a.series, out / "mids.png", source=a.source, reference=a.leader,
                        opportunities=opportunities)]
    if a.pairs:
        paths.append(leadlag_chart(a.pairs, out / "leadlag.png"))
    if a.studies:
        paths.append(event_chart(a.studies, out / "event_study.png"))
    return paths


def scan_chart(run: ScanRun, path: str | Path, title: str | None = None) -> Path:
    """Mids of every book with each opportunity's opening marked (on the buy book: ^,
    on the sell book: v), each pair's opportunities as bars over time, and the basis."""
    plt = _pyplot()
    closed = [e for e in run.events if e.kind is EventKind.CLOSED]
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(12, 9), dpi=110, sharex=True,
                                        gridspec_kw={"height_ratios": [3, 1, 2]})
    colors = _plot_mids(ax1, run, closed)
    ax1.set_title(title or (f"{len(closed)} opportunities after taker fees" if closed else
                            "no opportunity after taker fees"))
    _plot_lifetimes(ax2, run, closed, colors)
    _plot_basis(ax3, run)
    ax3.set_xlabel("seconds since the first record")
    return _save(fig, plt, path)


def _plot_mids(ax: Any, run: ScanRun, closed: list[OpportunityEvent]) -> dict[str, Any]:
    t0, colors = run.first_ns, {}
    series = {name: m.arrays() for name, m in run.mids.items()}
    for name, (ts_ns, mid) in series.items():
        if len(ts_ns):
            (line,) = ax.step((ts_ns - t0) / 1e9, mid, where="post", lw=0.9, label=name)
            colors[name] = line.get_color()
    for book, marker in (("buy", "^"), ("sell", "v")):
        xs, ys = [], []
        for e in closed:
            ts_ns, mid = series.get(getattr(e, book), (np.zeros(0, np.int64), np.zeros(0)))
            k = int(np.searchsorted(ts_ns, e.open_ts_ns, side="right")) - 1
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


def backtest_charts(report: BacktestReport, out_dir: str | Path) -> list[Path]:
    """equity.png (the PnL at mid over time, and its drawdown), inventory.png (position per
    venue) and fills.png (every venue's mid with the fills on it: ^ buys, v sells)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [_equity_chart(report, out / "equity.png"), _inventory_chart(report, out / "inventory.png"),
            _fills_chart(report, out / "fills.png")]


def _t0(report: BacktestReport) -> int:
    return int(report.summary["start_ns"])


def _equity_chart(report: BacktestReport, path: Path) -> Path:
    plt = _pyplot()
    t0, q = _t0(report), report.summary["quote_currency"]
    fig, (ax, axd) = plt.subplots(2, 1, figsize=(11, 6), dpi=110, sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1]})
    secs = (report.equity_ts_ns - t0) / 1e9
    ax.step(*_thin(secs, report.equity), where="post", lw=1.0, color=_COLOURS[0])
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_ylabel(f"pnl at mid, after fees ({q})")
    ax.set_title(f"Equity: pnl {report.summary['pnl']} {q}, max drawdown "
                 f"{report.summary['max_drawdown']} {q}")
    ax.grid(alpha=0.3)
    axd.fill_between(secs, -report.drawdown, step="post", color=_COLOURS[1], alpha=0.4, lw=0)
    axd.set_ylabel(f"drawdown ({q})")
    axd.set_xlabel(f"seconds since {_utc(t0)} (receive clock)")
    axd.grid(alpha=0.3)
    return _save(fig, plt, path)


def _inventory_chart(report: BacktestReport, path: Path) -> Path:
    plt = _pyplot()
    t0 = _t0(report)
    end = (int(report.summary["end_ns"]) - t0) / 1e9
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=110)
    for i, (name, (ts, pos)) in enumerate(report.inventory.items()):
        x = np.concatenate([[0.0], (ts - t0) / 1e9, [end]])
        y = np.concatenate([[0.0], pos, pos[-1:] if len(pos) else [0.0]])
        ax.step(x, y, where="post", lw=1.0, color=_COLOURS[i % len(_COLOURS)], label=_short(name))
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_ylabel("position (base asset)")
    ax.set_xlabel(f"seconds since {_utc(t0)} (receive clock)")
    ax.set_title("Inventory per venue")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, plt, path)


def _fills_chart(report: BacktestReport, path: Path) -> Path:
    plt = _pyplot()
    t0 = _t0(report)
    fig, ax = plt.subplots(figsize=(12, 6), dpi=110)
    colours = {}
    for i, (name, (ts, mid)) in enumerate(report.mids.items()):
        keep = ts >= t0
        colours[name] = _COLOURS[i % len(_COLOURS)]
        ax.step(*_thin((ts[keep] - t0) / 1e9, mid[keep]), where="post", lw=0.8,
                color=colours[name], label=_short(name))
    for side, marker in (("buy", "^"), ("sell", "v")):
        for name, colour in colours.items():
            pts = [((f["ts_fill_ns"] - t0) / 1e9, float(f["price"])) for f in report.fills
                   if f["side"] == side and f"{f['venue']} {f['symbol']}" == name]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.scatter(xs, ys, marker=marker, s=30, color=colour, edgecolors="k",
                           linewidths=0.5, zorder=3, label=f"{side}s on {_short(name)}")
    ax.set_ylabel("price (quote per base)")
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    ax.set_xlabel(f"seconds since {_utc(t0)} (receive clock)")
    ax.set_title(f"Fills on the mids ({len(report.fills):,} fills)")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, plt, path)
