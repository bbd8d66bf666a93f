"""Scheduled visits and what is measured at them: lab draws with one value per analyte, clinical status."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from ecrf.models.base import ClinicalRecord, voided_has_reason
from ecrf.models.protocol import Analyte, LabPanel, VisitDefinition
from ecrf.models.subjects import Subject


class VisitStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    DONE = "done", "Done"
    MISSED = "missed", "Missed"


class Visit(ClinicalRecord):
    """A subject's occurrence of a scheduled visit, generated from the protocol with its window."""

    study_code_path = "subject__study__code"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="visits")
    definition = models.ForeignKey(VisitDefinition, on_delete=models.PROTECT, related_name="visits")
    planned_date = models.DateField()
    window_start = models.DateField()
    window_end = models.DateField()
    actual_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=VisitStatus.choices, default=VisitStatus.PLANNED)
    missed_reason = models.CharField(max_length=500, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["subject", "definition__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "definition"], condition=Q(is_voided=False), name="visit_once_per_schedule_entry"
            ),
            models.CheckConstraint(
                condition=Q(window_start__lte=F("planned_date"), window_end__gte=F("planned_date")),
                name="visit_window_contains_planned_date",
            ),
            models.CheckConstraint(
                condition=~Q(status=VisitStatus.DONE) | Q(actual_date__isnull=False),
                name="visit_done_has_date",
                violation_error_message="A visit marked done needs its actual date.",
            ),
            models.CheckConstraint(
                condition=~Q(status=VisitStatus.MISSED) | (Q(actual_date__isnull=True) & ~Q(missed_reason="")),
                name="visit_missed_has_reason",
                violation_error_message="A missed visit needs a reason and no actual date.",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gt=0, weight_kg__lt=400),
                name="visit_weight_plausible",
                violation_error_message="Weight must be above 0 and below 400 kg.",
            ),
            voided_has_reason("visit"),
        ]

    def __str__(self):
        return f"{self.subject} {self.definition.code}"

    @property
    def in_window(self) -> bool | None:
        if self.actual_date is None:
            return None
        return self.window_start <= self.actual_date <= self.window_end


class LabDraw(ClinicalRecord):
    """One blood draw at a visit, measured against one of the protocol's lab panels."""

    study_code_path = "visit__subject__study__code"

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="lab_draws")
    panel = models.ForeignKey(LabPanel, on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField()

    class Meta:
        ordering = ["visit", "drawn_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "panel"], condition=Q(is_voided=False), name="lab_draw_one_panel_per_visit"
            ),
            voided_has_reason("lab_draw"),
        ]

    def __str__(self):
        return f"{self.visit} {self.panel.code} {self.drawn_at:%Y-%m-%d %H:%M}"


class LabValue(ClinicalRecord):
    """One analyte's result in its SI unit; "not done" (with a reason) is distinct from not yet entered."""

    study_code_path = "draw__visit__subject__study__code"

    draw = models.ForeignKey(LabDraw, on_delete=models.PROTECT, related_name="values")
    analyte = models.ForeignKey(Analyte, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    not_done = models.BooleanField(default=False)
    not_done_reason = models.CharField(max_length=500, blank=True)
    confirmed_unusual = models.BooleanField(
        default=False, help_text="Outside the analyte's plausible limits, and confirmed as right by who saved it."
    )

    class Meta:
        ordering = ["draw", "analyte__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["draw", "analyte"], condition=Q(is_voided=False), name="lab_value_once_per_draw"
            ),
            models.CheckConstraint(
                condition=Q(not_done=False) | (Q(value__isnull=True) & ~Q(not_done_reason="")),
                name="lab_value_not_done_has_reason_and_no_value",
                violation_error_message='"Not done" needs a reason and no value.',
            ),
            voided_has_reason("lab_value"),
        ]

    def __str__(self):
        shown = "not done" if self.not_done else self.value
        return f"{self.analyte.code} {shown}"

    def clean(self):
        super().clean()
        analyte = self.analyte
        if self.value is not None and not analyte.hard_low <= float(self.value) <= analyte.hard_high:
            raise ValidationError(
                {
                    "value": f"{analyte.label} {self.value:g} {analyte.unit} is impossible: it must lie between "
                    f"{analyte.hard_low:g} and {analyte.hard_high:g} {analyte.unit}."
                }
            )


class Ascites(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE_SEVERE = "moderate_severe", "Moderate to severe"


class ClinicalStatus(ClinicalRecord):
    """History and examination at a visit: what MELD (dialysis) and Child-Pugh need, and the seed symptoms."""

    study_code_path = "visit__subject__study__code"

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="clinical_statuses")
    assessed_on = models.DateField()
    ascites = models.CharField(max_length=20, choices=Ascites.choices)
    encephalopathy_grade = models.PositiveSmallIntegerField(
        choices=[(0, "None"), (1, "Grade 1"), (2, "Grade 2"), (3, "Grade 3"), (4, "Grade 4")],
        help_text="West Haven grade.",
    )
    dialysis_past_week = models.BooleanField(help_text="Dialysis at least twice, or 24 h of CVVHD, in the past week.")
    temperature_c = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    fever = models.BooleanField(default=False)
    peripheral_oedema = models.BooleanField(default=False)
    rash = models.BooleanField(default=False)
    nausea = models.BooleanField(default=False)
    vomiting = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "clinical statuses"
        constraints = [
            models.UniqueConstraint(
                fields=["visit"], condition=Q(is_voided=False), name="clinical_status_once_per_visit"
            ),
            models.CheckConstraint(condition=Q(encephalopathy_grade__lte=4), name="clinical_status_he_grade"),
            models.CheckConstraint(
                condition=Q(temperature_c__isnull=True) | Q(temperature_c__gte=30, temperature_c__lte=45),
                name="clinical_status_temperature_plausible",
                violation_error_message="Body temperature must be between 30 and 45 °C.",
            ),
            voided_has_reason("clinical_status"),
        ]

    def __str__(self):
        return f"{self.visit} clinical status"


class VisitSignature(ClinicalRecord):
    """An investigator's electronic signature of a visit's forms; while it stands the forms are read-only.

    Unlocking (a data manager, with a reason) voids it, and the voided signature stays in the record.
    """

    study_code_path = "visit__subject__study__code"

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="signatures")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=300)

    class Meta:
        ordering = ["visit", "-signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["visit"], condition=Q(is_voided=False), name="one_standing_signature"),
            voided_has_reason("visit_signature"),
        ]

    def __str__(self):
        return f"{self.visit} signed by {self.signed_by} at {self.signed_at:%Y-%m-%d %H:%M}"
