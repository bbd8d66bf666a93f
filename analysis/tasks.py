"""The task queue's entry points for the analysis (django-tasks; `manage.py db_worker` runs them)."""

from django_tasks import task

from analysis import live


@task()
def refresh_report(study_id: int) -> str:
    """Recompute study ``study_id``'s analysis unless current; returns what was done."""
    return live.refresh(study_id)
