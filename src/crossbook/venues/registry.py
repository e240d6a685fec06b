"""Venue modules by name, found by looking, and recognising a capture's venue.

Every module in crossbook.venues that defines ``PARSERS`` (venue name -> parser
class) and ``sniff(record) -> venue name | None`` is picked up: adding a venue
is adding its module, nothing here changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from functools import cache

from crossbook.io.capture import CaptureRecord
from crossbook.venues.base import VenueParser

__all__ = ["venues", "make_parser", "sniff_venue"]

Sniffer = Callable[[CaptureRecord], str | None]


@cache
def _discover() -> tuple[dict[str, Callable[[], VenueParser]], tuple[Sniffer, ...]]:
    import crossbook.venues as pkg

    parsers: dict[str, Callable[[], VenueParser]] = {}
    sniffers: list[Sniffer] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in ("base", "registry"):
            continue
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        for name, cls in getattr(module, "PARSERS", {}).items():
            if name in parsers:
                raise RuntimeError(f"venue {name!r} is defined twice (in {info.name})")
            parsers[name] = cls
        if callable(getattr(module, "sniff", None)):
            sniffers.append(module.sniff)
    return parsers, tuple(sniffers)


def venues() -> dict[str, Callable[[], VenueParser]]:
    """Every known venue name and its parser class."""
    return dict(_discover()[0])


def make_parser(venue: str) -> VenueParser:
    parsers = _discover()[0]
    try:
        return parsers[venue]()
    except KeyError:
        raise ValueError(f"unknown venue {venue!r}; known: {', '.join(sorted(parsers))}") from None


def sniff_venue(records: Iterable[CaptureRecord], limit: int = 2000) -> str | None:
    """The venue of the first record that some module recognises."""
    sniffers = _discover()[1]
    for i, rec in enumerate(records):
        if i >= limit:
            break
        for sniff in sniffers:
            venue = sniff(rec)
            if venue:
                return venue
    return None
