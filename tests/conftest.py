"""The fixed cast: one study run at sites A and B, a user per role, an outsider and an administrator."""

import os
from datetime import UTC, date, datetime

import pytest
from django.test import RequestFactory
from playwright.sync_api import expect

from ecrf.credentials import request_password_checker
from ecrf.roles import Role
from ecrf.services import events, subjects
from ecrf.services import labs as lab_services
from ecrf.services.protocols import load_protocol
from tests.ecrf.protocol_fixture import PROTOCOL, RANDOMISED_PROTOCOL
from tests.factories import MembershipFactory, SiteFactory, StudyFactory, StudySiteFactory, UserFactory

# Playwright's assertions wait 5 s by default; a page that saves a form with its edit checks while the other test
# pass shares the two cores took longer than that in CI (a red run on a correct page). 20 s still fails fast.
expect.set_options(timeout=20_000)


@pytest.fixture
def study(db):
    return StudyFactory(code="DLC", title="UC-MSC in decompensated cirrhosis", registry_number="NCT01220492")


@pytest.fixture
def site_a(study):
    site = SiteFactory(code="SITE-A", name="Hospital A")
    StudySiteFactory(study=study, site=site)
    return site


@pytest.fixture
def site_b(study):
    site = SiteFactory(code="SITE-B", name="Hospital B")
    StudySiteFactory(study=study, site=site)
    return site


def _member(username, study, role, site):
    user = UserFactory(username=username)
    MembershipFactory(user=user, study=study, role=role, site=site)
    return user


@pytest.fixture
def coordinator_a(study, site_a):
    return _member("coord_a", study, Role.COORDINATOR, site_a)


@pytest.fixture
def investigator_a(study, site_a):
    return _member("inv_a", study, Role.INVESTIGATOR, site_a)


@pytest.fixture
def coordinator_b(study, site_b):
    return _member("coord_b", study, Role.COORDINATOR, site_b)


@pytest.fixture
def monitor(study, site_a, site_b):
    return _member("monitor", study, Role.MONITOR, None)


@pytest.fixture
def data_manager(study, site_a, site_b):
    return _member("datamanager", study, Role.DATA_MANAGER, None)


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def superuser(db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    return user


@pytest.fixture
def check_password(db):
    """The signature password check as the signature page makes it: a sign-in attempt from 127.0.0.1."""
    return request_password_checker(RequestFactory().post("/"))


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only tests on the SQLite run; `make test` runs them on the throwaway cluster."""
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the second `make test` pass")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def protocol(site_a):
    """The test protocol (tests/ecrf/protocol_fixture.py) loaded, with site A taking part in its study."""
    loaded = load_protocol(PROTOCOL, source_name="trial.toml").protocol
    StudySiteFactory(study=loaded.study, site=site_a)
    return loaded


@pytest.fixture
def new_subject(protocol, site_a, coordinator_a):
    """Register a screened subject at site A; ``consented=True`` also records consent and a qualifying checklist."""

    def register(code="001", *, consented=False, screening_date=date(2021, 1, 1), **facts):
        subject = subjects.register_subject(
            study=protocol.study,
            site=site_a,
            subject_code=code,
            screening_date=screening_date,
            sex=facts.pop("sex", "male"),
            age_years=facts.pop("age_years", 50),
            by=coordinator_a,
            **facts,
        )
        if consented:
            subjects.record_consent(subject, consent_date=screening_date, consent_version="1.0", by=coordinator_a)
            subjects.record_eligibility(subject, answers={"I1": True, "E1": False}, by=coordinator_a)
        return subject

    return register


@pytest.fixture
def allocated_subject(protocol, new_subject, coordinator_a):
    """A consented, eligible subject assigned to arm A (study product) on 2021-01-02, visits generated."""
    subject = new_subject(consented=True)
    subjects.assign_arm(
        subject, arm=protocol.arms.get(code="A"), allocation_date=date(2021, 1, 2), reason="Design", by=coordinator_a
    )
    return subject


@pytest.fixture
def randomised_protocol(site_a):
    """A 1:1 randomised protocol stratified by baseline MELD (screening labs) and site; site A takes part."""
    loaded = load_protocol(RANDOMISED_PROTOCOL, source_name="randomised.toml").protocol
    StudySiteFactory(study=loaded.study, site=site_a)
    return loaded


# Screening labs giving MELD 6 (all at the floor) or MELD 39 (bilirubin 20, creatinine 3 mg/dL, INR 2.5).
LOW_MELD_LABS = {"TBIL": "10", "CREA": "60", "INR": "1.0"}
HIGH_MELD_LABS = {"TBIL": "342", "CREA": "265", "INR": "2.5"}


@pytest.fixture
def ready_to_randomise(randomised_protocol, site_a, coordinator_a):
    """Register a consented, eligible subject with screening labs and clinical status, ready to randomise."""

    def register(code, *, labs=None, dialysis=False, eligible=True):
        subject = subjects.register_subject(
            study=randomised_protocol.study,
            site=site_a,
            subject_code=code,
            screening_date=date(2021, 1, 1),
            sex="female",
            age_years=45,
            by=coordinator_a,
        )
        subjects.record_consent(subject, consent_date=date(2021, 1, 1), consent_version="1.0", by=coordinator_a)
        subjects.record_eligibility(subject, answers={"I1": True, "E1": not eligible}, by=coordinator_a)
        screening = subject.visits.get(definition__code="SCR")
        drawn = datetime(2021, 1, 1, 8, tzinfo=UTC)
        lab_services.record_lab_draw(visit=screening, drawn_at=drawn, values=labs or LOW_MELD_LABS, by=coordinator_a)
        lab_services.record_clinical_status(
            visit=screening,
            assessed_on=date(2021, 1, 1),
            ascites="none",
            encephalopathy_grade=0,
            dialysis_past_week=dialysis,
            by=coordinator_a,
        )
        return subject

    return register


def give_first_infusion(subject, *, by, started_at=datetime(2021, 1, 2, 9, 30, tzinfo=UTC)):
    """Infusion 1 of the test protocol at W0: 3e7 cells at 60 kg (500 000 cells/kg), product passing release."""
    return events.record_infusion(
        subject=subject,
        visit=subject.visits.get(definition__code="W0"),
        number=1,
        started_at=started_at,
        body_weight_kg=60,
        release={"viab": 91, "myco": True},
        by=by,
        product_lot="UC-21-001",
        passage=4,
        total_cells=30_000_000,
    )


def run_queued_tasks() -> None:
    """What `manage.py db_worker` does in a deployment: run every queued task (analyses, exports), then stop.

    The worker closes "old" connections between tasks, and a connection inside the test's transaction counts as
    one (its autocommit is off): on PostgreSQL that would close the test's own connection, so not here.
    """
    import io
    from unittest import mock

    from django.core.management import call_command

    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO())
