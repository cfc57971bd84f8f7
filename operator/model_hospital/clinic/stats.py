"""Rates with their denominators and intervals."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson_interval(events: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval (95 % by default) of a proportion events/n; None when n is 0."""
    if n <= 0:
        return None
    if not 0 <= events <= n:
        raise ValueError(f"events {events} out of range for n={n}")
    p = events / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))
