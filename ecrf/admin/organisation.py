"""Administration of sites, studies and the delegation log; rows are ended, never deleted.

Superusers administer these; a data manager (staff, view permissions) reads those of their own studies only.
"""

from django.contrib import admin

from ecrf.admin.readonly import ScopedHistoryAdmin, admin_studies
from ecrf.models import Membership, Site, Study, StudySite


class OrganisationAdmin(ScopedHistoryAdmin):
    """Editable by superusers only: a data manager changing the delegation log could delegate to themselves."""

    study_path = "study"

    def scope(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        in_studies = queryset.model._default_manager.filter(**{f"{self.study_path}__in": admin_studies(request.user)})
        return queryset.filter(pk__in=in_studies.values("pk"))

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class StudySiteInline(admin.TabularInline):
    model = StudySite
    extra = 0
    can_delete = False


@admin.register(Site)
class SiteAdmin(OrganisationAdmin):
    study_path = "study_sites__study"
    list_display = ["code", "name", "city", "country"]
    search_fields = ["code", "name", "city"]


@admin.register(Study)
class StudyAdmin(OrganisationAdmin):
    study_path = "pk"
    list_display = ["code", "title", "registry_number"]
    search_fields = ["code", "title", "registry_number"]
    inlines = [StudySiteInline]


@admin.register(Membership)
class MembershipAdmin(OrganisationAdmin):
    list_display = ["user", "study", "site", "role", "is_active", "created_at"]
    list_filter = ["study", "site", "role", "is_active"]
    search_fields = ["user__username", "user__last_name"]
    list_select_related = ["user", "study", "site"]
    autocomplete_fields = ["user"]
