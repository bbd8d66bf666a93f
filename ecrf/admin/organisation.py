"""Administration of sites, studies and the delegation log; rows are ended, never deleted."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from ecrf.models import Membership, Site, Study, StudySite


class NoDeleteAdmin(SimpleHistoryAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


class StudySiteInline(admin.TabularInline):
    model = StudySite
    extra = 0
    can_delete = False


@admin.register(Site)
class SiteAdmin(NoDeleteAdmin):
    list_display = ["code", "name", "city", "country"]
    search_fields = ["code", "name", "city"]


@admin.register(Study)
class StudyAdmin(NoDeleteAdmin):
    list_display = ["code", "title", "registry_number"]
    search_fields = ["code", "title", "registry_number"]
    inlines = [StudySiteInline]


@admin.register(Membership)
class MembershipAdmin(NoDeleteAdmin):
    list_display = ["user", "study", "site", "role", "is_active", "created_at"]
    list_filter = ["study", "site", "role", "is_active"]
    search_fields = ["user__username", "user__last_name"]
    list_select_related = ["user", "study", "site"]
    autocomplete_fields = ["user"]
