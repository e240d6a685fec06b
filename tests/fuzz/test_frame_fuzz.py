"""The frame fuzzer: mutants of every venue's recorded frames, fed through the path
`crossbook verify` takes (open_capture, then Replay.feed and Replay.finish), each
inserted into the real record stream just before the record it was made from.

For every capture it asserts that no exception escapes feed or finish, that no
record takes longer than its feed_limit_s (1 s per 100 KB) to feed, and that every mutant is
accounted for: refused with a reported error, or taken into a book (where the
venue's sequence and checksum checks judge it), or delivered as a message.

Each capture is fuzzed in a forked child, so that a mutant that hangs the parser
(a huge exponent computed digit by digit) or crashes the process fails its test
with the mutant named, instead of stalling or killing the suite.

CROSSBOOK_FUZZ_FRAMES sets the mutants per run (spread over the captures),
CROSSBOOK_FUZZ_SEED the seed, CROSSBOOK_FUZZ_REPORT a file to append the figures to
(one JSON line per capture).
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import time
import traceback
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from crossbook.io.capture import CaptureRecord, RecordKind
from crossbook.replay import Replay, open_capture
from crossbook.venues.registry import venues

from ..frame_mutations import Mutant, mutant

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT / ".." / "shared" / "data" / "captures"
BUNDLED = ROOT / "src" / "crossbook" / "data"

FRAMES = int(os.environ.get("CROSSBOOK_FUZZ_FRAMES", "2400"))
SEED = int(os.environ.get("CROSSBOOK_FUZZ_SEED", "0"))
# Time allowed to feed one record: FEED_LIMIT_S per FEED_LIMIT_BYTES begun (a real 709 KB
# BitMEX partial takes 0.4 s, 1.3 s on a loaded machine): what is linear in the frame's size
# passes, a blow-up (a huge exponent computed digit by digit: minutes) does not.
FEED_LIMIT_S = 1.0
FEED_LIMIT_BYTES = 100_000
# A child silent this much longer than its record's limit is stuck: it is killed, the record named.
_HANG_FACTOR = 10.0


def feed_limit_s(rec: CaptureRecord) -> float:
    return FEED_LIMIT_S * max(1, -(-len(rec.payload) // FEED_LIMIT_BYTES))
# Records replayed per capture: enough for every capture's books to sync, few enough
# that the real records do not crowd out the mutants in the time budget.
_PREFIX_RECORDS = 1500


def _captures() -> list[Path]:
    return sorted(CAPTURES.glob("*/*.cap.gz")) + sorted(BUNDLED.glob("*.cap.gz"))


PATHS = _captures()


@dataclass
class Figures:
    capture: str
    venue: str = ""
    records: int = 0
    tried: int = 0
    refused: int = 0  # counted as a parse, sync or venue error, unrouted, unsupported or stale
    accepted: int = 0  # it reached a book: sequence and checksum checks judged it
    delivered: int = 0  # it became a trade, quote or control message
    unaccounted: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    slow: list[str] = field(default_factory=list)
    max_feed_s: float = 0.0
    seconds: float = 0.0


# Where a replay keeps a summary of every frame's outcome, these fields say it reached no book.
_REFUSED = ("parse_errors", "sync_errors", "venue_errors", "unrouted", "unsupported", "stale", "books_capped")
_DELIVERED = ("market_data", "control")


def _tally(replay: Replay) -> dict[str, int]:
    """The replay's counts that a frame's outcome moves: the per-outcome summary where
    the replay keeps one, its parse errors otherwise, and the messages its books took."""
    out = {"book_messages": sum(s.stats.messages for s in replay.syncs.values())}
    summary = getattr(replay, "summary", None)
    if summary is not None:
        out |= {f: getattr(summary, f) for f in (*_REFUSED, *_DELIVERED, "book")}
    else:
        out["parse_errors"] = len(replay.parse_errors)
    return out


def _outcome(before: dict[str, int], after: dict[str, int], out: list[object]) -> str:
    moved = [k for k in after if after[k] > before[k]]
    if "book" in moved or "book_messages" in moved:
        return "accepted"
    if any(k in _REFUSED for k in moved):
        return "refused"
    return "delivered" if out or moved else "unaccounted"


def _mutants_for(recs: list[CaptureRecord], n: int, seed: int) -> dict[int, list[Mutant]]:
    """n mutants, each of a record at an evenly spread position, keyed by that position."""
    targets = [i for i, r in enumerate(recs) if r.kind in (RecordKind.FRAME, RecordKind.REST)]
    out: dict[int, list[Mutant]] = {}
    for k in range(n if targets else 0):
        i = targets[(k * len(targets)) // n]
        out.setdefault(i, []).append(mutant([recs[i].payload], zlib.crc32(b"%d/%d" % (seed, k))))
    return out


def _where(exc: BaseException) -> str:
    """The innermost crossbook frame of a traceback: where the escape started."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "crossbook" in f.filename]
    f = frames[-1] if frames else traceback.extract_tb(exc.__traceback__)[-1]
    return f"{Path(f.filename).name}:{f.lineno} {f.name}"


def _feed(replay: Replay, rec: CaptureRecord, what: str, fig: Figures) -> list[object] | None:
    t0 = time.perf_counter()
    try:
        out: list[object] = list(replay.feed(rec))
    except BaseException as exc:  # noqa: BLE001 - any escape is the failure under test
        fig.failures.append(f"{type(exc).__name__} at {_where(exc)}: {exc!s:.120} <- {what}")
        return None
    finally:
        dt = time.perf_counter() - t0
        fig.max_feed_s = max(fig.max_feed_s, dt)
        if dt > feed_limit_s(rec):
            fig.slow.append(f"{what}: {dt:.2f} s for {len(rec.payload):,} bytes")
    return out


def _fuzz(path: Path, n: int, seed: int, conn: Connection) -> Figures:
    fig = Figures(path.name)
    t0 = time.perf_counter()
    parser, records = open_capture(path)
    fig.venue = parser.venue
    recs = list(itertools.islice(records, _PREFIX_RECORDS))
    fig.records = len(recs)
    planned = _mutants_for(recs, n, seed)
    replay = Replay(parser)
    for i, rec in enumerate(recs):
        for m in planned.get(i, ()):
            bad = CaptureRecord(rec.recv_ns, rec.kind, m.payload, rec.url, rec.line_no)
            conn.send(("feeding", repr(m), feed_limit_s(bad)))
            before = _tally(replay)
            out = _feed(replay, bad, repr(m), fig)
            fig.tried += 1
            if out is None:
                continue
            outcome = _outcome(before, _tally(replay), out)
            if outcome == "unaccounted":
                fig.unaccounted.append(repr(m))
            else:
                setattr(fig, outcome, getattr(fig, outcome) + 1)
        conn.send(("feeding", f"real record {rec.line_no} after the mutants before it", feed_limit_s(rec)))
        _feed(replay, rec, f"real record line {rec.line_no}", fig)
    conn.send(("feeding", "Replay.finish()", FEED_LIMIT_S))
    try:
        replay.finish()
    except BaseException as exc:  # noqa: BLE001
        fig.failures.append(f"finish: {type(exc).__name__}: {exc!s:.200}")
    fig.seconds = time.perf_counter() - t0
    return fig


def _child(path: Path, n: int, seed: int, conn: Connection) -> None:
    try:
        fig = _fuzz(path, n, seed, conn)
        conn.send(("done", asdict(fig), 0.0))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        conn.send(("error", traceback.format_exc(), 0.0))
    finally:
        conn.close()


def run_in_child(path: Path, n: int, seed: int) -> Figures:
    """Fuzzes one capture in a forked child; a hang or a crash fails with the record named."""
    venues()  # imported here once, not in every child
    ctx = multiprocessing.get_context("fork")
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(path, n, seed, theirs), daemon=True)
    with warnings.catch_warnings():
        # Python 3.12+ warns on fork with threads alive; the child only parses and replays.
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        proc.start()
    theirs.close()
    current, heard, limit_s = "start", time.monotonic(), FEED_LIMIT_S
    try:
        while True:
            if ours.poll(0.2):
                try:
                    kind, body, limit = ours.recv()
                except EOFError:
                    pytest.fail(f"{path.name}: the child died (exit {proc.exitcode}) while feeding {current}")
                heard = time.monotonic()
                if kind == "feeding":
                    current, limit_s = body, limit
                elif kind == "done":
                    return Figures(**body)
                else:
                    pytest.fail(f"{path.name}: the fuzzer itself failed:\n{body}")
            elif not proc.is_alive() and not ours.poll(0):
                pytest.fail(f"{path.name}: the child died (exit {proc.exitcode}) while feeding {current}")
            elif time.monotonic() - heard > _HANG_FACTOR * limit_s + 5:
                pytest.fail(f"{path.name}: one record took over {_HANG_FACTOR * limit_s + 5:.0f} s "
                            f"(killed): {current}")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        ours.close()


def _record(fig: Figures) -> None:
    line = (f"{fig.capture} ({fig.venue}): {fig.tried} mutants in {fig.records} records, "
            f"{fig.refused} refused, {fig.accepted} accepted into a book, {fig.delivered} delivered, "
            f"{len(fig.unaccounted)} unaccounted, {len(fig.failures)} escaped, "
            f"max feed {fig.max_feed_s * 1e3:.1f} ms, {fig.seconds:.2f} s")
    print(line)
    out = os.environ.get("CROSSBOOK_FUZZ_REPORT")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps(asdict(fig)) + "\n")


def _first(items: Iterable[str], n: int = 5) -> str:
    return "\n".join(itertools.islice(items, n))


def _grouped(failures: list[str]) -> str:
    """One line per kind of escape (exception and place), with its count and first mutant."""
    groups: dict[str, list[str]] = {}
    for f in failures:
        groups.setdefault(f.split(": ", 1)[0], []).append(f)
    return "\n".join(f"{len(v)} x {v[0]}" for v in groups.values())


@pytest.mark.parametrize("path", PATHS, ids=[p.name.removesuffix(".cap.gz") for p in PATHS])
def test_mutated_frames_are_refused_or_checked_and_never_escape(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared real-data set (../shared/data) is not available")
    fig = run_in_child(path, max(1, FRAMES // max(1, len(PATHS))), SEED ^ zlib.crc32(path.name.encode()))
    _record(fig)
    assert fig.tried > 0
    problems = []
    if fig.failures:
        problems.append(f"{len(fig.failures)} feeds raised:\n{_grouped(fig.failures)}")
    if fig.slow:
        problems.append(f"{len(fig.slow)} feeds took longer than their limit:\n{_first(fig.slow)}")
    if fig.unaccounted:
        problems.append(f"{len(fig.unaccounted)} mutants vanished without a count:\n{_first(fig.unaccounted)}")
    assert not problems, "\n".join(problems)

