"""Hazard ratios by subgroup: each level is the unadjusted Cox model of its own subjects, a level without the
events it needs says why, and the interaction test is the likelihood-ratio test checked against statsmodels.

Hand-made frames; no database.
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg

from analysis.subgroups import METHOD, subgroup_hazard_ratios
from analysis.survival import compare_arms

MONTHS = {"duration": "months", "event": "died", "group_col": "arm", "group": "Control", "reference": "Cells"}
SEX = {"column": "sex", "label": "Sex", "levels": [("male", "Male"), ("female", "Female")]}


def trial(seed=5, n=160) -> pd.DataFrame:
    """Two arms and two sexes; control's hazard is doubled in men and not in women, a fifth censored early."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(["Control", "Cells"], size=n)
    sex = rng.choice(["male", "female"], size=n)
    hazard = 0.05 * np.where((arm == "Control") & (sex == "male"), 2.0, 1.0)
    time = rng.exponential(1 / hazard)
    censor = rng.uniform(0, 40, size=n)
    return pd.DataFrame(
        {"arm": arm, "sex": sex, "months": np.ceil(np.minimum(time, censor)), "died": (time <= censor).astype(int)}
    )


def levels_of(result) -> dict:
    return {row["level"]: row for row in result["levels"]}


def test_each_level_is_the_unadjusted_cox_model_of_its_subjects():
    frame = trial()
    result = levels_of(subgroup_hazard_ratios(frame, **MONTHS, **SEX))
    expected = compare_arms(frame[frame.sex == "male"], **MONTHS)
    male = result["male"]
    assert (male["hazard_ratio"], male["ci_lower"], male["ci_upper"]) == pytest.approx(
        (expected.hazard_ratio, expected.ci_lower, expected.ci_upper)
    )
    assert male["label"] == "Male"


def test_each_level_counts_subjects_and_events_per_arm():
    frame = trial()
    female = levels_of(subgroup_hazard_ratios(frame, **MONTHS, **SEX))["female"]
    women = frame[frame.sex == "female"]
    assert (female["n_group"], female["events_group"]) == (
        (women.arm == "Control").sum(),
        women[women.arm == "Control"].died.sum(),
    )
    assert female["n_reference"] == (women.arm == "Cells").sum()


def test_levels_follow_the_plans_order():
    result = subgroup_hazard_ratios(
        trial(), **MONTHS, column="sex", label="Sex", levels=[("female", "F"), ("male", "M")]
    )
    assert [row["label"] for row in result["levels"]] == ["F", "M"]


def test_without_levels_in_the_plan_the_values_found_are_sorted_and_are_their_own_labels():
    frame = trial().assign(site=lambda f: np.where(f.index % 2, "SZ", "BJ"))
    result = subgroup_hazard_ratios(frame, **MONTHS, column="site", label="Site")
    assert [(row["level"], row["label"]) for row in result["levels"]] == [("BJ", "BJ"), ("SZ", "SZ")]


def test_a_level_without_events_is_not_estimable_and_says_why():
    frame = trial()
    frame.loc[frame.sex == "female", "died"] = 0
    result = subgroup_hazard_ratios(frame, **MONTHS, **SEX)
    female = levels_of(result)["female"]
    assert (female["estimable"], female["hazard_ratio"], female["reason"]) == (False, None, "no events")


def test_a_level_where_one_arm_has_no_event_is_not_estimable_and_says_which_arm():
    frame = trial()
    frame.loc[(frame.sex == "female") & (frame.arm == "Cells"), "died"] = 0
    female = levels_of(subgroup_hazard_ratios(frame, **MONTHS, **SEX))["female"]
    assert female["reason"] == "no events in Cells: the hazard ratio is 0 or infinite"


def test_the_interaction_is_not_tested_with_fewer_than_two_estimable_levels():
    frame = trial()
    frame.loc[frame.sex == "female", "died"] = 0
    interaction = subgroup_hazard_ratios(frame, **MONTHS, **SEX)["interaction"]
    assert (interaction["p_value"], interaction["levels_tested"]) == (None, ["male"])
    assert interaction["reason"] == "fewer than two levels with an estimable hazard ratio"


def efron_log_likelihood(frame, columns) -> float:
    return PHReg(frame.months, frame[columns].astype(float), status=frame.died, ties="efron").fit().llf


def test_the_interaction_is_the_likelihood_ratio_test_of_the_product_term_as_in_statsmodels():
    frame = trial(n=240)
    design = frame.assign(
        control=(frame.arm == "Control").astype(int), female=(frame.sex == "female").astype(int)
    ).assign(product=lambda f: f.control * f.female)
    statistic = 2 * (
        efron_log_likelihood(design, ["control", "female", "product"])
        - efron_log_likelihood(design, ["control", "female"])
    )
    interaction = subgroup_hazard_ratios(frame, **MONTHS, **SEX)["interaction"]
    assert interaction["statistic"] == pytest.approx(statistic, abs=1e-4)
    assert interaction["p_value"] == pytest.approx(stats.chi2.sf(statistic, 1), abs=1e-4)
    assert (interaction["df"], interaction["method"]) == (1, METHOD)


def test_three_levels_give_two_degrees_of_freedom():
    frame = trial(n=240).assign(grade=lambda f: np.array(["A", "B", "C"])[f.index % 3])
    result = subgroup_hazard_ratios(frame, **MONTHS, column="grade", label="Child-Pugh class")
    assert result["interaction"]["df"] == 2
    assert 0 <= result["interaction"]["p_value"] <= 1


def test_subjects_without_a_value_are_left_out_and_counted():
    frame = trial().astype({"sex": object})
    frame.loc[[0, 1, 2], "sex"] = None
    result = subgroup_hazard_ratios(frame, **MONTHS, **SEX)
    assert result["n_missing"] == 3
    assert sum(row["n_group"] + row["n_reference"] for row in result["levels"]) == len(frame) - 3


def test_a_boolean_stratum_with_a_missing_value_is_grouped_by_its_truth():
    frame = trial().assign(meld_above_15=lambda f: (f.index % 4 == 0).astype(object))
    frame.loc[1, "meld_above_15"] = np.nan
    levels = [(False, "MELD ≤ 15"), (True, "MELD > 15")]
    result = subgroup_hazard_ratios(frame, **MONTHS, column="meld_above_15", label="MELD", levels=levels)
    high = levels_of(result)[True]
    assert high["n_group"] + high["n_reference"] == (frame.index % 4 == 0).sum()
    assert result["n_missing"] == 1


def test_a_column_the_frame_lacks_is_all_missing():
    result = subgroup_hazard_ratios(trial(), **MONTHS, column="hbeag", label="HBeAg", levels=[("positive", "+")])
    assert (result["n_missing"], result["levels"][0]["reason"]) == (160, "no subjects")


def test_results_are_plain_json():
    frame = trial().assign(meld_above_15=lambda f: f.index % 4 == 0)  # numpy booleans as found levels
    result = subgroup_hazard_ratios(frame, **MONTHS, column="meld_above_15", label="MELD")
    assert [row["level"] for row in result["levels"]] == [False, True]
    json.dumps(result, allow_nan=False)
