"""Whether data are clean: every due visit entered, done visits signed, verified as planned, no open query."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef
from django.utils import timezone

from ecrf.models import (
    OPEN_STATES,
    ClinicalStatus,
    DataQuery,
    InfusionEvent,
    LabDraw,
    LabValue,
    Subject,
    Visit,
    VisitSignature,
    VisitStatus,
)
from ecrf.selectors.verification_progress import SdvProgress, by_protocol, is_sampled, sdv_progress


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
    for protocol, group in by_protocol(subjects).items():
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


def unclean_subjects(study) -> list[Subject]:
    """The study's subjects whose data are not clean."""
    return [subject for subject, _ in unclean_subject_rows(study)]


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


def subject_monitoring(subject: Subject, calendar, today: date | None = None) -> SubjectMonitoring:
    """What the subject page shows of monitoring: open queries, verification progress, clean or not, and on each
    visit of the page's ``calendar`` (visits carrying ``signature``) what keeps it from clean, as ``unclean``.
    One read of each kind, shared by the subject and its visits."""
    today = today or timezone.localdate()
    plan = subject.protocol.monitoring
    progress = sdv_progress([subject], plan)[subject.pk]
    open_queries = list(
        DataQuery.objects.filter(subject=subject, state__in=OPEN_STATES).select_related("raised_by").order_by("pk")
    )
    visits = [visit for visit, *_ in calendar]
    due = sum(v.status == VisitStatus.PLANNED and v.planned_date <= today for v in visits)
    unsigned = sum(v.status == VisitStatus.DONE and not v.signature for v in visits)
    _mark_visits(subject, visits, progress, open_queries, today)
    return SubjectMonitoring(
        open_queries=open_queries,
        progress=progress,
        sampled=is_sampled(subject, plan.get("sdv_sampling_percent", 100)),
        cleanliness=Cleanliness(problems=_problems(due, unsigned, progress.missing, len(open_queries))),
    )


def _mark_visits(subject, visits, progress: SdvProgress, open_queries, today: date) -> None:
    """Set each visit's ``unclean``: entered when due, signed when done, verified as planned, no open query."""
    queried_keys = [(query.record_model, query.record_id) for query in open_queries]
    unverified_keys = list(progress.required - progress.verified)
    owners = _visits_of(set(queried_keys) | set(unverified_keys))
    queried, unverified = defaultdict(int), defaultdict(int)
    for key in queried_keys:
        queried[owners.get(key)] += 1
    for key in unverified_keys:
        unverified[owners.get(key)] += 1
    for visit in visits:
        due = visit.status == VisitStatus.PLANNED and visit.planned_date <= today
        unsigned = visit.status == VisitStatus.DONE and not visit.signature
        visit.unclean = _problems(int(due), int(unsigned), unverified[visit.pk], queried[visit.pk])


# Records that belong to a visit: the lookup from each to its visit's pk.
VISIT_OF = {
    "ecrf.visit": (Visit, "pk"),
    "ecrf.clinicalstatus": (ClinicalStatus, "visit_id"),
    "ecrf.labdraw": (LabDraw, "visit_id"),
    "ecrf.labvalue": (LabValue, "draw__visit_id"),
    "ecrf.infusionevent": (InfusionEvent, "visit_id"),
}


def _visits_of(keys) -> dict[tuple[str, int], int]:
    """(model label, pk) -> visit pk for those of ``keys`` that belong to a visit (a query per model named other
    than the visit)."""
    by_model = defaultdict(list)
    for label, pk in keys:
        if label in VISIT_OF:
            by_model[label].append(pk)
    owners = {("ecrf.visit", pk): pk for pk in by_model.pop("ecrf.visit", [])}  # a visit is its own
    for label, pks in by_model.items():
        model, visit = VISIT_OF[label]
        owners |= {(label, pk): visit_pk for pk, visit_pk in model.objects.filter(pk__in=pks).values_list("pk", visit)}
    return owners
