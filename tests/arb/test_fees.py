"""Fees are exact integers of hundredths of a bp; defaults cover every venue."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from crossbook.arb.fees import (
    DEFAULT_COSTS,
    MAX_FEE_CBPS,
    VenueCosts,
    bps_to_cbps,
    costs_for,
    parse_fee_overrides,
)
from crossbook.venues.registry import venues


@pytest.mark.parametrize(("fee", "cbps"), [
    (10, 1000), ("7.5", 750), (7.5, 750), (0.1, 10), ("0.01", 1), (Fraction(1, 4), 25),
    (Decimal("2.25"), 225), ("-0.25", -25), ("0", 0), (" 5 ", 500),
])
def test_bps_to_cbps_is_exact(fee: object, cbps: int) -> None:
    assert bps_to_cbps(fee) == cbps  # type: ignore[arg-type]


@pytest.mark.parametrize("fee", ["0.001", 0.333, Fraction(1, 3), "10000", "-10000", "abc", ""])
def test_bps_to_cbps_refuses_what_it_cannot_hold(fee: object) -> None:
    with pytest.raises(ValueError):
        bps_to_cbps(fee)  # type: ignore[arg-type]


def test_bps_to_cbps_refuses_non_numbers() -> None:
    with pytest.raises(TypeError):
        bps_to_cbps(True)
    with pytest.raises(TypeError):
        bps_to_cbps([1])  # type: ignore[arg-type]


def test_every_supported_venue_has_default_costs() -> None:
    assert set(venues()) <= set(DEFAULT_COSTS)
    for name, c in DEFAULT_COSTS.items():
        assert 0 <= c.taker_cbps <= 200 * 100, name  # no base tier charges over 2%
        assert c.maker_cbps <= c.taker_cbps, name
        assert c.latency_ns == 10_000_000
    # The bundled data's venues, as published (base tier).
    assert DEFAULT_COSTS["binance"].taker_bps == 10
    assert DEFAULT_COSTS["binance_usdm"].taker_bps == 5
    assert DEFAULT_COSTS["binance_usdm"].maker_bps == 2
    assert DEFAULT_COSTS["binance_coinm"].taker_bps == 5


def test_overrides_parse_and_keep_unspecified_fields() -> None:
    got = parse_fee_overrides(["binance=7.5,binance_usdm=4/1.8@5", "newvenue=3"])
    assert got["binance"] == VenueCosts(750, 1000, 10_000_000)
    assert got["binance_usdm"] == VenueCosts(400, 180, 5_000_000)
    assert got["newvenue"] == VenueCosts(300, 0, 10_000_000)
    assert costs_for("binance", got).taker_cbps == 750
    assert costs_for("kraken", got) == DEFAULT_COSTS["kraken"]


@pytest.mark.parametrize("spec", ["binance", "=5", "binance=", "binance=x", "binance=0.001"])
def test_bad_overrides_are_errors(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_fee_overrides([spec])


def test_unknown_venue_without_fees_is_an_error() -> None:
    with pytest.raises(KeyError, match="no fees known"):
        costs_for("nowhere")


def test_venue_costs_validate() -> None:
    with pytest.raises(ValueError):
        VenueCosts(MAX_FEE_CBPS + 1, 0, 0)
    with pytest.raises(TypeError):
        VenueCosts(1.5, 0, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        VenueCosts(0, 0, -1)
    c = VenueCosts.from_bps("7.5", "-0.5", "2.5")
    assert (c.taker_cbps, c.maker_cbps, c.latency_ns, c.latency_ms) == (750, -50, 2_500_000, 2.5)
