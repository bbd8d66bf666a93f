"""The analysis of a study as last computed, kept until its study's data, protocol or plan change."""

from django.db import models


class StudyReport(models.Model):
    """One study's report dict (analysis/report.py) and what it was computed from.

    Current while the study's data version (``ecrf.models.changes``) and latest protocol and plan versions still
    equal the ones stored here; otherwise it is recomputed before anyone sees it.
    """

    study = models.OneToOneField("ecrf.Study", on_delete=models.CASCADE, primary_key=True, related_name="+")
    data_version = models.PositiveBigIntegerField()
    protocol_version = models.CharField(max_length=20)
    plan_version = models.CharField(max_length=40)
    engine_version = models.CharField(
        max_length=64, default="", help_text="SHA-256 of the analysis code that computed it: a new release recomputes."
    )
    computed_at = models.DateTimeField()
    data_changed_at = models.DateTimeField(null=True, blank=True)
    compute_ms = models.PositiveIntegerField(help_text="How long the computation took, in milliseconds.")
    report = models.JSONField()
    trajectories = models.JSONField(default=dict, help_text="Each subject's values per visit, for the figures.")
    figures = models.JSONField(default=dict, help_text="SVG of the figures drawn from this report, by name.")

    def __str__(self):
        return f"report of study {self.study_id} at data version {self.data_version}"
