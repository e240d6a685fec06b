"""Venue modules by name, and recognising which venue a capture came from."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.venues.base import VenueParser
from crossbook.venues.binance import BinanceCoinm, BinanceSpot, BinanceUsdm

__all__ = ["VENUES", "make_parser", "sniff_venue"]

VENUES: dict[str, Callable[[], VenueParser]] = {
    "binance": BinanceSpot,
    "binance_usdm": BinanceUsdm,
    "binance_coinm": BinanceCoinm,
}


def make_parser(venue: str) -> VenueParser:
    try:
        return VENUES[venue]()
    except KeyError:
        raise ValueError(f"unknown venue {venue!r}; known: {', '.join(sorted(VENUES))}") from None


# Each sniffer looks at one record and returns a venue name or None. Order matters:
# the more specific tests come first.
def _sniff_binance(rec: CaptureRecord) -> str | None:
    text = rec.payload[:200]
    if rec.kind is RecordKind.REST and rec.url:
        if "/fapi/" in rec.url:
            return "binance_usdm"
        if "/dapi/" in rec.url:
            return "binance_coinm"
        if "binance" in rec.url and "/api/v3/" in rec.url:
            return "binance"
    if rec.kind is RecordKind.FRAME and b'"e":"depthUpdate"' in text:
        if b'"ps":' in text:
            return "binance_coinm"
        if b'"pu":' in text:
            return "binance_usdm"
        return "binance"
    return None


SNIFFERS: list[Callable[[CaptureRecord], str | None]] = [_sniff_binance]


def sniff_venue(records: Iterable[CaptureRecord], limit: int = 2000) -> str | None:
    """The venue of the first records that some sniffer recognises."""
    for i, rec in enumerate(records):
        if i >= limit:
            break
        for sniff in SNIFFERS:
            venue = sniff(rec)
            if venue:
                return venue
    return None
