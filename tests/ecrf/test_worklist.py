"""Visit states as of a day, and the site worklist's filters and search."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ecrf.models import Subject, SubjectStatus, Visit, VisitStatus
from ecrf.selectors.next_step import ENDED
from ecrf.selectors.worklist import site_worklist, visit_state
from ecrf.services import events, queries, subjects
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


def _hold_screening_and_w0(subject):
    for visit in subject.visits.filter(definition__code__in=["SCR", "W0"]):
        visit.status, visit.actual_date = VisitStatus.DONE, visit.planned_date
        visit.save()


def test_the_worklist_filters_overdue_and_due_this_week(allocated_subject, new_subject, site_a, coordinator_a):
    _hold_screening_and_w0(allocated_subject)
    new_subject("002")  # screened only: no visit scheduled yet
    study = allocated_subject.study
    assert [r.subject.subject_code for r in site_worklist(study, site_a, today=date(2021, 1, 25), show="due_week")] == [
        "001"
    ]
    assert site_worklist(study, site_a, today=date(2021, 1, 22), show="overdue") == []
    assert len(site_worklist(study, site_a, today=date(2021, 3, 1), show="overdue")) == 1


# W4's window is Wednesday 2021-01-27 to Tuesday 2021-02-02: due in the weeks of Monday 25 January and 1 February.
@pytest.mark.parametrize(
    ("today", "listed"),
    [
        (date(2021, 1, 24), False),  # Sunday before: the window opens next week
        (date(2021, 1, 25), True),  # Monday of the week the window opens
        (date(2021, 2, 7), True),  # Sunday of the week the window closes
        (date(2021, 2, 8), False),  # Monday after: overdue, no longer due this week
    ],
)
def test_due_this_week_means_the_window_includes_a_day_of_the_week(allocated_subject, site_a, today, listed):
    _hold_screening_and_w0(allocated_subject)
    rows = site_worklist(allocated_subject.study, site_a, today=today, show="due_week")
    assert bool(rows) is listed


def test_due_this_week_uses_the_local_day(allocated_subject, site_a, coordinator, settings):
    _hold_screening_and_w0(allocated_subject)
    settings.TIME_ZONE = "Asia/Shanghai"
    url = reverse("ecrf:site_detail", args=[allocated_subject.study.code, site_a.code])
    # Sunday 2021-01-24 17:00 UTC is Monday 01:00 in Beijing: the week of the W4 window has begun.
    with time_machine.travel(datetime(2021, 1, 24, 17, tzinfo=UTC), tick=False):
        assert "next-step-001" in coordinator.get(url, {"show": "due_week"}).content.decode()
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(datetime(2021, 1, 24, 17, tzinfo=UTC), tick=False):
        assert "next-step-001" not in coordinator.get(url, {"show": "due_week"}).content.decode()


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


def _steps(study, site, today, **kwargs):
    return {row.subject.subject_code: row.next_step.text for row in site_worklist(study, site, today=today, **kwargs)}


def test_the_next_step_follows_screening(new_subject, site_a, coordinator_a):
    screened = new_subject("001")
    consented = new_subject("002")
    subjects.record_consent(consented, consent_date=date(2021, 1, 1), consent_version="1.0", by=coordinator_a)
    new_subject("003", consented=True)
    failing = new_subject("004")
    subjects.record_consent(failing, consent_date=date(2021, 1, 1), consent_version="1.0", by=coordinator_a)
    subjects.record_eligibility(failing, answers={"I1": True, "E1": True}, by=coordinator_a)
    assert _steps(screened.study, site_a, date(2021, 1, 1)) == {
        "001": "Record consent",
        "002": "Complete the eligibility checklist",
        "003": "Awaiting allocation by an investigator",
        "004": "Not eligible: record the screen failure",
    }


def test_an_eligible_subject_of_a_randomised_protocol_is_to_be_randomised(ready_to_randomise, site_a):
    subject = ready_to_randomise("R-001")
    (row,) = site_worklist(subject.study, site_a, today=date(2021, 1, 1))
    assert row.next_step.text == "Randomise"
    assert not row.next_step.waits_on_investigator


def test_the_next_step_after_allocation_follows_the_visits(allocated_subject, site_a, coordinator_a):
    study = allocated_subject.study
    assert _steps(study, site_a, date(2021, 1, 5)) == {"001": "SCR overdue since 2021-01-01"}
    _hold(allocated_subject, "SCR", coordinator_a)
    visit_services.mark_missed(allocated_subject.visits.get(definition__code="W0"), reason="Ill", by=coordinator_a)
    (row,) = site_worklist(study, site_a, today=date(2021, 1, 5))
    assert row.next_step.text == "Awaiting investigator signature (SCR)"
    assert row.next_step.waits_on_investigator
    assert _steps(study, site_a, date(2021, 1, 28)) == {"001": "W4 due by 2021-02-02"}
    _hold(allocated_subject, "W4", coordinator_a)
    assert _steps(study, site_a, date(2021, 2, 1)) == {"001": "W4 labs missing"}


def _open_pneumonia_sae(subject, by, *, onset: date):
    """A serious adverse event with onset ``onset``, reported the next day, not resolved."""
    return events.record_adverse_event(
        subject=subject,
        by=by,
        term="Pneumonia",
        serious=True,
        seriousness="hospitalisation",
        sae_reported_on=onset + timedelta(days=1),
        outcome="recovering",
        onset_at=datetime(onset.year, onset.month, onset.day, tzinfo=UTC),
        grade=3,
        relatedness="possible",
    )


def test_an_open_sae_comes_first(allocated_subject, site_a, coordinator_a):
    _open_pneumonia_sae(allocated_subject, coordinator_a, onset=date(2021, 1, 3))
    assert _steps(allocated_subject.study, site_a, date(2021, 1, 5)) == {"001": "SAE open: resolve or follow up"}


def test_the_worklist_sorts_by_a_whitelisted_key(new_subject, site_a, coordinator_a):
    study = new_subject("B", consented=True).study
    new_subject("A")
    new_subject("C", consented=True)
    subjects.assign_arm(
        study.subjects.get(subject_code="C"),
        arm=study.protocol_versions.get().arms.get(code="A"),
        allocation_date=date(2021, 1, 2),
        reason="Design",
        by=coordinator_a,
    )

    def codes(sort):
        return [r.subject.subject_code for r in site_worklist(study, site_a, today=date(2021, 1, 2), sort=sort)]

    assert codes("code") == ["A", "B", "C"]
    assert codes("-code") == ["C", "B", "A"]
    assert codes("status") == ["A", "B", "C"]  # screened, eligible, allocated
    assert codes("-status") == ["C", "B", "A"]
    assert codes("arm") == ["C", "A", "B"]  # subjects with an arm first
    assert codes("step") == ["A", "B", "C"]  # record consent, awaiting allocation, SCR overdue
    assert codes("nonsense") == ["A", "B", "C"]


def _page(client, subject, **params):
    url = reverse("ecrf:site_detail", args=[subject.study.code, subject.site.code])
    return client.get(url, params)


def test_unknown_sort_falls_back_to_the_code(coordinator, allocated_subject):
    response = _page(coordinator, allocated_subject, sort="subject_code; drop")
    assert response.status_code == 200
    assert response.context["sort"] == "code"


def test_the_worklist_pages_by_fifty_keeping_filters_in_the_links(coordinator, allocated_subject, new_subject):
    for n in range(2, 53):
        new_subject(f"{n:03d}")
    first = _page(coordinator, allocated_subject, q="0", show="active", sort="-code")
    assert len(first.context["page"].object_list) == 50
    assert 'href="?q=0&amp;show=active&amp;sort=-code&amp;page=2"' in first.content.decode()
    second = _page(coordinator, allocated_subject, q="0", show="active", sort="-code", page=2)
    assert [row.subject.subject_code for row in second.context["page"].object_list] == ["002", "001"]
    assert _page(coordinator, allocated_subject, page="99").context["page"].number == 2


def test_a_column_without_a_value_on_the_page_is_hidden(coordinator, allocated_subject):
    page = _page(coordinator, allocated_subject).content.decode()
    assert ">Arm<" in page  # arm A is assigned
    assert ">Code</th>" not in page  # assigned, not randomised: no randomisation code
    assert ">Open issues</th>" not in page


def test_open_issues_show_their_count_and_first_issue_without_expanding(coordinator, allocated_subject, coordinator_a):
    _hold(allocated_subject, "W0", coordinator_a)
    page = _page(coordinator, allocated_subject).content.decode()
    assert "W0: labs missing<details>" in page
    assert "<summary" in page
    assert "1 more</summary>" in page


@pytest.mark.parametrize("extra", [4, 29])
def test_the_worklist_page_reads_in_a_bounded_number_of_queries(
    coordinator, allocated_subject, new_subject, coordinator_a, extra, django_assert_max_num_queries
):
    for n in range(extra):
        subject = new_subject(f"X{n:03d}", consented=True)
        subjects.assign_arm(
            subject,
            arm=allocated_subject.allocation.arm,
            allocation_date=date(2021, 1, 2),
            reason="Design",
            by=coordinator_a,
        )
        _hold(subject, "W0", coordinator_a)
    # The same for 5 and 30 subjects: the count and the page's subject ids, then the page's rows in full.
    with django_assert_max_num_queries(20):
        assert _page(coordinator, allocated_subject).status_code == 200


# The worklist's rules as the rows state them: the database's filters and order must give the same subjects.
PYTHON_SORTS = {
    "code": lambda row: (),
    "status": lambda row: (list(SubjectStatus.values).index(row.subject.status),),
    "arm": lambda row: (row.arm_label == "", row.arm_label),
    "next": lambda row: (row.next_visit is None, row.next_visit.planned_date if row.next_visit else date.min),
    "step": lambda row: (row.next_step.rank,),
}
PYTHON_FILTERS = {
    "overdue": lambda row: row.overdue > 0,
    "due_week": lambda row: row.due_this_week,
    "open_issues": lambda row: bool(row.issues),
    "open_queries": lambda row: row.open_queries > 0,
    "active": lambda row: row.subject.status not in ENDED,
}


@pytest.fixture
def mixed_site(allocated_subject, new_subject, coordinator_a):
    """Subjects at every stage: screened, consented, screen failed, allocated with visits held, missing forms,
    an open SAE and an open query."""
    new_subject("A-screened")
    new_subject("B-consented", consented=True)
    subjects.mark_screen_failed(new_subject("C-failed"), reason="Refused consent", by=coordinator_a)
    arm = allocated_subject.allocation.arm
    for code in ("D-allocated", "E-held", "F-sae"):
        subject = new_subject(code, consented=True)
        subjects.assign_arm(subject, arm=arm, allocation_date=date(2021, 1, 9), reason="Design", by=coordinator_a)
    _hold(Subject.objects.get(subject_code="E-held"), "W0", coordinator_a)
    _open_pneumonia_sae(Subject.objects.get(subject_code="F-sae"), coordinator_a, onset=date(2021, 1, 11))
    _hold(allocated_subject, "SCR", coordinator_a)
    queries.raise_query(record=allocated_subject, text="Please check the consent date.", by=coordinator_a)
    return allocated_subject.study, allocated_subject.site


@pytest.mark.parametrize("sort", [*PYTHON_SORTS, *(f"-{key}" for key in PYTHON_SORTS)])
def test_the_database_sorts_as_the_rows_say(mixed_site, sort):
    study, site = mixed_site
    for today in (date(2021, 1, 5), date(2021, 1, 20), date(2021, 6, 1)):
        rows = site_worklist(study, site, today=today, sort=sort)
        key = PYTHON_SORTS[sort.removeprefix("-")]
        expected = sorted(rows, key=lambda r: (*key(r), r.subject.subject_code), reverse=sort.startswith("-"))
        assert [r.subject.subject_code for r in rows] == [r.subject.subject_code for r in expected], today


@pytest.mark.parametrize("show", list(PYTHON_FILTERS))
def test_the_database_filters_as_the_rows_say(mixed_site, show):
    study, site = mixed_site
    for today in (date(2021, 1, 5), date(2021, 1, 20), date(2021, 6, 1)):
        every = site_worklist(study, site, today=today)
        shown = site_worklist(study, site, today=today, show=show)
        expected = [r.subject.subject_code for r in every if PYTHON_FILTERS[show](r)]
        assert [r.subject.subject_code for r in shown] == expected, today
        assert shown or show in ("due_week", "overdue"), today  # the fixture has a subject for each other filter


def test_only_one_page_of_subjects_is_read_whatever_the_site_holds(
    coordinator, allocated_subject, new_subject, monkeypatch
):
    monkeypatch.setattr("ecrf.views.studies.WORKLIST_PAGE_SIZE", 3)
    for n in range(8):
        new_subject(f"P{n:03d}", consented=True)
    _page(coordinator, allocated_subject)  # the first request of a session reads more (its user, its site)
    with CaptureQueriesContext(connection) as first:
        response = _page(coordinator, allocated_subject)
    assert response.context["page"].paginator.count == 9
    assert len(response.context["page"].object_list) == 3
    for n in range(8, 20):
        new_subject(f"P{n:03d}", consented=True)
    with CaptureQueriesContext(connection) as later:
        response = _page(coordinator, allocated_subject)
    assert response.context["page"].paginator.count == 21
    assert len(later.captured_queries) == len(first.captured_queries)
    second = _page(coordinator, allocated_subject, page=2).context["page"].object_list
    assert [row.subject.subject_code for row in second] == ["P002", "P003", "P004"]
