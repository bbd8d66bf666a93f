"""Curves from a landmark on hand-made frames: who is at risk at the landmark, time restarted there, the number
at risk equal to the full curve's, and death still competing with HCC. Small enough to follow on paper. No
database."""

import pandas as pd
import pytest

from analysis.landmarks import incidence_from_landmarks, survival_from_landmarks, times_after
from analysis.survival import compare_arms, kaplan_meier

SURVIVAL = {"duration": "months", "event": "died", "group_col": "arm"}
ARMS = ["Cells", "Control"]
# Cells: deaths at 5, 15, 30, censored at 10, 20; Control: deaths at 3, 14, 25, censored at 16, 40.
FRAME = pd.DataFrame(
    {
        "arm": ["Cells"] * 5 + ["Control"] * 5,
        "months": [5, 10, 15, 20, 30, 3, 14, 16, 25, 40],
        "died": [1, 0, 1, 0, 1, 1, 1, 0, 1, 0],
    }
)


def from_13(frame=FRAME, report_times=(12, 24, 36)) -> dict:
    (entry,) = survival_from_landmarks(frame, **SURVIVAL, groups=ARMS, landmarks=[13], report_times=list(report_times))
    return entry


def arm(curves: list[dict], group: str) -> dict:
    return next(curve for curve in curves if curve["group"] == group)


def test_subjects_dead_or_censored_before_the_landmark_are_left_out():
    entry = from_13()
    assert entry["landmark"] == 13
    assert entry["at_risk"] == [{"group": "Cells", "n": 3}, {"group": "Control", "n": 4}]
    assert [arm(entry["kaplan_meier"], group)["events"] for group in ARMS] == [2, 2]


def test_time_restarts_at_the_landmark():
    cells = arm(from_13()["kaplan_meier"], "Cells")
    # Cells from 13: a death 2 months on (3 at risk), a censoring at 7, the last death at 17.
    assert cells["curve"]["time"] == [0.0, 2.0, 7.0, 17.0]
    assert cells["curve"]["survival"] == pytest.approx([1.0, 2 / 3, 2 / 3, 0.0])


def test_the_report_times_are_those_after_the_landmark_counted_from_it():
    control = arm(from_13()["kaplan_meier"], "Control")
    assert times_after([12, 24, 36], 13) == [11, 23]
    assert [(row["time"], row["at_risk"]) for row in control["at_times"]] == [(11, 2), (23, 1)]
    # Control from 13: deaths at 1 (4 at risk) and 12 (2 at risk).
    assert [row["survival"] for row in control["at_times"]] == pytest.approx([3 / 4, 3 / 8])


def test_the_number_at_the_landmark_is_the_full_curves_number_at_risk_there():
    full = kaplan_meier(FRAME, **SURVIVAL, groups=ARMS, at_times=[13])
    assert [row["n"] for row in from_13()["at_risk"]] == [curve["at_times"][0]["at_risk"] for curve in full]


def test_a_time_exactly_at_the_landmark_is_left_out_like_the_landmark_window():
    tied = pd.concat([FRAME, pd.DataFrame({"arm": ["Cells"], "months": [13], "died": [1]})], ignore_index=True)
    window = compare_arms(tied, **SURVIVAL, group="Cells", reference="Control", window=(13, None))
    full = kaplan_meier(tied, **SURVIVAL, groups=ARMS, at_times=[13])
    assert from_13(tied)["at_risk"][0]["n"] == window.n_group == 3
    assert full[0]["at_times"][0]["at_risk"] == 4  # at risk just before 13, the death at 13 included


def test_no_landmark_no_curves():
    assert survival_from_landmarks(FRAME, **SURVIVAL, groups=ARMS, landmarks=[]) == []


def test_an_arm_with_nobody_left_at_the_landmark_has_an_empty_curve():
    (entry,) = survival_from_landmarks(FRAME, **SURVIVAL, groups=ARMS, landmarks=[35], report_times=[36])
    assert entry["at_risk"] == [{"group": "Cells", "n": 0}, {"group": "Control", "n": 1}]
    cells = arm(entry["kaplan_meier"], "Cells")
    assert cells["curve"]["time"] == []
    assert cells["at_times"] == [{"time": 1, "survival": None, "ci_lower": None, "ci_upper": None, "at_risk": 0}]


HCC = {"duration": "hcc_months", "event": "hcc_event", "group_col": "arm"}
# 0 censored, 1 HCC, 2 death without HCC. Cells: HCC at 4, death at 10, HCC at 12, censored at 20.
HCC_FRAME = pd.DataFrame(
    {
        "arm": ["Cells"] * 4 + ["Control"] * 3,
        "hcc_months": [4, 10, 12, 20, 6, 9, 15],
        "hcc_event": [1, 2, 1, 0, 2, 1, 0],
    }
)


def test_the_incidence_from_a_landmark_keeps_death_competing():
    (entry,) = incidence_from_landmarks(HCC_FRAME, **HCC, groups=ARMS, landmarks=[8], report_times=[12])
    assert entry["at_risk"] == [{"group": "Cells", "n": 3}, {"group": "Control", "n": 2}]
    cells = arm(entry["cumulative_incidence"], "Cells")
    assert (cells["events"], cells["competing"]) == (1, 1)
    # From 8: a death at 2 (3 at risk) leaves 2/3 alive, then HCC at 4 among 2: 2/3 x 1/2.
    assert cells["curve"]["time"] == [2.0, 4.0]
    assert cells["at_times"][0]["time"] == 4
    assert cells["at_times"][0]["incidence"] == pytest.approx(1 / 3)
