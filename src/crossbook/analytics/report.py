"""What ``crossbook leadlag`` prints and writes as JSON (its pictures: crossbook.plots)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Table

from crossbook import format_fixed
from crossbook.analytics.analysis import Analysis, is_weak
from crossbook.analytics.events import EventStudy
from crossbook.analytics.leadlag import WEAK_LLR
from crossbook.analytics.series import VenueSeries, volume_profile

__all__ = ["SUMMARY_HORIZONS_MS", "print_summary", "summary_dict"]

#: Below this many seconds, the summary warns that the lead-lag is noisy.
SHORT_SAMPLE_S = 300

#: Horizons shown in the printed event-study table (the nearest on the grid).
SUMMARY_HORIZONS_MS = (1, 10, 50, 100, 500, 5000)


def _ms(ns: float) -> str:
    return f"{ns / 1e6:g}"


def _table(title: str) -> Table:
    """A table that reads whole at 100 columns: no side rules, cells wrap, never cut."""
    return Table(title=title, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)


def _book(name: str) -> str:
    """'binance_coinm BTCUSD_PERP' over two lines: venue above symbol."""
    return name.replace(" ", "\n", 1)


def _books_table(a: Analysis) -> Table:
    t = _table(f"Books ({a.source} top of book, receive clock)")
    for col in ("book", "top samples", "mid changes", "book samples", "trades",
                "median spread (bps)", "last mid", "busiest price (traded)"):
        t.add_column(col, justify="left" if col == "book" else "right", overflow="fold",
                     no_wrap=col == "book")
    for name, v in a.series.items():
        top = v.top(a.source)
        changes = int(np.count_nonzero(np.diff(top.mid2)))
        t.add_row(_book(name), f"{len(top):,}", f"{changes:,}", f"{len(v.book):,}", f"{len(v.trades):,}",
                  f"{np.median(top.spread_bps):.3f}", _mid_text(top.mid2[-1], v.price_exp),
                  _poc(v))
    return t


def _mid_text(mid2: int, price_exp: int) -> str:
    return _trim(format_fixed(int(mid2) * 5, price_exp + 1))  # (bid + ask) / 2, exact


def _poc(v: VenueSeries) -> str:
    """The price bucket with the most traded size (the volume profile's point of control)."""
    if not len(v.trades):
        return "-"
    vp = volume_profile(v.trades)
    i = int(np.argmax(vp.total))
    lo = format_fixed(int(vp.price_lo[i]), v.price_exp)
    return f"{_trim(lo)} +{_trim(format_fixed(vp.bucket, v.price_exp))}"


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _pairs_table(a: Analysis) -> Table:
    t = _table("Lead-lag: Hayashi-Yoshida correlation of log-mid changes, Y's clock shifted by "
               "the lag (positive lag = X leads)")
    for col in ("X", "Y", "peak\nlag ms", "peak ρ", "ρ at 0", "LLR", "leader\n(by LLR)",
                "thirds\nagree", "verdict"):
        t.add_column(col, overflow="fold", no_wrap=col != "verdict",
                     min_width=9 if col == "verdict" else None,
                     justify="left" if col in ("X", "Y", "leader\n(by LLR)", "verdict") else "right")
    for p in a.pairs:
        weak = is_weak(p)
        blocks = p.extra.get("block_leaders", [])
        agree = sum(b == p.leader for b in blocks)
        verdict = ("peak and LLR disagree" if not p.consistent
                   else "LLR near 1" if WEAK_LLR[0] < p.llr < WEAK_LLR[1]
                   else "parts disagree" if agree < len(blocks) else "clear")
        t.add_row(_book(p.x), _book(p.y), _ms(p.peak_lag_ns), f"{p.peak_rho:.3f}", f"{p.rho_zero:.3f}",
                  f"{p.llr:.2f}", _book(p.leader or "-"), f"{agree}/{len(blocks)}" if blocks else "-",
                  verdict, style="yellow" if weak else None)
    return t


def _pick(horizons_ns: Any) -> list[int]:
    h = np.asarray(horizons_ns) / 1e6
    idx = sorted({int(np.argmin(np.abs(h - x))) for x in SUMMARY_HORIZONS_MS})
    return idx


def _events_table(studies: list[EventStudy], bands: str) -> Table | None:
    if not studies:
        return None
    cols = _pick(studies[0].horizons_ns)
    band = ", 95% bootstrap band" if bands == "bootstrap" else " ± 1.96 s.e."
    t = _table(f"Event study: follower response after the shocks of the leader "
               f"{studies[0].leader} (mean{band})")
    for col in ("follower\nshock", "measure", "before"):
        t.add_column(col, justify="right" if col == "before" else "left", overflow="fold",
                     no_wrap=col != "measure", min_width=9 if col == "measure" else None)
    for i in cols:
        t.add_column(f"{_ms(studies[0].horizons_ns[i])} ms", justify="right", overflow="fold",
                     no_wrap=True)
    for s in studies:
        first = True
        for key in ("mid", "spread", "imbalance", "depth", "leader_mid"):
            r = s.responses.get(key)
            if r is None:
                continue
            name = key.replace("_", " ") + (f" ({r.unit})" if r.unit else "")
            before = "" if not np.isfinite(r.before) else f"{r.before:.3g}"
            cells = [_cell(r.mean[i], r.lo[i], r.hi[i]) for i in cols]
            t.add_row(f"{_book(s.follower)}\n{s.kind}, n={len(s.shocks):,}" if first else "",
                      name, before, *cells,
                      end_section=key == "leader_mid")
            first = False
    return t


def _cell(mean: float, lo: float, hi: float) -> str:
    if not np.isfinite(mean):
        return "-"
    half = (hi - lo) / 2 if np.isfinite(hi) and np.isfinite(lo) else float("nan")
    text = f"{mean:+.3f}\n±{half:.3f}" if np.isfinite(half) else f"{mean:+.3f}"
    significant = np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0)
    return f"[bold]{text}[/bold]" if significant else text


def _verdict(a: Analysis) -> str:
    if not a.pairs or a.leader is None:
        return "Fewer than two books with top-of-book data: no lead-lag."
    lines = [(f"[bold]Leader: {a.leader}[/bold] (the book with the largest sum of log LLR "
              "over its pairs).")]
    for p in a.pairs:
        if p.leader is None:
            lines.append(f"  {p.x} and {p.y}: no leader (LLR 1).")
            continue
        llr = p.llr if p.leader == p.x else 1 / p.llr
        if WEAK_LLR[0] < p.llr < WEAK_LLR[1]:
            ahead = p.x if p.peak_lag_ns > 0 else p.y
            where = ("at lag 0" if p.peak_lag_ns == 0
                     else f"with {ahead} {abs(p.peak_lag_ns) / 1e6:g} ms ahead")
            lines.append(f"  {p.x} and {p.y}: no clear leader (LLR {p.llr:.2f}; the correlation "
                         f"peaks {where}, ρ {p.peak_rho:.2f}).")
            continue
        if not p.consistent:
            lines.append(f"  {p.leader} vs {p.follower}: unclear. The LLR ({llr:.2f}) favours "
                         f"{p.leader}, but the correlation peaks with {p.follower} "
                         f"{-p.lead_ns / 1e6:g} ms ahead (peak ρ {p.peak_rho:.2f}).")
            continue
        strength = "weak or unstable" if is_weak(p) else "clear"
        lines.append(f"  {p.leader} leads {p.follower} by {p.lead_ns / 1e6:g} ms "
                     f"(peak ρ {p.peak_rho:.2f}, LLR {llr:.2f} in its favour; {strength}).")
    span = (a.end_ns - a.start_ns) / 1e9
    if span < SHORT_SAMPLE_S:
        lines.append(f"[yellow]Only {span:.0f} s of data: lead-lag on so short a sample is "
                     "noisy; see whether the thirds of the window agree.[/yellow]")
    return "\n".join(lines)


def print_summary(a: Analysis, console: Console) -> None:
    console.print(_books_table(a))
    if a.pairs:
        console.print(_pairs_table(a))
    console.print(_verdict(a))
    table = _events_table(a.studies, a.bands)
    if table is not None:
        console.print(table)
        console.print("Signed measures (mid, imbalance) are in the shock's direction; bold: "
                      "the band excludes 0. 'before' is the mean level just before the shocks "
                      "(depth in size units of the book).")
    for s in a.skipped:
        console.print(f"[yellow]skipped[/yellow] {s}")


def summary_dict(a: Analysis, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    d = a.as_dict()
    for name, v in a.series.items():
        if len(v.trades):
            vp = volume_profile(v.trades)
            d["books"][name]["volume_profile"] = {
                "price_exp": vp.price_exp, "size_exp": vp.size_exp, "bucket": vp.bucket,
                "price_lo": vp.price_lo.tolist(), "buy": vp.buy.tolist(),
                "sell": vp.sell.tolist(), "unknown": vp.unknown.tolist()}
    if extra:
        d.update(extra)
    clean: dict[str, Any] = _finite(d)
    return clean


def _finite(obj: Any) -> Any:
    """The same structure with NaN and infinities as None: strict JSON has neither."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj
