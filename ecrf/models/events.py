"""Events in a subject's course: infusions with their product QC, adverse events, endpoints, medication."""

from django.db import models
from django.db.models import F, Q

from ecrf.models.base import ClinicalRecord, voided_has_reason
from ecrf.models.protocol import ReleaseCriterion
from ecrf.models.subjects import Subject
from ecrf.models.visits import Visit


class InfusionEvent(ClinicalRecord):
    """One infusion of product (or placebo), with the dose computed from cells and weight."""

    study_code_path = "subject__study__code"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="infusions")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="infusions")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    is_placebo = models.BooleanField(default=False)
    product_lot = models.CharField(max_length=60, blank=True)
    passage = models.PositiveSmallIntegerField(null=True, blank=True)
    total_cells = models.BigIntegerField(null=True, blank=True)
    body_weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    cells_per_kg = models.FloatField(null=True, blank=True, editable=False)
    volume_ml = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    observation_hours = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    reaction = models.CharField(max_length=500, blank=True, help_text="Infusion reaction seen, if any.")
    release_deviation = models.CharField(
        max_length=500, blank=True, help_text="Protocol deviation recorded when a product failing release was given."
    )
    dose_deviation = models.CharField(
        max_length=500,
        blank=True,
        help_text="Dose deviation recorded when a dose outside the protocol's range is given.",
    )

    class Meta:
        ordering = ["subject", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "number"], condition=Q(is_voided=False), name="infusion_number_once"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="infusion_number_positive"),
            models.CheckConstraint(
                condition=Q(body_weight_kg__gt=0, body_weight_kg__lt=400),
                name="infusion_weight_plausible",
                violation_error_message="Body weight must be above 0 and below 400 kg.",
            ),
            models.CheckConstraint(
                condition=Q(is_placebo=True) | (Q(total_cells__gt=0) & ~Q(product_lot="")),
                name="infusion_product_has_lot_and_cells",
                violation_error_message="A product infusion needs its lot and a positive cell count.",
            ),
            models.CheckConstraint(
                condition=Q(cells_per_kg__isnull=True) | Q(cells_per_kg__gt=0), name="infusion_dose_positive"
            ),
            voided_has_reason("infusion"),
        ]

    def __str__(self):
        return f"{self.subject} infusion {self.number}"

    def save(self, *args, **kwargs):
        # The dose is derived, never typed: cells / kg from the two measured numbers.
        if self.total_cells and self.body_weight_kg:
            self.cells_per_kg = self.total_cells / float(self.body_weight_kg)
        else:
            self.cells_per_kg = None
        super().save(*args, **kwargs)


class ReleaseResult(ClinicalRecord):
    """A product lot's QC result against one release criterion of the protocol, for one infusion."""

    study_code_path = "infusion__subject__study__code"

    infusion = models.ForeignKey(InfusionEvent, on_delete=models.PROTECT, related_name="release_results")
    criterion = models.ForeignKey(ReleaseCriterion, on_delete=models.PROTECT, related_name="+")
    value = models.FloatField(null=True, blank=True)
    negative = models.BooleanField(null=True, blank=True)
    passed = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["infusion", "criterion"], condition=Q(is_voided=False), name="release_result_once"
            ),
            voided_has_reason("release_result"),
        ]

    def __str__(self):
        return f"{self.infusion} {self.criterion.code}: {'pass' if self.passed else 'FAIL'}"


class Seriousness(models.TextChoices):
    DEATH = "death", "Results in death"
    LIFE_THREATENING = "life_threatening", "Life-threatening"
    HOSPITALISATION = "hospitalisation", "Requires or prolongs hospitalisation"
    DISABILITY = "disability", "Persistent or significant disability"
    CONGENITAL = "congenital_anomaly", "Congenital anomaly"
    IMPORTANT = "important_medical_event", "Important medical event"


class Relatedness(models.TextChoices):
    NOT_RELATED = "not_related", "Not related"
    UNLIKELY = "unlikely", "Unlikely"
    POSSIBLE = "possible", "Possibly related"
    PROBABLE = "probable", "Probably related"
    DEFINITE = "definite", "Definitely related"


class AeOutcome(models.TextChoices):
    RECOVERED = "recovered", "Recovered"
    RECOVERING = "recovering", "Recovering"
    NOT_RECOVERED = "not_recovered", "Not recovered"
    SEQUELAE = "sequelae", "Recovered with sequelae"
    FATAL = "fatal", "Fatal"
    UNKNOWN = "unknown", "Unknown"


class AeAction(models.TextChoices):
    NONE = "none", "None"
    INFUSION_INTERRUPTED = "infusion_interrupted", "Infusion interrupted"
    INFUSION_DELAYED = "infusion_delayed", "Infusion delayed"
    TREATMENT_STOPPED = "treatment_stopped", "Study treatment stopped"
    MEDICATION = "medication", "Medication given"
    OTHER = "other", "Other"


class AdverseEvent(ClinicalRecord):
    """An adverse event graded by CTCAE v5; serious ones carry the SAE facts."""

    study_code_path = "subject__study__code"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="adverse_events")
    infusion = models.ForeignKey(
        InfusionEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="adverse_events"
    )
    term = models.CharField(max_length=200, help_text="CTCAE v5 term, e.g. Fever.")
    onset_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    grade = models.PositiveSmallIntegerField(choices=[(g, f"Grade {g}") for g in range(1, 6)])
    serious = models.BooleanField(default=False)
    seriousness = models.CharField(max_length=30, choices=Seriousness.choices, blank=True)
    sae_reported_on = models.DateField(null=True, blank=True)
    sae_description = models.TextField(blank=True)
    relatedness = models.CharField(max_length=12, choices=Relatedness.choices)
    outcome = models.CharField(max_length=14, choices=AeOutcome.choices)
    action_taken = models.CharField(max_length=22, choices=AeAction.choices, default=AeAction.NONE)

    class Meta:
        ordering = ["subject", "onset_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__gte=1, grade__lte=5),
                name="ae_grade_ctcae",
                violation_error_message="CTCAE grade is 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("onset_at")),
                name="ae_resolution_not_before_onset",
                violation_error_message="Resolution cannot come before onset.",
            ),
            models.CheckConstraint(
                condition=Q(serious=False) | (~Q(seriousness="") & Q(sae_reported_on__isnull=False)),
                name="ae_serious_has_criterion_and_report_date",
                violation_error_message="A serious adverse event needs its seriousness criterion and report date.",
            ),
            models.CheckConstraint(
                condition=~Q(grade=5) | Q(outcome=AeOutcome.FATAL),
                name="ae_grade5_is_fatal",
                violation_error_message="A grade 5 event is fatal by definition.",
            ),
            voided_has_reason("adverse_event"),
        ]

    def __str__(self):
        return f"{self.subject} {self.term} grade {self.grade}"


class HccMethod(models.TextChoices):
    IMAGING = "imaging", "Typical imaging (CT/MRI)"
    HISTOLOGY = "histology", "Histology"
    IMAGING_AFP = "imaging_afp", "Imaging with raised AFP"


class EndpointEvent(ClinicalRecord):
    """A protocol endpoint other than death (which lives on the subject): e.g. HCC diagnosis."""

    study_code_path = "subject__study__code"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="endpoint_events")
    kind = models.CharField(max_length=20, choices=[("hcc", "Hepatocellular carcinoma")])
    event_date = models.DateField()
    method = models.CharField(max_length=20, choices=HccMethod.choices, blank=True)
    details = models.TextField(blank=True)

    class Meta:
        ordering = ["subject", "event_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "kind"], condition=Q(is_voided=False), name="endpoint_first_event_once"
            ),
            models.CheckConstraint(
                condition=~Q(kind="hcc") | ~Q(method=""),
                name="endpoint_hcc_has_method",
                violation_error_message="An HCC diagnosis needs its method.",
            ),
            voided_has_reason("endpoint_event"),
        ]

    def __str__(self):
        return f"{self.subject} {self.get_kind_display()} {self.event_date}"


class ConcomitantMedication(ClinicalRecord):
    study_code_path = "subject__study__code"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="medications")
    drug = models.CharField(max_length=200)
    dose = models.CharField(max_length=100, help_text="Amount, unit and frequency, e.g. 100 mg once daily.")
    indication = models.CharField(max_length=200, blank=True)
    is_background = models.BooleanField(default=False, help_text="Background care the protocol prescribes.")
    start_date = models.DateField()
    stop_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["subject", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stop_date__isnull=True) | Q(stop_date__gte=F("start_date")),
                name="conmed_stop_not_before_start",
                violation_error_message="Stop date cannot come before start date.",
            ),
            voided_has_reason("conmed"),
        ]

    def __str__(self):
        return f"{self.subject} {self.drug} {self.dose}"
