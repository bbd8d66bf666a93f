"""A lab value (or MELD score) per visit and arm, as trial papers tabulate it.

For one analyte, at each visit that has a value: per arm the n, median (IQR), mean and SD of the value; per arm the
change from baseline (value at the visit minus value at ``baseline_visit``, on subjects with both) summarised the
same way; a between-arm test at each visit (two arms only, ``groups[0]`` vs ``groups[1]``) and a within-arm test of
the visit against baseline (not at the baseline visit itself).

All tests are ``scipy.stats``: ``ttest_ind`` (``equal_var=True`` for "t", ``False`` for "welch"), ``mannwhitneyu``
(two-sided), ``ttest_rel`` and ``wilcoxon`` (two-sided, default ``zero_method``). Quartiles use numpy's default
linear interpolation; SD has ddof=1. Data too thin for a test (fewer than two values, no variance, all differences
zero) gives a p-value of None, never an exception. The result is plain JSON: no numpy types, no NaN.

Input is a long frame with ``subject_id``, ``visit_code``, ``visit_order``, ``analyte``, ``value`` and the group
column, rows in time order; a subject's repeated row for one analyte at one visit is ignored (the first counts).
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis import plain
from analysis.describe import TWO_SAMPLE_TESTS, describe, two_sample_p

WITHIN_TESTS = {"paired_t": "paired t-test", "wilcoxon": "Wilcoxon signed-rank"}


def by_visit(
    long: pd.DataFrame,
    *,
    analyte: str,
    group_col: str,
    groups: Sequence[str],
    baseline_visit: str,
    between_tests: Sequence[str] = ("mann_whitney",),
    within_tests: Sequence[str] = ("wilcoxon",),
) -> dict:
    """Per visit (in ``visit_order``) and arm: summary, change from baseline, between- and within-arm p-values.

    Change and within-arm tests start after the baseline visit; without baseline values there are none."""
    _check_tests(between_tests, TWO_SAMPLE_TESTS)
    _check_tests(within_tests, WITHIN_TESTS)
    rows = _first_rows(long, analyte=analyte, group_col=group_col, groups=groups)
    at_baseline = rows[rows["visit_code"] == baseline_visit]
    baseline = at_baseline.set_index("subject_id")["value"].dropna()
    baseline_order = at_baseline["visit_order"].min() if len(at_baseline) else None
    visits = []
    for visit_code, visit_order, at_visit in _visits_in_order(rows):
        # Baseline and the visits before it (screening) have no change from baseline to test.
        is_baseline = baseline_order is None or visit_order <= baseline_order
        arms = [
            _arm(at_visit[at_visit[group_col] == group], group, baseline, is_baseline, within_tests) for group in groups
        ]
        between = []
        if len(groups) == 2:
            first, second = (at_visit.loc[at_visit[group_col] == group, "value"].to_numpy() for group in groups)
            between = [_between(name, first, second) for name in between_tests]
        visit = {"visit_code": str(visit_code), "visit_order": plain.number(visit_order)}
        visits.append({**visit, "arms": arms, "between": between})
    return {"analyte": analyte, "baseline_visit": baseline_visit, "groups": list(groups), "visits": visits}


def _check_tests(names: Sequence[str], known: dict) -> None:
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown test(s) {', '.join(map(repr, unknown))}; choose from {', '.join(known)}")


def _first_rows(long: pd.DataFrame, *, analyte: str, group_col: str, groups: Sequence[str]) -> pd.DataFrame:
    """This analyte's rows in the named groups, one per subject and visit (the first), values as float."""
    rows = long[(long["analyte"] == analyte) & long[group_col].isin(list(groups))]
    rows = rows.drop_duplicates(subset=["subject_id", "visit_code"], keep="first").copy()
    rows["value"] = pd.to_numeric(rows["value"], errors="coerce").astype(float)
    return rows


def _visits_in_order(rows: pd.DataFrame):
    """(visit_code, visit_order, rows with a value) for visits with at least one value, by visit_order."""
    valued = rows[rows["value"].notna()]
    order = valued.groupby("visit_code", sort=False)["visit_order"].min().sort_values(kind="stable")
    for visit_code in order.index:
        yield visit_code, order[visit_code], valued[valued["visit_code"] == visit_code]


def _arm(rows: pd.DataFrame, group: str, baseline: pd.Series, is_baseline: bool, within_tests: Sequence[str]) -> dict:
    """One arm at one visit: summary of the values, of the change from baseline, and the within-arm tests."""
    values = rows.set_index("subject_id")["value"]
    arm = {"group": group, **describe(values.to_numpy())}
    if is_baseline:
        return {**arm, "change": None, "within": []}
    paired = pd.concat({"visit": values, "baseline": baseline}, axis=1, join="inner").dropna()
    at_visit, at_baseline = paired["visit"].to_numpy(), paired["baseline"].to_numpy()
    change = describe(at_visit - at_baseline) if len(paired) else None
    within = [_within(name, at_visit, at_baseline) for name in within_tests]
    return {**arm, "change": change, "within": within}


def _between(name: str, first: np.ndarray, second: np.ndarray) -> dict:
    return {"test": name, "label": TWO_SAMPLE_TESTS[name], "p_value": two_sample_p(name, first, second)}


def _within(name: str, at_visit: np.ndarray, at_baseline: np.ndarray) -> dict:
    def run():
        if name == "wilcoxon":
            return stats.wilcoxon(
                at_visit, at_baseline, alternative="two-sided", method=_wilcoxon_method(at_visit - at_baseline)
            ).pvalue
        return stats.ttest_rel(at_visit, at_baseline).pvalue

    # All-zero differences: scipy raises, warns or answers 1.0 depending on version and test; no test is possible.
    no_test = len(at_visit) < 2 or bool(np.all(at_visit == at_baseline))
    return {"test": name, "label": WITHIN_TESTS[name], "p_value": None if no_test else plain.p_value(run)}


def _wilcoxon_method(differences: np.ndarray) -> str:
    """Exact below 50 pairs without zero or tied differences, else the normal approximation with tie correction
    (as R's ``wilcox.test(correct=FALSE)``): scipy's "auto" runs a random permutation test on larger tied data, and
    a report must not change between two runs on the same data."""
    nonzero = np.abs(differences[differences != 0])
    exact = len(nonzero) == len(differences) < 50 and len(np.unique(nonzero)) == len(nonzero)
    return "exact" if exact else "approx"
