"""The task queue's entry points for exports (django-tasks; `manage.py db_worker` runs them)."""

from django_tasks import task

from exports import jobs


@task()
def run_export_job(job_id: int) -> str:
    """Write export job ``job_id``; returns its status."""
    return jobs.run_job(job_id).status
