"""What the commands print on a terminal: the console, progress bars, and the tables
of book sync reports and book depth that `crossbook verify`, `replay` and `demo` share.

Tables are laid out to be read whole in a 100-column terminal: related counts share a
column over two lines rather than being cut.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from crossbook import L2Book, format_fixed
from crossbook.replay import BookReport
from crossbook.replay_files import ProgressCallback

__all__ = ["book_report_table", "depth_table", "make_console", "mid_text", "print_plots", "progress"]

_PIPE_WIDTH = 200  # a pipe or a file: wide enough that no table wraps


def make_console(stderr: bool = False) -> Console:
    """A terminal's own width; in a pipe, $COLUMNS or a width that wraps nothing."""
    console = Console(stderr=stderr)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, width=_PIPE_WIDTH)
    return console


@contextlib.contextmanager
def progress(console: Console) -> Iterator[ProgressCallback]:
    """A progress bar per named task, on a terminal only; yields the callback to update it."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed:,} records"), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        tasks = {}

        def update(name: str, records: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=None)
            bar.update(tasks[name], completed=records)

        yield update


def _trim_zeros(text: str | None) -> str:
    """'0.19439000 @ 61809.64000000' -> '0.19439 @ 61809.64': the same numbers, narrower."""
    if not text:
        return "-"
    return " ".join(w.rstrip("0").rstrip(".") if "." in w and w.replace(".", "").isdigit() else w
                    for w in text.split(" "))


# (header, fields): each column holds two related counts, one above the other.
_COUNT_COLUMNS = (("frames\nmsgs", ("frames", "messages")),
                  ("levels\nsnaps", ("levels", "snapshots")),
                  ("gaps\nresyncs", ("gaps", "resyncs")),
                  ("cksum ok\ncksum bad", ("checksums_ok", "checksums_failed")),
                  ("tob cmp\ntob bad", ("tob_compared", "tob_mismatched")))


def book_report_table(reports: Sequence[BookReport], title: str) -> Table:
    """One row per book, over two lines: counts of what the replay checked, state, top."""
    table = Table(title=title, header_style="bold", box=box.SIMPLE_HEAD, leading=1,
                  pad_edge=False)
    table.add_column("book", overflow="fold")
    for header, _ in _COUNT_COLUMNS:
        table.add_column(header, justify="right", overflow="fold")
    table.add_column("state")
    table.add_column("best bid\nbest ask", justify="right", overflow="fold")
    for r in reports:
        table.add_row(f"{r.venue}\n{r.symbol}",
                      *("\n".join(f"{getattr(r, f):,}" for f in fields) for _, fields in _COUNT_COLUMNS),
                      r.state, f"{_trim_zeros(r.best_bid)}\n{_trim_zeros(r.best_ask)}",
                      style="red" if r.failed else None)
    return table


def depth_table(title: str, book: L2Book, levels: int) -> Table:
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


def mid_text(book: L2Book) -> str:
    bid, ask = book.bbo()
    if bid is None or ask is None:
        return "-"
    # (bid + ask) / 2 == (bid + ask) * 5 / 10: exact in decimal, one more digit.
    text = format_fixed((bid[0] + ask[0]) * 5, book.price_exp + 1)
    return text.rstrip("0").rstrip(".") if "." in text else text


def print_plots(console: Console, draw: Callable[[], Sequence[Path]]) -> bool:
    """Draws, and says where; without matplotlib says how to get it. False if drawing failed."""
    from crossbook.plots import PlotsUnavailable

    try:
        paths = draw()
    except PlotsUnavailable as exc:
        console.print(f"[yellow]no plots[/yellow]: {escape(str(exc))}")
        return True
    except (OSError, ValueError) as exc:
        console.print(f"[red]no plots[/red]: {escape(str(exc))}")
        return False
    for path in paths:
        console.print(f"plot written to {path}")
    return True
