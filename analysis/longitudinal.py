"""A lab value (or MELD score) per visit and arm, as trial papers tabulate it.

For one analyte, at each visit that has a value: per arm the n, median (IQR), mean and SD of the value; per arm the
change from baseline (value at the visit minus value at ``baseline_visit``, on subjects with both) summarised the
same way; a between-arm test at each visit (two arms only, ``groups[0]`` vs ``groups[1]``) and a within-arm test of
the visit against baseline (not at the baseline visit itself).

All tests are ``scipy.stats``: ``ttest_ind`` (``equal_var=True`` for "t", ``False`` for "welch"), ``mannwhitneyu``
(two-sided), ``ttest_rel`` and ``wilcoxon`` (two-sided, default ``zero_method``). Quartiles use numpy's default
linear interpolation; SD has ddof=1. Data too thin for a test (fewer than two values, no variance, all differences
zero, a paired t-test of differences that are all equal) gives a p-value of None and a ``reason`` in words ("not
estimable"), never an exception and never p = 0. The result is plain JSON: no numpy types, no NaN.

The summary shown follows the test (``summary``, ``change_summary``): mean +- SD beside t-tests, median (IQR) beside
rank tests. Each arm at a visit after baseline counts the subjects with a baseline value but none at the visit
(``absent_since_baseline``); when any are absent, ``note`` says that later visits compare only the subjects still
followed (survivors who neither left nor missed the visit), not everyone at baseline.

Input is a long frame with ``subject_id``, ``visit_code``, ``visit_order``, ``analyte``, ``value`` and the group
column, rows in time order; a subject's repeated row for one analyte at one visit is ignored (the first counts).
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis import plain
from analysis.describe import TWO_SAMPLE_TESTS, describe, two_sample_p, two_sample_reason

NOT_COMPUTABLE = "scipy could not compute the test on these values"
WITHIN_TESTS = {"paired_t": "paired t-test", "wilcoxon": "Wilcoxon signed-rank"}
SUMMARY_OF_TEST = {"t": "mean_sd", "welch": "mean_sd", "mann_whitney": "median_iqr"} | {
    "paired_t": "mean_sd",
    "wilcoxon": "median_iqr",
}


LONG_COLUMNS = ["subject_id", "arm_label", "visit_code", "visit_order", "analyte", "value"]


def lab_and_meld_rows(data, *, analytes, population: pd.DataFrame) -> pd.DataFrame:
    """The long rows of ``analytes`` ("MELD" from the scores per draw, the rest from the labs) for the subjects of
    ``population``, in ``LONG_COLUMNS``: each frame's rows and columns taken first, so the long table of a large
    study is never copied whole."""
    meld = data.scores.assign(analyte="MELD", value=data.scores["meld"])
    kept = [
        frame.loc[frame["analyte"].isin(analytes) & frame["subject_id"].isin(population["subject_id"]), LONG_COLUMNS]
        for frame in (data.labs, meld)
    ]
    parts = [part for part in kept if len(part)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LONG_COLUMNS)


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
        for arm in arms:
            in_arm = at_baseline.loc[at_baseline[group_col] == arm["group"], "subject_id"]
            absent = set(baseline.index.intersection(in_arm)) - set(at_visit["subject_id"])
            arm["absent_since_baseline"] = None if is_baseline else len(absent)
        between = []
        if len(groups) == 2:
            first, second = (at_visit.loc[at_visit[group_col] == group, "value"].to_numpy() for group in groups)
            between = [_between(name, first, second) for name in between_tests]
        visit = {"visit_code": str(visit_code), "visit_order": plain.number(visit_order)}
        visits.append({**visit, "arms": arms, "between": between})
    shown_for = between_tests if len(groups) == 2 and between_tests else within_tests
    return {
        "analyte": analyte,
        "baseline_visit": baseline_visit,
        "groups": list(groups),
        "summary": _summaries(shown_for),
        "change_summary": _summaries(within_tests),
        "note": _survivors_note(visits, baseline_visit),
        "visits": visits,
    }


def _summaries(tests: Sequence[str]) -> list[str]:
    """The summaries the tests call for, in the tests' order: "mean_sd" for t-tests, "median_iqr" for rank tests."""
    return list(dict.fromkeys(SUMMARY_OF_TEST[name] for name in tests)) or ["median_iqr"]


def _survivors_note(visits: list[dict], baseline_visit: str) -> str | None:
    """Says from which visit on the arms hold fewer of their baseline subjects (deaths, dropouts, missed visits)."""
    fewer = next((v for v in visits if any(arm["absent_since_baseline"] for arm in v["arms"])), None)
    if fewer is None:
        return None
    return (
        f"From {fewer['visit_code']} on, fewer subjects than at {baseline_visit}: later visits compare the subjects "
        "still followed (survivors who neither left nor missed the visit), not everyone at baseline"
    )


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
    p_value = two_sample_p(name, first, second)
    reason = None if p_value is not None else two_sample_reason(name, first, second) or NOT_COMPUTABLE
    return _test(name, TWO_SAMPLE_TESTS[name], p_value, reason)


def _within(name: str, at_visit: np.ndarray, at_baseline: np.ndarray) -> dict:
    def run():
        if name == "wilcoxon":
            return stats.wilcoxon(
                at_visit, at_baseline, alternative="two-sided", method=_wilcoxon_method(at_visit - at_baseline)
            ).pvalue
        return stats.ttest_rel(at_visit, at_baseline).pvalue

    reason = _within_reason(name, at_visit - at_baseline)
    p_value = None if reason else plain.p_value(run)
    return _test(name, WITHIN_TESTS[name], p_value, reason or (NOT_COMPUTABLE if p_value is None else None))


def _test(name: str, label: str, p_value: float | None, reason: str | None) -> dict:
    return {"test": name, "label": label, "summary": SUMMARY_OF_TEST[name], "p_value": p_value, "reason": reason}


def _within_reason(name: str, differences: np.ndarray) -> str | None:
    """Why no within-arm test is possible, or None. All-zero differences: scipy raises, warns or answers 1.0
    depending on version and test. Differences all equal but not zero: t is infinite and scipy answers p = 0."""
    if len(differences) < 2:
        return "fewer than two subjects with values at baseline and at this visit"
    if bool(np.all(differences == 0)):
        return "no subject changed from baseline"
    scale = max(1.0, float(np.abs(differences).max()))
    if name == "paired_t" and np.ptp(differences) <= 1e-9 * scale:
        return "every subject changed by the same amount: the differences have no variance"
    return None


def _wilcoxon_method(differences: np.ndarray) -> str:
    """Exact below 50 pairs without zero or tied differences, else the normal approximation with tie correction
    (as R's ``wilcox.test(correct=FALSE)``): scipy's "auto" runs a random permutation test on larger tied data, and
    a report must not change between two runs on the same data."""
    nonzero = np.abs(differences[differences != 0])
    exact = len(nonzero) == len(differences) < 50 and len(np.unique(nonzero)) == len(nonzero)
    return "exact" if exact else "approx"
