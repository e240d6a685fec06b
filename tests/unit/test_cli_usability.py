"""The command line as a new user meets it: readable at 100 columns, one-line errors
that name the file, plots skipped with a hint when matplotlib is missing, --version,
help on every subcommand, and the symbols of a capture listed."""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

from crossbook import __version__
from crossbook.cli import build_parser, main

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "crossbook" / "data"
SPOT = BUNDLED / "binance_spot_btcusdt_20240808_slice.cap.gz"
KRAKEN = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "captures" / "kraken"
          / "kraken_book_v1_2021.cap.gz")
COMMANDS = ("verify", "replay", "leadlag", "scan")


def _assert_fits(text: str, width: int = 100) -> None:
    assert "…" not in text, "a cell was cut"
    longest = max(text.splitlines(), key=len)
    assert len(longest) <= width, longest


def test_verify_table_is_readable_at_100_columns(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    captures = [str(p) for p in sorted(BUNDLED.glob("*.cap.gz"))]
    if KRAKEN.exists():
        captures.append(str(KRAKEN))  # five books in one capture
    assert main(["verify", *captures]) == 0
    out = capsys.readouterr().out
    _assert_fits(out)
    for text in ("binance_coinm", "BTCUSD_PERP", "binance_usdm_btcusdt_20240808_slice.cap.gz",
                 "11,857", "6,898", "69,891", "synced", "61809.64"):
        assert text in out, text


def test_demo_is_readable_at_100_columns(tmp_path: Path) -> None:
    from crossbook.demo import run_demo

    console = Console(width=100, record=True, file=io.StringIO())
    assert run_demo(console, levels=3, plot_dir=None) == 0
    _assert_fits(console.export_text())


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """A name -> (file, the words its error must contain)."""
    empty = tmp_path / "empty.cap.gz"
    empty.write_bytes(b"")
    fake_gz = tmp_path / "fake.cap.gz"
    fake_gz.write_bytes(b"PK\x03\x04 a zip file, really")
    garbage = tmp_path / "garbage.cap"
    garbage.write_bytes(b"1723161270000000000 {}\n1723161270000000001 {}\n\x00\xff\xfe binary\n")
    folder = tmp_path / "folder.cap.gz"
    folder.mkdir()
    return {
        "missing": (tmp_path / "missing.cap.gz", "no such file"),
        "empty": (empty, "empty file"),
        "not gzip": (fake_gz, "not a gzip file"),
        "garbage": (garbage, "line 3 is not `<recv_ns> <frame>`"),
        "directory": (folder, "is a directory, not a capture file"),
    }


def _args(command: str, path: Path) -> list[str]:
    if command == "replay":
        return ["replay", str(path), "--symbol", "BTCUSDT"]
    if command in ("leadlag", "scan"):
        return [command, str(SPOT), str(path)]
    return [command, str(path)]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", ["missing", "empty", "not gzip", "garbage", "directory"])
def test_a_bad_file_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          command: str, kind: str) -> None:
    path, words = _bad_files(tmp_path)[kind]
    assert main(_args(command, path)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"crossbook {command}: {path}: {words}\n"


def test_an_unknown_venue_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for command in COMMANDS:
        assert main([*_args(command, SPOT), "--venue", "nosuch"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"crossbook {command}: unknown venue 'nosuch'; known: ")
        assert err.count("\n") == 1


def test_an_unrecognised_capture_asks_for_the_venue(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    anonymous = tmp_path / "anonymous.cap.gz"
    anonymous.write_bytes(gzip.compress(b"".join(b'%d {"hello": %d}\n' % (1723161270000000000 + i, i)
                                                 for i in range(50))))
    for command in COMMANDS:
        assert main(_args(command, anonymous)) == 2
        err = capsys.readouterr().err
        assert err == (f"crossbook {command}: {anonymous}: cannot tell the venue from the "
                       "first records; pass --venue\n")


def test_leadlag_takes_a_venue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in COMMANDS:
        flags = {o for a in _subparser(command)._actions for o in a.option_strings}
        assert "--venue" in flags, command
    assert main(["leadlag", "--venue", "binance", str(SPOT), str(SPOT)]) == 1
    assert "Fewer than two books" in capsys.readouterr().out


def _subparser(command: str):  # type: ignore[no-untyped-def]
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return sub.choices[command]  # type: ignore[index]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"crossbook {__version__}\n"


@pytest.mark.parametrize("command", ["demo", *COMMANDS])
def test_every_subcommand_describes_itself(command: str) -> None:
    sub = _subparser(command)
    assert sub.description and len(sub.description) > 30
    assert sub.description in sub.format_help().replace("\n", " ") or sub.description.split()[0] in sub.format_help()


def test_replay_without_symbol_lists_the_symbols(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(SPOT)]) == 0
    out = capsys.readouterr().out
    assert "BTCUSDT" in out and "898" in out  # the book's messages, as verify counts them
    if KRAKEN.exists():
        assert main(["replay", str(KRAKEN)]) == 0
        out = capsys.readouterr().out
        for symbol, messages in (("SC/EUR", "819"), ("GRT/ETH", "21"), ("XMR/USD", "847")):
            assert symbol in out and messages in out


@pytest.fixture()
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails


@pytest.mark.usefixtures("no_matplotlib")
def test_without_matplotlib_the_demo_prints_and_skips_plots(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--levels", "1", "--plot-dir", str(tmp_path / "plots")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "0 opportunities after fees" in out and "Leader:" in out
    assert 'plots need matplotlib: pip install "crossbook[plot]"' in out
    assert not list(tmp_path.rglob("*.png"))


@pytest.mark.usefixtures("no_matplotlib")
@pytest.mark.parametrize("args", [
    ["scan", str(SPOT), "--plot", "{tmp}/scan.png"],
    ["replay", str(SPOT), "--symbol", "BTCUSDT", "--plot", "{tmp}/depth.png"],
    ["leadlag", *(str(p) for p in sorted(BUNDLED.glob("*.cap.gz"))), "--grid", "10",
     "--plot-dir", "{tmp}"],
])
def test_without_matplotlib_plots_are_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              args: list[str]) -> None:
    rc = main([a.format(tmp=tmp_path) for a in args])
    out = " ".join(capsys.readouterr().out.split())
    assert rc == 0, out
    assert 'plots need matplotlib: pip install "crossbook[plot]"' in out
    assert not list(tmp_path.rglob("*.png"))


def test_progress_shows_on_a_terminal_only() -> None:
    from crossbook.console import progress

    for terminal in (True, False):
        out = io.StringIO()
        console = Console(file=out, force_terminal=terminal, width=100)
        with progress(console) as on_progress:
            on_progress("spot.cap.gz", 0)
            on_progress("spot.cap.gz", 5000)
        assert ("spot.cap.gz" in out.getvalue()) is terminal


def test_joined_parts_are_read_as_the_first_ones_venue(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # A later part of a recording need not be recognisable alone: it continues the first.
    tail = tmp_path / "part2.cap.gz"
    tail.write_bytes(gzip.compress(b'1723161400000000000 {"hello": 1}\n'))
    assert main(["verify", str(SPOT), str(tail)]) == 2  # not joined: part2 alone is unknown
    assert "cannot tell the venue" in capsys.readouterr().err
    rc = main(["verify", "--join", str(SPOT), str(tail)])
    captured = capsys.readouterr()
    assert "cannot tell the venue" not in captured.err and rc in (0, 1)
    assert "BTCUSDT" in captured.out
