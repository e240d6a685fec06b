"""L2Book against real market data: a full Coinbase book and NASDAQ LOBSTER samples.

The data was recorded by third parties (see ../shared/data/README.md), so it is an
oracle independent of the engine: every expected value below is recomputed from
the files' text with Python ints and Fractions, never read back from crossbook.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from crossbook import L2Book, Side
from crossbook.dtypes import ADD, BBO, CLEAR, DELETE, DEPTH, F_LAST, F_SNAPSHOT, LEVEL_EVENT, UPDATE
from crossbook.fixedpoint import parse_fixed, parse_levels

BID, ASK = Side.BID, Side.ASK
Level = tuple[int, int]  # (price mantissa, size mantissa)


def is_better(side: Side, a: int | Fraction, b: int | Fraction) -> bool:
    return a > b if side == BID else a < b


def best_first(side: Side, rows: Iterable[tuple]) -> list:
    return sorted(rows, key=lambda r: r[0], reverse=side == BID)


# ---------------------------------------------------------------------------
# Coinbase BTC-USD full L2 REST book
# ---------------------------------------------------------------------------

COINBASE_L2 = "snapshots/coinbase_btcusd_l2_snapshot.json.gz"


def max_decimals(texts: Iterable[str]) -> int:
    """Most digits after the decimal point among ``texts``: the exponent that loses nothing."""
    return max(len(t.partition(".")[2]) for t in texts)


def exact_mantissa(value: str | Fraction, exp: int) -> int:
    """Oracle for parse_fixed that shares no code with it."""
    m = Fraction(value) * 10**exp
    assert m.denominator == 1, f"{value!r} has more than {exp} decimals"
    return m.numerator


@dataclass(frozen=True)
class Snapshot:
    price_exp: int
    size_exp: int
    text: dict[Side, list[list]]  # the file's [price_text, size_text, num_orders] rows
    in_file_order: dict[Side, list[tuple[Fraction, Fraction, int]]]  # exact values of `text`
    real: dict[Side, list[tuple[Fraction, Fraction, int]]]  # the same, best first
    expected: dict[Side, list[tuple[int, int, int]]]  # mantissas of `real`, best first
    total: dict[Side, Fraction]  # exact size summed over the side


@pytest.fixture(scope="module")
def snapshot(shared_data: Path) -> Snapshot:
    with gzip.open(shared_data / COINBASE_L2, "rt") as f:
        doc = json.load(f)
    text = {BID: doc["bids"], ASK: doc["asks"]}
    rows = text[BID] + text[ASK]
    pe, se = max_decimals(r[0] for r in rows), max_decimals(r[1] for r in rows)
    in_file_order, real, expected, total = {}, {}, {}, {}
    for side, side_rows in text.items():
        in_file_order[side] = [(Fraction(p), Fraction(s), c) for p, s, c in side_rows]
        real[side] = best_first(side, in_file_order[side])
        expected[side] = [
            (exact_mantissa(p, pe), exact_mantissa(s, se), c) for p, s, c in real[side]
        ]
        total[side] = sum(s for _, s, _ in real[side])
    return Snapshot(pe, se, text, in_file_order, real, expected, total)


def parsed_side(snap: Snapshot, side: Side) -> np.ndarray:
    prices, sizes = parse_levels(snap.text[side], snap.price_exp, snap.size_exp)
    out = np.zeros(len(prices), dtype=DEPTH)
    out["price"], out["size"] = prices, sizes
    out["count"] = [r[2] for r in snap.text[side]]
    return out


def build_book(snap: Snapshot, how: str) -> L2Book:
    book = L2Book(snap.price_exp, snap.size_exp)
    bids, asks = parsed_side(snap, BID), parsed_side(snap, ASK)
    if how == "load_snapshot(arrays)":
        book.load_snapshot(bids, asks)
    elif how == "load_snapshot(tuples)":
        book.load_snapshot(bids.tolist(), asks.tolist())
    else:
        # Worst-first order makes every level a new best: the ladder must re-centre
        # all the way in from the far levels (Coinbase bids reach down to $0.01).
        order = slice(None, None, -1) if how == "update(worst first)" else slice(None)
        for side, arr in ((BID, bids), (ASK, asks)):
            for p, s, c in arr[order].tolist():
                assert book.update(side, p, s, c)
    return book


BUILDS = [
    "load_snapshot(arrays)",
    "load_snapshot(tuples)",
    "update(file order)",
    "update(worst first)",
]


@pytest.fixture(scope="module", params=BUILDS)
def coinbase_book(request: pytest.FixtureRequest, snapshot: Snapshot) -> L2Book:
    return build_book(snapshot, request.param)


def test_coinbase_exponents_and_exact_parse(snapshot: Snapshot) -> None:
    # Coinbase sends at most cents for BTC-USD prices and satoshis for sizes.
    assert (snapshot.price_exp, snapshot.size_exp) == (2, 8)
    for side in (BID, ASK):
        rows = snapshot.in_file_order[side]
        prices, sizes = parse_levels(snapshot.text[side], snapshot.price_exp, snapshot.size_exp)
        assert prices.tolist() == [exact_mantissa(p, snapshot.price_exp) for p, _, _ in rows]
        assert sizes.tolist() == [exact_mantissa(s, snapshot.size_exp) for _, s, _ in rows]
    first_bid = snapshot.text[BID][0]
    assert first_bid[:2] == ["64930.57", "0.07705309"]
    assert parse_fixed(first_bid[0], 2) == 6_493_057
    assert parse_fixed(first_bid[1], 8) == 7_705_309


def test_coinbase_file_facts(snapshot: Snapshot) -> None:
    """What the data itself says, computed without crossbook."""
    for side in (BID, ASK):
        prices = [p for p, _, _ in snapshot.real[side]]
        # No price repeats, so levels per side == rows per side (nothing to merge).
        assert len(set(prices)) == len(prices)
        assert all(s > 0 and c >= 1 for _, s, c in snapshot.real[side])
        # The REST book comes already sorted best first.
        assert [p for p, _, _ in snapshot.in_file_order[side]] == prices
    assert (len(snapshot.real[BID]), len(snapshot.real[ASK])) == (18_376, 27_017)
    best_bid = max(p for p, _, _ in snapshot.in_file_order[BID])
    best_ask = min(p for p, _, _ in snapshot.in_file_order[ASK])
    assert (best_bid, best_ask) == (Fraction("64930.57"), Fraction("64934.09"))
    assert best_bid < best_ask  # not crossed: spread 3.52 USD


def test_coinbase_book_matches_file(snapshot: Snapshot, coinbase_book: L2Book) -> None:
    book, exp = coinbase_book, snapshot.expected
    book.check_invariants()
    assert len(book) == len(exp[BID]) + len(exp[ASK])
    for side in (BID, ASK):
        levels = book.levels(side)
        assert levels.dtype == DEPTH
        assert len(levels) == len(exp[side])
        assert levels.tolist() == exp[side]
        # Totals recomputed from the text with Fractions, then scaled: exact.
        assert sum(levels["size"].tolist()) == snapshot.total[side] * 10**snapshot.size_exp
    bids20, asks20 = book.depth(20)
    assert bids20.tolist() == exp[BID][:20]
    assert asks20.tolist() == exp[ASK][:20]
    bid, ask = book.bbo()
    max_bid = max(snapshot.expected[BID], key=lambda r: r[0])
    min_ask = min(snapshot.expected[ASK], key=lambda r: r[0])
    assert bid == max_bid[:2] == (6_493_057, 7_705_309)
    assert ask == min_ask[:2] == (6_493_409, 7_704_426)
    assert (bids20[0]["count"], asks20[0]["count"]) == (max_bid[2], min_ask[2]) == (1, 2)
    crossed = max_bid[0] >= min_ask[0]
    assert not crossed  # a REST snapshot is one consistent state, so it should not cross
    assert book.is_crossed() is crossed
    assert book.unknown_deletes == 0


def test_coinbase_totals(snapshot: Snapshot) -> None:
    """Pins the side totals so a changed data file is noticed, not silently re-baselined."""
    assert snapshot.total[BID] == Fraction("120596.56275534")
    assert snapshot.total[ASK] == Fraction("4415.89175662")


def fill_oracle(
    levels: list[tuple[Fraction, Fraction, int]], want: Fraction
) -> tuple[Fraction, Fraction, Fraction | None]:
    """Exact (filled, notional, worst price) of taking `want` from best-first levels."""
    filled, notional, worst = Fraction(0), Fraction(0), None
    for price, size, _ in levels:
        if filled >= want:
            break
        take = min(size, want - filled)
        filled += take
        notional += price * take
        worst = price
    return filled, notional, worst


FILL_SIZES = ["0.00000001", "0.05", "1", "12.345", "100", "1000", "ALL", "ALL+0.00000001"]


@pytest.fixture(scope="module")
def snapshot_book(snapshot: Snapshot) -> L2Book:
    return build_book(snapshot, "load_snapshot(arrays)")


@pytest.mark.parametrize("side", [BID, ASK], ids=["sell-into-bids", "buy-from-asks"])
@pytest.mark.parametrize("size_text", FILL_SIZES)
def test_coinbase_cost_to_fill(
    snapshot: Snapshot, snapshot_book: L2Book, side: Side, size_text: str
) -> None:
    book = snapshot_book
    if size_text.startswith("ALL"):
        want = snapshot.total[side] + Fraction(size_text[3:] or 0)
    else:
        want = Fraction(size_text)
    pe, se = snapshot.price_exp, snapshot.size_exp
    filled, notional, worst = fill_oracle(snapshot.real[side], want)
    got = book.cost_to_fill(side, exact_mantissa(want, se))
    assert got.filled == filled * 10**se
    assert got.notional == notional * 10 ** (pe + se)
    assert got.worst_price == worst * 10**pe
    # Beyond the whole side the fill stops short at the side's total.
    assert (filled < want) is (size_text == "ALL+0.00000001")


# ---------------------------------------------------------------------------
# LOBSTER NASDAQ samples: one-step replay against the orderbook file
# ---------------------------------------------------------------------------

LOBSTER = {
    "AAPL": (
        "lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv",
        "lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv",
        10,
    ),
    "MSFT": ("lobster/MSFT_message_20k.csv.gz", "lobster/MSFT_orderbook_20k.csv.gz", 5),
}
LOBSTER_PRICE_EXP = 4  # prices are USD x 10000; sizes are whole shares
DUMMY_ASK_PRICE, DUMMY_BID_PRICE = 9_999_999_999, -9_999_999_999
NEW, PARTIAL_CANCEL, DELETE_ORDER, VISIBLE_EXEC = 1, 2, 3, 4  # 5 hidden, 6 cross, 7 halt
VISIBLE_TYPES = (NEW, PARTIAL_CANCEL, DELETE_ORDER, VISIBLE_EXEC)


@dataclass(frozen=True)
class Lobster:
    n_levels: int
    messages: list[list[int]]  # [type, order_id, size, price, direction]
    books: list[tuple[list[Level], list[Level]]]  # per row: (bids, asks), best first
    dummies: int  # empty-level placeholders dropped from the orderbook file


def split_row(row: list[int], n: int) -> tuple[tuple[list[Level], list[Level]], int]:
    """(bids, asks) of one orderbook row, without LOBSTER's dummy empty levels."""
    asks = [(row[i], row[i + 1]) for i in range(0, 4 * n, 4)]
    bids = [(row[i + 2], row[i + 3]) for i in range(0, 4 * n, 4)]
    real_asks = [lv for lv in asks if lv[0] != DUMMY_ASK_PRICE]
    real_bids = [lv for lv in bids if lv[0] != DUMMY_BID_PRICE]
    assert all(s > 0 for _, s in real_asks + real_bids), row
    return (real_bids, real_asks), 2 * n - len(real_asks) - len(real_bids)


def load_lobster(data: Path, name: str) -> Lobster:
    msg_file, book_file, n = LOBSTER[name]
    # Column 0 (time) is not needed; everything else is an integer.
    msgs = np.loadtxt(data / msg_file, delimiter=",", usecols=(1, 2, 3, 4, 5), dtype=np.int64)
    rows = np.loadtxt(data / book_file, delimiter=",", dtype=np.int64)
    assert rows.shape == (len(msgs), 4 * n)
    books, dummies = [], 0
    for row in rows.tolist():
        book, d = split_row(row, n)
        books.append(book)
        dummies += d
    return Lobster(n, msgs.tolist(), books, dummies)


@pytest.fixture(scope="module", params=sorted(LOBSTER))
def lobster(request: pytest.FixtureRequest, shared_data: Path) -> tuple[str, Lobster]:
    return request.param, load_lobster(shared_data, request.param)


def window_edge(levels: list[Level], n: int) -> int | None:
    """Worst seeded price when the side fills the n-level window; None when the
    row shows fewer than n levels, i.e. the whole side is known."""
    return levels[-1][0] if len(levels) == n else None


def knowable(side: Side, price: int, edge: int | None) -> bool:
    return edge is None or not is_better(side, edge, price)


def visible_change(
    message: list[int], before: tuple[list[Level], list[Level]], n: int
) -> tuple[Side, int, int, int] | None:
    """(side, price, old size, new size) of the level the message changes, or None
    when the change is invisible at L2 or falls where the seed knows nothing."""
    mtype, _order_id, size, price, direction = message
    if mtype not in VISIBLE_TYPES:
        return None  # 5 hidden execution, 6 cross, 7 halt: no visible level moves
    # For executions the direction is the resting order's, so the same mapping holds.
    side = BID if direction == 1 else ASK
    levels = before[0] if side == BID else before[1]
    if not knowable(side, price, window_edge(levels, n)):
        return None  # beyond the window the level's current size is unknown
    old = dict(levels).get(price, 0)
    return side, price, old, old + size if mtype == NEW else old - size


def seed(book: L2Book, before: tuple[list[Level], list[Level]]) -> None:
    book.clear()
    for side, levels in zip((BID, ASK), before):
        for p, s in levels:
            book.update(side, p, s)


def compare_side(
    side: Side, book_levels: list[Level], before: list[Level], after: list[Level], n: int
) -> tuple[str | None, int]:
    """Checks row k+1 against the book on every level that can be known; returns
    (problem or None, number of levels row k+1 pulled in from beyond the seed).

    Known levels are the book's levels at or better than the window edge (the
    worst seeded price when row k showed n levels on this side; all levels when
    it showed fewer, since LOBSTER then shows the whole side). Messages beyond
    the edge were not applied. Compared:
    - the first min(n, known) levels of row k+1 must equal the known levels
      (an add inside the window pushes the n-th level out: known has n+1);
    - when a removal left fewer than n known levels, any further levels of row
      k+1 were pulled in from beyond the seed, so each must be strictly worse
      than the edge; when the side was complete, there must be none.
    """
    edge = window_edge(before, n)
    known = [lv for lv in book_levels if knowable(side, lv[0], edge)]
    head, pulled = after[: len(known)], after[len(known) :]
    if head != known[:n]:
        return f"levels {head} != book {known[:n]}", 0
    if edge is None and pulled:
        return f"complete side grew by {pulled}", 0
    if edge is not None and not all(is_better(side, edge, p) for p, _ in pulled):
        return f"pulled-in levels {pulled} not beyond edge {edge}", 0
    return None, len(pulled)


def replay_step(book: L2Book, data: Lobster, k: int, stats: Counter[str]) -> list[str]:
    """Seeds from row k, applies message k+1 with update(), compares with row k+1."""
    n, before, after = data.n_levels, data.books[k], data.books[k + 1]
    message = data.messages[k + 1]
    seed(book, before)
    change = visible_change(message, before, n)
    problems = []
    if change is None:
        stats["beyond_window" if message[0] in VISIBLE_TYPES else "invisible"] += 1
    else:
        side, price, old, new = change
        if new < 0 or (message[0] != NEW and old == 0):
            problems.append(f"message {message} removes more than level size {old}")
        else:
            assert book.update(side, price, new)
            stats["removed" if new == 0 else "added" if old == 0 else "resized"] += 1
    bids, asks = book.depth(n + 1)
    for side, got, side_before, side_after in (
        (BID, bids, before[0], after[0]),
        (ASK, asks, before[1], after[1]),
    ):
        levels = [(p, s) for p, s, _ in got.tolist()]
        problem, pulled = compare_side(side, levels, side_before, side_after, n)
        if problem:
            problems.append(f"{side.name}: {problem}")
        stats["pulled_in"] += pulled
    return [f"step {k} (message {message}): {p}" for p in problems]


# Only steps that exist between the seed and the next row: rows - 1 per file.
EXPECTED_STEPS = {"AAPL": 998, "MSFT": 19_999}
# What the steps did, pinned so that the replay is known to exercise every rule
# (and a changed data file is noticed). "invisible" = type 5 hidden executions.
EXPECTED_STATS = {
    "AAPL": {"added": 328, "resized": 291, "removed": 318, "pulled_in": 318, "invisible": 61},
    "MSFT": {"added": 328, "resized": 19_161, "removed": 320, "pulled_in": 320, "invisible": 190},
}


def test_lobster_one_step_replay(lobster: tuple[str, Lobster]) -> None:
    name, data = lobster
    book = L2Book(LOBSTER_PRICE_EXP, 0)
    stats: Counter[str] = Counter()
    mismatches: list[str] = []
    steps = 0
    for k in range(len(data.books) - 1):
        mismatches += replay_step(book, data, k, stats)
        steps += 1
        if k % 500 == 0:
            book.check_invariants()
    assert steps == len(data.books) - 1 == EXPECTED_STEPS[name]
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"
    assert book.unknown_deletes == 0
    # LOBSTER only writes messages that touch the requested levels, so no message
    # falls beyond the window ("beyond_window" never counted), and the real book
    # is always deeper than the window: every emptied level was replaced by one
    # pulled in from beyond (pulled_in == removed).
    assert dict(stats) == EXPECTED_STATS[name]
    assert data.dummies == 0  # both samples always show every requested level


# ---------------------------------------------------------------------------
# apply() with LEVEL_EVENT arrays must build the same books as update()
# ---------------------------------------------------------------------------

APPLY_STEPS = 300


def step_events(
    k: int, before: tuple[list[Level], list[Level]], change: tuple[Side, int, int, int] | None
) -> np.ndarray:
    """One step as a venue message would arrive: clear, snapshot levels, then the change."""
    rows = [(k, k, 0, 0, 0, 0, CLEAR, F_SNAPSHOT)]
    for side, levels in zip((BID, ASK), before):
        rows += [(k, k, p, s, 0, int(side), ADD, F_SNAPSHOT) for p, s in levels]
    if change is not None:
        side, price, old, new = change
        action = DELETE if new == 0 else ADD if old == 0 else UPDATE
        rows.append((k, k, price, new, 0, int(side), action, 0))
    events = np.array(rows, dtype=LEVEL_EVENT)
    events["flags"][-1] |= F_LAST
    return events


def bbo_row(bbo: tuple) -> tuple[int, int, int, int]:
    bid, ask = bbo
    return (*(bid or (0, 0)), *(ask or (0, 0)))


def test_apply_matches_update_on_msft(shared_data: Path) -> None:
    data = load_lobster(shared_data, "MSFT")
    by_update, by_apply = L2Book(LOBSTER_PRICE_EXP, 0), L2Book(LOBSTER_PRICE_EXP, 0)
    batches, expected_bbo, actions = [], [], Counter()
    for k in range(APPLY_STEPS):
        assert replay_step(by_update, data, k, Counter()) == []
        change = visible_change(data.messages[k + 1], data.books[k], data.n_levels)
        events = step_events(k, data.books[k], change)
        actions.update(events["action"][(events["flags"] & F_SNAPSHOT) == 0].tolist())
        bbo_out = np.zeros(len(events), dtype=BBO)
        by_apply.apply(events, bbo_out)
        for side in (BID, ASK):
            assert by_apply.levels(side).tolist() == by_update.levels(side).tolist(), k
        assert tuple(bbo_out[-1].tolist()) == bbo_row(by_update.bbo()), k
        batches.append(events)
        expected_bbo.append(bbo_row(by_update.bbo()))
    assert actions[ADD] > 0 and actions[UPDATE] > 0 and actions[DELETE] > 0

    # All steps in one call: CLEAR inside a batch must reset the book between steps.
    batch = np.concatenate(batches)
    bbo_out = np.zeros(len(batch), dtype=BBO)
    in_one_call = L2Book(LOBSTER_PRICE_EXP, 0)
    in_one_call.apply(batch, bbo_out)
    step_ends = np.flatnonzero(batch["flags"] & F_LAST)
    assert len(step_ends) == APPLY_STEPS
    assert [tuple(r) for r in bbo_out[step_ends].tolist()] == expected_bbo
    for side in (BID, ASK):
        assert in_one_call.levels(side).tolist() == by_update.levels(side).tolist()
    in_one_call.check_invariants()
    assert in_one_call.unknown_deletes == by_apply.unknown_deletes == 0
