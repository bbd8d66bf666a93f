"""Descriptive statistics of one sample and the two-sample tests, shared by Table 1 and the per-visit tables.

Quartiles by numpy's default linear interpolation, SD with ddof=1. Student's t (pooled variance), Welch's t and
the two-sided Mann-Whitney U are scipy.stats'. A test the data cannot support gives None, never an exception.
"""

import numpy as np
from scipy import stats

from analysis import plain

TWO_SAMPLE_TESTS = {"t": "t-test", "welch": "Welch t-test", "mann_whitney": "Mann-Whitney U"}
STATISTICS = ("mean", "sd", "median", "q1", "q3", "min", "max")


def describe(values: np.ndarray) -> dict:
    """n, mean, SD (None below two values), median, quartiles, min and max of ``values`` (no NaN)."""
    if not len(values):
        return {"n": 0, **dict.fromkeys(STATISTICS)}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    sd = np.std(values, ddof=1) if len(values) > 1 else None
    numbers = (values.mean(), sd, median, q1, q3, values.min(), values.max())
    return {"n": len(values), **{key: plain.number(value) for key, value in zip(STATISTICS, numbers, strict=True)}}


def two_sample_reason(test: str, first: np.ndarray, second: np.ndarray) -> str | None:
    """Why ``two_sample_p`` gives None for these samples, in words; None when the test can be run."""
    if min(len(first), len(second)) < 2:
        return "fewer than two values in an arm"
    if test == "mann_whitney" and np.ptp(np.concatenate([first, second])) == 0:
        return "every value is the same: nothing to rank"
    if test != "mann_whitney" and np.ptp(first) == 0 and np.ptp(second) == 0:
        return "no spread of the values within either arm"
    return None


def two_sample_p(test: str, first: np.ndarray, second: np.ndarray) -> float | None:
    """The two-sided p of ``test`` (a key of TWO_SAMPLE_TESTS) comparing two samples without NaN."""
    if test not in TWO_SAMPLE_TESTS:
        raise ValueError(f"unknown test {test!r}; choose from {', '.join(TWO_SAMPLE_TESTS)}")
    if min(len(first), len(second)) < 2:
        return None  # a single value per arm tests nothing
    if test == "mann_whitney":
        if np.ptp(np.concatenate([first, second])) == 0:
            return None  # all values identical: nothing to rank
        return plain.p_value(lambda: stats.mannwhitneyu(first, second, alternative="two-sided").pvalue)
    if np.ptp(first) == 0 and np.ptp(second) == 0:
        return None  # no spread within either arm: t is undefined or infinite
    return plain.p_value(lambda: stats.ttest_ind(first, second, equal_var=test == "t").pvalue)
