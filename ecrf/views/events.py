"""Infusions at their visit, adverse events and medication of a subject."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from ecrf.access import FORM_CAPABILITY, require_form_access, require_study_role
from ecrf.forms_events import AdverseEventForm, InfusionForm, MedicationForm
from ecrf.forms_screening import add_service_errors
from ecrf.roles import Capability
from ecrf.selectors import events as event_reads
from ecrf.selectors import history
from ecrf.selectors import labs as visit_reads
from ecrf.services import events, release
from ecrf.services.locking import StaleWrite
from ecrf.templatetags.display import infusion_name
from ecrf.views.lookups import conflict_with_saved, posted, refused_as_stale, subject_or_404
from ecrf.views.monitoring_panel import monitoring_panel


def _subject(request, study_code, pk, *, reviewable: bool = False):
    """(access, subject, review). A ``reviewable`` page (of records already entered) also opens for monitors and
    data managers, as a read-only review (review True); a page for a new record is the site's only."""
    if not reviewable:
        access = require_study_role(request, study_code, Capability.ENTER_DATA)
        return access, subject_or_404(access, pk, Capability.ENTER_DATA), False
    access, review = require_form_access(request, study_code)
    return access, subject_or_404(access, pk, FORM_CAPABILITY[review]), review


@login_required
@require_http_methods(["GET", "POST"])
def infusion(request, study_code, pk, visit_code):
    access, subject, review = _subject(request, study_code, pk, reviewable=True)
    visit = visit_reads.visit_of(subject, visit_code)
    allocation = getattr(subject, "allocation", None)
    if visit is None or not visit.definition.infusion_number or allocation is None or not allocation.arm.gets_infusions:
        raise Http404("No infusion is planned for this subject at this visit.")
    given = event_reads.infusion_at(subject, visit.definition.infusion_number)
    placebo = allocation.arm.infusions == "placebo"
    plan = event_reads.infusion_plan(subject)
    form = InfusionForm(
        posted(request),
        criteria=event_reads.release_criteria(subject),
        placebo=placebo,
        initial={
            "body_weight_kg": visit.weight_kg or subject.weight_kg,
            "observation_hours": event_reads.observation_hours(subject),
        },
    )
    if given is None and request.method == "POST" and form.is_valid():
        try:
            events.record_infusion(
                subject=subject,
                visit=visit,
                number=visit.definition.infusion_number,
                started_at=form.cleaned_data["started_at"],
                body_weight_kg=form.cleaned_data["body_weight_kg"],
                release=form.release(),
                release_deviation=form.cleaned_data.get("release_deviation") or "",
                by=request.user,
                **form.details(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            name = infusion_name(visit.definition.infusion_number, placebo)
            messages.success(request, f"{name} of {subject.subject_code} recorded.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    context = {
        "access": access,
        "subject": subject,
        "visit": visit,
        "form": form,
        "given": given,
        "review": review,
        "placebo": placebo,
        "plan": plan,
        "dose_outside_plan": event_reads.dose_outside_plan(given, plan),
        **monitoring_panel(access, subject, given, review=review),
    }
    return render(request, "ecrf/infusion_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event(request, study_code, pk):
    access, subject, _ = _subject(request, study_code, pk)
    form = AdverseEventForm(posted(request), infusions=event_reads.infusions_of(subject))
    if request.method == "POST" and form.is_valid():
        try:
            events.record_adverse_event(subject=subject, by=request.user, **form.facts())
        except ValidationError as error:
            add_service_errors(form, error)
        except IntegrityError:
            messages.info(request, "Adverse event already saved from this form; nothing was saved twice.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
        else:
            messages.success(request, f"Adverse event of {subject.subject_code} recorded.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    return render(
        request,
        "ecrf/subject_form.html",
        {"access": access, "subject": subject, "form": form, "title": "Adverse event"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def medication(request, study_code, pk):
    access, subject, _ = _subject(request, study_code, pk)
    form = MedicationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            events.record_medication(subject=subject, by=request.user, **form.facts())
        except ValidationError as error:
            add_service_errors(form, error)
        except IntegrityError:
            messages.info(request, "Medication already saved from this form; nothing was saved twice.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
        else:
            messages.success(request, f"Medication of {subject.subject_code} recorded.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    return render(
        request,
        "ecrf/subject_form.html",
        {"access": access, "subject": subject, "form": form, "title": "Concomitant medication"},
    )


STALE = "Someone saved this {what} after you opened it. Nothing of yours was saved: reload to see it."
# The records with a correction page and a history page of their own, by the name their URLs use.
RECORDS = {
    "adverse-event": ("Adverse event", event_reads.adverse_event_of),
    "medication": ("Medication", event_reads.medication_of),
    "infusion": ("Infusion", event_reads.infusion_of),
}


def _record_or_404(subject, kind: str, record_pk: int):
    if kind not in RECORDS:
        raise Http404("No such kind of record.")
    record = RECORDS[kind][1](subject, record_pk)
    if record is None:
        raise Http404("No such record.")
    return record


def _correct(request, access, subject, record, form, *, change, kind: str, title: str, version: int, review: bool):
    """The shared end of every correction page: refuse a stale form, save with the reason, or show the form."""
    stale = refused_as_stale(request, form, version, STALE.format(what=RECORDS[kind][0].lower()))
    if not stale and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            change(record, by=request.user, reason=data["reason"], expected_version=data["version"], **form.facts())
        except ValidationError as error:
            add_service_errors(form, error)
            stale = isinstance(error, StaleWrite)
        else:
            messages.success(request, f"{title} of {subject.subject_code} saved.")
            return redirect("ecrf:subject_detail", access.study.code, subject.pk)
    history_url = reverse("ecrf:record_history", args=[access.study.code, subject.pk, kind, record.pk])
    context = {
        "access": access,
        "subject": subject,
        "form": form,
        "title": title,
        "history_url": history_url,
        "review": review,
        "conflict": conflict_with_saved(form, history.last_saved(record)) if stale else None,
        **monitoring_panel(access, subject, record, review=review, form=form),
    }
    return render(request, "ecrf/subject_form.html", context, status=409 if stale else 200)


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_edit(request, study_code, pk, event_pk):
    access, subject, review = _subject(request, study_code, pk, reviewable=True)
    event = _record_or_404(subject, "adverse-event", event_pk)
    version = history.record_version(event)
    form = AdverseEventForm(
        posted(request), instance=event, infusions=event_reads.infusions_of(subject), initial={"version": version}
    )
    return _correct(
        request,
        access,
        subject,
        event,
        form,
        change=events.change_adverse_event,
        kind="adverse-event",
        title=f"Adverse event: {event.term}",
        version=version,
        review=review,
    )


@login_required
@require_http_methods(["GET", "POST"])
def medication_edit(request, study_code, pk, medication_pk):
    access, subject, review = _subject(request, study_code, pk, reviewable=True)
    medication = _record_or_404(subject, "medication", medication_pk)
    version = history.record_version(medication)
    form = MedicationForm(posted(request), instance=medication, initial={"version": version})
    return _correct(
        request,
        access,
        subject,
        medication,
        form,
        change=events.change_medication,
        kind="medication",
        title=f"Medication: {medication.drug}",
        version=version,
        review=review,
    )


@login_required
@require_http_methods(["GET", "POST"])
def infusion_edit(request, study_code, pk, infusion_pk):
    access, subject, review = _subject(request, study_code, pk, reviewable=True)
    infusion = _record_or_404(subject, "infusion", infusion_pk)
    version = history.infusion_version(infusion)
    initial = {**InfusionForm.initial_from(infusion), **event_reads.release_as_entered(infusion), "version": version}
    form = InfusionForm(
        posted(request),
        criteria=event_reads.release_criteria(subject),
        placebo=infusion.is_placebo,
        editing=True,
        initial=initial,
    )
    return _correct(
        request,
        access,
        subject,
        infusion,
        form,
        change=release.correct_infusion,
        kind="infusion",
        title=infusion_name(infusion.number, infusion.is_placebo),
        version=version,
        review=review,
    )


@login_required
@require_GET
def record_history(request, study_code, pk, kind, record_pk):
    access = require_study_role(request, study_code, Capability.VIEW_SITE)
    subject = subject_or_404(access, pk, Capability.VIEW_SITE)
    record = _record_or_404(subject, kind, record_pk)
    label = RECORDS[kind][0]
    context = {
        "access": access,
        "subject": subject,
        "heading": f"History of {label.lower()} {record.pk}: {record}",
        "crumb": f"{label} history",
        "changes": history.record_history(label, record),
        "chain_problems": history.record_chain_problems(record),
    }
    return render(request, "ecrf/history.html", context)
