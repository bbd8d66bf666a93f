"""The site worklist: each subject's status, arm, next visit and next step, with the state of every visit as of
today; sorted by a whitelisted key, with the columns that have a value on the page.

Read in a fixed number of queries whatever the number of subjects: the subjects with their allocation and
eligibility counts, their visits with standing signatures, and the open issues' records.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.paginator import Paginator
from django.db.models import F, Prefetch

from ecrf.models import (
    Subject,
    Visit,
    VisitSignature,
    VisitStatus,
)
from ecrf.selectors.monitoring import open_query_counts
from ecrf.selectors.next_step import ENDED, NextStep, NextVisit, SubjectProgress, next_step
from ecrf.selectors.open_issues import OpenIssue, entered_records, open_issues, visit_form_state
from ecrf.selectors.subjects import eligibility_of as subject_eligibility
from ecrf.selectors.worklist_order import SORT_KEYS, eligibility_counts, ordered_subjects

STATE_LABELS = {
    "not_yet_due": "Not yet due",
    "due": "Due",
    "overdue": "Overdue",
    "done": "Done",
    "out_of_window": "Done out of window",
    "missed": "Missed",
    "not_expected": "Not expected (participation ended)",
}
FILTERS = {
    "": "All subjects",
    "overdue": "Overdue visits",
    "due_week": "Due this week",
    "open_issues": "Open issues",
    "open_queries": "Open queries",
    "active": "In the study",
}
SORTS = SORT_KEYS  # ?sort= keys (a leading "-" reverses); ties are broken by subject code
# Columns hidden when no row on the page has a value for them.
OPTIONAL_COLUMNS = {
    "arm": lambda row: row.arm_label,
    "code": lambda row: row.randomisation_code,
    "next_visit": lambda row: row.next_visit,
    "overdue": lambda row: row.overdue,
    "issues": lambda row: row.issues,
    "queries": lambda row: row.open_queries,
}


def visit_state(visit: Visit, today: date, *, subject_ended: bool = False) -> str:
    """One of STATE_LABELS for the visit as of ``today``."""
    if visit.status == VisitStatus.DONE:
        return "done" if visit.window_start <= visit.actual_date <= visit.window_end else "out_of_window"
    if visit.status == VisitStatus.MISSED:
        return "missed"
    if subject_ended:
        return "not_expected"
    if today < visit.window_start:
        return "not_yet_due"
    return "due" if today <= visit.window_end else "overdue"


def week_of(today: date) -> tuple[date, date]:
    """Monday and Sunday of ``today``'s week."""
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def due_in_week(visit: Visit, today: date) -> bool:
    """A planned visit is due this week when its window includes a day of ``today``'s week, Monday to Sunday
    (the planned date lies in the window, so a visit planned this week counts). ``today`` is the site's day:
    sites have no time zone of their own, so it is the deployment's (``TIME_ZONE``), from ``localdate()``.
    """
    monday, sunday = week_of(today)
    return visit.status == VisitStatus.PLANNED and visit.window_start <= sunday and visit.window_end >= monday


@dataclass(frozen=True)
class WorklistRow:
    subject: Subject
    next_visit: Visit | None
    next_state: str | None
    overdue: int
    next_step: NextStep
    issues: tuple[str, ...] = ()
    due_this_week: bool = False
    open_queries: int = 0

    @property
    def next_state_label(self) -> str:
        return STATE_LABELS.get(self.next_state, "")

    @property
    def allocation(self):
        return getattr(self.subject, "allocation", None)

    @property
    def arm_label(self) -> str:
        return self.allocation.arm.label if self.allocation else ""

    @property
    def randomisation_code(self) -> str:
        return self.allocation.randomisation_code if self.allocation else ""


def site_worklist(study, site, *, today: date, search: str = "", show: str = "", sort: str = "code"):
    """The site's subjects with their next visit and step; ``show`` is one of FILTERS, ``search`` part of a
    subject code, ``sort`` one of SORTS (``-`` first for descending; anything else sorts by code)."""
    ordered = ordered_subjects(study, site, today=today, search=search, show=show, sort=sort)
    return worklist_rows(list(ordered.values_list("pk", flat=True)), today)


def worklist_page(study, site, *, today: date, number, size: int, search: str = "", show: str = "", sort: str = "code"):
    """Page ``number`` of the site worklist (``size`` rows): the filtering and sorting done by the database, only
    the page's subjects read in full, so the page costs the same at a site of 20 subjects or of 2,000."""
    ordered = ordered_subjects(study, site, today=today, search=search, show=show, sort=sort)
    page = Paginator(ordered.values_list("pk", flat=True), size).get_page(number)
    page.object_list = worklist_rows(list(page.object_list), today)
    return page


def worklist_rows(subject_ids: list[int], today: date) -> list[WorklistRow]:
    """The rows of these subjects, in that order."""
    by_pk = {subject.pk: subject for subject in _subjects(subject_ids)}
    subjects = [by_pk[pk] for pk in subject_ids]
    issues = open_issues(subjects)
    queries = open_query_counts(subject_ids)
    return [_row(subject, today, issues[subject.pk], queries[subject.pk]) for subject in subjects]


def shown_columns(rows) -> set[str]:
    """The OPTIONAL_COLUMNS with a value in at least one of ``rows`` (the page's)."""
    return {name for name, value in OPTIONAL_COLUMNS.items() if any(value(row) for row in rows)}


def _subjects(subject_ids: list[int]):
    standing = VisitSignature.objects.active()
    visits = (
        Visit.objects.active()
        .select_related("definition")
        .prefetch_related(Prefetch("signatures", queryset=standing, to_attr="standing_signatures"))
        .order_by("planned_date", "definition__order")
    )
    return (
        Subject.objects.filter(pk__in=subject_ids)
        .select_related("allocation__arm")
        .annotate(design=F("protocol__design"), **eligibility_counts())
        .prefetch_related(Prefetch("visits", queryset=visits, to_attr="calendar"))
    )


def _row(subject: Subject, today: date, issues: list[OpenIssue], open_queries: int = 0) -> WorklistRow:
    ended = subject.status in ENDED
    states = [(visit, visit_state(visit, today, subject_ended=ended)) for visit in subject.calendar]
    upcoming = next(((v, s) for v, s in states if s in ("overdue", "due", "not_yet_due")), (None, None))
    return WorklistRow(
        subject=subject,
        next_visit=upcoming[0],
        next_state=upcoming[1],
        overdue=sum(s == "overdue" for _, s in states),
        next_step=next_step(_progress(subject, upcoming, issues)),
        issues=tuple(issue.text for issue in issues),
        due_this_week=not ended and any(due_in_week(visit, today) for visit in subject.calendar),
        open_queries=open_queries,
    )


def _progress(subject: Subject, upcoming, issues: list[OpenIssue]) -> SubjectProgress:
    visit, state = upcoming
    with_issues = {issue.visit_id for issue in issues}
    unsigned = tuple(
        v.definition.code
        for v in sorted(subject.calendar, key=lambda v: v.definition.order)
        if v.status == VisitStatus.DONE and not v.standing_signatures and v.pk not in with_issues
    )
    return SubjectProgress(
        status=subject.status,
        consented=subject.consent_date is not None,
        criteria=subject.criteria,
        answered=subject.answered,
        failing=subject.failing,
        allocated=hasattr(subject, "allocation"),
        randomised_design=subject.design == "randomised",
        next_visit=NextVisit(visit.definition.code, visit.window_start, visit.window_end, state) if visit else None,
        open_sae=any(issue.is_sae for issue in issues),
        form_issues=tuple(issue.text.replace(":", "", 1) for issue in issues if not issue.is_sae),
        unsigned_visits=unsigned,
    )


def subject_calendar(subject: Subject, today: date, eligibility=None) -> list[tuple[Visit, str, str]]:
    """(visit, state, label) for each of the subject's visits, in schedule order; ``visit.signature`` is the
    standing signature or None. ``eligibility``: the subject's, when the caller has read it already.
    """
    ended = subject.status in ENDED
    standing = VisitSignature.objects.active().select_related("signed_by")
    visits = (
        subject.visits.active()
        .select_related("definition")
        .prefetch_related(Prefetch("signatures", queryset=standing, to_attr="standing_signatures"))
        .order_by("definition__order")
    )
    records = form_records(subject, eligibility)
    rows = []
    for visit in visits:
        visit.signature = visit.standing_signatures[0] if visit.standing_signatures else None
        visit.form_states = _form_states(visit, subject, records)
        state = visit_state(visit, today, subject_ended=ended)
        rows.append((visit, state, STATE_LABELS[state]))
    return rows


FORM_STATE_LABELS = {
    "not_started": "not started",
    "incomplete": "incomplete",
    "complete": "complete",
    "signed": "signed",
}
# The forms whose state the calendar tracks per visit; the others are recorded at subject level.
TRACKED_FORMS = ("visit", "clinical_status", "labs", "infusion", "consent", "eligibility")


def form_records(subject: Subject, eligibility=None) -> dict:
    """What has been entered for the subject, read in a few queries whatever the number of visits."""
    if eligibility is None:
        eligibility = subject_eligibility(subject)
    return {**entered_records([subject.pk]), "eligibility_met": eligibility.met}


def _form_states(visit: Visit, subject: Subject, records: dict) -> list[tuple[str, str]]:
    """(form code, state) for each tracked form the protocol asks for at this visit."""
    states = []
    for form in visit.definition.forms:
        if form not in TRACKED_FORMS:
            continue
        state = form_state(form, visit, subject, records)
        if visit.signature is not None and state == "complete":
            state = "signed"
        states.append((form, state))
    return states


def form_state(form: str, visit: Visit, subject: Subject, records: dict) -> str:
    if form == "visit":
        return "complete" if visit.status != VisitStatus.PLANNED else "not_started"
    if form == "consent":
        return "complete" if subject.consent_date else "not_started"
    if form == "eligibility":
        return "complete" if records["eligibility_met"] else "not_started"
    return visit_form_state(form, visit, records)
