"""Two sessions saving the same form at the same moment on PostgreSQL: exactly one wins, the other is told.

Each case posts the same form twice at once, from two logged-in browsers (threads, each its own connection),
both carrying the version the form was opened at, as a person clicking "save" in two tabs would.
"""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from ecrf.models import (
    AdverseEvent,
    ClinicalStatus,
    ConcomitantMedication,
    EligibilityAnswer,
    EndpointEvent,
    InfusionEvent,
    LabValue,
    Subject,
    Visit,
)
from ecrf.roles import Role
from ecrf.services import events, labs
from tests.conftest import give_first_infusion
from tests.factories import MembershipFactory

ONSET = datetime(2021, 1, 2, 13, tzinfo=UTC)
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def coordinator_user(allocated_subject, coordinator_a, site_a):
    MembershipFactory(user=coordinator_a, study=allocated_subject.study, role=Role.COORDINATOR, site=site_a)
    return coordinator_a


def post_at_once(user, url, payloads):
    """POST each payload from its own logged-in client, all released together; the responses in order."""
    barrier = threading.Barrier(len(payloads))

    def post(data):
        try:
            client = Client()
            client.force_login(user)
            barrier.wait(timeout=30)
            return client.post(url, data)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        return list(pool.map(post, payloads))


def opened_version(user, url) -> int:
    client = Client()
    client.force_login(user)
    return client.get(url).context["form"]["version"].value()


def form_as_shown(user, url) -> dict:
    """What the browser would send back: every field of the form as the page shows it."""
    client = Client()
    client.force_login(user)
    form = client.get(url).context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else (value.strftime("%Y-%m-%dT%H:%M") if hasattr(value, "hour") else value)
    return data


def one_won_one_refused_as_stale(responses) -> None:
    assert sorted(r.status_code for r in responses) == [302, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert "after you opened it" in refused.content.decode()


def subject_url(subject, name, *extra):
    return reverse(name, args=[subject.study.code, subject.pk, *extra])


def test_simultaneous_adverse_event_corrections_keep_one(coordinator_user, allocated_subject):
    facts = {"grade": 1, "relatedness": "probable", "outcome": "recovered", "action_taken": "none"}
    event = events.record_adverse_event(
        subject=allocated_subject, by=coordinator_user, term="Fever", onset_at=ONSET, **facts
    )
    url = subject_url(allocated_subject, "ecrf:adverse_event_edit", event.pk)
    base = {"onset_at": "2021-01-02T13:00", **facts}
    version = opened_version(coordinator_user, url)
    payloads = [
        {**base, "term": term, "reason": f"Read as {term}", "version": version, "submission": uuid.uuid4()}
        for term in ("Rash", "Nausea")
    ]

    responses = post_at_once(coordinator_user, url, payloads)

    one_won_one_refused_as_stale(responses)
    winner = payloads[[r.status_code for r in responses].index(302)]["term"]
    assert AdverseEvent.objects.get().term == winner
    assert event.history.count() == version + 1


def test_simultaneous_medication_corrections_keep_one(coordinator_user, allocated_subject):
    medication = events.record_medication(
        subject=allocated_subject, by=coordinator_user, drug="Entecavir", dose="0.5 mg", start_date=date(2021, 1, 2)
    )
    url = subject_url(allocated_subject, "ecrf:medication_edit", medication.pk)
    version = opened_version(coordinator_user, url)
    payloads = [
        {"drug": "Entecavir", "dose": dose, "start_date": "2021-01-02", "reason": "Dose", "version": version}
        | {"submission": uuid.uuid4()}
        for dose in ("1 mg", "2 mg")
    ]

    one_won_one_refused_as_stale(post_at_once(coordinator_user, url, payloads))
    assert ConcomitantMedication.objects.get().history.count() == version + 1


def test_simultaneous_infusion_corrections_keep_one(coordinator_user, allocated_subject):
    infusion = give_first_infusion(allocated_subject, by=coordinator_user)
    url = subject_url(allocated_subject, "ecrf:infusion_edit", infusion.pk)
    shown = form_as_shown(coordinator_user, url)  # the release results too, as the correction form now shows them
    payloads = [{**shown, "body_weight_kg": kg, "reason": "Weighed again"} for kg in ("61", "62")]
    saves_before = infusion.history.count()

    one_won_one_refused_as_stale(post_at_once(coordinator_user, url, payloads))
    assert InfusionEvent.objects.get().history.count() == saves_before + 1


def test_a_first_lab_panel_saved_twice_at_once_is_kept_once(coordinator_user, allocated_subject):
    url = subject_url(allocated_subject, "ecrf:lab_panel", "W0")
    payloads = [{"drawn_at": "2021-01-02T08:00", "version": 0, "value_TBIL": tbil} for tbil in ("20.0", "30.0")]

    one_won_one_refused_as_stale(post_at_once(coordinator_user, url, payloads))
    assert LabValue.objects.filter(analyte__code="TBIL").count() == 1


def test_simultaneous_lab_corrections_keep_one(coordinator_user, allocated_subject):
    w0 = allocated_subject.visits.get(definition__code="W0")
    labs.record_lab_draw(
        visit=w0, drawn_at=datetime(2021, 1, 2, 8, tzinfo=UTC), values={"TBIL": "20"}, by=coordinator_user
    )
    url = subject_url(allocated_subject, "ecrf:lab_panel", "W0")
    version = opened_version(coordinator_user, url)
    payloads = [
        {"drawn_at": "2021-01-02T08:00", "version": version, "value_TBIL": tbil, "reason": "Transcription"}
        for tbil in ("25.0", "35.0")
    ]

    one_won_one_refused_as_stale(post_at_once(coordinator_user, url, payloads))
    assert LabValue.history.filter(analyte__code="TBIL").count() == 2  # created, then one correction


def test_a_first_visit_entry_saved_twice_at_once_is_kept_once(coordinator_user, allocated_subject):
    url = subject_url(allocated_subject, "ecrf:visit_form", "W0")
    version = opened_version(coordinator_user, url)
    payloads = [{"actual_date": "2021-01-02", "weight_kg": kg, "version": version} for kg in ("60", "61")]

    one_won_one_refused_as_stale(post_at_once(coordinator_user, url, payloads))
    w0 = Visit.objects.get(subject=allocated_subject, definition__code="W0")
    assert w0.history.count() == version + 1


def test_simultaneous_clinical_status_entries_keep_one(coordinator_user, allocated_subject):
    definition = allocated_subject.visits.get(definition__code="W0").definition
    definition.forms = [*definition.forms, "clinical_status"]
    definition.save()
    url = subject_url(allocated_subject, "ecrf:clinical_status", "W0")
    base = {"assessed_on": "2021-01-02", "ascites": "none", "encephalopathy_grade": "0", "version": 0}
    payloads = [{**base, "temperature_c": t} for t in ("37.1", "38.2")]

    one_won_one_refused_as_stale(post_at_once(coordinator_user, url, payloads))
    assert ClinicalStatus.objects.count() == 1


def test_simultaneous_eligibility_changes_keep_one(coordinator_user, allocated_subject, new_subject):
    subject = new_subject("002", consented=True)
    url = subject_url(subject, "ecrf:eligibility")
    version = opened_version(coordinator_user, url)
    payloads = [
        {"I1": "yes", "E1": "yes", "reason": "Diabetes in the GP letter", "version": version},
        {"I1": "no", "E1": "no", "reason": "Inclusion not met after all", "version": version},
    ]

    one_won_one_refused_as_stale(post_at_once(coordinator_user, url, payloads))
    assert EligibilityAnswer.history.filter(subject_id=subject.pk).count() == version + 1


def test_consent_submitted_twice_at_once_is_recorded_once(coordinator_user, allocated_subject, new_subject):
    subject = new_subject("003")
    url = subject_url(subject, "ecrf:consent")
    payload = {"consent_date": "2021-01-01", "consent_version": "1.0"}

    responses = post_at_once(coordinator_user, url, [payload, payload])

    assert sorted(r.status_code for r in responses) == [200, 302]
    assert "cannot become consented" in next(r for r in responses if r.status_code == 200).content.decode()
    assert Subject.history.filter(id=subject.pk, history_change_reason__startswith="Consent recorded").count() == 1


def test_a_death_submitted_twice_at_once_is_recorded_once(coordinator_user, allocated_subject):
    url = subject_url(allocated_subject, "ecrf:outcome", "death")
    payload = {"death_date": "2021-03-01", "cause": "Liver failure"}

    responses = post_at_once(coordinator_user, url, [payload, payload])

    assert sorted(r.status_code for r in responses) == [200, 302]
    assert Subject.history.filter(id=allocated_subject.pk, status="died").count() == 1


def test_an_infusion_submitted_twice_at_once_is_recorded_once_without_an_error_page(
    coordinator_user, allocated_subject
):
    url = subject_url(allocated_subject, "ecrf:infusion", "W0")
    payload = {
        "started_at": "2021-01-02T09:30",
        "body_weight_kg": "60.0",
        "product_lot": "UC-21-001",
        "passage": "4",
        "total_cells": "3e7",
        "observation_hours": "6",
        "release_viab": "91",
        "release_myco": "on",
    }

    responses = post_at_once(coordinator_user, url, [payload, payload])

    assert sorted(r.status_code for r in responses) == [200, 302]
    assert InfusionEvent.objects.count() == 1


def test_an_hcc_diagnosis_submitted_twice_at_once_is_recorded_once(coordinator_user, allocated_subject):
    url = subject_url(allocated_subject, "ecrf:outcome", "hcc")
    payload = {"diagnosis_date": "2021-03-01", "method": "imaging", "details": "LI-RADS 5"}

    responses = post_at_once(coordinator_user, url, [payload, payload])

    assert 500 not in [r.status_code for r in responses]
    assert EndpointEvent.objects.filter(subject=allocated_subject, kind="hcc").count() == 1
