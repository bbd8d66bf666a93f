"""Time-to-event endpoints from each subject's dates: overall survival, and HCC with death as a competing event.

Pure functions on one row per allocated subject (the frame analysis/datasets.py builds); no database. The rules
are those of the protocols (../shared/protocols.md) and of the usual survival conventions (Collett, Modelling
Survival Data in Medical Research, 3rd ed., ch. 1):

- Time zero is the protocol's time origin (``origin``); time is counted in days and in months of 365.25 / 12 days.
- Death is the event of overall survival. A subject without a death is censored at their last known date alive:
  the withdrawal date for the withdrawn, the last contact for the lost, otherwise the latest of last contact,
  completion, the last visit held, an HCC diagnosis and a death after the follow-up limit.
- Administrative censoring at the protocol's follow-up limit: a death or HCC after ``origin + follow_up_days`` is
  not counted, and time stops at the limit.
- HCC: event 1 at the first diagnosis; a death before any HCC is the competing event 2; otherwise censored (0) as
  for overall survival.
"""

import pandas as pd

DAYS_PER_MONTH = 365.25 / 12
OS_EVENT, HCC_EVENT, COMPETING_DEATH, CENSORED = 1, 1, 2, 0

# Columns the input needs: dates as datetime64 (NaT where unknown) and the subject's status.
REQUIRED = (
    "origin",
    "follow_up_days",
    "status",
    "death_date",
    "withdrawal_date",
    "last_contact_date",
    "completion_date",
    "last_visit_date",
    "hcc_date",
)


def time_to_event(subjects: pd.DataFrame) -> pd.DataFrame:
    """``subjects`` with os_days, os_months, os_event (0/1) and hcc_days, hcc_months, hcc_event (0/1/2) added.

    Subjects without an origin (never allocated) are dropped: they have no time at risk.
    """
    missing = [column for column in REQUIRED if column not in subjects.columns]
    if missing:
        raise ValueError(f"time_to_event needs the columns {', '.join(missing)}")
    frame = subjects[subjects["origin"].notna()].copy()
    limit = frame["origin"] + pd.to_timedelta(frame["follow_up_days"], unit="D")
    alive_until = _last_known_alive(frame)
    death = frame["death_date"].where(frame["death_date"] <= limit)
    os_end = death.fillna(alive_until.clip(upper=limit))
    frame["os_event"] = death.notna().astype(int)
    frame["os_days"] = _days(os_end, frame["origin"])
    hcc = frame["hcc_date"].where((frame["hcc_date"] <= limit) & (frame["hcc_date"] <= os_end))
    frame["hcc_event"] = CENSORED
    frame.loc[frame["os_event"].eq(OS_EVENT), "hcc_event"] = COMPETING_DEATH
    frame.loc[hcc.notna(), "hcc_event"] = HCC_EVENT
    frame["hcc_days"] = _days(hcc.fillna(os_end), frame["origin"])
    frame["os_months"] = frame["os_days"] / DAYS_PER_MONTH
    frame["hcc_months"] = frame["hcc_days"] / DAYS_PER_MONTH
    return frame


def _last_known_alive(frame: pd.DataFrame) -> pd.Series:
    """The censoring date of a subject without a death: withdrawal, loss, or the latest date seen alive."""
    seen_alive = ["last_contact_date", "completion_date", "last_visit_date", "hcc_date", "death_date"]
    latest = frame[seen_alive].max(axis=1)
    latest = latest.fillna(frame["origin"])
    latest = latest.mask(frame["status"].eq("withdrawn") & frame["withdrawal_date"].notna(), frame["withdrawal_date"])
    return latest.mask(
        frame["status"].eq("lost_to_follow_up") & frame["last_contact_date"].notna(), frame["last_contact_date"]
    )


def _days(end: pd.Series, origin: pd.Series) -> pd.Series:
    """Whole days from origin, never below zero (a subject leaving on the day of allocation has 0 days)."""
    return (end - origin).dt.days.clip(lower=0).astype(float)
