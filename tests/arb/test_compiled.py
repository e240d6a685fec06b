"""The compiled ArbScanner behind ScanCore's methods gives the Python core's events.

Skipped when crossbook._core lacks the arbitrage bindings (cpp/bindings/register_arb.cpp);
a failure instead under CROSSBOOK_REQUIRE_COMPILED=1 (see tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossbook.arb import compiled
from crossbook.arb.fees import VenueCosts
from crossbook.arb.scanner import OpportunityEvent, ScanCore
from crossbook.arb.session import discover_instruments, merged_records
from crossbook.arb.stream import Scanner
from crossbook.arb.units import common_units, default_listing
from crossbook.messages import Message
from crossbook.replay import Replay, open_capture
from crossbook.sync import BookSync
from tests.arb.test_scanner import clear, lv
from tests.conftest import require_compiled


@pytest.fixture(autouse=True, scope="module")
def _compiled_scanner() -> None:
    require_compiled(compiled.available(), "crossbook._core has no ArbScanner")

DATA = Path(__file__).resolve().parents[2] / "src" / "crossbook" / "data"


def same(a: list[OpportunityEvent], b: list[OpportunityEvent]) -> None:
    assert [e.as_dict() for e in a] == [e.as_dict() for e in b]
    assert [(e.opportunity, e.peak_edge, e.peak_size) for e in a] == [
        (e.opportunity, e.peak_edge, e.peak_size) for e in b]


def test_dtypes_match_the_core_layouts() -> None:
    assert compiled.SCAN_EVENT.itemsize == 48 and compiled.OPPORTUNITY_EVENT.itemsize == 136


op = st.one_of(
    st.tuples(st.just("levels"), st.integers(0, 2), st.integers(0, 20),
              st.lists(st.tuples(st.sampled_from([1, 2]), st.integers(95, 105),
                                 st.integers(0, 6)), min_size=1, max_size=4)),
    st.tuples(st.just("snapshot"), st.integers(0, 2), st.integers(0, 20),
              st.lists(st.tuples(st.sampled_from([1, 2]), st.integers(95, 105),
                                 st.integers(1, 6)), max_size=6)),
    st.tuples(st.just("heartbeat"), st.integers(0, 2), st.integers(0, 40), st.none()),
    st.tuples(st.just("sync"), st.integers(0, 2), st.integers(0, 5), st.booleans()),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 300), min_size=3, max_size=3), st.sampled_from([None, 30]),
       st.sampled_from([None, 4]), st.lists(op, max_size=40))
def test_same_events_as_the_python_core(fees: list[int], max_age: int | None,
                                        max_size: int | None, ops: list[tuple]) -> None:  # type: ignore[type-arg]
    cores = [ScanCore(0, 0, max_age, max_size), compiled.CompiledScanCore(0, 0, max_age, max_size)]
    for core in cores:
        for i, f in enumerate(fees):
            core.add_book(f"v{i}", f, latency_ns=5)
    now = 0
    for kind, i, dt, arg in ops:
        now += dt
        out = []
        for core in cores:
            if kind == "levels":
                out.append(core.apply(i, lv(*arg), now))
            elif kind == "snapshot":
                out.append(core.apply(i, np.concatenate([clear(), lv(*arg)]), now))
            elif kind == "heartbeat":
                out.append(core.heartbeat(i, now))
            else:
                out.append(core.set_synced(i, arg, now))
        same(*out)
        for b in range(3):
            assert cores[0].usable(b) == cores[1].usable(b)
            for s in range(3):
                if b != s:
                    assert cores[0].open_opportunity(b, s) == cores[1].open_opportunity(b, s)
    same(cores[0].flush(now + 1), cores[1].flush(now + 1))


def test_same_events_on_the_bundled_captures() -> None:
    paths = sorted(DATA.glob("*.cap.gz"))
    opened = [open_capture(p) for p in paths]
    insts = [i for p, (parser, _) in zip(paths, opened, strict=True)
             for i in discover_instruments(parser.venue, open_capture(p, parser.venue)[1])]
    units = common_units([(default_listing(i), i.price_exp, i.size_exp) for i in insts])
    free = {v: VenueCosts(0, 0, 0) for v in ("binance", "binance_usdm", "binance_coinm")}
    scanners = [Scanner(units, costs=free, max_age_ms=1000),
                Scanner(units, costs=free, max_age_ms=1000,
                        core_factory=compiled.CompiledScanCore)]
    for sc in scanners:
        for i in insts:
            sc.add(default_listing(i), i.price_exp, i.size_exp)

    def on_message(msg: Message, sync: BookSync | None) -> None:
        for sc in scanners:
            sc.on_message(msg, sync)

    replays = {parser.venue: Replay(parser, on_message=on_message) for parser, _ in opened}
    feeders = [replays[parser.venue] for parser, _ in opened]
    for k, rec in merged_records([r for _, r in opened]):
        feeders[k].feed(rec)
    for sc in scanners:
        sc.finish()
    assert len(scanners[0].events) > 100
    same(scanners[0].events, scanners[1].events)
