"""Account forms laid out with crispy Bootstrap 5, and what every eCRF form shares."""

from datetime import UTC

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils import timezone

from ecrf.credentials import PasswordCheck

FIRST_YEAR, LAST_YEAR = 1900, 2100
# Every date field's widget: the browser's date picker, which takes and shows only YYYY-MM-DD.
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def submit_helper(label: str, css: str = "btn-primary") -> FormHelper:
    """A crispy layout whose only button submits the form with ``label``: every form of the eCRF uses it."""
    helper = FormHelper()
    helper.add_input(Submit("submit", label, css_class=css))
    return helper


def drop_blank_radio_choices(form: forms.BaseForm) -> None:
    """Take the "---------" choice out of every radio group of ``form``: as a radio it is shown preselected and
    reads as an answer. An unticked group posts nothing, so a required field still refuses it."""
    for field in form.fields.values():
        if not isinstance(field.widget, forms.RadioSelect):
            continue
        if isinstance(field, forms.ModelChoiceField):
            field.empty_label = None
        elif isinstance(field, forms.ChoiceField):
            field.choices = [(value, label) for value, label in field.choices if value not in ("", None)]


class NoBlankRadios:
    """A form mixin: no radio group of the form offers (or preselects) the blank choice."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        drop_blank_radio_choices(self)


class ClinicalDateTimeField(forms.DateTimeField):
    """A date and time refused outside 1900-2100 before it is put in the site's time zone: near the first or last
    representable datetime that conversion (and the later one to UTC) overflows. The study's own range is the
    services' rule (ecrf.services.dates); this only keeps the form from failing before the service sees it.
    """

    def to_python(self, value):
        with timezone.override(UTC):  # the wall clock as typed: made aware in UTC, which cannot overflow
            typed = super().to_python(value)
        if typed is None:
            return None
        if not FIRST_YEAR <= typed.year <= LAST_YEAR:
            raise forms.ValidationError(
                f"Enter a date and time between {FIRST_YEAR} and {LAST_YEAR}.", code="out_of_range"
            )
        return super().to_python(value)


class LoginForm(auth_forms.AuthenticationForm):
    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": "The username or password is not correct. Both are case-sensitive.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Sign in")


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """The old password goes through ``check_password`` (ecrf.credentials), which counts failures and refuses a
    locked-out account: without it, a left-open session could guess the password without limit.
    """

    def __init__(self, *args, check_password, **kwargs):
        super().__init__(*args, **kwargs)
        self.check_password = check_password
        self.helper = submit_helper("Change password")

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        checked = self.check_password(self.user, old_password)
        if checked is PasswordCheck.LOCKED_OUT:
            raise forms.ValidationError(LOCKED_OUT, code="locked_out")
        if checked is not PasswordCheck.ACCEPTED:
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


LOCKED_OUT = "Too many wrong passwords: your account is locked for now. Try again later or ask an administrator."
