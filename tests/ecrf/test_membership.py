"""Delegation rules held by the database and the service, with nothing half-saved on refusal."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ecrf.models import Membership
from ecrf.roles import Role
from ecrf.services.organisation import grant_membership
from tests.factories import SiteFactory, UserFactory


def test_coordinator_without_a_site_is_refused_by_the_database(study):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=UserFactory(), study=study, site=None, role=Role.COORDINATOR)
    assert not Membership.objects.exists()


def test_a_second_role_for_the_same_user_at_the_same_site_is_refused(coordinator_a, study, site_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=coordinator_a, study=study, site=site_a, role=Role.INVESTIGATOR)
    assert Membership.objects.filter(user=coordinator_a).count() == 1


def test_a_second_study_wide_role_is_refused(monitor, study):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=monitor, study=study, site=None, role=Role.DATA_MANAGER)


def test_service_refuses_a_site_that_does_not_take_part_in_the_study(study):
    with pytest.raises(ValidationError) as error:
        grant_membership(user=UserFactory(), study=study, role=Role.COORDINATOR, site=SiteFactory())
    assert error.value.message_dict["site"] == ["This site does not take part in the study."]
    assert not Membership.objects.exists()


def test_service_names_the_rule_when_site_staff_have_no_site(study):
    with pytest.raises(ValidationError, match="Coordinators and investigators must belong to a site"):
        grant_membership(user=UserFactory(), study=study, role=Role.INVESTIGATOR)


def test_granting_a_role_keeps_a_history_row(study, site_a):
    membership = grant_membership(user=UserFactory(), study=study, role=Role.COORDINATOR, site=site_a)
    membership.is_active = False
    membership.save()
    assert [h.is_active for h in membership.history.order_by("history_date")] == [True, False]
