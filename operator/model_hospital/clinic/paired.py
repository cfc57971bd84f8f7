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


def paired_difference_interval(before: Sequence[bool], after: Sequence[bool],
                               z: float = 1.959963984540054) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval (95 % by default) of mean(after) - mean(before) on paired booleans.

    Each proportion gets its Wilson interval; the correlation of the pairs (phi*,
    continuity-corrected) narrows the difference's interval when the same items stay the same. It keeps
    its coverage on few items and rates near 0 or 1, where a Wald interval does
    not. None when there are no items.
    """
    from model_hospital.clinic.stats import wilson_interval

    _check_paired(before, after)
    n = len(before)
    if n == 0:
        return None
    both = sum(1 for b, a in zip(before, after) if b and a)
    only_after = sum(1 for b, a in zip(before, after) if a and not b)
    only_before = sum(1 for b, a in zip(before, after) if b and not a)
    neither = n - both - only_after - only_before
    p_after, p_before = (both + only_after) / n, (both + only_before) / n
    low_after, high_after = wilson_interval(both + only_after, n, z)
    low_before, high_before = wilson_interval(both + only_before, n, z)
    margins = (both + only_after) * (only_before + neither) * (both + only_before) * (only_after + neither)
    # The correlation with Newcombe's continuity correction (phi*, his method 11): the plain phi
    # is 1 when no pair changed, which shrinks the interval to [0, 0] on any number of
    # items (4 unchanged items would "prove" no loss); phi* keeps it honest on few items.
    phi = max(both * neither - only_after * only_before - n / 2, 0) / math.sqrt(margins) if margins else 0.0
    difference = p_after - p_before
    below = math.sqrt(max(0.0, (p_after - low_after) ** 2 - 2 * phi * (p_after - low_after) * (high_before - p_before)
                          + (high_before - p_before) ** 2))
    above = math.sqrt(max(0.0, (high_after - p_after) ** 2 - 2 * phi * (high_after - p_after) * (p_before - low_before)
                          + (p_before - low_before) ** 2))
    return (max(-1.0, difference - below), min(1.0, difference + above))


def items_to_bound(estimate: float, bound: float, limit: float, n: int, most: int = 20) -> int | None:
    """About how many more paired items would put a confidence bound beyond `limit`, at the same estimate.

    A bound's distance from the estimate shrinks as 1/sqrt(n). None when the estimate
    itself lies on the wrong side of the limit (no number of items would do it), or so
    close to it that `most` times the items would not (an NLL change of +0.153 against a
    margin of +0.155 once read "about 883999 more items").
    """
    spread, room = abs(estimate - bound), abs(estimate - limit)
    if n <= 0 or (limit - estimate) * (bound - estimate) < 0 or room == 0:
        return None  # the limit lies on the other side of the estimate from the bound
    if spread < room:
        return 0
    needed = math.ceil(n * (spread / room) ** 2)
    return None if needed > most * n else max(1, needed - n)


def items_to_significance(worse: int, better: int, n: int, alpha: float = 0.05, most: int = 20) -> int | None:
    """About how many more paired items would make `better` outnumber `worse` significantly (exact McNemar).

    The discordant shares are kept as observed; None when `better` does not outnumber
    `worse` or when `most` times the items would still not be enough.
    """
    if better <= worse or n <= 0:
        return None
    if mcnemar_exact(worse, better) < alpha:
        return 0
    step = max(1, n // 20)
    for total in range(n + step, most * n + 1, step):
        scale = total / n
        if mcnemar_exact(round(worse * scale), round(better * scale)) < alpha:
            return total - n
    return None
