"""Curves from a landmark: per arm, the subjects still at risk at the landmark L, with time restarted at L.

The landmark method (Anderson, Cain & Gelber, J Clin Oncol 1983;1:710-9; Dafni, Circ Cardiovasc Qual Outcomes
2011;4:363-71) conditions on being alive, event-free and followed at L: the Kaplan-Meier (or, with death
competing, Aalen-Johansen) estimate among them is the probability of surviving t more units given survival to L.
"At risk at L" means a recorded time beyond L, the rule of the landmark hazard-ratio windows
(analysis.survival.window_frame), so a curve is drawn from the same subjects as its window's hazard ratio; a
subject whose time is exactly L has no time after it and is left out. Pure: DataFrames in, JSON-ready dicts out.
"""

from collections.abc import Callable, Sequence
from functools import partial

import pandas as pd

from analysis.competing import cumulative_incidence
from analysis.survival import kaplan_meier, known_times


def from_landmark(frame: pd.DataFrame, *, duration: str, event: str, landmark: float) -> pd.DataFrame:
    """The rows with a known time beyond ``landmark``, ``duration`` measured from it; event codes kept as they are
    (a competing event stays competing)."""
    data = known_times(frame, duration=duration, event=event)
    data = data[data[duration] > landmark].copy()
    data[duration] = data[duration].astype(float) - landmark
    return data


def times_after(report_times: Sequence[float], landmark: float) -> list[float]:
    """The report times after ``landmark``, as times since it: [12, 24, 36] from 13 is [11, 23]."""
    return [time - landmark for time in report_times if time > landmark]


def survival_from_landmarks(
    frame: pd.DataFrame,
    *,
    duration: str,
    event: str,
    group_col: str,
    groups: Sequence[str],
    landmarks: Sequence[float],
    report_times: Sequence[float] = (),
) -> list[dict]:
    """Per landmark: the landmark, the number at risk at it per arm, and per arm the Kaplan-Meier from it (the
    shape of ``kaplan_meier``), at the report times after the landmark counted from it."""
    estimate = partial(kaplan_meier, duration=duration, event=event, group_col=group_col, groups=groups)
    return _from_each(frame, duration, event, landmarks, report_times, estimate, "kaplan_meier")


def incidence_from_landmarks(
    frame: pd.DataFrame,
    *,
    duration: str,
    event: str,
    group_col: str,
    groups: Sequence[str],
    landmarks: Sequence[float],
    report_times: Sequence[float] = (),
    cause: int = 1,
) -> list[dict]:
    """Per landmark: the landmark, the number at risk at it per arm (alive and free of ``cause``), and per arm the
    cumulative incidence from it with the competing event still competing (the shape of ``cumulative_incidence``)."""
    estimate = partial(
        cumulative_incidence, duration=duration, event=event, group_col=group_col, groups=groups, cause=cause
    )
    return _from_each(frame, duration, event, landmarks, report_times, estimate, "cumulative_incidence")


def _from_each(frame, duration, event, landmarks, report_times, estimate: Callable, key: str) -> list[dict]:
    """``estimate`` (per-arm curves of the data at ``at_times``) from each landmark, under ``key``."""
    entries = []
    for landmark in landmarks:
        data = from_landmark(frame, duration=duration, event=event, landmark=landmark)
        curves = estimate(data, at_times=times_after(report_times, landmark))
        entries.append({**_at_landmark(landmark, curves), key: curves})
    return entries


def _at_landmark(landmark: float, curves: list[dict]) -> dict:
    return {"landmark": landmark, "at_risk": [{"group": curve["group"], "n": curve["n"]} for curve in curves]}
