"""Visits generated from the schedule: planned dates and windows from the anchor, re-planned when it moves."""

from datetime import UTC, date, datetime

from ecrf.models import VisitStatus
from ecrf.services import events, subjects, visits
from ecrf.services.schedule import planned_window


def planned(subject):
    return {
        v.definition.code: (v.planned_date, v.window_start, v.window_end)
        for v in subject.visits.select_related("definition")
    }


def test_consent_generates_the_consent_anchored_visits(new_subject, coordinator_a):
    subject = new_subject()
    subjects.record_consent(subject, consent_date=date(2021, 1, 5), consent_version="1.0", by=coordinator_a)
    assert planned(subject) == {"SCR": (date(2021, 1, 5), date(2021, 1, 5), date(2021, 1, 5))}


def test_allocation_plans_treatment_visits_from_the_expected_first_infusion(allocated_subject):
    schedule = planned(allocated_subject)
    assert schedule["W0"] == (date(2021, 1, 2),) * 3
    assert schedule["W4"] == (date(2021, 1, 30), date(2021, 1, 27), date(2021, 2, 2))


def test_an_arm_without_infusions_anchors_on_allocation(protocol, new_subject, coordinator_a):
    subject = new_subject("C1", consented=True)
    subjects.assign_arm(
        subject, arm=protocol.arms.get(code="C"), allocation_date=date(2021, 3, 1), reason="x", by=coordinator_a
    )
    assert planned(subject)["W4"][0] == date(2021, 3, 29)


def test_a_later_first_infusion_re_plans_planned_visits_but_not_done_ones(allocated_subject, coordinator_a):
    screening = allocated_subject.visits.get(definition__code="SCR")
    screening.status, screening.actual_date = VisitStatus.DONE, date(2021, 1, 1)
    screening.save()
    events.record_infusion(
        subject=allocated_subject,
        visit=allocated_subject.visits.get(definition__code="W0"),
        number=1,
        started_at=datetime(2021, 1, 9, 9, tzinfo=UTC),
        body_weight_kg="60.0",
        product_lot="L1",
        total_cells=30_000_000,
        release={"viab": 90, "myco": True},
        by=coordinator_a,
    )
    schedule = planned(allocated_subject)
    assert schedule["W4"][0] == date(2021, 2, 6)
    assert schedule["SCR"][0] == date(2021, 1, 1)
    w4 = allocated_subject.visits.get(definition__code="W4")
    assert w4.history.first().history_change_reason == "Re-planned: first_infusion date is now 2021-01-09"


def test_a_visit_in_its_window_knows_it(allocated_subject):
    w4 = allocated_subject.visits.get(definition__code="W4")
    w4.actual_date = date(2021, 2, 1)
    assert w4.in_window
    w4.actual_date = date(2021, 2, 3)
    assert not w4.in_window


def test_a_done_visit_on_the_moved_anchor_keeps_its_dates(allocated_subject, coordinator_a):
    w0 = allocated_subject.visits.get(definition__code="W0")
    visits.record_visit(w0, actual_date=date(2021, 1, 2), by=coordinator_a)
    events.record_infusion(
        subject=allocated_subject,
        visit=w0,
        number=1,
        started_at=datetime(2021, 1, 9, 9, tzinfo=UTC),
        body_weight_kg="60.0",
        product_lot="L1",
        total_cells=30_000_000,
        release={"viab": 90, "myco": True},
        by=coordinator_a,
    )
    schedule = planned(allocated_subject)
    assert schedule["W0"] == (date(2021, 1, 2),) * 3
    assert schedule["W4"] == (date(2021, 2, 6), date(2021, 2, 3), date(2021, 2, 9))


def test_the_window_is_counted_from_the_planned_date(protocol):
    w4 = protocol.visit_definitions.get(code="W4")
    assert planned_window(w4, date(2021, 12, 31)) == (date(2022, 1, 28), date(2022, 1, 25), date(2022, 1, 31))
