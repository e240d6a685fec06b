"""Pictures a person would rather look at than read. matplotlib is imported lazily
(it is an optional dependency: pip install "crossbook[plot]")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crossbook import L2Book, Side

__all__ = ["depth_chart"]


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError('plots need matplotlib: pip install "crossbook[plot]"') from exc
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
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
