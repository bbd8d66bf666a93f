"""A study's statistical analysis plan as loaded: the file's text, its hash and its validated content.

Like protocol versions, a loaded plan is never changed: a revised plan is a new file with a new version.
"""

from django.conf import settings
from django.db import models

from ecrf.models.organisation import Study


class AnalysisPlanVersion(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="analysis_plans")
    version = models.CharField(max_length=20)
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the file's text as loaded.")
    source_name = models.CharField(max_length=200)
    source_text = models.TextField(help_text="The file exactly as loaded.")
    content = models.JSONField(help_text="The plan as validated (analysis.plan.Plan), defaults filled in.")
    loaded_at = models.DateTimeField(auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["study__code", "loaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="analysis_plan_version_unique"),
            models.UniqueConstraint(fields=["study", "sha256"], name="analysis_plan_content_unique"),
        ]

    def __str__(self):
        return f"{self.study.code} analysis plan {self.version}"
