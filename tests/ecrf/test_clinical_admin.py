"""Data managers browse clinical data in the admin, read-only, and only for their own studies."""

import pytest
from django.urls import reverse

from ecrf.roles import Role
from ecrf.services.organisation import make_data_manager_staff
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def trial_data_manager(protocol):
    user = UserFactory(username="dm_trial")
    MembershipFactory(user=user, study=protocol.study, role=Role.DATA_MANAGER, site=None)
    return make_data_manager_staff(user)


def admin_client(client, user):
    client.force_login(user)
    return client


def test_a_data_manager_sees_their_studys_subjects(client, trial_data_manager, allocated_subject):
    page = admin_client(client, trial_data_manager).get(reverse("admin:ecrf_subject_changelist"))
    assert page.status_code == 200
    assert allocated_subject.subject_code in page.content.decode()


def test_a_data_manager_of_another_study_does_not(client, data_manager, allocated_subject):
    make_data_manager_staff(data_manager)
    page = admin_client(client, data_manager).get(reverse("admin:ecrf_subject_changelist"))
    assert page.status_code == 200
    assert "0 subjects" in page.content.decode()


def test_the_admin_offers_no_add_change_or_delete(client, trial_data_manager, allocated_subject):
    browser = admin_client(client, trial_data_manager)
    url = reverse("admin:ecrf_subject_change", args=[allocated_subject.pk])
    page = browser.get(url).content.decode()
    assert 'name="_save"' not in page
    assert browser.get(reverse("admin:ecrf_subject_add")).status_code == 403
    assert browser.post(url, {"subject_code": "CHANGED"}).status_code == 403
    assert browser.get(reverse("admin:ecrf_subject_delete", args=[allocated_subject.pk])).status_code == 403
    allocated_subject.refresh_from_db()
    assert allocated_subject.subject_code == "001"


def test_a_data_manager_reads_a_records_history_without_a_revert_button(client, trial_data_manager, allocated_subject):
    browser = admin_client(client, trial_data_manager)
    page = browser.get(reverse("admin:ecrf_subject_history", args=[allocated_subject.pk])).content.decode()
    assert "Allocated to Active" in page
    version = allocated_subject.history.last().history_id
    detail = browser.get(reverse("admin:ecrf_subject_simple_history", args=[allocated_subject.pk, version]))
    assert "Revert" not in detail.content.decode()


def test_the_subject_list_offers_no_add_button(client, trial_data_manager, allocated_subject):
    page = admin_client(client, trial_data_manager).get(reverse("admin:ecrf_subject_changelist")).content.decode()
    assert reverse("admin:ecrf_subject_add") not in page
    assert 'name="action"' not in page  # no bulk "delete selected"


def test_a_data_manager_of_another_study_cannot_open_the_subject(client, data_manager, allocated_subject):
    make_data_manager_staff(data_manager)
    url = reverse("admin:ecrf_subject_change", args=[allocated_subject.pk])
    page = admin_client(client, data_manager).get(url, follow=True)
    assert page.redirect_chain == [(reverse("admin:index"), 302)]
    assert f"Subject with ID “{allocated_subject.pk}” doesn’t exist" in page.content.decode()
