"""Every change is made with a reason and shows on a history page: re-marking a done visit as missed, a lab draw's
time, an eligibility answer; and a correction form shows the saved value, never a guess that would change it.
"""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ecrf.models import ClinicalStatus, Visit, VisitStatus
from ecrf.services import labs, subjects, visits


def url_of(subject, name, visit_code="W0"):
    return reverse(name, args=[subject.study.code, subject.pk, visit_code])


def submit(client, url, data):
    """Post the form as a browser would: with the version the page was served with."""
    version = client.get(url).context["form"]["version"].value()
    return client.post(url, {**data, "version": version})


@pytest.fixture
def done_w0(allocated_subject, coordinator_a):
    w0 = allocated_subject.visits.get(definition__code="W0")
    return visits.record_visit(w0, actual_date=date(2021, 1, 2), weight_kg=60, by=coordinator_a)


def test_re_marking_a_done_visit_as_missed_needs_a_change_reason(coordinator, allocated_subject, done_w0):
    url = url_of(allocated_subject, "ecrf:visit_form")
    page = submit(coordinator, url, {"missed": "on", "missed_reason": "Patient in ICU"}).content.decode()
    assert "Give a reason for this change" in page
    w0 = Visit.objects.get(pk=done_w0.pk)
    assert (w0.status, w0.actual_date, w0.weight_kg) == (VisitStatus.DONE, date(2021, 1, 2), 60)


def test_a_done_visit_re_marked_missed_keeps_why_and_what_it_was(coordinator, allocated_subject, done_w0):
    url = url_of(allocated_subject, "ecrf:visit_form")
    data = {"missed": "on", "missed_reason": "Patient in ICU", "reason": "Entered on the wrong subject"}
    assert submit(coordinator, url, data).status_code == 302
    w0 = Visit.objects.get(pk=done_w0.pk)
    assert (w0.status, w0.actual_date) == (VisitStatus.MISSED, None)
    reason = w0.history.first().history_change_reason
    assert reason.startswith("Entered on the wrong subject (was done on 2021-01-02)")
    page = coordinator.get(url_of(allocated_subject, "ecrf:visit_history")).content.decode()
    assert "Entered on the wrong subject" in page


def test_a_visit_holding_lab_results_cannot_be_marked_missed(coordinator, allocated_subject, done_w0, coordinator_a):
    labs.record_lab_draw(
        visit=done_w0, drawn_at=datetime(2021, 1, 2, 8, tzinfo=UTC), values={"TBIL": "20"}, by=coordinator_a
    )
    url = url_of(allocated_subject, "ecrf:visit_form")
    data = {"missed": "on", "missed_reason": "Patient in ICU", "reason": "Entered on the wrong subject"}
    page = submit(coordinator, url, data).content.decode()
    assert "This visit took place: lab results recorded at it" in page
    assert Visit.objects.get(pk=done_w0.pk).status == VisitStatus.DONE


def test_a_changed_draw_time_shows_on_the_lab_and_visit_history(coordinator, allocated_subject, done_w0, coordinator_a):
    draw = labs.record_lab_draw(
        visit=done_w0, drawn_at=datetime(2021, 1, 2, 8, tzinfo=UTC), values={"TBIL": "20"}, by=coordinator_a
    )
    labs.update_lab_draw(
        draw, drawn_at=datetime(2021, 1, 2, 9, 30, tzinfo=UTC), values={}, by=coordinator_a, reason="Clock was wrong"
    )
    for name in ("ecrf:lab_history", "ecrf:visit_history"):
        page = coordinator.get(url_of(allocated_subject, name)).content.decode()
        assert "Drawn at" in page
        assert "2021-01-02 08:00" in page
        assert "2021-01-02 09:30" in page
        assert "Clock was wrong" in page


def test_a_changed_eligibility_answer_shows_on_the_screening_visit_history(
    coordinator, allocated_subject, new_subject, coordinator_a
):
    subject = new_subject("002", consented=True)
    subjects.record_eligibility(subject, answers={"E1": True}, by=coordinator_a, reason="Diabetes in the GP letter")
    page = coordinator.get(url_of(subject, "ecrf:visit_history", "SCR")).content.decode()
    assert "Eligibility" in page
    assert "E1:" in page
    assert "Diabetes in the GP letter" in page


def test_the_clinical_status_correction_form_shows_the_saved_assessment_date(
    coordinator, allocated_subject, done_w0, coordinator_a
):
    definition = done_w0.definition
    definition.forms = [*definition.forms, "clinical_status"]
    definition.save()
    visits.save_clinical_status(
        done_w0,
        by=coordinator_a,
        assessed_on=date(2021, 1, 3),
        ascites="none",
        encephalopathy_grade=0,
        dialysis_past_week=False,
    )
    form = coordinator.get(url_of(allocated_subject, "ecrf:clinical_status")).context["form"]
    assert str(form["assessed_on"].value()) == "2021-01-03"
    assert ClinicalStatus.objects.get().assessed_on == date(2021, 1, 3)


def test_changing_why_a_visit_was_missed_needs_a_change_reason(allocated_subject, coordinator_a):
    w0 = allocated_subject.visits.get(definition__code="W0")
    visits.mark_missed(w0, reason="Patient in ICU", by=coordinator_a)
    with pytest.raises(ValidationError, match="Give a reason"):
        visits.mark_missed(w0, reason="Travelling", by=coordinator_a)
    assert Visit.objects.get(pk=w0.pk).missed_reason == "Patient in ICU"
    visits.mark_missed(w0, reason="Travelling", change_reason="Site called the family", by=coordinator_a)
    assert w0.history.first().history_change_reason == "Site called the family; Missed: Travelling"
