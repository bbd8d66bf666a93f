"""Monitoring state of clinical records: queries, source data verification and locks.

Each row points at the record it concerns by model label and primary key (``record_model``, ``record_id``), and
at its subject and study, so a subject's or a site's monitoring state is one indexed read. None of these rows
is ever deleted: a query is closed, a verification cleared, a lock lifted, each with who, when and why, and the
hash-chained history keeps every version. Writes go through ``ecrf.services.queries``, ``verification`` and
``locks``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from ecrf.models.history import ChainedHistoricalRecord
from ecrf.models.organisation import Study
from ecrf.models.subjects import Subject


class Undeletable(models.Model):
    study_code_path = "study__code"
    # Monitoring is not the study's data: a query or a lock leaves its analyses current (ecrf.models.changes).
    is_study_data = False

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise PermissionError("Monitoring records are never deleted: close, clear or unlock them with a reason.")


class QueryState(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Re-opened"


OPEN_STATES = (QueryState.OPEN, QueryState.ANSWERED, QueryState.REOPENED)


class DataQuery(Undeletable):
    """A question about a record, or one of its fields, that the site must answer before the data are clean.

    Raised by a monitor or data manager (``raised_by``), or by an edit check of the protocol (``rule_code``; an
    edit check's query closes itself when the data no longer trip the rule).
    """

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="queries")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="queries")
    record_model = models.CharField(max_length=40, help_text="The queried record's model, e.g. ecrf.labvalue.")
    record_id = models.PositiveBigIntegerField()
    field_name = models.CharField(max_length=60, blank=True, help_text="Blank: the whole form.")
    where = models.CharField(max_length=200, help_text="The form and field, as shown to people.")
    text = models.TextField()
    state = models.CharField(max_length=10, choices=QueryState.choices, default=QueryState.OPEN)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rule_code = models.CharField(max_length=32, blank=True, help_text="The edit check that raised it, if any.")
    raised_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(bases=[ChainedHistoricalRecord])

    class Meta:
        ordering = ["raised_at", "pk"]
        indexes = [
            models.Index(fields=["record_model", "record_id"], name="query_record"),
            models.Index(fields=["study", "state"], name="query_study_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(raised_by__isnull=False) & Q(rule_code=""))
                | (Q(raised_by__isnull=True) & ~Q(rule_code="")),
                name="query_raised_by_person_or_rule",
                violation_error_message="A query is raised by a person or by an edit check, not both.",
            ),
            models.CheckConstraint(
                condition=(Q(state=QueryState.CLOSED) & Q(closed_at__isnull=False))
                | (~Q(state=QueryState.CLOSED) & Q(closed_at__isnull=True)),
                name="query_closed_has_time",
                violation_error_message="A closed query carries when it was closed, and only a closed one.",
            ),
            models.UniqueConstraint(
                fields=["rule_code", "record_model", "record_id", "field_name"],
                condition=~Q(rule_code="") & ~Q(state=QueryState.CLOSED),
                name="one_open_edit_check_query_per_field",
            ),
        ]

    def __str__(self):
        return f"Query {self.pk} on {self.where} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_automatic(self) -> bool:
        return bool(self.rule_code)


class QueryMessageKind(models.TextChoices):
    RAISED = "raised", "Raised"
    ANSWERED = "answered", "Answered"
    CORRECTED = "corrected", "Data corrected"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Re-opened"
    AUTO_CLOSED = "auto_closed", "Closed by the edit check"


class QueryMessage(Undeletable):
    """One step of a query's thread, written once: never changed afterwards."""

    study_code_path = "query__study__code"

    query = models.ForeignKey(DataQuery, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=12, choices=QueryMessageKind.choices)
    text = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField()
    history = HistoricalRecords(bases=[ChainedHistoricalRecord])

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("A query's message is never changed: add a new one.")
        super().save(*args, **kwargs)


class SourceVerification(Undeletable):
    """A monitor's mark that a record (or one field of it) matches the source; cleared by any later change."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="verifications")
    record_model = models.CharField(max_length=40)
    record_id = models.PositiveBigIntegerField()
    field_name = models.CharField(max_length=60, blank=True, help_text="Blank: the whole form.")
    where = models.CharField(max_length=200)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_reason = models.CharField(max_length=500, blank=True)
    history = HistoricalRecords(bases=[ChainedHistoricalRecord])

    class Meta:
        ordering = ["verified_at", "pk"]
        indexes = [models.Index(fields=["record_model", "record_id"], name="verification_record")]
        constraints = [
            models.UniqueConstraint(
                fields=["record_model", "record_id", "field_name"],
                condition=Q(cleared_at__isnull=True),
                name="one_standing_verification_per_field",
            ),
            models.CheckConstraint(
                condition=Q(cleared_at__isnull=True) | ~Q(cleared_reason=""),
                name="cleared_verification_says_why",
                violation_error_message="A cleared verification says why.",
            ),
        ]

    def __str__(self):
        return f"{self.where} verified by {self.verified_by} at {self.verified_at:%Y-%m-%d %H:%M}"


class DataLock(Undeletable):
    """A subject's data (``subject`` set) or a whole study's (``subject`` empty) locked: no write passes."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="locks")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, null=True, blank=True, related_name="locks")
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    locked_at = models.DateTimeField()
    reason = models.CharField(max_length=500, help_text="Why now; for unclean data, the stated override.")
    unclean_when_locked = models.BooleanField(default=False)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlock_reason = models.CharField(max_length=500, blank=True)
    history = HistoricalRecords(bases=[ChainedHistoricalRecord])

    class Meta:
        ordering = ["locked_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "subject"],
                condition=Q(unlocked_at__isnull=True, subject__isnull=False),
                name="one_standing_lock_per_subject",
            ),
            models.UniqueConstraint(
                fields=["study"],
                condition=Q(unlocked_at__isnull=True, subject__isnull=True),
                name="one_standing_study_lock",
            ),
            models.CheckConstraint(
                condition=Q(unlocked_at__isnull=True) | (~Q(unlock_reason="") & Q(unlocked_by__isnull=False)),
                name="unlock_says_who_and_why",
                violation_error_message="An unlock says who lifted it and why.",
            ),
        ]

    def __str__(self):
        what = self.subject.subject_code if self.subject_id else f"study {self.study.code}"
        return f"Lock of {what} from {self.locked_at:%Y-%m-%d %H:%M}"

    @property
    def is_standing(self) -> bool:
        return self.unlocked_at is None
