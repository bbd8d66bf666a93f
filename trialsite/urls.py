"""Top-level URLs: accounts, admin, health probe and the eCRF."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ecrf.forms import LoginForm, PasswordChangeForm
from ecrf.views import health

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
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(form_class=PasswordChangeForm),
        name="password_change",
    ),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/", admin.site.urls),
    path("", include("ecrf.urls")),
]

handler404 = "ecrf.views.errors.page_not_found"
