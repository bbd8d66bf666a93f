"""A study's statistical analysis plan (SAP): which arm is the reference, which population, which tests, which
landmarks, which Table 1 rows. Data, not code: one TOML file per study under analysis/plans/, validated here
(pydantic names every problem by path), so a third trial gets its analysis from a file, as it gets its protocol.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, field_validator

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


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    study: str
    version: str | None = Field(default=None, min_length=1, max_length=20)  # None: the default plan, from no file
    time_unit: Literal["days", "weeks", "months"] = "months"
    reference_arm: str | None = None  # arm code; None: the control arm (hazard ratios of treatment over control)
    population: Literal["allocated", "analysed"] = "allocated"
    adjust_for: list[str] = []
    survival_landmarks: list[PositiveFloat] = []
    hcc_landmarks: list[PositiveFloat] = []
    report_times: list[float] = []
    continuous_summary: Literal["mean_sd", "median_range", "median_iqr"] = "mean_sd"
    between_arms: list[Literal["t", "welch", "mann_whitney"]] = ["t"]
    within_arm: list[Literal["paired_t", "wilcoxon"]] = ["paired_t"]
    longitudinal: list[str] = ["MELD"]
    baseline_visit: str = "W0"
    table_one: list[Row] = []

    @field_validator("survival_landmarks", "hcc_landmarks")
    @classmethod
    def _increasing(cls, landmarks: list[float]) -> list[float]:
        if any(later <= earlier for earlier, later in zip(landmarks, landmarks[1:], strict=False)):
            raise ValueError("landmarks must increase: each window ends where the next begins")
        return landmarks


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
