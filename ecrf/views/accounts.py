"""Changing one's password: the old password is checked like a sign-in, so wrong guesses count toward the lockout."""

from django.contrib.auth import views as auth_views

from ecrf.credentials import request_password_checker
from ecrf.forms import PasswordChangeForm


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view, with the old password checked through the lockout (one credential, one failure counter)."""

    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "check_password": request_password_checker(self.request)}
