"""The fixed cast: one study run at sites A and B, a user per role, an outsider and an administrator."""

import os

import pytest

from ecrf.roles import Role
from tests.factories import MembershipFactory, SiteFactory, StudyFactory, StudySiteFactory, UserFactory


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


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only tests on the SQLite run; `make test` runs them on the throwaway cluster."""
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the second `make test` pass")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
