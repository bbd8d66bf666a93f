"""Protocol versions and analysis plans as loaded: browsable, never edited (a change is a new file and a new
version)."""

from django.contrib import admin

from ecrf.admin.readonly import StudyScopedAdmin
from ecrf.models import (
    AnalysisPlanVersion,
    Analyte,
    Arm,
    EligibilityCriterion,
    ProtocolVersion,
    ReleaseCriterion,
    VisitDefinition,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ArmInline(ReadOnlyInline):
    model = Arm
    fields = ["code", "label", "ratio", "infusions", "is_control"]


class EligibilityInline(ReadOnlyInline):
    model = EligibilityCriterion
    fields = ["code", "kind", "text", "qualifying_answer"]


class VisitInline(ReadOnlyInline):
    model = VisitDefinition
    fields = ["code", "label", "anchor", "offset_label", "window_before_days", "window_after_days", "forms"]


class AnalyteInline(ReadOnlyInline):
    model = Analyte
    fields = ["code", "label", "unit", "reference_low", "reference_high", "hard_low", "hard_high"]


class ReleaseInline(ReadOnlyInline):
    model = ReleaseCriterion
    fields = ["code", "label", "kind", "comparator", "threshold", "unit"]


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(StudyScopedAdmin):
    list_display = ["study", "version", "effective_date", "design", "follow_up_label", "loaded_at"]
    list_filter = ["study"]
    exclude = ["source_text"]
    readonly_fields = ["sha256"]
    inlines = [ArmInline, EligibilityInline, VisitInline, AnalyteInline, ReleaseInline]


@admin.register(AnalysisPlanVersion)
class AnalysisPlanVersionAdmin(StudyScopedAdmin):
    list_display = ["study", "version", "source_name", "loaded_at", "loaded_by"]
    list_filter = ["study"]
    readonly_fields = ["sha256"]
