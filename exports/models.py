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
