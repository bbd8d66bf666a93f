"""Protocol deviations: departures from the protocol accepted with a stated reason, listed for the data manager."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from ecrf.models.base import ClinicalRecord, voided_has_reason
from ecrf.models.subjects import Subject
from ecrf.models.visits import Visit


class DeviationKind(models.TextChoices):
    """What departed from the protocol; dosing and product release deviations are to follow."""

    VISIT_OUT_OF_WINDOW = "visit_out_of_window", "Visit out of window"


class ProtocolDeviation(ClinicalRecord):
    """One deviation of a subject (at a visit, for those tied to one), with the reason given when it was accepted."""

    study_code_path = "subject__study__code"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="deviations")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="deviations")
    kind = models.CharField(max_length=30, choices=DeviationKind.choices)
    description = models.CharField(max_length=500, help_text="The reason given for the deviation.")
    detected_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["subject", "detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit"],
                condition=Q(is_voided=False, kind=DeviationKind.VISIT_OUT_OF_WINDOW),
                name="deviation_one_out_of_window_per_visit",
                violation_error_message="This visit already has an out-of-window deviation.",
            ),
            models.CheckConstraint(condition=Q(kind__in=DeviationKind.values), name="deviation_kind_known"),
            models.CheckConstraint(
                condition=~Q(kind=DeviationKind.VISIT_OUT_OF_WINDOW) | Q(visit__isnull=False),
                name="deviation_out_of_window_names_its_visit",
                violation_error_message="An out-of-window deviation names its visit.",
            ),
            models.CheckConstraint(
                condition=~Q(description=""),
                name="deviation_has_description",
                violation_error_message="A deviation needs its reason.",
            ),
            voided_has_reason("protocol_deviation"),
        ]

    def __str__(self):
        return f"{self.subject} {self.get_kind_display()}"

    def clean(self):
        super().clean()
        if self.visit_id is not None and self.visit.subject_id != self.subject_id:
            raise ValidationError({"visit": "The visit is not this subject's."})
