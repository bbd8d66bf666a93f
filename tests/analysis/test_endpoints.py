"""Overall survival and HCC with death competing, from subjects' dates: censoring rules on hand-made rows.

Each case is one subject allocated on 2021-01-01 (day 0) in a protocol that follows for 365 days, unless said.
No database: analysis/endpoints.py is a pure function of a frame.
"""

import pandas as pd
import pytest

from analysis.endpoints import DAYS_PER_MONTH, REQUIRED, time_to_event

ORIGIN = pd.Timestamp("2021-01-01")
DATE_COLUMNS = [column for column in REQUIRED if column.endswith("_date")]


def subject(**dates):
    status = dates.pop("status", "follow_up")
    row = {
        "origin": ORIGIN,
        "follow_up_days": dates.pop("follow_up_days", 365),
        "status": status,
        **{column: pd.Timestamp(dates[column]) if column in dates else pd.NaT for column in DATE_COLUMNS},
    }
    return time_to_event(pd.DataFrame([row])).iloc[0]


def test_a_death_is_the_event_at_its_day():
    row = subject(status="died", death_date="2021-04-11", last_contact_date="2021-04-11")
    assert (row.os_event, row.os_days) == (1, 100)
    assert row.os_months == pytest.approx(100 / DAYS_PER_MONTH)


def test_the_withdrawn_are_censored_at_withdrawal_not_at_a_later_visit():
    row = subject(status="withdrawn", withdrawal_date="2021-02-01", last_visit_date="2021-03-01")
    assert (row.os_event, row.os_days) == (0, 31)


def test_the_lost_are_censored_at_last_contact():
    row = subject(status="lost_to_follow_up", last_contact_date="2021-03-02", last_visit_date="2021-02-01")
    assert (row.os_event, row.os_days) == (0, 60)


def test_subjects_in_follow_up_are_censored_at_the_latest_date_seen_alive():
    row = subject(last_contact_date="2021-02-01", last_visit_date="2021-03-02")
    assert (row.os_event, row.os_days) == (0, 60)


def test_a_death_after_the_follow_up_limit_is_censored_at_the_limit():
    row = subject(status="died", death_date="2022-06-01", follow_up_days=365)
    assert (row.os_event, row.os_days) == (0, 365)


def test_hcc_is_event_1_at_its_diagnosis_even_if_death_follows():
    row = subject(status="died", death_date="2021-06-01", hcc_date="2021-03-02")
    assert (row.hcc_event, row.hcc_days) == (1, 60)
    assert (row.os_event, row.os_days) == (1, 151)


def test_death_without_hcc_is_the_competing_event_2():
    row = subject(status="died", death_date="2021-03-02")
    assert (row.hcc_event, row.hcc_days) == (2, 60)


def test_no_hcc_and_alive_is_censored_like_overall_survival():
    row = subject(status="completed", completion_date="2021-12-31")
    assert (row.hcc_event, row.hcc_days, row.os_event, row.os_days) == (0, 364, 0, 364)


def test_an_hcc_after_the_follow_up_limit_is_not_counted():
    row = subject(hcc_date="2022-03-01", last_visit_date="2022-03-01", follow_up_days=365)
    assert (row.hcc_event, row.hcc_days) == (0, 365)


def test_subjects_without_an_origin_are_left_out():
    frame = pd.DataFrame(
        [{"origin": pd.NaT, "follow_up_days": 365, "status": "screen_failed"}]
        + [{"origin": ORIGIN, "follow_up_days": 365, "status": "follow_up"}]
    )
    for column in DATE_COLUMNS:
        frame[column] = pd.NaT
    assert len(time_to_event(frame)) == 1


def test_a_missing_column_is_named():
    with pytest.raises(ValueError, match="hcc_date"):
        time_to_event(pd.DataFrame({"origin": [ORIGIN]}))
