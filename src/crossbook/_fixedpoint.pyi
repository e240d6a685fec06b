"""Stubs for the Cython fixed-point parser. Checked by tests/unit/test_contract.py."""

from collections.abc import Sequence
from typing import Literal, overload

from typing_extensions import Buffer

import numpy as np
import numpy.typing as npt

def parse_fixed(text: str | int, exp: int) -> int: ...
def parse_levels(
    rows: Sequence[Sequence[str | int]], price_exp: int, size_exp: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def level_events(
    bids: Sequence[Sequence[str | int]],
    asks: Sequence[Sequence[str | int]],
    price_exp: int,
    size_exp: int,
    *,
    ts_exchange_ns: int = 0,
    ts_recv_ns: int = 0,
    snapshot: bool = False,
) -> npt.NDArray[np.void]: ...
@overload
def json_level_events(
    bids_raw: Buffer,
    asks_raw: Buffer,
    price_exp: int,
    size_exp: int,
    ts_exchange_ns: int = 0,
    ts_recv_ns: int = 0,
    *,
    snapshot: bool = False,
    strict: Literal[False] = False,
) -> npt.NDArray[np.void]: ...
@overload
def json_level_events(
    bids_raw: Buffer,
    asks_raw: Buffer,
    price_exp: int,
    size_exp: int,
    ts_exchange_ns: int = 0,
    ts_recv_ns: int = 0,
    *,
    snapshot: bool = False,
    strict: Literal[True],
) -> npt.NDArray[np.void] | None: ...
