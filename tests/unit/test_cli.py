"""The commands a user runs: demo on the bundled data, verify on captures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossbook.cli import main

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "crossbook" / "data"


def test_demo_runs_the_main_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--levels", "3", "--plot-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    for book in ("binance BTCUSDT", "binance_usdm BTCUSDT", "binance_coinm BTCUSD_PERP"):
        assert book in out
    assert out.count("synced") >= 3
    assert "61809.64000000" in out  # the spot best bid at the end of the slice
    assert "0 opportunities after fees" in flat  # the basis never pays the taker fees
    assert "binance_usdm BTCUSDT leads binance BTCUSDT by 12 ms" in flat
    for name in ("scan.png", "mids.png", "leadlag.png", "event_study.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_verify_json_reports_integer_counts(capsys: pytest.CaptureFixture[str]) -> None:
    path = BUNDLED / "binance_coinm_btcusd_perp_20240808_slice.cap.gz"
    assert main(["verify", "--json", str(path)]) == 0
    (book,) = json.loads(capsys.readouterr().out)["books"]
    for key in ("frames", "messages", "gaps", "resyncs", "checksums_ok", "checksums_failed",
                "tob_compared", "tob_mismatched"):
        assert isinstance(book[key], int), key
    assert (book["venue"], book["symbol"], book["gaps"], book["tob_mismatched"]) == (
        "binance_coinm", "BTCUSD_PERP", 0, 0)
    assert book["tob_compared"] > 100


def test_verify_fails_on_a_damaged_capture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gzip

    src = BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz"
    lines = gzip.open(src, "rb").read().splitlines(keepends=True)
    depth = [i for i, line in enumerate(lines) if b"@depth" in line[:60]]
    del lines[depth[300]]  # one lost frame
    bad = tmp_path / "damaged.cap.gz"
    bad.write_bytes(gzip.compress(b"".join(lines)))
    assert main(["verify", "--json", str(bad)]) == 1
    (book,) = json.loads(capsys.readouterr().out)["books"]
    assert book["gaps"] == 1


def test_verify_reports_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.cap"
    junk.write_bytes(b"not a capture\n")
    assert main(["verify", str(junk)]) == 2  # cannot be read as a capture: nothing checked
    assert capsys.readouterr().err == f"crossbook verify: {junk}: line 1 is not `<recv_ns> <frame>`\n"


def test_replay_prints_the_book_at_chosen_points(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz"
    png = tmp_path / "depth.png"
    rc = main(["replay", str(path), "--symbol", "BTCUSDT", "--at", "2024-08-08T23:54:30Z",
               "--every", "400", "--levels", "2", "--plot", str(png)])
    assert rc == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps titles to the table's width
    assert "first message at or after 1723161270000000000" in out
    assert "(message 400)" in out and "(message 800)" in out
    assert "61837.88000000" in out  # best bid after the 400th book message
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_replay_before_sync_and_unknown_symbol(capsys: pytest.CaptureFixture[str]) -> None:
    path = BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz"
    assert main(["replay", str(path), "--symbol", "BTCUSDT", "--every", "1", "--levels", "1"]) == 0
    assert "BTCUSDT is buffering, no book to show" in capsys.readouterr().out
    assert main(["replay", str(path), "--symbol", "ETHUSDT"]) == 1
    assert "no book for 'ETHUSDT'" in capsys.readouterr().out


def test_verify_join_carries_books_across_files(capsys: pytest.CaptureFixture[str]) -> None:
    shared = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "captures" / "binance"
    files = sorted(str(p) for p in shared.glob("cm_btcusd_perp_2024080*.cap.gz"))
    if len(files) != 2:
        pytest.skip(f"{shared} is absent: the shared real-data set is not available")
    assert main(["verify", "--json", files[1]]) == 1  # the 0809 part alone never gets a snapshot
    (alone,) = json.loads(capsys.readouterr().out)["books"]
    assert alone["state"] == "buffering"
    assert main(["verify", "--join", "--json", *files]) == 0
    (joined,) = json.loads(capsys.readouterr().out)["books"]
    assert (joined["gaps"], joined["tob_mismatched"], joined["state"]) == (0, 0, "synced")
    assert joined["tob_compared"] > 1800
