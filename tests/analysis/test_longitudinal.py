"""A lab value per visit and arm: summaries, change from baseline and p-values on hand-made long frames.

No database: analysis/longitudinal.py is a pure function of a frame. Tests are checked against scipy.stats on the
same numbers, and one paired t-test by hand.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.longitudinal import by_visit

VISIT_ORDER = {"SCR": 0, "BL": 1, "W4": 3, "W12": 5}


def frame(*rows):
    """Rows as (subject_id, arm, visit_code, value[, analyte]); the analyte is bilirubin unless said."""
    return pd.DataFrame(
        [
            {
                "subject_id": row[0],
                "arm": row[1],
                "visit_code": row[2],
                "visit_order": VISIT_ORDER[row[2]],
                "analyte": row[4] if len(row) > 4 else "bilirubin",
                "value": row[3],
            }
            for row in rows
        ]
    )


def summarise(long, groups=("cells", "control"), **tests):
    return by_visit(long, analyte="bilirubin", group_col="arm", groups=groups, baseline_visit="BL", **tests)


def visit(result, code):
    return next(v for v in result["visits"] if v["visit_code"] == code)


def arm(result, code, group):
    return next(a for a in visit(result, code)["arms"] if a["group"] == group)


def two_visits(baseline, week4, group="cells", start=0):
    """Rows for subjects start, start+1, ... with a baseline and a week-4 value each."""
    rows = []
    for offset, (before, after) in enumerate(zip(baseline, week4, strict=True)):
        rows += [(start + offset, group, "BL", before), (start + offset, group, "W4", after)]
    return rows


def test_median_and_iqr_per_visit_and_arm_on_hand_data():
    long = frame(*[(i, "cells", "BL", v) for i, v in enumerate([10.0, 20.0, 30.0, 40.0])])
    long = pd.concat([long, frame(*[(10 + i, "control", "BL", v) for i, v in enumerate([1.0, 2.0, 3.0])])])
    cells, control = arm(summarise(long), "BL", "cells"), arm(summarise(long), "BL", "control")
    # Linear interpolation on 10, 20, 30, 40: positions 0.75, 1.5, 2.25.
    assert (cells["n"], cells["q1"], cells["median"], cells["q3"]) == (4, 17.5, 25.0, 32.5)
    assert cells["mean"] == 25.0
    assert cells["sd"] == pytest.approx(np.std([10, 20, 30, 40], ddof=1))
    assert (control["n"], control["q1"], control["median"], control["q3"], control["sd"]) == (3, 1.5, 2.0, 2.5, 1.0)


def test_visits_are_ordered_by_visit_order_and_visits_without_the_analyte_skipped():
    long = frame(
        (1, "cells", "W12", 3.0),
        (1, "cells", "BL", 1.0),
        (1, "cells", "W4", 9.0, "albumin"),
        (2, "cells", "W4", float("nan")),
    )
    result = summarise(long)
    assert [(v["visit_code"], v["visit_order"]) for v in result["visits"]] == [("BL", 1), ("W12", 5)]


def test_the_first_row_counts_when_a_subject_has_two_rows_at_one_visit():
    long = frame((1, "cells", "BL", 5.0), (1, "cells", "BL", 50.0), (2, "cells", "BL", 7.0))
    baseline = arm(summarise(long), "BL", "cells")
    assert (baseline["n"], baseline["median"]) == (2, 6.0)


def test_a_screening_visit_before_baseline_is_summarised_without_change_or_test():
    long = frame(*two_visits([1.0, 2.0], [3.0, 5.0]), (0, "cells", "SCR", 1.5), (1, "cells", "SCR", 2.5))
    screening = arm(summarise(long), "SCR", "cells")
    assert (screening["n"], screening["median"], screening["change"], screening["within"]) == (2, 2.0, None, [])
    assert [v["visit_code"] for v in summarise(long)["visits"]] == ["SCR", "BL", "W4"]


def test_change_from_baseline_uses_paired_subjects_only():
    long = frame(*two_visits([10.0, 20.0], [13.0, 27.0]), (9, "cells", "W4", 100.0))
    week4 = arm(summarise(long), "W4", "cells")
    assert (week4["n"], week4["median"]) == (3, 27.0)
    assert week4["change"] == {
        "n": 2,
        "median": 5.0,
        "q1": 4.0,
        "q3": 6.0,
        "mean": 5.0,
        "sd": pytest.approx(2.828427),
        "min": 3.0,
        "max": 7.0,
    }


def test_there_is_no_change_or_within_arm_test_at_baseline():
    baseline = arm(summarise(frame(*two_visits([1.0, 2.0], [3.0, 5.0]))), "BL", "cells")
    assert (baseline["change"], baseline["within"]) == (None, [])


def test_within_arm_p_values_equal_scipy_wilcoxon_and_ttest_rel_on_the_same_pairs():
    before, after = [10.0, 12.0, 9.0, 15.0, 11.0, 8.0], [12.5, 11.0, 14.0, 21.0, 13.0, 7.5]  # no tied differences
    long = frame(*two_visits(before, after), (99, "cells", "BL", 4.0))
    within = arm(summarise(long, within_tests=("wilcoxon", "paired_t")), "W4", "cells")["within"]
    assert [(w["test"], w["label"]) for w in within] == [
        ("wilcoxon", "Wilcoxon signed-rank"),
        ("paired_t", "paired t-test"),
    ]
    assert within[0]["p_value"] == pytest.approx(stats.wilcoxon(after, before).pvalue, rel=1e-12)
    assert within[1]["p_value"] == pytest.approx(stats.ttest_rel(after, before).pvalue, rel=1e-12)


def test_wilcoxon_with_tied_differences_is_the_normal_approximation_and_the_same_every_run():
    # Differences 1, 1, 2, 2, 3, -1, 4, 5 are tied: scipy's "auto" would run a random permutation test.
    before = [10.0] * 8
    after = [11.0, 11.0, 12.0, 12.0, 13.0, 9.0, 14.0, 15.0]
    long = frame(*two_visits(before, after))
    runs = [arm(summarise(long), "W4", "cells")["within"][0]["p_value"] for _ in range(3)]
    expected = stats.wilcoxon(after, before, method="approx").pvalue
    assert runs == pytest.approx([expected] * 3, rel=1e-12)


def test_paired_t_p_value_by_hand():
    # Differences 1, 2, 3, 6: mean 3, sd sqrt(14/3), t = 3 / (sd / 2) on 3 degrees of freedom.
    long = frame(*two_visits([10.0, 10.0, 10.0, 10.0], [11.0, 12.0, 13.0, 16.0]))
    p_value = arm(summarise(long, within_tests=("paired_t",)), "W4", "cells")["within"][0]["p_value"]
    t = 3.0 / (math.sqrt(14.0 / 3.0) / math.sqrt(4))
    assert p_value == pytest.approx(2 * stats.t.sf(t, df=3), abs=1e-10)


def test_between_arm_mann_whitney_and_t_tests_equal_scipy():
    cells, control = [3.0, 5.0, 4.0, 8.0, 6.0], [2.0, 1.5, 3.5, 2.5]
    long = frame(*two_visits([1.0] * 5, cells), *two_visits([1.0] * 4, control, group="control", start=20))
    between = visit(summarise(long, between_tests=("mann_whitney", "t", "welch")), "W4")["between"]
    assert [b["label"] for b in between] == ["Mann-Whitney U", "t-test", "Welch t-test"]
    mann_whitney = stats.mannwhitneyu(cells, control, alternative="two-sided").pvalue
    assert between[0]["p_value"] == pytest.approx(mann_whitney, rel=1e-12)
    assert between[1]["p_value"] == pytest.approx(stats.ttest_ind(cells, control).pvalue, rel=1e-12)
    assert between[2]["p_value"] == pytest.approx(stats.ttest_ind(cells, control, equal_var=False).pvalue, rel=1e-12)


def test_between_arm_tests_need_exactly_two_groups():
    long = frame(*two_visits([1.0, 2.0], [3.0, 4.0]))
    assert visit(summarise(long, groups=("cells",)), "W4")["between"] == []


def test_other_analytes_are_ignored():
    long = frame((1, "cells", "BL", 5.0), (1, "cells", "BL", 500.0, "albumin"), (2, "cells", "BL", 7.0, "albumin"))
    result = summarise(long)
    assert result["analyte"] == "bilirubin"
    assert (arm(result, "BL", "cells")["n"], arm(result, "BL", "cells")["median"]) == (1, 5.0)


def test_groups_outside_groups_are_ignored():
    long = frame((1, "cells", "BL", 5.0), (2, "screen_failure", "BL", 500.0), (3, "screen_failure", "W4", 9.0))
    result = summarise(long)
    assert [v["visit_code"] for v in result["visits"]] == ["BL"]
    assert [a["group"] for a in visit(result, "BL")["arms"]] == ["cells", "control"]
    assert arm(result, "BL", "control") == {
        "group": "control",
        **{"n": 0, "median": None, "q1": None, "q3": None, "mean": None, "sd": None, "min": None, "max": None},
        "change": None,
        "within": [],
        "absent_since_baseline": None,
    }


def test_one_subject_gives_none_p_values_and_no_sd():
    long = frame(*two_visits([1.0], [2.0]), *two_visits([1.0], [3.0], group="control", start=5))
    result = summarise(long, between_tests=("t", "mann_whitney"), within_tests=("wilcoxon", "paired_t"))
    assert [b["p_value"] for b in visit(result, "W4")["between"]] == [None, None]
    cells = arm(result, "W4", "cells")
    assert [w["p_value"] for w in cells["within"]] == [None, None]
    assert (cells["sd"], cells["change"]["sd"]) == (None, None)


def test_all_zero_differences_give_none_p_values():
    long = frame(*two_visits([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]))
    within = arm(summarise(long, within_tests=("wilcoxon", "paired_t")), "W4", "cells")["within"]
    assert [w["p_value"] for w in within] == [None, None]


def test_a_paired_t_test_of_a_constant_difference_is_not_estimable_not_p_zero():
    # Every subject rose by exactly 1.1 (2.2 - 1.1 and 3.3 - 2.2 differ in the last bit): t would be infinite.
    long = frame(*two_visits([1.1, 2.2, 3.3], [2.2, 3.3, 4.4]))
    (paired_t,) = arm(summarise(long, within_tests=("paired_t",)), "W4", "cells")["within"]
    assert paired_t["p_value"] is None
    assert "same amount" in paired_t["reason"]


def test_a_wilcoxon_test_of_a_constant_nonzero_difference_is_still_run():
    long = frame(*two_visits([1.0] * 6, [3.0] * 6))
    (wilcoxon,) = arm(summarise(long, within_tests=("wilcoxon",)), "W4", "cells")["within"]
    assert wilcoxon["p_value"] == pytest.approx(stats.wilcoxon([2.0] * 6, method="approx").pvalue, rel=1e-12)
    assert wilcoxon["reason"] is None


def test_all_zero_differences_say_why_there_is_no_test():
    long = frame(*two_visits([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]))
    (within,) = arm(summarise(long, within_tests=("wilcoxon",)), "W4", "cells")["within"]
    assert within["reason"] == "no subject changed from baseline"


def test_a_between_arm_test_without_data_says_why():
    long = frame(*two_visits([1.0], [2.0]), *two_visits([1.0], [3.0], group="control", start=5))
    (between,) = visit(summarise(long, between_tests=("t",)), "W4")["between"]
    assert (between["p_value"], between["reason"]) == (None, "fewer than two values in an arm")


@pytest.mark.parametrize(
    ("between_tests", "summary"),
    [(("t",), ["mean_sd"]), (("welch",), ["mean_sd"]), (("mann_whitney",), ["median_iqr"])],
)
def test_the_summary_shown_follows_the_between_arm_test(between_tests, summary):
    result = summarise(frame(*two_visits([1.0, 2.0], [3.0, 5.0])), between_tests=between_tests)
    assert result["summary"] == summary
    assert visit(result, "W4")["between"][0]["summary"] == summary[0]


def test_the_change_summary_follows_the_within_arm_test():
    result = summarise(frame(*two_visits([1.0, 2.0], [3.0, 5.0])), within_tests=("paired_t",))
    assert result["change_summary"] == ["mean_sd"]


def test_subjects_absent_after_baseline_are_counted_per_arm_and_noted():
    long = frame(*two_visits([1.0, 2.0], [3.0, 5.0]), (7, "cells", "BL", 4.0), (9, "control", "BL", 1.0))
    result = summarise(long)
    assert [a["absent_since_baseline"] for a in visit(result, "W4")["arms"]] == [1, 1]
    assert [a["absent_since_baseline"] for a in visit(result, "BL")["arms"]] == [None, None]
    assert result["note"].startswith("From W4 on, fewer subjects than at BL")


def test_no_note_when_every_baseline_subject_is_seen_at_every_visit():
    assert summarise(frame(*two_visits([1.0, 2.0], [3.0, 5.0])))["note"] is None


def test_identical_values_in_both_arms_give_none_t_test_p():
    long = frame(*two_visits([1.0] * 3, [2.0] * 3), *two_visits([1.0] * 3, [2.0] * 3, group="control", start=5))
    between = visit(summarise(long, between_tests=("t", "welch")), "W4")["between"]
    assert [b["p_value"] for b in between] == [None, None]


def test_no_rows_for_the_analyte_gives_no_visits():
    result = summarise(frame((1, "cells", "BL", 5.0, "albumin")))
    assert (result["analyte"], result["groups"], result["visits"], result["note"]) == (
        "bilirubin",
        ["cells", "control"],
        [],
        None,
    )


def test_unknown_test_name_is_a_programming_error():
    with pytest.raises(ValueError, match="spearman"):
        summarise(frame((1, "cells", "BL", 5.0)), between_tests=("spearman",))


def test_result_is_plain_json():
    long = frame(
        *two_visits([1.0, 2.0, 3.0], [2.0, 2.5, 5.0]),
        *two_visits([1.0], [1.0], group="control", start=10),
        (20, "control", "W12", float("nan")),
    )
    result = summarise(long, between_tests=("t", "welch", "mann_whitney"), within_tests=("wilcoxon", "paired_t"))
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    assert type(visit(result, "W4")["visit_order"]) is int
    assert type(arm(result, "W4", "cells")["n"]) is int
