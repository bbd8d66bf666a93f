"""Investigators sign a visit's forms with their password; data managers unlock a signed visit with a reason."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ecrf.access import require_study_role
from ecrf.credentials import request_password_checker
from ecrf.forms_screening import add_service_errors
from ecrf.roles import Capability
from ecrf.selectors import signing as signing_reads
from ecrf.services import signatures
from ecrf.views.lookups import posted, subject_or_404, visit_or_404


class SignForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    # The content version of what the page showed: a visit changed since it was reviewed is not signed.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class SignVisitsForm(forms.Form):
    password = SignForm.base_fields["password"]
    visits = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, error_messages={"required": "Choose at least one visit to sign."}
    )

    def __init__(self, *args, visits, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visits"].choices = [(v.definition.code, v.definition.label) for v in visits if not v.missing]
        self.by_code = {v.definition.code: v for v in visits}
        for code in self.by_code:
            self.fields[f"version_{code}"] = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def chosen(self):
        return [self.by_code[code] for code in self.cleaned_data["visits"]]

    def reviewed(self) -> dict[int, int | None]:
        """Visit pk -> the content version the page showed for each chosen visit."""
        return {self.by_code[code].pk: self.cleaned_data[f"version_{code}"] for code in self.cleaned_data["visits"]}


class UnlockForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


def _visit(request, study_code, pk, visit_code, capability):
    access = require_study_role(request, study_code, capability)
    subject, visit = visit_or_404(access, pk, visit_code, capability)
    return access, subject, visit


@login_required
@require_http_methods(["GET", "POST"])
def sign(request, study_code, pk, visit_code):
    access, subject, visit = _visit(request, study_code, pk, visit_code, Capability.SIGN_FORMS)
    form = SignForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            signatures.sign_visit(
                visit,
                by=request.user,
                password=form.cleaned_data["password"],
                check_password=request_password_checker(request),
                reviewed_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{visit.definition.code} of {subject.subject_code} signed.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    context = {
        "access": access,
        "subject": subject,
        "visit": visit,
        "form": form,
        "meaning": signatures.MEANING,
        "review": signing_reads.visit_review(subject, visit),
        "version": signing_reads.content_versions([visit])[visit.pk],
    }
    return render(request, "ecrf/sign_visit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def sign_several(request, study_code, pk):
    access = require_study_role(request, study_code, Capability.SIGN_FORMS)
    subject = subject_or_404(access, pk, Capability.SIGN_FORMS)
    visits = signing_reads.unsigned_done_visits(subject)
    form = SignVisitsForm(posted(request), visits=visits)
    if request.method == "POST" and form.is_valid():
        chosen = form.chosen()
        try:
            signatures.sign_visits(
                chosen,
                by=request.user,
                password=form.cleaned_data["password"],
                check_password=request_password_checker(request),
                reviewed=form.reviewed(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            codes = ", ".join(v.definition.code for v in chosen)
            messages.success(request, f"{codes} of {subject.subject_code} signed.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    context = {"access": access, "subject": subject, "visits": visits, "form": form, "meaning": signatures.MEANING}
    return render(request, "ecrf/sign_visits.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def unlock(request, study_code, pk, visit_code):
    access, subject, visit = _visit(request, study_code, pk, visit_code, Capability.MANAGE_DATA)
    form = UnlockForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            signatures.unlock_visit(visit, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"{visit.definition.code} of {subject.subject_code} unlocked; its signature is void."
            )
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    context = {"access": access, "subject": subject, "visit": visit, "form": form}
    return render(request, "ecrf/unlock_visit.html", context)
