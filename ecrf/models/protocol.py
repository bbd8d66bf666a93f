"""A study's protocol as rows: each loaded file is a ProtocolVersion owning its arms, schedule, labs and plans.

Rows of a version are never changed after loading: an amendment is a new version with new rows, so data
entered under the old version keeps pointing at the definitions it was entered against.
"""

import math

from django.db import models
from django.db.models import F, Q

from ecrf.models.organisation import Study
from ecrf.protocol_schema import FACT_LABELS, FACT_UNITS


class ProtocolVersion(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="protocol_versions")
    version = models.CharField(max_length=20)
    effective_date = models.DateField()
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the file's text as loaded.")
    source_name = models.CharField(max_length=200)
    source_text = models.TextField(help_text="The file exactly as loaded.")
    design = models.CharField(max_length=20, choices=[("randomised", "Randomised"), ("non_random", "Non-random")])
    time_origin = models.CharField(max_length=20)
    follow_up_days = models.PositiveIntegerField()
    follow_up_label = models.CharField(max_length=40)
    subject_code_pattern = models.CharField(
        max_length=40, blank=True, help_text="How subject codes look, e.g. DLC-{site}-{nnn}; blank: any code."
    )
    dashboards_blinded = models.BooleanField(
        default=False, help_text="Arm-level dashboard panels are hidden from every role but data managers."
    )
    target_enrolment = models.PositiveIntegerField(null=True, blank=True, help_text="Subjects planned for allocation.")
    export_roles = models.JSONField(
        default=list, blank=True, help_text="Roles besides data managers the protocol lets export datasets."
    )
    monitoring = models.JSONField(
        default=dict, blank=True, help_text="The file's monitoring section: source verification plan and edit checks."
    )
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study__code", "effective_date", "loaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="protocol_version_unique"),
            models.UniqueConstraint(fields=["study", "sha256"], name="protocol_content_unique"),
        ]

    def __str__(self):
        return f"{self.study.code} protocol {self.version} (from {self.effective_date})"

    @property
    def is_randomised(self) -> bool:
        return self.design == "randomised"


class ProtocolPart(models.Model):
    """Something a protocol version defines, in the file's order."""

    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32)
    order = models.PositiveSmallIntegerField()

    class Meta:
        abstract = True
        ordering = ["protocol", "order"]


def _unique_code(name):
    return [models.UniqueConstraint(fields=["protocol", "code"], name=f"{name}_code_unique")]


class Arm(ProtocolPart):
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="arms")
    label = models.CharField(max_length=200)
    ratio = models.PositiveSmallIntegerField()
    infusions = models.CharField(
        max_length=10, choices=[("product", "Study product"), ("placebo", "Placebo"), ("none", "No infusions")]
    )
    is_control = models.BooleanField(default=False)

    class Meta(ProtocolPart.Meta):
        constraints = [*_unique_code("arm"), models.CheckConstraint(condition=Q(ratio__gte=1), name="arm_ratio")]

    def __str__(self):
        return self.label

    @property
    def gets_infusions(self) -> bool:
        return self.infusions != "none"


class StratificationFactor(ProtocolPart):
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="stratification_factors")
    label = models.CharField(max_length=200)
    source = models.CharField(max_length=20)
    score = models.CharField(max_length=20, blank=True)
    cutpoint = models.FloatField(null=True, blank=True)
    levels = models.JSONField(default=list, help_text="[{code, label}], at or below the cutpoint first.")
    visit_code = models.CharField(max_length=32, blank=True, help_text="Visit whose lab draw is the baseline.")

    class Meta(ProtocolPart.Meta):
        constraints = _unique_code("stratification_factor")

    def __str__(self):
        return self.label


# How a checklist is grouped for people, in this order.
CRITERION_GROUPS = (("inclusion", "Inclusion criteria"), ("exclusion", "Exclusion criteria"))


class EligibilityCriterion(ProtocolPart):
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="eligibility_criteria")
    kind = models.CharField(max_length=10, choices=[("inclusion", "Inclusion"), ("exclusion", "Exclusion")])
    text = models.TextField()
    qualifying_answer = models.BooleanField(help_text="The answer that keeps the subject eligible.")
    # A tie to a stored subject fact (ecrf.protocol_schema.FACTS): "requires", the subject qualifies exactly when
    # the fact meets the condition; "applies_when", the item is about those subjects only and holds for others.
    fact_rule = models.CharField(
        max_length=20, blank=True, choices=[("requires", "Requires"), ("applies_when", "Applies when")]
    )
    fact = models.CharField(max_length=20, blank=True)
    fact_min = models.IntegerField(null=True, blank=True)
    fact_max = models.IntegerField(null=True, blank=True)
    fact_values = models.JSONField(default=list, blank=True)

    class Meta(ProtocolPart.Meta):
        verbose_name_plural = "eligibility criteria"
        constraints = _unique_code("eligibility_criterion")

    def __str__(self):
        return f"{self.code}: {self.text[:60]}"

    @property
    def qualifying_label(self) -> str:
        return "Yes" if self.qualifying_answer else "No"

    def forced_answer(self, facts: dict) -> bool | None:
        """The only answer the subject's stored ``facts`` leave for this item, or None when they leave it open."""
        if not self.fact_rule:
            return None
        met = self._fact_met(facts[self.fact])
        if self.fact_rule == "requires":
            return self.qualifying_answer if met else not self.qualifying_answer
        return None if met else self.qualifying_answer

    def contradiction(self, answer: bool, facts: dict) -> str:
        """Why ``answer`` cannot stand against the stored ``facts``; empty when it can."""
        forced = self.forced_answer(facts)
        if forced is None or forced == answer:
            return ""
        return f"{self.code} ({self.tie_label()}): {self.fact_note(facts)}"

    def fact_note(self, facts: dict) -> str:
        """The stored fact and what it means for the answer, e.g. "the subject's recorded age is 70 years, so
        the answer must be no."; empty for an item without a tie."""
        if not self.fact_rule:
            return ""
        forced = self.forced_answer(facts)
        value = facts[self.fact]
        shown = f"{value} {FACT_UNITS[self.fact]}" if self.fact in FACT_UNITS else str(value)
        recorded = f"the subject's recorded {FACT_LABELS[self.fact]} is {shown}"
        if forced is None:
            return f"{recorded}, so the item applies: answer it from the assessment."
        does_not_apply = " the item does not apply and" if self.fact_rule == "applies_when" else ""
        return f"{recorded}, so{does_not_apply} the answer must be {'yes' if forced else 'no'}."

    def tie_label(self) -> str:
        """The condition in words: "age 18 to 65 years", "applies only when sex is female"."""
        label, unit = FACT_LABELS.get(self.fact, self.fact), FACT_UNITS.get(self.fact, "")
        if self.fact_values:
            condition = f"{label} is {' or '.join(self.fact_values)}"
        elif self.fact_min is not None and self.fact_max is not None:
            condition = f"{label} {self.fact_min} to {self.fact_max} {unit}".rstrip()
        elif self.fact_min is not None:
            condition = f"{label} at least {self.fact_min} {unit}".rstrip()
        else:
            condition = f"{label} at most {self.fact_max} {unit}".rstrip()
        return f"applies only when {condition}" if self.fact_rule == "applies_when" else condition

    def _fact_met(self, value) -> bool:
        if self.fact_values:
            return value in self.fact_values
        return (self.fact_min is None or value >= self.fact_min) and (self.fact_max is None or value <= self.fact_max)


class Analyte(ProtocolPart):
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="analytes")
    label = models.CharField(max_length=200)
    unit = models.CharField(max_length=20)
    decimals = models.PositiveSmallIntegerField(default=1)
    reference_low = models.FloatField(null=True, blank=True)
    reference_high = models.FloatField(null=True, blank=True)
    hard_low = models.FloatField(help_text="Below this a value is impossible and refused.")
    hard_high = models.FloatField(help_text="Above this a value is impossible and refused.")
    plausible_low = models.FloatField(null=True, blank=True, help_text="Below this entry asks for confirmation.")
    plausible_high = models.FloatField(null=True, blank=True, help_text="Above this entry asks for confirmation.")
    loinc = models.CharField(max_length=20, blank=True)

    class Meta(ProtocolPart.Meta):
        constraints = [
            *_unique_code("analyte"),
            models.CheckConstraint(condition=Q(hard_low__lt=F("hard_high")), name="analyte_hard_limits_in_order"),
        ]

    def __str__(self):
        return f"{self.label} ({self.unit})"

    def is_out_of_range(self, value: float) -> bool:
        low, high = self.reference_low, self.reference_high
        return (low is not None and value < low) or (high is not None and value > high)

    def is_implausible(self, value: float) -> bool:
        low, high = self.plausible_low, self.plausible_high
        return (low is not None and value < low) or (high is not None and value > high)

    @property
    def reference_label(self) -> str:
        low, high = self.reference_low, self.reference_high
        if low is None and high is None:
            return ""
        if low is None:
            return f"≤ {high:g} {self.unit}"
        if high is None:
            return f"≥ {low:g} {self.unit}"
        return f"{low:g}–{high:g} {self.unit}"


class LabPanel(ProtocolPart):
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="lab_panels")
    label = models.CharField(max_length=200)
    analytes = models.ManyToManyField(Analyte, related_name="panels")

    class Meta(ProtocolPart.Meta):
        constraints = _unique_code("lab_panel")

    def __str__(self):
        return self.label


class VisitDefinition(ProtocolPart):
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="visit_definitions")
    label = models.CharField(max_length=200)
    anchor = models.CharField(max_length=20)
    offset_days = models.IntegerField()
    offset_label = models.CharField(max_length=40)
    window_before_days = models.PositiveIntegerField(default=0)
    window_after_days = models.PositiveIntegerField(default=0)
    forms = models.JSONField(default=list)
    lab_panel = models.ForeignKey(LabPanel, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    infusion_number = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta(ProtocolPart.Meta):
        constraints = _unique_code("visit_definition")

    def __str__(self):
        return f"{self.code} {self.label}"

    @property
    def anchor_label(self) -> str:
        return self.anchor.replace("_", " ")

    @property
    def form_labels(self) -> list[str]:
        return [form.replace("_", " ") for form in self.forms]


class InfusionPlan(models.Model):
    protocol = models.OneToOneField(ProtocolVersion, on_delete=models.PROTECT, related_name="infusion_plan")
    count = models.PositiveSmallIntegerField()
    target_cells_per_kg = models.FloatField()
    dose_tolerance_percent = models.FloatField()
    passage = models.PositiveSmallIntegerField(null=True, blank=True)
    route = models.CharField(max_length=200)
    observation_hours = models.FloatField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(target_cells_per_kg__gt=0), name="infusion_plan_dose")]

    def __str__(self):
        return f"{self.count} infusions of {self.target_dose_label}"

    @property
    def target_dose_label(self) -> str:
        return f"{self.target_cells_per_kg / 1e6:g} × 10⁶ cells/kg"

    @property
    def dose_range(self) -> tuple[float, float]:
        """The lowest and highest cells/kg the protocol allows: the target ± its tolerance."""
        margin = self.target_cells_per_kg * self.dose_tolerance_percent / 100
        return self.target_cells_per_kg - margin, self.target_cells_per_kg + margin

    @property
    def dose_range_label(self) -> str:
        low, high = self.dose_range
        return (
            f"{low / 1e6:.2f}–{high / 1e6:.2f} × 10⁶ cells/kg "
            f"({self.target_cells_per_kg / 1e6:g} × 10⁶ ± {self.dose_tolerance_percent:g} %)"
        )

    def dose_in_range(self, cells_per_kg: float) -> bool:
        """Within the range, the bounds included (a dose computed from a weight in tenths of a kg may land a
        rounding error beyond a bound it meets exactly)."""
        low, high = self.dose_range
        at_a_bound = any(math.isclose(cells_per_kg, bound, rel_tol=1e-9) for bound in (low, high))
        return low <= cells_per_kg <= high or at_a_bound


class ReleaseCriterion(ProtocolPart):
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="release_criteria")
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=[("numeric", "Numeric"), ("negative", "Must be negative")])
    comparator = models.CharField(max_length=2, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True)

    class Meta(ProtocolPart.Meta):
        verbose_name_plural = "release criteria"
        constraints = _unique_code("release_criterion")

    def __str__(self):
        if self.kind == "negative":
            return f"{self.label}: negative"
        return f"{self.label} {self.comparator} {self.threshold:g} {self.unit}".strip()

    def passes(self, *, value: float | None = None, negative: bool | None = None) -> bool:
        """True when the measured result meets the criterion; a missing result never passes."""
        if self.kind == "negative":
            return negative is True
        if value is None:
            return False
        return {
            ">": value > self.threshold,
            ">=": value >= self.threshold,
            "<": value < self.threshold,
            "<=": value <= self.threshold,
        }[self.comparator]


class EndpointCollection(ProtocolPart):
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="endpoint_collections")
    label = models.CharField(max_length=200)
    collect_days = models.PositiveIntegerField()
    collect_label = models.CharField(max_length=40)

    class Meta(ProtocolPart.Meta):
        constraints = _unique_code("endpoint_collection")

    def __str__(self):
        return f"{self.label} for {self.collect_label}"


class BackgroundMedication(ProtocolPart):
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="background_medications")
    drug = models.CharField(max_length=200)
    dose = models.CharField(max_length=200)
    indication = models.CharField(max_length=200)

    class Meta(ProtocolPart.Meta):
        constraints = _unique_code("background_medication")

    def __str__(self):
        return f"{self.drug} {self.dose}"
