"""Screening at a site: register a subject, answer the eligibility checklist, record consent or screen failure,
and correct the registration facts or the consent with a reason.

Every POST that saves redirects (so a reload or double submit saves nothing twice); a refusal re-shows the form
with what was typed and the reason on the field concerned.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ecrf.access import FORM_CAPABILITY, require_form_access, require_study_role
from ecrf.forms_screening import (
    ConsentForm,
    CorrectConsentForm,
    CorrectRegistrationForm,
    DeathForm,
    EligibilityForm,
    HccForm,
    LostForm,
    RegisterSubjectForm,
    ScreenFailureForm,
    WithdrawalForm,
    add_service_errors,
)
from ecrf.roles import Capability
from ecrf.selectors import history
from ecrf.selectors import subjects as subject_reads
from ecrf.services import events, registration, subjects
from ecrf.services.locking import StaleWrite
from ecrf.views.lookups import conflict_with_saved, posted, refused_as_stale, subject_or_404
from ecrf.views.monitoring_panel import monitoring_panel


@login_required
@require_http_methods(["GET", "POST"])
def register(request, study_code, site_code):
    access = require_study_role(request, study_code, Capability.ENTER_DATA, site_code=site_code)
    proposed = subject_reads.next_subject_code(access.study, access.site)
    form = RegisterSubjectForm(posted(request), initial={"subject_code": proposed})
    if request.method == "POST" and form.is_valid():
        try:
            subject = subjects.register_subject(
                study=access.study, site=access.site, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except IntegrityError:  # the same code submitted twice at once: the database kept one
            form.add_error("subject_code", "A subject with this code already exists in the study.")
        else:
            messages.success(request, f"Subject {subject.subject_code} registered.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    return render(request, "ecrf/screening_form.html", {"access": access, "form": form, "title": "Register a subject"})


@login_required
@require_http_methods(["GET", "POST"])
def eligibility(request, study_code, pk):
    access, review = require_form_access(request, study_code)
    subject = subject_or_404(access, pk, FORM_CAPABILITY[review])
    saved = {a.criterion.code: a.answer for a in subject_reads.eligibility_answers(subject)}
    criteria = subject_reads.eligibility_criteria(subject)
    version = subject_reads.eligibility_version(subject)
    form = EligibilityForm(
        posted(request), criteria=criteria, answers=saved, facts=subject.facts(), initial={"version": version}
    )
    stale = refused_as_stale(request, form, version, STALE)
    if not stale and request.method == "POST" and form.is_valid():
        try:
            subjects.record_eligibility(
                subject,
                answers=form.answers(),
                by=request.user,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            stale = isinstance(error, StaleWrite)
        else:
            messages.success(request, f"Eligibility checklist of {subject.subject_code} saved.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    conflict = conflict_with_saved(form, history.checklist_last_saved(subject)) if stale else None
    context = {
        "access": access,
        "subject": subject,
        "form": form,
        "title": "Eligibility checklist",
        "conflict": conflict,
        "review": review,
        **_checklist_panel(access, subject, review),
    }
    return render(request, "ecrf/screening_form.html", context, status=409 if stale else 200)


STALE = "Someone saved this checklist after you opened it. Nothing of yours was saved: reload to see their answers."


@login_required
@require_http_methods(["GET", "POST"])
def consent(request, study_code, pk):
    return _subject_form(
        request, study_code, pk, ConsentForm, subjects.record_consent, "Record consent", "Consent recorded."
    )


@login_required
@require_http_methods(["GET", "POST"])
def screen_failure(request, study_code, pk):
    return _subject_form(
        request,
        study_code,
        pk,
        ScreenFailureForm,
        subjects.mark_screen_failed,
        "Screen failure",
        "Screen failure recorded.",
    )


def _subject_form(request, study_code, pk, form_class, service, title, done):
    access = require_study_role(request, study_code, Capability.ENTER_DATA)
    subject = subject_or_404(access, pk, Capability.ENTER_DATA)
    form = form_class(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            service(subject, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{subject.subject_code}: {done}")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    return render(
        request, "ecrf/screening_form.html", {"access": access, "subject": subject, "form": form, "title": title}
    )


@login_required
@require_http_methods(["GET", "POST"])
def correct_registration(request, study_code, pk):
    return _correction(
        request,
        study_code,
        pk,
        CorrectRegistrationForm,
        CorrectRegistrationForm.FACTS,
        registration.correct_registration,
        "Correct registration",
        form_kwargs=lambda subject: {"tied_answers": subject_reads.tied_answers(subject)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def correct_consent(request, study_code, pk):
    fields = ("consent_date", "consent_version")
    return _correction(
        request, study_code, pk, CorrectConsentForm, fields, registration.correct_consent, "Correct consent"
    )


def _correction(request, study_code, pk, form_class, fields, service, title, form_kwargs=lambda subject: {}):
    """A form of the subject's saved ``fields``, opened at the subject's version and saved with a reason; for
    monitors and data managers, the same form read-only."""
    access, review = require_form_access(request, study_code)
    subject = subject_or_404(access, pk, FORM_CAPABILITY[review])
    version = history.record_version(subject)
    initial = {**{f: getattr(subject, f) for f in fields}, "version": version}
    form = form_class(posted(request), initial=initial, **form_kwargs(subject))
    stale = refused_as_stale(request, form, version, STALE_SUBJECT)
    if not stale and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            service(
                subject, by=request.user, reason=data["reason"], expected_version=data["version"], **form.correction()
            )
        except ValidationError as error:
            add_service_errors(form, error, getattr(form, "field_of", None))
            stale = isinstance(error, StaleWrite)
        else:
            messages.success(request, f"{subject.subject_code}: {title.lower().removeprefix('correct ')} corrected.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    conflict = conflict_with_saved(form, history.last_saved(subject)) if stale else None
    context = {
        "access": access,
        "subject": subject,
        "form": form,
        "title": title,
        "conflict": conflict,
        "review": review,
        **monitoring_panel(access, subject, subject, review=review),
    }
    return render(request, "ecrf/screening_form.html", context, status=409 if stale else 200)


STALE_SUBJECT = "Someone saved this subject after you opened the form. Nothing of yours was saved: reload to see it."


def _record_hcc(subject, *, by, **data):
    return events.record_hcc(subject=subject, by=by, **data)


# Endpoint and censoring events: (form, service, title, message) by the URL's event name.
OUTCOMES = {
    "death": (DeathForm, subjects.record_death, "Death", "death recorded."),
    "withdrawal": (WithdrawalForm, subjects.withdraw, "Withdrawal", "withdrawal recorded."),
    "lost": (LostForm, subjects.lose_to_follow_up, "Lost to follow-up", "recorded as lost to follow-up."),
    "hcc": (HccForm, _record_hcc, "HCC diagnosis", "HCC diagnosis recorded."),
}


@login_required
@require_http_methods(["GET", "POST"])
def outcome(request, study_code, pk, event):
    if event not in OUTCOMES:
        raise Http404("No such event.")
    form_class, service, title, done = OUTCOMES[event]
    return _subject_form(request, study_code, pk, form_class, service, title, done)


def _checklist_panel(access, subject, review: bool) -> dict:
    """The checklist's monitoring panel: queries on the subject or any answer; verifying it marks each answer."""
    answers = list(subject_reads.eligibility_answers(subject))
    return monitoring_panel(access, subject, subject, answers, review=review, verified_as=answers)
