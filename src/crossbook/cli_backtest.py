"""`crossbook backtest`: an example strategy run over recorded captures in the simulator.

The work is in crossbook.sim (feeds, backtest, report, strategies); this module parses the
per-venue options, picks the strategy's venues, and prints (rich table, or JSON on stdout).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crossbook.arb.fees import bps_to_cbps
from crossbook.console import make_console, print_plots, progress
from crossbook.fixedpoint import parse_fixed_py
from crossbook.replay_files import CaptureFileError, check_capture
from crossbook.sim.backtest import run_backtest, venue_configs
from crossbook.sim.feeds import Feeds, load_captures
from crossbook.sim.models import ConstantLatency, Fees, VenueConfig
from crossbook.sim.report import BacktestReport, build_report
from crossbook.sim.strategies import POLICIES, CrossArb, LeadLagQuote
from crossbook.sim.strategy import Strategy
from crossbook.timeutil import NS_PER_MS

__all__ = ["STRATEGIES", "UsageError", "cmd_backtest", "prepare", "parse_fees", "parse_latency", "parse_sizes"]

STRATEGIES = ("cross-arb", "leadlag-quote")


class UsageError(ValueError):
    """A bad option value: one line on stderr, exit status 2."""


def _items(specs: list[str] | None, option: str) -> dict[str, str]:
    """VENUE=VALUE items, repeated or comma-separated."""
    out: dict[str, str] = {}
    for spec in (s for item in specs or [] for s in item.split(",")):
        venue, eq, value = spec.partition("=")
        if not eq or not venue.strip() or not value.strip():
            raise UsageError(f"{option} {spec!r}: expected VENUE=VALUE")
        out[venue.strip()] = value.strip()
    return out


def _ms_ns(text: str, what: str) -> int:
    try:
        ns = Fraction(Decimal(text)) * NS_PER_MS
    except (InvalidOperation, ValueError):
        raise UsageError(f"{what}: not a number of ms: {text!r}") from None
    if ns < 0 or ns.denominator != 1:
        raise UsageError(f"{what}: {text} ms is negative or finer than a nanosecond")
    return int(ns)


def parse_latency(specs: list[str] | None) -> dict[str, ConstantLatency]:
    """VENUE=ENTRY_MS[/RESPONSE_MS] items (response defaults to the entry latency)."""
    out = {}
    for venue, value in _items(specs, "--latency").items():
        entry, _, response = value.partition("/")
        what = f"--latency {venue}={value}"
        e = _ms_ns(entry, what)
        out[venue] = ConstantLatency(e, _ms_ns(response, what) if response else e)
    return out


def parse_fees(specs: list[str] | None) -> dict[str, Fees]:
    """VENUE=MAKER_BPS/TAKER_BPS items (negative maker fee: a rebate)."""
    out = {}
    for venue, value in _items(specs, "--fees").items():
        maker, slash, taker = value.partition("/")
        what = f"--fees {venue}={value}"
        if not slash:
            raise UsageError(f"{what}: expected VENUE=MAKER_BPS/TAKER_BPS")
        try:
            out[venue] = Fees(bps_to_cbps(maker, f"{what}: maker fee"),
                              bps_to_cbps(taker, f"{what}: taker fee"))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return out


def parse_sizes(specs: list[str] | None, option: str) -> dict[str, str]:
    out = _items(specs, option)
    for venue, value in out.items():
        try:
            ok = Decimal(value) > 0
        except InvalidOperation:
            ok = False
        if not ok:
            raise UsageError(f"{option} {venue}={value}: not a size > 0 in base-asset units")
    return out


def _size(text: str, exp: int, what: str) -> int:
    try:
        v = parse_fixed_py(text, exp)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{what} {text!r}: {exc}") from None
    if v <= 0:
        raise UsageError(f"{what} must be > 0, got {text!r}")
    return v


def _exact(text: str, what: str) -> Fraction:
    try:
        return Fraction(Decimal(text))
    except (InvalidOperation, ValueError):
        raise UsageError(f"{what} {text!r}: not a decimal number") from None


def _cbps(text: str, what: str) -> int:
    try:
        return bps_to_cbps(text, what)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check_numbers(args: argparse.Namespace) -> None:
    """The strategy options that need no capture to be checked, before any is read."""
    _cbps(args.threshold_bps, "--threshold-bps")
    _exact(args.skew, "--skew")
    for value, what in ((args.size, "--size"), (args.inventory_limit, "--inventory-limit")):
        if _exact(value, what) <= 0:
            raise UsageError(f"{what} must be > 0, got {value!r}")
    _ms_ns(args.requote_ms, "--requote-ms")
    if args.max_skew_ticks < 0:
        raise UsageError(f"--max-skew-ticks must be >= 0, got {args.max_skew_ticks}")


def _venue_index(feeds: Feeds, spec: str, what: str) -> int:
    venue, _, symbol = spec.partition(":")
    found = feeds.index(venue, symbol or None)
    if len(found) != 1:
        books = ", ".join(f"{f.venue}:{f.symbol}" for f in feeds.venues)
        why = "names several books, add :SYMBOL" if found else "is no book in the captures"
        raise UsageError(f"{what} {spec}: {why} (books: {books})")
    return found[0]


def _risk(configs: list[VenueConfig], feeds: Feeds, max_position: dict[str, str]) -> list[VenueConfig]:
    """--max-position VENUE=SIZE as each of that venue's books' VenueRisk.max_position."""
    out = list(configs)
    for venue, size in max_position.items():
        for i in feeds.index(venue):
            limit = _size(size, feeds.venues[i].size_exp, f"--max-position {venue}")
            out[i] = replace(out[i], risk=replace(out[i].risk, max_position=limit))
    return out


def _strategy(args: argparse.Namespace, feeds: Feeds, configs: list[VenueConfig]) -> Strategy:
    if args.strategy == "cross-arb":
        group = [i for i, f in enumerate(feeds.venues) if f.asset == feeds.venues[0].asset]
        if len(group) < 2:
            raise UsageError("cross-arb needs books of one asset on two venues or more; "
                             f"the captures have {', '.join(f.name for f in feeds.venues)}")
        se = feeds.venues[group[0]].size_exp
        return CrossArb([c.fees.taker_cbps for c in configs],
                        max_size=_size(args.size, se, "--size"),
                        threshold_cbps=_cbps(args.threshold_bps, "--threshold-bps"),
                        policy=args.policy, venues=group)
    if len(feeds.venues) < 2:
        raise UsageError("leadlag-quote needs two books: a primary and a secondary")
    primary = 0 if args.primary is None else _venue_index(feeds, args.primary, "--primary")
    secondary = (next(i for i in range(len(feeds.venues)) if i != primary)
                 if args.secondary is None else _venue_index(feeds, args.secondary, "--secondary"))
    if primary == secondary:
        raise UsageError("--primary and --secondary name the same book")
    f = feeds.venues[secondary]
    per_unit = _exact(args.skew, "--skew") * 10**f.price_exp / 10**f.size_exp
    return LeadLagQuote(primary, secondary, quote_size=_size(args.size, f.size_exp, "--size"),
                        inventory_limit=_size(args.inventory_limit, f.size_exp,
                                              "--inventory-limit"),
                        tick=f.tick, skew_per_unit=per_unit,
                        max_skew=args.max_skew_ticks * f.tick,
                        min_requote_ns=_ms_ns(args.requote_ms, "--requote-ms"))


def _summary_table(report: BacktestReport, strategy: str) -> Table:
    s = report.summary
    q = s["quote_currency"]
    table = Table(title=f"backtest: {strategy}", header_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column("")
    table.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        (f"pnl ({q}, at mid)", s["pnl"]),
        ("  realized / unrealized", f"{s['realized']} / {s['unrealized']}"),
        ("  fees (paid / rebates)", f"{s['fees']} ({s['fees_paid']} / {s['rebates']})"),
        ("max drawdown", s["max_drawdown"]),
        ("turnover", s["turnover"]),
        ("orders / fills", f"{s['orders']:,} / {s['fills']:,}"),
        ("fill ratio (size)", f"{s['fill_ratio']:.3f}"),
        ("orders by status", ", ".join(f"{k} {v:,}" for k, v in s["orders_by_status"].items())),
    ]
    for leg, x in s["legs"].items():
        rows.append((f"leg {leg}: fills, size", f"{x['fills']:,}, {x['size']}"))
        rows.append(("  slippage (bps)", f"{x['slippage']} ({x['slippage_bps']:+.2f})"))
    rows.append(("leg risk cost (repairs: slippage + fees)", s["leg_risk_cost"]))
    for venue, symbols in s["positions"].items():
        for symbol, pos in symbols.items():
            rows.append((f"position {venue} {symbol}", pos))
    for name, value in rows:
        table.add_row(name, value)
    return table


def prepare(args: argparse.Namespace, console: Console,
            on_progress: Callable[[int], None] | None = None,
            ) -> tuple[Feeds, list[VenueConfig], Strategy]:
    """The feeds, venues and strategy the arguments describe (UsageError on a bad value)."""
    latency, fees = parse_latency(args.latency), parse_fees(args.fees)
    max_position = parse_sizes(args.max_position, "--max-position")
    _check_numbers(args)
    for path in args.captures:
        check_capture(path, args.venue)
    feeds = load_captures(args.captures, venue=args.venue, on_progress=on_progress)
    if not feeds.venues:
        raise ValueError(f"no book in {', '.join(args.captures)}: nothing to trade against")
    try:
        configs = venue_configs(feeds.venues, latency, fees)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    configs = _risk(configs, feeds, max_position)
    return feeds, configs, _strategy(args, feeds, configs)


def cmd_backtest(args: argparse.Namespace) -> int:
    console = make_console(stderr=args.json)
    with progress(console) as on_progress:
        try:
            feeds, configs, strategy = prepare(
                args, console, lambda n: on_progress("replaying captures", n))
        except (UsageError, CaptureFileError) as exc:
            print(f"crossbook backtest: {exc}", file=sys.stderr)
            return 2
        except (OSError, ValueError) as exc:
            console.print(f"[red]FAILED[/red] {escape(str(exc))}")
            return 1
        run = run_backtest(feeds.venues, configs, strategy,
                           on_progress=lambda n: on_progress("simulating", n))
    report = build_report(run)
    console.print(_summary_table(report, args.strategy))
    for e in feeds.errors:
        console.print(f"[red]parse error[/red] {escape(e)}")
    if args.json:
        json.dump(report.as_json(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    if args.plot:
        from crossbook.plots import backtest_charts

        if not print_plots(console, lambda: backtest_charts(report, args.plot)):
            return 1
    return 1 if feeds.errors else 0
