"""MELD, MELD-Na, MELD 3.0 and Child-Pugh: worked examples, units, floors, caps, dialysis, missing inputs, rounding.

Worked examples are those of the project's protocol notes (protocols.md, "Scores the analysis needs"), given
there in mg/dL and converted here to the CRF's units (bilirubin x 17.1 and creatinine x 88.4 umol/L; albumin x 10 g/L).
Other expected values are hand-computed from the formula quoted in analysis/scores.py; the sum is in the comment.
No database: these are pure functions.
"""

import math
from decimal import Decimal

import pytest

from analysis.scores import (
    ChildPugh,
    child_pugh,
    encephalopathy_category,
    meld,
    meld_3,
    meld_na,
    round_half_up,
)

# protocols.md example 1: Bili 1.9 mg/dL (32.49 umol/L), INR 1.2, Cr 1.3 mg/dL (114.92 umol/L) -> MELD 13.
EXAMPLE_1 = {"bilirubin_umol_l": 32.49, "creatinine_umol_l": 114.92, "inr": 1.2}
# protocols.md example 2: Bili 4.2 (71.82), INR 1.6, Cr 1.9 (167.96), Na 128 -> MELD 23, MELD-Na 28;
# male, Alb 2.8 g/dL (28 g/L) -> MELD 3.0 = 29.
EXAMPLE_2 = {"bilirubin_umol_l": 71.82, "creatinine_umol_l": 167.96, "inr": 1.6}
MELD_3_EXAMPLE = {**EXAMPLE_2, "sodium_mmol_l": 128, "albumin_g_l": 28, "female": False}
# Bili 1 mg/dL, Cr 1 mg/dL: only INR moves the MELD family, so a score can be put where a test needs it.
UNIT_BILI_CREAT = {"bilirubin_umol_l": 17.1, "creatinine_umol_l": 88.4}
NORMAL = {"bilirubin_umol_l": 10.0, "creatinine_umol_l": 60.0, "inr": 0.9}
SEVERE = {"bilirubin_umol_l": 900.0, "creatinine_umol_l": 600.0, "inr": 6.0}


def test_meld_worked_example_gives_13():
    assert meld(**EXAMPLE_1) == 13


def test_meld_second_worked_example_gives_23():
    assert meld(**EXAMPLE_2) == 23


def test_meld_na_worked_example_gives_28():
    assert meld_na(**EXAMPLE_2, sodium_mmol_l=128) == 28


def test_meld_3_worked_example_gives_29_for_a_man():
    assert meld_3(**MELD_3_EXAMPLE) == 29


def test_meld_3_adds_1_33_for_a_woman():
    # Hand-computed: the worked example's 28.72 + 1.33 = 30.05 -> 30.
    assert meld_3(**{**MELD_3_EXAMPLE, "female": True}) == 30


def test_scores_accept_decimal_inputs():
    decimals = {name: Decimal(str(value)) for name, value in EXAMPLE_1.items()}
    assert meld(**decimals) == 13


def test_labs_below_one_are_taken_as_one_so_normal_labs_give_meld_6():
    # 0.957 ln 1 + 0.378 ln 1 + 1.120 ln 1 + 0.643 = 0.643 -> 0.6 x 10 = 6.
    assert meld(**NORMAL) == 6


def test_meld_is_capped_at_40():
    # Hand-computed: Cr capped 4.0, Bili 52.6, INR 6 give MELD(i) 5.47 -> 55 uncapped.
    assert meld(**SEVERE) == 40


def test_meld_na_is_capped_at_40():
    assert meld_na(**SEVERE, sodium_mmol_l=125) == 40


def test_meld_caps_creatinine_at_4_mg_dl():
    at_cap = meld(bilirubin_umol_l=50, creatinine_umol_l=4.0 * 88.4, inr=1.5)
    assert meld(bilirubin_umol_l=50, creatinine_umol_l=9.0 * 88.4, inr=1.5) == at_cap


def test_meld_on_dialysis_takes_creatinine_as_4_mg_dl():
    on_dialysis = meld(bilirubin_umol_l=50, creatinine_umol_l=70, inr=1.5, dialysis=True)
    assert on_dialysis == meld(bilirubin_umol_l=50, creatinine_umol_l=4.0 * 88.4, inr=1.5)


def test_meld_3_caps_creatinine_at_3_mg_dl():
    args = {"bilirubin_umol_l": 50, "inr": 1.5, "sodium_mmol_l": 135, "albumin_g_l": 30, "female": False}
    assert meld_3(creatinine_umol_l=6.0 * 88.4, **args) == meld_3(creatinine_umol_l=3.0 * 88.4, **args)


def test_meld_3_on_dialysis_takes_creatinine_as_3_mg_dl():
    args = {"bilirubin_umol_l": 50, "inr": 1.5, "sodium_mmol_l": 135, "albumin_g_l": 30, "female": False}
    assert meld_3(creatinine_umol_l=70, dialysis=True, **args) == meld_3(creatinine_umol_l=3.0 * 88.4, **args)


def test_meld_na_leaves_meld_11_unadjusted():
    # INR 1.5: MELD(i) = 0.643 + 1.120 ln 1.5 = 1.097 -> 11; not > 11, so sodium is not used.
    assert meld(**UNIT_BILI_CREAT, inr=1.5) == 11
    assert meld_na(**UNIT_BILI_CREAT, inr=1.5, sodium_mmol_l=125) == 11


def test_meld_na_adjusts_meld_12():
    # INR 1.65: MELD(i) = 1.204 -> 12; 12 + 1.32 x 12 - 0.033 x 12 x 12 = 23.088 -> 23.
    assert meld_na(**UNIT_BILI_CREAT, inr=1.65, sodium_mmol_l=125) == 23


def test_meld_na_bounds_sodium_below_at_125():
    assert meld_na(**EXAMPLE_2, sodium_mmol_l=110) == meld_na(**EXAMPLE_2, sodium_mmol_l=125)


def test_meld_na_bounds_sodium_above_at_137_where_it_equals_meld():
    assert meld_na(**EXAMPLE_2, sodium_mmol_l=145) == meld_na(**EXAMPLE_2, sodium_mmol_l=137) == 23


def test_meld_3_bounds_sodium_to_125_137():
    assert meld_3(**{**MELD_3_EXAMPLE, "sodium_mmol_l": 110}) == meld_3(**{**MELD_3_EXAMPLE, "sodium_mmol_l": 125})
    assert meld_3(**{**MELD_3_EXAMPLE, "sodium_mmol_l": 145}) == meld_3(**{**MELD_3_EXAMPLE, "sodium_mmol_l": 137})


def test_meld_3_bounds_albumin_to_1_5_3_5_g_dl():
    assert meld_3(**{**MELD_3_EXAMPLE, "albumin_g_l": 10}) == meld_3(**{**MELD_3_EXAMPLE, "albumin_g_l": 15})
    assert meld_3(**{**MELD_3_EXAMPLE, "albumin_g_l": 45}) == meld_3(**{**MELD_3_EXAMPLE, "albumin_g_l": 35})


def test_meld_3_is_capped_at_40():
    assert meld_3(**SEVERE, sodium_mmol_l=125, albumin_g_l=15, female=True) == 40


def test_meld_3_uncapped_is_the_whole_number_above_40():
    # Hand-computed: Bili 52.6, Cr 3.0 (cap), INR 6, Na gap 12, Alb gap 2.0, female: 52.03 -> 52.
    uncapped = meld_3(**SEVERE, sodium_mmol_l=125, albumin_g_l=15, female=True, cap=False)
    assert uncapped == 52
    assert isinstance(uncapped, int)


@pytest.mark.parametrize("missing", ["bilirubin_umol_l", "creatinine_umol_l", "inr"])
def test_meld_with_a_missing_input_is_missing(missing):
    assert meld(**{**EXAMPLE_2, missing: None}) is None


@pytest.mark.parametrize("missing", ["bilirubin_umol_l", "creatinine_umol_l", "inr", "sodium_mmol_l"])
def test_meld_na_with_a_missing_input_is_missing(missing):
    assert meld_na(**{**EXAMPLE_2, "sodium_mmol_l": 128, missing: None}) is None


@pytest.mark.parametrize(
    "missing", ["bilirubin_umol_l", "creatinine_umol_l", "inr", "sodium_mmol_l", "albumin_g_l", "female"]
)
def test_meld_3_with_a_missing_input_is_missing(missing):
    assert meld_3(**{**MELD_3_EXAMPLE, missing: None}) is None


@pytest.mark.parametrize(("name", "value"), [("bilirubin_umol_l", 0), ("creatinine_umol_l", -5), ("inr", 0)])
def test_meld_refuses_a_lab_value_at_or_below_zero_naming_it(name, value):
    with pytest.raises(ValueError, match=name):
        meld(**{**EXAMPLE_1, name: value})


def test_meld_3_refuses_a_zero_albumin_naming_it():
    with pytest.raises(ValueError, match="albumin_g_l"):
        meld_3(**{**MELD_3_EXAMPLE, "albumin_g_l": 0})


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (0.5, 0, 1.0),  # Python's round(0.5) is 0
        (2.5, 0, 3.0),  # round(2.5) is 2
        (0.285 * 100, 0, 29.0),  # 28.499999999999996 in binary, 28.5 on paper
        (2.675, 2, 2.68),  # binary 2.67499999...
        (1.005, 2, 1.01),  # binary 1.00499999...
        (12.45, 1, 12.5),  # binary 12.4499999...
        (0.1 + 0.2 + 0.2, 1, 0.5),  # 0.5000000000000001
        (Decimal("1.25"), 1, 1.3),
        (-2.5, 0, -3.0),  # half away from zero
    ],
)
def test_half_up_rounding_is_robust_to_binary_noise(value, places, expected):
    assert round_half_up(value, places) == expected


def test_meld_rounds_a_tenth_on_the_half_up():
    # INR e^(0.607/1.12): MELD(i) = 0.643 + 0.607 = 1.25 -> 1.3 -> 13 (Python's round gives 1.2 -> 12).
    assert meld(**UNIT_BILI_CREAT, inr=math.exp(0.607 / 1.12)) == 13


def test_meld_3_rounds_a_half_up_despite_binary_noise():
    # Bili, Cr 1, Na 137, Alb 3.5: score = 9.09 ln INR + 6; INR e^(0.5/9.09) gives 6.5 on paper,
    # 6.499999999999999 in floats -> 7.
    args = {**UNIT_BILI_CREAT, "sodium_mmol_l": 137, "albumin_g_l": 35, "female": False}
    assert meld_3(**args, inr=math.exp(0.5 / 9.09)) == 7


def _child_pugh_points(bilirubin_umol_l=20, albumin_g_l=40, inr=1.0, ascites="none", encephalopathy="none"):
    return child_pugh(
        bilirubin_umol_l=bilirubin_umol_l,
        albumin_g_l=albumin_g_l,
        inr=inr,
        ascites=ascites,
        encephalopathy=encephalopathy,
    ).points


@pytest.mark.parametrize(
    ("value", "points"), [(33.9, 1), (34, 2), (50, 2), (50.1, 3)], ids=["33.9", "34", "50", "50.1"]
)
def test_child_pugh_bilirubin_bands_34_50_umol_l(value, points):
    assert _child_pugh_points(bilirubin_umol_l=value) == 4 + points


@pytest.mark.parametrize(
    ("value", "points"), [(35.1, 1), (35, 2), (28, 2), (27.9, 3)], ids=["35.1", "35", "28", "27.9"]
)
def test_child_pugh_albumin_bands_35_28_g_l(value, points):
    assert _child_pugh_points(albumin_g_l=value) == 4 + points


@pytest.mark.parametrize(
    ("value", "points"), [(1.69, 1), (1.7, 2), (2.3, 2), (2.31, 3)], ids=["1.69", "1.7", "2.3", "2.31"]
)
def test_child_pugh_inr_bands_1_7_2_3(value, points):
    assert _child_pugh_points(inr=value) == 4 + points


@pytest.mark.parametrize(("ascites", "points"), [("none", 1), ("mild", 2), ("moderate_severe", 3)])
def test_child_pugh_ascites_points(ascites, points):
    assert _child_pugh_points(ascites=ascites) == 4 + points


@pytest.mark.parametrize(("encephalopathy", "points"), [("none", 1), ("grade_1_2", 2), ("grade_3_4", 3)])
def test_child_pugh_encephalopathy_points(encephalopathy, points):
    assert _child_pugh_points(encephalopathy=encephalopathy) == 4 + points


@pytest.mark.parametrize(
    ("labs", "expected"),
    [
        ({"bilirubin_umol_l": 20, "albumin_g_l": 40, "inr": 1.0}, ChildPugh(points=5, grade="A")),
        ({"bilirubin_umol_l": 40, "albumin_g_l": 40, "inr": 1.0}, ChildPugh(points=6, grade="A")),
        ({"bilirubin_umol_l": 40, "albumin_g_l": 30, "inr": 1.0}, ChildPugh(points=7, grade="B")),
        ({"bilirubin_umol_l": 60, "albumin_g_l": 25, "inr": 1.0}, ChildPugh(points=9, grade="B")),
        ({"bilirubin_umol_l": 60, "albumin_g_l": 25, "inr": 2.0}, ChildPugh(points=10, grade="C")),
    ],
)
def test_child_pugh_class_limits_a_5_6_b_7_9_c_from_10(labs, expected):
    assert child_pugh(**labs, ascites="none", encephalopathy="none") == expected


def test_child_pugh_worst_is_15_class_c():
    score = child_pugh(
        bilirubin_umol_l=60, albumin_g_l=25, inr=3.0, ascites="moderate_severe", encephalopathy="grade_3_4"
    )
    assert score == ChildPugh(points=15, grade="C")


@pytest.mark.parametrize("missing", ["bilirubin_umol_l", "albumin_g_l", "inr", "ascites", "encephalopathy"])
def test_child_pugh_with_a_missing_input_is_missing(missing):
    args = {"bilirubin_umol_l": 20, "albumin_g_l": 40, "inr": 1.1, "ascites": "none", "encephalopathy": "none"}
    assert child_pugh(**{**args, missing: None}) is None


def test_child_pugh_refuses_an_unknown_ascites_word_listing_the_allowed():
    with pytest.raises(ValueError, match="ascites must be one of 'none', 'mild', 'moderate_severe'"):
        child_pugh(bilirubin_umol_l=20, albumin_g_l=40, inr=1.1, ascites="severe", encephalopathy="none")


def test_child_pugh_refuses_an_unknown_encephalopathy_word_listing_the_allowed():
    with pytest.raises(ValueError, match="encephalopathy must be one of 'none', 'grade_1_2', 'grade_3_4'"):
        child_pugh(bilirubin_umol_l=20, albumin_g_l=40, inr=1.1, ascites="none", encephalopathy="2")


@pytest.mark.parametrize(
    ("grade", "category"),
    [(0, "none"), (1, "grade_1_2"), (2, "grade_1_2"), (3, "grade_3_4"), (4, "grade_3_4"), (None, None)],
)
def test_west_haven_grade_maps_to_child_pugh_category(grade, category):
    assert encephalopathy_category(grade) == category


@pytest.mark.parametrize("grade", [-1, 5])
def test_west_haven_grade_outside_0_4_is_refused(grade):
    with pytest.raises(ValueError, match="west_haven_grade"):
        encephalopathy_category(grade)
