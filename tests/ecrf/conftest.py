"""Fixtures shared by the eCRF page tests."""

import pytest

from ecrf.roles import Role
from tests.factories import MembershipFactory


@pytest.fixture
def coordinator(client, allocated_subject, coordinator_a, site_a):
    """A browser client logged in as site A's coordinator of the allocated subject's study."""
    MembershipFactory(user=coordinator_a, study=allocated_subject.study, role=Role.COORDINATOR, site=site_a)
    client.force_login(coordinator_a)
    return client
