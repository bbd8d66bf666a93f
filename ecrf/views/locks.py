"""Locking data: a subject's from its page, the whole study's from the lock page; each lifted with a reason."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ecrf.access import require_study_role
from ecrf.forms_monitoring import LockForm, UnlockForm
from ecrf.roles import Capability, role_can
from ecrf.selectors import cleanliness
from ecrf.selectors.locks import own_lock, standing_lock
from ecrf.services import locks
from ecrf.views.lookups import subject_or_404

STUDY_WIDE_ONLY = "Locking the whole study needs a data manager role covering every site of it."


@login_required
@require_POST
def subject_lock(request, study_code, pk):
    access = require_study_role(request, study_code, Capability.MANAGE_DATA)
    subject = subject_or_404(access, pk, Capability.MANAGE_DATA)
    form = LockForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        locks.lock_subject_data(
            subject=subject, by=request.user, reason=data.get("reason", ""), override=data.get("override", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{subject.subject_code}'s data are locked.")
    return redirect("ecrf:subject_detail", study_code, subject.pk)


@login_required
@require_POST
def subject_unlock(request, study_code, pk):
    access = require_study_role(request, study_code, Capability.MANAGE_DATA)
    subject = subject_or_404(access, pk, Capability.MANAGE_DATA)
    lock = own_lock(subject)
    form = UnlockForm(request.POST)
    if lock is None:
        messages.error(request, f"{subject.subject_code} has no lock of its own to lift.")
    elif not form.is_valid():
        messages.error(request, "Give the reason for unlocking.")
    else:
        locks.unlock(lock=lock, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"{subject.subject_code}'s data are unlocked.")
    return redirect("ecrf:subject_detail", study_code, subject.pk)


@login_required
@require_http_methods(["GET", "POST"])
def study_lock(request, study_code):
    access = require_study_role(request, study_code, Capability.MANAGE_DATA)
    if not any(m.site_id is None and role_can(m.role, Capability.MANAGE_DATA) for m in access.memberships):
        raise PermissionDenied(STUDY_WIDE_ONLY)
    lock = standing_lock(study_id=access.study.pk, subject_id=None)
    lock_form, unlock_form = LockForm(), UnlockForm()
    if request.method == "POST":
        lock_form, unlock_form = _study_lock_step(request, access.study, lock)
        if not (lock_form.errors or unlock_form.errors):
            return redirect("ecrf:study_lock", study_code)
    context = {
        "access": access,
        "lock": lock,
        "unclean": cleanliness.unclean_subject_rows(access.study),
        "lock_form": lock_form,
        "unlock_form": unlock_form,
    }
    return render(
        request, "ecrf/study_lock.html", context, status=400 if lock_form.errors or unlock_form.errors else 200
    )


def _study_lock_step(request, study, lock):
    """Lock or unlock as the posted ``action`` says; refused when the study is no longer in the state the page
    showed (a second data manager, a re-submitted form), so a lock form never unlocks."""
    lock_form, unlock_form = LockForm(), UnlockForm()
    if request.POST.get("action") != ("lock" if lock is None else "unlock"):
        shown = UnlockForm(request.POST) if lock is not None else LockForm(request.POST)
        shown.is_valid()
        shown.add_error(None, "The study's lock changed since this page was opened: check it again before acting.")
        return (lock_form, shown) if lock is not None else (shown, unlock_form)
    try:
        if lock is None:
            lock_form = LockForm(request.POST)
            lock_form.is_valid()
            data = lock_form.cleaned_data
            locks.lock_study(
                study=study, by=request.user, reason=data.get("reason", ""), override=data.get("override", "")
            )
            messages.success(request, f"{study.code} is locked: no data can change until it is unlocked.")
        else:
            unlock_form = UnlockForm(request.POST)
            if unlock_form.is_valid():
                locks.unlock(lock=lock, by=request.user, reason=unlock_form.cleaned_data["reason"])
                messages.success(request, f"{study.code} is unlocked.")
    except ValidationError as error:
        target = lock_form if lock is None else unlock_form
        for field, problems in getattr(error, "message_dict", {None: error.messages}).items():
            target.add_error(field if field in target.fields else None, problems)
    return lock_form, unlock_form
