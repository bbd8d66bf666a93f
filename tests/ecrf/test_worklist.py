"""Visit states as of a day, and the site worklist's filters and search."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from ecrf.models import Visit, VisitStatus
from ecrf.selectors.worklist import site_worklist, visit_state
from ecrf.services import events, subjects
from ecrf.services import labs as lab_services
from ecrf.services import visits as visit_services

WINDOW = {"planned_date": date(2021, 2, 1), "window_start": date(2021, 1, 29), "window_end": date(2021, 2, 4)}


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2021, 1, 28), "not_yet_due"),
        (date(2021, 1, 29), "due"),
        (date(2021, 2, 4), "due"),
        (date(2021, 2, 5), "overdue"),
    ],
)
def test_a_planned_visit_is_not_yet_due_due_or_overdue(today, state):
    assert visit_state(Visit(status=VisitStatus.PLANNED, **WINDOW), today) == state


@pytest.mark.parametrize(("actual", "state"), [(date(2021, 2, 4), "done"), (date(2021, 2, 5), "out_of_window")])
def test_a_done_visit_is_in_or_out_of_its_window(actual, state):
    assert visit_state(Visit(status=VisitStatus.DONE, actual_date=actual, **WINDOW), date(2021, 3, 1)) == state


def test_a_missed_visit_stays_missed():
    assert visit_state(Visit(status=VisitStatus.MISSED, **WINDOW), date(2021, 3, 1)) == "missed"


def test_planned_visits_of_a_subject_who_left_are_not_expected():
    visit = Visit(status=VisitStatus.PLANNED, **WINDOW)
    assert visit_state(visit, date(2021, 3, 1), subject_ended=True) == "not_expected"


def test_the_worklist_shows_the_next_visit_and_counts_overdue(allocated_subject, site_a):
    (row,) = site_worklist(allocated_subject.study, site_a, today=date(2021, 1, 20))
    assert row.next_visit.definition.code == "SCR"  # consent visit still planned, and overdue
    assert row.next_state == "overdue"
    assert row.overdue == 2  # SCR (2021-01-01) and W0 (2021-01-02); W4 due 2021-01-27 to 2021-02-02


def test_the_worklist_filters_overdue_and_due_this_week(allocated_subject, new_subject, site_a, coordinator_a):
    for visit in allocated_subject.visits.filter(definition__code__in=["SCR", "W0"]):
        visit.status, visit.actual_date = VisitStatus.DONE, visit.planned_date
        visit.save()
    new_subject("002")
    study = allocated_subject.study
    assert [r.subject.subject_code for r in site_worklist(study, site_a, today=date(2021, 1, 22), show="due_week")] == [
        "001"
    ]
    assert site_worklist(study, site_a, today=date(2021, 1, 22), show="overdue") == []
    assert len(site_worklist(study, site_a, today=date(2021, 3, 1), show="overdue")) == 1


def test_the_worklist_searches_by_subject_code_and_hides_ended_subjects_when_asked(new_subject, site_a, coordinator_a):
    subjects.mark_screen_failed(new_subject("S-101"), reason="Refused consent", by=coordinator_a)
    new_subject("S-202")
    study = new_subject("T-303").study
    assert [r.subject.subject_code for r in site_worklist(study, site_a, today=date(2021, 2, 1), search="s-")] == [
        "S-101",
        "S-202",
    ]
    active = site_worklist(study, site_a, today=date(2021, 2, 1), show="active")
    assert [r.subject.subject_code for r in active] == ["S-202", "T-303"]


def _hold(subject, code, by):
    visit = subject.visits.get(definition__code=code)
    return visit_services.record_visit(visit, actual_date=visit.planned_date, by=by)


def test_open_issues_name_missing_and_partial_forms_at_held_visits(allocated_subject, site_a, coordinator_a):
    visit = _hold(allocated_subject, "W0", coordinator_a)
    (row,) = site_worklist(allocated_subject.study, site_a, today=date(2021, 1, 5), show="open_issues")
    assert row.issues == ("W0: labs missing", "W0: infusion missing")
    drawn = datetime(2021, 1, 2, 9, tzinfo=UTC)
    lab_services.record_lab_draw(visit=visit, drawn_at=drawn, values={"TBIL": "20"}, by=coordinator_a)
    (row,) = site_worklist(allocated_subject.study, site_a, today=date(2021, 1, 5), show="open_issues")
    assert row.issues[0] == "W0: labs partial"


def test_a_subject_without_open_issues_is_filtered_out(allocated_subject, site_a):
    # Visits not yet held owe nothing: the subject has no open issue.
    assert site_worklist(allocated_subject.study, site_a, today=date(2021, 1, 5), show="open_issues") == []


def test_an_unresolved_serious_adverse_event_is_an_open_issue(allocated_subject, site_a, coordinator_a):
    facts = {"onset_at": datetime(2021, 1, 3, tzinfo=UTC), "grade": 3, "relatedness": "possible"}
    sae = events.record_adverse_event(
        subject=allocated_subject,
        by=coordinator_a,
        term="Pneumonia",
        serious=True,
        seriousness="hospitalisation",
        sae_reported_on=date(2021, 1, 4),
        outcome="recovering",
        **facts,
    )
    (row,) = site_worklist(allocated_subject.study, site_a, today=date(2021, 1, 5), show="open_issues")
    assert row.issues == ("SAE Pneumonia not resolved",)
    events.change_adverse_event(
        sae, resolved_at=datetime(2021, 1, 9, tzinfo=UTC), outcome="recovered", by=coordinator_a, reason="Resolved"
    )
    assert site_worklist(allocated_subject.study, site_a, today=date(2021, 1, 10), show="open_issues") == []


def test_the_worklist_page_lists_open_issues(allocated_subject, site_a, coordinator_a, coordinator):
    _hold(allocated_subject, "W0", coordinator_a)
    url = reverse("ecrf:site_detail", args=[allocated_subject.study.code, site_a.code])
    page = coordinator.get(url, {"show": "open_issues"}).content.decode()
    assert "W0: labs missing" in page
    assert "SAE" not in page  # only what is open is listed
