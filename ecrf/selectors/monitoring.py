"""Reads of queries and of the records monitoring points at (verification progress and clean state have their own
modules: ``verification_progress``, ``cleanliness``)."""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from ecrf.models import (
    OPEN_STATES,
    AdverseEvent,
    ClinicalStatus,
    ConcomitantMedication,
    DataQuery,
    EligibilityAnswer,
    EndpointEvent,
    InfusionEvent,
    LabDraw,
    LabValue,
    QueryState,
    ReleaseResult,
    SourceVerification,
    Subject,
    Visit,
)
from ecrf.selectors.records import subject_of


def queries_on(records) -> list[DataQuery]:
    """Every query on ``records`` (any state), oldest first, with its thread."""
    keys = {(r._meta.label_lower, r.pk) for r in records if r is not None and r.pk is not None}
    if not keys:
        return []
    by_model = defaultdict(set)
    for model, pk in keys:
        by_model[model].add(pk)
    found = DataQuery.objects.none()
    for model, pks in by_model.items():
        found |= DataQuery.objects.filter(record_model=model, record_id__in=pks)
    return list(found.select_related("raised_by").prefetch_related("messages__by").order_by("raised_at", "pk"))


def verifications_on(records) -> list[SourceVerification]:
    """Standing and cleared verification marks of ``records``, newest first."""
    keys = [(r._meta.label_lower, r.pk) for r in records if r is not None and r.pk is not None]
    found = SourceVerification.objects.none()
    for model, pk in keys:
        found |= SourceVerification.objects.filter(record_model=model, record_id=pk)
    return list(found.select_related("verified_by").order_by("-verified_at", "-pk")) if keys else []


def open_query_counts(subject_ids) -> dict[int, int]:
    counts = defaultdict(int)
    rows = DataQuery.objects.filter(subject_id__in=list(subject_ids), state__in=OPEN_STATES)
    for subject_id in rows.values_list("subject_id", flat=True):
        counts[subject_id] += 1
    return counts


# --- the query list -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryFilters:
    site: str = ""
    state: str = ""  # a QueryState, "open" meaning every open state, or ""
    form: str = ""  # a record model label
    raiser: str = ""  # a username, "system" for edit checks
    min_age_days: int | None = None


def study_queries(study, filters: QueryFilters, sites) -> list[DataQuery]:
    """The study's queries at ``sites`` (the user's visible ones) matching ``filters``, oldest first."""
    rows = DataQuery.objects.filter(study=study, subject__site__in=sites)
    if filters.site:
        rows = rows.filter(subject__site__code=filters.site)
    if filters.state == "open":
        rows = rows.filter(state__in=OPEN_STATES)
    elif filters.state:
        rows = rows.filter(state=filters.state)
    if filters.form:
        rows = rows.filter(record_model=filters.form)
    if filters.raiser == "system":
        rows = rows.exclude(rule_code="")
    elif filters.raiser:
        rows = rows.filter(raised_by__username=filters.raiser)
    if filters.min_age_days is not None:
        rows = rows.filter(raised_at__lte=timezone.now() - timezone.timedelta(days=filters.min_age_days))
    return list(rows.select_related("subject__site", "raised_by").order_by("raised_at", "pk"))


def age_days(query: DataQuery, now: datetime) -> float:
    """Days the query has been (or was) open: to its closing, or to ``now``."""
    return ((query.closed_at or now) - query.raised_at).total_seconds() / 86400


@dataclass(frozen=True)
class SiteQueryFigures:
    site: str
    open: int
    closed: int
    median_open_age_days: float | None
    median_days_to_close: float | None


def query_figures_by_site(study, sites, now: datetime) -> list[SiteQueryFigures]:
    """Per site: open and closed queries, the median age of the open ones and the median time to close."""
    grouped = defaultdict(list)
    for query in DataQuery.objects.filter(study=study, subject__site__in=sites).select_related("subject__site"):
        grouped[query.subject.site.code].append(query)
    figures = []
    for site in sorted(grouped):
        open_ages = [age_days(q, now) for q in grouped[site] if q.is_open]
        to_close = [age_days(q, now) for q in grouped[site] if q.state == QueryState.CLOSED]
        figures.append(
            SiteQueryFigures(
                site=site,
                open=len(open_ages),
                closed=len(to_close),
                median_open_age_days=statistics.median(open_ages) if open_ages else None,
                median_days_to_close=statistics.median(to_close) if to_close else None,
            )
        )
    return figures


# --- the records monitoring points at -------------------------------------------------------------------------


def monitored_models() -> dict:
    """Model label -> model, for every record a query or verification may point at."""
    return {model._meta.label_lower: model for model in MONITORED}


MONITORED = (
    Subject,
    Visit,
    ClinicalStatus,
    LabDraw,
    LabValue,
    InfusionEvent,
    ReleaseResult,
    AdverseEvent,
    ConcomitantMedication,
    EligibilityAnswer,
    EndpointEvent,
)


def record_of(subject: Subject, record_model: str, record_id) -> object | None:
    """The record ``record_model`` #``record_id`` if it is one of ``subject``'s; None otherwise."""
    model = monitored_models().get(record_model)
    if model is None or not str(record_id).isascii() or not str(record_id).isdigit():
        return None
    record = model._base_manager.filter(pk=int(record_id)).first()
    if record is None:
        return None
    owner = subject_of(record)
    return record if owner is not None and owner.pk == subject.pk else None


def query_in_study(study, sites, pk: int) -> DataQuery | None:
    return (
        DataQuery.objects.filter(study=study, subject__site__in=sites, pk=pk)
        .select_related("subject__site", "subject__study", "raised_by")
        .prefetch_related("messages__by")
        .first()
    )


def query_raisers(study) -> list[tuple[str, str]]:
    """(username, name) of everyone who raised a query in the study, for the list's filter."""
    rows = (
        DataQuery.objects.filter(study=study, raised_by__isnull=False)
        .values_list("raised_by__username", "raised_by__first_name", "raised_by__last_name")
        .distinct()
        .order_by("raised_by__username")
    )
    return [(username, f"{first} {last}".strip() or username) for username, first, last in rows]


def open_query_count(study, sites) -> int:
    return DataQuery.objects.filter(study=study, subject__site__in=sites, state__in=OPEN_STATES).count()
