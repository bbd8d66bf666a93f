"""The ``wide`` export: the statistician's first file, one row per allocated subject, and its codebook.

Pure: a function of the study's frames (analysis/datasets.py, StudyData) and its analysis plan (analysis/plan.py);
no Django. Columns, in this order:

- ``subject``, ``site``, ``arm`` (code), ``stratum`` (the randomisation stratum) and ``analysed`` (1/0: allocated,
  neither withdrawn nor lost to follow-up; the plan's ``population`` says whether its analyses keep only these);
- the baseline covariates of the plan's Table 1, as the subjects frame has them (yes/no covariates as 1/0);
- every score (scores frame) and every lab analyte (labs frame) at each visit with a draw: ``meld_w12``,
  ``alb_w24`` (lower-case code, "_", lower-case visit code), scores first, then analytes, each by visit order.
  A subject's first value at the visit (by draw time) is kept; a subject without one has NaN;
- ``os_time`` (in the plan's time unit) and ``os_event`` (1 death, 0 censored), and, when the protocol follows HCC,
  ``hcc_time`` and ``hcc_status`` (0 censored, 1 HCC, 2 death before any HCC: the competing event), as
  analysis/endpoints.py defines them and analysis/report.py converts them.

Every allocated subject has a row (250 in the DLC demo), whatever the plan's population, so the file also serves
the all-randomised sensitivity analysis; ``analysed`` selects the analysed population.
"""

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.endpoints import CENSORED, COMPETING_DEATH, HCC_EVENT, OS_EVENT
from analysis.plan import Plan
from analysis.report import DAYS_PER_UNIT

SCORES = {
    "meld": "MELD",
    "meld_na": "MELD-Na",
    "meld_3": "MELD 3.0",
    "child_pugh_points": "Child-Pugh points",
    "child_pugh_grade": "Child-Pugh class",
}
CHILD_PUGH_GRADES = "A; B; C"
YES_NO = "0 = no; 1 = yes"
OS_CODES = f"{CENSORED} = censored; {OS_EVENT} = death"
HCC_CODES = f"{CENSORED} = censored; {HCC_EVENT} = HCC; {COMPETING_DEATH} = death before HCC (competing event)"
NAMED_UNITS = {"age_years": "years"}
CODEBOOK_COLUMNS = ["variable", "label", "type", "unit", "allowed_values"]
TRAILING_UNIT = re.compile(r"\s*\([^()]*\)$")  # "Albumin (g/L)" -> "Albumin"


@dataclass(frozen=True)
class About:
    """What the codebook says of one column (its type is read from the data)."""

    label: str
    unit: str | None = None
    allowed_values: str | None = None


def wide(data, plan: Plan, *, endpoints=(), analytes=None) -> pd.DataFrame:
    """One row per allocated subject of ``data`` (analysis.datasets.StudyData), sorted by subject code.

    ``endpoints`` are the protocol's endpoint codes beyond death ("hcc" adds ``hcc_time`` and ``hcc_status``);
    ``analytes`` the lab codes given per visit, in that order (None: every analyte of the labs frame).
    """
    return _build(data, plan, endpoints, analytes)[0]


def codebook(data, plan: Plan, *, endpoints=(), analytes=None) -> pd.DataFrame:
    """The codebook of ``wide(data, plan, ...)``: a row per column in the file's order, with variable, label, type
    ("text", "integer" or "number"), unit and allowed values ("code = label; ...", or the values found)."""
    frame, about = _build(data, plan, endpoints, analytes)
    rows = [
        [column, about[column].label, _type(frame[column]), about[column].unit, about[column].allowed_values]
        for column in frame.columns
    ]
    return pd.DataFrame(rows, columns=CODEBOOK_COLUMNS)


def _build(data, plan: Plan, endpoints, analytes) -> tuple[pd.DataFrame, dict[str, About]]:
    subjects = data.subjects[data.subjects["allocated"].astype(bool)].sort_values("subject_id")
    units = _lab_units(data.labs)
    frame, about = _keys(subjects)
    for row in plan.table_one:
        if row.column in frame.columns:
            continue
        values = subjects[row.column] if row.column in subjects.columns else pd.Series(float("nan"), subjects.index)
        frame[row.column] = _yes_no(values).array
        about[row.column] = _covariate(row, frame[row.column], units)
    frame = frame.set_index("subject")
    for part, described in (_scores_by_visit(data.scores), _labs_by_visit(data.labs, plan, analytes, units)):
        frame = frame.join(part)
        about.update(described)
    times, described = _times(data.time_to_event, plan.time_unit, hcc="hcc" in endpoints)
    about.update(described)
    return frame.join(times).reset_index(), about


def _keys(subjects: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, About]]:
    frame = pd.DataFrame(
        {
            "subject": subjects["subject_id"].to_numpy(),
            "site": subjects["site"].to_numpy(),
            "arm": subjects["arm"].to_numpy(),
            "stratum": subjects["stratum"].to_numpy(),
            "analysed": subjects["analysed"].astype(int).to_numpy(),
        }
    )
    arms = subjects.drop_duplicates("arm").sort_values("arm")
    about = {
        "subject": About("Subject code"),
        "site": About("Site", allowed_values=_found(frame["site"])),
        "arm": About("Allocated arm", allowed_values="; ".join(f"{a.arm} = {a.arm_label}" for a in arms.itertuples())),
        "stratum": About("Randomisation stratum", allowed_values=_found(frame["stratum"])),
        "analysed": About("Analysed: allocated, neither withdrawn nor lost to follow-up", allowed_values=YES_NO),
    }
    return frame, about


def _yes_no(values: pd.Series) -> pd.Series:
    """A yes/no column (True/False, None where unknown) as 1/0 with <NA>; any other column unchanged."""
    known = values.dropna()
    if known.empty or not known.map(lambda value: isinstance(value, bool | np.bool_)).all():
        return values
    return values.map(lambda value: None if pd.isna(value) else int(value)).astype("Int64")


def _covariate(row, values: pd.Series, units: dict[str, str]) -> About:
    analyte = row.column.removeprefix("baseline_")
    unit = units.get(analyte) if row.column.startswith("baseline_") else NAMED_UNITS.get(row.column)
    if str(values.dtype) == "Int64":
        allowed = YES_NO
    elif row.kind == "categorical" and row.levels:
        allowed = "; ".join(row.levels)
    elif row.kind != "continuous":
        allowed = _found(values)
    else:
        allowed = None
    if row.level is not None:  # a text column of which Table 1 counts one level ("sex", counting "male")
        return About(f"Baseline: {row.column} (Table 1 counts {row.level}: {row.label})", unit, allowed)
    return About(f"Baseline: {row.label}", unit, allowed)


def _scores_by_visit(scores: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, About]]:
    first = _first_per_visit(scores)
    visits = _visit_order(scores)
    columns, about = {}, {}
    for score, label in SCORES.items():
        for visit in visits:
            if (score, visit) in first.columns:
                name = _name(score, visit)
                columns[name] = first[(score, visit)]
                allowed = CHILD_PUGH_GRADES if score == "child_pugh_grade" else None
                about[name] = About(f"{label} at {visit}", allowed_values=allowed)
    return pd.DataFrame(columns, index=first.index), about


def _labs_by_visit(labs, plan: Plan, analytes, units) -> tuple[pd.DataFrame, dict[str, About]]:
    codes = list(dict.fromkeys(labs["analyte"])) if analytes is None else list(analytes)
    chosen = labs[labs["analyte"].isin(codes)].sort_values("drawn_at", kind="stable")
    if chosen.empty:
        return pd.DataFrame(index=pd.Index([], name="subject")), {}
    first = chosen.groupby(["subject_id", "analyte", "visit_code"])["value"].first()
    first = first.unstack(["analyte", "visit_code"]).rename_axis(index="subject")
    visits = _visit_order(chosen)
    columns, about = {}, {}
    for code in codes:
        label = TRAILING_UNIT.sub("", plan.label(f"baseline_{code}")).removeprefix("baseline_")
        for visit in visits:
            if (code, visit) in first.columns and first[(code, visit)].notna().any():
                name = _name(code, visit)
                columns[name] = first[(code, visit)].astype(float)
                about[name] = About(f"{label} at {visit}", units.get(code))
    return pd.DataFrame(columns, index=first.index), about


def _first_per_visit(scores: pd.DataFrame) -> pd.DataFrame:
    """Per subject (rows) and (score, visit) (columns): the first non-missing score of the visit by draw day."""
    if scores.empty:
        return pd.DataFrame(index=pd.Index([], name="subject"))
    ordered = scores.sort_values("drawn_on", kind="stable")
    first = ordered.groupby(["subject_id", "visit_code"])[list(SCORES)].first().unstack("visit_code")
    return first.rename_axis(index="subject")


def _visit_order(frame: pd.DataFrame) -> list[str]:
    return list(frame.sort_values("visit_order", kind="stable")["visit_code"].drop_duplicates())


def _name(code: str, visit: str) -> str:
    return f"{code.lower()}_{visit.lower()}"


def _lab_units(labs: pd.DataFrame) -> dict[str, str]:
    return dict(zip(labs["analyte"], labs["unit"], strict=True)) if "unit" in labs.columns else {}


def _times(time_to_event: pd.DataFrame, unit: str, *, hcc: bool) -> tuple[pd.DataFrame, dict[str, About]]:
    """Overall survival (and HCC with death competing) in the plan's unit, keyed by subject code."""
    frame = time_to_event.set_index("subject_id").rename_axis("subject")
    times = pd.DataFrame(
        {"os_time": frame["os_days"] / DAYS_PER_UNIT[unit], "os_event": frame["os_event"].astype(int)},
        index=frame.index,
    )
    about = {
        "os_time": About("Overall survival: time from the time origin to death or censoring", unit),
        "os_event": About("Overall survival: death", allowed_values=OS_CODES),
    }
    if hcc:
        times["hcc_time"] = frame["hcc_days"] / DAYS_PER_UNIT[unit]
        times["hcc_status"] = frame["hcc_event"].astype(int)
        about["hcc_time"] = About("HCC: time from the time origin to HCC, death or censoring", unit)
        about["hcc_status"] = About("HCC, with death before HCC as the competing event", allowed_values=HCC_CODES)
    return times, about


def _found(values: pd.Series) -> str:
    """The values a text column holds, sorted: its allowed values when the protocol gives no list."""
    return "; ".join(sorted(str(value) for value in values.dropna().unique()))


def _type(values: pd.Series) -> str:
    if pd.api.types.is_integer_dtype(values):
        return "integer"
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "number"
    return "text"
