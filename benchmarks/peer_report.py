"""What compare_peers.py and compare_peers_l3.py both print: the machine and the
versions measured, and one table of results."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shlex
import sys
from pathlib import Path


def machine_lines(argv: list[str]) -> list[str]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for dist in (
        "crossbook",
        "numpy",
        "sortedcontainers",
        "order-book",
        "nautilus-trader",
        "limit-order-book",
    ):
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return [
        f"machine: nproc={nproc}, cpu: {cpu}, {platform.system()} {platform.release()}",
        f"python {platform.python_version()}; " + ", ".join(versions),
        f"command: {shlex.join([Path(sys.executable).name, *argv])}",
    ]


def print_rows(header: list[str], body: list[list[str]], title: str, numeric: set[int]) -> None:
    """One table, with rich when it is installed; ``numeric`` columns right-aligned."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(x) for x in col) for col in zip(header, *body)]

        def line(cells: list[str]) -> str:
            return "  ".join(
                c.rjust(wd) if i in numeric else c.ljust(wd)
                for i, (c, wd) in enumerate(zip(cells, widths))
            ).rstrip()

        print(title)
        print(line(header))
        print(line(["-" * wd for wd in widths]))
        for cells in body:
            print(line(cells))
        return
    table = Table(title=title)
    for i, h in enumerate(header):
        table.add_column(h, justify="right" if i in numeric else "left")
    for cells in body:
        table.add_row(*cells)
    Console(width=200).print(table)
