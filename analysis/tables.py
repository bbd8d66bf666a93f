"""A trial's baseline "Table 1": each variable summarised per arm, with a p-value when there are two arms.

Pure: a function of a DataFrame with one row per subject (analysis/datasets.py builds it); no database.

- Continuous: mean ± SD (SD with ddof=1), median (range) or median (IQR; quartiles by numpy's default linear
  interpolation). Tested by Student's two-sample t-test with pooled variance for mean ± SD rows and by the
  two-sided Mann-Whitney U test for median rows, unless ``continuous_test`` asks for one test for every row
  (``"t"``, ``"welch"`` for Welch's unequal-variance t-test, ``"mann_whitney"``).
- Binary and categorical: count (percent of the non-missing). Tested on the arms x levels table of counts by
  Pearson's chi-square without continuity correction, or Fisher's exact test (two-sided) when the table is 2 x 2
  and an expected count is below 5; a larger table with an expected count below 5 keeps chi-square and says so.

The tests (Student's t, Welch, Mann-Whitney U, Pearson chi-square, Fisher exact) are scipy.stats'
(``ttest_ind``, ``mannwhitneyu``, ``chi2_contingency``, ``fisher_exact``). Missing values are left out of every
summary and test and counted. A test that cannot be computed gives ``p_value`` None, never an exception. The
result is plain JSON: no numpy scalars, no NaN (None instead).

p-values can be left out (``p_values=False``): CONSORT 2010 (Moher et al., BMJ 2010;340:c869, explanation of
item 15) advises against testing baseline differences in a randomised trial, where any difference is chance.
Shown, they are labelled descriptive: they describe imbalance, they test no hypothesis.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis import plain
from analysis.describe import TWO_SAMPLE_TESTS, describe, two_sample_p

KINDS = ("continuous", "binary", "categorical")
SUMMARIES = ("mean_sd", "median_range", "median_iqr")
DASH = "–"
CHI_SQUARE, CHI_SQUARE_SMALL, FISHER = "chi-square", "chi-square (expected count < 5)", "Fisher exact"
DESCRIPTIVE = "descriptive"
P_VALUES_SHOWN = "p-values are descriptive (baseline imbalance), not tests of a hypothesis"
P_VALUES_LEFT_OUT = "no p-values: CONSORT advises against testing baseline differences in randomised trials"


@dataclass(frozen=True)
class Variable:
    """One row of Table 1: which column, how it is shown and summarised."""

    column: str
    label: str
    kind: str = "continuous"  # "continuous" | "binary" | "categorical"
    summary: str = "mean_sd"  # continuous only: "mean_sd" | "median_range" | "median_iqr"
    decimals: int = 1
    level: str | None = None  # binary on a text column: the level counted; None: truthy values counted
    levels: list[str] | None = None  # categorical: order shown (levels seen but not listed appended sorted)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.column}: kind must be one of {KINDS}, not {self.kind!r}")
        if self.summary not in SUMMARIES:
            raise ValueError(f"{self.column}: summary must be one of {SUMMARIES}, not {self.summary!r}")


def table_one(
    subjects: pd.DataFrame,
    *,
    group_col: str,
    groups: Sequence[str],
    variables: Sequence[Variable],
    continuous_test: str | None = None,
    p_values: bool = True,
) -> dict:
    """Table 1 of ``subjects`` for the arms ``groups`` (values of ``group_col``, in the order shown).

    Rows in other arms are ignored. p-values (descriptive) only when there are exactly two arms and ``p_values``.
    """
    if continuous_test is not None and continuous_test not in TWO_SAMPLE_TESTS:
        raise ValueError(f"continuous_test must be one of {tuple(TWO_SAMPLE_TESTS)}, not {continuous_test!r}")
    frames = [subjects[subjects[group_col] == group] for group in groups]
    rows = []
    for variable in variables:
        # A column the data does not have yet (no value of that analyte recorded) is all missing, not an error.
        columns = [frame.get(variable.column, pd.Series(None, index=frame.index, dtype=object)) for frame in frames]
        if variable.kind == "continuous":
            rows.append(_continuous_row(variable, columns, continuous_test))
        elif variable.kind == "binary":
            rows.append(_binary_row(variable, columns))
        else:
            rows.append(_categorical_row(variable, columns))
    if not p_values:
        rows = [{**row, "p_value": None, "test": None} for row in rows]
    arms = [{"label": group, "n": len(frame)} for group, frame in zip(groups, frames, strict=True)]
    shown = {"shown": True, "label": DESCRIPTIVE, "note": P_VALUES_SHOWN}
    left_out = {"shown": False, "label": None, "note": P_VALUES_LEFT_OUT}
    return {"groups": arms, "rows": rows, "p_values": shown if p_values else left_out}


# Continuous


def _continuous_row(variable: Variable, columns: list[pd.Series], continuous_test: str | None) -> dict:
    values = [pd.to_numeric(column, errors="coerce").dropna().to_numpy(dtype=float) for column in columns]
    test_key = continuous_test or ("t" if variable.summary == "mean_sd" else "mann_whitney")
    two_groups = len(values) == 2
    return {
        "label": variable.label,
        "column": variable.column,
        "kind": "continuous",
        "summary": variable.summary,
        "cells": [_continuous_cell(variable, column, group) for column, group in zip(columns, values, strict=True)],
        "p_value": two_sample_p(test_key, values[0], values[1]) if two_groups else None,
        "test": TWO_SAMPLE_TESTS[test_key] if two_groups else None,
    }


def _continuous_cell(variable: Variable, column: pd.Series, values: np.ndarray) -> dict:
    cell = {"missing": len(column) - len(values), **describe(values)}
    return {"text": _continuous_text(variable, cell) if len(values) else DASH, **cell}


def _continuous_text(variable: Variable, cell: dict) -> str:
    def shown(number):
        return DASH if number is None else f"{number:.{variable.decimals}f}"

    if variable.summary == "mean_sd":
        return f"{shown(cell['mean'])} ± {shown(cell['sd'])}"
    low, high = ("min", "max") if variable.summary == "median_range" else ("q1", "q3")
    return f"{shown(cell['median'])} ({shown(cell[low])}–{shown(cell[high])})"


# Binary and categorical


def _binary_row(variable: Variable, columns: list[pd.Series]) -> dict:
    cells = []
    for column in columns:
        present = column.dropna()
        if variable.level is None:
            count = int(sum(_is_yes(variable, value) for value in present))
        else:
            count = int((present.astype(str) == str(variable.level)).sum())
        cells.append(_count_cell(count, len(present)) | {"missing": len(column) - len(present)})
    table = np.array([[cell["count"], cell["n"] - cell["count"]] for cell in cells])
    p_value, test = _contingency_p(table) if len(cells) == 2 else (None, None)
    return {
        "label": variable.label,
        "column": variable.column,
        "kind": "binary",
        "cells": cells,
        "p_value": p_value,
        "test": test,
    }


def _is_yes(variable: Variable, value) -> bool:
    """A yes/no value without a ``level``: True/False or 1/0; text would count "no" as present, so it needs one."""
    if isinstance(value, str):
        raise ValueError(f"Table 1 row {variable.label!r}: text values need a level to count ({value!r} found)")
    return bool(value)


def _categorical_row(variable: Variable, columns: list[pd.Series]) -> dict:
    present = [column.dropna().astype(str) for column in columns]
    levels = _level_order(variable.levels or [], present)
    table = np.array([[int((kept == level).sum()) for level in levels] for kept in present], dtype=int)
    table = table.reshape(len(present), len(levels))  # arms x levels, even with no arm or no level
    group_n = [len(kept) for kept in present]
    level_rows = [
        {"level": level, "cells": [_count_cell(int(count), n) for count, n in zip(counts, group_n, strict=True)]}
        for level, counts in zip(levels, table.T, strict=True)
    ]
    p_value, test = _contingency_p(table) if len(columns) == 2 else (None, None)
    return {
        "label": variable.label,
        "column": variable.column,
        "kind": "categorical",
        "levels": level_rows,
        "cells": [{"n": n, "missing": len(column) - n} for column, n in zip(columns, group_n, strict=True)],
        "p_value": p_value,
        "test": test,
    }


def _level_order(listed: list[str], present: list[pd.Series]) -> list[str]:
    seen = set().union(*(set(column) for column in present))
    listed = [str(level) for level in listed]
    return listed + sorted(seen - set(listed))


def _count_cell(count: int, n: int) -> dict:
    percent = 100 * count / n if n else None
    text = f"{count} ({percent:.1f}%)" if percent is not None else DASH
    return {"text": text, "count": count, "n": n, "percent": percent}


def _contingency_p(table: np.ndarray) -> tuple[float | None, str]:
    """p of the arms x levels table: Fisher exact for a 2 x 2 with an expected count < 5, else chi-square."""
    table = table[table.sum(axis=1) > 0]  # an arm with no values compares nothing
    table = table[:, table.sum(axis=0) > 0]  # levels no one has say nothing about the arms
    if table.shape[0] < 2 or table.shape[1] < 2:
        return None, CHI_SQUARE
    small_expected = bool((stats.contingency.expected_freq(table) < 5).any())
    if small_expected and table.shape == (2, 2):
        return plain.p_value(lambda: stats.fisher_exact(table, alternative="two-sided").pvalue), FISHER
    p_value = plain.p_value(lambda: stats.chi2_contingency(table, correction=False).pvalue)
    return p_value, CHI_SQUARE_SMALL if small_expected else CHI_SQUARE
