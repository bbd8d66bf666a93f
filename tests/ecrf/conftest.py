"""Fixtures shared by the eCRF page tests."""

from datetime import UTC, date, datetime

import pytest

from ecrf.roles import Role
from ecrf.services import events, labs, visits
from tests.conftest import give_first_infusion
from tests.factories import MembershipFactory


@pytest.fixture
def coordinator(client, allocated_subject, coordinator_a, site_a):
    """A browser client logged in as site A's coordinator of the allocated subject's study."""
    MembershipFactory(user=coordinator_a, study=allocated_subject.study, role=Role.COORDINATOR, site=site_a)
    client.force_login(coordinator_a)
    return client


@pytest.fixture
def recorded(allocated_subject, coordinator_a):
    """The allocated subject's W0 with every correctable record saved once: visit, clinical status, lab panel,
    adverse event, medication, infusion.
    """
    w0 = allocated_subject.visits.get(definition__code="W0")
    w0.definition.forms = [*w0.definition.forms, "clinical_status"]
    w0.definition.save()
    visits.record_visit(w0, actual_date=date(2021, 1, 2), by=coordinator_a)
    visits.save_clinical_status(
        w0,
        by=coordinator_a,
        assessed_on=date(2021, 1, 2),
        ascites="none",
        encephalopathy_grade=0,
        dialysis_past_week=False,
    )
    labs.record_lab_draw(
        visit=w0, drawn_at=datetime(2021, 1, 2, 8, tzinfo=UTC), values={"TBIL": "20", "INR": "1.10"}, by=coordinator_a
    )
    return {
        "subject": allocated_subject,
        "visit": w0,
        "adverse-event": events.record_adverse_event(
            subject=allocated_subject,
            by=coordinator_a,
            term="Fever",
            onset_at=datetime(2021, 1, 2, 13, tzinfo=UTC),
            grade=1,
            relatedness="probable",
            outcome="recovered",
            action_taken="none",
        ),
        "medication": events.record_medication(
            subject=allocated_subject, by=coordinator_a, drug="Entecavir", dose="0.5 mg", start_date=date(2021, 1, 2)
        ),
        "infusion": give_first_infusion(allocated_subject, by=coordinator_a),
    }
