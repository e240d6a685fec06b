"""Plain-Python twin of the simulator's queue models (cpp/include/crossbook/sim/queue_model.hpp).

Same integer arithmetic; the power and log splits in double, in the core's order of
operations, so that both round alike.
"""

from __future__ import annotations

import math


def cancelled_ahead(model: str, ahead: int, behind: int, decrease: int) -> int:
    """How much of an unexplained decrease left from ahead, before clamping (ahead > 0)."""
    if model == "conservative":
        return 0
    if model == "linear":
        return decrease * ahead // (ahead + behind)
    if model == "log":
        fa, fb = math.log1p(float(ahead)), math.log1p(float(behind))
        return math.floor(float(decrease) * fa / (fa + fb))
    n = float(model.partition(":")[2])
    try:
        r = math.pow(float(behind) / float(ahead), n)
    except OverflowError:
        r = math.inf
    return math.floor(float(decrease) / (1.0 + r))


def level_change(model: str, ahead: int, prev_size: int, new_size: int, traded: int) -> int:
    """The size ahead after the feed set the level from prev_size to new_size, with
    `traded` traded at the price since the level's previous row."""
    unexplained = prev_size - new_size - traded
    if unexplained > 0 and ahead > 0:
        behind = max(0, prev_size - ahead)
        part = min(max(cancelled_ahead(model, ahead, behind, unexplained), 0),
                   min(unexplained, ahead))
        # What the split gives the size behind beyond that size was ahead.
        part = min(ahead, part + max(0, unexplained - part - behind))
        ahead -= part
    return min(ahead, new_size)
