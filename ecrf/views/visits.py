"""A visit's own form (date and weight, or missed) and its clinical status form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ecrf.access import FORM_CAPABILITY, require_form_access
from ecrf.forms_screening import add_service_errors
from ecrf.forms_visits import ClinicalStatusForm, VisitForm
from ecrf.selectors import deviations, history
from ecrf.selectors import labs as visit_reads
from ecrf.services import visits
from ecrf.services.locking import StaleWrite
from ecrf.views.lookups import conflict_with_saved, posted, refused_as_stale, visit_or_404
from ecrf.views.monitoring_panel import monitoring_panel


def _visit(request, study_code, pk, visit_code, form_code):
    """(access, subject, visit, review): review is True for a monitor's or data manager's read-only look."""
    access, review = require_form_access(request, study_code)
    subject, visit = visit_or_404(access, pk, visit_code, FORM_CAPABILITY[review])
    if form_code not in visit.definition.forms:
        raise Http404("This visit has no such form.")
    return access, subject, visit, review


@login_required
@require_http_methods(["GET", "POST"])
def visit_form(request, study_code, pk, visit_code):
    access, subject, visit, review = _visit(request, study_code, pk, visit_code, "visit")
    initial = {
        "actual_date": visit.actual_date,
        "weight_kg": visit.weight_kg,
        "missed": visit.status == "missed",
        "missed_reason": visit.missed_reason,
        "window_reason": getattr(deviations.window_deviation_of(visit), "description", ""),
    }
    version = history.record_version(visit)
    window = (visit.window_start, visit.window_end)
    form = VisitForm(posted(request), initial={**initial, "version": version}, window=window)
    stale = refused_as_stale(request, form, version, STALE)
    if not stale and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["missed"]:
                visits.mark_missed(
                    visit,
                    reason=data["missed_reason"],
                    change_reason=data["reason"],
                    by=request.user,
                    expected_version=data["version"],
                )
            else:
                visits.record_visit(
                    visit,
                    actual_date=data["actual_date"],
                    weight_kg=data["weight_kg"],
                    by=request.user,
                    reason=data["reason"],
                    window_reason=data["window_reason"],
                    expected_version=data["version"],
                )
        except ValidationError as error:
            add_service_errors(form, error)
            stale = isinstance(error, StaleWrite)
        else:
            messages.success(request, f"{visit.definition.code} of {subject.subject_code} saved.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    context = {
        "access": access,
        "review": review,
        "subject": subject,
        "visit": visit,
        "form": form,
        "title": "Visit",
        "signature": visit_reads.standing_signature(visit),
        **monitoring_panel(access, subject, visit, review=review, form=form),
        "conflict": conflict_with_saved(form, history.last_saved(visit)) if stale else None,
    }
    return render(request, "ecrf/visit_form.html", context, status=409 if stale else 200)


@login_required
@require_http_methods(["GET", "POST"])
def clinical_status_form(request, study_code, pk, visit_code):
    access, subject, visit, review = _visit(request, study_code, pk, visit_code, "clinical_status")
    current = visit_reads.clinical_status_of(visit)
    version = history.record_version(current)
    form = ClinicalStatusForm(
        posted(request),
        instance=current,
        # The visit date is only a first guess: a saved assessment keeps its own date.
        initial={"version": version, **({} if current else {"assessed_on": visit.actual_date})},
    )
    stale = refused_as_stale(request, form, version, STALE)
    if not stale and request.method == "POST" and form.is_valid():
        try:
            visits.save_clinical_status(
                visit,
                by=request.user,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
                **form.findings(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
            stale = isinstance(error, StaleWrite)
        else:
            messages.success(request, f"Clinical status at {visit.definition.code} of {subject.subject_code} saved.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    context = {
        "access": access,
        "review": review,
        "subject": subject,
        "visit": visit,
        "form": form,
        "title": "Clinical status",
        "signature": visit_reads.standing_signature(visit),
        **monitoring_panel(access, subject, current, review=review, form=form),
        "conflict": conflict_with_saved(form, history.last_saved(current)) if stale else None,
    }
    return render(request, "ecrf/visit_form.html", context, status=409 if stale else 200)


STALE = "Someone saved this form after you opened it. Nothing of yours was saved: reload to see their changes."
