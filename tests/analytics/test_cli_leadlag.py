"""`crossbook leadlag` on the bundled captures: summary, JSON and plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossbook.cli import main

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "crossbook" / "data"
BOOKS = {"binance BTCUSDT", "binance_usdm BTCUSDT", "binance_coinm BTCUSD_PERP"}


def test_leadlag_json_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    captures = [str(p) for p in sorted(BUNDLED.glob("*.cap.gz"))]
    assert main(["leadlag", *captures, "--json", "--plot-dir", str(tmp_path),
                 "--max-lag-ms", "100", "--grid", "50"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["books"]) == BOOKS and out["source"] == "quote"
    assert out["leader"] in BOOKS and len(out["pairs"]) == 3
    for p in out["pairs"]:
        assert len(p["lags_ms"]) == len(p["rho"]) == 101
        assert p["lags_ms"][0] == -100 and p["lags_ms"][-1] == 100
        assert p["leader"] in (p["x"], p["y"]) and p["llr"] > 0
        assert len(p["block_leaders"]) == 3
    # The event study: the leader's two kinds of shock against each of the two followers.
    studies = out["event_studies"]
    assert {(s["follower"], s["kind"]) for s in studies} == {
        (b, k) for b in BOOKS - {out["leader"]} for k in ("touch", "ofi")}
    for s in studies:
        assert s["shocks"] > 5
        assert set(s["responses"]) == {"mid", "spread", "imbalance", "depth", "leader_mid"}
        assert len(s["responses"]["mid"]["mean"]) == len(s["horizons_ms"])
    spot = out["books"]["binance BTCUSDT"]
    assert sum(spot["volume_profile"]["buy"]) + sum(spot["volume_profile"]["sell"]) > 0
    for name in ("mids.png", "leadlag.png", "event_study.png"):
        png = tmp_path / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_leadlag_prints_a_readable_summary(capsys: pytest.CaptureFixture[str]) -> None:
    captures = [str(p) for p in sorted(BUNDLED.glob("*.cap.gz"))]
    assert main(["leadlag", *captures, "--grid", "20", "--source", "book"]) == 0
    out = capsys.readouterr().out
    assert "Leader:" in out and "leads" in out and "Event study" in out
    assert "(book top of book" in out and "Only 9" in out  # a short sample is flagged


def test_leadlag_needs_two_books(capsys: pytest.CaptureFixture[str]) -> None:
    one = str(BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz")
    assert main(["leadlag", one]) == 1
    assert "Fewer than two books" in capsys.readouterr().out
