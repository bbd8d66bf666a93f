"""Edit checks declared in both protocol files raise a system query on save and close it once the data are right."""

import io
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from ecrf.models import OPEN_STATES, DataQuery, EligibilityCriterion, ProtocolVersion, QueryState
from ecrf.protocol_schema import EDIT_CHECK_RULES, ProtocolFileError, parse_protocol
from ecrf.services import events, labs, queries, registration, visits
from tests.ecrf.protocol_fixture import PROTOCOL

PROTOCOL_FILES = sorted(Path("ecrf/protocols").glob("*.toml"))


@pytest.fixture(params=[path.name for path in PROTOCOL_FILES])
def checked_subject(request, allocated_subject):
    """The allocated subject, its protocol carrying the edit checks of one real protocol file."""
    monitoring = parse_protocol(Path("ecrf/protocols", request.param).read_text()).monitoring
    ProtocolVersion.objects.filter(pk=allocated_subject.protocol_id).update(monitoring=monitoring.model_dump())
    allocated_subject.protocol.refresh_from_db()
    return allocated_subject


def system_queries(code: str):
    return DataQuery.objects.filter(rule_code=code)


@pytest.mark.parametrize("path", PROTOCOL_FILES, ids=lambda p: p.name)
def test_each_protocol_file_declares_every_rule_of_the_vocabulary(path):
    declared = {check.rule for check in parse_protocol(path.read_text()).monitoring.edit_checks}
    assert declared == set(EDIT_CHECK_RULES)


def test_an_unknown_rule_is_refused_by_the_schema():
    text = PROTOCOL + '\n[[monitoring.edit_checks]]\ncode = "X"\nrule = "run_python"\nmessage = "m"\n'
    with pytest.raises(ProtocolFileError, match="monitoring.edit_checks"):
        parse_protocol(text)


def test_a_rule_parameter_on_the_wrong_rule_is_refused():
    text = PROTOCOL + '\n[[monitoring.edit_checks]]\ncode = "X"\nrule = "lab_confirmed_unusual"\nmin_grade = 3\n'
    with pytest.raises(ProtocolFileError, match="min_grade"):
        parse_protocol(text + 'message = "m"\n')


def test_a_missing_inr_at_a_scheduled_draw_raises_a_query_that_entering_it_closes(checked_subject, coordinator_a):
    w4 = checked_subject.visits.get(definition__code="W4")
    draw = labs.record_lab_draw(
        visit=w4, drawn_at=datetime(2021, 1, 30, 8, tzinfo=UTC), values={"TBIL": "20"}, by=coordinator_a
    )
    query = system_queries("MELD-INPUT").get()
    assert query.state == QueryState.OPEN
    assert query.record_id == draw.pk
    assert query.raised_by is None
    labs.update_lab_draw(
        draw, drawn_at=draw.drawn_at, values={"TBIL": "20", "INR": "1.2"}, by=coordinator_a, reason="INR came back"
    )
    query.refresh_from_db()
    assert query.state == QueryState.CLOSED
    assert query.messages.last().kind == "auto_closed"


def test_a_full_panel_raises_no_query(checked_subject, coordinator_a):
    w4 = checked_subject.visits.get(definition__code="W4")
    labs.record_lab_draw(
        visit=w4, drawn_at=datetime(2021, 1, 30, 8, tzinfo=UTC), values={"TBIL": "20", "INR": "1.1"}, by=coordinator_a
    )
    assert not DataQuery.objects.exists()


def test_a_confirmed_unusual_value_raises_a_query_on_it(checked_subject, coordinator_a, monitor):
    w4 = checked_subject.visits.get(definition__code="W4")
    draw = labs.record_lab_draw(
        visit=w4,
        drawn_at=datetime(2021, 1, 30, 8, tzinfo=UTC),
        values={"TBIL": "900", "INR": "1.1"},
        confirmed_unusual={"TBIL"},
        by=coordinator_a,
    )
    query = system_queries("LAB-UNUSUAL").get()
    assert query.field_name == "value"
    assert "TBIL" in query.where
    queries.close_query(query=query, by=monitor, text="Matches the lab report.")
    call_command("run_edit_checks", "--study", checked_subject.study.code, stdout=io.StringIO())
    assert system_queries("LAB-UNUSUAL").count() == 1  # closed by a person, value unchanged: not raised again
    tbil = draw.values.get(analyte__code="TBIL")
    labs.change_lab_value(tbil, value="901", confirmed_unusual=True, by=coordinator_a, reason="Re-read")
    assert system_queries("LAB-UNUSUAL").filter(state=QueryState.OPEN).count() == 1  # a new value: asked again


def test_a_visit_out_of_window_raises_a_query_that_a_correction_into_the_window_closes(checked_subject, coordinator_a):
    w4 = checked_subject.visits.get(definition__code="W4")
    late = w4.window_end + (w4.window_end - w4.window_start)
    visits.record_visit(w4, actual_date=late, window_reason="Patient travelling", by=coordinator_a)
    query = system_queries("VISIT-WINDOW").get()
    assert query.field_name == "actual_date"
    visits.record_visit(w4, actual_date=w4.planned_date, by=coordinator_a, reason="Wrong date typed")
    query.refresh_from_db()
    assert query.state == QueryState.CLOSED


def test_a_grade_3_event_not_assessed_as_serious_raises_a_query(checked_subject, coordinator_a):
    event = events.record_adverse_event(
        subject=checked_subject,
        by=coordinator_a,
        term="Fever",
        onset_at=datetime(2021, 1, 3, tzinfo=UTC),
        grade=3,
        relatedness="possible",
        outcome="recovered",
    )
    query = system_queries("AE-SAE").get()
    events.change_adverse_event(
        event,
        by=coordinator_a,
        reason="Hospitalised",
        serious=True,
        seriousness="hospitalisation",
        sae_reported_on=date(2021, 1, 4),
        sae_description="Admitted for fever.",
    )
    query.refresh_from_db()
    assert query.state == QueryState.CLOSED


def test_a_dose_outside_tolerance_raises_a_query(checked_subject, coordinator_a):
    events.record_infusion(
        subject=checked_subject,
        visit=checked_subject.visits.get(definition__code="W0"),
        number=1,
        started_at=datetime(2021, 1, 2, 9, 30, tzinfo=UTC),
        body_weight_kg=60,
        release={"viab": 91, "myco": True},
        dose_deviation="Short of cells",
        by=coordinator_a,
        product_lot="UC-21-001",
        passage=4,
        total_cells=10_000_000,
    )
    assert system_queries("DOSE-TOLERANCE").get().field_name == "cells_per_kg"


def test_no_edit_check_runs_for_a_protocol_without_one(allocated_subject, coordinator_a):
    w4 = allocated_subject.visits.get(definition__code="W4")
    labs.record_lab_draw(visit=w4, drawn_at=datetime(2021, 1, 30, 8, tzinfo=UTC), values={}, by=coordinator_a)
    assert not DataQuery.objects.exists()


def test_an_answer_against_the_recorded_age_raises_a_query_on_the_next_save(checked_subject, coordinator_a):
    """The checklist refuses such answers at entry; the check finds them where they got in otherwise (a protocol
    row changed under saved answers, a legacy import), on the next save of the subject."""
    answer = checked_subject.eligibility_answers.get(criterion__code="I1")
    EligibilityCriterion.objects.filter(pk=answer.criterion_id).update(
        fact_rule="requires", fact="age_years", fact_min=checked_subject.age_years + 10, fact_max=99
    )
    registration.correct_registration(checked_subject, by=coordinator_a, reason="Weighed again", weight_kg=71)
    query = system_queries("ELIG-FACT").get()
    assert (query.record_id, query.field_name) == (answer.pk, "answer")


def test_the_answers_query_closes_when_the_subject_no_longer_contradicts_it_and_stands_while_it_does(
    checked_subject, coordinator_a, django_assert_max_num_queries
):
    answer = checked_subject.eligibility_answers.get(criterion__code="I1")
    criterion = EligibilityCriterion.objects.filter(pk=answer.criterion_id)
    criterion.update(fact_rule="requires", fact="age_years", fact_min=checked_subject.age_years + 10, fact_max=99)
    registration.correct_registration(checked_subject, by=coordinator_a, reason="Weighed again", weight_kg=71)
    query = system_queries("ELIG-FACT").get()
    answers = checked_subject.eligibility_answers.count()
    with django_assert_max_num_queries(100) as saved:
        registration.correct_registration(checked_subject, by=coordinator_a, reason="Weighed again", weight_kg=72)
    on_answers = [q["sql"] for q in saved.captured_queries if "ecrf.eligibilityanswer" in q["sql"]]
    reads = [sql for sql in on_answers if 'FROM "ecrf_dataquery"' in sql]
    assert answers >= 2
    assert len(reads) == 1  # the answers' standing edit-check queries in one read, not one per answer
    query.refresh_from_db()
    assert query.state in OPEN_STATES
    criterion.update(fact_min=18)
    registration.correct_registration(checked_subject, by=coordinator_a, reason="Weighed again", weight_kg=73)
    query.refresh_from_db()
    assert query.state == QueryState.CLOSED


def test_run_edit_checks_raises_what_the_data_trip_over_a_whole_study(checked_subject, coordinator_a):
    w4 = checked_subject.visits.get(definition__code="W4")
    with edit_checks_off():
        labs.record_lab_draw(
            visit=w4, drawn_at=datetime(2021, 1, 30, 8, tzinfo=UTC), values={"TBIL": "20"}, by=coordinator_a
        )
    assert not DataQuery.objects.exists()
    out = io.StringIO()
    call_command("run_edit_checks", "--study", checked_subject.study.code, stdout=out)
    assert "MELD-INPUT: 1 open" in out.getvalue()
    call_command("run_edit_checks", "--study", checked_subject.study.code, stdout=io.StringIO())
    assert system_queries("MELD-INPUT").count() == 1  # running again raises nothing twice


@contextmanager
def edit_checks_off():
    """Data saved before the protocol had its checks (an amendment adds them later)."""
    protocol = ProtocolVersion.objects.filter(subjects__isnull=False).distinct().get()
    saved = protocol.monitoring
    ProtocolVersion.objects.filter(pk=protocol.pk).update(monitoring={})
    yield
    ProtocolVersion.objects.filter(pk=protocol.pk).update(monitoring=saved)
