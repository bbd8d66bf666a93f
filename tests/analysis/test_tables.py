"""Table 1 per arm on hand-made frames: summaries computed by hand, p-values against formulas, textbook numbers
and scipy.stats. No database: analysis/tables.py is a pure function of a frame.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.tables import Variable, table_one

ARMS = ["cells", "control"]


def frame(**columns_by_arm):
    """One row per value: ``age={"cells": [..], "control": [..]}`` (all columns the same lengths per arm)."""
    rows = []
    for arm in ARMS:
        lengths = {len(values[arm]) for values in columns_by_arm.values()}
        (length,) = lengths
        for i in range(length):
            rows.append({"arm": arm} | {column: values[arm][i] for column, values in columns_by_arm.items()})
    return pd.DataFrame(rows)


def row_of(subjects, variable, groups=ARMS, **options):
    return table_one(subjects, group_col="arm", groups=groups, variables=[variable], **options)["rows"][0]


def test_mean_sd_text_is_mean_plus_minus_sample_sd():
    # cells: mean 2.5, SD sqrt(5/3) = 1.29; control: mean 4, SD 2.
    row = row_of(frame(age={"cells": [1, 2, 3, 4], "control": [2, 4, 6]}), Variable("age", "Age"))
    assert [cell["text"] for cell in row["cells"]] == ["2.5 ± 1.3", "4.0 ± 2.0"]
    assert row["cells"][0]["sd"] == pytest.approx(math.sqrt(5 / 3))


def test_decimals_set_the_digits_shown():
    row = row_of(frame(age={"cells": [1, 2, 3, 4], "control": [2, 4, 6]}), Variable("age", "Age", decimals=2))
    assert row["cells"][0]["text"] == "2.50 ± 1.29"


def test_median_range_text():
    variable = Variable("bilirubin", "Bilirubin", summary="median_range")
    row = row_of(frame(bilirubin={"cells": [1, 2, 3, 10], "control": [5, 7, 9]}), variable)
    assert [cell["text"] for cell in row["cells"]] == ["2.5 (1.0–10.0)", "7.0 (5.0–9.0)"]


def test_median_iqr_text_uses_linear_interpolation_quartiles():
    # [1, 2, 3, 10]: Q1 = 1 + 0.75 * (2 - 1) = 1.75, Q3 = 3 + 0.25 * (10 - 3) = 4.75.
    variable = Variable("bilirubin", "Bilirubin", summary="median_iqr", decimals=2)
    row = row_of(frame(bilirubin={"cells": [1, 2, 3, 10], "control": [5, 7, 9]}), variable)
    assert row["cells"][0]["text"] == "2.50 (1.75–4.75)"
    assert (row["cells"][0]["q1"], row["cells"][0]["q3"]) == (1.75, 4.75)


def test_missing_values_are_counted_and_left_out_of_the_summary():
    row = row_of(frame(age={"cells": [1, None, 3, np.nan], "control": [2, 4, 6, 8]}), Variable("age", "Age"))
    cells = row["cells"]
    assert (cells[0]["n"], cells[0]["missing"], cells[0]["mean"]) == (2, 2, 2.0)
    assert (cells[1]["n"], cells[1]["missing"]) == (4, 0)


def test_missing_values_are_left_out_of_the_test():
    with_missing = frame(age={"cells": [1, None, 3, 5], "control": [2, 4, 6, 9]})
    expected = stats.ttest_ind([1, 3, 5], [2, 4, 6, 9]).pvalue
    assert row_of(with_missing, Variable("age", "Age"))["p_value"] == pytest.approx(expected)


def test_group_with_no_values_shows_a_dash_and_no_statistics():
    row = row_of(frame(age={"cells": [None, None], "control": [2, 4]}), Variable("age", "Age"))
    assert row["cells"][0]["text"] == "–"
    assert row["cells"][0]["mean"] is None
    assert row["cells"][0]["missing"] == 2
    assert row["p_value"] is None


def test_one_value_shows_the_mean_and_no_sd():
    row = row_of(frame(age={"cells": [7], "control": [2, 4]}), Variable("age", "Age"))
    assert row["cells"][0]["text"] == "7.0 ± –"
    assert row["cells"][0]["sd"] is None


def test_mean_sd_rows_use_the_pooled_t_test():
    cells, control = [5.1, 6.3, 7.2, 4.8, 6.0], [7.9, 6.8, 8.4, 9.1]
    row = row_of(frame(age={"cells": cells, "control": control}), Variable("age", "Age"))
    assert row["test"] == "t-test"
    assert row["p_value"] == pytest.approx(stats.ttest_ind(cells, control, equal_var=True).pvalue)


def test_pooled_t_test_p_matches_the_formula():
    # [1, 2, 3, 4] vs [2, 4, 6]: pooled variance (3 * 5/3 + 2 * 4) / 5 = 2.6, t = -1.5 / sqrt(2.6 * (1/4 + 1/3)).
    t = -1.5 / math.sqrt(2.6 * (1 / 4 + 1 / 3))
    hand_p = 2 * stats.t.sf(abs(t), df=5)
    row = row_of(frame(age={"cells": [1, 2, 3, 4], "control": [2, 4, 6]}), Variable("age", "Age"))
    assert t == pytest.approx(-1.21800, abs=1e-5)
    assert row["p_value"] == pytest.approx(hand_p)
    assert row["p_value"] == pytest.approx(0.277561, abs=1e-6)


def test_welch_override_uses_unequal_variances():
    cells, control = [1, 2, 3, 4], [2, 4, 6, 20, 30]
    row = row_of(frame(age={"cells": cells, "control": control}), Variable("age", "Age"), continuous_test="welch")
    assert row["test"] == "Welch t-test"
    assert row["p_value"] == pytest.approx(stats.ttest_ind(cells, control, equal_var=False).pvalue)
    assert row["p_value"] != pytest.approx(stats.ttest_ind(cells, control, equal_var=True).pvalue)


def test_override_applies_to_median_rows_too():
    variable = Variable("age", "Age", summary="median_iqr")
    row = row_of(frame(age={"cells": [1, 2, 3, 4], "control": [2, 4, 6]}), variable, continuous_test="t")
    assert row["test"] == "t-test"


def test_unknown_continuous_test_is_refused():
    with pytest.raises(ValueError, match="continuous_test"):
        row_of(frame(age={"cells": [1, 2], "control": [3, 4]}), Variable("age", "Age"), continuous_test="anova")


def test_median_rows_use_mann_whitney():
    # [1, 2, 3] vs [4, 5, 6]: U = 0, the most extreme of C(6, 3) = 20 orderings each side: exact two-sided p = 2/20.
    variable = Variable("bilirubin", "Bilirubin", summary="median_range")
    row = row_of(frame(bilirubin={"cells": [1, 2, 3], "control": [4, 5, 6]}), variable)
    assert row["test"] == "Mann-Whitney U"
    assert row["p_value"] == pytest.approx(0.1)


def test_binary_large_counts_use_chi_square_without_correction():
    # 30/50 vs 20/50: every expected count 25, chi-square = 4 * 5**2 / 25 = 4 on 1 df.
    male = {"cells": ["male"] * 30 + ["female"] * 20, "control": ["male"] * 20 + ["female"] * 30}
    row = row_of(frame(sex=male), Variable("sex", "Male", kind="binary", level="male"))
    assert row["test"] == "chi-square"
    assert row["p_value"] == pytest.approx(stats.chi2.sf(4, df=1))
    assert [cell["text"] for cell in row["cells"]] == ["30 (60.0%)", "20 (40.0%)"]


def test_binary_small_expected_count_uses_fisher_exact():
    # Fisher's lady tasting tea, [[3, 1], [1, 3]]: two-sided p = 34/70 (Agresti, Categorical Data Analysis, 3.5.2).
    ascites = {"cells": [True, True, True, False], "control": [True, False, False, False]}
    row = row_of(frame(ascites=ascites), Variable("ascites", "Ascites", kind="binary"))
    assert row["test"] == "Fisher exact"
    assert row["p_value"] == pytest.approx(0.4857142857)


def test_binary_object_column_treats_none_as_missing():
    ascites = {"cells": [True, None, False, True], "control": [False, False, None, None]}
    cells = row_of(frame(ascites=ascites), Variable("ascites", "Ascites", kind="binary"))["cells"]
    assert [(cell["count"], cell["n"], cell["missing"]) for cell in cells] == [(2, 3, 1), (0, 2, 2)]
    assert cells[0]["text"] == "2 (66.7%)"


def test_binary_zero_one_column_counts_ones():
    row = row_of(
        frame(meld_above_15={"cells": [1, 0, 1, 1], "control": [0, 0, 1, 0]}),
        Variable("meld_above_15", "MELD > 15", kind="binary"),
    )
    assert [cell["count"] for cell in row["cells"]] == [3, 1]


def test_categorical_two_by_three_chi_square_matches_scipy():
    grade = {"cells": ["A"] * 20 + ["B"] * 15 + ["C"] * 10, "control": ["A"] * 10 + ["B"] * 20 + ["C"] * 15}
    row = row_of(frame(grade=grade), Variable("grade", "Child-Pugh", kind="categorical"))
    expected = stats.chi2_contingency([[20, 15, 10], [10, 20, 15]], correction=False).pvalue
    assert row["test"] == "chi-square"
    assert row["p_value"] == pytest.approx(expected)


def test_categorical_bigger_table_with_small_expected_count_says_so():
    grade = {"cells": ["A"] * 20 + ["B"] * 15 + ["C"] * 2, "control": ["A"] * 10 + ["B"] * 20 + ["C"] * 1}
    row = row_of(frame(grade=grade), Variable("grade", "Child-Pugh", kind="categorical"))
    expected = stats.chi2_contingency([[20, 15, 2], [10, 20, 1]], correction=False).pvalue
    assert row["test"] == "chi-square (expected count < 5)"
    assert row["p_value"] == pytest.approx(expected)


def test_categorical_levels_in_listed_order_then_unseen_appended_sorted():
    grade = {"cells": ["C", "B", "A", "X"], "control": ["D", None, "B", "C"]}
    row = row_of(frame(grade=grade), Variable("grade", "Grade", kind="categorical", levels=["C", "B", "A", "E"]))
    assert [level["level"] for level in row["levels"]] == ["C", "B", "A", "E", "D", "X"]
    e_level = row["levels"][3]
    assert [cell["text"] for cell in e_level["cells"]] == ["0 (0.0%)", "0 (0.0%)"]
    assert row["cells"][1] == {"n": 3, "missing": 1}
    assert row["levels"][0]["cells"][1]["text"] == "1 (33.3%)"


def test_levels_no_one_has_are_dropped_from_the_test():
    grade = {"cells": ["A", "A", "A", "B"], "control": ["A", "B", "B", "B"]}
    with_empty_level = Variable("grade", "Grade", kind="categorical", levels=["A", "B", "C"])
    row = row_of(frame(grade=grade), with_empty_level)
    assert row["test"] == "Fisher exact"
    assert row["p_value"] == pytest.approx(0.4857142857)


def test_rows_outside_the_groups_shown_are_ignored():
    subjects = frame(age={"cells": [1, 2, 3], "control": [4, 5, 6]})
    subjects = pd.concat([subjects, pd.DataFrame({"arm": ["screen_failure", None], "age": [100, 200]})])
    result = table_one(subjects, group_col="arm", groups=ARMS, variables=[Variable("age", "Age")])
    assert result["groups"] == [{"label": "cells", "n": 3}, {"label": "control", "n": 3}]
    assert [cell["max"] for cell in result["rows"][0]["cells"]] == [3.0, 6.0]


def test_groups_are_shown_in_the_order_given():
    subjects = frame(age={"cells": [1, 2, 3], "control": [4, 5]})
    result = table_one(subjects, group_col="arm", groups=["control", "cells"], variables=[Variable("age", "Age")])
    assert [group["label"] for group in result["groups"]] == ["control", "cells"]
    assert result["rows"][0]["cells"][0]["n"] == 2


def test_more_than_two_groups_give_no_p_value():
    subjects = frame(age={"cells": [1, 2, 3], "control": [4, 5, 6]})
    subjects = pd.concat([subjects, pd.DataFrame({"arm": ["observation"] * 2, "age": [7, 8]})])
    row = row_of(subjects, Variable("age", "Age"), groups=[*ARMS, "observation"])
    assert len(row["cells"]) == 3
    assert row["p_value"] is None


@pytest.mark.parametrize(
    ("columns", "variable"),
    [
        ({"age": {"cells": [1], "control": [2, 3]}}, Variable("age", "Age")),
        ({"age": {"cells": [5, 5], "control": [5, 5, 5]}}, Variable("age", "Age")),
        ({"age": {"cells": [5, 5], "control": [6, 6]}}, Variable("age", "Age", summary="mean_sd")),
        ({"age": {"cells": [5, 5], "control": [5, 5]}}, Variable("age", "Age", summary="median_iqr")),
        ({"age": {"cells": [None, None], "control": [1, 2]}}, Variable("age", "Age", summary="median_range")),
        (
            {"sex": {"cells": ["male", "male"], "control": ["male"]}},
            Variable("sex", "Male", kind="binary", level="male"),
        ),
        ({"sex": {"cells": [None, None], "control": ["male"]}}, Variable("sex", "Male", kind="binary", level="male")),
        ({"grade": {"cells": ["A", "A"], "control": ["A"]}}, Variable("grade", "Grade", kind="categorical")),
        ({"grade": {"cells": [None], "control": [None]}}, Variable("grade", "Grade", kind="categorical")),
    ],
    ids=[
        "t-one-value",
        "t-all-identical",
        "t-no-spread-in-either-arm",
        "mann-whitney-all-identical",
        "mann-whitney-empty-arm",
        "binary-one-level",
        "binary-empty-arm",
        "categorical-one-level",
        "categorical-all-missing",
    ],
)
def test_degenerate_inputs_give_no_p_value_not_an_exception(columns, variable):
    row = row_of(frame(**columns), variable)
    assert row["p_value"] is None
    assert row["test"] is not None


def test_empty_frame_gives_an_empty_table():
    subjects = pd.DataFrame({"arm": [], "age": []})
    result = table_one(subjects, group_col="arm", groups=ARMS, variables=[Variable("age", "Age")])
    assert result["groups"] == [{"label": "cells", "n": 0}, {"label": "control", "n": 0}]
    assert result["rows"][0]["p_value"] is None


def test_result_is_plain_json():
    subjects = frame(
        age={"cells": [50.0, np.nan, 61.0], "control": [70.0, 55.0, 58.0]},
        ascites={"cells": [True, None, False], "control": [np.bool_(True), False, None]},
        grade={"cells": ["A", "B", None], "control": ["B", "B", "C"]},
        one_value={"cells": [np.int64(3), None, None], "control": [None, None, None]},
    )
    variables = [
        Variable("age", "Age"),
        Variable("age", "Age", summary="median_iqr"),
        Variable("ascites", "Ascites", kind="binary"),
        Variable("grade", "Child-Pugh", kind="categorical", levels=["A", "B", "C"]),
        Variable("one_value", "Degenerate"),
    ]
    result = table_one(subjects, group_col="arm", groups=ARMS, variables=variables)
    json.dumps(result, allow_nan=False)
    assert_plain_python(result)


def assert_plain_python(value):
    """No numpy scalars anywhere: json.dumps accepts np.float64 (a float subclass), so check the types."""
    if isinstance(value, dict):
        for item in value.values():
            assert_plain_python(item)
    elif isinstance(value, list):
        for item in value:
            assert_plain_python(item)
    else:
        assert type(value) in (str, int, float, bool, type(None)), (value, type(value))


def test_a_column_the_data_does_not_have_yet_is_all_missing():
    frame = pd.DataFrame({"arm": ["A", "B"], "other": [1.0, 2.0]})
    row = table_one(frame, group_col="arm", groups=["A", "B"], variables=[Variable("baseline_TP", "Total protein")])[
        "rows"
    ][0]
    assert [(cell["text"], cell["n"], cell["missing"]) for cell in row["cells"]] == [("–", 0, 1), ("–", 0, 1)]
    assert row["p_value"] is None


def test_a_yes_no_row_on_text_without_a_level_is_refused():
    frame = pd.DataFrame({"arm": ["A", "B"], "smoker": ["no", "yes"]})
    with pytest.raises(ValueError, match="'Smoker': text values need a level"):
        table_one(frame, group_col="arm", groups=["A", "B"], variables=[Variable("smoker", "Smoker", kind="binary")])


def test_p_values_shown_are_labelled_descriptive():
    table = table_one(
        frame(age={"cells": [1, 2, 3], "control": [4, 5, 7]}),
        group_col="arm",
        groups=ARMS,
        variables=[Variable("age", "Age")],
    )
    assert (table["p_values"]["shown"], table["p_values"]["label"]) == (True, "descriptive")
    assert table["rows"][0]["p_value"] is not None


def test_p_values_switched_off_leave_every_row_without_p_or_test():
    subjects = frame(age={"cells": [1, 2, 3], "control": [4, 5, 7]}, male={"cells": [1, 0, 1], "control": [0, 0, 1]})
    variables = [Variable("age", "Age"), Variable("male", "Male", kind="binary")]
    table = table_one(subjects, group_col="arm", groups=ARMS, variables=variables, p_values=False)
    assert [(row["p_value"], row["test"]) for row in table["rows"]] == [(None, None), (None, None)]
    assert (table["p_values"]["shown"], table["p_values"]["label"]) == (False, None)
    assert "CONSORT" in table["p_values"]["note"]
