"""The database refuses impossible clinical rows, and the services refuse bad entries with nothing half-saved."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ecrf.models import (
    AdverseEvent,
    ConcomitantMedication,
    InfusionEvent,
    LabDraw,
    LabValue,
    ReleaseResult,
    Subject,
    Visit,
)
from ecrf.services import events, labs, signatures, subjects, visits
from ecrf.services.labs import NotDone
from tests.ecrf.unaudited import update_bypassing_audit
from tests.factories import TEST_PASSWORD

DRAWN = datetime(2021, 1, 2, 8, tzinfo=UTC)


def refused_by_database(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def w0(subject):
    return subject.visits.get(definition__code="W0")


def test_two_active_visits_for_one_schedule_entry_are_refused(allocated_subject):
    visit = w0(allocated_subject)
    refused_by_database(
        lambda: Visit.objects.create(
            subject=allocated_subject,
            definition=visit.definition,
            planned_date=visit.planned_date,
            window_start=visit.window_start,
            window_end=visit.window_end,
        )
    )


def test_two_active_draws_of_one_panel_at_one_visit_are_refused(allocated_subject):
    visit = w0(allocated_subject)
    LabDraw.objects.create(visit=visit, panel=visit.definition.lab_panel, drawn_at=DRAWN)
    refused_by_database(lambda: LabDraw.objects.create(visit=visit, panel=visit.definition.lab_panel, drawn_at=DRAWN))


def test_a_not_done_lab_value_cannot_carry_a_value(allocated_subject):
    visit = w0(allocated_subject)
    draw = LabDraw.objects.create(visit=visit, panel=visit.definition.lab_panel, drawn_at=DRAWN)
    analyte = draw.panel.analytes.first()
    refused_by_database(
        lambda: LabValue.objects.create(draw=draw, analyte=analyte, value=5, not_done=True, not_done_reason="x")
    )


def _ae(subject, **facts):
    onset = datetime(2021, 1, 5, 12, tzinfo=UTC)
    base = {
        "subject": subject,
        "term": "Fever",
        "onset_at": onset,
        "grade": 1,
        "relatedness": "possible",
        "outcome": "recovered",
    }
    return AdverseEvent.objects.create(**{**base, **facts})


def test_an_adverse_event_resolving_before_onset_is_refused(allocated_subject):
    refused_by_database(lambda: _ae(allocated_subject, resolved_at=datetime(2021, 1, 4, tzinfo=UTC)))


def test_a_ctcae_grade_above_5_is_refused(allocated_subject):
    refused_by_database(lambda: _ae(allocated_subject, grade=6))


def test_a_serious_event_without_its_criterion_is_refused(allocated_subject):
    refused_by_database(lambda: _ae(allocated_subject, serious=True))


def test_an_infusion_with_no_body_weight_is_refused(allocated_subject):
    refused_by_database(
        lambda: InfusionEvent.objects.create(
            subject=allocated_subject, number=1, started_at=DRAWN, body_weight_kg=0, product_lot="L", total_cells=1
        )
    )


def test_a_medication_stopping_before_it_starts_is_refused(allocated_subject):
    refused_by_database(
        lambda: ConcomitantMedication.objects.create(
            subject=allocated_subject,
            drug="Entecavir",
            dose="0.5 mg",
            start_date=date(2021, 2, 1),
            stop_date=date(2021, 1, 1),
        )
    )


def test_an_impossible_lab_value_is_refused_naming_the_analyte_and_nothing_is_saved(allocated_subject, coordinator_a):
    with pytest.raises(ValidationError) as error:
        labs.record_lab_draw(
            visit=w0(allocated_subject), drawn_at=DRAWN, values={"TBIL": "25", "INR": "40"}, by=coordinator_a
        )
    assert error.value.message_dict == {"INR": ["INR 40 ratio is impossible: it must lie between 0.5 and 15 ratio."]}
    assert not LabDraw.objects.exists()
    assert not LabValue.objects.exists()


def test_a_lab_value_that_is_not_a_number_is_refused(allocated_subject, coordinator_a):
    with pytest.raises(ValidationError, match="is not a number"):
        labs.record_lab_draw(visit=w0(allocated_subject), drawn_at=DRAWN, values={"TBIL": "high"}, by=coordinator_a)
    assert not LabDraw.objects.exists()


def test_not_done_needs_a_reason(allocated_subject, coordinator_a):
    with pytest.raises(ValidationError, match="reason"):
        labs.record_lab_draw(
            visit=w0(allocated_subject), drawn_at=DRAWN, values={"TBIL": NotDone("")}, by=coordinator_a
        )
    assert not LabValue.objects.exists()


def test_not_done_with_a_reason_is_kept_apart_from_blank(allocated_subject, coordinator_a):
    draw = labs.record_lab_draw(
        visit=w0(allocated_subject),
        drawn_at=DRAWN,
        values={"TBIL": NotDone("Haemolysed"), "INR": None},
        by=coordinator_a,
    )
    rows = {v.analyte.code: (v.value, v.not_done, v.not_done_reason) for v in draw.values.all()}
    assert rows == {"TBIL": (None, True, "Haemolysed")}  # INR not entered yet: no row at all


def _infusion(subject, user, **extra):
    return events.record_infusion(
        subject=subject,
        visit=w0(subject),
        number=1,
        started_at=DRAWN + timedelta(hours=1),
        body_weight_kg="60.0",
        product_lot="UC-001",
        total_cells=30_000_000,
        by=user,
        **extra,
    )


def test_an_infusion_computes_its_dose_per_kg(allocated_subject, coordinator_a):
    infusion = _infusion(allocated_subject, coordinator_a, release={"viab": 91, "myco": True})
    assert infusion.cells_per_kg == pytest.approx(500_000)


def test_a_product_failing_release_is_refused_and_nothing_is_saved(allocated_subject, coordinator_a):
    with pytest.raises(ValidationError, match=r"fails release \(Viability > 80 %\)"):
        _infusion(allocated_subject, coordinator_a, release={"viab": 75, "myco": True})
    assert not InfusionEvent.objects.exists()
    assert not ReleaseResult.objects.exists()


def test_a_missing_release_result_counts_as_failing(allocated_subject, coordinator_a):
    with pytest.raises(ValidationError, match="Mycoplasma: no result"):
        _infusion(allocated_subject, coordinator_a, release={"viab": 90})


def test_a_product_failing_release_is_given_with_a_recorded_deviation(allocated_subject, coordinator_a):
    infusion = _infusion(
        allocated_subject, coordinator_a, release={"viab": 75, "myco": True}, release_deviation="PD-3: investigator"
    )
    assert not infusion.release_results.get(criterion__code="viab").passed
    allocated_subject.refresh_from_db()
    assert allocated_subject.status == "on_treatment"


def test_an_arm_without_infusions_cannot_record_one(protocol, new_subject, coordinator_a):
    subject = new_subject("C1", consented=True)
    subjects.assign_arm(
        subject, arm=protocol.arms.get(code="C"), allocation_date=date(2021, 1, 2), reason="x", by=coordinator_a
    )
    with pytest.raises(ValidationError, match="receives no infusions"):
        _infusion(subject, coordinator_a, release={"viab": 90, "myco": True})


def test_an_hcc_diagnosis_before_consent_is_refused(allocated_subject, coordinator_a):
    with pytest.raises(ValidationError, match="from consent on"):
        events.record_hcc(
            subject=allocated_subject, diagnosis_date=date(2020, 1, 1), method="imaging", by=coordinator_a
        )


def test_a_subject_code_used_twice_in_a_study_is_refused(allocated_subject):
    facts = Subject.objects.filter(pk=allocated_subject.pk).values(
        "study_id", "site_id", "protocol_id", "subject_code", "screening_date", "sex", "age_years"
    )[0]
    refused_by_database(lambda: Subject.objects.create(**facts))
    assert Subject.objects.count() == 1


def test_the_database_refuses_death_before_consent(allocated_subject):
    refused_by_database(
        lambda: update_bypassing_audit(
            Subject.objects.filter(pk=allocated_subject.pk), status="died", death_date=date(2020, 12, 31)
        )
    )
    assert Subject.objects.get(pk=allocated_subject.pk).death_date is None


def test_an_infusion_with_a_negative_body_weight_is_refused(allocated_subject):
    refused_by_database(
        lambda: InfusionEvent.objects.create(
            subject=allocated_subject, number=1, started_at=DRAWN, body_weight_kg=-60, product_lot="L", total_cells=1
        )
    )


def test_a_lab_value_outside_the_hard_limits_refuses_the_whole_draw(allocated_subject, coordinator_a):
    with pytest.raises(ValidationError) as error:
        labs.record_lab_draw(
            visit=w0(allocated_subject), drawn_at=DRAWN, values={"TBIL": "0.1", "INR": "1.1"}, by=coordinator_a
        )
    assert error.value.messages == [
        "Total bilirubin 0.1 umol/L is impossible: it must lie between 0.5 and 1500 umol/L."
    ]
    assert (LabDraw.objects.count(), LabValue.objects.count()) == (0, 0)


def test_a_correction_outside_the_hard_limits_is_refused_and_the_value_kept(allocated_subject, coordinator_a):
    draw = labs.record_lab_draw(visit=w0(allocated_subject), drawn_at=DRAWN, values={"INR": "1.1"}, by=coordinator_a)
    inr = draw.values.get()
    with pytest.raises(ValidationError, match="between 0.5 and 15 ratio"):
        labs.change_lab_value(inr, value="16", by=coordinator_a, reason="Typo")
    inr.refresh_from_db()
    assert (inr.value, inr.history.count()) == (Decimal("1.1"), 1)


def test_release_results_are_kept_with_the_infusion_given_under_deviation(allocated_subject, coordinator_a):
    _infusion(allocated_subject, coordinator_a, release={"viab": 75, "myco": True}, release_deviation="PD-3")
    results = dict(ReleaseResult.objects.values_list("criterion__code", "passed"))
    assert results == {"viab": False, "myco": True}
    assert InfusionEvent.objects.get().release_deviation == "PD-3"


def test_an_infusion_at_a_signed_visit_is_refused(allocated_subject, coordinator_a, investigator_a, check_password):
    # W4 asks for no infusion, so it can be signed complete (visit and labs) before any infusion is recorded.
    visit = allocated_subject.visits.get(definition__code="W4")
    visits.record_visit(visit, actual_date=date(2021, 1, 30), by=coordinator_a)
    labs.record_lab_draw(visit=visit, drawn_at=DRAWN, values={"TBIL": "20", "INR": "1.1"}, by=coordinator_a)
    signatures.sign_visit(visit, by=investigator_a, password=TEST_PASSWORD, check_password=check_password)
    with pytest.raises(ValidationError, match="signed"):
        events.record_infusion(
            subject=allocated_subject,
            visit=visit,
            number=1,
            started_at=DRAWN + timedelta(hours=1),
            body_weight_kg="60.0",
            product_lot="UC-001",
            total_cells=30_000_000,
            release={"viab": 91, "myco": True},
            by=coordinator_a,
        )
    assert not InfusionEvent.objects.exists()


def test_an_infusion_after_the_subjects_death_is_refused(allocated_subject, coordinator_a):
    subjects.record_death(allocated_subject, death_date=date(2021, 1, 5), cause="Variceal bleed", by=coordinator_a)
    with pytest.raises(ValidationError):
        events.record_infusion(
            subject=allocated_subject,
            visit=w0(allocated_subject),
            number=1,
            started_at=datetime(2021, 1, 9, 9, tzinfo=UTC),
            body_weight_kg="60.0",
            product_lot="UC-001",
            total_cells=30_000_000,
            release={"viab": 91, "myco": True},
            by=coordinator_a,
        )
    assert not InfusionEvent.objects.exists()
