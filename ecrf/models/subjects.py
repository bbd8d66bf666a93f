"""Subjects, their screening (eligibility, consent) and their allocation to an arm."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Trim

from ecrf.models.base import ClinicalRecord, voided_has_reason
from ecrf.models.organisation import Site, Study
from ecrf.models.protocol import Arm, EligibilityCriterion, ProtocolVersion
from ecrf.models.randomisation import RandomisationSlot
from ecrf.protocol_schema import FACTS


class SubjectStatus(models.TextChoices):
    SCREENED = "screened", "Screened"
    SCREEN_FAILED = "screen_failed", "Screen failure"
    CONSENTED = "consented", "Consented"
    ELIGIBLE = "eligible", "Eligible"
    ALLOCATED = "allocated", "Allocated"
    ON_TREATMENT = "on_treatment", "On treatment"
    FOLLOW_UP = "follow_up", "In follow-up"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    LOST = "lost_to_follow_up", "Lost to follow-up"
    DIED = "died", "Died"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"


class Subject(ClinicalRecord):
    """A person screened for a study at a site, identified by a code unique in the study (never by name)."""

    study_code_path = "study__code"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="subjects")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="subjects")
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="subjects")
    subject_code = models.CharField(max_length=32)
    status = models.CharField(max_length=20, choices=SubjectStatus.choices, default=SubjectStatus.SCREENED)
    screening_date = models.DateField()
    sex = models.CharField(max_length=6, choices=Sex.choices)
    age_years = models.PositiveSmallIntegerField(help_text="Age at screening.")
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    screen_failure_reason = models.CharField(max_length=500, blank=True)
    consent_date = models.DateField(null=True, blank=True)
    consent_version = models.CharField(max_length=40, blank=True)
    withdrawal_date = models.DateField(null=True, blank=True)
    withdrawal_reason = models.CharField(max_length=500, blank=True)
    last_contact_date = models.DateField(null=True, blank=True)
    death_date = models.DateField(null=True, blank=True)
    death_cause = models.CharField(max_length=500, blank=True)
    completion_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["study", "subject_code"]
        constraints = [
            # Letter case and surrounding spaces do not make another code: " dlc-bj-5mc-001" is DLC-BJ-5MC-001.
            models.UniqueConstraint(
                Lower(Trim("subject_code")),
                "study",
                name="subject_code_unique_ci",
                violation_error_message="A subject with this code already exists in the study.",
            ),
            models.CheckConstraint(condition=Q(status__in=SubjectStatus.values), name="subject_status_known"),
            models.CheckConstraint(
                condition=Q(age_years__gte=0, age_years__lte=120),
                name="subject_age_plausible",
                violation_error_message="Age must be between 0 and 120 years.",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gt=0, weight_kg__lt=400),
                name="subject_weight_plausible",
                violation_error_message="Weight must be above 0 and below 400 kg.",
            ),
            models.CheckConstraint(
                condition=Q(consent_date__isnull=True) | Q(consent_date__gte=F("screening_date")),
                name="subject_consent_not_before_screening",
                violation_error_message="Consent cannot come before screening.",
            ),
            models.CheckConstraint(
                condition=Q(consent_date__isnull=False) | Q(death_date__isnull=True, withdrawal_date__isnull=True),
                name="subject_events_need_consent",
                violation_error_message="Death and withdrawal are recorded only for consented subjects.",
            ),
            models.CheckConstraint(
                condition=Q(death_date__isnull=True) | Q(death_date__gte=F("consent_date")),
                name="subject_death_not_before_consent",
                violation_error_message="Death cannot come before consent.",
            ),
            models.CheckConstraint(
                condition=Q(withdrawal_date__isnull=True) | Q(withdrawal_date__gte=F("consent_date")),
                name="subject_withdrawal_not_before_consent",
                violation_error_message="Withdrawal cannot come before consent.",
            ),
            models.CheckConstraint(
                condition=Q(last_contact_date__isnull=True) | Q(last_contact_date__gte=F("screening_date")),
                name="subject_last_contact_not_before_screening",
                violation_error_message="Last contact cannot come before screening.",
            ),
            models.CheckConstraint(
                condition=~Q(status=SubjectStatus.SCREEN_FAILED) | ~Q(screen_failure_reason=""),
                name="subject_screen_failure_has_reason",
                violation_error_message="A screen failure needs a reason.",
            ),
            models.CheckConstraint(
                condition=~Q(status=SubjectStatus.WITHDRAWN)
                | (Q(withdrawal_date__isnull=False) & ~Q(withdrawal_reason="")),
                name="subject_withdrawal_has_date_and_reason",
                violation_error_message="A withdrawal needs its date and reason.",
            ),
            models.CheckConstraint(
                condition=~Q(status=SubjectStatus.LOST) | Q(last_contact_date__isnull=False),
                name="subject_lost_has_last_contact",
                violation_error_message="Lost to follow-up needs the date of last contact.",
            ),
            models.CheckConstraint(
                condition=~Q(status=SubjectStatus.DIED) | Q(death_date__isnull=False),
                name="subject_died_has_death_date",
                violation_error_message="A death needs its date.",
            ),
            voided_has_reason("subject"),
        ]

    def __str__(self):
        return f"{self.study.code} {self.subject_code}"

    def facts(self) -> dict:
        """The stored facts eligibility items may be tied to (ecrf.protocol_schema.FACTS), by name."""
        return {name: getattr(self, name) for name in FACTS}


class EligibilityAnswer(ClinicalRecord):
    """One criterion answered for one subject; eligibility is derived from these, never typed."""

    study_code_path = "subject__study__code"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="eligibility_answers")
    criterion = models.ForeignKey(EligibilityCriterion, on_delete=models.PROTECT, related_name="answers")
    answer = models.BooleanField()
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField()

    class Meta:
        ordering = ["subject", "criterion__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "criterion"], condition=Q(is_voided=False), name="eligibility_answer_once"
            ),
            voided_has_reason("eligibility_answer"),
        ]

    def __str__(self):
        return f"{self.subject} {self.criterion.code}: {'yes' if self.answer else 'no'}"

    @property
    def qualifies(self) -> bool:
        return self.answer == self.criterion.qualifying_answer


class AllocationMethod(models.TextChoices):
    RANDOMISED = "randomised", "Randomised"
    ASSIGNED = "assigned", "Assigned (non-random protocol)"


class Allocation(ClinicalRecord):
    """A subject's arm. One per subject, enforced by the database; corrections are audited, not deletions."""

    study_code_path = "subject__study__code"

    subject = models.OneToOneField(Subject, on_delete=models.PROTECT, related_name="allocation")
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="allocations")
    method = models.CharField(max_length=12, choices=AllocationMethod.choices)
    allocation_date = models.DateField()
    allocated_at = models.DateTimeField()
    allocated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500, blank=True, help_text="Why this arm, for assigned allocations.")
    stratum = models.CharField(max_length=200, blank=True)
    slot = models.OneToOneField(
        RandomisationSlot, on_delete=models.PROTECT, null=True, blank=True, related_name="allocation"
    )
    randomisation_code = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["randomisation_code"], condition=~Q(randomisation_code=""), name="allocation_code_unique"
            ),
            models.CheckConstraint(
                condition=~Q(method=AllocationMethod.RANDOMISED) | ~Q(randomisation_code=""),
                name="allocation_randomised_has_code",
                violation_error_message="A randomised allocation carries its randomisation code.",
            ),
            models.CheckConstraint(
                condition=~Q(method=AllocationMethod.ASSIGNED) | ~Q(reason=""),
                name="allocation_assigned_has_reason",
                violation_error_message="A non-random assignment needs a reason.",
            ),
            voided_has_reason("allocation"),
        ]

    def __str__(self):
        return f"{self.subject}: {self.arm}"
