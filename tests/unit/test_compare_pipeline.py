"""benchmarks/compare_pipeline.py runs and reports what it measured (one round, no timing claim)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/ beside tests/

from benchmarks import compare_pipeline  # noqa: E402


def test_one_round_on_the_bundled_slice(capsys: pytest.CaptureFixture[str]) -> None:
    assert compare_pipeline.main(
        ["--rounds", "1", "--only", "binance_spot", "--no-cryptofeed", "--json"]) == 0
    out, err = capsys.readouterr()
    (row,) = json.loads(out)["rows"]
    assert row["case"] == "binance_spot" and row["venue"] == "binance"
    assert row["frames"] > 800 and row["crossbook_frames_per_s"] > 0
    assert row["orjson_frames_per_s"] > 0 and "cryptofeed_frames_per_s" not in row
    assert "note: binance_spot" not in err  # the replay it timed was clean


def test_every_case_names_a_capture_a_venue_module_recognises() -> None:
    shared = compare_pipeline.SHARED
    if not shared.exists():
        pytest.skip(f"{shared} is absent: the shared real-data set is not available")
    for name, (source, keep) in compare_pipeline.CASES.items():
        case = compare_pipeline.build_case(name, source, keep, with_cryptofeed=False)
        assert case is not None and case.payloads, name
