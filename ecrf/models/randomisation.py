"""Randomisation lists: one list of slots per study, one slot sequence per stratum, committed by a SHA-256."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from ecrf.models.history import ChainedHistoricalRecord
from ecrf.models.organisation import Study
from ecrf.models.protocol import Arm, ProtocolVersion


class RandomisationList(models.Model):
    """A concealed allocation list. Its slots never change once created; the commitment proves it."""

    study_code_path = "study__code"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="randomisation_lists")
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=[("generated", "Generated"), ("imported", "Imported CSV")])
    seed = models.BigIntegerField(
        null=True, blank=True, help_text="Legacy: the small seed of lists generated before secrets (issue 13)."
    )
    secret_hex = models.CharField(
        max_length=64, blank=True, help_text="256-bit generation secret (hex); seen only by data managers."
    )
    slots_per_stratum = models.PositiveIntegerField(null=True, blank=True, help_text="Asked for at generation.")
    source_name = models.CharField(max_length=200, blank=True)
    commitment_sha256 = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: created on the command line (see source name).",
    )
    # The secret never changes: no second copy of it in the history.
    history = HistoricalRecords(bases=[ChainedHistoricalRecord], excluded_fields=["secret_hex"])

    class Meta:
        ordering = ["study", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["study"], condition=Q(is_active=True), name="one_active_list_per_study")
        ]

    def __str__(self):
        return f"{self.study.code} randomisation list of {self.created_at:%Y-%m-%d}"


class RandomisationSlot(models.Model):
    """One position of a stratum's sequence: the arm and the code the subject taking it receives."""

    list = models.ForeignKey(RandomisationList, on_delete=models.PROTECT, related_name="slots")
    stratum = models.CharField(max_length=200)
    sequence = models.PositiveIntegerField()
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=20)
    block = models.PositiveIntegerField(null=True, blank=True, help_text="Permuted block number (generated lists).")
    block_size = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["list", "stratum", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["list", "stratum", "sequence"], name="slot_sequence_unique"),
            models.UniqueConstraint(fields=["list", "code"], name="slot_code_unique"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="slot_sequence_positive"),
        ]

    def __str__(self):
        return f"{self.stratum} #{self.sequence}"


class RandomisationListAccess(models.Model):
    """Who looked at or downloaded a list, and when: concealment is only as good as its record."""

    list = models.ForeignKey(RandomisationList, on_delete=models.PROTECT, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(
        max_length=10,
        choices=[("view", "Viewed"), ("download", "Downloaded"), ("create", "Created"), ("secret", "Saw the secret")],
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} · {self.user} · {self.get_action_display().lower()}"
