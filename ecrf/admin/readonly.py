"""Read-only admin: clinical data and protocols change only through services that write the audit trail."""

from simple_history.admin import SimpleHistoryAdmin

from ecrf.roles import Role


class ReadOnlyAdmin(SimpleHistoryAdmin):
    """Browse and see history; no add, change or delete, which would bypass reasons and voiding."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # History is for reading; reverting to a version would write without a reason.
    def revert_disabled(self, request, obj=None):
        return True

    def has_change_history_permission(self, request, obj=None):
        return False


class StudyScopedAdmin(ReadOnlyAdmin):
    """Rows of studies where the user is a data manager; superusers see everything."""

    study_path = "study"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        studies = request.user.memberships.filter(is_active=True, role=Role.DATA_MANAGER).values("study")
        return queryset.filter(**{f"{self.study_path}__in": studies})
