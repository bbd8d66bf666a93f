"""Exports asked for on the export page: queued as a job, written by a task worker, kept for download.

``request_export`` records the job and enqueues ``exports.tasks.run_export_job`` in the same transaction (the
queue is a table of the same database: both are there, or neither);
``run_job`` (what the task does) writes the file under ``EXPORT_ROOT`` through ``export_study``, reporting each
form as it goes, and marks the job ready with its log row, or failed with the reason.
"""

import logging
from datetime import UTC
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ecrf.models import Study
from exports.models import ExportJob
from exports.selectors import FORMS
from exports.services import ExportUnavailable, check_available, export_study

logger = logging.getLogger(__name__)

SUFFIXES = {"xlsx": "xlsx", "odm": "xml"}  # every other format is a zip


def file_name(job: ExportJob) -> str:
    """The download's name: study, format, job number and time, e.g. ``DLC-csv-12-20261201T1530Z.zip``."""
    stamp = job.requested_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    kind = f"{job.format}-deidentified" if job.deidentified else job.format
    return f"{job.study.code}-{kind}-{job.pk}-{stamp}.{SUFFIXES.get(job.format, 'zip')}"


def request_export(study: Study, fmt: str, *, by, deidentify: bool = False) -> ExportJob:
    """Queue an export of ``study`` in ``fmt`` for a task worker; the job and its queue entry commit together."""
    from exports.tasks import run_export_job  # the task module imports this one

    check_available(fmt, deidentify)
    with transaction.atomic():
        job = ExportJob(study=study, requested_by=by, format=fmt, deidentified=deidentify, files_total=len(FORMS))
        job.full_clean()
        job.save()
        job.task_id = str(run_export_job.enqueue(job.pk).id)
        job.save(update_fields=["task_id"])
    return job


def _report(job_id: int):
    def report(done: int, total: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(files_done=done, files_total=total)

    return report


def run_job(job_id: int) -> ExportJob:
    """Write the job's export (a task worker calls this); a job already started or finished is left alone."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now()
    )
    job = ExportJob.objects.select_related("study", "requested_by").get(pk=job_id)
    if not claimed:
        return job
    try:
        relative = Path(job.study.code) / file_name(job)
        target = Path(settings.EXPORT_ROOT) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        log = export_study(
            job.study, job.format, target, by=job.requested_by, progress=_report(job.pk), deidentify=job.deidentified
        )
    except Exception as error:  # the job must say it failed, whatever broke; the worker logs the traceback
        logger.exception("Export job %s failed", job.pk)
        reason = _reason(error)
        _finish(job, status=ExportJob.Status.FAILED, error=reason)
        raise
    _finish(job, status=ExportJob.Status.DONE, log=log, path=str(relative), files_done=job.files_total)
    return job


def _reason(error: Exception) -> str:
    """What the page says of a failure: the rule broken, or where to look (paths stay in the worker's log)."""
    if isinstance(error, ExportUnavailable):
        return str(error)
    if isinstance(error, OSError):
        return f"The file could not be written to the export folder ({type(error).__name__}); ask the administrator."
    return f"The export stopped on an unexpected error ({type(error).__name__}); the task worker's log has the details."


def _finish(job: ExportJob, **changes) -> None:
    for name, value in {**changes, "finished_at": timezone.now()}.items():
        setattr(job, name, value)
    with transaction.atomic():
        job.save()
