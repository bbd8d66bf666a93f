"""Data managers browse clinical data in the admin, read-only, and only for their own studies."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.forms.models import model_to_dict
from django.urls import reverse

from ecrf.roles import Role
from ecrf.services import events
from ecrf.services import labs as lab_services
from ecrf.services.organisation import make_data_manager_staff
from tests.factories import MembershipFactory, StudyFactory, UserFactory


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


# The per-version history page of django-simple-history (history_form_view) saves on POST; here it never writes.


@pytest.fixture
def adverse_event(allocated_subject, coordinator_a):
    return events.record_adverse_event(
        subject=allocated_subject,
        by=coordinator_a,
        term="Headache",
        onset_at=datetime(2021, 1, 3, tzinfo=UTC),
        grade=1,
        relatedness="unlikely",
        outcome="recovering",
    )


@pytest.fixture
def lab_value(allocated_subject, coordinator_a):
    visit = allocated_subject.visits.get(definition__code="W0")
    draw = lab_services.record_lab_draw(
        visit=visit, drawn_at=datetime(2021, 1, 2, 8, tzinfo=UTC), values={"TBIL": "20", "INR": "1.1"}, by=coordinator_a
    )
    return draw.values.get(analyte__code="TBIL")


def _version_url(record):
    opts = record._meta
    version = record.history.earliest("history_date").history_id
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[record.pk, version])


def _snapshot(record):
    return model_to_dict(type(record).objects.get(pk=record.pk)), record.history.count()


def _post_form_of_its_own_version(browser, record, **changes):
    """POST the record's first version back with ``changes``, as the probe did; returns the response."""
    return browser.post(_version_url(record), _form_data(record, **changes))


def _form_data(record, **changes):
    return {name: "" if value is None else value for name, value in {**model_to_dict(record), **changes}.items()}


def test_posting_an_adverse_event_version_is_refused_and_writes_nothing(client, trial_data_manager, adverse_event):
    before = _snapshot(adverse_event)
    response = _post_form_of_its_own_version(admin_client(client, trial_data_manager), adverse_event, term="Rewritten")
    assert response.status_code == 405
    assert _snapshot(adverse_event) == before


def test_posting_a_lab_value_version_is_refused_and_writes_nothing(client, trial_data_manager, lab_value):
    before = _snapshot(lab_value)
    response = _post_form_of_its_own_version(admin_client(client, trial_data_manager), lab_value, value="99")
    assert response.status_code == 405
    assert _snapshot(lab_value) == before


def test_a_superuser_cannot_revert_a_subject_from_its_history(client, superuser, allocated_subject):
    MembershipFactory(user=superuser, study=allocated_subject.study, role=Role.DATA_MANAGER, site=None)
    before = _snapshot(allocated_subject)
    response = _post_form_of_its_own_version(admin_client(client, superuser), allocated_subject, status="screened")
    assert response.status_code == 405
    assert _snapshot(allocated_subject) == before


def test_a_data_manager_cannot_repoint_a_membership_from_its_history(client, trial_data_manager, data_manager):
    membership = data_manager.memberships.get()
    MembershipFactory(user=trial_data_manager, study=membership.study, role=Role.DATA_MANAGER, site=None)
    before = _snapshot(membership)
    browser = admin_client(client, trial_data_manager)
    response = _post_form_of_its_own_version(browser, membership, user=trial_data_manager.pk)
    assert response.status_code == 405
    assert _snapshot(membership) == before


def test_a_superuser_cannot_revert_a_membership_from_its_history(client, superuser, data_manager):
    membership = data_manager.memberships.get()
    before = _snapshot(membership)
    response = _post_form_of_its_own_version(admin_client(client, superuser), membership, is_active="")
    assert response.status_code == 405
    assert _snapshot(membership) == before


def test_a_version_page_shows_the_record_without_a_form(client, trial_data_manager, adverse_event):
    page = admin_client(client, trial_data_manager).get(_version_url(adverse_event))
    assert page.status_code == 200
    assert "Headache" in page.content.decode()
    assert "<select" not in page.content.decode()


# Another study's records are out of reach on every page.


def test_a_data_manager_of_another_study_gets_404_on_its_history(client, data_manager, adverse_event):
    make_data_manager_staff(data_manager)
    url = reverse("admin:ecrf_adverseevent_history", args=[adverse_event.pk])
    assert admin_client(client, data_manager).get(url).status_code == 404


def test_a_data_manager_of_another_study_gets_404_on_a_version(client, data_manager, adverse_event):
    make_data_manager_staff(data_manager)
    assert admin_client(client, data_manager).get(_version_url(adverse_event)).status_code == 404


def test_a_data_manager_of_another_study_cannot_post_to_a_version(client, data_manager, adverse_event):
    make_data_manager_staff(data_manager)
    before = _snapshot(adverse_event)
    response = _post_form_of_its_own_version(admin_client(client, data_manager), adverse_event, term="Rewritten")
    assert response.status_code == 405
    assert _snapshot(adverse_event) == before


def test_a_data_manager_of_another_study_cannot_open_the_adverse_event(client, data_manager, adverse_event):
    make_data_manager_staff(data_manager)
    url = reverse("admin:ecrf_adverseevent_change", args=[adverse_event.pk])
    page = admin_client(client, data_manager).get(url, follow=True)
    assert page.redirect_chain == [(reverse("admin:index"), 302)]  # Django's answer for a row it cannot find


def test_a_superuser_without_membership_sees_no_subjects(client, superuser, allocated_subject):
    page = admin_client(client, superuser).get(reverse("admin:ecrf_subject_changelist"))
    assert page.status_code == 200
    assert "0 subjects" in page.content.decode()


def test_a_superuser_without_membership_gets_404_on_a_subjects_history(client, superuser, allocated_subject):
    browser = admin_client(client, superuser)
    assert browser.get(reverse("admin:ecrf_subject_history", args=[allocated_subject.pk])).status_code == 404
    assert browser.get(_version_url(allocated_subject)).status_code == 404


def test_a_superuser_without_membership_cannot_open_a_subject(client, superuser, allocated_subject):
    url = reverse("admin:ecrf_subject_change", args=[allocated_subject.pk])
    page = admin_client(client, superuser).get(url, follow=True)
    assert f"Subject with ID “{allocated_subject.pk}” doesn’t exist" in page.content.decode()


def test_the_subject_list_names_no_other_study(client, trial_data_manager, allocated_subject, study):
    page = admin_client(client, trial_data_manager).get(reverse("admin:ecrf_subject_changelist")).content.decode()
    assert allocated_subject.subject_code in page
    assert study.title not in page  # the study filter was offering every study


def test_the_membership_filters_offer_only_the_users_studies(client, trial_data_manager, study):
    MembershipFactory(user=trial_data_manager, study=StudyFactory(code="THIRD"), role=Role.DATA_MANAGER, site=None)
    page = admin_client(client, trial_data_manager).get(reverse("admin:ecrf_membership_changelist")).content.decode()
    assert "By study" in page
    assert "?study__id__exact=" in page
    assert "THIRD" in page
    assert study.title not in page


def test_the_membership_list_shows_only_the_users_studies(client, trial_data_manager, data_manager, study):
    page = admin_client(client, trial_data_manager).get(reverse("admin:ecrf_membership_changelist")).content.decode()
    assert "dm_trial" in page
    assert data_manager.username not in page
    assert study.title not in page  # neither as a row nor in the filters


def test_the_study_list_shows_only_the_users_studies(client, trial_data_manager, study):
    page = admin_client(client, trial_data_manager).get(reverse("admin:ecrf_study_changelist")).content.decode()
    assert "TRIAL" in page
    assert study.title not in page


def test_a_data_manager_cannot_edit_a_membership(client, trial_data_manager):
    membership = trial_data_manager.memberships.get()
    trial_data_manager.user_permissions.add(Permission.objects.get(codename="change_membership"))
    url = reverse("admin:ecrf_membership_change", args=[membership.pk])
    before = _snapshot(membership)
    response = admin_client(client, trial_data_manager).post(url, _form_data(membership, role="monitor"))
    assert response.status_code == 403
    assert _snapshot(membership) == before


def test_a_superuser_edits_a_membership_on_its_change_page(client, superuser, data_manager):
    membership = data_manager.memberships.get()
    url = reverse("admin:ecrf_membership_change", args=[membership.pk])
    assert admin_client(client, superuser).post(url, _form_data(membership, is_active="")).status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active


def test_a_superusers_membership_form_offers_every_study(client, superuser, protocol, study):
    page = admin_client(client, superuser).get(reverse("admin:ecrf_membership_add")).content.decode()
    assert protocol.study.title in page
    assert study.title in page


def test_the_protocol_version_history_page_opens(client, trial_data_manager, protocol):
    url = reverse("admin:ecrf_protocolversion_history", args=[protocol.pk])
    assert admin_client(client, trial_data_manager).get(url).status_code == 200


def test_another_studys_protocol_version_history_is_404(client, data_manager, protocol):
    make_data_manager_staff(data_manager)
    url = reverse("admin:ecrf_protocolversion_history", args=[protocol.pk])
    assert admin_client(client, data_manager).get(url).status_code == 404


def test_a_protocol_version_page_opens_read_only(client, trial_data_manager, protocol):
    page = admin_client(client, trial_data_manager).get(
        reverse("admin:ecrf_protocolversion_change", args=[protocol.pk])
    )
    assert page.status_code == 200
    assert protocol.sha256 in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
