"""Median follow-up per arm by the reverse Kaplan-Meier method, with the range of follow-up times.

The reverse Kaplan-Meier estimate treats censoring as the event and death as censoring: its median is the median
time a subject would have been followed had they not died (Schemper & Smith, Control Clin Trials 1996;17:343-6).
Unlike the median of all observed times it is not shortened by early deaths. The range is that of every
subject's observed time (death or censoring), the figure trial reports print beside it.
"""

import math
from collections.abc import Sequence

import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from analysis.plain import number
from analysis.survival import known_times

METHOD = "reverse Kaplan-Meier (censoring as the event)"


def median_follow_up(
    frame: pd.DataFrame, *, duration: str, event: str, group_col: str, groups: Sequence[str]
) -> list[dict]:
    """Per group: n, the reverse Kaplan-Meier median follow-up with its 95% CI, and the [min, max] time."""
    frame = known_times(frame, duration=duration, event=event)
    return [_follow_up(frame[frame[group_col] == group], duration, event, group) for group in groups]


def _follow_up(part: pd.DataFrame, duration: str, event: str, group: str) -> dict:
    result = {"group": group, "method": METHOD, "n": len(part), "censored": int((part[event] != 1).sum())}
    if part.empty:
        return {**result, "median": None, "median_reached": False, "median_ci": [None, None], "range": [None, None]}
    times = part[duration].astype(float)
    fitted = KaplanMeierFitter().fit(times, (part[event] != 1).astype(int))
    median_ci = median_survival_times(fitted.confidence_interval_).iloc[0]
    return {
        **result,
        "median": number(fitted.median_survival_time_),
        "median_reached": math.isfinite(fitted.median_survival_time_),
        "median_ci": [number(median_ci.iloc[0]), number(median_ci.iloc[1])],
        "range": [float(times.min()), float(times.max())],
    }
