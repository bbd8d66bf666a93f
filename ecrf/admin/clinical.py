"""Clinical data for data managers: every record and its history, read-only (writes go through services)."""

from django.contrib import admin

from ecrf.admin.readonly import StudyScopedAdmin
from ecrf.models import (
    AdverseEvent,
    Allocation,
    ClinicalStatus,
    ConcomitantMedication,
    EligibilityAnswer,
    EndpointEvent,
    InfusionEvent,
    LabDraw,
    LabValue,
    ReleaseResult,
    Subject,
    Visit,
)

VOIDED = ["is_voided"]


@admin.register(Subject)
class SubjectAdmin(StudyScopedAdmin):
    list_display = [
        "subject_code",
        "study__code",
        "site__code",
        "status",
        "sex",
        "age_years",
        "consent_date",
        "is_voided",
    ]
    list_filter = ["study", "site", "status", *VOIDED]
    search_fields = ["subject_code"]
    list_select_related = ["study", "site"]


class SubjectScopedAdmin(StudyScopedAdmin):
    study_path = "subject__study"
    search_fields = ["subject__subject_code"]


@admin.register(EligibilityAnswer)
class EligibilityAnswerAdmin(SubjectScopedAdmin):
    list_display = ["subject", "criterion", "answer", "assessed_by", "assessed_at"]
    list_select_related = ["subject__study", "criterion", "assessed_by"]


@admin.register(Allocation)
class AllocationAdmin(SubjectScopedAdmin):
    list_display = ["subject", "arm", "method", "allocation_date", "allocated_by", "stratum"]
    list_filter = ["method", "subject__study"]
    list_select_related = ["subject__study", "arm", "allocated_by"]


@admin.register(Visit)
class VisitAdmin(SubjectScopedAdmin):
    list_display = ["subject", "definition", "planned_date", "window_start", "window_end", "actual_date", "status"]
    list_filter = ["status", "subject__study", *VOIDED]
    list_select_related = ["subject__study", "definition"]


class LabValueInline(admin.TabularInline):
    model = LabValue
    extra = 0
    can_delete = False
    fields = ["analyte", "value", "not_done", "not_done_reason", "is_voided"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LabDraw)
class LabDrawAdmin(StudyScopedAdmin):
    study_path = "visit__subject__study"
    list_display = ["visit", "panel", "drawn_at", "is_voided"]
    list_select_related = ["visit__subject__study", "visit__definition", "panel"]
    search_fields = ["visit__subject__subject_code"]
    inlines = [LabValueInline]


@admin.register(LabValue)
class LabValueAdmin(StudyScopedAdmin):
    study_path = "draw__visit__subject__study"
    list_display = ["draw", "analyte", "value", "not_done", "is_voided"]
    list_select_related = ["draw__visit__subject__study", "draw__visit__definition", "draw__panel", "analyte"]
    search_fields = ["draw__visit__subject__subject_code", "analyte__code"]


@admin.register(ClinicalStatus)
class ClinicalStatusAdmin(StudyScopedAdmin):
    study_path = "visit__subject__study"
    list_display = ["visit", "ascites", "encephalopathy_grade", "dialysis_past_week", "fever"]
    list_select_related = ["visit__subject__study", "visit__definition"]


@admin.register(InfusionEvent)
class InfusionEventAdmin(SubjectScopedAdmin):
    list_display = ["subject", "number", "started_at", "is_placebo", "product_lot", "cells_per_kg", "reaction"]
    list_select_related = ["subject__study"]


@admin.register(ReleaseResult)
class ReleaseResultAdmin(StudyScopedAdmin):
    study_path = "infusion__subject__study"
    list_display = ["infusion", "criterion", "value", "negative", "passed"]
    list_select_related = ["infusion__subject__study", "criterion"]


@admin.register(AdverseEvent)
class AdverseEventAdmin(SubjectScopedAdmin):
    list_display = ["subject", "term", "grade", "serious", "onset_at", "resolved_at", "relatedness", "outcome"]
    list_filter = ["grade", "serious", "subject__study"]
    list_select_related = ["subject__study"]


@admin.register(EndpointEvent)
class EndpointEventAdmin(SubjectScopedAdmin):
    list_display = ["subject", "kind", "event_date", "method"]
    list_select_related = ["subject__study"]


@admin.register(ConcomitantMedication)
class ConcomitantMedicationAdmin(SubjectScopedAdmin):
    list_display = ["subject", "drug", "dose", "start_date", "stop_date", "is_background"]
    list_select_related = ["subject__study"]
