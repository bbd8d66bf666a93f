"""Account forms laid out with crispy Bootstrap 5."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django.contrib.auth import forms as auth_forms


def submit_helper(label: str, css: str = "btn-primary") -> FormHelper:
    """A crispy layout whose only button submits the form with ``label``: every form of the eCRF uses it."""
    helper = FormHelper()
    helper.add_input(Submit("submit", label, css_class=css))
    return helper


class LoginForm(auth_forms.AuthenticationForm):
    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": "The username or password is not correct. Both are case-sensitive.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Sign in")


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Change password")
