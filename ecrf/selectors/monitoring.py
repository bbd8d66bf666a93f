"""Reads of monitoring state: queries, source verification progress, and whether a subject's data are clean."""

import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Exists, OuterRef
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
    VisitSignature,
    VisitStatus,
)
from ecrf.selectors.records import subject_of

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
    def done(self) -> int:
        return len(self.required & self.verified)

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
    return cleanliness_of([subject], today)[subject.pk]


def cleanliness_of(subjects, today: date | None = None) -> dict[int, Cleanliness]:
    """``cleanliness_of_subject`` of each of ``subjects``, in a fixed number of queries whatever their number."""
    today = today or timezone.localdate()
    subjects = list(subjects)
    ids = [s.pk for s in subjects]
    visits = Visit.objects.active().filter(subject_id__in=ids)
    due = _count_by_subject(visits.filter(status=VisitStatus.PLANNED, planned_date__lte=today))
    signed = VisitSignature.objects.active().filter(visit=OuterRef("pk"))
    unsigned = _count_by_subject(visits.filter(status=VisitStatus.DONE).exclude(Exists(signed)))
    open_queries = _count_by_subject(DataQuery.objects.filter(subject_id__in=ids, state__in=OPEN_STATES))
    progress = {}
    for protocol, group in _by_protocol(subjects).items():
        progress |= sdv_progress(group, protocol.monitoring)
    return {
        s.pk: Cleanliness(problems=_problems(due[s.pk], unsigned[s.pk], progress[s.pk].missing, open_queries[s.pk]))
        for s in subjects
    }


def _problems(due: int, unsigned: int, unverified: int, open_queries: int) -> list[str]:
    def counted(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    problems = [
        (due, counted(due, "due visit not entered", "due visits not entered")),
        (unsigned, counted(unsigned, "visit not signed", "visits not signed")),
        (unverified, counted(unverified, "form not verified", "forms not verified")),
        (open_queries, counted(open_queries, "open query", "open queries")),
    ]
    return [text for n, text in problems if n]


def _count_by_subject(rows) -> dict[int, int]:
    counts = defaultdict(int)
    for subject_id in rows.values_list("subject_id", flat=True):
        counts[subject_id] += 1
    return counts


def _by_protocol(subjects) -> dict:
    groups = defaultdict(list)
    for subject in subjects:
        groups[subject.protocol].append(subject)
    return groups


def unclean_subjects(study) -> list[Subject]:
    """The study's subjects whose data are not clean."""
    return [subject for subject, _ in unclean_subject_rows(study)]


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
    if model is None or not str(record_id).isdigit():
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


def unclean_subject_rows(study) -> list[tuple[Subject, list[str]]]:
    """Each unclean subject of the study with what keeps it from clean."""
    subjects = list(
        Subject.objects.active().filter(study=study).select_related("protocol", "site").order_by("subject_code")
    )
    states = cleanliness_of(subjects)
    return [(s, states[s.pk].problems) for s in subjects if states[s.pk].problems]


@dataclass(frozen=True)
class SubjectMonitoring:
    open_queries: list
    progress: SdvProgress
    sampled: bool
    cleanliness: Cleanliness


def subject_monitoring(subject: Subject) -> SubjectMonitoring:
    """What the subject page shows of monitoring: open queries, verification progress, clean or not."""
    plan = subject.protocol.monitoring
    return SubjectMonitoring(
        open_queries=list(DataQuery.objects.filter(subject=subject, state__in=OPEN_STATES).select_related("raised_by")),
        progress=sdv_progress([subject], plan)[subject.pk],
        sampled=is_sampled(subject, plan.get("sdv_sampling_percent", 100)),
        cleanliness=cleanliness_of_subject(subject),
    )


def open_query_count(study, sites) -> int:
    return DataQuery.objects.filter(study=study, subject__site__in=sites, state__in=OPEN_STATES).count()
