#!/usr/bin/env python
"""Frames to synced books, per venue capture, against the JSON-decode floor and cryptofeed.

    python benchmarks/compare_pipeline.py [--rounds R] [--only NAME ...] [--json]

For every venue capture (the bundled Binance slices and ../shared/data/captures), one round
times, on the same frames and in turn:

- ``crossbook``: capture lines through ``Replay`` (parse, sync rule, book apply, checksums);
- ``orjson``: ``orjson.loads`` of every frame's payload alone, the decode floor;
- ``cryptofeed``: its feed handler on the same frames, driven offline with the recorded REST
  snapshot (benchmarks/cryptofeed_offline.py), where it supports the venue and is installed.

Rounds are interleaved (every case once per round) and the table gives medians. Each crossbook
run is checked: no parse error, no gap, no checksum failure, every book synced.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import orjson

from benchmarks.peer_report import machine_lines, print_rows
from crossbook.io.capture import RecordKind, parse_line
from crossbook.replay import Replay
from crossbook.venues.registry import make_parser, sniff_venue

SHARED = ROOT.parent / "shared" / "data" / "captures"

DEPTH = (b"@depth",)
# name -> (capture, tokens a kept line holds, or None for every line). Filtered runs keep the
# REST snapshot and the book channel, which is what the cryptofeed comparison subscribes to.
CASES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "binance_spot": ("bundled:binance_spot_btcusdt_20240808_slice.cap.gz", DEPTH),
    "binance_usdm": ("bundled:binance_usdm_btcusdt_20240808_slice.cap.gz", DEPTH),
    "binance_coinm": ("bundled:binance_coinm_btcusd_perp_20240808_slice.cap.gz", DEPTH),
    "okx": ("okx/okx.cap.gz", (b'"books"',)),
    "kraken_v1": ("kraken/kraken_book_v1_2021.cap.gz", None),
    "bitget": ("bitget/bitget_spot.cap.gz", None),
    "coinbase": ("coinbase/coinbase.cap.gz", None),
    "kucoin": ("kucoin/kucoin_level2.cap.gz", None),
    "gateio": ("gateio/gateio_spot.cap.gz", None),
    "bitfinex": ("bitfinex/bitfinex_book_p0.cap.gz", None),
    "kraken_futures": ("kraken_futures/kraken_futures_book.cap.gz", None),
    "bybit_legacy": ("bybit/bybit_legacy_l2_25_a.cap.gz", None),
    "bitmex": ("bitmex/bitmex_l2.cap.gz", None),
    "bitstamp": ("bitstamp/bitstamp_diff.cap.gz", None),
    "deribit": ("deribit/deribit_options.cap.gz", None),
    "dydx_v3": ("dydx/dydx_v3_orderbook.cap.gz", None),
    "gemini": ("gemini/gemini_l2.cap.gz", None),
    "huobi_spot": ("huobi/huobi_depth.cap.gz", None),
    "huobi_swap": ("huobi/huobi_swap_depth.cap.gz", None),
    "hyperliquid": ("hyperliquid/hyperliquid_btcusd_20250126.cap.gz", None),
}


@dataclass
class Case:
    name: str
    venue: str
    lines: list[bytes]
    payloads: list[bytes]  # what a decoder sees: frames and REST bodies
    runners: dict[str, Callable[[], object]] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=dict)


def load_lines(source: str, keep: tuple[bytes, ...] | None) -> list[bytes] | None:
    if source.startswith("bundled:"):
        raw = (resources.files("crossbook") / "data" / source.split(":", 1)[1]).read_bytes()
    else:
        path = SHARED / source
        if not path.exists():
            return None
        raw = path.read_bytes()
    lines = gzip.decompress(raw).splitlines()
    if keep:
        lines = [ln for ln in lines if b" GET " in ln[:30] or any(t in ln[:120] for t in keep)]
    return lines


def crossbook_replay(venue: str, lines: list[bytes]) -> Replay:
    replay = Replay(make_parser(venue))
    for i, line in enumerate(lines, 1):
        replay.feed(parse_line(line, i))
    return replay


def check_replay(name: str, replay: Replay) -> None:
    reports = replay.finish()
    problems = [f"{len(replay.parse_errors)} parse errors"] if replay.parse_errors else []
    problems += [f"{r.symbol}: {r.gaps} gaps, {r.checksums_failed} checksum failures, {r.state}"
                 for r in reports if r.gaps or r.checksums_failed or r.state != "synced"]
    if problems:  # a fast wrong replay is not a result: say so next to the figure
        print(f"note: {name}: " + "; ".join(problems), file=sys.stderr)


def same_touch(name: str, replay: Replay, peer: dict[str, tuple[object, object]]) -> None:
    """Both ended with the same best bid and ask on every book, or the row says otherwise."""
    from decimal import Decimal

    for symbol, sync in replay.syncs.items():
        exp = sync.instrument.price_exp
        ours = tuple(None if t is None else Decimal(t[0]).scaleb(-exp) for t in sync.book.bbo())
        if peer.get(symbol) != ours:
            print(f"note: {name}: {symbol}: cryptofeed ends at {peer.get(symbol)}, "
                  f"crossbook at {ours}", file=sys.stderr)


def decode_all(payloads: list[bytes]) -> None:
    loads = orjson.loads
    for p in payloads:
        loads(p)


def build_case(name: str, source: str, keep: tuple[bytes, ...] | None,
               with_cryptofeed: bool) -> Case | None:
    lines = load_lines(source, keep)
    if lines is None:
        return None
    records = [parse_line(ln, i) for i, ln in enumerate(lines, 1)]
    venue = sniff_venue(records)
    if venue is None:
        raise SystemExit(f"{source}: no venue module recognises this capture")
    payloads = [r.payload for r in records if r.kind in (RecordKind.FRAME, RecordKind.REST)]
    case = Case(name, venue, lines, payloads)
    replay = crossbook_replay(venue, lines)
    check_replay(name, replay)
    case.runners["crossbook"] = lambda: crossbook_replay(venue, lines)
    case.runners["orjson"] = lambda: decode_all(payloads)
    if with_cryptofeed:
        from benchmarks import cryptofeed_offline

        runner = cryptofeed_offline.runner(name, records)
        if runner is not None:
            same_touch(name, replay, cryptofeed_offline.touch(runner()))
            case.runners["cryptofeed"] = runner
    return case


def measure(cases: list[Case], rounds: int) -> None:
    for r in range(rounds):
        for case in cases:
            for impl, run in case.runners.items():
                t0 = time.perf_counter()
                run()
                case.seconds.setdefault(impl, []).append(time.perf_counter() - t0)
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)


def rows(cases: list[Case]) -> list[dict[str, object]]:
    out = []
    for case in cases:
        med = {impl: statistics.median(s) for impl, s in case.seconds.items()}
        n = len(case.payloads)
        row: dict[str, object] = {"case": case.name, "venue": case.venue, "frames": n}
        for impl, seconds in med.items():
            row[f"{impl}_frames_per_s"] = round(n / seconds)
        row["crossbook_over_orjson"] = round(med["crossbook"] / med["orjson"], 2)
        if "cryptofeed" in med:
            row["crossbook_speedup_over_cryptofeed"] = round(med["cryptofeed"] / med["crossbook"], 1)
        out.append(row)
    return out


def _k(x: object) -> str:
    return "-" if x is None else f"{int(x) / 1000:,.1f} k"  # type: ignore[call-overload]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--only", nargs="*", choices=sorted(CASES), help="cases to run")
    ap.add_argument("--no-cryptofeed", action="store_true", help="skip the cryptofeed column")
    ap.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = ap.parse_args(argv)
    try:
        import cryptofeed  # noqa: F401
        with_cf = not args.no_cryptofeed
    except ImportError:
        with_cf = False
        print("note: cryptofeed is not installed (pip install cryptofeed): its column is empty",
              file=sys.stderr)
    cases = []
    for name in args.only or CASES:
        case = build_case(name, *CASES[name], with_cryptofeed=with_cf)
        if case is None:
            print(f"note: {name}: {CASES[name][0]} is absent (../shared/data)", file=sys.stderr)
        else:
            cases.append(case)
    measure(cases, args.rounds)
    result = rows(cases)
    if args.json:
        print(json.dumps({"machine": machine_lines(sys.argv), "rounds": args.rounds,
                          "rows": result}, indent=2))
        return 0
    for line in machine_lines(sys.argv):
        print(line)
    body = [[str(r["case"]), str(r["frames"]), _k(r.get("crossbook_frames_per_s")),
             _k(r.get("cryptofeed_frames_per_s")), _k(r.get("orjson_frames_per_s")),
             f"{r['crossbook_over_orjson']}x",
             f"{r['crossbook_speedup_over_cryptofeed']}x"
             if "crossbook_speedup_over_cryptofeed" in r else "-"] for r in result]
    print_rows(["capture", "frames", "crossbook", "cryptofeed", "orjson.loads",
                "crossbook/orjson time", "crossbook speed / cryptofeed"], body,
               f"frames/s to synced books, medians of {args.rounds} interleaved rounds",
               numeric={1, 2, 3, 4, 5, 6})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
