"""Liver disease severity scores from one lab draw: MELD, MELD-Na, MELD 3.0 and Child-Pugh.

Pure functions of numbers in the units the CRF stores (bilirubin and creatinine umol/L, albumin g/L, sodium
mmol/L); they convert inside. A score with any required input missing is None, never computed from a default.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

BILIRUBIN_UMOL_PER_MG_DL = 17.1
CREATININE_UMOL_PER_MG_DL = 88.4
MAX_SCORE = 40


def round_half_up(value: float, places: int = 0) -> float:
    """Round half away from zero, as the UNOS/OPTN definitions do (Python's round() goes half to even).

    The value is first taken to 9 decimals so binary noise (12.4999999999 for a 12.5 on paper) does not
    decide the rounding.
    """
    exact = Decimal(repr(value)).quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _positive(name: str, value) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(f"{name} must be above 0 to take its logarithm, got {value!r}")
    return number


def _meld_inputs(bilirubin_umol_l, creatinine_umol_l, inr, dialysis, creatinine_cap):
    bili = max(1.0, _positive("bilirubin_umol_l", bilirubin_umol_l) / BILIRUBIN_UMOL_PER_MG_DL)
    creat = max(1.0, _positive("creatinine_umol_l", creatinine_umol_l) / CREATININE_UMOL_PER_MG_DL)
    creat = creatinine_cap if dialysis else min(creat, creatinine_cap)
    return bili, creat, max(1.0, _positive("inr", inr))


def meld(*, bilirubin_umol_l, creatinine_umol_l, inr, dialysis=False) -> int | None:
    """MELD as UNOS computed it before 2016 (Kamath et al., Hepatology 2001; UNOS policy 9).

    MELD(i) = 0.957 ln Cr + 0.378 ln Bili + 1.120 ln INR + 0.643, labs in mg/dL floored at 1.0, creatinine
    capped at 4.0 and set to 4.0 after dialysis (twice in the past week, or 24 h CVVHD); MELD(i) rounded to the
    tenth, times 10, at most 40.
    """
    if None in (bilirubin_umol_l, creatinine_umol_l, inr):
        return None
    bili, creat, inr_ = _meld_inputs(bilirubin_umol_l, creatinine_umol_l, inr, dialysis, 4.0)
    meld_i = 0.957 * math.log(creat) + 0.378 * math.log(bili) + 1.120 * math.log(inr_) + 0.643
    return min(MAX_SCORE, int(round_half_up(round_half_up(meld_i, 1) * 10)))


def meld_na(*, bilirubin_umol_l, creatinine_umol_l, inr, sodium_mmol_l, dialysis=False) -> int | None:
    """MELD-Na as UNOS adopted it in 2016 (Kim et al., N Engl J Med 2008; OPTN policy 9.1).

    Sodium bounded to 125-137 mmol/L; only when MELD > 11: MELD + 1.32 (137 - Na) - 0.033 MELD (137 - Na),
    rounded half up, at most 40; otherwise MELD.
    """
    score = meld(bilirubin_umol_l=bilirubin_umol_l, creatinine_umol_l=creatinine_umol_l, inr=inr, dialysis=dialysis)
    if score is None or sodium_mmol_l is None:
        return None
    if score <= 11:
        return score
    sodium_gap = 137 - min(137.0, max(125.0, float(sodium_mmol_l)))
    return min(MAX_SCORE, int(round_half_up(score + 1.32 * sodium_gap - 0.033 * score * sodium_gap)))


def meld_3(
    *, bilirubin_umol_l, creatinine_umol_l, inr, sodium_mmol_l, albumin_g_l, female, dialysis=False, cap=True
) -> int | None:
    """MELD 3.0 (Kim et al., Gastroenterology 2021; OPTN policy 9.1, 2023).

    1.33 (female) + 4.56 ln Bili + 0.82 (137 - Na) - 0.24 (137 - Na) ln Bili + 9.09 ln INR + 11.14 ln Cr
    + 1.85 (3.5 - Alb) - 1.83 (3.5 - Alb) ln Cr + 6; labs floored at 1.0, creatinine capped at 3.0 (3.0 after
    dialysis), sodium bounded 125-137, albumin 1.5-3.5 g/dL; rounded half up; at most 40 unless ``cap=False``.
    """
    if None in (bilirubin_umol_l, creatinine_umol_l, inr, sodium_mmol_l, albumin_g_l, female):
        return None
    bili, creat, inr_ = _meld_inputs(bilirubin_umol_l, creatinine_umol_l, inr, dialysis, 3.0)
    sodium_gap = 137 - min(137.0, max(125.0, float(sodium_mmol_l)))
    albumin_gap = 3.5 - min(3.5, max(1.5, _positive("albumin_g_l", albumin_g_l) / 10))
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
    points: int
    grade: str


ASCITES_POINTS = {"none": 1, "mild": 2, "moderate_severe": 3}
ENCEPHALOPATHY_POINTS = {"none": 1, "grade_1_2": 2, "grade_3_4": 3}


def child_pugh(*, bilirubin_umol_l, albumin_g_l, inr, ascites, encephalopathy) -> ChildPugh | None:
    """Child-Turcotte-Pugh class (Pugh et al., Br J Surg 1973), with INR for prothrombin time.

    Points 1/2/3: bilirubin < 34, 34-50, > 50 umol/L; albumin > 35, 28-35, < 28 g/L; INR < 1.7, 1.7-2.3, > 2.3;
    ascites none / mild / moderate-severe; encephalopathy none / grade 1-2 / grade 3-4. A 5-6, B 7-9, C 10-15.
    """
    if None in (bilirubin_umol_l, albumin_g_l, inr, ascites, encephalopathy):
        return None
    if ascites not in ASCITES_POINTS:
        raise ValueError(f"ascites must be one of {', '.join(ASCITES_POINTS)}, got {ascites!r}")
    if encephalopathy not in ENCEPHALOPATHY_POINTS:
        raise ValueError(f"encephalopathy must be one of {', '.join(ENCEPHALOPATHY_POINTS)}, got {encephalopathy!r}")
    bili, albumin, inr_ = float(bilirubin_umol_l), float(albumin_g_l), float(inr)
    points = (
        (1 if bili < 34 else 2 if bili <= 50 else 3)
        + (1 if albumin > 35 else 2 if albumin >= 28 else 3)
        + (1 if inr_ < 1.7 else 2 if inr_ <= 2.3 else 3)
        + ASCITES_POINTS[ascites]
        + ENCEPHALOPATHY_POINTS[encephalopathy]
    )
    return ChildPugh(points=points, grade="A" if points <= 6 else "B" if points <= 9 else "C")


def encephalopathy_category(west_haven_grade: int | None) -> str | None:
    """The CRF's West Haven grade 0-4 as Child-Pugh's category."""
    if west_haven_grade is None:
        return None
    if not 0 <= west_haven_grade <= 4:
        raise ValueError(f"West Haven grade is 0 to 4, got {west_haven_grade!r}")
    return "none" if west_haven_grade == 0 else "grade_1_2" if west_haven_grade <= 2 else "grade_3_4"
