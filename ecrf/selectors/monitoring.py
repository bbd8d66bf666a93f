"""Reads of monitoring state: queries, source verification progress, and whether a subject's data are clean."""

import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone

from ecrf.models import (
    OPEN_STATES,
    AdverseEvent,
    ClinicalStatus,
    ConcomitantMedication,
    DataQuery,
    EligibilityAnswer,
    InfusionEvent,
    LabDraw,
    QueryState,
    SourceVerification,
    Subject,
    Visit,
    VisitStatus,
)
from ecrf.selectors.signing import unsigned_done_visits

SAMPLED_MODELS = (Visit, ClinicalStatus, LabDraw, AdverseEvent, ConcomitantMedication)


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


# --- source data verification ---------------------------------------------------------------------------------


def is_sampled(subject: Subject, percent: int) -> bool:
    """Whether the subject is in the sample whose every form is verified: a fixed draw from its code."""
    digest = hashlib.sha256(f"{subject.study_id}:{subject.subject_code}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < percent


@dataclass
class SdvProgress:
    required: set = field(default_factory=set)
    verified: set = field(default_factory=set)

    @property
    def missing(self) -> int:
        return len(self.required - self.verified)

    @property
    def percent(self) -> float | None:
        return 100 * len(self.required & self.verified) / len(self.required) if self.required else None


def sdv_progress(subjects, plan: dict) -> dict[int, SdvProgress]:
    """Per subject: the records the protocol's verification plan requires verified, and those that are."""
    subjects = list(subjects)
    ids = [s.pk for s in subjects]
    critical = set(plan.get("sdv_critical_forms", []))
    sampled = {s.pk for s in subjects if is_sampled(s, plan.get("sdv_sampling_percent", 100))}
    progress = {pk: SdvProgress() for pk in ids}
    for subject in subjects:
        if {"consent", "death"} & critical or subject.pk in sampled:
            progress[subject.pk].required.add(("ecrf.subject", subject.pk))
    _require(progress, EligibilityAnswer.objects.active().filter(subject_id__in=ids), "eligibility" in critical)
    _require(progress, InfusionEvent.objects.active().filter(subject_id__in=ids), "infusion" in critical)
    serious = AdverseEvent.objects.active().filter(subject_id__in=ids, serious=True)
    _require(progress, serious, "serious_adverse_event" in critical)
    for model in SAMPLED_MODELS:
        rows = model.objects.active().filter(**{_subject_lookup(model): list(sampled)})
        if model is Visit:
            rows = rows.filter(status=VisitStatus.DONE)
        _require(progress, rows, True, lookup=_subject_lookup(model).removesuffix("__in"))
    standing = SourceVerification.objects.filter(subject_id__in=ids, cleared_at__isnull=True, field_name="")
    for subject_id, model, pk in standing.values_list("subject_id", "record_model", "record_id"):
        progress[subject_id].verified.add((model, pk))
    return progress


def _subject_lookup(model) -> str:
    return "visit__subject_id__in" if model in (ClinicalStatus, LabDraw) else "subject_id__in"


def _require(progress, rows, wanted: bool, lookup: str = "subject_id") -> None:
    if not wanted:
        return
    label = rows.model._meta.label_lower
    for subject_id, pk in rows.values_list(lookup, "pk"):
        progress[subject_id].required.add((label, pk))


# --- clean state ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cleanliness:
    problems: list[str]

    @property
    def is_clean(self) -> bool:
        return not self.problems


def cleanliness_of_subject(subject: Subject, today: date | None = None) -> Cleanliness:
    """Clean: every due visit entered, every done visit signed, verified as the plan asks, no open query."""
    today = today or timezone.localdate()
    problems = []
    due = subject.visits.active().filter(status=VisitStatus.PLANNED, planned_date__lte=today).count()
    if due:
        problems.append(f"{due} due visit{'s' if due != 1 else ''} not entered")
    unsigned = len(unsigned_done_visits(subject))
    if unsigned:
        problems.append(f"{unsigned} visit{'s' if unsigned != 1 else ''} not signed")
    progress = sdv_progress([subject], subject.protocol.monitoring)[subject.pk]
    if progress.missing:
        problems.append(f"{progress.missing} form{'s' if progress.missing != 1 else ''} not verified")
    open_queries = DataQuery.objects.filter(subject=subject, state__in=OPEN_STATES).count()
    if open_queries:
        problems.append(f"{open_queries} open quer{'ies' if open_queries != 1 else 'y'}")
    return Cleanliness(problems=problems)


def unclean_subjects(study) -> list[Subject]:
    """The study's subjects whose data are not clean (one read per subject: a study lock is a rare act)."""
    subjects = Subject.objects.active().filter(study=study).select_related("protocol")
    return [s for s in subjects if not cleanliness_of_subject(s).is_clean]
