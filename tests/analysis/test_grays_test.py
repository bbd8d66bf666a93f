"""Gray's K-sample test of cumulative incidence (Gray, Ann Stat 1988): by hand, against reference numbers, and its
properties. No database.

The reference statistics come from ``comprisk`` 0.8.0's ``gray_test`` (PyPI), an independent clean-room
implementation documented as equal to R ``cmprsk::cuminc()$Tests`` to 1e-14; R itself is not on this machine.
"""

import json

import numpy as np
import pytest
from lifelines.statistics import logrank_test

from analysis.competing import grays_test

# Twenty subjects with tied times, HCC (1), death without HCC (2) and censoring (0).
TIMES = [1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 1, 2, 3, 3, 3, 5, 6, 6, 8, 9]
EVENTS = [1, 2, 1, 0, 1, 2, 1, 0, 2, 1, 0, 2, 1, 2, 0, 1, 0, 2, 0, 1]
TWO_GROUPS = ["A"] * 10 + ["B"] * 10
THREE_GROUPS = ["A"] * 7 + ["B"] * 7 + ["C"] * 6


def test_one_event_against_one_censored_subject_by_hand():
    # At 1 both are at risk: score 1 - 1/2 = 1/2. Its variance, from the paper's estimator, is 1/4 (the log-rank
    # hypergeometric 1 * 1 * 1 * 1 / (2^2 * 1) too): chi-square (1/2)^2 / (1/4) = 1, p = 0.3173.
    result = grays_test([1, 2], [1, 0], ["A", "B"])
    assert (result["score"], result["statistic"], result["df"]) == ([pytest.approx(0.5)], pytest.approx(1.0), 1)
    assert result["p_value"] == pytest.approx(0.3173105, abs=1e-6)


def test_two_groups_with_ties_and_competing_deaths_match_the_reference():
    result = grays_test(TIMES, EVENTS, TWO_GROUPS)
    assert result["statistic"] == pytest.approx(1.5077376596795775, rel=1e-10)
    assert result["p_value"] == pytest.approx(0.2194846242324174, rel=1e-10)


def test_three_groups_match_the_reference_on_two_degrees_of_freedom():
    result = grays_test(TIMES, EVENTS, THREE_GROUPS)
    assert (result["df"], result["groups"]) == (2, ["A", "B", "C"])
    assert result["statistic"] == pytest.approx(4.374599436077861, rel=1e-10)
    assert result["p_value"] == pytest.approx(0.1122193637840226, rel=1e-10)


def test_relabelling_the_groups_gives_the_same_test():
    swapped = ["B" if group == "A" else "A" for group in TWO_GROUPS]
    forward, backward = grays_test(TIMES, EVENTS, TWO_GROUPS), grays_test(TIMES, EVENTS, swapped)
    assert backward["statistic"] == pytest.approx(forward["statistic"])
    assert backward["score"][0] == pytest.approx(-forward["score"][0])


def test_the_test_of_the_competing_cause_differs_and_p_is_a_probability():
    result = grays_test(TIMES, EVENTS, TWO_GROUPS, cause=2)
    assert result["statistic"] != pytest.approx(grays_test(TIMES, EVENTS, TWO_GROUPS)["statistic"])
    assert 0 <= result["p_value"] <= 1


def test_without_competing_events_the_score_is_the_logrank_observed_minus_expected():
    rng = np.random.default_rng(3)
    times, events, groups = np.ceil(rng.exponential(10, 60)), rng.integers(0, 2, 60), rng.choice(["a", "b"], 60)
    expected = 0.0
    for t in np.unique(times[events == 1]):
        at_risk, died = times >= t, (times == t) & (events == 1)
        expected += died.sum() * (at_risk & (groups == "a")).sum() / at_risk.sum()
    result = grays_test(times, events, groups)
    assert result["score"][0] == pytest.approx(((groups == "a") & (events == 1)).sum() - expected)
    a, b = groups == "a", groups == "b"
    logrank = logrank_test(times[a], times[b], events[a], events[b]).test_statistic
    assert result["statistic"] == pytest.approx(logrank, rel=0.05)  # another variance estimator, close to it


def test_identical_groups_have_a_zero_score():
    result = grays_test(TIMES[:10] * 2, EVENTS[:10] * 2, ["A"] * 10 + ["B"] * 10)
    assert result["score"][0] == pytest.approx(0.0, abs=1e-12)
    assert result["p_value"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("events", "groups"),
    [([0, 2, 0, 2], ["A", "A", "B", "B"]), ([1, 2, 0, 1], ["A"] * 4)],
    ids=["no event of the cause", "one group"],
)
def test_without_an_event_or_a_second_group_there_is_no_test(events, groups):
    result = grays_test([1, 2, 3, 4], events, groups)
    assert (result["statistic"], result["p_value"]) == (None, None)
    json.dumps(result, allow_nan=False)


def test_subjects_without_a_group_time_or_outcome_are_left_out():
    result = grays_test([*TIMES, np.nan, 2.0, 3.0], [*EVENTS, 1, np.nan, 1], [*TWO_GROUPS, "A", "B", None])
    assert result["statistic"] == pytest.approx(1.5077376596795775, rel=1e-10)
