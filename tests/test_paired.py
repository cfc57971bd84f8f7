"""Paired statistics against values computed by hand."""

import pytest

from model_hospital.clinic.paired import (
    discordant_pairs,
    mcnemar_exact,
    paired_bootstrap_interval,
)


def test_mcnemar_matches_the_binomial_computed_by_hand():
    # 8 lost, 2 gained: P(X <= 2 | n=10, 1/2) = (1 + 10 + 45) / 1024; doubled.
    assert mcnemar_exact(8, 2) == pytest.approx(2 * 56 / 1024)
    # symmetric in its arguments
    assert mcnemar_exact(2, 8) == mcnemar_exact(8, 2)
    # 6 lost, 0 gained: 2 / 64
    assert mcnemar_exact(6, 0) == pytest.approx(0.03125)


def test_mcnemar_is_one_when_the_models_agree_or_split_evenly():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0


def test_five_lost_items_are_not_significant_but_six_are():
    assert mcnemar_exact(5, 0) == pytest.approx(0.0625)
    assert mcnemar_exact(5, 0) > 0.05
    assert mcnemar_exact(6, 0) < 0.05


def test_discordant_pairs_count_only_items_that_changed():
    before = [True, True, False, False, True]
    after = [False, True, True, False, False]
    pairs = discordant_pairs(before, after)
    assert (pairs.lost, pairs.gained) == (2, 1)


def test_paired_values_of_different_length_are_refused():
    with pytest.raises(ValueError):
        discordant_pairs([True], [True, False])
    with pytest.raises(ValueError):
        paired_bootstrap_interval([1.0], [1.0, 2.0])


def test_bootstrap_of_a_constant_shift_is_that_shift():
    before = [1.0, 2.0, 3.0, 4.0]
    after = [1.5, 2.5, 3.5, 4.5]
    low, high = paired_bootstrap_interval(before, after)
    assert low == pytest.approx(0.5)
    assert high == pytest.approx(0.5)


def test_bootstrap_is_deterministic_and_covers_the_observed_delta():
    before = [0.0] * 10 + [1.0] * 10
    after = [1.0] * 5 + [0.0] * 5 + [1.0] * 10
    first = paired_bootstrap_interval(before, after, seed=3)
    again = paired_bootstrap_interval(before, after, seed=3)
    assert first == again
    low, high = first
    assert low < 0.25 < high  # the observed mean delta is 5 / 20
    assert low >= 0.0 - 1e-12 and high <= 0.5 + 1e-12  # within what any resample can reach


def test_bootstrap_excludes_zero_for_a_drop_on_every_item():
    before = [2.0, 2.1, 1.9, 2.0, 2.2, 1.8]
    after = [value + 0.3 for value in before]
    low, _ = paired_bootstrap_interval(before, after)
    assert low > 0


def test_bootstrap_of_no_items_is_none():
    assert paired_bootstrap_interval([], []) is None


def test_newcombe_interval_of_a_paired_change_brackets_it_and_narrows_with_items():
    from model_hospital.clinic.paired import paired_difference_interval

    same = paired_difference_interval([True] * 30 + [False] * 10, [True] * 30 + [False] * 10)
    assert same[0] < 0 < same[1]
    more = paired_difference_interval([True] * 300 + [False] * 100, [True] * 300 + [False] * 100)
    assert same[0] < more[0] < 0 < more[1] < same[1]
    lost = paired_difference_interval([True] * 40, [False] * 40)
    assert lost[0] == -1.0 and lost[1] < -0.85
    two_lost = paired_difference_interval([True] * 34 + [False] * 6, [False] * 6 + [True] * 29 + [False] * 5)
    assert two_lost[0] < -0.125 < two_lost[1] < 0.05
    assert paired_difference_interval([], []) is None
    # Four unchanged items prove nothing: the interval never collapses to [0, 0].
    few = paired_difference_interval([True, True, False, False], [True, True, False, False])
    assert few[0] < -0.2 and few[1] > 0.2


def test_items_to_decide_follow_the_estimate_and_refuse_the_impossible():
    from model_hospital.clinic.paired import items_to_bound, items_to_significance

    assert items_to_bound(2 / 27, 0.2337, 0.15, 27) == 93  # 2 of 27 look-alikes refused: about 93 more
    assert items_to_bound(0.07, 0.12, 0.15, 27) == 0   # the bound already excludes it
    assert items_to_bound(0.20, 0.35, 0.15, 27) is None  # the estimate is past the margin itself
    # An estimate a hair under the margin: no sensible number of items decides it (it read "about 883999 more").
    assert items_to_bound(0.153, 0.348, 0.155, 68) is None
    assert items_to_significance(worse=1, better=5, n=49) > 0
    assert items_to_significance(worse=0, better=26, n=49) == 0
    assert items_to_significance(worse=3, better=3, n=49) is None
