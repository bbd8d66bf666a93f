"""Top-level URLs: accounts, admin, health probe and the eCRF."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from ecrf.forms import LoginForm
from ecrf.views import accounts, health

admin.site.site_header = "eCRF administration"
admin.site.site_title = "eCRF administration"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # The admin's own password form would check the old password outside the lockout: there is one form for all.
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change"), name="admin_password_change"),
    path("admin/", admin.site.urls),
    path("", include("ecrf.urls")),
    path("", include("analysis.urls")),
    path("", include("exports.urls")),
]

handler404 = "ecrf.views.errors.page_not_found"
