"""The analysis of a study as last computed, kept until its study's data, protocol or plan change."""

from django.conf import settings
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


class DataCut(models.Model):
    """A declared data cut: the study's records and analysis datasets frozen as files, with their SHA-256.

    Nothing in a cut changes when data are corrected later: exports ``--cut N`` and the dashboards of a cut read
    these files (checked against ``manifest`` before use, analysis/frozen.py), never the live tables. Declared by
    ``exports.cuts.declare_cut``.
    """

    study = models.ForeignKey("ecrf.Study", on_delete=models.PROTECT, related_name="data_cuts")
    number = models.PositiveIntegerField(help_text="The cut's number within the study: 1, 2, ...")
    label = models.CharField(max_length=200, help_text='What the cut is for, e.g. "Interim analysis 1".')
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    declared_at = models.DateTimeField(help_text="The data are those committed at this moment.")
    data_version = models.PositiveBigIntegerField(
        help_text="The study's data version frozen (every audited write raises it)."
    )
    protocol_version = models.CharField(max_length=20)
    plan_version = models.CharField(max_length=40, blank=True)
    engine_version = models.CharField(max_length=64, help_text="SHA-256 of the analysis code that made the report.")
    inputs = models.JSONField(help_text="Plan, arms, endpoints and study as the report used them.")
    path = models.CharField(max_length=255, help_text="The cut's folder, relative to EXPORT_ROOT.")
    manifest = models.JSONField(help_text="Every file of the cut with its rows and SHA-256.")

    class Meta:
        ordering = ["study", "-number"]
        constraints = [models.UniqueConstraint(fields=["study", "number"], name="data_cut_number_unique")]

    def __str__(self):
        return f"{self.study} cut {self.number} ({self.label})"

    @property
    def rows(self) -> int:
        return self.manifest["files"]["bundle.zip"]["rows"]

    @property
    def report_sha256(self) -> str:
        return self.manifest["files"]["report.json"]["sha256"]
