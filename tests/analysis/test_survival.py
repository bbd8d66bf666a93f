"""Kaplan-Meier, log-rank, Cox and landmark windows, checked by hand and against statsmodels to 1e-4.

statsmodels is an independent implementation (PHReg with Efron ties, survdiff); the hand examples are small
enough to follow on paper. No database.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import survdiff

from analysis.survival import compare_arms, cox, kaplan_meier, logrank, window_frame

Z95 = 1.959963984540054
MONTHS = {"duration": "months", "event": "died", "group_col": "arm"}
CONTROL_OVER_CELLS = {"group": "Control", "reference": "Cell therapy"}
EVENT_COLUMNS = {"duration": "months", "event": "died"}


def arms_frame(seed=7, n=60, ties=True) -> pd.DataFrame:
    """Two arms, the first with twice the hazard; whole-month times give ties, a tenth censored early."""
    rng = np.random.default_rng(seed)
    arm = np.repeat(["Control", "Cell therapy"], n // 2)
    hazard = np.where(arm == "Control", 0.10, 0.05)
    time = rng.exponential(1 / hazard)
    censor = rng.uniform(0, 30, size=n)
    observed = (time <= censor).astype(int)
    duration = np.minimum(time, censor)
    if ties:
        duration = np.ceil(duration)
    return pd.DataFrame(
        {"arm": arm, "months": duration, "died": observed, "meld_high": rng.integers(0, 2, size=n).astype(bool)}
    )


def hand_frame() -> pd.DataFrame:
    # Deaths at 1, 2, 3, 5; censored at 2 and 4.
    return pd.DataFrame({"months": [1, 2, 2, 3, 4, 5], "died": [1, 1, 0, 1, 0, 1], "arm": ["A"] * 6})


def km(frame, at_times=()):
    return kaplan_meier(frame, **MONTHS, groups=["A"], at_times=at_times)[0]


def test_kaplan_meier_matches_the_product_limit_by_hand():
    curve = km(hand_frame())["curve"]
    assert curve["time"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert curve["survival"] == pytest.approx([1, 5 / 6, 2 / 3, 4 / 9, 4 / 9, 0])


def test_kaplan_meier_median_is_the_first_time_survival_reaches_half():
    result = km(hand_frame())
    assert (result["median"], result["median_reached"]) == (3.0, True)
    assert (result["n"], result["events"]) == (6, 4)


def test_kaplan_meier_interval_is_the_log_minus_log_greenwood_interval():
    survival = 4 / 9
    greenwood = 1 / (6 * 5) + 1 / (5 * 4) + 1 / (3 * 2)
    spread = Z95 * math.sqrt(greenwood) / abs(math.log(survival))
    expected = sorted(survival ** math.exp(sign * spread) for sign in (-1, 1))
    at_three = km(hand_frame(), at_times=[3])["at_times"][0]
    assert [at_three["ci_lower"], at_three["ci_upper"]] == pytest.approx(expected, abs=1e-6)


def test_numbers_at_risk_count_subjects_still_followed_at_each_time():
    at_times = km(hand_frame(), at_times=[0, 2, 3, 4.5, 6])["at_times"]
    assert [row["at_risk"] for row in at_times] == [6, 5, 3, 1, 0]
    assert [row["survival"] for row in at_times] == pytest.approx([1, 2 / 3, 4 / 9, 4 / 9, 0])


def test_median_not_reached_when_survival_stays_above_half():
    frame = pd.DataFrame({"months": [1, 2, 3, 4], "died": [1, 0, 0, 0], "arm": ["A"] * 4})
    result = km(frame)
    assert (result["median"], result["median_reached"]) == (None, False)


def test_an_empty_arm_gives_an_empty_curve():
    result = kaplan_meier(hand_frame(), **MONTHS, groups=["B"])[0]
    assert (result["n"], result["median"], result["curve"]["time"]) == (0, None, [])


def test_logrank_matches_statsmodels_survdiff():
    frame = arms_frame()
    statistic, p_value = survdiff(frame.months, frame.died, frame.arm)
    result = logrank(frame, **MONTHS, groups=["Control", "Cell therapy"])
    assert result["statistic"] == pytest.approx(statistic, abs=1e-4)
    assert result["p_value"] == pytest.approx(p_value, abs=1e-4)


def statsmodels_cox(frame, columns):
    model = PHReg(frame.months, frame[columns].astype(float), status=frame.died, ties="efron").fit()
    coef, se = model.params[0], model.bse[0]
    return {
        "hazard_ratio": math.exp(coef),
        "ci_lower": math.exp(coef - Z95 * se),
        "ci_upper": math.exp(coef + Z95 * se),
        "p_wald": model.pvalues[0],
    }


@pytest.mark.parametrize("covariates", [(), ("meld_high",)], ids=["unadjusted", "adjusted"])
@pytest.mark.parametrize("seed", [7, 13])  # 13: lifelines' default stopping rule missed the maximum by 3e-4
def test_cox_with_tied_times_matches_statsmodels_efron(covariates, seed):
    frame = arms_frame(seed=seed, n=120).assign(is_control=lambda f: (f.arm == "Control").astype(int))
    expected = statsmodels_cox(frame, ["is_control", *covariates])
    result = cox(
        frame,
        **MONTHS,
        **CONTROL_OVER_CELLS,
        covariates=covariates,
    )
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=1e-4), key


def test_cox_states_the_reference_and_reports_the_schoenfeld_test():
    result = cox(arms_frame(), **MONTHS, **CONTROL_OVER_CELLS)
    assert (result["group"], result["reference"]) == ("Control", "Cell therapy")
    assert 0 <= result["ph_test_p"] <= 1
    assert result["hazard_ratio"] > 1


def test_cox_leaves_out_subjects_missing_a_covariate_and_counts_them():
    frame = arms_frame().astype({"meld_high": object})
    frame.loc[[0, 1, 2], "meld_high"] = None
    result = cox(
        frame,
        **MONTHS,
        **CONTROL_OVER_CELLS,
        covariates=["meld_high"],
    )
    assert (result["n_excluded"], result["n"]) == (3, len(frame) - 3)
    assert result["terms"][0]["term"] == "meld_high"


def test_swapping_the_reference_inverts_the_hazard_ratio():
    frame = arms_frame()
    forward = compare_arms(frame, **MONTHS, **CONTROL_OVER_CELLS)
    backward = compare_arms(frame, **MONTHS, group="Cell therapy", reference="Control")
    assert forward.hazard_ratio == pytest.approx(1 / backward.hazard_ratio, rel=1e-6)
    assert forward.ci_lower == pytest.approx(1 / backward.ci_upper, rel=1e-6)
    assert forward.p_logrank == pytest.approx(backward.p_logrank)


LANDMARK = pd.DataFrame(
    {
        "arm": ["A", "A", "A", "A", "B", "B", "B", "B"],
        "months": [2.0, 5.0, 10.0, 20.0, 3.0, 6.0, 12.0, 30.0],
        "died": [1, 1, 1, 1, 0, 1, 2, 1],  # 2: a competing event, censored in a survival comparison
    }
)


def test_a_window_keeps_those_at_risk_at_its_start_shifts_time_and_censors_at_its_end():
    data = window_frame(LANDMARK, duration="months", event="died", window=(4, 12))
    assert data.months.tolist() == [1.0, 6.0, 8.0, 2.0, 8.0, 8.0]
    assert data.died.tolist() == [1, 1, 0, 1, 0, 0]


def test_a_window_without_end_keeps_later_events():
    data = window_frame(LANDMARK, duration="months", event="died", window=(12, None))
    assert data.months.tolist() == [8.0, 18.0]
    assert data.died.tolist() == [1, 1]


def test_compare_arms_in_a_window_counts_subjects_and_events_per_arm():
    result = compare_arms(LANDMARK, **MONTHS, group="A", reference="B", window=(4, 12))
    assert (result.n_group, result.n_reference, result.events_group, result.events_reference) == (3, 3, 2, 1)
    assert result.window == (4, 12)


def test_compare_arms_in_a_window_is_the_cox_model_of_the_windowed_data():
    frame = arms_frame(seed=3, n=120)
    windowed = window_frame(frame, duration="months", event="died", window=(6, 18))
    windowed["is_control"] = (windowed.arm == "Control").astype(int)
    expected = statsmodels_cox(windowed, ["is_control"])
    result = compare_arms(
        frame,
        **MONTHS,
        **CONTROL_OVER_CELLS,
        window=(6, 18),
    )
    assert result.hazard_ratio == pytest.approx(expected["hazard_ratio"], abs=1e-4)
    assert result.p_wald == pytest.approx(expected["p_wald"], abs=1e-4)
    _, p_logrank = survdiff(windowed.months, windowed.died, windowed.arm)
    assert result.p_logrank == pytest.approx(p_logrank, abs=1e-4)


@pytest.mark.parametrize(
    ("died", "reason"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0], "no events"),
        ([1, 1, 0, 1, 0, 0, 0, 0], "no events in B: the hazard ratio is 0 or infinite"),
    ],
    ids=["no-events", "one-arm-without-events"],
)
def test_a_comparison_without_the_events_it_needs_is_not_estimable(died, reason):
    frame = LANDMARK.assign(died=died)
    result = compare_arms(frame, **MONTHS, group="A", reference="B")
    assert (result.estimable, result.hazard_ratio, result.reason) == (False, None, reason)
    json.dumps(result.as_dict(), allow_nan=False)


def test_a_comparison_with_an_empty_arm_is_not_estimable():
    result = compare_arms(LANDMARK, **MONTHS, group="A", reference="C")
    assert (result.reason, result.n_reference, result.p_logrank) == ("no subjects in C", 0, None)


def test_a_covariate_without_variation_is_not_estimable():
    frame = arms_frame().assign(meld_high=True)
    result = cox(
        frame,
        **MONTHS,
        **CONTROL_OVER_CELLS,
        covariates=["meld_high"],
    )
    assert result["reason"] == "no variation in meld_high"


def test_results_are_plain_json():
    frame = arms_frame()
    payload = {
        "km": kaplan_meier(frame, **MONTHS, groups=["Control", "Cell therapy"], at_times=[6, 12, 100]),
        "cox": cox(frame, **MONTHS, **CONTROL_OVER_CELLS, covariates=["meld_high"]),
        "landmark": compare_arms(frame, **MONTHS, **CONTROL_OVER_CELLS, window=(6, None)).as_dict(),
    }
    json.dumps(payload, allow_nan=False)


def test_an_event_exactly_at_a_windows_end_counts_in_that_window_and_not_after():
    frame = pd.DataFrame({"arm": ["A", "A", "B"], "months": [12.0, 20.0, 15.0], "died": [1, 0, 1]})
    first = window_frame(frame, **EVENT_COLUMNS, window=(0, 12))
    later = window_frame(frame, **EVENT_COLUMNS, window=(12, None))
    assert (first.months.tolist(), first.died.tolist()) == ([12.0, 12.0, 12.0], [1, 0, 0])
    assert (later.months.tolist(), later.died.tolist()) == ([8.0, 3.0], [0, 1])


def test_median_interval_is_where_each_band_first_reaches_half():
    # Hand frame bands (log-log Greenwood): the lower band is 0.273 at 1 month; the upper reaches 0 only at 5.
    assert km(hand_frame())["median_ci"] == [1.0, 5.0]


def test_schoenfeld_test_matches_grambsch_therneau_on_statsmodels_residuals():
    frame = arms_frame(seed=5, ties=False).assign(is_control=lambda f: (f.arm == "Control").astype(float))
    model = PHReg(frame.months, frame[["is_control"]], status=frame.died).fit()
    events = frame.died.to_numpy() == 1
    residuals = model.schoenfeld_residuals[events, 0]
    variance, deaths = model.cov_params()[0, 0], events.sum()
    rank_time = stats.rankdata(frame.months.to_numpy()[events])
    centred = rank_time - rank_time.mean()
    statistic = (centred @ (deaths * variance * residuals)) ** 2 / (deaths * variance * (centred @ centred))
    result = cox(frame, **MONTHS, **CONTROL_OVER_CELLS)
    assert result["ph_test_p"] == pytest.approx(stats.chi2.sf(statistic, 1), abs=1e-4)


def test_subjects_without_a_time_are_left_out_of_every_estimate():
    frame = pd.concat([arms_frame(), pd.DataFrame({"arm": ["Control"], "months": [np.nan], "died": [1]})])
    complete = arms_frame()
    comparison = compare_arms(frame, **MONTHS, **CONTROL_OVER_CELLS, window=(0, 5))
    assert comparison == compare_arms(complete, **MONTHS, **CONTROL_OVER_CELLS, window=(0, 5))
    curves = kaplan_meier(frame, **MONTHS, groups=["Control"])
    assert curves[0]["n"] == (complete.arm == "Control").sum()
    assert logrank(frame, **MONTHS, groups=["Control", "Cell therapy"]) == logrank(
        complete, **MONTHS, groups=["Control", "Cell therapy"]
    )


def test_kaplan_meier_interval_is_missing_not_zero_where_survival_is_zero():
    result = km(hand_frame(), at_times=[5, 6])
    assert (result["curve"]["survival"][-1], result["curve"]["ci_lower"][-1], result["curve"]["ci_upper"][-1]) == (
        0,
        None,
        None,
    )
    assert [(row["survival"], row["ci_lower"], row["ci_upper"]) for row in result["at_times"]] == [(0, None, None)] * 2


@pytest.mark.parametrize("seed", [7, 8])
def test_stratified_cox_matches_statsmodels_with_strata(seed):
    frame = arms_frame(seed=seed)
    result = cox(frame, **MONTHS, **CONTROL_OVER_CELLS, strata=["meld_high"])
    arm = (frame["arm"] == "Control").astype(float).to_frame()
    model = PHReg(frame["months"], arm, status=frame["died"], strata=frame["meld_high"], ties="efron").fit()
    assert result["hazard_ratio"] == pytest.approx(math.exp(model.params[0]), abs=1e-4)
    assert result["ci_lower"] == pytest.approx(math.exp(model.params[0] - Z95 * model.bse[0]), abs=1e-4)
    assert (result["strata"], result["terms"], result["covariates"]) == (["meld_high"], [], [])


def test_stratified_cox_leaves_out_subjects_without_a_stratum():
    frame = arms_frame().astype({"meld_high": object})
    frame.loc[:4, "meld_high"] = None
    result = cox(frame, **MONTHS, **CONTROL_OVER_CELLS, strata=["meld_high"])
    assert (result["n_excluded"], result["n"]) == (5, 55)
