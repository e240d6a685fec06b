"""The `crossbook` command: demo, verify, replay, leadlag, scan, backtest.

This module parses arguments; each command is a thin function over the layers below
(crossbook.replay_files, crossbook.analytics, crossbook.arb, crossbook.plots), printing
through crossbook.console.

Exit status: 0 when every check passed; 1 when a check failed or a result is missing (a
gap, a checksum, damage part way through a capture, a plot that could not be written); 2
when the command could not start: bad options, or an input file that cannot be read as
a capture (no such file, empty, not gzip, not capture lines, venue unknown). Errors of the
second kind are one line on stderr: `crossbook COMMAND: FILE: what is wrong`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crossbook import L2Book, __version__
from crossbook.cli_live import add_live_parsers
from crossbook.console import (
    book_report_table,
    depth_table,
    make_console,
    mid_text,
    print_plots,
    progress,
)
from crossbook.io.capture import CaptureFormatError
from crossbook.replay import Replay, open_capture
from crossbook.replay_files import CaptureFileError, check_capture, replay_files

__all__ = ["build_parser", "main"]


def _check_all(paths: Sequence[str], venue: str | None) -> None:
    """Every input file readable as a capture before any work starts (else CaptureFileError)."""
    for path in paths:
        check_capture(path, venue)


def cmd_verify(args: argparse.Namespace) -> int:
    # Joined files are one recording: the later ones are read as the first one's venue.
    first = check_capture(args.captures[0], args.venue)
    _check_all(args.captures[1:], first if args.join else args.venue)
    console = make_console(stderr=args.json)
    tables: list[Table] = []
    problems: list[str] = []
    out: list[dict[str, object]] = []
    captures: list[dict[str, object]] = []
    groups = [args.captures] if args.join else [[p] for p in args.captures]
    with progress(console) as on_progress:
        for group in groups:
            path = " + ".join(group)
            replay, reports = replay_files(group, args.venue, on_progress)
            problems.extend(f"{path}: {e}" for e in replay.parse_errors)
            failures = replay.summary.failures()
            problems.extend(f"{path}: {f}" for f in failures)
            problems.extend(f"{path}: {e}" for e in replay.errors)
            captures.append({"capture": path, **replay.summary.as_dict(), "failures": failures})
            tables.append(book_report_table(reports, " + ".join(Path(p).name for p in group)))
            for r in reports:
                out.append(r.as_dict() | {"capture": path, "parse_errors": len(replay.parse_errors)})
                if r.failed:
                    problems.append(f"{path}: {r.venue} {r.symbol} failed a check "
                                    f"(gaps {r.gaps}, checksums failed {r.checksums_failed}, "
                                    f"tob mismatched {r.tob_mismatched}, state {r.state})")
    if args.json:
        json.dump({"books": out, "captures": captures}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        for table in tables:
            console.print(table)
    for p in problems:
        console.print(f"[red]FAILED[/red] {escape(p)}")
    return 1 if problems else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from crossbook.demo import run_demo

    plot_dir = None if args.no_plots else Path(args.plot_dir)
    return run_demo(make_console(), levels=args.levels, plot_dir=plot_dir)


def _parse_time(text: str) -> int:
    """A receive time: integer ns since the epoch, or ISO-8601 (UTC unless it says)."""
    if text.isdigit():
        return int(text)
    from datetime import datetime, timezone

    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (ns since epoch or ISO-8601)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    delta = dt - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1_000


def _symbols(path: str, venue: str, console: Console) -> int:
    """The books of a capture, with the messages each received: what --symbol can name."""
    with progress(console) as on_progress:
        replay, reports = replay_files([path], venue, on_progress)
    console.print(f"{Path(path).name}: {len(reports):,} books; show one with --symbol SYMBOL")
    table = Table(header_style="bold")
    for name, justify in (("symbol", "left"), ("messages", "right"), ("state", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in sorted(reports, key=lambda r: r.symbol):
        table.add_row(r.symbol, f"{r.messages:,}", r.state)
    console.print(table)
    for e in replay.parse_errors:
        console.print(f"[red]parse error[/red] {escape(e)}")
    return 1 if replay.parse_errors or not reports else 0


def cmd_replay(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from crossbook.messages import BookMessage
    from crossbook.sync import BookSync

    venue = check_capture(args.capture, args.venue)
    console = make_console()
    if args.symbol is None:
        return _symbols(args.capture, venue, console)
    parser, records = open_capture(args.capture, venue)
    at = sorted(args.at or [])
    shown = 0
    last: list[tuple[str, L2Book]] = []

    def show(sync: BookSync, ts_ns: int, why: str) -> None:
        nonlocal shown
        at = datetime.fromtimestamp(ts_ns / 1e9, tz=timezone.utc)
        when = at.isoformat(timespec="microseconds")
        if not sync.synced:
            console.print(f"{when} ({why}): {args.symbol} is {sync.state.value}, no book to show")
            return
        title = f"{sync.instrument.venue} {args.symbol} at {when} ({why}), mid {mid_text(sync.book)}"
        console.print(depth_table(title, sync.book, args.levels))
        last[:] = [(title, sync.book.copy())]
        shown += 1

    count = 0

    def on_message(msg: object, sync: BookSync | None) -> None:
        nonlocal count
        if not isinstance(msg, BookMessage) or msg.symbol != args.symbol or sync is None:
            return
        count += 1
        while at and msg.ts_recv_ns >= at[0]:
            show(sync, msg.ts_recv_ns, f"first message at or after {at.pop(0)}")
        if args.every and count % args.every == 0:
            show(sync, msg.ts_recv_ns, f"message {count:,}")

    replay = Replay(parser, on_message=on_message)
    damaged = None
    try:
        for rec in records:
            replay.feed(rec)
    except CaptureFormatError as exc:
        damaged = str(exc)  # the book up to the damage is still worth showing
    sync = replay.syncs.get(args.symbol)
    if sync is None:
        known = ", ".join(sorted(replay.syncs)) or "none"
        console.print(f"[red]no book for {args.symbol!r} in {args.capture}[/red] (books: {known})")
        return 1
    if not (args.at or args.every) or not shown:
        show(sync, sync.last_ts_recv_ns, "end of capture")
    ok = True
    if args.plot and last:
        from crossbook.plots import depth_chart

        title, book = last[0]
        ok = print_plots(console, lambda: [depth_chart(book, args.plot, title=title)])
    if damaged:
        console.print(f"[red]FAILED[/red] {escape(damaged)}")
    return 0 if ok and damaged is None else 1


def cmd_leadlag(args: argparse.Namespace) -> int:
    """Lead-lag and event study of several captures; the work is in crossbook.analytics."""
    from crossbook.analytics import analyze, collect_series
    from crossbook.analytics.report import print_summary, summary_dict
    from crossbook.plots import analysis_charts

    console = make_console(stderr=args.json)
    if args.grid < 1 or args.max_lag_ms <= 0 or args.levels < 1:
        console.print("[red]--grid and --levels must be >= 1 and --max-lag-ms > 0[/red]")
        return 2
    _check_all(args.captures, args.venue)
    with progress(console) as on_progress:
        try:
            series, reports, errors = collect_series(
                args.captures, depth_levels=args.levels, venue=args.venue,
                on_progress=lambda n: on_progress("replaying captures", n))
        except (OSError, ValueError) as exc:
            console.print(f"[red]FAILED[/red] {escape(str(exc))}")
            return 1
    result = analyze(series, max_lag_ns=round(args.max_lag_ms * 1e6), grid=args.grid,
                     source=args.source, bands=args.bands)
    print_summary(result, console)
    for name, r in reports:
        if r.failed and r.snapshots == 0:
            console.print(f"[yellow]note[/yellow] {name}: {r.venue} {r.symbol} never synced (no "
                          "snapshot; a file that continues another needs that one too): no book "
                          "samples, so no depth in the event study")
        elif r.failed:
            console.print(f"[yellow]note[/yellow] {name}: {r.venue} {r.symbol} ended {r.state} "
                          f"(gaps {r.gaps}); its book samples cover only the synced stretches")
    for e in errors:
        console.print(f"[red]parse error[/red] {escape(e)}")
    if args.json:
        extra = {"captures": [str(c) for c in args.captures],
                 "books_sync": [r.as_dict() | {"captures": n} for n, r in reports]}
        json.dump(summary_dict(result, extra), sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
    if args.plot_dir and not print_plots(console, lambda: analysis_charts(result, args.plot_dir)):
        return 1
    return 1 if errors or not result.pairs else 0


def _max_age(text: str) -> float | None:
    if text.lower() in ("none", "off", "inf"):
        return None
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of ms: {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"--max-age-ms must be >= 0, got {text}")
    return v


def cmd_scan(args: argparse.Namespace) -> int:
    """Cross-venue opportunities and basis of several captures; the work is in crossbook.arb."""
    from crossbook.arb.fees import parse_fee_overrides
    from crossbook.arb.report import print_summary, summary_dict
    from crossbook.arb.session import ScanSettings, run_scan
    from crossbook.plots import scan_chart

    console = make_console(stderr=args.json)
    try:
        settings = ScanSettings(costs=parse_fee_overrides(args.fees), max_age_ms=args.max_age_ms,
                                basis_size=args.size, max_size=args.max_size, core=args.core)
    except (KeyError, ValueError) as exc:
        console.print(f"[red]FAILED[/red] {escape(str(exc))}")
        return 2
    _check_all(args.captures, args.venue)
    with progress(console) as on_progress:
        try:
            run = run_scan(args.captures, settings, venue=args.venue,
                           on_progress=lambda n: on_progress("scanning captures", n))
        except (OSError, ValueError) as exc:
            console.print(f"[red]FAILED[/red] {escape(str(exc))}")
            return 1
    print_summary(run, console, args.min_edge_bps)
    for e in run.errors:
        console.print(f"[red]parse error[/red] {escape(e)}")
    if args.json:
        json.dump(summary_dict(run, args.min_edge_bps), sys.stdout, indent=1)
        sys.stdout.write("\n")
    if args.plot and not print_plots(console, lambda: [scan_chart(run, args.plot)]):
        return 1
    return 1 if run.errors or not run.listings else 0


def cmd_backtest(args: argparse.Namespace) -> int:
    """An example strategy over captures in the simulator; the work is in crossbook.sim."""
    from crossbook.cli_backtest import cmd_backtest as run

    return run(args)


_EXIT_STATUS = ("exit status: 0 every check passed, 1 a check failed, 2 bad options or an "
                "input file that cannot be read as a capture")


def _command(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str,
             description: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=description, epilog=_EXIT_STATUS)


def _venue_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--venue", help="venue of every capture, as crossbook names it (default: "
                   "recognised from each file's first records)")


def _add_demo_verify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = _command(sub, "demo", "the main job on the bundled Binance BTC captures",
                 "Rebuilds three Binance BTC books (spot, USD-M, COIN-M) from 90 s of bundled "
                 "raw feeds and checks them, then shows their basis, cross-market "
                 "opportunities after fees and which market leads; writes the plots.")
    d.add_argument("--levels", type=int, default=10, help="depth levels to print (default 10)")
    d.add_argument("--plot-dir", default="crossbook-demo", help="where to write the plots "
                   "(default ./crossbook-demo)")
    d.add_argument("--no-plots", action="store_true", help="print only, write no files")
    d.set_defaults(func=cmd_demo)
    v = _command(sub, "verify", "replay captures through parsing and sync and check them",
                 "Replays capture files through parsing and book sync and checks every book: "
                 "sequence gaps, the venue's checksums, and its own top-of-book stream where "
                 "the capture has one.")
    v.add_argument("captures", nargs="+", help="capture files (gzip text)")
    _venue_option(v)
    v.add_argument("--json", action="store_true", help="one JSON object per book on stdout")
    v.add_argument("--join", action="store_true",
                   help="the captures are consecutive parts of one recording (one venue): "
                        "replay them as one stream, books carried across the file boundaries")
    v.set_defaults(func=cmd_verify)


def _add_replay(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = _command(sub, "replay", "replay a capture and print one book at chosen points",
                 "Replays a capture and prints one book's depth at chosen receive times or "
                 "every N messages; without --symbol, lists the capture's books.")
    r.add_argument("capture", help="capture file (gzip text)")
    r.add_argument("--symbol", help="the book's symbol as the venue names it (default: list "
                   "the symbols of the capture with their message counts)")
    _venue_option(r)
    r.add_argument("--at", type=_parse_time, action="append",
                   help="print the book at this receive time (ns or ISO-8601); repeatable")
    r.add_argument("--every", type=int, help="print the book after every N messages of the symbol")
    r.add_argument("--levels", type=int, default=10, help="levels per side to print (default 10)")
    r.add_argument("--plot", metavar="PNG", help="draw the depth chart of the last book shown")
    r.set_defaults(func=cmd_replay)


def _add_leadlag(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ll = _command(sub, "leadlag", "which venue leads and how the others follow",
                  "Which book leads (Hayashi-Yoshida lead-lag on asynchronous mids) and how the "
                  "others respond to the leader's order-flow shocks (an event study).")
    ll.add_argument("captures", nargs="+", help="capture files, one venue or more each; files "
                    "of one venue continue each other")
    _venue_option(ll)
    ll.add_argument("--json", action="store_true", help="write the full results as JSON on stdout")
    ll.add_argument("--plot-dir", metavar="DIR", help="write mids.png, leadlag.png and "
                    "event_study.png there")
    ll.add_argument("--max-lag-ms", type=float, default=200.0,
                    help="largest lag tried, both ways (default 200)")
    ll.add_argument("--grid", type=int, default=100,
                    help="lags on each side of 0 (default 100: a 2 ms step at 200 ms)")
    ll.add_argument("--source", choices=("auto", "quote", "book"), default="auto",
                    help="top of book from the venues' quote streams or from the rebuilt "
                         "books (default auto: quotes when every venue sends them)")
    ll.add_argument("--bands", choices=("normal", "bootstrap"), default="normal",
                    help="event-study bands: mean ± 1.96 s.e. or a seeded bootstrap")
    ll.add_argument("--levels", type=int, default=10, help="depth levels collected (default 10)")
    ll.set_defaults(func=cmd_leadlag)


def _add_scan(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sc = _command(sub, "scan", "cross-venue opportunities after fees, and the basis",
                  "Scans the books of several venues for opportunities that pay after fees, "
                  "with their lifetimes, and measures the spot/derivative basis.")
    sc.add_argument("captures", nargs="+", help="capture files of one or more venues; files "
                    "of one venue continue each other")
    _venue_option(sc)
    sc.add_argument("--fees", action="append", metavar="VENUE=TAKER[/MAKER][@MS],...",
                    help="fees in bps and latency in ms per venue, overriding the defaults "
                         "(crossbook.arb.fees.DEFAULT_COSTS); repeatable")
    sc.add_argument("--min-edge-bps", type=float, default=0.0,
                    help="report only opportunities whose peak edge after fees reached this")
    sc.add_argument("--max-age-ms", type=_max_age, default=1000.0,
                    help="a book with no message for this long is stale; 'none' never "
                         "(default 1000)")
    sc.add_argument("--size", default="1", help="base-asset size for the executable basis, "
                    "decimal (default 1)")
    sc.add_argument("--max-size", help="cap on every opportunity's size, base-asset decimal")
    sc.add_argument("--json", action="store_true",
                    help="write the summary and every opportunity event as JSON on stdout")
    sc.add_argument("--plot", metavar="PNG", help="draw the mids with opportunities marked "
                    "and the basis over time")
    sc.add_argument("--core", choices=("python", "compiled", "auto"), default="auto",
                    help="scanner core: the C++ ArbScanner (auto, when built) or its Python "
                         "twin; the same events either way")
    sc.set_defaults(func=cmd_scan)


def _add_backtest(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from crossbook.sim.strategies import POLICIES

    b = _command(sub, "backtest", "run an example strategy over captures in the simulator",
                 "Replays captures of several venues through sync into the execution "
                 "simulator and runs an example strategy (crossbook.sim.strategies) with each "
                 "venue's latency and fees; prints PnL, drawdown, slippage and positions.")
    b.add_argument("captures", nargs="+", help="capture files of one or more venues")
    _venue_option(b)
    b.add_argument("--strategy", choices=("cross-arb", "leadlag-quote"), required=True)
    b.add_argument("--latency", action="append", metavar="VENUE=ENTRY_MS[/RESPONSE_MS]",
                   help="order entry and response latency per venue (default 10/10); repeatable")
    b.add_argument("--fees", action="append", metavar="VENUE=MAKER_BPS/TAKER_BPS",
                   help="maker then taker fee per venue, bps (negative: rebate; note the "
                        "order, maker first); default the venue's base tier; repeatable")
    b.add_argument("--max-position", action="append", metavar="VENUE=SIZE",
                   help="position limit per venue, base-asset units; repeatable")
    b.add_argument("--json", action="store_true",
                   help="write orders, fills, risk_events and summary as one JSON object")
    b.add_argument("--plot", metavar="DIR", help="write equity, inventory and fill charts there")
    b.add_argument("--size", default="0.01", help="base-asset size: cross-arb's cap per "
                   "attempt, leadlag-quote's quote size (default 0.01)")
    b.add_argument("--threshold-bps", default="0", help="cross-arb: edge required beyond "
                   "both taker fees (default 0)")
    b.add_argument("--policy", choices=POLICIES, default="hedge",
                   help="cross-arb: when a leg misses, hedge (complete it at market) or "
                        "unwind (close the filled leg at market); default hedge")
    b.add_argument("--primary", metavar="VENUE[:SYMBOL]", help="leadlag-quote: the leading "
                   "book (default the first capture's)")
    b.add_argument("--secondary", metavar="VENUE[:SYMBOL]", help="leadlag-quote: the book to "
                   "quote on (default the next one)")
    b.add_argument("--inventory-limit", default="0.05", help="leadlag-quote: largest position, "
                   "base-asset units (default 0.05)")
    b.add_argument("--skew", default="1", help="leadlag-quote: quote shift per base unit of "
                   "the primary's order-flow imbalance, quote currency (default 1)")
    b.add_argument("--max-skew-ticks", type=int, default=5,
                   help="leadlag-quote: largest shift in ticks (default 5)")
    b.add_argument("--requote-ms", default="50", help="leadlag-quote: least time between two "
                   "changes of one quote (default 50)")
    b.set_defaults(func=cmd_backtest)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="crossbook", epilog=_EXIT_STATUS,
        description="Limit order books rebuilt from venue feeds, checked, compared across "
                    "venues. Start with `crossbook demo`.")
    p.add_argument("--version", action="version", version=f"crossbook {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    _add_demo_verify(sub)
    _add_replay(sub)
    _add_leadlag(sub)
    _add_scan(sub)
    _add_backtest(sub)
    add_live_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CaptureFileError as exc:
        print(f"crossbook {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
