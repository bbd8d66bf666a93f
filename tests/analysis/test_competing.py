"""Aalen-Johansen cumulative incidence: a hand-worked example, ties against statsmodels, no ties against lifelines."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from statsmodels.duration.survfunc import CumIncidenceRight

from analysis.competing import aalen_johansen, cumulative_incidence, incidence_at

# Six subjects: HCC (1) at 1 and 4, death without HCC (2) at 2 and 5, censored at 3 and 6.
# By hand: at 1, 1/6; at 4, 1/6 + S(4-) * 1/3 with S(4-) = (5/6)(4/5) = 2/3, so 1/6 + 2/9 = 7/18.
HAND = pd.DataFrame({"months": [1, 2, 3, 4, 5, 6], "hcc": [1, 2, 0, 1, 2, 0], "arm": ["A"] * 6})


def random_competing(seed, *, ties):
    rng = np.random.default_rng(seed)
    time = rng.exponential(20, size=80)
    time = np.ceil(time) if ties else time
    return time, rng.choice([0, 1, 2], size=80, p=[0.4, 0.35, 0.25])


def test_incidence_matches_the_hand_worked_example():
    curve = aalen_johansen(HAND.months, HAND.hcc)
    assert curve.time.tolist() == [1, 2, 4, 5]
    assert curve.incidence.tolist() == pytest.approx([1 / 6, 1 / 6, 7 / 18, 7 / 18])


def test_incidences_of_both_causes_add_up_to_one_minus_all_cause_survival():
    durations, events = random_competing(1, ties=True)
    hcc = aalen_johansen(durations, events, cause=1)
    death = aalen_johansen(durations, events, cause=2)
    survival = KaplanMeierFitter().fit(durations, events != 0).survival_function_at_times(hcc.time).to_numpy()
    assert (hcc.incidence.to_numpy() + death.incidence.to_numpy()) == pytest.approx(1 - survival)


def test_incidence_with_tied_times_matches_statsmodels():
    durations, events = random_competing(2, ties=True)
    expected = CumIncidenceRight(durations, events)
    curve = aalen_johansen(durations, events, cause=1)
    at_event_times = pd.DataFrame({"time": expected.times, "incidence": expected.cinc[0], "se": expected.cinc_se[0]})
    at_event_times = at_event_times.set_index("time").loc[curve.time]
    assert curve.incidence.to_numpy() == pytest.approx(at_event_times.incidence.to_numpy(), abs=1e-4)
    finite = np.isfinite(at_event_times.se.to_numpy())
    assert curve.se.to_numpy()[finite] == pytest.approx(at_event_times.se.to_numpy()[finite], abs=1e-4)


def test_incidence_without_ties_matches_lifelines():
    durations, events = random_competing(3, ties=False)
    fitted = AalenJohansenFitter(calculate_variance=False).fit(durations, events, event_of_interest=1)
    expected = fitted.cumulative_density_.iloc[:, 0]
    curve = aalen_johansen(durations, events, cause=1)
    for time in (5.0, 10.0, 20.0, 40.0):
        assert incidence_at(curve, time)["incidence"] == pytest.approx(float(expected.asof(time)), abs=1e-4)


def test_without_competing_events_incidence_is_one_minus_kaplan_meier():
    durations, events = random_competing(4, ties=True)
    events = np.where(events == 2, 0, events)
    curve = aalen_johansen(durations, events)
    survival = KaplanMeierFitter().fit(durations, events).survival_function_at_times(curve.time).to_numpy()
    assert curve.incidence.to_numpy() == pytest.approx(1 - survival)


def test_incidence_is_zero_before_the_first_event_and_holds_after_the_last():
    curve = aalen_johansen(HAND.months, HAND.hcc)
    before, after = incidence_at(curve, 0.5), incidence_at(curve, 100)
    assert (before["incidence"], before["ci_lower"], after["incidence"]) == (0.0, None, pytest.approx(7 / 18))


def test_standard_error_matches_the_delta_method_by_hand():
    # At 1 month only the first term is non-zero: S(1-)^2 (n - d) d / n^3 = 5 / 216.
    curve = aalen_johansen(HAND.months, HAND.hcc)
    assert curve.se.iloc[0] == pytest.approx(math.sqrt(5 / 216))


def test_interval_is_on_the_log_minus_log_scale_and_holds_the_estimate():
    curve = aalen_johansen(HAND.months, HAND.hcc)
    incidence, se = 1 / 6, math.sqrt(5 / 216)
    spread = math.exp(1.959963984540054 * se / (incidence * math.log(incidence)))
    expected = sorted([incidence**spread, incidence ** (1 / spread)])
    assert [curve.ci_lower.iloc[0], curve.ci_upper.iloc[0]] == pytest.approx(expected)
    assert (curve.ci_lower <= curve.incidence).all()
    assert (curve.incidence <= curve.ci_upper).all()


def test_standard_error_is_computed_where_everyone_at_risk_has_an_event():
    # Without censoring the incidence is a proportion, 2 of 3, and its standard error the binomial one,
    # sqrt(p (1 - p) / n) = sqrt(2 / 27), also at 3 where the last subject at risk has the event.
    curve = aalen_johansen([1, 2, 3], [1, 2, 1])
    assert curve.incidence.iloc[-1] == pytest.approx(2 / 3)
    assert curve.se.iloc[-1] == pytest.approx(math.sqrt(2 / 27))
    assert curve.ci_lower.iloc[-1] < 2 / 3 < curve.ci_upper.iloc[-1]


def test_per_arm_summary_counts_events_and_competing_events():
    frame = pd.concat([HAND, HAND.assign(arm="B", hcc=[0, 0, 0, 0, 0, 0])])
    result = cumulative_incidence(
        frame, duration="months", event="hcc", group_col="arm", groups=["A", "B"], at_times=[3, 6]
    )
    assert [(arm["n"], arm["events"], arm["competing"]) for arm in result] == [(6, 2, 2), (6, 0, 0)]
    assert [row["incidence"] for row in result[0]["at_times"]] == pytest.approx([1 / 6, 7 / 18])
    assert result[1]["curve"] == {"time": [], "incidence": [], "ci_lower": [], "ci_upper": []}
    json.dumps(result, allow_nan=False)


def test_subjects_without_a_time_or_outcome_are_left_out():
    frame = pd.concat([HAND, pd.DataFrame({"months": [np.nan, 2.0], "hcc": [1, np.nan], "arm": ["A", "A"]})])
    result = cumulative_incidence(frame, duration="months", event="hcc", group_col="arm", groups=["A"])[0]
    assert (result["n"], result["events"]) == (6, 2)
    assert result["curve"]["incidence"] == pytest.approx([1 / 6, 1 / 6, 7 / 18, 7 / 18])
    json.dumps(result, allow_nan=False)
