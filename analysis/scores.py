"""Liver disease severity scores from one lab draw: MELD, MELD-Na, MELD 3.0 and Child-Pugh.

Pure functions of numbers in the units the CRF stores (bilirubin and creatinine umol/L, albumin g/L, sodium
mmol/L, INR unitless); they convert inside and accept int, float or Decimal. A score with any required input
missing (None) is None, never computed from a default. A lab value at or below zero (or not finite) is a data
error, not a low value: the MELD family takes its logarithm, so every score raises ValueError naming the argument.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

BILIRUBIN_UMOL_PER_MG_DL = 17.1
CREATININE_UMOL_PER_MG_DL = 88.4
ALBUMIN_G_L_PER_G_DL = 10
MAX_SCORE = 40

Number = int | float | Decimal


def round_half_up(value: Number, places: int = 0) -> float:
    """Round half away from zero, as the UNOS/OPTN definitions do (Python's round() goes half to even)."""
    # Taken to 9 decimals first, so binary noise (6.499999999999999 for a 6.5 on paper) does not decide it.
    exact = Decimal(str(value)).quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _positive(name: str, value: Number) -> float:
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number above 0, got {value!r}")
    return number


def _bounded(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _meld_labs(bilirubin_umol_l, creatinine_umol_l, inr, dialysis, creatinine_cap) -> tuple[float, float, float]:
    """Bilirubin, creatinine (mg/dL) and INR, floored at 1.0, creatinine capped (and set to the cap on dialysis)."""
    bili = max(1.0, _positive("bilirubin_umol_l", bilirubin_umol_l) / BILIRUBIN_UMOL_PER_MG_DL)
    creat = max(1.0, _positive("creatinine_umol_l", creatinine_umol_l) / CREATININE_UMOL_PER_MG_DL)
    creat = creatinine_cap if dialysis else min(creat, creatinine_cap)
    return bili, creat, max(1.0, _positive("inr", inr))


def meld(
    *, bilirubin_umol_l: Number | None, creatinine_umol_l: Number | None, inr: Number | None, dialysis: bool = False
) -> int | None:
    """MELD as UNOS computed it before 2016 (Kamath et al., Hepatology 2001; UNOS/OPTN policy 9).

    MELD(i) = 0.957 ln Cr + 0.378 ln Bili + 1.120 ln INR + 0.643, Cr and Bili in mg/dL; each lab below 1.0 taken
    as 1.0 (so MELD is at least 6); creatinine capped at 4.0 and set to 4.0 on dialysis (twice in the past week,
    or 24 h of CVVHD). MELD(i) rounded half up to the tenth, times 10, at most 40.
    """
    if None in (bilirubin_umol_l, creatinine_umol_l, inr):
        return None
    bili, creat, inr_ = _meld_labs(bilirubin_umol_l, creatinine_umol_l, inr, dialysis, 4.0)
    meld_i = 0.957 * math.log(creat) + 0.378 * math.log(bili) + 1.120 * math.log(inr_) + 0.643
    # Rounded again after x10: 1.3 * 10 is 13.000000000000002 in binary.
    return min(MAX_SCORE, int(round_half_up(round_half_up(meld_i, 1) * 10)))


def meld_na(
    *,
    bilirubin_umol_l: Number | None,
    creatinine_umol_l: Number | None,
    inr: Number | None,
    sodium_mmol_l: Number | None,
    dialysis: bool = False,
) -> int | None:
    """MELD-Na as UNOS adopted it in 2016 (Kim et al., N Engl J Med 2008; OPTN policy 9.1, 2016).

    Sodium bounded to 125-137 mmol/L. Only when MELD (the whole number) > 11:
    MELD + 1.32 (137 - Na) - 0.033 MELD (137 - Na), rounded half up, at most 40; otherwise MELD.
    """
    score = meld(bilirubin_umol_l=bilirubin_umol_l, creatinine_umol_l=creatinine_umol_l, inr=inr, dialysis=dialysis)
    if score is None or sodium_mmol_l is None:
        return None
    sodium_gap = 137 - _bounded(_positive("sodium_mmol_l", sodium_mmol_l), 125.0, 137.0)
    if score <= 11:
        return score
    return min(MAX_SCORE, int(round_half_up(score + 1.32 * sodium_gap - 0.033 * score * sodium_gap)))


def meld_3(
    *,
    bilirubin_umol_l: Number | None,
    creatinine_umol_l: Number | None,
    inr: Number | None,
    sodium_mmol_l: Number | None,
    albumin_g_l: Number | None,
    female: bool | None,
    dialysis: bool = False,
    cap: bool = True,
) -> int | None:
    """MELD 3.0 (Kim et al., Gastroenterology 2021; OPTN policy 9.1, 2023).

    1.33 (if female) + 4.56 ln Bili + 0.82 (137 - Na) - 0.24 (137 - Na) ln Bili + 9.09 ln INR + 11.14 ln Cr
    + 1.85 (3.5 - Alb) - 1.83 (3.5 - Alb) ln Cr + 6, Bili and Cr in mg/dL, Alb in g/dL; labs below 1.0 taken as
    1.0, creatinine capped at 3.0 (set to 3.0 on dialysis), sodium bounded 125-137, albumin 1.5-3.5 g/dL.
    Rounded half up; at most 40 for allocation, or the uncapped whole number with ``cap=False``.
    """
    if None in (bilirubin_umol_l, creatinine_umol_l, inr, sodium_mmol_l, albumin_g_l, female):
        return None
    bili, creat, inr_ = _meld_labs(bilirubin_umol_l, creatinine_umol_l, inr, dialysis, 3.0)
    sodium_gap = 137 - _bounded(_positive("sodium_mmol_l", sodium_mmol_l), 125.0, 137.0)
    albumin_g_dl = _positive("albumin_g_l", albumin_g_l) / ALBUMIN_G_L_PER_G_DL
    albumin_gap = 3.5 - _bounded(albumin_g_dl, 1.5, 3.5)
    score = (
        1.33 * bool(female)
        + 4.56 * math.log(bili)
        + 0.82 * sodium_gap
        - 0.24 * sodium_gap * math.log(bili)
        + 9.09 * math.log(inr_)
        + 11.14 * math.log(creat)
        + 1.85 * albumin_gap
        - 1.83 * albumin_gap * math.log(creat)
        + 6
    )
    rounded = int(round_half_up(score))
    return min(MAX_SCORE, rounded) if cap else rounded


@dataclass(frozen=True)
class ChildPugh:
    """A Child-Pugh result: total points (5-15) and class ("A", "B" or "C")."""

    points: int
    grade: str


ASCITES_POINTS = {"none": 1, "mild": 2, "moderate_severe": 3}
ENCEPHALOPATHY_POINTS = {"none": 1, "grade_1_2": 2, "grade_3_4": 3}


def _category_points(name: str, value: str, points: dict[str, int]) -> int:
    if value not in points:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, points))}, got {value!r}")
    return points[value]


def child_pugh(
    *,
    bilirubin_umol_l: Number | None,
    albumin_g_l: Number | None,
    inr: Number | None,
    ascites: str | None,
    encephalopathy: str | None,
) -> ChildPugh | None:
    """Child-Turcotte-Pugh class (Pugh et al., Br J Surg 1973), INR standing for prothrombin time.

    Points 1/2/3: bilirubin < 34, 34-50, > 50 umol/L; albumin > 35, 28-35, < 28 g/L; INR < 1.7, 1.7-2.3, > 2.3;
    ascites "none" / "mild" / "moderate_severe"; encephalopathy "none" / "grade_1_2" / "grade_3_4".
    Class A 5-6, B 7-9, C 10-15.
    """
    if None in (bilirubin_umol_l, albumin_g_l, inr, ascites, encephalopathy):
        return None
    bili = _positive("bilirubin_umol_l", bilirubin_umol_l)
    albumin = _positive("albumin_g_l", albumin_g_l)
    inr_ = _positive("inr", inr)
    points = (
        (1 if bili < 34 else 2 if bili <= 50 else 3)
        + (1 if albumin > 35 else 2 if albumin >= 28 else 3)
        + (1 if inr_ < 1.7 else 2 if inr_ <= 2.3 else 3)
        + _category_points("ascites", ascites, ASCITES_POINTS)
        + _category_points("encephalopathy", encephalopathy, ENCEPHALOPATHY_POINTS)
    )
    return ChildPugh(points=points, grade="A" if points <= 6 else "B" if points <= 9 else "C")


def encephalopathy_category(west_haven_grade: int | None) -> str | None:
    """The CRF's West Haven grade (0-4) as Child-Pugh's encephalopathy category (Pugh 1973 groups 1-2 and 3-4)."""
    if west_haven_grade is None:
        return None
    if west_haven_grade not in range(5):
        raise ValueError(f"west_haven_grade must be 0, 1, 2, 3 or 4, got {west_haven_grade!r}")
    return "none" if west_haven_grade == 0 else "grade_1_2" if west_haven_grade <= 2 else "grade_3_4"
