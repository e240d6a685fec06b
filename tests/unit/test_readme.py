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
