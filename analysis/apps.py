from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Analysis"

    def ready(self):
        from ecrf.models.changes import refresh_wanted

        refresh_wanted.connect(_queue_refresh, dispatch_uid="analysis-refresh-report")


def _queue_refresh(sender, study_ids, **kwargs):
    """Queue each study's recomputation in the writing transaction (the database backend: rolled back with it)."""
    from analysis.tasks import refresh_report

    for study_id in study_ids:
        refresh_report.enqueue(study_id)
