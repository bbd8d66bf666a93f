"""Reads for exports: one long table per form of a study, as row iterators that never hold the study in memory.

Each form is declared once (its model, the lookup from a row to its subject, its columns as ORM lookups), and
one mechanism turns a declaration into a query: the study's active rows only (the record and every record above
it, up to the subject, not voided), in a deterministic order, streamed in chunks.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection, models

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


# Each column type's cell as ``exports.csv_bundle.cell`` then ``ecrf.csv_safe.safe_cell`` write it, in PostgreSQL's
# SQL (``%(expressions)s`` is the column; a column has no parameters, so it may appear more than once): booleans
# 1/0; dates, and times in UTC, in ISO 8601 as Python's isoformat() writes them; decimals without trailing zeros;
# floats to 15 significant digits without an exponent; text with a formula start prefixed by a quote, and an empty
# text as NULL (COPY writes NULL unquoted, as csv.writer writes "").
_SQL_CELL = {
    models.BooleanField: "(%(expressions)s)::int::text",
    models.DateTimeField: (
        "to_char(%(expressions)s AT TIME ZONE 'UTC', CASE WHEN date_trunc('second', %(expressions)s) = %(expressions)s"
        " THEN 'YYYY-MM-DD\"T\"HH24:MI:SS' ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS.US' END) || '+00:00'"
    ),
    models.DateField: "to_char(%(expressions)s, 'YYYY-MM-DD')",
    models.DecimalField: "trim_scale(%(expressions)s)::text",
    models.FloatField: (  # the cast to numeric goes through printf's %.15g
        "CASE WHEN %(expressions)s = 'NaN' THEN 'nan' WHEN %(expressions)s = 'Infinity' THEN 'inf'"
        " WHEN %(expressions)s = '-Infinity' THEN '-inf' ELSE (%(expressions)s)::numeric::text END"
    ),
    models.IntegerField: "(%(expressions)s)::text",
    models.CharField: (
        "CASE WHEN ascii(%(expressions)s) IN (61, 43, 45, 64, 9, 13) THEN '''' || %(expressions)s"  # = + - @ tab CR
        " ELSE NULLIF(%(expressions)s, '') END"
    ),
}
_SQL_CELL[models.TextField] = _SQL_CELL[models.CharField]


def _field(model: type[models.Model], lookup: str) -> models.Field:
    """The field ``lookup`` names, following its relations from ``model``."""
    *hops, name = lookup.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model
    return model._meta.get_field(name)


def _sql_cell(field: models.Field) -> str | None:
    return next((_SQL_CELL[kind] for kind in type(field).__mro__ if kind in _SQL_CELL), None)


def form_csv_copy(form: Form, study: Study) -> Callable[[Callable[[bytes], object]], int] | None:
    """The rows of ``form`` for ``study`` as CSV lines written by PostgreSQL's ``COPY ... TO STDOUT``: a callable
    that hands each chunk of bytes to ``write`` and returns the number of rows. The same cells, quoting and line
    ends as ``exports.csv_bundle.write_csv`` writes from ``form_rows``, at the speed of COPY.

    None off PostgreSQL, or when a column's type has no SQL rendering (``_SQL_CELL``): write ``form_rows`` then.
    """
    if connection.vendor != "postgresql":
        return None
    templates = [_sql_cell(_field(form.model, lookup)) for _, lookup in form.columns]
    if None in templates:
        return None
    cells = {
        f"csv_cell_{index}": models.Func(models.F(lookup), template=template, output_field=models.TextField())
        for index, ((_, lookup), template) in enumerate(zip(form.columns, templates, strict=True))
    }
    query = active_rows(form, study).order_by(*form.order_by).annotate(**cells).values_list(*cells)
    statement = f"COPY ({connection.ops.compose_sql(*query.query.sql_with_params())}) TO STDOUT (FORMAT csv)"

    def copy(write: Callable[[bytes], object]) -> int:
        with connection.cursor() as cursor:
            with cursor.cursor.copy(statement) as rows:
                for data in rows:
                    write(data)
            return cursor.cursor.rowcount

    return copy


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
