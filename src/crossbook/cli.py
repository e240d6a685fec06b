"""The `crossbook` command: demo, verify, replay, leadlag, scan."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from crossbook import L2Book, format_fixed
from crossbook.cli_live import add_live_parsers
from crossbook.io.capture import CaptureFormatError
from crossbook.replay import BookReport, Replay, open_capture

__all__ = ["main"]



def _progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
        TextColumn("{task.completed:,} records"), TimeElapsedColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    )


def replay_file(path: str | Path, venue: str | None, console: Console,
                more: Sequence[str | Path] = ()) -> tuple[Replay, list[BookReport]]:
    """Replays one capture, or several as one continuous recording (`more` follow `path`)."""
    parser, records = open_capture(path, venue)
    replay = Replay(parser)
    sources = [(Path(path).name, records)]
    sources += [(Path(p).name, open_capture(p, parser.venue)[1]) for p in more]
    with _progress(console) as progress:
        for name, recs in sources:
            task = progress.add_task(name, total=None)
            try:
                for i, rec in enumerate(recs, 1):
                    replay.feed(rec)
                    if i % 5000 == 0:
                        progress.update(task, completed=i)
            except CaptureFormatError as exc:
                # The books up to the damage are still worth reporting; the damage fails the check.
                replay.parse_errors.append(str(exc))
    return replay, replay.finish()


# (field, short header): short so that the table fits a terminal.
REPORT_COLUMNS = (("frames", "frames"), ("messages", "msgs"), ("levels", "levels"),
                  ("snapshots", "snaps"), ("gaps", "gaps"), ("resyncs", "resyncs"),
                  ("checksums_ok", "cksum ok"), ("checksums_failed", "cksum bad"),
                  ("tob_compared", "tob cmp"), ("tob_mismatched", "tob bad"))


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=200)  # a pipe or a file: do not wrap tables
    return console


def _report_table(rows: list[tuple[str, BookReport]]) -> Table:
    table = Table(title="Book sync per capture", header_style="bold")
    table.add_column("capture")
    table.add_column("book")
    for _, header in REPORT_COLUMNS:
        table.add_column(header, justify="right")
    table.add_column("state")
    table.add_column("best bid")
    table.add_column("best ask")
    for name, r in rows:
        style = "red" if r.failed else None
        table.add_row(name, f"{r.venue} {r.symbol}", *(f"{getattr(r, c):,}" for c, _ in REPORT_COLUMNS),
                      r.state, r.best_bid or "-", r.best_ask or "-", style=style)
    return table


def cmd_verify(args: argparse.Namespace) -> int:
    console = _console(stderr=args.json)
    rows: list[tuple[str, BookReport]] = []
    problems: list[str] = []
    out: list[dict[str, object]] = []
    captures: list[dict[str, object]] = []
    groups = [args.captures] if args.join else [[p] for p in args.captures]
    for group in groups:
        path = " + ".join(group)
        try:
            replay, reports = replay_file(group[0], args.venue, console, group[1:])
        except (OSError, ValueError) as exc:
            problems.append(f"{path}: {exc}")
            continue
        problems.extend(f"{path}: {e}" for e in replay.parse_errors)
        failures = replay.summary.failures()
        problems.extend(f"{path}: {f}" for f in failures)
        problems.extend(f"{path}: {e}" for e in replay.errors)
        captures.append({"capture": str(path), **replay.summary.as_dict(), "failures": failures})
        for r in reports:
            rows.append((" + ".join(Path(p).name for p in group), r))
            d = r.as_dict()
            d["capture"] = str(path)
            d["parse_errors"] = len(replay.parse_errors)
            out.append(d)
            if r.failed:
                problems.append(f"{path}: {r.venue} {r.symbol} failed a check "
                                f"(gaps {r.gaps}, checksums failed {r.checksums_failed}, "
                                f"tob mismatched {r.tob_mismatched}, state {r.state})")
    if args.json:
        json.dump({"books": out, "captures": captures}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        console.print(_report_table(rows))
    for p in problems:
        console.print(f"[red]FAILED[/red] {p}")
    return 1 if problems else 0


def _depth_table(title: str, book: L2Book, levels: int) -> Table:
    bids, asks = book.depth(levels)
    table = Table(title=title, header_style="bold")
    for name in ("bid size", "bid", "ask", "ask size"):
        table.add_column(name, justify="right")
    for i in range(max(len(bids), len(asks))):
        b = bids[i] if i < len(bids) else None
        a = asks[i] if i < len(asks) else None
        table.add_row(
            book.format_size(int(b["size"])) if b is not None else "",
            f"[green]{book.format_price(int(b['price']))}[/green]" if b is not None else "",
            f"[red]{book.format_price(int(a['price']))}[/red]" if a is not None else "",
            book.format_size(int(a["size"])) if a is not None else "",
        )
    return table


def _mid_text(book: L2Book) -> str:
    bid, ask = book.bbo()
    if bid is None or ask is None:
        return "-"
    # (bid + ask) / 2 == (bid + ask) * 5 / 10: exact in decimal, one more digit.
    text = format_fixed((bid[0] + ask[0]) * 5, book.price_exp + 1)
    return text.rstrip("0").rstrip(".") if "." in text else text


def cmd_demo(args: argparse.Namespace) -> int:
    from crossbook.demo import run_demo

    plot_dir = None if args.no_plots else Path(args.plot_dir)
    return run_demo(_console(), levels=args.levels, plot_dir=plot_dir)


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


def cmd_replay(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from crossbook.messages import BookMessage
    from crossbook.sync import BookSync

    console = _console()
    parser, records = open_capture(args.capture, args.venue)
    at = sorted(args.at or [])
    shown = 0
    last: list[tuple[str, L2Book]] = []

    def show(sync: BookSync, ts: int, why: str) -> None:
        nonlocal shown
        when = datetime.fromtimestamp(ts / 1e9, tz=timezone.utc).isoformat(timespec="microseconds")
        if not sync.synced:
            console.print(f"{when} ({why}): {args.symbol} is {sync.state.value}, no book to show")
            return
        title = f"{sync.instrument.venue} {args.symbol} at {when} ({why}), mid {_mid_text(sync.book)}"
        console.print(_depth_table(title, sync.book, args.levels))
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
    for rec in records:
        replay.feed(rec)
    sync = replay.syncs.get(args.symbol)
    if sync is None:
        known = ", ".join(sorted(replay.syncs)) or "none"
        console.print(f"[red]no book for {args.symbol!r} in {args.capture}[/red] (books: {known})")
        return 1
    if not (args.at or args.every) or not shown:
        show(sync, sync.last_ts_recv_ns, "end of capture")
    if args.plot and last:
        from crossbook.plots import depth_chart

        title, book = last[0]
        console.print(f"depth chart written to {depth_chart(book, args.plot, title=title)}")
    return 0


def cmd_leadlag(args: argparse.Namespace) -> int:
    """Lead-lag and event study of several captures; the work is in crossbook.analytics."""
    from crossbook.analytics import analyze, collect_series
    from crossbook.analytics.report import print_summary, summary_dict, write_plots

    console = _console(stderr=args.json)
    if args.grid < 1 or args.max_lag_ms <= 0 or args.levels < 1:
        console.print("[red]--grid and --levels must be >= 1 and --max-lag-ms > 0[/red]")
        return 2
    with _progress(console) as progress:
        task = progress.add_task("replaying captures", total=None)
        try:
            series, reports, errors = collect_series(
                args.captures, depth_levels=args.levels,
                on_progress=lambda n: progress.update(task, completed=n))
        except (OSError, ValueError) as exc:
            console.print(f"[red]FAILED[/red] {exc}")
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
        console.print(f"[red]parse error[/red] {e}")
    if args.json:
        extra = {"captures": [str(c) for c in args.captures],
                 "books_sync": [r.as_dict() | {"captures": n} for n, r in reports]}
        json.dump(summary_dict(result, extra), sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
    if args.plot_dir:
        try:
            for path in write_plots(result, args.plot_dir):
                console.print(f"plot written to {path}")
        except (RuntimeError, OSError, ValueError) as exc:
            console.print(f"[red]no plots[/red]: {exc}")
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
    from crossbook.arb.report import plot_scan, print_summary, summary_dict
    from crossbook.arb.session import ScanSettings, run_scan

    console = _console(stderr=args.json)
    try:
        settings = ScanSettings(costs=parse_fee_overrides(args.fees), max_age_ms=args.max_age_ms,
                                basis_size=args.size, max_size=args.max_size, core=args.core)
    except (KeyError, ValueError) as exc:
        console.print(f"[red]FAILED[/red] {exc}")
        return 2
    with _progress(console) as progress:
        task = progress.add_task("scanning captures", total=None)
        try:
            run = run_scan(args.captures, settings, venue=args.venue,
                           on_progress=lambda n: progress.update(task, completed=n))
        except (OSError, ValueError) as exc:
            console.print(f"[red]FAILED[/red] {exc}")
            return 1
    print_summary(run, console, args.min_edge_bps)
    for e in run.errors:
        console.print(f"[red]parse error[/red] {e}")
    if args.json:
        json.dump(summary_dict(run, args.min_edge_bps), sys.stdout, indent=1)
        sys.stdout.write("\n")
    if args.plot:
        console.print(f"plot written to {plot_scan(run, args.plot)}")
    return 1 if run.errors or not run.listings else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="crossbook", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="the main job on the bundled Binance BTC captures: books, "
                       "basis and opportunities after fees, lead-lag")
    d.add_argument("--levels", type=int, default=10, help="depth levels to print (default 10)")
    d.add_argument("--plot-dir", default="crossbook-demo", help="where to write the plots "
                   "(default ./crossbook-demo)")
    d.add_argument("--no-plots", action="store_true", help="print only, write no files")
    d.set_defaults(func=cmd_demo)
    v = sub.add_parser("verify", help="replay captures through parsing and sync and check them")
    v.add_argument("captures", nargs="+", help="capture files (gzip text)")
    v.add_argument("--venue", help="venue of the captures (default: recognised from the data)")
    v.add_argument("--json", action="store_true", help="one JSON object per book on stdout")
    v.add_argument("--join", action="store_true",
                   help="the captures are consecutive parts of one recording (one venue): "
                        "replay them as one stream, books carried across the file boundaries")
    v.set_defaults(func=cmd_verify)
    r = sub.add_parser("replay", help="replay a capture and print one book at chosen points")
    r.add_argument("capture", help="capture file (gzip text)")
    r.add_argument("--symbol", required=True, help="the book's symbol as the venue names it")
    r.add_argument("--venue", help="venue of the capture (default: recognised from the data)")
    r.add_argument("--at", type=_parse_time, action="append",
                   help="print the book at this receive time (ns or ISO-8601); repeatable")
    r.add_argument("--every", type=int, help="print the book after every N messages of the symbol")
    r.add_argument("--levels", type=int, default=10, help="levels per side to print (default 10)")
    r.add_argument("--plot", metavar="PNG", help="draw the depth chart of the last book shown")
    r.set_defaults(func=cmd_replay)
    ll = sub.add_parser("leadlag", help="which venue leads (Hayashi-Yoshida lead-lag) and how "
                                        "the others react to its order-flow shocks")
    ll.add_argument("captures", nargs="+", help="capture files, one venue or more each; files "
                    "of one venue continue each other")
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
    sc = sub.add_parser("scan", help="cross-venue opportunities after fees, with their "
                                     "lifetimes, and the spot/derivative basis")
    sc.add_argument("captures", nargs="+", help="capture files of one or more venues; files "
                    "of one venue continue each other")
    sc.add_argument("--venue", help="venue of every capture (default: recognised per file)")
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
    add_live_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
