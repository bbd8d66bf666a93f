"""De-identification of the form tables (``--deidentify``): pure, row by row, driven by the codebook.

Every column of a form is treated by what the codebook says it is:

- ``subject_code``: replaced by the subject's pseudonym;
- a date or datetime: moved by the subject's own offset in days (the same in every export, so intervals within a
  subject, and the same subject across exports, are kept; calendar dates are not);
- free text (type ``text`` with no coded values), except the codes in ``KEPT_TEXT``: dropped, column and all;
- ``age_years``: top-coded at ``AGE_TOP`` ("90 or over"), as HIPAA's Safe Harbor asks for ages above 89.

The codebook of a de-identified export lists the same treatment in each variable's description.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

AGE_TOP = 90
# Text columns that are codes or versions rather than free text: kept (subject_code becomes the pseudonym).
KEPT_TEXT = frozenset(
    {
        "subject_code",
        "site_code",
        "protocol_version",
        "consent_version",
        "visit_code",
        "criterion_code",
        "arm_code",
        "panel_code",
        "analyte_code",
        "unit",
        "stratum",
        "randomisation_code",
        "product_lot",
    }
)
NOTES = {
    "pseudonym": "De-identified: the subject's pseudonym replaces the subject code (stable across exports).",
    "shift": "De-identified: moved by the subject's own offset in days; intervals are kept, calendar dates are not.",
    "top_code": f"De-identified: ages above {AGE_TOP - 1} are written as {AGE_TOP} ({AGE_TOP} or over).",
}
SUMMARY = (
    "Every date of a subject moved by one secret per-subject offset (intervals kept), free-text columns dropped, "
    f"subject codes replaced by stable pseudonyms, ages above {AGE_TOP - 1} top-coded at {AGE_TOP}."
)


@dataclass(frozen=True)
class Subject:
    pseudonym: str
    shift_days: int


def treatment(variable: str, kind: str, allowed_values: str) -> str:
    """What de-identification does to a column: ``pseudonym``, ``shift``, ``top_code``, ``drop`` or ``keep``."""
    if variable == "subject_code":
        return "pseudonym"
    if kind.startswith(("date", "datetime")):
        return "shift"
    if variable == "age_years":
        return "top_code"
    if kind == "text" and not allowed_values and variable not in KEPT_TEXT:
        return "drop"
    return "keep"


def plan(codebook_rows: Iterable[Sequence], columns: Sequence[str]) -> dict[str, dict[str, str]]:
    """Each form's treatment of each column, from codebook rows laid out as ``columns``."""
    at = {name: columns.index(name) for name in ("variable", "type", "allowed_values", "form")}
    plans: dict[str, dict[str, str]] = {}
    for row in codebook_rows:
        plans.setdefault(row[at["form"]], {})[row[at["variable"]]] = treatment(
            row[at["variable"]], row[at["type"]], row[at["allowed_values"]]
        )
    return plans


def codebook(codebook_rows: Iterable[Sequence], columns: Sequence[str]) -> list[list]:
    """The codebook of the de-identified export: dropped columns left out, the others' treatment noted."""
    at = {name: columns.index(name) for name in ("variable", "type", "allowed_values", "description")}
    kept = []
    for row in codebook_rows:
        done = treatment(row[at["variable"]], row[at["type"]], row[at["allowed_values"]])
        if done == "drop":
            continue
        row = list(row)
        if done in NOTES:
            row[at["description"]] = " ".join(filter(None, [row[at["description"]], NOTES[done]]))
        kept.append(row)
    return kept


def _shift(value, days: int):
    if isinstance(value, datetime | date):
        return value + timedelta(days=days)
    return value


def columns(form_columns: Sequence[str], form_plan: Mapping[str, str]) -> list[str]:
    return [name for name in form_columns if form_plan.get(name, "keep") != "drop"]


def rows(
    form_columns: Sequence[str],
    form_plan: Mapping[str, str],
    source: Iterable[Sequence],
    subjects: Mapping[str, Subject],
) -> Iterable[tuple]:
    """``source``'s rows de-identified by ``form_plan``; each row's subject is found by its ``subject_code``."""
    code_at = form_columns.index("subject_code")
    steps = [(i, form_plan.get(name, "keep")) for i, name in enumerate(form_columns)]
    steps = [(i, step) for i, step in steps if step != "drop"]
    for row in source:
        subject = subjects[row[code_at]]
        out = []
        for i, step in steps:
            value = row[i]
            if step == "pseudonym":
                value = subject.pseudonym
            elif step == "shift":
                value = _shift(value, subject.shift_days)
            elif step == "top_code" and value is not None:
                value = min(value, AGE_TOP)
            out.append(value)
        yield tuple(out)


# Free text in the analysis frames (analysis/datasets.py): emptied, as the form tables' free-text columns are dropped.
FRAME_FREE_TEXT = ("screen_failure_reason", "term")


def frame(table, subjects: Mapping[str, Subject]):
    """An analysis frame (pandas, with ``subject_id``) de-identified as the form tables are: pseudonyms, every date
    and datetime moved by its subject's offset (intervals, and so every time to event, unchanged), free text
    emptied, ages top-coded."""
    out = table.copy()
    if "subject_id" not in out.columns:
        return out
    shift = pd.to_timedelta(out["subject_id"].map(lambda code: subjects[code].shift_days), unit="D")
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column] + shift
    for column in FRAME_FREE_TEXT:
        if column in out.columns:
            out[column] = None
    if "age_years" in out.columns:
        out["age_years"] = out["age_years"].clip(upper=AGE_TOP)
    out["subject_id"] = out["subject_id"].map(lambda code: subjects[code].pseudonym)
    return out
