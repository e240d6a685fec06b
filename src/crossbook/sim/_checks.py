"""Argument checks shared by the simulator's configuration records."""

from __future__ import annotations

__all__ = ["check_int"]


def check_int(name: str, value: object, low: int, high: int, *, optional: bool = False) -> None:
    """An exact int (not a bool) in [low, high]; None also passes when ``optional``."""
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "an int or None" if optional else "an int"
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
