"""The site worklist: each subject's status, arm and next visit, with the state of every visit as of today."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch

from ecrf.models import (
    Subject,
    SubjectStatus,
    Visit,
    VisitSignature,
    VisitStatus,
)
from ecrf.selectors.open_issues import entered_records, open_issues, visit_form_state
from ecrf.selectors.subjects import eligibility_of as subject_eligibility

ENDED = {
    SubjectStatus.SCREEN_FAILED,
    SubjectStatus.COMPLETED,
    SubjectStatus.WITHDRAWN,
    SubjectStatus.LOST,
    SubjectStatus.DIED,
}
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
    "active": "In the study",
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


@dataclass(frozen=True)
class WorklistRow:
    subject: Subject
    next_visit: Visit | None
    next_state: str | None
    overdue: int
    issues: tuple[str, ...] = ()

    @property
    def next_state_label(self) -> str:
        return STATE_LABELS.get(self.next_state, "")

    def due_within(self, today: date, days: int) -> bool:
        if self.next_visit is None or self.next_state not in ("due", "not_yet_due", "overdue"):
            return False
        return self.next_visit.window_start <= today + timedelta(days=days)


def site_worklist(study, site, *, today: date, search: str = "", show: str = "") -> list[WorklistRow]:
    """The site's subjects with their next visit; ``show`` is one of FILTERS, ``search`` part of a subject code."""
    visits = Visit.objects.active().select_related("definition").order_by("planned_date", "definition__order")
    subjects = (
        Subject.objects.active()
        .filter(study=study, site=site, subject_code__icontains=search.strip())
        .select_related("allocation__arm")
        .prefetch_related(Prefetch("visits", queryset=visits, to_attr="calendar"))
        .order_by("subject_code")
    )
    subjects = list(subjects)
    issues = open_issues(subjects)
    rows = [_row(subject, today, issues[subject.pk]) for subject in subjects]
    if show == "overdue":
        return [row for row in rows if row.overdue]
    if show == "due_week":
        return [row for row in rows if row.due_within(today, 7)]
    if show == "open_issues":
        return [row for row in rows if row.issues]
    if show == "active":
        return [row for row in rows if row.subject.status not in ENDED]
    return rows


def _row(subject: Subject, today: date, issues: list[str]) -> WorklistRow:
    ended = subject.status in ENDED
    states = [(visit, visit_state(visit, today, subject_ended=ended)) for visit in subject.calendar]
    upcoming = next(((v, s) for v, s in states if s in ("overdue", "due", "not_yet_due")), (None, None))
    return WorklistRow(
        subject=subject,
        next_visit=upcoming[0],
        next_state=upcoming[1],
        overdue=sum(s == "overdue" for _, s in states),
        issues=tuple(issues),
    )


def subject_calendar(subject: Subject, today: date) -> list[tuple[Visit, str, str]]:
    """(visit, state, label) for each of the subject's visits, in schedule order; ``visit.signature`` is the
    standing signature or None.
    """
    ended = subject.status in ENDED
    standing = VisitSignature.objects.active().select_related("signed_by")
    visits = (
        subject.visits.active()
        .select_related("definition")
        .prefetch_related(Prefetch("signatures", queryset=standing, to_attr="standing_signatures"))
        .order_by("definition__order")
    )
    records = form_records(subject)
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


def form_records(subject: Subject) -> dict:
    """What has been entered for the subject, read in a few queries whatever the number of visits."""
    return {**entered_records([subject.pk]), "eligibility_met": subject_eligibility(subject).met}


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
