"""The timed loops, shared by bench_l2_book.py and compare_peers.py.

They are module-level functions with the bound methods in locals (a local
load is cheaper than an attribute lookup per update), and each returns what
its caller checks: the book and the last read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEPTH_N = 10


def update_bbo(book: Any, sides: list[int], prices: list[int], sizes: list[int]) -> Any:
    """update() then bbo() after every update; for crossbook.L2Book and PyL2Book."""
    update, bbo = book.update, book.bbo
    last = None
    for s, p, q in zip(sides, prices, sizes):
        update(s, p, q)
        last = bbo()
    return book, last


def update_depth(book: Any, sides: list[int], prices: list[int], sizes: list[int]) -> Any:
    """update() then depth(10) after every update."""
    update, depth = book.update, book.depth
    last = None
    for s, p, q in zip(sides, prices, sizes):
        update(s, p, q)
        last = depth(DEPTH_N)
    return book, last


def update_depth_into(
    book: Any, sides: list[int], prices: list[int], sizes: list[int], bids_out: Any, asks_out: Any
) -> Any:
    """update() then depth_into() two preallocated DEPTH arrays after every update."""
    update, depth_into = book.update, book.depth_into
    counts = None
    for s, p, q in zip(sides, prices, sizes):
        update(s, p, q)
        counts = depth_into(bids_out, asks_out)
    return book, counts


def apply_batch(book: Any, events: np.ndarray, bbo_out: np.ndarray | None) -> Any:
    book.apply(events, bbo_out)
    return book


def apply_recording(book: Any, events: np.ndarray, depth_out: np.ndarray | None,
                    features_out: np.ndarray | None) -> Any:
    book.apply(events, depth_out=depth_out, features_out=features_out, n=DEPTH_N)
    return book
