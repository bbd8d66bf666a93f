"""A study's statistical analysis plan (SAP): which arm is the reference, which population, which tests, which
landmarks, which Table 1 rows. Data, not code: one TOML file per study under analysis/plans/, validated here
(pydantic names every problem by path), so a third trial gets its analysis from a file, as it gets its protocol.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, field_validator, model_validator

PLANS = Path(__file__).resolve().parent / "plans"


class Row(BaseModel):
    """One Table 1 row: a column of the subjects frame (analysis/datasets.py)."""

    model_config = ConfigDict(extra="forbid")
    column: str
    label: str
    kind: Literal["continuous", "binary", "categorical"] = "continuous"
    summary: Literal["mean_sd", "median_range", "median_iqr"] | None = None  # None: the plan's default
    decimals: int = Field(default=1, ge=0, le=4)
    level: str | None = None  # for binary rows on a text column: the level counted ("male")
    levels: list[str] | None = None  # for categorical rows: the order shown


# The AE form's relatedness codes (ecrf/models/events.py, Relatedness); a test keeps the two lists equal.
Relatedness = Literal["not_related", "unlikely", "possible", "probable", "definite"]


class Safety(BaseModel):
    """Which adverse events the safety table counts as related, and as infusion reactions: a related event with
    onset 0 to ``infusion_reaction_hours`` after the latest infusion before it (an unrelated death within a day of
    a saline infusion is not an infusion reaction)."""

    model_config = ConfigDict(extra="forbid")
    related: list[Relatedness] = Field(default=["possible", "probable", "definite"], min_length=1)
    infusion_reaction_hours: PositiveFloat = 24


class Level(BaseModel):
    """One level of a subgroup variable: the value in the column and how it reads; a bare value is its own label."""

    model_config = ConfigDict(extra="forbid")
    value: bool | str
    label: str

    @model_validator(mode="before")
    @classmethod
    def _bare_value(cls, data):
        return data if isinstance(data, dict) else {"value": data, "label": str(data)}


class Subgroup(BaseModel):
    """A subgroup of the forest plot: a column of the subjects frame, its label, and the order of its levels."""

    model_config = ConfigDict(extra="forbid")
    column: str
    label: str
    levels: list[Level] | None = None  # None: the levels found in the data, sorted

    @field_validator("levels")
    @classmethod
    def _distinct(cls, levels: list[Level] | None) -> list[Level] | None:
        values = [level.value for level in levels or []]
        if len(set(values)) != len(values):
            raise ValueError("each level is listed once")
        return levels


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    study: str
    version: str | None = Field(default=None, min_length=1, max_length=20)  # None: the default plan, from no file
    time_unit: Literal["days", "weeks", "months"] = "months"
    reference_arm: str | None = None  # arm code; None: the control arm (hazard ratios of treatment over control)
    population: Literal["allocated", "analysed"] = "allocated"
    adjust_for: list[str] = []  # covariates of the adjusted Cox model (a hazard ratio each)
    strata: list[str] = []  # columns the stratified Cox model stratifies by (a baseline hazard per stratum)
    survival_landmarks: list[PositiveFloat] = []
    hcc_landmarks: list[PositiveFloat] = []
    report_times: list[float] = []
    continuous_summary: Literal["mean_sd", "median_range", "median_iqr"] = "mean_sd"
    between_arms: list[Literal["t", "welch", "mann_whitney"]] = ["t"]
    within_arm: list[Literal["paired_t", "wilcoxon"]] = ["paired_t"]
    longitudinal: list[str] = ["MELD"]
    baseline_visit: str = "W0"
    table_one: list[Row] = []
    # CONSORT 2010 (explanation of item 15) advises against testing baseline differences in randomised trials.
    table_one_p_values: bool = True
    safety: Safety = Safety()
    subgroups: list[Subgroup] = []

    @field_validator("survival_landmarks", "hcc_landmarks")
    @classmethod
    def _increasing(cls, landmarks: list[float]) -> list[float]:
        if any(later <= earlier for earlier, later in zip(landmarks, landmarks[1:], strict=False)):
            raise ValueError("landmarks must increase: each window ends where the next begins")
        return landmarks

    def label(self, term: str) -> str:
        """A column's or model term's label from the plan's Table 1 ("meld_above_15" is "MELD > 15"; an indicator
        "child_pugh_grade_C" is "Child-Pugh class: C"); the term itself when Table 1 does not name it."""
        for row in sorted(self.table_one, key=lambda row: -len(row.column)):
            if term == row.column:
                return row.label
            if term.startswith(f"{row.column}_"):
                return f"{row.label}: {term[len(row.column) + 1 :]}"
        return term


def plan_for(study_code: str) -> Plan:
    """The study's plan from analysis/plans/<code>.toml, or the default plan when the study has none."""
    path = PLANS / f"{study_code.lower()}.toml"
    if not path.exists():
        return Plan(study=study_code)
    plan = Plan.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    if plan.study != study_code:
        raise ValueError(f"{path.name} is the plan of {plan.study}, not of {study_code}")
    return plan


@dataclass(frozen=True)
class Arms:
    """The two arms compared: ``group`` over ``reference`` in every hazard ratio."""

    group: str
    reference: str


def choose_arms(arms: list[dict], plan: Plan) -> Arms:
    """``arms`` as [{code, label, is_control}]; the plan's reference arm, else the control arm."""
    if len(arms) != 2:
        raise ValueError(f"the report compares two arms; this protocol has {len(arms)}")
    if plan.reference_arm is not None:
        reference = next((arm for arm in arms if arm["code"] == plan.reference_arm), None)
        if reference is None:
            raise ValueError(f"the plan's reference arm {plan.reference_arm} is not an arm of the protocol")
    else:
        reference = next((arm for arm in arms if arm["is_control"]), arms[1])
    group = next(arm for arm in arms if arm is not reference)
    return Arms(group=group["label"], reference=reference["label"])
