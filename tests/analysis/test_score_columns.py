"""The scores of many draws at once (analysis/score_columns.py) are the scalar scores (analysis/scores.py), value
for value: on random draws, on the rounding ties, with inputs missing, and with the same errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import score_columns, scores

lab = st.one_of(st.none(), st.floats(min_value=0.01, max_value=2000, allow_nan=False))
inr = st.one_of(st.none(), st.floats(min_value=0.5, max_value=12, allow_nan=False))
sodium = st.one_of(st.none(), st.floats(min_value=100, max_value=170, allow_nan=False))
albumin = st.one_of(st.none(), st.floats(min_value=5, max_value=70, allow_nan=False))
draw = st.fixed_dictionaries(
    {
        "bili": lab,
        "creat": lab,
        "inr": inr,
        "sodium": sodium,
        "albumin": albumin,
        "female": st.booleans(),
        "dialysis": st.booleans(),
        "ascites": st.sampled_from([None, *scores.ASCITES_POINTS]),
        "grade": st.sampled_from([None, 0, 1, 2, 3, 4]),
    }
)


def columns(draws: list[dict]) -> dict:
    def numbers(key):
        return np.array([np.nan if row[key] is None else row[key] for row in draws], dtype=float)

    bili, creat, inr_, sodium_, albumin_ = (numbers(key) for key in ("bili", "creat", "inr", "sodium", "albumin"))
    dialysis = np.array([row["dialysis"] for row in draws], dtype=bool)
    female = np.array([row["female"] for row in draws], dtype=bool)
    meld = score_columns.meld(bili, creat, inr_, dialysis)
    points, grade = score_columns.child_pugh(
        bili, albumin_, inr_, np.array([row["ascites"] for row in draws], dtype=object), numbers("grade")
    )
    return {
        "meld": meld,
        "meld_na": score_columns.meld_na(meld, sodium_),
        "meld_3": score_columns.meld_3(bili, creat, inr_, sodium_, albumin_, female, dialysis),
        "points": points,
        "grade": grade,
    }


def scalar(row: dict) -> dict:
    labs = {"bilirubin_umol_l": row["bili"], "creatinine_umol_l": row["creat"], "inr": row["inr"]}
    labs["dialysis"] = row["dialysis"]
    cp = scores.child_pugh(
        bilirubin_umol_l=row["bili"],
        albumin_g_l=row["albumin"],
        inr=row["inr"],
        ascites=row["ascites"],
        encephalopathy=scores.encephalopathy_category(row["grade"]),
    )
    return {
        "meld": scores.meld(**labs),
        "meld_na": scores.meld_na(**labs, sodium_mmol_l=row["sodium"]),
        "meld_3": scores.meld_3(**labs, sodium_mmol_l=row["sodium"], albumin_g_l=row["albumin"], female=row["female"]),
        "points": cp.points if cp else None,
        "grade": cp.grade if cp else None,
    }


def as_scalar(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, str) else int(value)


def assert_same(draws: list[dict]) -> None:
    vectorised = columns(draws)
    for at, row in enumerate(draws):
        shown = {name: as_scalar(values[at]) for name, values in vectorised.items()}
        assert shown == scalar(row), row


@settings(max_examples=300, deadline=None)
@given(st.lists(draw, min_size=1, max_size=40))
def test_random_draws_score_as_the_scalar_rules_score_them(draws):
    assert_same(draws)


def test_rounding_ties_round_half_up_as_the_scalar_rules_do():
    # MELD(i) 1.25 is 13 (not 12): bilirubin and INR 1.0, creatinine set so that 0.957 ln Cr + 0.643 = 1.25.
    creat = math.exp((1.25 - 0.643) / 0.957) * scores.CREATININE_UMOL_PER_MG_DL
    ties = [
        {"bili": 17.1, "creat": creat, "inr": 1.0, "sodium": 130.0, "albumin": 30.0, "female": False},
        {"bili": 34.0, "creat": 88.4, "inr": 1.7, "sodium": 137.0, "albumin": 35.0, "female": True},
        {"bili": 50.0, "creat": 353.6, "inr": 2.3, "sodium": 125.0, "albumin": 28.0, "female": False},
    ]
    assert_same([{**tie, "dialysis": False, "ascites": "mild", "grade": 2} for tie in ties])
    assert list(score_columns.half_up(np.array([0.5, 1.5, 2.5, 2.675, np.nan]), 0)[:4]) == [1, 2, 3, 3]
    assert score_columns.half_up(np.array([2.675]), 2)[0] == scores.round_half_up(2.675, 2)


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"bili": 0.0}, "bilirubin_umol_l must be a finite number above 0"),
        ({"sodium": -1.0}, "sodium_mmol_l must be a finite number above 0"),
        ({"ascites": "severe"}, "ascites must be one of"),
        ({"grade": 5}, "west_haven_grade must be 0, 1, 2, 3 or 4"),
    ],
)
def test_an_impossible_input_raises_as_the_scalar_rules_do(changed, message):
    row = {"bili": 20.0, "creat": 80.0, "inr": 1.1, "sodium": 135.0, "albumin": 40.0, "female": False}
    row |= {"dialysis": False, "ascites": "none", "grade": 0} | changed
    with pytest.raises(ValueError, match=message):
        scalar(row)
    with pytest.raises(ValueError, match=message):
        columns([row])


def test_a_missing_input_leaves_only_the_scores_that_need_it_empty():
    row = {"bili": 20.0, "creat": 80.0, "inr": 1.1, "sodium": None, "albumin": 40.0, "female": False}
    vectorised = columns([row | {"dialysis": False, "ascites": None, "grade": 0}])
    meld = scores.meld(bilirubin_umol_l=20.0, creatinine_umol_l=80.0, inr=1.1)
    assert [as_scalar(values[0]) for values in vectorised.values()] == [meld, None, None, None, None]
