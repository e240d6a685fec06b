"""Stubs for the Cython checksum-text builders. Checked by tests/unit/test_contract.py."""

import numpy as np
import numpy.typing as npt

def okx_bytes(
    bids: npt.NDArray[np.void], asks: npt.NDArray[np.void], price_exp: int, size_exp: int,
    *, depth: int = 25,
) -> bytes: ...
def bitget_bytes(
    bids: npt.NDArray[np.void], asks: npt.NDArray[np.void], price_exp: int, size_exp: int,
    *, depth: int = 25,
) -> bytes: ...
def bitfinex_bytes(
    bids: npt.NDArray[np.void], asks: npt.NDArray[np.void], price_exp: int, size_exp: int,
    *, depth: int = 25,
) -> bytes: ...
def kraken_bytes(
    bids: npt.NDArray[np.void], asks: npt.NDArray[np.void], price_exp: int, size_exp: int,
    *, depth: int = 10,
) -> bytes: ...
