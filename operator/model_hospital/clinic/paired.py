"""Paired comparisons of two models on the same items: exact McNemar and a paired bootstrap.

A skill drop is flagged only when it is large (over the threshold) and real: these
are the "real" half. Both work on per-item values in the same order for the
model before and after treatment, so each item is its own control.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240611


@dataclass(frozen=True)
class DiscordantPairs:
    """How the items that changed outcome moved: right before and wrong after, or the reverse."""

    lost: int    # correct before, wrong after
    gained: int  # wrong before, correct after


def discordant_pairs(before: Sequence[bool], after: Sequence[bool]) -> DiscordantPairs:
    """The discordant pairs of two paired lists of per-item correctness."""
    _check_paired(before, after)
    lost = sum(1 for b, a in zip(before, after) if b and not a)
    gained = sum(1 for b, a in zip(before, after) if a and not b)
    return DiscordantPairs(lost=lost, gained=gained)


def mcnemar_exact(lost: int, gained: int) -> float:
    """The two-sided exact McNemar p-value: a binomial test of the discordant pairs against 1/2.

    With no discordant pair the two models agree on every item and p is 1.
    """
    if lost < 0 or gained < 0:
        raise ValueError("discordant counts cannot be negative")
    n = lost + gained
    if n == 0:
        return 1.0
    smaller = min(lost, gained)
    # P(X <= smaller) for X ~ Binomial(n, 1/2), doubled for two sides; exact integers until the division.
    tail = sum(math.comb(n, k) for k in range(smaller + 1))
    return min(1.0, 2 * tail / 2**n)


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean; None for no values."""
    return sum(values) / len(values) if values else None


def paired_bootstrap_interval(before: Sequence[float], after: Sequence[float], *,
                              resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                              confidence: float = 0.95) -> tuple[float, float] | None:
    """The percentile bootstrap interval of mean(after - before), resampling items (pairs kept together).

    Deterministic for a given seed; None when there are no items.
    """
    _check_paired(before, after)
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie between 0 and 1")
    differences = [float(a) - float(b) for b, a in zip(before, after)]
    n = len(differences)
    if n == 0:
        return None
    rng = random.Random(seed)
    means = sorted(
        sum(differences[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    alpha = (1 - confidence) / 2
    return (_percentile(means, alpha), _percentile(means, 1 - alpha))


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile of sorted values, interpolated linearly between neighbours."""
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    weight = position - low
    return ordered[low] * (1 - weight) + ordered[high] * weight


def _check_paired(before: Sequence, after: Sequence) -> None:
    if len(before) != len(after):
        raise ValueError(f"paired values differ in length: {len(before)} before, {len(after)} after")
