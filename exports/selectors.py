"""Reads for exports: one long table per form of a study, as row iterators that never hold the study in memory.

Each form is declared once (its model, the lookup from a row to its subject, its columns as ORM lookups), and
one mechanism turns a declaration into a query: the study's active rows only (the record and every record above
it, up to the subject, not voided), in a deterministic order, streamed in chunks.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import models

from ecrf.models import (
    AdverseEvent,
    Allocation,
    ClinicalStatus,
    ConcomitantMedication,
    EligibilityAnswer,
    EndpointEvent,
    InfusionEvent,
    LabValue,
    ProtocolDeviation,
    ReleaseResult,
    Study,
    Subject,
    Visit,
    VisitSignature,
)
from exports.models import ExportJob, ExportLog

CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Form:
    """One export file: ``columns`` pairs each column's name with its lookup from ``model``."""

    name: str
    model: type[models.Model]
    subject_path: str  # lookup from a row to its Subject; "" for the Subject itself
    columns: tuple[tuple[str, str], ...]
    order_by: tuple[str, ...]
    protocol_form: str | None = ""  # the protocol's form code (visits asking for it); None: every visit

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def lookup(self, path: str) -> str:
        """``path`` (from the subject) as a lookup from this form's model."""
        return f"{self.subject_path}__{path}" if self.subject_path else path


def _same(*fields: str) -> tuple[tuple[str, str], ...]:
    """Columns named as the model's own fields."""
    return tuple((field, field) for field in fields)


def _subject_columns(form_path: str) -> tuple[tuple[str, str], ...]:
    prefix = f"{form_path}__" if form_path else ""
    return (("subject_code", f"{prefix}subject_code"), ("site_code", f"{prefix}site__code"))


def _form(name, model, subject_path, columns, order_by, protocol_form: str | None = "") -> Form:
    prefix = f"{subject_path}__" if subject_path else ""
    order = (f"{prefix}subject_code", *order_by, "pk")
    return Form(name, model, subject_path, (*_subject_columns(subject_path), *columns), order, protocol_form)


VISIT = (("visit_code", "visit__definition__code"),)

FORMS: tuple[Form, ...] = (
    _form(
        "subjects",
        Subject,
        "",
        (
            ("protocol_version", "protocol__version"),
            *_same("status", "screening_date", "sex", "age_years", "weight_kg"),
            *_same("screen_failure_reason", "consent_date", "consent_version"),
            *_same("withdrawal_date", "withdrawal_reason", "last_contact_date"),
            *_same("death_date", "death_cause", "completion_date"),
        ),
        (),
    ),
    _form(
        "eligibility",
        EligibilityAnswer,
        "subject",
        (
            ("criterion_code", "criterion__code"),
            ("criterion_kind", "criterion__kind"),
            ("answer", "answer"),
            ("assessed_at", "assessed_at"),
        ),
        ("criterion__order",),
        "eligibility",
    ),
    _form(
        "allocations",
        Allocation,
        "subject",
        (
            ("arm_code", "arm__code"),
            *_same("method", "allocation_date", "reason", "stratum", "randomisation_code"),
        ),
        (),
    ),
    _form(
        "visits",
        Visit,
        "subject",
        (
            ("visit_code", "definition__code"),
            *_same("planned_date", "window_start", "window_end", "actual_date"),
            *_same("status", "missed_reason", "weight_kg"),
        ),
        ("definition__order",),
        None,
    ),
    _form(
        "clinical_status",
        ClinicalStatus,
        "visit__subject",
        (
            *VISIT,
            *_same("assessed_on", "ascites", "encephalopathy_grade", "dialysis_past_week"),
            *_same("temperature_c", "fever", "peripheral_oedema", "rash", "nausea"),
            ("vomiting", "vomiting"),
        ),
        ("visit__definition__order",),
        "clinical_status",
    ),
    _form(
        "lab_values",
        LabValue,
        "draw__visit__subject",
        (
            ("visit_code", "draw__visit__definition__code"),
            ("panel_code", "draw__panel__code"),
            ("drawn_at", "draw__drawn_at"),
            ("analyte_code", "analyte__code"),
            ("unit", "analyte__unit"),
            *_same("value", "not_done", "not_done_reason", "confirmed_unusual"),
        ),
        ("draw__visit__definition__order", "draw__drawn_at", "analyte__order"),
        "labs",
    ),
    _form(
        "infusions",
        InfusionEvent,
        "subject",
        (
            ("infusion_number", "number"),
            *VISIT,
            *_same("started_at", "is_placebo", "product_lot", "passage", "total_cells"),
            *_same("body_weight_kg", "cells_per_kg", "volume_ml", "observation_hours"),
            *_same("reaction", "release_deviation", "dose_deviation"),
        ),
        ("number",),
        "infusion",
    ),
    _form(
        "release_results",
        ReleaseResult,
        "infusion__subject",
        (
            ("infusion_number", "infusion__number"),
            ("criterion_code", "criterion__code"),
            *_same("value", "negative", "passed"),
        ),
        ("infusion__number", "criterion__order"),
        "infusion",
    ),
    _form(
        "adverse_events",
        AdverseEvent,
        "subject",
        (
            ("infusion_number", "infusion__number"),
            *_same("term", "onset_at", "resolved_at", "grade", "serious", "seriousness"),
            *_same("sae_reported_on", "sae_description", "relatedness", "outcome"),
            ("action_taken", "action_taken"),
        ),
        ("onset_at",),
        "adverse_events",
    ),
    _form(
        "medications",
        ConcomitantMedication,
        "subject",
        _same("drug", "dose", "indication", "is_background", "start_date", "stop_date"),
        ("start_date",),
        "concomitant_medication",
    ),
    _form(
        "outcomes",
        EndpointEvent,
        "subject",
        _same("kind", "event_date", "method", "details"),
        ("kind", "event_date"),
        "endpoints",
    ),
    _form(
        "protocol_deviations",
        ProtocolDeviation,
        "subject",
        (*VISIT, *_same("kind", "description", "detected_at")),
        ("detected_at",),
    ),
    _form(
        "signatures",
        VisitSignature,
        "visit__subject",
        (*VISIT, ("signed_by", "signed_by__username"), ("signed_at", "signed_at"), ("meaning", "meaning")),
        ("visit__definition__order", "signed_at"),
    ),
)


def active_rows(form: Form, study: Study) -> models.QuerySet:
    """The study's rows of ``form`` whose record and every record above it up to the subject stand (not voided)."""
    hops = form.subject_path.split("__") if form.subject_path else []
    standing = {"__".join([*hops[:depth], "is_voided"]): False for depth in range(len(hops) + 1)}
    return form.model.objects.filter(**{form.lookup("study"): study}, **standing)


def form_queryset(form: Form, study: Study) -> models.QuerySet:
    """The export's query of ``form`` for ``study``: its active rows, ordered, as ``form.column_names`` tuples."""
    lookups = [lookup for _, lookup in form.columns]
    return active_rows(form, study).order_by(*form.order_by).values_list(*lookups)


def form_rows(form: Form, study: Study) -> Iterator[tuple]:
    """The rows of ``form`` for ``study`` as tuples in ``form.column_names`` order, streamed in chunks."""
    return form_queryset(form, study).iterator(chunk_size=CHUNK_SIZE)


def row_count(form: Form, study: Study) -> int:
    return active_rows(form, study).count()


def export_jobs(study: Study, limit: int = 50) -> list:
    """The study's latest export jobs, newest first, with who asked and the log row of those written."""
    return list(ExportJob.objects.filter(study=study).select_related("requested_by", "log")[:limit])


def export_job(study: Study, job_id: int):
    """Job ``job_id`` of ``study``, or None."""
    return ExportJob.objects.filter(study=study, pk=job_id).select_related("log").first()


def export_log(study: Study, limit: int = 200) -> tuple[list, int]:
    """The study's latest ``limit`` exports as logged (command line and page alike), newest first, and how many
    the log holds in all."""
    logged = ExportLog.objects.filter(study=study)
    return list(logged.select_related("user")[:limit]), logged.count()


def visit_schedule(protocol) -> list[tuple[str, str, list[str]]]:
    """The protocol's visits in order, each as (code, label, the protocol form codes it asks for)."""
    return list(protocol.visit_definitions.order_by("order").values_list("code", "label", "forms"))
