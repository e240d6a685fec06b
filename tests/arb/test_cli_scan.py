"""`crossbook scan` on the bundled Binance captures: what the data shows.

The three books are 90 s of BTC on Binance spot, USD-M and COIN-M. Both
perpetuals trade below spot (USD-M by ~3.5 bps, COIN-M by ~2.8 bps), so the
books cross only by a few bps, far less than two taker fees (10 + 5 bps spot
against a perpetual, 5 + 5 bps between the perpetuals): no opportunity after the
default fees. With the fees set to zero the basis itself shows up as
opportunities, which is what makes a fee-aware scanner worth having.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossbook.cli import main

DATA = Path(__file__).resolve().parents[2] / "src" / "crossbook" / "data"
CAPTURES = [str(p) for p in sorted(DATA.glob("*.cap.gz"))]
SPOT, USDM, COINM = "binance BTCUSDT", "binance_usdm BTCUSDT", "binance_coinm BTCUSD_PERP"


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["scan", *CAPTURES, "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_default_fees_no_opportunity_and_the_basis(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "scan.png"
    out = scan(capsys, "--plot", str(png))
    assert {b["name"] for b in out["books"]} == {SPOT, USDM, COINM}
    assert out["units"] == {"BTC/USD": {"price_exp": 8, "size_exp": 8}}
    assert out["pairs"] == [] and out["events"] == [] and out["errors"] == []
    closest = {(c["buy"], c["sell"]): c["best_edge_bps"] for c in out["closest"]}
    assert len(closest) == 6 and max(closest.values()) < -7
    # The nearest miss: buy USD-M, sell COIN-M, -7.90 bps after 10 bps of fees.
    assert max(closest, key=closest.__getitem__) == (USDM, COINM)
    assert closest[(USDM, COINM)] == pytest.approx(-7.90, abs=0.01)
    # Spot against the perpetuals: the perp cheaper all along.
    basis = {b["derivative"]: b for b in out["basis"]}
    assert set(basis) == {USDM, COINM} and all(b["spot"] == SPOT for b in basis.values())
    assert basis[USDM]["basis_bps_mean"] == pytest.approx(-3.54, abs=0.01)
    assert basis[COINM]["basis_bps_mean"] == pytest.approx(-2.83, abs=0.01)
    for b in basis.values():
        assert b["basis_bps_max"] < -1.5 and b["basis_bps_min"] > -6
        assert b["samples"] > 2000 and b["size"] == 10**8  # 1 BTC at 8 decimals
        # Executable for 1 BTC: selling the perp gets less than buying it costs.
        assert b["sell_perp_bps_mean"] < b["basis_bps_mean"] < b["buy_perp_bps_mean"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_without_fees_the_basis_is_an_opportunity(capsys: pytest.CaptureFixture[str]) -> None:
    out = scan(capsys, "--fees", "binance=0,binance_usdm=0", "--fees", "binance_coinm=0")
    pairs = {(p["buy"], p["sell"]): p for p in out["pairs"]}
    assert (USDM, SPOT) in pairs and (COINM, SPOT) in pairs
    assert (SPOT, USDM) not in pairs and (SPOT, COINM) not in pairs  # spot is never the cheap one
    long = pairs[(USDM, SPOT)]
    assert long["count"] == 1 and long["max_ms"] > 80_000 and 2 < long["peak_edge_bps"] < 4
    kinds = {e["kind"] for e in out["events"]}
    assert kinds == {"opened", "updated", "closed"}
    for e in out["events"]:
        assert e["pnl"] > 0 and e["size"] > 0 and e["buy_vwap"] < e["sell_vwap"]
    # --min-edge-bps keeps only what peaked above it.
    out = scan(capsys, "--fees", "binance=0,binance_usdm=0,binance_coinm=0", "--min-edge-bps", "2")
    assert {(p["buy"], p["sell"]) for p in out["pairs"]} == {(USDM, SPOT), (COINM, SPOT)}
    assert all(p["peak_edge_bps"] >= 2 for p in out["pairs"])


def test_summary_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", *CAPTURES, "--max-age-ms", "none", "--size", "0.5"]) == 0
    text = capsys.readouterr().out
    assert "None crossed after fees" in text and "Basis" in text and "0.5" in text


def test_bad_fee_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", CAPTURES[0], "--fees", "binance=0.001"]) == 2
    assert "hundredths" in capsys.readouterr().out
