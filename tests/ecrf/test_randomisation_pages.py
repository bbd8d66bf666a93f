"""Randomisation in the browser's pages: concealment of the list, access records, randomise and assign."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ecrf.csv_safe import FORMULA_STARTS
from ecrf.models import Allocation, RandomisationListAccess, RandomisationSlot
from ecrf.roles import Role
from ecrf.services import labs as lab_services
from ecrf.services import randomisation, visits
from tests.conftest import HIGH_MELD_LABS
from tests.factories import MembershipFactory, StudySiteFactory


@pytest.fixture
def team(randomised_protocol, site_b, coordinator_a, investigator_a, coordinator_b, monitor, data_manager):
    study = randomised_protocol.study
    StudySiteFactory(study=study, site=site_b)
    for user, role, site in [
        (coordinator_a, Role.COORDINATOR, randomised_protocol.study.sites.get(code="SITE-A")),
        (investigator_a, Role.INVESTIGATOR, randomised_protocol.study.sites.get(code="SITE-A")),
        (coordinator_b, Role.COORDINATOR, site_b),
        (monitor, Role.MONITOR, None),
        (data_manager, Role.DATA_MANAGER, None),
    ]:
        MembershipFactory(user=user, study=study, role=role, site=site)
    randomisation.generate_list(study=study, slots_per_stratum=10, by=data_manager)
    return study


def as_user(client, user):
    client.force_login(user)
    return client


LIST_URLS = [
    ("get", "ecrf:randomisation"),
    ("post", "ecrf:randomisation_generate"),
    ("post", "ecrf:randomisation_import"),
    ("get", "ecrf:randomisation_slots"),
    ("get", "ecrf:randomisation_download"),
]


@pytest.mark.parametrize("role_fixture", ["coordinator_a", "investigator_a", "monitor"])
@pytest.mark.parametrize(("method", "url_name"), LIST_URLS)
def test_site_staff_and_monitors_get_403_on_every_list_url(team, role_fixture, method, url_name, request, client):
    browser = as_user(client, request.getfixturevalue(role_fixture))
    response = getattr(browser, method)(reverse(url_name, args=[team.code]), {"slots_per_stratum": 2})
    assert response.status_code == 403
    assert not RandomisationListAccess.objects.exclude(action="create").exists()


def test_viewing_the_slots_is_recorded(team, client, data_manager):
    page = as_user(client, data_manager).get(reverse("ecrf:randomisation_slots", args=[team.code]))
    assert page.status_code == 200
    assert "TRIAL-" in page.content.decode()
    assert list(RandomisationListAccess.objects.filter(action="view").values_list("user", flat=True)) == [
        data_manager.pk
    ]


def test_downloading_the_list_is_recorded(team, client, data_manager):
    response = as_user(client, data_manager).get(reverse("ecrf:randomisation_download", args=[team.code]))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith("stratum,sequence,arm,code")
    assert RandomisationListAccess.objects.filter(action="download", user=data_manager).count() == 1


def test_no_cell_of_the_downloaded_list_reads_as_a_formula(team, client, data_manager):
    # An old list could hold codes imported before they were refused; the file must still be inert.
    slots = RandomisationSlot.objects.filter(list__study=team, list__is_active=True).order_by("pk")
    for slot, code in zip(slots, ['=HYPERLINK("x")', "+SUM(A1)", "-2+3", "@cmd"], strict=False):
        RandomisationSlot.objects.filter(pk=slot.pk).update(code=code)
    response = as_user(client, data_manager).get(reverse("ecrf:randomisation_download", args=[team.code]))
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert {'\'=HYPERLINK("x")', "'+SUM(A1)", "'-2+3", "'@cmd"} <= set(cells)


def test_the_data_manager_generates_a_list_from_the_page(team, client, data_manager):
    browser = as_user(client, data_manager)
    before = team.randomisation_lists.get(is_active=True)
    response = browser.post(reverse("ecrf:randomisation_generate", args=[team.code]), {"slots_per_stratum": 6})
    assert response.status_code == 302
    fresh = team.randomisation_lists.get(is_active=True)
    assert len(fresh.secret_hex) == 64
    assert fresh.secret_hex != before.secret_hex
    assert fresh.seed is None


def test_the_generate_form_has_no_seed_field(team, client, data_manager):
    page = as_user(client, data_manager).get(reverse("ecrf:randomisation", args=[team.code])).content.decode()
    assert 'name="slots_per_stratum"' in page
    assert 'name="seed"' not in page


@pytest.mark.parametrize("slots", ["0", "-3", str(10**30), "lots"])
def test_the_generate_form_refuses_bad_slots_per_stratum_with_a_message(team, client, data_manager, slots):
    before = team.randomisation_lists.get(is_active=True)
    page = as_user(client, data_manager).post(
        reverse("ecrf:randomisation_generate", args=[team.code]), {"slots_per_stratum": slots}
    )
    assert page.status_code == 400
    assert "slots_per_stratum" in page.content.decode()
    assert "invalid-feedback" in page.content.decode()
    assert team.randomisation_lists.get(is_active=True) == before


def test_the_secret_is_shown_to_the_data_manager_when_asked_and_the_showing_is_recorded(team, client, data_manager):
    secret = team.randomisation_lists.get(is_active=True).secret_hex
    browser = as_user(client, data_manager)
    summary = browser.get(reverse("ecrf:randomisation", args=[team.code])).content.decode()
    assert secret not in summary
    assert 'data-testid="reveal-secret"' in summary
    assert not RandomisationListAccess.objects.filter(action="secret").exists()
    page = browser.post(reverse("ecrf:randomisation_secret", args=[team.code])).content.decode()
    assert f'data-testid="secret">{secret}</code>' in page
    assert "10 slots per stratum" in page
    assert "sites SITE-A, SITE-B" in page
    assert list(RandomisationListAccess.objects.filter(action="secret").values_list("user", flat=True)) == [
        data_manager.pk
    ]


@pytest.mark.parametrize("role_fixture", ["coordinator_a", "investigator_a", "monitor"])
def test_the_secret_is_on_no_page_site_staff_or_monitors_see(team, client, request, role_fixture, ready_to_randomise):
    user = request.getfixturevalue(role_fixture)
    randomised = ready_to_randomise("S1")
    allocation = randomisation.randomise(randomised, by=request.getfixturevalue("coordinator_a"))
    secret = team.randomisation_lists.get(is_active=True).secret_hex
    browser = as_user(client, user)
    urls = [
        reverse("ecrf:study_detail", args=[team.code]),
        reverse("ecrf:site_detail", args=[team.code, "SITE-A"]),
        reverse("ecrf:subject_detail", args=[team.code, randomised.pk]),
    ]
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 200, url
        assert secret not in response.content.decode(), url
    assert allocation.randomisation_code in browser.get(urls[2]).content.decode()


def test_a_bad_import_shows_the_row_errors_on_the_page(team, client, data_manager):
    upload = SimpleUploadedFile("l.csv", b"stratum,sequence,arm,code\nnope,1,A,X1\n", content_type="text/csv")
    page = as_user(client, data_manager).post(reverse("ecrf:randomisation_import", args=[team.code]), {"file": upload})
    assert page.status_code == 400
    assert "Row 2: unknown stratum" in page.content.decode()


def test_investigators_see_the_commitment_on_the_study_page(team, client, investigator_a):
    page = as_user(client, investigator_a).get(reverse("ecrf:study_detail", args=[team.code])).content.decode()
    assert team.randomisation_lists.get(is_active=True).commitment_sha256 in page


def test_a_coordinator_randomises_and_sees_code_and_arm(team, client, coordinator_a, ready_to_randomise):
    subject = ready_to_randomise("P1")
    browser = as_user(client, coordinator_a)
    confirm = browser.get(reverse("ecrf:randomise", args=[team.code, subject.pk])).content.decode()
    assert '<strong data-testid="stratum">MELD ≤ 15, site SITE-A</strong>' in confirm
    assert "meld:le15" not in confirm
    page = browser.post(reverse("ecrf:randomise", args=[team.code, subject.pk]), follow=True).content.decode()
    allocation = Allocation.objects.get(subject=subject)
    assert allocation.randomisation_code in page
    assert allocation.arm.label in page


def test_an_ineligible_subject_is_refused_with_the_reason(team, client, coordinator_a, ready_to_randomise):
    subject = ready_to_randomise("P2", eligible=False)
    response = as_user(client, coordinator_a).post(reverse("ecrf:randomise", args=[team.code, subject.pk]))
    assert "not eligible: E1 Diabetes" in response.content.decode()
    assert not Allocation.objects.exists()


def test_a_coordinator_of_another_site_cannot_open_the_subject(team, client, coordinator_b, ready_to_randomise):
    subject = ready_to_randomise("P3")
    browser = as_user(client, coordinator_b)
    assert browser.get(reverse("ecrf:subject_detail", args=[team.code, subject.pk])).status_code == 404
    assert browser.post(reverse("ecrf:randomise", args=[team.code, subject.pk])).status_code == 404
    assert not Allocation.objects.exists()


@pytest.fixture
def non_random_team(protocol, coordinator_a, investigator_a, site_a):
    for user, role in [(coordinator_a, Role.COORDINATOR), (investigator_a, Role.INVESTIGATOR)]:
        MembershipFactory(user=user, study=protocol.study, role=role, site=site_a)
    return protocol


def test_an_investigator_assigns_the_arm_with_a_reason(non_random_team, client, investigator_a, new_subject):
    subject = new_subject(consented=True)
    arm = non_random_team.arms.get(code="C")
    url = reverse("ecrf:assign_arm", args=[non_random_team.study.code, subject.pk])
    browser = as_user(client, investigator_a)
    missing_reason = browser.post(url, {"arm": arm.pk, "reason": ""})
    assert "This field is required" in missing_reason.content.decode()
    assert browser.post(url, {"arm": arm.pk, "reason": "Patient preference"}).status_code == 302
    allocation = Allocation.objects.get(subject=subject)
    assert (allocation.arm, allocation.reason, allocation.allocated_by) == (arm, "Patient preference", investigator_a)


def test_a_coordinator_may_not_assign_an_arm(non_random_team, client, coordinator_a, new_subject):
    subject = new_subject(consented=True)
    url = reverse("ecrf:assign_arm", args=[non_random_team.study.code, subject.pk])
    assert as_user(client, coordinator_a).get(url).status_code == 403


def test_the_site_page_query_count_does_not_grow_with_subjects(
    team, client, coordinator_a, ready_to_randomise, django_assert_max_num_queries
):
    browser = as_user(client, coordinator_a)
    url = reverse("ecrf:site_detail", args=[team.code, "SITE-A"])
    ready_to_randomise("Q0")
    with django_assert_max_num_queries(19) as few:  # the worklist: its count and page ids, then the rows
        browser.get(url)
    for n in range(1, 8):
        subject = ready_to_randomise(f"Q{n}")
        screening = subject.visits.get(definition__code="SCR")  # held, so its forms count as open issues
        visits.record_visit(screening, actual_date=screening.planned_date, by=coordinator_a)
        randomisation.randomise(subject, by=coordinator_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Q7" in browser.get(url).content.decode()


def test_the_subject_page_query_count_is_bounded(
    team, client, coordinator_a, ready_to_randomise, django_assert_max_num_queries
):
    subject = ready_to_randomise("Q9")
    randomisation.randomise(subject, by=coordinator_a)
    browser = as_user(client, coordinator_a)
    with django_assert_max_num_queries(33):  # constant (8 of them monitoring): growth is tested in test_event_pages
        browser.get(reverse("ecrf:subject_detail", args=[team.code, subject.pk]))


def test_an_exhausted_stratum_shows_as_an_alert_to_data_managers(
    randomised_protocol, site_a, coordinator_a, data_manager, ready_to_randomise, client
):
    study = randomised_protocol.study
    MembershipFactory(user=data_manager, study=study, role=Role.DATA_MANAGER, site=None)
    randomisation.generate_list(study=study, slots_per_stratum=1, by=data_manager)
    free = RandomisationSlot.objects.filter(stratum="meld:le15|site:SITE-A").count()
    for n in range(free):
        randomisation.randomise(ready_to_randomise(f"E{n}"), by=coordinator_a)
    page = as_user(client, data_manager).get(reverse("ecrf:study_detail", args=[study.code])).content.decode()
    words = '<strong title="meld:le15|site:SITE-A">MELD ≤ 15, site SITE-A</strong>'
    assert f"Randomisation stratum {words} has no free slot left" in page


def test_the_subject_page_shows_meld_per_draw_and_says_why_one_is_missing(
    team, client, coordinator_a, ready_to_randomise
):
    subject = ready_to_randomise("M1", labs=HIGH_MELD_LABS)  # screening draw: MELD 39
    randomisation.randomise(subject, by=coordinator_a)
    w0 = subject.visits.get(definition__code="W0")
    lab_services.record_lab_draw(
        visit=w0, drawn_at=datetime(2021, 1, 9, 8, tzinfo=UTC), values={"TBIL": "30"}, by=coordinator_a
    )
    page = as_user(client, coordinator_a).get(reverse("ecrf:subject_detail", args=[team.code, subject.pk]))
    text = page.content.decode()
    assert 'data-testid="meld-SCR"><strong>39</strong>' in text
    assert "not computable: no CREA, INR" in text


def test_the_subject_page_names_the_allocation_stratum_in_words(team, client, coordinator_a, ready_to_randomise):
    subject = ready_to_randomise("P9")
    browser = as_user(client, coordinator_a)
    browser.post(reverse("ecrf:randomise", args=[team.code, subject.pk]))
    page = browser.get(reverse("ecrf:subject_detail", args=[team.code, subject.pk])).content.decode()
    assert 'stratum <span data-testid="stratum">MELD ≤ 15, site SITE-A</span>' in page
    assert Allocation.objects.get(subject=subject).stratum == "meld:le15|site:SITE-A"  # the key is kept


def test_the_list_page_names_strata_in_words(team, client, data_manager):
    page = as_user(client, data_manager).get(reverse("ecrf:randomisation", args=[team.code])).content.decode()
    assert '<td title="meld:gt15|site:SITE-B">MELD &gt; 15, site SITE-B</td>' in page


def test_a_study_that_does_not_randomise_has_no_list_page_or_link(client, protocol, data_manager):
    MembershipFactory(user=data_manager, study=protocol.study, role=Role.DATA_MANAGER, site=None)
    browser = as_user(client, data_manager)
    response = browser.get(reverse("ecrf:randomisation", args=[protocol.study.code]))
    assert response.status_code == 404
    assert "This study assigns arms without a list." in response.content.decode()
    post = browser.post(reverse("ecrf:randomisation_generate", args=[protocol.study.code]), {"slots_per_stratum": 2})
    assert post.status_code == 404
    home = browser.get(reverse("ecrf:home")).content.decode()
    assert reverse("ecrf:randomisation", args=[protocol.study.code]) not in home
