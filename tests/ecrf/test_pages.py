"""Home, study, site and team pages through the real URL routing, as each role meets them."""

import pytest
from django.urls import reverse

from ecrf.roles import Role
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_anonymous_user_is_sent_to_the_login_page(client, study, site_a):
    for url in (reverse("ecrf:home"), reverse("ecrf:site_detail", args=[study.code, site_a.code])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_home_lists_the_users_study_site_and_role(login, coordinator_a, study, site_a):
    response = login(coordinator_a).get(reverse("ecrf:home"))
    page = response.content.decode()
    assert response.status_code == 200
    assert study.title in page
    assert "SITE-A · Hospital A" in page
    assert "Study coordinator" in page
    assert "SITE-B" not in page


def test_home_tells_a_user_without_roles_whom_to_ask(login, outsider):
    response = login(outsider).get(reverse("ecrf:home"))
    assert "You have no role in any study yet" in response.content.decode()


def test_home_page_query_count_is_bounded(login, data_manager, django_assert_max_num_queries):
    client = login(data_manager)
    with django_assert_max_num_queries(6):  # session, user, memberships, session save in a savepoint
        client.get(reverse("ecrf:home"))


def test_site_page_shows_the_site_team(login, coordinator_a, investigator_a, study, site_a):
    response = login(coordinator_a).get(reverse("ecrf:site_detail", args=[study.code, site_a.code]))
    page = response.content.decode()
    assert response.status_code == 200
    assert investigator_a.get_full_name() in page


def test_site_a_user_gets_404_on_site_b_page_and_sees_none_of_its_team(login, coordinator_a, coordinator_b, study):
    response = login(coordinator_a).get(reverse("ecrf:site_detail", args=[study.code, "SITE-B"]))
    assert response.status_code == 404
    assert coordinator_b.get_full_name() not in response.content.decode()


def test_coordinator_gets_403_on_the_study_team_page(login, coordinator_a, study):
    response = login(coordinator_a).get(reverse("ecrf:study_team", args=[study.code]))
    assert response.status_code == 403
    assert "does not allow this" in response.content.decode()


def test_data_manager_sees_the_delegation_log_of_every_site(login, data_manager, coordinator_a, coordinator_b, study):
    response = login(data_manager).get(reverse("ecrf:study_team", args=[study.code]))
    page = response.content.decode()
    assert response.status_code == 200
    assert coordinator_a.get_full_name() in page
    assert coordinator_b.get_full_name() in page


def test_navigation_shows_only_the_pages_the_role_may_open(login, coordinator_a, monitor, study):
    team_url = reverse("ecrf:study_team", args=[study.code])
    assert team_url not in login(coordinator_a).get(reverse("ecrf:home")).content.decode()
    assert team_url in login(monitor).get(reverse("ecrf:home")).content.decode()


def test_outsider_gets_404_on_a_study_page(login, outsider, study):
    assert login(outsider).get(reverse("ecrf:study_detail", args=[study.code])).status_code == 404


def test_administration_link_only_for_staff(login, superuser, coordinator_a):
    admin_url = reverse("admin:index")
    assert admin_url in login(superuser).get(reverse("ecrf:home")).content.decode()
    assert admin_url not in login(coordinator_a).get(reverse("ecrf:home")).content.decode()


def test_logout_needs_a_post_and_ends_the_session(login, coordinator_a):
    client = login(coordinator_a)
    response = client.post(reverse("logout"), follow=True)
    assert "You have signed out." in response.content.decode()
    assert client.get(reverse("ecrf:home")).status_code == 302


def test_site_bound_monitor_sees_only_their_sites_team(login, study, site_a, site_b, coordinator_a, coordinator_b):
    site_monitor = UserFactory(username="site-monitor")
    MembershipFactory(user=site_monitor, study=study, role=Role.MONITOR, site=site_a)
    page = login(site_monitor).get(reverse("ecrf:study_team", args=[study.code])).content.decode()
    assert coordinator_a.get_full_name() in page
    assert coordinator_b.get_full_name() not in page


def test_unknown_url_shows_a_plain_not_found_page(login, coordinator_a):
    response = login(coordinator_a).get("/no/such/page/")
    assert response.status_code == 404
    assert "Resolver404" not in response.content.decode()
    assert "There is no such page" in response.content.decode()


def test_foreign_study_404_says_why(login, coordinator_a):
    response = login(coordinator_a).get(reverse("ecrf:study_detail", args=["NOPE"]))
    assert response.status_code == 404
    assert "No such study." in response.content.decode()


def test_logout_by_get_is_refused(login, coordinator_a):
    response = login(coordinator_a).get(reverse("logout"))
    assert response.status_code == 405
