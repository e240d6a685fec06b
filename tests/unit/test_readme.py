"""The README's quickstart runs as printed, and its two commands are the ones CI uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_quickstart_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python block"
    exec(compile(blocks[0], "README quickstart", "exec"), {})  # noqa: S102 - our own README
    out = capsys.readouterr().out
    assert "L2Book(price_exp=2, size_exp=8, levels=2/0, bid=3.78826000 @ 61837.63, ask=None)" in out


def test_exactly_two_setup_commands_and_ci_runs_the_second() -> None:
    commands = re.findall(r"```bash\n(.*?)\n```", README.read_text(), flags=re.S)
    assert commands[:2] == [
        'python -m pip install ".[plot]" && crossbook demo',
        'python -m pip install ".[test]" && python -m pytest',
    ]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci


def _demo_claims() -> str:
    text = README.read_text()
    return text[text.index("What it prints:"):text.index("and writes the plots")]


def test_the_demo_figures_are_what_the_demo_prints(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from crossbook.cli import main

    assert main(["demo", "--no-plots"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    claims = " ".join(_demo_claims().split())
    figures = re.findall(r"(\d+(?:\.\d+)?) (?:bps|ms)", claims)
    assert len(figures) >= 5, claims
    for figure in figures:  # the tables print them with or without a sign
        assert re.search(rf"(?<![\d.]){re.escape(figure)}(?![\d])", printed), figure
    assert "0 mismatches" in claims and "tob" not in claims
    for lead in ("binance_usdm BTCUSDT leads binance BTCUSDT by 12 ms",
                 "binance_coinm BTCUSD_PERP leads binance BTCUSDT by 2 ms",
                 "Leader: binance_coinm BTCUSD_PERP",
                 "binance_coinm BTCUSD_PERP vs binance_usdm BTCUSDT: unclear"):
        assert lead in printed, lead
    assert "few seconds" not in README.read_text()


def test_the_verify_example_is_what_verify_prints(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from crossbook.cli import main

    text = README.read_text()
    start = text.index("$ crossbook verify ")
    command, _, rest = text[start:].partition("\n")
    example = rest[:rest.index("```")]
    data = ROOT / ".." / "shared" / "data" / "captures" / "kraken"
    if not (data / "kraken_book_v1_2021.cap.gz").exists():
        pytest.skip(f"{data} is absent: the shared real-data set is not available")
    args = [a if a.startswith("src/") else str(data / a) for a in command.split()[3:]]
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["verify", *(str(ROOT / a) if a.startswith("src/") else a for a in args)]) == 0
    printed = "\n".join(line.rstrip() for line in capsys.readouterr().out.splitlines())
    assert printed.strip("\n") == example.strip("\n")
