"""Forms of the delegation log: delegate a role, change it, end it; each with its reason."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from ecrf.forms import DATE, submit_helper
from ecrf.roles import Role

REASON = forms.CharField(max_length=500, label="Reason (kept in the delegation log's history)")


def _site_field(sites) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=sites, required=False, empty_label="All sites (monitors and data managers only)"
    )


class DelegateForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None, label="Person", to_field_name="username")
    role = forms.ChoiceField(choices=Role.choices)
    starts_on = forms.DateField(widget=DATE, label="From", initial=timezone.localdate)
    reason = REASON

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["user"].label_from_instance = lambda user: (
            f"{user.get_full_name() or user.username} ({user.username})"
        )
        self.fields["site"] = _site_field(sites)
        self.order_fields(["user", "role", "site", "starts_on", "reason"])
        self.helper = submit_helper("Delegate")


class ChangeDelegationForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="change")
    role = forms.ChoiceField(choices=Role.choices)
    reason = REASON

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"] = _site_field(sites)
        self.order_fields(["action", "role", "site", "reason"])
        self.helper = submit_helper("Save the change")


class EndDelegationForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="end")
    ends_on = forms.DateField(widget=DATE, label="Last day", initial=timezone.localdate)
    reason = REASON

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("End the delegation", css="btn-danger")
