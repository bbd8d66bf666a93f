"""The access helper: each role allowed or refused as designed, and no door into another site."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from ecrf.access import require_study_role
from ecrf.roles import Capability, Role
from tests.factories import MembershipFactory, StudyFactory


@pytest.fixture
def request_for(rf):
    def make(user):
        request = rf.get("/")
        request.user = user
        return request

    return make


# The designed matrix, written out here rather than read from ecrf.roles so a change to either shows up.
EXPECTED = {
    Role.COORDINATOR: {Capability.VIEW_STUDY, Capability.VIEW_SITE, Capability.ENTER_DATA, Capability.RANDOMISE},
    Role.INVESTIGATOR: {
        Capability.VIEW_STUDY,
        Capability.VIEW_SITE,
        Capability.ENTER_DATA,
        Capability.RANDOMISE,
        Capability.ASSIGN_ARM,
        Capability.SIGN_FORMS,
        Capability.VIEW_DASHBOARDS,
    },
    Role.MONITOR: {
        Capability.VIEW_STUDY,
        Capability.VIEW_SITE,
        Capability.VIEW_STUDY_TEAM,
        Capability.VERIFY_SOURCE,
        Capability.VIEW_DASHBOARDS,
    },
    Role.DATA_MANAGER: {
        Capability.VIEW_STUDY,
        Capability.VIEW_SITE,
        Capability.VIEW_STUDY_TEAM,
        Capability.VERIFY_SOURCE,
        Capability.MANAGE_DATA,
        Capability.EXPORT_DATA,
        Capability.VIEW_RANDOMISATION_LIST,
        Capability.VIEW_DASHBOARDS,
    },
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("capability", list(Capability))
def test_each_role_is_allowed_exactly_its_capabilities(role, capability, study, site_a, request_for):
    membership = MembershipFactory(study=study, site=site_a, role=role)
    request = request_for(membership.user)
    if capability in EXPECTED[role]:
        access = require_study_role(request, study.code, capability, site_code=site_a.code)
        assert access.membership == membership
    else:
        with pytest.raises(PermissionDenied, match="does not allow"):
            require_study_role(request, study.code, capability, site_code=site_a.code)


def test_site_a_coordinator_cannot_reach_site_b(coordinator_a, site_b, study, request_for):
    with pytest.raises(Http404):
        require_study_role(request_for(coordinator_a), study.code, Capability.VIEW_SITE, site_code=site_b.code)


def test_user_without_membership_gets_404_not_a_hint_that_the_study_exists(outsider, study, request_for):
    with pytest.raises(Http404):
        require_study_role(request_for(outsider), study.code, Capability.VIEW_STUDY)


def test_superuser_without_membership_sees_no_clinical_pages(superuser, study, request_for):
    with pytest.raises(Http404):
        require_study_role(request_for(superuser), study.code, Capability.VIEW_STUDY)


def test_ended_membership_grants_nothing(coordinator_a, study, site_a, request_for):
    coordinator_a.memberships.update(is_active=False)
    with pytest.raises(Http404):
        require_study_role(request_for(coordinator_a), study.code, Capability.VIEW_SITE, site_code=site_a.code)


def test_study_wide_monitor_reaches_every_site(monitor, study, site_a, site_b, request_for):
    for site in (site_a, site_b):
        access = require_study_role(request_for(monitor), study.code, Capability.VIEW_SITE, site_code=site.code)
        assert access.site == site


def test_study_wide_role_does_not_reach_a_site_outside_the_study(monitor, study, request_for):
    other = StudyFactory()
    foreign_site = MembershipFactory(study=other).site
    with pytest.raises(Http404):
        require_study_role(request_for(monitor), study.code, Capability.VIEW_SITE, site_code=foreign_site.code)


def test_membership_in_one_study_opens_nothing_in_another(coordinator_a, request_for):
    other = MembershipFactory(role=Role.COORDINATOR).study
    with pytest.raises(Http404):
        require_study_role(request_for(coordinator_a), other.code, Capability.VIEW_STUDY)


def test_roles_at_two_sites_each_apply_at_their_own_site(coordinator_a, study, site_b, request_for):
    MembershipFactory(user=coordinator_a, study=study, site=site_b, role=Role.INVESTIGATOR)
    request = request_for(coordinator_a)
    assert (
        require_study_role(request, study.code, Capability.SIGN_FORMS, site_code=site_b.code).role == Role.INVESTIGATOR
    )
    with pytest.raises(PermissionDenied):
        require_study_role(request, study.code, Capability.SIGN_FORMS, site_code="SITE-A")


def test_visible_sites_are_the_users_own_sites_or_all_for_study_wide_roles(coordinator_a, monitor, study, request_for):
    own = require_study_role(request_for(coordinator_a), study.code, Capability.VIEW_STUDY)
    wide = require_study_role(request_for(monitor), study.code, Capability.VIEW_STUDY)
    assert [s.code for s in own.visible_sites()] == ["SITE-A"]
    assert [s.code for s in wide.visible_sites()] == ["SITE-A", "SITE-B"]
