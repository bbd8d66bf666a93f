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

from analysis.frozen import CutDamaged
from analysis.models import DataCut
from ecrf.models import Study
from exports import sources
from exports.cuts import declare_cut
from exports.models import ExportJob
from exports.selectors import FORMS
from exports.services import ExportUnavailable, check_available, export_study

logger = logging.getLogger(__name__)

SUFFIXES = {"xlsx": "xlsx", "odm": "xml"}  # every other format is a zip


def file_name(job: ExportJob) -> str:
    """The download's name: study, format, job number and time, e.g. ``DLC-csv-12-20261201T1530Z.zip``."""
    stamp = job.requested_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    kind = f"{job.format}-deidentified" if job.deidentified else job.format
    if job.cut is not None:
        kind = f"{kind}-cut{job.cut}"
    return f"{job.study.code}-{kind}-{job.pk}-{stamp}.{SUFFIXES.get(job.format, 'zip')}"


def request_export(study: Study, fmt: str, *, by, deidentify: bool = False, cut: int | None = None) -> ExportJob:
    """Queue an export of ``study`` in ``fmt`` (of data cut ``cut``, else live) for a task worker."""
    check_available(fmt)
    if cut is not None and not DataCut.objects.filter(study=study, number=cut).exists():
        raise ExportUnavailable(f"{study.code} has no data cut {cut}", field="cut")
    return _queue(ExportJob(study=study, requested_by=by, format=fmt, deidentified=deidentify, cut=cut))


def request_cut(study: Study, *, label: str, by) -> ExportJob:
    """Queue the declaration of ``study``'s next data cut (exports/cuts.py) for a task worker."""
    if not label.strip():
        raise ExportUnavailable("A data cut needs a label saying what it is for.", field="label")
    return _queue(ExportJob(study=study, requested_by=by, format=ExportJob.CUT, label=label.strip()))


def _queue(job: ExportJob) -> ExportJob:
    """Save ``job`` and put it on the task queue: the job and its queue entry commit together, or neither."""
    from exports.tasks import run_export_job  # the task module imports this one

    job.files_total = len(FORMS)
    with transaction.atomic():
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
        if job.format == ExportJob.CUT:
            token = sources.progress.set(_report(job.pk))
            try:
                cut = declare_cut(job.study, label=job.label, by=job.requested_by)
            finally:
                sources.progress.reset(token)
            _finish(job, status=ExportJob.Status.DONE, cut=cut.number, files_done=job.files_total)
            return job
        relative = Path(job.study.code) / file_name(job)
        target = Path(settings.EXPORT_ROOT) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        frozen = DataCut.objects.get(study=job.study, number=job.cut) if job.cut is not None else None
        log = export_study(
            job.study,
            job.format,
            target,
            by=job.requested_by,
            progress=_report(job.pk),
            deidentify=job.deidentified,
            cut=frozen,
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
    if isinstance(error, ExportUnavailable | CutDamaged):
        return str(error)
    if isinstance(error, OSError):
        return f"The file could not be written to the export folder ({type(error).__name__}); ask the administrator."
    return f"The export stopped on an unexpected error ({type(error).__name__}); the task worker's log has the details."


def _finish(job: ExportJob, **changes) -> None:
    for name, value in {**changes, "finished_at": timezone.now()}.items():
        setattr(job, name, value)
    with transaction.atomic():
        job.save()
