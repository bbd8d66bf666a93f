"""What every clinical record shares: an audit trail of every change, and voiding instead of deletion."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from ecrf.models.history import ChainedHistoricalRecord


class ClinicalQuerySet(models.QuerySet):
    def active(self):
        """Records not voided: what analyses and worklists count."""
        return self.filter(is_voided=False)

    def delete(self):
        raise PermissionError("Clinical data is never deleted, in bulk or otherwise: void each record with a reason.")

    def update(self, **kwargs):
        raise PermissionError(
            "Clinical data is changed record by record through ecrf.services: a bulk update writes no history."
        )


class ClinicalRecord(models.Model):
    """Base of clinical data. Never hard-deleted: voided with a reason, and the history keeps every version.

    Writes go through ``ecrf.services``, which set ``_change_reason`` and ``_history_user`` so each history row
    says who changed what and why. Each history row is hash-chained to the record's previous one
    (``ecrf.models.history``), and ``study_code_path``, set by each model, is the lookup to its study's code.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    is_voided = models.BooleanField(default=False)
    void_reason = models.CharField(max_length=500, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords(inherit=True, bases=[ChainedHistoricalRecord])

    objects = ClinicalQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise PermissionError("Clinical data is never deleted: void it with a reason (ecrf.services.audit.void).")


def voided_has_reason(name: str) -> models.CheckConstraint:
    """Every voided row says why and when."""
    return models.CheckConstraint(
        condition=Q(is_voided=False) | (~Q(void_reason="") & Q(voided_at__isnull=False)),
        name=f"{name}_void_has_reason",
        violation_error_message="A voided record needs a reason.",
    )


class FormSubmission(models.Model):
    """A form's one-time token, stored with what it saved: the same form submitted twice saves once."""

    token = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.token} by {self.user} at {self.at:%Y-%m-%d %H:%M}"
