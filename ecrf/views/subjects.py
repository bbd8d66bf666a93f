"""The subject page, and allocating a subject: randomise (randomised protocols) or assign (non-random ones)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ecrf.access import require_study_role
from ecrf.forms_randomisation import AssignArmForm
from ecrf.roles import Capability
from ecrf.selectors import cleanliness, worklist
from ecrf.selectors import events as event_reads
from ecrf.selectors import labs as lab_reads
from ecrf.selectors import randomisation as randomisation_reads
from ecrf.selectors import subjects as subject_reads
from ecrf.selectors.locks import standing_lock
from ecrf.services import randomisation, subjects
from ecrf.views.lookups import posted, subject_or_404


@login_required
def subject_detail(request, study_code, pk):
    access = require_study_role(request, study_code, Capability.VIEW_SITE)
    subject = subject_or_404(access, pk, Capability.VIEW_SITE)
    eligibility = subject_reads.eligibility_of(subject)
    calendar = worklist.subject_calendar(subject, timezone.localdate(), eligibility)
    can_sign = access.can(Capability.SIGN_FORMS)
    context = {
        "access": access,
        "subject": subject,
        "allocation": getattr(subject, "allocation", None),
        "eligibility": eligibility,
        "stratum": _allocation_stratum(subject),
        "calendar": calendar,
        "can_randomise": access.can(Capability.RANDOMISE) and subject.protocol.is_randomised,
        "can_assign": access.can(Capability.ASSIGN_ARM) and not subject.protocol.is_randomised,
        "screening_actions": _screening_actions(subject) if access.can(Capability.ENTER_DATA) else [],
        "outcome_actions": _outcome_actions(subject) if access.can(Capability.ENTER_DATA) else [],
        "correction_actions": _correction_actions(access, subject),
        "screening_visit": subject_reads.screening_visit(subject, [visit for visit, _, _ in calendar]),
        "can_sign": can_sign,
        "awaiting_signature": can_sign and any(v.status == "done" and v.signature is None for v, _, _ in calendar),
        "can_enter": access.can(Capability.ENTER_DATA),
        # Monitors and data managers open every record's page too, as a read-only review.
        "can_open_records": access.can(Capability.ENTER_DATA) or access.can(Capability.VERIFY_SOURCE),
        "gets_infusions": hasattr(subject, "allocation") and subject.allocation.arm.gets_infusions,
        "placebo_arm": hasattr(subject, "allocation") and subject.allocation.arm.infusions == "placebo",
        "adverse_events": event_reads.adverse_events_of(subject),
        "meld": lab_reads.meld_over_time(subject),
        "medications": event_reads.medications_of(subject),
        "can_unlock": access.can(Capability.MANAGE_DATA),
        "monitoring": cleanliness.subject_monitoring(subject, calendar),
        "data_lock": standing_lock(study_id=subject.study_id, subject_id=subject.pk),
    }
    return render(request, "ecrf/subject_detail.html", context)


def _screening_actions(subject):
    """(label, URL name) of the screening steps open to the subject in its current status."""
    status = subject.status
    actions = []
    if status == "screened":
        actions.append(("Record consent", "ecrf:consent"))
    if status in ("screened", "consented", "eligible"):
        actions += [("Eligibility checklist", "ecrf:eligibility"), ("Screen failure", "ecrf:screen_failure")]
    return actions


def _correction_actions(access, subject):
    """(label, URL name) of the corrections open to a data-entry role at the subject's site; for monitors and data
    managers, the same pages to review."""
    if subject.site not in access.sites_with(Capability.ENTER_DATA):
        return _review_actions(access, subject)
    actions = [("Correct registration", "ecrf:correct_registration")]
    if subject.consent_date is not None:
        actions.append(("Correct consent", "ecrf:correct_consent"))
    return actions


def _review_actions(access, subject):
    if not access.can(Capability.VERIFY_SOURCE):
        return []
    actions = [("Review registration", "ecrf:correct_registration")]
    if subject.consent_date is not None:
        actions += [("Review consent", "ecrf:correct_consent"), ("Review eligibility", "ecrf:eligibility")]
    return actions


def _outcome_actions(subject):
    """(label, event) of the endpoint and censoring events that can still be recorded for the subject."""
    status = subject.status
    actions = []
    if status in ("allocated", "on_treatment", "follow_up"):
        actions += [("Withdrawal", "withdrawal"), ("Lost to follow-up", "lost")]
    if status in ("consented", "eligible", "allocated", "on_treatment", "follow_up", "lost_to_follow_up"):
        actions.append(("Death", "death"))
    if status in ("allocated", "on_treatment", "follow_up", "completed", "died", "lost_to_follow_up"):
        actions.append(("HCC diagnosis", "hcc"))
    return actions


@login_required
@require_http_methods(["GET", "POST"])
def randomise(request, study_code, pk):
    access = require_study_role(request, study_code, Capability.RANDOMISE)
    subject = subject_or_404(access, pk, Capability.RANDOMISE)
    problem, stratum = _randomisation_check(subject)
    if request.method == "POST" and problem is None:
        try:
            allocation = randomisation.randomise(subject, by=request.user)
        except ValidationError as error:
            problem = " ".join(error.messages)
        else:
            messages.success(
                request,
                f"{subject.subject_code} randomised: code {allocation.randomisation_code}, arm {allocation.arm}.",
            )
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    words = randomisation_reads.stratum_words(subject.protocol, stratum) if stratum else ""
    context = {"access": access, "subject": subject, "problem": problem, "stratum": words}
    return render(
        request, "ecrf/randomise_confirm.html", context, status=409 if problem and request.method == "POST" else 200
    )


def _allocation_stratum(subject) -> str:
    allocation = getattr(subject, "allocation", None)
    if allocation is None or not allocation.stratum:
        return ""
    return randomisation_reads.stratum_words(subject.protocol, allocation.stratum)


def _randomisation_check(subject):
    """(why randomisation cannot go ahead, or None; the stratum it would use, when known)."""
    if not subject.protocol.is_randomised:
        return f"{subject.study.code} does not randomise: the investigator assigns the arm.", None
    if hasattr(subject, "allocation"):
        return f"{subject.subject_code} is already allocated.", None
    eligibility = subject_reads.eligibility_of(subject)
    if subject.consent_date is None:
        return "Consent is not recorded.", None
    if not eligibility.met:
        return f"The subject is {eligibility.explanation()}.", None
    try:
        stratum = randomisation.stratum_of(subject)
    except ValidationError as error:
        return " ".join(error.messages), None
    if stratum in randomisation_reads.exhausted_strata(subject.study):
        words = randomisation_reads.stratum_words(subject.protocol, stratum)
        return f"Stratum {words} has no free slot left. Alert the data manager.", stratum
    return None, stratum


@login_required
@require_http_methods(["GET", "POST"])
def assign_arm(request, study_code, pk):
    access = require_study_role(request, study_code, Capability.ASSIGN_ARM)
    subject = subject_or_404(access, pk, Capability.ASSIGN_ARM)
    form = AssignArmForm(posted(request), arms=subject.protocol.arms.order_by("order"))
    if request.method == "POST" and form.is_valid():
        try:
            subjects.assign_arm(
                subject,
                arm=form.cleaned_data["arm"],
                allocation_date=timezone.localdate(),
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, " ".join(error.messages))
        else:
            messages.success(request, f"{subject.subject_code} assigned to {form.cleaned_data['arm']}.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    return render(request, "ecrf/assign_arm.html", {"access": access, "subject": subject, "form": form})
