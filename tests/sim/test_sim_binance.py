"""The bundled Binance slices, replayed through parsing and sync into LEVEL_EVENT rows
(crossbook.sim.feeds), then through the simulator with a trivial taker strategy; the
reference simulator, given the same rows and decisions, must produce the same orders, fills,
answers and accounts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

import crossbook
from crossbook.sim import BookRow, ConstantLatency, Fees, Simulator, Strategy, TimeInForce, VenueConfig
from crossbook.sim.feeds import load_captures
from tests.reference.ref_sim import RefSim, RefVenue
from tests.sim._util import as_dicts

SLICES = sorted((Path(crossbook.__file__).parent / "data").glob("binance_*.cap.gz"))
ENTRY_NS, RESPONSE_NS = 2_000_000, 3_000_000
MAKER_CBPS, TAKER_CBPS = 200, 500


def replayed_rows(path: Path) -> tuple[npt.NDArray[np.void], int, int]:
    """The capture's one book as LEVEL_EVENT rows (crossbook.sim.feeds), and its exponents."""
    feeds = load_captures([path])
    assert len(feeds.venues) == 1, f"{path.name}: expected one book, got {len(feeds.venues)}"
    f = feeds.venues[0]
    return f.levels, f.price_exp, f.size_exp


class EveryNthTaker(Strategy):
    """Every 40th book message, an IOC for the touch size plus one at the third level's
    price, alternately buying and selling; remembers each decision."""

    def __init__(self) -> None:
        self.books = 0
        self.decisions: list[tuple[int, int, int, int]] = []  # (ts, side, price, size)

    def on_book(self, sim: Simulator, venue: int, row: BookRow) -> None:
        self.books += 1
        if self.books % 40 or not sim.synced(venue):
            return
        buy = len(self.decisions) % 2 == 0
        bids, asks = sim.depth(venue, 3)
        levels = asks if buy else bids
        if len(levels) == 0:
            return
        side, price, size = 1 if buy else 2, int(levels["price"][-1]), int(levels["size"][0]) + 1
        sim.submit(venue, side, size, price, tif=TimeInForce.IOC)
        self.decisions.append((sim.now, side, price, size))


@pytest.mark.skipif(not SLICES, reason="the bundled Binance slices (src/crossbook/data) are missing")
@pytest.mark.parametrize("path", SLICES, ids=lambda p: p.name.split("_2024")[0])
def test_binance_slice_taker_run_matches_the_reference(path: Path) -> None:
    rows, price_exp, size_exp = replayed_rows(path)
    sim = Simulator([VenueConfig(price_exp, size_exp, ConstantLatency(ENTRY_NS, RESPONSE_NS),
                                 Fees(MAKER_CBPS, TAKER_CBPS), synced=False)])
    sim.add_levels(0, rows)
    strat = EveryNthTaker()
    res = sim.run(strat)
    assert len(strat.decisions) > 10 and len(res.fills) > 10

    ref = RefSim([RefVenue(ENTRY_NS, RESPONSE_NS, MAKER_CBPS, TAKER_CBPS, synced=False)])
    ref.venues[0].levels = [tuple(r) for r in rows.tolist()]
    for ts, side, price, size in strat.decisions:
        ref.advance(ts)
        ref.submit(0, side, 1, TimeInForce.IOC, price, size, False)
    ref.advance(int(rows["ts_recv_ns"][-1]))

    assert as_dicts(res.orders) == [ref.orders[i] for i in sorted(ref.orders)]
    assert as_dicts(res.fills) == ref.fills
    assert as_dicts(res.responses) == ref.responses
    v = ref.venues[0]
    assert sim.account(0) == (v.position, v.cash, v.fees, v.volume)
    fills = as_dicts(res.fills)
    assert all(f["ts_fill_ns"] == f["ts_arrival_ns"] == f["ts_decision_ns"] + ENTRY_NS for f in fills)
    mark = int(rows["price"][rows["price"] > 0][-1])
    assert sim.pnl(0, mark) == sum((mark - f["price"]) * f["size"] * (1 if f["side"] == 1 else -1)
                                   - f["fee"] for f in fills)
