"""MELD, MELD-Na, MELD 3.0 and Child-Pugh of many lab draws at once: the rules of analysis/scores.py on arrays.

analysis/scores.py stays the definition (and the tests hold these columns to it, value for value). Here each
input is a numpy array, NaN (or None) where missing; a score is NaN where an input it needs is missing; a lab value
at or below zero (or not finite) where a score would use it raises ValueError naming the argument, as there. The
formulas are written in the same order of operations as the scalar ones. Rounding half up works on the scaled
value; the rare value within ``TIE`` of a half (where binary noise could decide it) is handed to
``scores.round_half_up``, so ties round exactly as the scalar rules round them.
"""

import numpy as np

from analysis.scores import (
    ALBUMIN_G_L_PER_G_DL,
    ASCITES_POINTS,
    BILIRUBIN_UMOL_PER_MG_DL,
    CREATININE_UMOL_PER_MG_DL,
    MAX_SCORE,
    round_half_up,
)

TIE = 1e-6
ENCEPHALOPATHY_BY_WEST_HAVEN = np.array([1, 2, 2, 3, 3])  # Child-Pugh points of West Haven grades 0-4


def half_up(values: np.ndarray, places: int = 0) -> np.ndarray:
    """``scores.round_half_up`` of each value (NaN stays NaN)."""
    scale = 10.0**places
    scaled = np.abs(values * scale)
    whole = np.floor(scaled)
    rounded = np.copysign(np.floor(scaled + 0.5), values) / scale
    for at in np.flatnonzero(np.abs(scaled - whole - 0.5) < TIE):
        rounded[at] = round_half_up(float(values[at]), places)
    return rounded


def _checked(name: str, values: np.ndarray, used: np.ndarray) -> np.ndarray:
    bad = used & ~(np.isfinite(values) & (values > 0))
    if bad.any():
        raise ValueError(f"{name} must be a finite number above 0, got {values[bad][0]!r}")
    return values


def _meld_labs(bili, creat, inr, dialysis, used, creatinine_cap):
    bili = np.maximum(1.0, _checked("bilirubin_umol_l", bili, used) / BILIRUBIN_UMOL_PER_MG_DL)
    creat = np.maximum(1.0, _checked("creatinine_umol_l", creat, used) / CREATININE_UMOL_PER_MG_DL)
    creat = np.where(dialysis, creatinine_cap, np.minimum(creat, creatinine_cap))
    return bili, creat, np.maximum(1.0, _checked("inr", inr, used))


def _present(*columns) -> np.ndarray:
    return np.logical_and.reduce([~np.isnan(column) for column in columns])


def meld(bili, creat, inr, dialysis) -> np.ndarray:
    """``scores.meld`` per draw."""
    used = _present(bili, creat, inr)
    bili, creat, inr = _meld_labs(bili, creat, inr, dialysis, used, 4.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        meld_i = 0.957 * np.log(creat) + 0.378 * np.log(bili) + 1.120 * np.log(inr) + 0.643
    score = np.minimum(MAX_SCORE, half_up(half_up(meld_i, 1) * 10))
    return np.where(used, score, np.nan)


def _sodium_gap(sodium, used):
    return 137 - np.minimum(137.0, np.maximum(125.0, _checked("sodium_mmol_l", sodium, used)))


def meld_na(score, sodium) -> np.ndarray:
    """``scores.meld_na`` per draw, from its MELD (``meld``)."""
    used = _present(score, sodium)
    gap = _sodium_gap(sodium, used)
    raised = np.minimum(MAX_SCORE, half_up(score + 1.32 * gap - 0.033 * score * gap))
    return np.where(used, np.where(score <= 11, score, raised), np.nan)


def meld_3(bili, creat, inr, sodium, albumin, female, dialysis) -> np.ndarray:
    """``scores.meld_3`` per draw (capped at 40); ``female`` a boolean array."""
    used = _present(bili, creat, inr, sodium, albumin)
    bili, creat, inr = _meld_labs(bili, creat, inr, dialysis, used, 3.0)
    sodium_gap = _sodium_gap(sodium, used)
    albumin_g_dl = _checked("albumin_g_l", albumin, used) / ALBUMIN_G_L_PER_G_DL
    albumin_gap = 3.5 - np.minimum(3.5, np.maximum(1.5, albumin_g_dl))
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (
            1.33 * female
            + 4.56 * np.log(bili)
            + 0.82 * sodium_gap
            - 0.24 * sodium_gap * np.log(bili)
            + 9.09 * np.log(inr)
            + 11.14 * np.log(creat)
            + 1.85 * albumin_gap
            - 1.83 * albumin_gap * np.log(creat)
            + 6
        )
    return np.where(used, np.minimum(MAX_SCORE, half_up(score)), np.nan)


def child_pugh(bili, albumin, inr, ascites, west_haven_grade) -> tuple[np.ndarray, np.ndarray]:
    """``scores.child_pugh`` per draw as (points, NaN where missing; class "A"/"B"/"C", None where missing), from
    ``ascites`` categories (object array, None where missing) and West Haven grades 0-4 (NaN where missing)."""
    ascites = np.asarray(ascites, dtype=object)
    missing_ascites = np.array([value is None or value != value for value in ascites], dtype=bool)
    used = _present(bili, albumin, inr, west_haven_grade) & ~missing_ascites
    bili = _checked("bilirubin_umol_l", bili, used)
    albumin = _checked("albumin_g_l", albumin, used)
    inr = _checked("inr", inr, used)
    unknown = [value for value in ascites[used] if value not in ASCITES_POINTS]
    if unknown:
        raise ValueError(f"ascites must be one of {', '.join(map(repr, ASCITES_POINTS))}, got {unknown[0]!r}")
    grades = west_haven_grade[used]
    wrong = grades[~np.isin(grades, np.arange(5))]
    if len(wrong):
        raise ValueError(f"west_haven_grade must be 0, 1, 2, 3 or 4, got {int(wrong[0])!r}")
    points = np.full(len(bili), np.nan)
    points[used] = (
        np.where(bili[used] < 34, 1, np.where(bili[used] <= 50, 2, 3))
        + np.where(albumin[used] > 35, 1, np.where(albumin[used] >= 28, 2, 3))
        + np.where(inr[used] < 1.7, 1, np.where(inr[used] <= 2.3, 2, 3))
        + np.array([ASCITES_POINTS[value] for value in ascites[used]], dtype=int).reshape(-1)
        + ENCEPHALOPATHY_BY_WEST_HAVEN[grades.astype(int)]
    )
    grade = np.full(len(bili), None, dtype=object)
    grade[used] = np.where(points[used] <= 6, "A", np.where(points[used] <= 9, "B", "C"))
    return points, grade
