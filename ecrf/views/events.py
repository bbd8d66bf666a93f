"""Infusions at their visit, adverse events and medication of a subject."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ecrf.access import require_study_role
from ecrf.forms_events import AdverseEventForm, InfusionForm, MedicationForm
from ecrf.forms_screening import add_service_errors
from ecrf.roles import Capability
from ecrf.selectors import events as event_reads
from ecrf.selectors import history
from ecrf.selectors import labs as visit_reads
from ecrf.services import events
from ecrf.views.lookups import refused_as_stale, subject_or_404


def _subject(request, study_code, pk):
    access = require_study_role(request, study_code, Capability.ENTER_DATA)
    return access, subject_or_404(access, pk, Capability.ENTER_DATA)


@login_required
@require_http_methods(["GET", "POST"])
def infusion(request, study_code, pk, visit_code):
    access, subject = _subject(request, study_code, pk)
    visit = visit_reads.visit_of(subject, visit_code)
    allocation = getattr(subject, "allocation", None)
    if visit is None or not visit.definition.infusion_number or allocation is None or not allocation.arm.gets_infusions:
        raise Http404("No infusion is planned for this subject at this visit.")
    given = event_reads.infusion_at(subject, visit.definition.infusion_number)
    placebo = allocation.arm.infusions == "placebo"
    form = InfusionForm(
        request.POST or None,
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
            messages.success(
                request, f"Infusion {visit.definition.infusion_number} of {subject.subject_code} recorded."
            )
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    context = {
        "access": access,
        "subject": subject,
        "visit": visit,
        "form": form,
        "given": given,
        "placebo": placebo,
        "plan": event_reads.infusion_plan(subject),
    }
    return render(request, "ecrf/infusion_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event(request, study_code, pk):
    access, subject = _subject(request, study_code, pk)
    form = AdverseEventForm(request.POST or None, infusions=event_reads.infusions_of(subject))
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
    access, subject = _subject(request, study_code, pk)
    form = MedicationForm(request.POST or None)
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


STALE = "Someone saved this adverse event after you opened it. Nothing of yours was saved: reload to see it."


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_edit(request, study_code, pk, event_pk):
    access, subject = _subject(request, study_code, pk)
    event = event_reads.adverse_event_of(subject, event_pk)
    if event is None:
        raise Http404("No such adverse event.")
    version = history.record_version(event)
    form = AdverseEventForm(
        request.POST or None, instance=event, infusions=event_reads.infusions_of(subject), initial={"version": version}
    )
    if not refused_as_stale(request, form, version, STALE) and request.method == "POST" and form.is_valid():
        facts = {k: v for k, v in form.facts().items() if k != "submission"}
        try:
            events.change_adverse_event(event, by=request.user, reason=form.cleaned_data["reason"], **facts)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Adverse event {event.term} of {subject.subject_code} saved.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    context = {"access": access, "subject": subject, "form": form, "title": f"Adverse event: {event.term}"}
    return render(request, "ecrf/subject_form.html", context)
