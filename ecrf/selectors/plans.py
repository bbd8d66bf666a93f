"""Reads of loaded analysis plans."""

from ecrf.models import AnalysisPlanVersion, Study


def latest_plan(study: Study) -> AnalysisPlanVersion | None:
    """The study's most recently loaded plan version; None when no plan has been loaded."""
    return AnalysisPlanVersion.objects.filter(study=study).order_by("-loaded_at", "-pk").first()
