"""The one frame-mutation generator of the test suite.

It mutates recorded frames the ways that have killed or stalled replays: cut
frames, flipped bits, invalid UTF-8, deleted and duplicated keys, swapped
types, numbers no int64 or float holds ("5e99999999", 1e400, 2**63, 20-digit
ints, one more digit in a timestamp), NaN and Infinity (bare and quoted),
unicode, thousands of nesting levels and very long strings.

Every mutant is a function of (samples, seed): the same seed gives the same
bytes on every machine, so a failure names a seed that reproduces it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

__all__ = ["Mutant", "MutantFrame", "malformed_frames", "mutant"]

# Bare number tokens written as is: JSON parsers differ on what they accept, and the
# exponent forms cost minutes where numeric text is not refused in time linear in its length.
_HUGE_TOKENS = (
    "5e99999999", "1e400", "-1e400", "1e-400", "1E+308", "9" * 20, "-" + "9" * 20,
    str(2**63), str(2**63 - 1), str(-(2**63) - 1), str(2**64), "1" + "0" * 40,
    "0.000000000000000000000001", "-0", "-0.0", "1" * 5000, "0." + "0" * 4000 + "1",
)
_NONFINITE_TOKENS = ("NaN", "Infinity", "-Infinity", "nan", "inf")
_STRING_VALUES = (
    "NaN", "nan", "Infinity", "-Infinity", "inf", "5e99999999", "1e400", "-1e400",
    str(2**63), str(2**64), "12345678901234567890", "-12345678901234567890", "0x1f",
    "1_000", " 1", "1 ", "+1", "--1", "1..2", ".", "-", "", "0", "-1", "1e-400",
    "0." + "0" * 30 + "1", "١٢٣", "１２", "BTC\u00e9", "\u0000", "\u202e", "\U0001f4a5",
    "\ud800", "x" * 100_000, "9" * 10_000,
)
_OTHER_VALUES: tuple[Any, ...] = (None, True, False, 0, -1, 2**63, -(2**63) - 1, 2**64, 10**20,
                                  1.5e308, 5e-324, [], {}, [[]], [None], {"": None})
_DEPTHS = (1_000, 5_000, 50_000)


@dataclass(frozen=True, slots=True)
class Mutant:
    """One mutated frame and how it was made (for a failure's message)."""

    seed: int
    how: str
    payload: bytes

    def __repr__(self) -> str:
        head = self.payload[:80]
        return f"Mutant(seed={self.seed}, how={self.how!r}, {len(self.payload)} bytes: {head!r}...)"


class _Raw:
    """A token written into the JSON text verbatim (numbers JSON cannot carry, deep nests)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _DupKeys:
    """An object written with one key twice: the parser sees the second value."""

    __slots__ = ("first", "key", "obj")

    def __init__(self, obj: dict[str, Any], key: str, first: Any) -> None:
        self.obj, self.key, self.first = obj, key, first


def _dump(obj: Any) -> str:
    if isinstance(obj, _Raw):
        return obj.text
    if isinstance(obj, _DupKeys):
        pairs = [(obj.key, obj.first), *obj.obj.items()]
        return "{" + ",".join(f"{json.dumps(str(k))}:{_dump(v)}" for k, v in pairs) + "}"
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_dump(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(_dump(v) for v in obj) + "]"
    return json.dumps(obj, ensure_ascii=False, allow_nan=True)


def _nodes(obj: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every node (lists sampled to their first 6 items to bound the work)."""
    out = [here]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _nodes(v, (*here, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:6]):
            out += _nodes(v, (*here, i))
    return out


def _deep(rng: random.Random) -> _Raw:
    n = rng.choice(_DEPTHS)
    if rng.random() < 0.5:
        return _Raw("[" * n + "]" * n)
    return _Raw('{"a":' * n + "1" + "}" * n)


def _bigger_number(value: Any, rng: random.Random) -> Any:
    """The same number with more digits or a huge exponent: a timestamp one digit longer,
    a price times 10**k, text with an exponent appended."""
    text = value if isinstance(value, str) else _dump(value)
    grown = rng.choice((text + rng.choice("0123456789"), text + "0" * rng.randint(5, 25),
                        text + "e" + rng.choice(("99999999", "400", "-400", "19")), "-" + text))
    return grown if isinstance(value, str) else _Raw(grown)


def _nudged(value: Any, rng: random.Random) -> Any:
    """The number with one digit changed: still well formed, so it reaches the book
    and the venue's own checks (sequence, checksum) must catch it."""
    text = value.text if isinstance(value, _Raw) else value if isinstance(value, str) else str(value)
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if not digits:
        return value
    i = rng.choice(digits)
    text = text[:i] + rng.choice("0123456789".replace(text[i], "")) + text[i + 1:]
    return text if isinstance(value, str) else _Raw(text)


def _replacement(value: Any, rng: random.Random) -> tuple[str, Any]:
    roll = rng.random()
    numeric = isinstance(value, (int, str, _Raw)) and not isinstance(value, bool)
    if numeric and rng.random() < 0.3:
        return "nudged-digit", _nudged(value, rng)
    if roll < 0.25 and numeric:
        return "bigger-number", _bigger_number(value, rng)
    if roll < 0.45:
        return "huge-number", _Raw(rng.choice(_HUGE_TOKENS))
    if roll < 0.55:
        return "non-finite", _Raw(rng.choice(_NONFINITE_TOKENS))
    if roll < 0.75:
        return "string", rng.choice(_STRING_VALUES)
    if roll < 0.85:
        return "deep-nesting", _deep(rng)
    return "swapped-type", rng.choice(_OTHER_VALUES)


def _parent(obj: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        obj = obj[key]
    return obj


def _tree_mutation(obj: Any, rng: random.Random) -> tuple[str, Any]:
    """One change to the decoded frame, in place; returns its name and the new root."""
    path = rng.choice(_nodes(obj))
    if not path:
        how, new = _replacement(obj, rng)
        return f"root:{how}", new
    parent, key = _parent(obj, path), path[-1]
    roll = rng.random()
    if roll < 0.15:
        del parent[key]
        return "deleted-key" if isinstance(parent, dict) else "deleted-item", obj
    if roll < 0.25 and isinstance(parent, dict):
        _, first = _replacement(parent[key], rng)
        dup = _DupKeys({k: v for k, v in parent.items() if k != key} | {key: parent[key]}, key, first)
        if len(path) == 1:
            return "duplicated-key", dup
        _parent(obj, path[:-1])[path[-2]] = dup
        return "duplicated-key", obj
    if roll < 0.3 and isinstance(parent, list):
        parent.insert(key, parent[key])
        return "duplicated-item", obj
    how, parent[key] = _replacement(parent[key], rng)
    return how, obj


def _byte_mutation(frame: bytes, rng: random.Random) -> tuple[str, bytes]:
    roll = rng.random()
    if roll < 0.35 or not frame:
        return "truncated", frame[: rng.randrange(len(frame) + 1)]
    if roll < 0.6:
        out = bytearray(frame)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
        return "bit-flip", bytes(out)
    if roll < 0.8:
        i = rng.randrange(len(frame) + 1)
        bad = rng.choice((b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x00", b"\x80"))
        return "invalid-utf8", frame[:i] + bad + frame[i:]
    if roll < 0.9:
        n = rng.choice(_DEPTHS)
        return "deep-wrap", b"[" * n + frame + b"]" * n
    return "random-bytes", rng.randbytes(rng.randint(0, 64))


def mutant(samples: Sequence[bytes], seed: int) -> Mutant:
    """The mutant made from ``samples`` by ``seed``."""
    rng = random.Random(seed)
    frame = rng.choice(samples)
    if rng.random() < 0.3:
        how, payload = _byte_mutation(frame, rng)
        return Mutant(seed, how, payload)
    try:
        # Floats stay as their text: the mutant differs from the frame only where mutated.
        obj = json.loads(frame, parse_float=_Raw, parse_constant=_Raw)
    except ValueError:
        how, payload = _byte_mutation(frame, rng)
        return Mutant(seed, how, payload)
    steps = [_tree_mutation for _ in range(rng.choice((1, 1, 1, 2, 3)))]
    hows = []
    for step in steps:
        how, obj = step(obj, rng)
        hows.append(how)
        if isinstance(obj, (_Raw, _DupKeys)):
            break
    return Mutant(seed, "+".join(hows), _dump(obj).encode("utf-8", "surrogatepass"))


class MutantFrame(bytes):
    """A mutant's bytes that print as their seed: hypothesis prints a failing example,
    and 300 kB of brackets would bury the error (and trip its large-repr warning)."""

    seed: int
    how: str

    def __repr__(self) -> str:
        return f"mutant(samples, seed={self.seed})  # {self.how}, {len(self)} bytes"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


def malformed_frames(samples: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    """The generator as a hypothesis strategy: hypothesis draws only the seed (it
    shrinks towards seed 0), so a run derandomized or not meets the mutants above."""

    def frame(seed: int) -> bytes:
        m = mutant(samples, seed)
        out = MutantFrame(m.payload)
        out.seed, out.how = m.seed, m.how
        return out

    return st.integers(0, 2**63 - 1).map(frame)
