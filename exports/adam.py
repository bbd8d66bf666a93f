"""The ``adam`` export's datasets: CDISC ADaM ADSL (a row per allocated subject) and ADTTE (a row per subject and
time-to-event parameter), with their variable labels. Pure: a function of the study's frames
(analysis/datasets.py, StudyData) and its analysis plan (analysis/plan.py); no Django.

Built from the frames the dashboards and the ``wide`` export read, so every number agrees with them:

- ADSL: identifiers (USUBJID is STUDYID-SITEID-subject, the study and site said once when the subject code
  already begins with them), age, sex, arm and treatment, RANDDT (the allocation
  date, whether randomised or assigned), TRTSDT (first infusion), the population flags, the randomisation
  stratum (STRATAR, and each of its factors as STRATnR), death, end-of-study status and the plan's Table 1
  covariates at baseline (``baseline_ALB`` is ALBBL; yes/no covariates are ``...FL`` flags, Y/N).
- ADTTE: PARAMCD OS and, when the protocol follows HCC, HCC, each as analysis/endpoints.py defines it
  (exports/adtte.py).

Population flags: ITTFL Y for every allocated subject (the plan's population "allocated"); FASFL Y for the
allocated who neither withdrew nor were lost (the plan's population "analysed"); SAFFL Y for those who received
their arm's treatment: at least one infusion, or allocated to an arm without infusions. DTHFL follows the ADaMIG:
Y or empty.
"""

import re
from dataclasses import dataclass

import pandas as pd

from exports import csv_bundle, xpt

MAX_NAME, MAX_LABEL = 8, 40  # SAS transport version 5 (and the ADaMIG's own limits)
SEX = {"male": "M", "female": "F"}
YES_NO = "Y = yes; N = no"
END_OF_STUDY = {"completed": "COMPLETED", "withdrawn": "DISCONTINUED", "lost_to_follow_up": "DISCONTINUED"}
END_OF_STUDY |= {"died": "DISCONTINUED"}
DISCONTINUATION = {"withdrawn": "WITHDRAWAL BY SUBJECT", "lost_to_follow_up": "LOST TO FOLLOW-UP", "died": "DEATH"}
REASONS = "; ".join(DISCONTINUATION.values())
# Covariates of the subjects frame (analysis/datasets.py) with their ADaM names; others are named by _adam_name.
BASELINE = {
    "baseline_meld": ("MELDBL", "Baseline MELD"),
    "meld_above_15": ("MELD15FL", "Baseline MELD > 15 Flag"),
    "child_pugh_grade": ("CPGRBL", "Baseline Child-Pugh Class"),
    "ascites": ("ASCITBFL", "Baseline Ascites Flag"),
    "hbeag_positive": ("HBEAGBFL", "Baseline HBeAg Positive Flag"),
}
KEYS = ("age_years", "sex")  # Table 1 rows ADSL already holds as AGE and SEX


@dataclass(frozen=True)
class Variable:
    """One column of a dataset as its codebook and the XPT file describe it."""

    name: str
    label: str
    unit: str | None = None
    allowed_values: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A dataset (``name`` and ``label`` as SAS holds them), its rows and its variables in column order."""

    name: str
    label: str
    frame: pd.DataFrame
    variables: tuple[Variable, ...]


def adsl(data, plan, *, study: str, treated_arms=()) -> Dataset:
    """ADSL of ``data`` (analysis.datasets.StudyData): a row per allocated subject, sorted by subject code.

    ``study`` is the study code (STUDYID); ``treated_arms`` the codes of arms whose protocol gives infusions
    (product or placebo): a subject of one of them is in the safety population once infused.
    """
    subjects = data.subjects[data.subjects["allocated"].astype(bool)].sort_values("subject_id")
    infused = subjects["first_infusion_date"].notna() | ~subjects["arm"].isin(list(treated_arms))
    columns = {
        "STUDYID": [study] * len(subjects),
        "USUBJID": [
            usubjid(study, site, code) for site, code in zip(subjects["site"], subjects["subject_id"], strict=True)
        ],
        "SUBJID": subjects["subject_id"].tolist(),
        "SITEID": subjects["site"].tolist(),
        "AGE": subjects["age_years"].astype(float).tolist(),
        "AGEU": ["YEARS"] * len(subjects),
        "SEX": subjects["sex"].map(lambda sex: SEX.get(sex, "U")).tolist(),
        "ARM": subjects["arm_label"].tolist(),
        "ARMCD": subjects["arm"].tolist(),
        "TRT01P": subjects["arm_label"].tolist(),
        "TRT01A": subjects["arm_label"].where(infused, None).tolist(),
        "RANDDT": _dates(subjects["allocation_date"]),
        "TRTSDT": _dates(subjects["first_infusion_date"]),
        "ITTFL": ["Y"] * len(subjects),
        "FASFL": _flag(subjects["analysed"]),
        "SAFFL": _flag(infused),
        "STRATAR": [stratum or None for stratum in subjects["stratum"]],
        "DTHFL": subjects["death_date"].notna().map({True: "Y", False: None}).tolist(),
        "DTHDT": _dates(subjects["death_date"]),
        "EOSSTT": subjects["status"].map(lambda status: END_OF_STUDY.get(status, "ONGOING")).tolist(),
        "DCSREAS": subjects["status"].map(DISCONTINUATION).tolist(),
    }
    variables = _adsl_variables(subjects)
    factors, described = _strata(subjects["stratum"])
    columns |= factors
    variables += described
    baseline, described = _baseline(subjects, plan, _lab_units(data.labs))
    columns |= baseline
    variables += described
    return Dataset("ADSL", "Subject-Level Analysis Dataset", tidy(pd.DataFrame(columns)), tuple(variables))


def usubjid(study: str, site: str, subject: str) -> str:
    """STUDYID-SITEID-SUBJID, without repeating the study or site a subject code already begins with."""
    for prefix in (f"{study}-{site}-", f"{site}-"):
        if subject.startswith(prefix):
            return f"{study}-{site}-{subject.removeprefix(prefix)}"
    return f"{study}-{site}-{subject}"


def _adsl_variables(subjects: pd.DataFrame) -> list[Variable]:
    arms = subjects.drop_duplicates("arm").sort_values("arm")
    arm_codes = "; ".join(f"{arm.arm} = {arm.arm_label}" for arm in arms.itertuples())
    return [
        Variable("STUDYID", "Study Identifier"),
        Variable("USUBJID", "Unique Subject Identifier", description="STUDYID-SITEID-subject number"),
        Variable("SUBJID", "Subject Identifier for the Study", description="The eCRF's subject code"),
        Variable("SITEID", "Study Site Identifier"),
        Variable("AGE", "Age", unit="years"),
        Variable("AGEU", "Age Units", allowed_values="YEARS"),
        Variable("SEX", "Sex", allowed_values="M = male; F = female; U = unknown"),
        Variable("ARM", "Description of Planned Arm"),
        Variable("ARMCD", "Planned Arm Code", allowed_values=arm_codes),
        Variable("TRT01P", "Planned Treatment for Period 01"),
        Variable("TRT01A", "Actual Treatment for Period 01", description="Empty when the arm's infusions never began"),
        Variable("RANDDT", "Date of Randomization", description="Allocation date (randomised or assigned)"),
        Variable("TRTSDT", "Date of First Exposure to Treatment", description="Day of the first infusion"),
        Variable("ITTFL", "Intent-To-Treat Population Flag", allowed_values=YES_NO, description="Allocated"),
        Variable(
            "FASFL",
            "Full Analysis Set Population Flag",
            allowed_values=YES_NO,
            description="Allocated, neither withdrawn nor lost to follow-up (the plan's population 'analysed')",
        ),
        Variable(
            "SAFFL",
            "Safety Population Flag",
            allowed_values=YES_NO,
            description="Infused at least once, or allocated to an arm without infusions",
        ),
        Variable("STRATAR", "Randomization Stratum", description="As recorded at allocation: factor:level|..."),
        Variable("DTHFL", "Subject Death Flag", allowed_values="Y = died; empty = no death recorded"),
        Variable("DTHDT", "Date of Death"),
        Variable("EOSSTT", "End of Study Status", allowed_values="COMPLETED; DISCONTINUED; ONGOING"),
        Variable(
            "DCSREAS", "Reason for Discontinuation from Study", allowed_values="; ".join(DISCONTINUATION.values())
        ),
    ]


def _strata(strata: pd.Series) -> tuple[dict[str, list], list[Variable]]:
    """Each factor of the stratum (``meld:gt15|site:S1``) as STRATnR, in the order the strata name them."""
    parts = [dict(part.partition(":")[::2] for part in (value or "").split("|") if part) for value in strata]
    factors = list(dict.fromkeys(code for stratum in parts for code in stratum))
    columns, variables = {}, []
    for number, code in enumerate(factors, start=1):
        name = f"STRAT{number}R"
        columns[name] = [stratum.get(code) for stratum in parts]
        label = _fit(f"Strat Factor {code} as Randomized")
        variables.append(Variable(name, label, allowed_values=_found(columns[name])))
    return columns, variables


def _lab_units(labs: pd.DataFrame) -> dict[str, str]:
    return dict(zip(labs["analyte"], labs["unit"], strict=True)) if "unit" in labs.columns else {}


def _baseline(subjects: pd.DataFrame, plan, units: dict[str, str]) -> tuple[dict[str, list], list[Variable]]:
    """The plan's Table 1 covariates and the baseline scores, under their ADaM names."""
    wanted = [row.column for row in plan.table_one if row.column not in KEYS] + list(BASELINE)
    columns, variables = {}, []
    for column in dict.fromkeys(wanted):
        if column not in subjects.columns:
            continue
        values = subjects[column]
        known = values.dropna()
        is_flag = not known.empty and known.map(lambda value: isinstance(value, bool)).all()
        name, label = BASELINE.get(column) or (_adam_name(column, flag=is_flag), _label(column, plan))
        if is_flag:
            columns[name] = values.map(lambda value: None if pd.isna(value) else ("Y" if value else "N")).tolist()
            variables.append(Variable(name, label, allowed_values=YES_NO, description=f"Subjects frame: {column}"))
        else:
            columns[name] = values.tolist()
            unit = units.get(column.removeprefix("baseline_")) if column.startswith("baseline_") else None
            variables.append(Variable(name, label, unit=unit, description=f"Subjects frame: {column}"))
    return columns, variables


def _adam_name(column: str, *, flag: bool) -> str:
    """``baseline_ALB`` -> ALBBL; another column upper-cased, letters and digits only, with FL for a yes/no."""
    stem = column.removeprefix("baseline_") if column.startswith("baseline_") else column
    stem = re.sub(r"[^A-Z0-9]", "", stem.upper())
    suffix = "BFL" if flag else ("BL" if column.startswith("baseline_") else "")
    return stem[: MAX_NAME - len(suffix)] + suffix


def _label(column: str, plan) -> str:
    return _fit(f"Baseline {plan.label(column)}")


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Text and date columns with None where unknown (never NaN); numbers as integers or as floats with NaN."""
    frame = frame.reset_index(drop=True)
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        elif not pd.api.types.is_integer_dtype(frame[column]):
            frame[column] = frame[column].astype(float)
    return frame


def _fit(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "."


def _flag(values: pd.Series) -> list[str]:
    return ["Y" if value else "N" for value in values.astype(bool)]


def _dates(values: pd.Series) -> list:
    """Dates as ``datetime.date`` (None where unknown): ISO 8601 in CSV, SAS dates (DATE9.) in XPT."""
    return [None if pd.isna(value) else pd.Timestamp(value).date() for value in values]


def _found(values) -> str:
    return "; ".join(sorted({str(value) for value in values if value is not None}))


def codebook(datasets) -> pd.DataFrame:
    """One row per variable of every dataset, in file order: dataset, variable, label, type, unit, allowed
    values and description; the type ("text", "number" or "date") is read from the data."""
    rows = [
        [dataset.name, v.name, v.label, _type(dataset.frame[v.name]), v.unit, v.allowed_values, v.description]
        for dataset in datasets
        for v in dataset.variables
    ]
    columns = ["dataset", "variable", "label", "type", "unit", "allowed_values", "description"]
    return pd.DataFrame(rows, columns=columns)


def _type(values: pd.Series) -> str:
    known = values.dropna()
    if not known.empty and known.map(lambda value: hasattr(value, "isoformat")).all():
        return "date"
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "number"
    return "text"


def write(target, datasets, *, header: dict) -> dict:
    """The ``adam`` zip: each dataset as ``<name>.csv`` and ``<name>.xpt`` (SAS transport v5, labelled), the
    codebook as CSV and HTML and the manifest (csv_bundle.py's shape: each file with its rows and SHA-256)."""
    datasets = list(datasets)
    book = codebook(datasets)
    return csv_bundle.write_bundle(
        target,
        tables=[csv_bundle.Table(d.name.lower(), list(d.frame.columns), _rows(d.frame)) for d in datasets],
        codebook=csv_bundle.Table("codebook", list(book.columns), _rows(book)),
        header=header,
        binaries=((f"{d.name.lower()}.xpt", _xpt(d), len(d.frame)) for d in datasets),
    )


def _rows(frame: pd.DataFrame):
    return (tuple(None if _missing(value) else value for value in row) for row in frame.itertuples(index=False))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _xpt(dataset: Dataset) -> bytes:
    labels = {variable.name: variable.label for variable in dataset.variables}
    return xpt.xpt_bytes(dataset.frame, name=dataset.name, label=dataset.label, labels=labels)
