"""The shape of a protocol file, validated before anything touches the database.

Protocol files are TOML (stdlib ``tomllib``): comments for the protocol's wording and sources, native dates,
and none of YAML's implicit typing ("NO" read as false, "1.10" as a float). pydantic checks every field and
names the path of each problem (``visits[3].window_after: ...``). No Django here: the schema is pure data.
"""

import math
import tomllib
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ecrf.code_patterns import pattern_problem

Code = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
DAYS_PER_MONTH = 365.25 / 12

# The CRF forms a visit can ask for; each is a screen in data entry and a model in ecrf.models.
FORMS = (
    "visit",
    "vitals",
    "eligibility",
    "consent",
    "clinical_status",
    "labs",
    "infusion",
    "adverse_events",
    "concomitant_medication",
    "endpoints",
)
ANCHORS = ("consent", "allocation", "first_infusion")
# Analyte codes each score reads from a lab draw (the standard codes every protocol file uses for them).
SCORE_INPUTS = {
    "meld": {"TBIL", "CREA", "INR"},
    "meld_na": {"TBIL", "CREA", "INR", "NA"},
    "meld_3": {"TBIL", "CREA", "INR", "NA", "ALB"},
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Duration(Strict):
    """A time span written the way protocols write it: exactly one of days, weeks or months."""

    days: int | None = Field(default=None, ge=0)
    weeks: int | None = Field(default=None, ge=0)
    months: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def exactly_one_unit(self):
        given = [unit for unit in ("days", "weeks", "months") if getattr(self, unit) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of days, weeks or months")
        return self

    def in_days(self) -> int:
        """Whole days; a month is 365.25/12 days, rounded to the nearest day."""
        if self.days is not None:
            return self.days
        if self.weeks is not None:
            return self.weeks * 7
        return math.floor(self.months * DAYS_PER_MONTH + 0.5)

    def label(self) -> str:
        unit = next(u for u in ("days", "weeks", "months") if getattr(self, u) is not None)
        return f"{getattr(self, unit)} {unit}"


class StudySection(Strict):
    code: Code
    title: Text
    registry_number: Annotated[str, Field(pattern=r"^NCT\d{8}$")]
    version: Annotated[str, Field(min_length=1, max_length=20)]
    effective_date: date
    phase: str = ""
    design: Literal["randomised", "non_random"]
    blinding: Literal["open_label", "single_blind", "double_blind"] = "open_label"
    # Arm-level dashboard panels hidden from all but data managers; unset: hidden unless the trial is open label.
    blinded: bool | None = None
    # Subjects the trial plans to allocate, drawn as the target line of the enrolment figure.
    target_enrolment: int | None = Field(default=None, ge=1, le=1_000_000)
    # Roles besides data managers whom the protocol lets export the datasets of every site (issue 16); none by default.
    export_roles: list[Literal["coordinator", "investigator", "monitor"]] = []
    time_origin: Literal["consent", "allocation", "first_infusion"] = "allocation"
    follow_up: Duration
    # How subject codes look, e.g. "DLC-{site}-{nnn}" (ecrf.code_patterns); without it any code is accepted.
    subject_code_pattern: Annotated[str, Field(min_length=1, max_length=40)] | None = None

    @field_validator("subject_code_pattern")
    @classmethod
    def pattern_is_usable(cls, pattern):
        if pattern is not None and (problem := pattern_problem(pattern)):
            raise ValueError(problem)
        return pattern


class ArmSection(Strict):
    code: Code
    label: Text
    ratio: int = Field(ge=1, le=10)
    infusions: Literal["product", "placebo", "none"]
    is_control: bool = False


class StratumLevel(Strict):
    code: Code
    label: Text


class StratificationSection(Strict):
    code: Code
    label: Text
    source: Literal["site", "baseline_score"]
    score: Literal["meld", "meld_na", "meld_3"] | None = None
    cutpoint: float | None = None
    levels: list[StratumLevel] = []
    visit: Code | None = None

    @model_validator(mode="after")
    def score_factor_is_complete(self):
        incomplete = None in (self.score, self.cutpoint, self.visit) or len(self.levels) != 2
        if self.source == "baseline_score" and incomplete:
            raise ValueError(
                "a baseline_score factor needs score, cutpoint, visit (whose lab draw is the baseline) and two "
                "levels (<= cutpoint, >)"
            )
        return self


# The stored subject facts an eligibility item may be tied to (each a ``Subject`` field): a number, checked
# against min/max, or a choice, checked against values. A new fact is one line here.
FACTS: dict[str, tuple[str, ...]] = {"age_years": (), "sex": ("female", "male")}
FACT_LABELS = {"age_years": "age", "sex": "sex"}
FACT_UNITS = {"age_years": "years"}


class FactCondition(Strict):
    """A condition on one stored fact: ``{ fact = "age_years", min = 18, max = 65 }``, ``{ fact = "sex",
    values = ["female"] }``."""

    fact: str
    min: int | None = None
    max: int | None = None
    values: list[str] = []

    @model_validator(mode="after")
    def fits_its_fact(self):
        if self.fact not in FACTS:
            raise ValueError(f"fact {self.fact!r} is not a stored fact; use one of {', '.join(FACTS)}")
        choices = FACTS[self.fact]
        if choices:
            if self.min is not None or self.max is not None or not self.values:
                raise ValueError(f"{self.fact} is a choice: give values (from {', '.join(choices)}), not min/max")
            for value in self.values:
                if value not in choices:
                    raise ValueError(f"{value!r} is not a value of {self.fact}; use {', '.join(choices)}")
            return self
        if self.values or (self.min is None and self.max is None):
            raise ValueError(f"{self.fact} is a number: give min and/or max, not values")
        if None not in (self.min, self.max) and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class EligibilitySection(Strict):
    code: Code
    kind: Literal["inclusion", "exclusion"]
    text: Text
    qualifying_answer: bool | None = None
    # The item is the fact: the subject qualifies on it exactly when the stored fact meets the condition.
    requires: FactCondition | None = None
    # The item is about some subjects only (the pregnancy test): for the others it holds by definition.
    applies_when: FactCondition | None = None

    @model_validator(mode="after")
    def one_tie(self):
        if self.requires is not None and self.applies_when is not None:
            raise ValueError("give requires or applies_when, not both: an item is tied to one stored fact")
        return self

    def tie(self) -> tuple[str, FactCondition] | tuple[str, None]:
        """The item's tie to a stored fact as (rule, condition), or ("", None) when it has none."""
        if self.requires is not None:
            return "requires", self.requires
        if self.applies_when is not None:
            return "applies_when", self.applies_when
        return "", None

    def qualifies_with(self) -> bool:
        """The answer that keeps the subject eligible: yes for inclusion, no for exclusion, unless stated."""
        if self.qualifying_answer is not None:
            return self.qualifying_answer
        return self.kind == "inclusion"


class AnalyteSection(Strict):
    code: Code
    label: Text
    unit: Annotated[str, Field(min_length=1, max_length=20)]
    decimals: int = Field(default=1, ge=0, le=4)
    reference_low: float | None = None
    reference_high: float | None = None
    hard_low: float
    hard_high: float
    plausible_low: float | None = None  # outside plausible_low-plausible_high the CRF asks to confirm the value
    plausible_high: float | None = None
    loinc: str = ""

    @model_validator(mode="after")
    def limits_in_order(self):
        if self.hard_low >= self.hard_high:
            raise ValueError("hard_low must be below hard_high")
        for name in ("reference_low", "reference_high", "plausible_low", "plausible_high"):
            value = getattr(self, name)
            if value is not None and not self.hard_low <= value <= self.hard_high:
                raise ValueError(f"{name} {value} lies outside the hard limits {self.hard_low}-{self.hard_high}")
        if None not in (self.reference_low, self.reference_high) and self.reference_low > self.reference_high:
            raise ValueError("reference_low must not be above reference_high")
        return self


class LabPanelSection(Strict):
    code: Code
    label: Text
    analytes: list[Code] = Field(min_length=1)


class VisitSection(Strict):
    code: Code
    label: Text
    anchor: Literal["consent", "allocation", "first_infusion"]
    offset: Duration
    window_before: Duration = Duration(days=0)
    window_after: Duration = Duration(days=0)
    forms: list[Literal[FORMS]] = Field(min_length=1)
    lab_panel: Code | None = None
    infusion_number: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def labs_form_names_its_panel(self):
        if ("labs" in self.forms) != (self.lab_panel is not None):
            raise ValueError("a visit with the labs form names its lab_panel, and only such a visit does")
        if (self.infusion_number is not None) != ("infusion" in self.forms):
            raise ValueError("a visit with the infusion form gives infusion_number, and only such a visit does")
        return self


class ReleaseCriterionSection(Strict):
    code: Code
    label: Text
    kind: Literal["numeric", "negative"]
    comparator: Literal[">", ">=", "<", "<="] | None = None
    threshold: float | None = None
    unit: str = ""

    @model_validator(mode="after")
    def numeric_has_threshold(self):
        if (self.kind == "numeric") != (self.comparator is not None and self.threshold is not None):
            raise ValueError("a numeric criterion needs comparator and threshold; a negative one has neither")
        return self


class InfusionPlanSection(Strict):
    count: int = Field(ge=1, le=20)
    target_cells_per_kg: float = Field(gt=0)
    dose_tolerance_percent: float = Field(default=20, ge=0, le=100)
    passage: int | None = Field(default=None, ge=1)
    route: Text
    observation_hours: float = Field(ge=0)
    release_criteria: list[ReleaseCriterionSection] = []


class EndpointSection(Strict):
    code: Literal["adverse_events", "death", "hcc"]
    label: Text
    collect_for: Duration


class BackgroundMedicationSection(Strict):
    drug: Text
    dose: Text
    indication: Text


# The edit checks a protocol may declare (issue 17): each a rule of ecrf.services.edit_checks, with its parameters.
EDIT_CHECK_RULES = (
    "visit_out_of_window",
    "lab_confirmed_unusual",
    "score_input_missing",
    "dose_outside_tolerance",
    "ae_grade_without_sae_assessment",
    "eligibility_against_fact",
)
# Forms a monitor verifies: the visit forms, and the records verified on their own.
SDV_FORMS = (*FORMS, "serious_adverse_event", "death")


class EditCheckSection(Strict):
    """One automatic check: ``{ code = "MELD-INR", rule = "score_input_missing", score = "meld" }``."""

    code: Code
    rule: Literal[EDIT_CHECK_RULES]
    message: Text
    score: Literal["meld", "meld_na", "meld_3"] | None = None
    min_grade: int | None = Field(default=None, ge=1, le=5)

    @model_validator(mode="after")
    def parameters_fit_the_rule(self):
        for rule, name in (("score_input_missing", "score"), ("ae_grade_without_sae_assessment", "min_grade")):
            given = getattr(self, name) is not None
            if given != (self.rule == rule):
                raise ValueError(f"{name} is given with rule {rule} and only with it")
        return self


class MonitoringSection(Strict):
    """Source data verification plan and automatic edit checks."""

    # Forms every subject's records need verified at 100 %; the rest are verified for a sample of subjects.
    sdv_critical_forms: list[Literal[SDV_FORMS]] = []
    sdv_sampling_percent: int = Field(default=100, ge=0, le=100)
    edit_checks: list[EditCheckSection] = []

    @model_validator(mode="after")
    def codes_unique(self):
        _unique("monitoring.edit_checks", [c.code for c in self.edit_checks])
        return self


class ProtocolFile(Strict):
    """A whole protocol: one study, one version."""

    study: StudySection
    arms: list[ArmSection] = Field(min_length=1)
    stratification: list[StratificationSection] = []
    eligibility: list[EligibilitySection] = Field(min_length=1)
    analytes: list[AnalyteSection] = []
    lab_panels: list[LabPanelSection] = []
    visits: list[VisitSection] = Field(min_length=1)
    infusion_plan: InfusionPlanSection | None = None
    endpoints: list[EndpointSection] = []
    background_medication: list[BackgroundMedicationSection] = []
    monitoring: MonitoringSection = Field(default_factory=MonitoringSection)

    @model_validator(mode="after")
    def references_resolve(self):
        _unique("arms", [a.code for a in self.arms])
        _unique("eligibility", [e.code for e in self.eligibility])
        _unique("analytes", [a.code for a in self.analytes])
        _unique("lab_panels", [p.code for p in self.lab_panels])
        _unique("visits", [v.code for v in self.visits])
        _unique("endpoints", [e.code for e in self.endpoints])
        analytes = {a.code for a in self.analytes}
        for i, panel in enumerate(self.lab_panels):
            for code in sorted(set(panel.analytes) - analytes):
                raise ValueError(f"lab_panels[{i}] ({panel.code}) names analyte {code!r}, which is not defined")
        panels = {p.code for p in self.lab_panels}
        for i, visit in enumerate(self.visits):
            if visit.lab_panel is not None and visit.lab_panel not in panels:
                raise ValueError(f"visits[{i}] ({visit.code}) names lab_panel {visit.lab_panel!r}, not defined")
        self._check_infusions()
        self._check_stratification()
        if self.study.design == "randomised" and len(self.arms) < 2:
            raise ValueError("a randomised study needs at least two arms")
        return self

    def _check_stratification(self):
        visits = {v.code: v for v in self.visits}
        panels = {p.code: set(p.analytes) for p in self.lab_panels}
        for i, factor in enumerate(self.stratification):
            if factor.source != "baseline_score":
                continue
            visit = visits.get(factor.visit)
            if visit is None or visit.lab_panel is None:
                raise ValueError(f"stratification[{i}].visit: {factor.visit!r} is not a visit with a lab panel")
            missing = sorted(SCORE_INPUTS[factor.score] - panels[visit.lab_panel])
            if missing:
                raise ValueError(
                    f"stratification[{i}]: visit {factor.visit}'s panel lacks {', '.join(missing)}, which "
                    f"{factor.score} needs"
                )

    def _check_infusions(self):
        numbers = sorted(v.infusion_number for v in self.visits if v.infusion_number is not None)
        infusing = any(a.infusions != "none" for a in self.arms)
        if self.infusion_plan is None:
            if numbers or infusing:
                raise ValueError("arms or visits give infusions, so infusion_plan is required")
            return
        if numbers != list(range(1, self.infusion_plan.count + 1)):
            raise ValueError(
                f"infusion_plan.count is {self.infusion_plan.count} but the visits carry infusion numbers {numbers}"
            )
        _unique("infusion_plan.release_criteria", [c.code for c in self.infusion_plan.release_criteria])


def _unique(section: str, codes: list[str]) -> None:
    seen = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"{section}: code {code!r} appears twice")
        seen.add(code)


class ProtocolFileError(ValueError):
    """A protocol file that cannot be loaded; ``problems`` lists each as 'path: message'."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def parse_protocol(text: str, source: str = "<protocol>") -> ProtocolFile:
    """Parse and validate a protocol file's text, or raise ProtocolFileError naming every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProtocolFileError(source, [f"not valid TOML: {error}"]) from None
    try:
        return ProtocolFile.model_validate(raw)
    except ValidationError as error:
        raise ProtocolFileError(source, [describe_problem(problem) for problem in error.errors()]) from None


def describe_problem(problem: dict) -> str:
    """One pydantic error as 'path: message' (``arms[0].code: ...``), for any file validated by a pydantic model."""
    path = ""
    for part in problem["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = problem["msg"].removeprefix("Value error, ")
    return f"{path or 'file'}: {message}"
