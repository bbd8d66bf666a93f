"""The delegation log: data managers delegate, change and end roles of their study, with every change kept."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from ecrf.models import Membership
from ecrf.roles import Role
from ecrf.services import delegation
from tests.factories import UserFactory


@pytest.fixture
def newcomer(db):
    return UserFactory(username="newcomer")


def _delegate(study, user, by, site=None, **given):
    facts = {"role": Role.COORDINATOR, "starts_on": date(2024, 3, 1), "reason": "Joined the site team"} | given
    return delegation.delegate(study=study, user=user, by=by, site=site, **facts)


def test_a_delegation_keeps_its_start_and_who_made_it_why(study, site_a, newcomer, data_manager):
    membership = _delegate(study, newcomer, data_manager, site=site_a)
    row = membership.history.get()
    assert (membership.starts_on, membership.is_active) == (date(2024, 3, 1), True)
    assert (row.history_user, row.history_change_reason) == (data_manager, "Delegated: Joined the site team")


def test_site_staff_need_a_site(study, newcomer, data_manager):
    with pytest.raises(ValidationError, match="must belong to a site"):
        _delegate(study, newcomer, data_manager)
    assert not Membership.objects.filter(user=newcomer).exists()


def test_a_delegation_cannot_start_in_the_future(study, site_a, newcomer, data_manager):
    with pytest.raises(ValidationError, match="not a date in the future"):
        _delegate(study, newcomer, data_manager, site=site_a, starts_on=timezone.localdate() + timedelta(days=1))


def test_ending_a_delegation_removes_the_role_and_keeps_the_row(study, site_a, newcomer, data_manager):
    membership = _delegate(study, newcomer, data_manager, site=site_a)
    delegation.end_delegation(membership, ends_on=date(2024, 9, 30), by=data_manager, reason="Left the hospital")
    membership.refresh_from_db()
    assert (membership.is_active, membership.ends_on, membership.end_reason) == (
        False,
        date(2024, 9, 30),
        "Left the hospital",
    )
    assert [row.history_change_reason for row in membership.history.order_by("history_id")] == [
        "Delegated: Joined the site team",
        "Ended on 2024-09-30: Left the hospital",
    ]


def test_a_delegation_cannot_end_before_it_started(study, site_a, newcomer, data_manager):
    membership = _delegate(study, newcomer, data_manager, site=site_a)
    with pytest.raises(ValidationError, match="cannot end before it starts"):
        delegation.end_delegation(membership, ends_on=date(2024, 1, 1), by=data_manager, reason="Typo")
    membership.refresh_from_db()
    assert membership.is_active


def test_an_ended_delegation_is_never_changed_again(study, site_a, newcomer, data_manager):
    membership = _delegate(study, newcomer, data_manager, site=site_a)
    delegation.end_delegation(membership, ends_on=date(2024, 9, 30), by=data_manager, reason="Left")
    with pytest.raises(ValidationError, match="has ended: add a new one"):
        delegation.change_delegation(membership, role=Role.INVESTIGATOR, site=site_a, by=data_manager, reason="x")


def test_a_data_manager_does_not_end_their_own_delegation(study, data_manager):
    own = data_manager.memberships.get(study=study)
    with pytest.raises(ValidationError, match="Another data manager"):
        delegation.end_delegation(own, ends_on=timezone.localdate(), by=data_manager, reason="Leaving")


def test_a_change_of_role_is_kept_in_the_history(study, site_a, newcomer, data_manager):
    membership = _delegate(study, newcomer, data_manager, site=site_a)
    delegation.change_delegation(membership, role=Role.INVESTIGATOR, site=site_a, by=data_manager, reason="Promoted")
    assert [row.role for row in membership.history.order_by("history_id")] == [Role.COORDINATOR, Role.INVESTIGATOR]


def _log(study):
    return reverse("ecrf:delegation_log", args=[study.code])


def test_the_data_manager_delegates_from_the_page(client, study, site_a, newcomer, data_manager):
    client.force_login(data_manager)
    response = client.post(
        _log(study),
        {"user": "newcomer", "role": Role.COORDINATOR, "site": site_a.pk, "starts_on": "2024-03-01", "reason": "New"},
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Membership.objects.get(user=newcomer).site == site_a
    assert "newcomer" in client.get(_log(study)).content.decode()


def test_the_data_manager_ends_a_delegation_from_its_page(client, study, coordinator_a, data_manager):
    client.force_login(data_manager)
    membership = coordinator_a.memberships.get(study=study)
    url = reverse("ecrf:delegation_edit", args=[study.code, membership.pk])
    today = timezone.localdate().isoformat()  # the cast's delegations start today
    response = client.post(url, {"action": "end", "ends_on": today, "reason": "Left the hospital"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    assert f"Ended on {today}: Left the hospital" in client.get(url).content.decode()


def test_a_refused_change_is_shown_on_the_form_and_saves_nothing(client, study, coordinator_a, data_manager):
    client.force_login(data_manager)
    membership = coordinator_a.memberships.get(study=study)
    url = reverse("ecrf:delegation_edit", args=[study.code, membership.pk])
    response = client.post(url, {"action": "change", "role": Role.COORDINATOR, "site": "", "reason": "Study-wide"})
    assert response.status_code == 200
    assert "must belong to a site" in response.content.decode()
    membership.refresh_from_db()
    assert membership.site is not None
    assert membership.history.count() == 1


def test_a_monitor_sees_the_team_but_not_the_delegation_log(client, study, monitor):
    client.force_login(monitor)
    assert client.get(reverse("ecrf:study_team", args=[study.code])).status_code == 200
    assert client.get(_log(study)).status_code == 403
