"""The delegation log for data managers: delegate a role of the study, change it or end it, with the history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ecrf.access import require_study_role
from ecrf.forms_delegation import ChangeDelegationForm, DelegateForm, EndDelegationForm
from ecrf.forms_screening import add_service_errors
from ecrf.roles import Capability
from ecrf.selectors import organisation
from ecrf.services import delegation
from ecrf.views.lookups import posted


@login_required
@require_http_methods(["GET", "POST"])
def delegation_log(request, study_code):
    access = require_study_role(request, study_code, Capability.MANAGE_DATA)
    form = DelegateForm(posted(request), sites=organisation.sites_of_study(access.study))
    if request.method == "POST" and form.is_valid():
        try:
            membership = delegation.delegate(study=access.study, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Delegated: {membership}.")
            return redirect("ecrf:delegation_log", study_code)
    context = {"access": access, "form": form, "team": organisation.study_team(access.study)}
    return render(request, "ecrf/delegation_log.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def delegation_edit(request, study_code, membership_pk):
    access = require_study_role(request, study_code, Capability.MANAGE_DATA)
    membership = organisation.delegation_of(access.study, membership_pk)
    if membership is None:
        raise Http404("No such delegation in this study.")
    action = request.POST.get("action") if request.method == "POST" else None
    sites = organisation.sites_of_study(access.study)
    initial = {"role": membership.role, "site": membership.site}
    change = ChangeDelegationForm(posted(request) if action == "change" else None, sites=sites, initial=initial)
    end = EndDelegationForm(posted(request) if action != "change" else None)
    form, service = (change, _change) if action == "change" else (end, _end)
    if request.method == "POST" and form.is_valid():
        try:
            service(membership, form.cleaned_data, by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Delegation of {membership.user} saved.")
            return redirect("ecrf:delegation_log", study_code)
    context = {
        "access": access,
        "membership": membership,
        "change_form": change,
        "end_form": end,
        "history": organisation.delegation_history(membership),
    }
    return render(request, "ecrf/delegation_edit.html", context)


def _change(membership, data, *, by):
    return delegation.change_delegation(membership, role=data["role"], site=data["site"], by=by, reason=data["reason"])


def _end(membership, data, *, by):
    return delegation.end_delegation(membership, ends_on=data["ends_on"], by=by, reason=data["reason"])
