"""`crossbook backtest` on the bundled Binance slices: both strategies trade, the JSON keeps its
contract field by field and its numbers agree with each other, and the reference simulator,
fed the same rows and the strategy's logged requests, reproduces every order and fill."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

import crossbook
from crossbook import cli_backtest
from crossbook.cli import build_parser, main
from crossbook.cli_backtest import prepare
from crossbook.sim import ConstantLatency
from crossbook.sim.backtest import run_backtest
from crossbook.sim.feeds import Feeds, load_captures
from crossbook.sim.report import build_report
from crossbook.sim.strategies import LoggedStrategy
from tests.reference.ref_sim import RefSim, RefVenue
from tests.sim._util import as_dicts

SLICES = sorted(str(p) for p in (Path(crossbook.__file__).parent / "data").glob("binance_*.cap.gz"))
pytestmark = pytest.mark.skipif(len(SLICES) != 3, reason="the bundled Binance slices "
                                "(src/crossbook/data) are missing")

# Low-fee accounts: at the base tier no cross between these books pays both taker fees.
CROSS_ARB = ["--strategy", "cross-arb", "--fees", "binance=0/0", "--fees", "binance_usdm=0/0",
             "--fees", "binance_coinm=0/0", "--latency", "binance_usdm=5/3"]
LEADLAG = ["--strategy", "leadlag-quote", "--primary", "binance_usdm", "--secondary", "binance"]
FILL_FIELDS = ["order_id", "venue", "symbol", "side", "price", "size", "fee", "liquidity",
               "ts_decision_ns", "ts_arrival_ns", "ts_fill_ns"]
_FEEDS: dict[tuple[tuple[str, ...], str | None], Feeds] = {}
ORDER_FIELDS = ["order_id", "venue", "symbol", "side", "type", "price", "size", "status", "reason"]


@pytest.fixture(autouse=True)
def _loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each capture set is replayed once per session: loading is deterministic and slow."""
    def cached(paths: list[str], **kwargs: Any) -> Feeds:
        key = (tuple(paths), kwargs.get("venue"))
        if key not in _FEEDS:
            _FEEDS[key] = load_captures(paths, **kwargs)
        return _FEEDS[key]

    monkeypatch.setattr(cli_backtest, "load_captures", cached)


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict[str, Any]:
    assert main(["backtest", *SLICES, *args, "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def _is_decimal(text: object) -> bool:
    return isinstance(text, str) and Decimal(text).is_finite()


def _check_contract(out: dict[str, Any]) -> None:
    assert list(out) == ["orders", "fills", "risk_events", "summary"]
    for e in out["risk_events"]:
        assert e["kind"] in ("order_refused", "breaker_tripped", "breaker_reset", "kill")
        assert _is_decimal(e["value"]) and _is_decimal(e["limit"]) and isinstance(e["ts_ns"], int)
    for f in out["fills"]:
        assert list(f)[: len(FILL_FIELDS)] == FILL_FIELDS
        assert all(_is_decimal(f[k]) for k in ("price", "size", "fee"))
        assert f["side"] in ("buy", "sell") and f["liquidity"] in ("maker", "taker")
        assert all(isinstance(f[k], int) for k in ("order_id", "ts_decision_ns", "ts_arrival_ns",
                                                    "ts_fill_ns"))
        assert f["ts_decision_ns"] <= f["ts_arrival_ns"] <= f["ts_fill_ns"]
    for o in out["orders"]:
        assert list(o)[: len(ORDER_FIELDS)] == ORDER_FIELDS
        assert o["side"] in ("buy", "sell") and o["type"] in ("limit", "market")
        assert (o["price"] is None) == (o["type"] == "market")
        assert o["price"] is None or _is_decimal(o["price"])
        assert _is_decimal(o["size"])
        assert o["status"] in ("pending", "open", "filled", "cancelled", "rejected")
        assert o["reason"] is None or isinstance(o["reason"], str)
    s = out["summary"]
    assert all(_is_decimal(s[k]) for k in ("pnl", "fees", "max_drawdown"))
    assert all(_is_decimal(p) for symbols in s["positions"].values() for p in symbols.values())


def _check_numbers(out: dict[str, Any]) -> None:
    """fees = sum of the fills' fees; positions = signed fill sizes; pnl = cash + positions at
    mark - fees; realized + unrealized - fees = pnl; all exact."""
    s, fills = out["summary"], out["fills"]
    assert Fraction(s["fees"]) == sum(Fraction(f["fee"]) for f in fills)
    cash: dict[tuple[str, str], Fraction] = {}
    pos: dict[tuple[str, str], Fraction] = {}
    for f in fills:
        key, sign = (f["venue"], f["symbol"]), 1 if f["side"] == "buy" else -1
        pos[key] = pos.get(key, Fraction(0)) + sign * Fraction(f["size"])
        cash[key] = cash.get(key, Fraction(0)) - sign * Fraction(f["size"]) * Fraction(f["price"])
    for venue, symbols in s["positions"].items():
        for symbol, p in symbols.items():
            assert Fraction(p) == pos.get((venue, symbol), 0)
    at_mark = sum(cash[k] + pos[k] * Fraction(s["marks"][k[0]][k[1]]) for k in pos)
    assert Fraction(s["pnl"]) == at_mark - Fraction(s["fees"])
    assert Fraction(s["realized"]) + Fraction(s["unrealized"]) - Fraction(s["fees"]) == Fraction(s["pnl"])
    assert Fraction(s["max_drawdown"]) >= 0


@pytest.mark.parametrize("args", [CROSS_ARB, CROSS_ARB + ["--policy", "unwind"], LEADLAG],
                         ids=["cross-arb-hedge", "cross-arb-unwind", "leadlag-quote"])
def test_both_strategies_trade_and_the_json_keeps_its_contract(
        args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, args)
    print(f"{args[1]}: {len(out['orders'])} orders, {len(out['fills'])} fills", file=sys.stderr)
    assert len(out["fills"]) >= 5
    _check_contract(out)
    _check_numbers(out)


def test_max_position_is_enforced_by_the_risk_engine(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, [*CROSS_ARB, "--max-position", "binance_usdm=0.002"])
    _check_contract(out)
    refused = [o for o in out["orders"] if o["reason"] == "risk_position"]
    assert refused and all(o["venue"] == "binance_usdm" and o["status"] == "rejected" for o in refused)
    events = [e for e in out["risk_events"] if e["reason"] == "risk_position"]
    assert len(events) == len(refused)
    assert {e["order_id"] for e in events} == {o["order_id"] for o in refused}
    assert all(e["venue"] == "binance_usdm" and Decimal(e["limit"]) == Decimal("0.002")
               and Decimal(e["value"]) > Decimal("0.002") for e in events)
    for sym, pos in out["summary"]["positions"]["binance_usdm"].items():
        assert abs(Decimal(pos)) <= Decimal("0.002"), sym
    assert _json(capsys, CROSS_ARB)["risk_events"] == []


def _reference(args: list[str]) -> tuple[Any, RefSim, LoggedStrategy]:
    ns = build_parser().parse_args(["backtest", *SLICES, *args])
    feeds, configs, strategy = prepare(ns, Console(quiet=True))
    assert isinstance(strategy, LoggedStrategy)
    run = run_backtest(feeds.venues, configs, strategy)
    lats = [c.latency for c in configs]
    assert all(isinstance(lat, ConstantLatency) for lat in lats)
    ref = RefSim([RefVenue(lat.entry_ns, lat.response_ns, c.fees.maker_cbps, c.fees.taker_cbps,
                           synced=False)
                  for c, lat in zip(configs, lats) if isinstance(lat, ConstantLatency)])
    for v, f in zip(ref.venues, feeds.venues, strict=True):
        v.levels = [tuple(r) for r in f.levels.tolist()]
        v.trades = [tuple(r[:5]) for r in f.trades.tolist()]
    for r in strategy.requests:
        ref.advance(r.ts_ns)
        if r.kind == "submit":
            ref.submit(r.venue, r.side, 2 if r.price is None else 1, r.tif,
                       0 if r.price is None else r.price, r.size, r.post_only)
        elif r.kind == "cancel":
            ref.cancel(r.order_id)
        else:
            assert r.price is not None
            ref.modify(r.order_id, r.price, r.size)
    ref.advance(run.end_ns)
    return run, ref, strategy


@pytest.mark.parametrize("args", [CROSS_ARB, LEADLAG], ids=["cross-arb", "leadlag-quote"])
def test_the_reference_simulator_reproduces_the_run(args: list[str]) -> None:
    run, ref, strategy = _reference(args)
    kinds = {r.kind for r in strategy.requests}
    assert "submit" in kinds and len(run.results.fills) >= 5
    assert as_dicts(run.results.orders) == [ref.orders[i] for i in sorted(ref.orders)]
    assert as_dicts(run.results.fills) == ref.fills
    assert as_dicts(run.results.responses) == ref.responses
    changes = run.results.position_changes()
    assert len(changes) == len(run.results.fills)
    for vi, v in enumerate(ref.venues):
        mine = changes[changes["venue"] == vi]
        assert (int(mine["position"][-1]) if len(mine) else 0) == v.position
        assert int(mine["change"].sum()) == v.position
    assert (np.diff(changes["ts_ns"]) >= 0).all()


def test_the_json_is_the_report_of_the_same_run(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, LEADLAG)
    run, _, _ = _reference(LEADLAG)
    assert json.loads(json.dumps(build_report(run).as_json())) == out


@pytest.mark.parametrize(("args", "message"), [
    (["--latency", "kraken=5"], "kraken"),
    (["--latency", "binance=fast"], "binance=fast"),
    (["--fees", "binance=1"], "MAKER_BPS/TAKER_BPS"),
    (["--fees", "bitmex=1/2"], "bitmex"),
    (["--max-position", "binance=-1"], "binance=-1"),
    (["--secondary", "okx"], "okx"),
    (["--skew", "lots"], "--skew 'lots'"),
    (["--size", "0"], "--size"),
    (["--threshold-bps", "0.001"], "--threshold-bps"),
])
def test_a_bad_venue_or_value_is_one_line_naming_it_and_exit_2(
        args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", *SLICES, "--strategy", "leadlag-quote", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("crossbook backtest: ") and "\n" not in err and message in err


def test_from_a_subprocess_with_plots(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    env = dict(os.environ, COLUMNS="100")
    proc = subprocess.run([sys.executable, "-m", "crossbook.cli", "backtest", *SLICES,
                           *CROSS_ARB, "--plot", str(tmp_path)],
                          capture_output=True, text=True, env=env, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "pnl (USD, at mid)" in proc.stdout and "leg risk cost" in proc.stdout
    for name in ("equity.png", "inventory.png", "fills.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_the_readme_example_is_what_backtest_prints(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = text.index("$ crossbook backtest ")
    command, _, rest = text[start:].partition("\n")
    example = rest[:rest.index("```")]
    words = command.split()[3:]
    assert words[0] == "src/crossbook/data/binance_*.cap.gz"
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["backtest", *SLICES, *words[1:]]) == 0
    printed = "\n".join(line.rstrip() for line in capsys.readouterr().out.splitlines())
    assert printed.strip("\n") == example.strip("\n")


def test_the_same_inputs_give_the_same_results() -> None:
    first, _, _ = _reference(CROSS_ARB)
    ns = build_parser().parse_args(["backtest", *SLICES, *CROSS_ARB])
    feeds, configs, strategy = prepare(ns, Console(quiet=True))
    again = run_backtest(feeds.venues, configs, strategy)
    assert build_report(first).as_json() == build_report(again).as_json()


def test_captures_without_a_book_are_a_failure_saying_so(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "trades.cap.gz"
    frame = ('{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":7,'
             '"p":"61837.63","q":"0.02","T":1,"m":true,"M":true}}')
    with gzip.open(path, "wt") as fh:
        fh.write(f"1723161254087896568 {frame}\n")
    assert main(["backtest", str(path), "--venue", "binance", "--strategy", "cross-arb"]) == 1
    assert "no book in" in capsys.readouterr().out
