"""MELD family and Child-Pugh scores: worked examples, units, floors, caps, dialysis, missing inputs, rounding.

Worked examples are those of ../shared/protocols.md ("Scores"), given there in mg/dL and converted here to the
CRF's units (bilirubin x 17.1, creatinine x 88.4 umol/L; albumin x 10 g/L).
"""

import math

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

# protocols.md worked example 1: Bili 1.9, INR 1.2, Cr 1.3 mg/dL gives MELD 13.
EXAMPLE_1 = {"bilirubin_umol_l": 1.9 * 17.1, "creatinine_umol_l": 1.3 * 88.4, "inr": 1.2}
# protocols.md worked example 2: Bili 4.2, INR 1.6, Cr 1.9 mg/dL, Na 128: MELD 23, MELD-Na 28; male,
# Alb 2.8 g/dL: MELD 3.0 = 29.
EXAMPLE_2 = {"bilirubin_umol_l": 4.2 * 17.1, "creatinine_umol_l": 1.9 * 88.4, "inr": 1.6}
NORMAL = {"bilirubin_umol_l": 10.0, "creatinine_umol_l": 60.0, "inr": 1.0}
SEVERE = {"bilirubin_umol_l": 900.0, "creatinine_umol_l": 600.0, "inr": 6.0}


def test_meld_worked_example_gives_13():
    assert meld(**EXAMPLE_1) == 13


def test_meld_second_worked_example_gives_23():
    assert meld(**EXAMPLE_2) == 23


def test_meld_na_worked_example_gives_28():
    assert meld_na(**EXAMPLE_2, sodium_mmol_l=128) == 28


def test_meld_3_worked_example_gives_29_for_a_man():
    assert meld_3(**EXAMPLE_2, sodium_mmol_l=128, albumin_g_l=28, female=False) == 29


def test_meld_3_adds_for_women():
    # 1.33 points before rounding: the worked example's 28.72 + 1.33 = 30.05 -> 30 (hand-computed).
    assert meld_3(**EXAMPLE_2, sodium_mmol_l=128, albumin_g_l=28, female=True) == 30


def test_labs_below_one_are_taken_as_one_so_normal_labs_give_meld_6():
    # 0.957 ln 1 + 0.378 ln 1 + 1.120 ln 1 + 0.643 = 0.643 -> 0.6 x 10 = 6.
    assert meld(**NORMAL) == 6


def test_meld_is_capped_at_40():
    assert meld(**SEVERE) == 40


def test_creatinine_is_capped_at_4_mg_dl():
    capped = meld(bilirubin_umol_l=50, creatinine_umol_l=4.0 * 88.4, inr=1.5)
    assert meld(bilirubin_umol_l=50, creatinine_umol_l=9.0 * 88.4, inr=1.5) == capped


def test_dialysis_sets_creatinine_to_4_mg_dl():
    on_dialysis = meld(bilirubin_umol_l=50, creatinine_umol_l=70, inr=1.5, dialysis=True)
    assert on_dialysis == meld(bilirubin_umol_l=50, creatinine_umol_l=4.0 * 88.4, inr=1.5)


def test_meld_3_caps_creatinine_at_3_mg_dl_and_dialysis_sets_it_there():
    args = {"bilirubin_umol_l": 50, "inr": 1.5, "sodium_mmol_l": 135, "albumin_g_l": 30, "female": False}
    at_cap = meld_3(creatinine_umol_l=3.0 * 88.4, **args)
    assert meld_3(creatinine_umol_l=6.0 * 88.4, **args) == at_cap
    assert meld_3(creatinine_umol_l=70, dialysis=True, **args) == at_cap


def test_meld_na_equals_meld_at_11_or_below():
    assert meld(**EXAMPLE_1, dialysis=False) > 11  # 13: adjusted
    low = {"bilirubin_umol_l": 20, "creatinine_umol_l": 80, "inr": 1.3}
    assert meld(**low) <= 11
    assert meld_na(**low, sodium_mmol_l=120) == meld(**low)


def test_sodium_is_bounded_to_125_137():
    assert meld_na(**EXAMPLE_2, sodium_mmol_l=110) == meld_na(**EXAMPLE_2, sodium_mmol_l=125)
    assert meld_na(**EXAMPLE_2, sodium_mmol_l=145) == meld_na(**EXAMPLE_2, sodium_mmol_l=137) == 23


def test_meld_3_albumin_is_bounded_to_1_5_3_5_g_dl():
    args = {**EXAMPLE_2, "sodium_mmol_l": 128, "female": False}
    assert meld_3(**args, albumin_g_l=10) == meld_3(**args, albumin_g_l=15)
    assert meld_3(**args, albumin_g_l=45) == meld_3(**args, albumin_g_l=35)


def test_meld_3_is_capped_at_40_unless_asked_not_to():
    args = {**SEVERE, "sodium_mmol_l": 125, "albumin_g_l": 15, "female": True}
    assert meld_3(**args) == 40
    assert meld_3(**args, cap=False) > 40


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
    args = {**EXAMPLE_2, "sodium_mmol_l": 128, "albumin_g_l": 28, "female": False, missing: None}
    assert meld_3(**args) is None


def test_a_zero_lab_value_is_refused_naming_it():
    with pytest.raises(ValueError, match="inr"):
        meld(bilirubin_umol_l=20, creatinine_umol_l=80, inr=0)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (0.5, 0, 1.0),  # Python's round(0.5) is 0
        (2.5, 0, 3.0),  # round(2.5) is 2
        (2.675, 2, 2.68),  # binary 2.67499999... is 2.675 on paper
        (1.005, 2, 1.01),  # binary 1.00499999...
        (12.45, 1, 12.5),  # binary 12.4499999...
        (0.1 + 0.2 + 0.2, 1, 0.5),  # 0.5000000000000001
        (-2.5, 0, -3.0),  # half away from zero
    ],
)
def test_half_up_rounding_is_robust_to_binary_noise(value, places, expected):
    assert round_half_up(value, places) == expected


def test_meld_rounds_the_tenth_half_up():
    # Cr 1.0, Bili 1.0, INR e^(0.05/1.12): MELD(i) = 0.643 + 0.05 = 0.693 -> 0.7 -> 7 (not 6).
    assert meld(bilirubin_umol_l=17.1, creatinine_umol_l=88.4, inr=math.exp(0.05 / 1.12)) == 7


@pytest.mark.parametrize(
    ("bilirubin", "albumin", "inr", "points"),
    [
        (33.9, 35.1, 1.69, 5),  # all 1 point
        (34, 35, 1.7, 8),  # lower bounds of the 2-point bands: 2 + 2 + 2 + 1 + 1
        (50, 28, 2.3, 8),  # upper bounds of the 2-point bands
        (50.1, 27.9, 2.31, 11),  # 3 points each
    ],
)
def test_child_pugh_band_boundaries(bilirubin, albumin, inr, points):
    score = child_pugh(bilirubin_umol_l=bilirubin, albumin_g_l=albumin, inr=inr, ascites="none", encephalopathy="none")
    assert score.points == points


@pytest.mark.parametrize(
    ("ascites", "encephalopathy", "grade"),
    [
        ("none", "none", "A"),  # 5
        ("mild", "none", "A"),  # 6
        ("mild", "grade_1_2", "B"),  # 7
        ("moderate_severe", "grade_3_4", "B"),  # 9
    ],
)
def test_child_pugh_classes_a_5_6_b_7_9(ascites, encephalopathy, grade):
    score = child_pugh(bilirubin_umol_l=20, albumin_g_l=40, inr=1.1, ascites=ascites, encephalopathy=encephalopathy)
    assert score.grade == grade


def test_child_pugh_class_c_from_10_points():
    score = child_pugh(bilirubin_umol_l=60, albumin_g_l=25, inr=1.1, ascites="mild", encephalopathy="none")
    assert score == ChildPugh(points=10, grade="C")


def test_child_pugh_with_a_missing_input_is_missing():
    assert child_pugh(bilirubin_umol_l=20, albumin_g_l=None, inr=1.1, ascites="none", encephalopathy="none") is None


def test_child_pugh_refuses_an_unknown_ascites_word():
    with pytest.raises(ValueError, match="moderate_severe"):
        child_pugh(bilirubin_umol_l=20, albumin_g_l=40, inr=1.1, ascites="severe", encephalopathy="none")


@pytest.mark.parametrize(
    ("grade", "category"),
    [(0, "none"), (1, "grade_1_2"), (2, "grade_1_2"), (3, "grade_3_4"), (4, "grade_3_4"), (None, None)],
)
def test_west_haven_grade_maps_to_child_pugh_category(grade, category):
    assert encephalopathy_category(grade) == category
