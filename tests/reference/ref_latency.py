"""The latency models of the reference simulator: the same generator and draws as
cpp/include/crossbook/sim/latency_model.hpp, in Python ints."""

from __future__ import annotations

from collections.abc import Sequence


MASK64 = 2**64 - 1


class SplitMix64:
    """splitmix64, as cpp/include/crossbook/sim/latency_model.hpp, in Python ints."""

    def __init__(self, seed: int) -> None:
        self.state = seed

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, bound: int) -> int:
        """Lemire's unbiased draw in [0, bound)."""
        m = self.next() * bound
        if m & MASK64 < bound:
            threshold = (2**64 - bound) % bound
            while m & MASK64 < threshold:
                m = self.next() * bound
        return m >> 64


def _split(seed: int) -> tuple[SplitMix64, SplitMix64]:
    root = SplitMix64(seed)
    return SplitMix64(root.next()), SplitMix64(root.next())


class RefEmpirical:
    def __init__(self, entry_ns: Sequence[int], response_ns: Sequence[int], seed: int) -> None:
        self.samples = (list(entry_ns), list(response_ns))
        self.rngs = _split(seed)

    def delay(self, which: int, ts: int) -> int:
        return self.samples[which][self.rngs[which].below(len(self.samples[which]))]


class RefUniform:
    def __init__(self, entry: tuple[int, int], response: tuple[int, int], seed: int) -> None:
        self.ranges = (entry, response)
        self.rngs = _split(seed)

    def delay(self, which: int, ts: int) -> int:
        lo, hi = self.ranges[which]
        return lo + self.rngs[which].below(hi - lo + 1)


class RefTable:
    def __init__(self, rows: Sequence[tuple[int, int, int]]) -> None:
        self.rows = list(rows)

    def delay(self, which: int, ts: int) -> int:
        row = self.rows[0]
        for r in self.rows:
            if r[0] <= ts:
                row = r
        return row[1 + which]
