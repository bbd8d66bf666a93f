"""The admin's one base: rows scoped to the user's studies, history for reading only, clinical data read-only."""

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpResponseNotAllowed
from simple_history.admin import SimpleHistoryAdmin

from ecrf.models import Membership
from ecrf.roles import CAPABILITIES, Capability

# The admin is the data manager's tool: a study is in scope through a role that manages its data.
ADMIN_ROLES = sorted(role for role, capabilities in CAPABILITIES.items() if Capability.MANAGE_DATA in capabilities)


def admin_studies(user):
    """Ids (a subquery) of the studies ``user`` may browse in the admin: active data-managing memberships."""
    return Membership.objects.filter(user=user, is_active=True, role__in=ADMIN_ROLES).values("study")


class ScopedHistoryAdmin(SimpleHistoryAdmin):
    """Every admin's base: ``scope`` decides which rows a user sees on every page; history is never reverted.

    django-simple-history's version page saves its form on POST with only a view permission and finds the
    object without ``get_queryset``; here it answers GET only, and both history pages 404 outside the scope.
    """

    def scope(self, request, queryset):
        """The rows of ``queryset`` this user may see; subclasses say how."""
        raise NotImplementedError

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def revert_disabled(self, request, obj=None):
        return True

    def has_change_history_permission(self, request, obj=None):
        return False

    def history_view(self, request, object_id, extra_context=None):
        self._in_scope_or_404(request, object_id)
        if not hasattr(self.model._meta, "simple_history_manager_attribute"):
            # A model without an audit trail (protocol rows never change) shows the admin's own log.
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET"])
        self._in_scope_or_404(request, object_id)
        if not hasattr(self.model._meta, "simple_history_manager_attribute"):
            raise Http404
        request.viewing_a_version = True
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _in_scope_or_404(self, request, object_id):
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404

    def get_readonly_fields(self, request, obj=None):
        declared = list(super().get_readonly_fields(request, obj))
        if getattr(request, "viewing_a_version", False) or not self.has_change_permission(request, obj):
            opts = self.model._meta
            editable = [f.name for f in [*opts.fields, *opts.many_to_many] if f.editable and not f.auto_created]
            return declared + [name for name in editable if name not in declared and name not in (self.exclude or ())]
        return declared

    def get_list_filter(self, request):
        # A related filter offers only what the user's rows point at, never another study's rows.
        related_only = admin.RelatedOnlyFieldListFilter
        return [
            (name, related_only) if isinstance(name, str) and _is_relation(self.model, name) else name
            for name in super().get_list_filter(request)
        ]

    def get_field_queryset(self, db, db_field, request):
        # Select boxes of foreign keys and many-to-many fields offer only what the related admin shows this user.
        try:
            related_admin = self.admin_site.get_model_admin(db_field.remote_field.model)
        except NotRegistered:
            return super().get_field_queryset(db, db_field, request)
        return related_admin.get_queryset(request).using(db)


def _is_relation(model, path):
    field = None
    for name in path.split("__"):
        field = model._meta.get_field(name)
        model = field.related_model
    return field is not None and field.is_relation


class ReadOnlyAdmin(ScopedHistoryAdmin):
    """Browse and see history; no add, change or delete, which would bypass reasons and voiding."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StudyScopedAdmin(ReadOnlyAdmin):
    """Rows of studies where the user manages data; superusers too see clinical data only through a membership."""

    study_path = "study"

    def scope(self, request, queryset):
        return queryset.filter(**{f"{self.study_path}__in": admin_studies(request.user)})
