"""The record of every export: who wrote which study's file, in what format, and the SHA-256 that proves it."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportLog(models.Model):
    """One export as written; never changed afterwards."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: exported on the command line.",
    )
    exported_at = models.DateTimeField(default=timezone.now)
    study = models.ForeignKey("ecrf.Study", on_delete=models.PROTECT, related_name="exports")
    format = models.CharField(max_length=10)
    deidentified = models.BooleanField(default=False)
    cut = models.PositiveIntegerField(null=True, blank=True, help_text="The data cut exported; empty: live data.")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the file as written.")
    row_counts = models.JSONField(default=dict, help_text="Rows of each file inside the export, by file name.")

    class Meta:
        ordering = ["-exported_at", "-pk"]

    def __str__(self):
        return f"{self.study} {self.format} export of {self.exported_at:%Y-%m-%d %H:%M}"

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


class ExportJob(models.Model):
    """An export (or a data cut, ``format="cut"``) asked for on the export page and done by a task worker; an
    export's file is kept for download."""

    CUT = "cut"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    study = models.ForeignKey("ecrf.Study", on_delete=models.PROTECT, related_name="export_jobs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    format = models.CharField(max_length=10)
    deidentified = models.BooleanField(default=False)
    cut = models.PositiveIntegerField(
        null=True, blank=True, help_text="The data cut exported (or declared, for a cut job); empty: live data."
    )
    label = models.CharField(max_length=200, blank=True, help_text="A cut job's label for the cut.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    task_id = models.CharField(max_length=64, blank=True, help_text="The task queue's id of the job.")
    files_done = models.PositiveIntegerField(default=0, help_text="Forms written so far.")
    files_total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the export failed, as the data manager should read it.")
    log = models.OneToOneField(ExportLog, on_delete=models.PROTECT, null=True, blank=True, related_name="job")
    path = models.CharField(max_length=255, blank=True, help_text="The file, relative to EXPORT_ROOT.")

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="done")
                | models.Q(log__isnull=False)
                | models.Q(format="cut", cut__isnull=False),
                name="export_job_done_has_log",
            ),
        ]

    def __str__(self):
        return f"{self.study} {self.format} export #{self.pk} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return round(100 * self.files_done / self.files_total) if self.files_total else 0


class SubjectPseudonym(models.Model):
    """A subject's identity in de-identified exports: its pseudonym and its secret date offset, made once.

    Never shown on a page or written to an export: an export holds the pseudonym and the shifted dates only.
    """

    subject = models.OneToOneField("ecrf.Subject", on_delete=models.PROTECT, related_name="+")
    pseudonym = models.CharField(max_length=20, unique=True)
    shift_days = models.SmallIntegerField(help_text="Days added to every date of the subject in de-identified exports.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shift_days__gte=-365, shift_days__lte=365) & ~models.Q(shift_days=0),
                name="pseudonym_shift_within_a_year",
            ),
        ]

    def __str__(self):
        return self.pseudonym
