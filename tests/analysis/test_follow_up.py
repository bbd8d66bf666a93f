"""Median follow-up by reverse Kaplan-Meier, worked by hand on five subjects. No database."""

import json

import pandas as pd

from analysis.follow_up import median_follow_up

MONTHS = {"duration": "months", "event": "died", "group_col": "arm"}

# Deaths at 1 and 3; censored at 2, 4 and 5. Reversed, censoring is the event: at 2, 4 at risk, 1 "event", 3/4;
# at 4, 2 at risk, 1 "event", 3/8. The reverse curve first reaches half at 4: median follow-up 4 months, where
# the median of the observed times (3) would count the early deaths as short follow-up.
HAND = pd.DataFrame({"months": [1, 2, 3, 4, 5], "died": [1, 0, 1, 0, 0], "arm": ["A"] * 5})


def follow_up(frame, groups=("A",)):
    return median_follow_up(frame, **MONTHS, groups=list(groups))


def test_median_follow_up_is_the_reverse_kaplan_meier_median():
    result = follow_up(HAND)[0]
    assert (result["median"], result["median_reached"]) == (4.0, True)
    assert result["method"].startswith("reverse Kaplan-Meier")


def test_follow_up_range_spans_every_observed_time_and_counts_the_censored():
    result = follow_up(HAND)[0]
    assert (result["range"], result["n"], result["censored"]) == ([1.0, 5.0], 5, 3)


def test_an_arm_where_everyone_died_has_no_median_follow_up():
    result = follow_up(HAND.assign(died=1))[0]
    assert (result["median"], result["median_reached"]) == (None, False)


def test_an_empty_arm_has_no_follow_up_and_is_plain_json():
    result = follow_up(HAND, groups=("A", "B"))[1]
    assert (result["n"], result["median"], result["range"]) == (0, None, [None, None])
    json.dumps(follow_up(HAND, groups=("A", "B")), allow_nan=False)
