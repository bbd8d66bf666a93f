"""The site worklist's filters and sort keys as SQL, so that only one page of subjects is ever read in full.

Each expression restates in SQL a rule the worklist applies in Python to the subjects it shows (visit states in
``worklist.visit_state``, open issues in ``open_issues``, the next step's rank in ``next_step``); the tests check
both give the same subjects in the same order. Every subquery is correlated to one subject of the site, so the
cost follows the site's subjects, never the study's.
"""

from datetime import date

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from ecrf.models import (
    AdverseEvent,
    ClinicalStatus,
    DataQuery,
    EligibilityAnswer,
    EligibilityCriterion,
    InfusionEvent,
    LabDraw,
    Subject,
    SubjectStatus,
    Visit,
    VisitDefinition,
    VisitSignature,
    VisitStatus,
)
from ecrf.models.monitoring import OPEN_STATES
from ecrf.selectors.next_step import ENDED

STATUS_ORDER = {value: n for n, value in enumerate(SubjectStatus.values)}


def ordered_subjects(study, site, *, today: date, search: str, show: str, sort: str) -> QuerySet:
    """The site's subjects matching ``search`` and ``show`` (worklist.FILTERS), in the order of ``sort``."""
    subjects = Subject.objects.active().filter(study=study, site=site, subject_code__icontains=search.strip())
    subjects = _annotated(subjects, study, today)
    filters = {
        "overdue": Q(has_overdue=True),
        "due_week": Q(due_this_week=True),
        "open_issues": Q(has_form_issue=True) | Q(open_sae=True),
        "open_queries": Q(open_queries=True),
        "active": ~Q(status__in=ENDED),
    }
    if show in filters:
        subjects = subjects.filter(filters[show])
    key, descending = sort.removeprefix("-"), sort.startswith("-")
    terms = [*_SORTS.get(key, _SORTS["code"])(), F("subject_code").asc(), F("pk").asc()]
    if descending:  # every term reversed, nulls and ties included, as Python's sorted(reverse=True) would
        terms = [term.reverse_ordering() for term in terms]
    return subjects.order_by(*terms)


def _annotated(subjects: QuerySet, study, today: date) -> QuerySet:
    ended = Q(status__in=ENDED)
    planned = Visit.objects.active().filter(subject=OuterRef("pk"), status=VisitStatus.PLANNED)
    first_planned = planned.order_by("planned_date", "definition__order")
    monday = date.fromordinal(today.toordinal() - today.weekday())
    sunday = date.fromordinal(monday.toordinal() + 6)
    return subjects.annotate(
        ended=_flag(ended),
        status_rank=Case(
            *(When(status=s, then=Value(n)) for s, n in STATUS_ORDER.items()), output_field=IntegerField()
        ),
        next_planned=Case(When(ended, then=Value(None)), default=Subquery(first_planned.values("planned_date")[:1])),
        next_start=Subquery(first_planned.values("window_start")[:1]),
        next_end=Subquery(first_planned.values("window_end")[:1]),
        has_overdue=_flag(~ended & Exists(planned.filter(window_end__lt=today))),
        due_this_week=_flag(~ended & Exists(planned.filter(window_start__lte=sunday, window_end__gte=monday))),
        open_sae=Exists(
            AdverseEvent.objects.active().filter(subject=OuterRef("pk"), serious=True, resolved_at__isnull=True)
        ),
        has_form_issue=Exists(_visits_with_form_issues(study)),
        unsigned=Exists(
            Visit.objects.active()
            .filter(subject=OuterRef("pk"), status=VisitStatus.DONE)
            .exclude(Exists(VisitSignature.objects.active().filter(visit=OuterRef("pk"))))
        ),
        open_queries=Exists(DataQuery.objects.filter(subject=OuterRef("pk"), state__in=OPEN_STATES)),
        **eligibility_counts(),
    ).annotate(step_rank=_step_rank(today))


def eligibility_counts() -> dict:
    """Annotations of a subject queryset: checklist answers given (``answered``), failing (``failing``) and the
    criteria of the subject's protocol (``criteria``); the worklist's rows read the same three."""
    answers = EligibilityAnswer.objects.active().filter(subject=OuterRef("pk")).values("subject")
    return {
        "answered": _count(answers),
        "failing": _count(answers.exclude(answer=F("criterion__qualifying_answer"))),
        "criteria": _count(EligibilityCriterion.objects.filter(protocol=OuterRef("protocol")).values("protocol")),
    }


def _visits_with_form_issues(study) -> QuerySet:
    """Held visits of the subject with a labs, clinical status or infusion form missing or partial."""
    needs = {"labs": [], "clinical_status": [], "infusion": []}
    for pk, forms in VisitDefinition.objects.filter(protocol__study=study).values_list("pk", "forms"):
        for form in needs:
            if form in (forms or []):
                needs[form].append(pk)
    complete_draw = (
        LabDraw.objects.active()
        .filter(visit=OuterRef("pk"))
        .annotate(
            entered=Count("values", filter=Q(values__is_voided=False), distinct=True),
            expected=Count("panel__analytes", distinct=True),
        )
        .filter(entered__gt=0, entered__gte=F("expected"))
    )
    status = ClinicalStatus.objects.active().filter(visit=OuterRef("pk"))
    infusion = InfusionEvent.objects.active().filter(visit=OuterRef("pk"))
    return (
        Visit.objects.active()
        .filter(subject=OuterRef("pk"), status=VisitStatus.DONE)
        .filter(
            Q(definition_id__in=needs["labs"]) & ~Exists(complete_draw)
            | Q(definition_id__in=needs["clinical_status"]) & ~Exists(status)
            | Q(definition_id__in=needs["infusion"])
            & ~Q(subject__allocation__arm__infusions="none")
            & Q(subject__allocation__isnull=False)
            & ~Exists(infusion)
        )
    )


def _step_rank(today: date) -> Case:
    """``next_step``'s rank: the number of the first of its rules that applies."""
    return Case(
        When(status__in=ENDED, then=Value(0)),
        When(open_sae=True, then=Value(1)),
        When(consent_date__isnull=True, then=Value(2)),
        When(answered__lt=F("criteria"), then=Value(3)),
        When(failing__gt=0, then=Value(4)),
        When(allocation__isnull=True, then=Value(5)),
        When(next_end__lt=today, then=Value(6)),
        When(next_start__lte=today, then=Value(7)),
        When(has_form_issue=True, then=Value(8)),
        When(unsigned=True, then=Value(9)),
        When(next_planned__isnull=False, then=Value(10)),
        default=Value(11),
        output_field=IntegerField(),
    )


# ?sort= keys: fresh terms per call (reverse_ordering changes a term in place).
_SORTS = {
    "code": lambda: [],
    "status": lambda: [F("status_rank").asc()],
    "arm": lambda: [F("allocation__arm__label").asc(nulls_last=True)],
    "next": lambda: [F("next_planned").asc(nulls_last=True)],
    "step": lambda: [F("step_rank").asc()],
}
SORT_KEYS = frozenset(_SORTS)


def _flag(condition) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _count(queryset):
    return Coalesce(Subquery(queryset.annotate(n=Count("pk")).values("n")[:1]), 0)
