"""Sign-in lockouts (django-axes): administrators only, to read and to clear; the records themselves never change.

A data manager is staff and could be given axes permissions by mistake; clearing a lockout undoes the brake on
guessed passwords, so only superusers see these pages. Django-axes' own admins let a superuser "save" a record
whose fields are all read-only, which rewrites the row and logs a change: here the change page only shows it.
"""

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin


class SuperuserOnly:
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class AccessAttemptAdmin(SuperuserOnly, axes_admin.AccessAttemptAdmin):
    pass


class AccessFailureLogAdmin(SuperuserOnly, axes_admin.AccessFailureLogAdmin):
    pass


class AccessLogAdmin(SuperuserOnly, axes_admin.AccessLogAdmin):
    pass


for model, model_admin in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
    (AccessLog, AccessLogAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
