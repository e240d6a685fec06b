"""Shared by the venues whose levels are decimal text that the venue trims
(Coinbase, Gemini, KuCoin, Gate.io) or pads (Bitstamp): level arrays from text
rows or straight from the undecoded JSON (and the choice between the two, which
Bybit and Bitget share), and ISO-8601 times to integer nanoseconds. Exponents are
inferred by InstrumentTable.resolve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

from crossbook.messages import Instrument, json_level_events, level_events
from crossbook.timeutil import iso_ns
from crossbook.venues.base import DECODE_ERRORS

__all__ = ["TextRows", "iso_ns", "read_wired", "text_levels", "wire_levels"]

TextRows = list[list[str]]
_Wire = TypeVar("_Wire")
_Read = TypeVar("_Read")


def text_levels(bids: TextRows, asks: TextRows, inst: Instrument, *, ts_exchange_ns: int = 0,
                ts_recv_ns: int = 0, snapshot: bool = False) -> npt.NDArray[np.void]:
    """LEVEL_EVENT rows, bids first, at the instrument's exponents; ValueError names
    a value that does not fit or is negative (level_events refuses both)."""
    return level_events(bids, asks, inst.price_exp, inst.size_exp, ts_exchange_ns=ts_exchange_ns,
                        ts_recv_ns=ts_recv_ns, snapshot=snapshot)


def wire_levels(bids: msgspec.Raw, asks: msgspec.Raw, inst: Instrument, *, ts_exchange_ns: int = 0,
                ts_recv_ns: int = 0, snapshot: bool = False) -> npt.NDArray[np.void] | None:
    """text_levels read straight from the undecoded bid and ask arrays (no Python object
    per level), or None, and the caller decodes the rows as it always has.

    Only rows of exactly two strings, ``["price","size"]``, are taken (strict): the
    venues' decoders refuse bare numbers and further fields, so such frames must fail
    there as before; a value that does not fit also gives None, for the decoding path
    to name in its own words. (One difference is left: of a level key repeated in its
    object, a decoder checks every copy and this reads the last.)
    """
    return json_level_events(bids, asks, inst.price_exp, inst.size_exp, ts_exchange_ns, ts_recv_ns,
                             snapshot=snapshot, strict=True)


def read_wired(decode: Callable[[], _Wire], inst_of: Callable[[_Wire], Instrument | None],
               read: Callable[[_Wire, Instrument], _Read | None]) -> _Read | None:
    """A book read with its levels undecoded (wire_levels), or None for the decoding path:
    a symbol without exponents yet (its rows fix them), or anything unusual, which that
    path then parses or refuses exactly as it always has.

    ``decode`` reads the frame with its level arrays left raw, ``inst_of`` names the
    known instrument, ``read`` builds the result (None when a level does not fit).
    """
    try:
        wire = decode()
        inst = inst_of(wire)
        return None if inst is None else read(wire, inst)
    except (*DECODE_ERRORS, ValueError):
        return None
