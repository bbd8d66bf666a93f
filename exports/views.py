"""The export page: data managers (and roles the protocol grants) queue exports, follow them and download them.

Every view asks ``export_access`` first: 404 outside the study, 403 for a role that may not export.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from analysis.frozen import data_cuts
from ecrf.access import StudyAccess, may_export, require_study_role
from ecrf.roles import Capability
from exports import jobs, selectors
from exports.models import ExportJob
from exports.services import AVAILABLE_FORMATS, FORMAT_LABELS, ExportUnavailable, stored_file


def export_access(request, study_code: str) -> StudyAccess:
    """The user's access to the study's exports: data managers, and roles the study's protocol grants."""
    access = require_study_role(request, study_code, Capability.VIEW_STUDY)
    if not may_export(access):
        raise PermissionDenied(f"Your role in {access.study.code} does not allow this: export datasets.")
    return access


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[(f, FORMAT_LABELS[f]) for f in AVAILABLE_FORMATS], widget=forms.RadioSelect)
    cut = forms.TypedChoiceField(
        label="Data",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="A data cut exports the data frozen when it was declared; later corrections are not in it.",
    )
    deidentify = forms.BooleanField(
        required=False,
        label="De-identify",
        help_text="Dates shifted per subject, free text dropped, codes replaced by pseudonyms, ages over 89 top-coded.",
    )

    def __init__(self, *args, cuts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cut"].choices = [("", "Live data, as stored now")] + [
            (cut.number, f"Cut {cut.number}: {cut.label} (as of {cut.declared_at:%Y-%m-%d %H:%M} UTC)") for cut in cuts
        ]


class CutForm(forms.Form):
    label = forms.CharField(
        max_length=200,
        label="What the cut is for",
        help_text='e.g. "Interim analysis 1". Everything entered up to now is frozen.',
    )


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request, study_code: str):
    access = export_access(request, study_code)
    cuts = data_cuts(access.study)
    posted = request.POST if request.method == "POST" else None
    declaring = posted is not None and "declare_cut" in posted
    form = ExportForm(None if declaring else posted, initial={"format": "csv"}, cuts=cuts)
    cut_form = CutForm(posted if declaring else None)
    if posted is not None:
        job = _queue(request, access.study, cut_form if declaring else form, declaring)
        if job is not None:
            return redirect("exports:page", study_code)
    export_jobs = selectors.export_jobs(access.study)
    log, log_total = selectors.export_log(access.study)
    pending = any(job.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING) for job in export_jobs)
    context = {
        "study": access.study,
        "form": form,
        "cut_form": cut_form,
        "cuts": cuts,
        "jobs": export_jobs,
        "log": log,
        "log_total": log_total,
        "pending": pending,
    }
    invalid = form.errors or cut_form.errors
    return render(request, "exports/export_page.html", context, status=400 if invalid else 200)


def _queue(request, study, form, declaring: bool):
    """The job the valid ``form`` asks for, queued with a message; None (errors on the form) otherwise."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        if declaring:
            job = jobs.request_cut(study, label=data["label"], by=request.user)
        else:
            job = jobs.request_export(
                study, data["format"], by=request.user, deidentify=data["deidentify"], cut=data["cut"]
            )
    except ExportUnavailable as error:
        form.add_error(error.field, str(error))
        return None
    what = f"Data cut ({job.label})" if declaring else f"Export #{job.pk} ({FORMAT_LABELS[job.format]})"
    messages.success(request, f"{what} is queued.")
    return job


@login_required
@require_GET
def download(request, study_code: str, job_id: int):
    access = export_access(request, study_code)
    job = selectors.export_job(access.study, job_id)
    if job is None or job.status != ExportJob.Status.DONE:
        raise Http404("No such export ready for download.")
    handle = stored_file(job.path, job.log.sha256)
    if handle is None:
        raise Http404("The export's file is no longer there, or no longer matches its logged SHA-256.")
    return FileResponse(handle, as_attachment=True, filename=job.log.file_name)
