"""Subject codes: unique in a study ignoring letter case and surrounding spaces, shaped by the protocol (issue 14)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from ecrf.code_patterns import format_code, sequence_of
from ecrf.models import Subject
from ecrf.protocol_schema import ProtocolFileError, parse_protocol
from ecrf.roles import Role
from ecrf.services import subjects
from ecrf.services.protocols import load_protocol
from tests.ecrf.protocol_fixture import changed
from tests.factories import MembershipFactory, StudySiteFactory


def another_study(code: str, registry_number: str, pattern: str | None = None) -> str:
    """The test protocol for another study, with ``pattern`` as its subject code pattern if given."""
    text = changed('code = "TRIAL"', f'code = "{code}"')
    text = changed('registry_number = "NCT09999999"', f'registry_number = "{registry_number}"', text)
    if pattern:
        text = changed(
            "follow_up = { weeks = 12 }", f'follow_up = {{ weeks = 12 }}\nsubject_code_pattern = "{pattern}"', text
        )
    return text


@pytest.fixture
def patterned(site_a, site_b, coordinator_a):
    """Study PAT, whose codes look like PAT-SITE-A-001, run at sites A and B; site A's coordinator enters data."""
    protocol = load_protocol(another_study("PAT", "NCT09999998", "PAT-{site}-{nnn}"), source_name="pat.toml").protocol
    StudySiteFactory(study=protocol.study, site=site_a)
    StudySiteFactory(study=protocol.study, site=site_b)
    MembershipFactory(user=coordinator_a, study=protocol.study, role=Role.COORDINATOR, site=site_a)
    return protocol.study


def register(study, site, code, by):
    return subjects.register_subject(
        study=study, site=site, subject_code=code, screening_date=date(2021, 1, 1), sex="male", age_years=50, by=by
    )


def refusal(call) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict["subject_code"]


# Uniqueness ignoring case and spaces ----------------------------------------------------------------------
def test_surrounding_spaces_are_dropped_on_registration(new_subject):
    assert new_subject("  DLC-BJ-001 ").subject_code == "DLC-BJ-001"


def test_a_case_variant_with_spaces_is_refused_on_the_code_and_nothing_is_saved(new_subject):
    new_subject("DLC-BJ-001")
    assert refusal(lambda: new_subject(" dlc-bj-001 ")) == ["dlc-bj-001 is already used in TRIAL (as DLC-BJ-001)."]
    assert list(Subject.objects.values_list("subject_code", flat=True)) == ["DLC-BJ-001"]


def test_the_same_code_in_another_study_is_fine(new_subject, site_a, coordinator_a):
    new_subject("DLC-BJ-001")
    other = load_protocol(another_study("OTHER", "NCT09999997"), source_name="other.toml").protocol.study
    StudySiteFactory(study=other, site=site_a)
    assert register(other, site_a, "DLC-BJ-001", coordinator_a).study == other
    assert Subject.objects.filter(subject_code="DLC-BJ-001").count() == 2


def test_the_database_refuses_a_case_variant_written_around_the_service(new_subject):
    first = new_subject("DLC-BJ-001")
    with pytest.raises(IntegrityError), transaction.atomic():
        Subject.objects.create(
            study=first.study,
            site=first.site,
            protocol=first.protocol,
            subject_code=" dlc-bj-001 ",
            screening_date=first.screening_date,
            sex="female",
            age_years=40,
        )
    assert Subject.objects.count() == 1


# The protocol's code pattern ------------------------------------------------------------------------------
def test_a_code_not_fitting_the_pattern_is_refused_with_the_expected_form(patterned, site_a, coordinator_a):
    expected = ["Codes in PAT look like PAT-SITE-A-001."]
    assert refusal(lambda: register(patterned, site_a, "PAT-001", coordinator_a)) == expected
    assert refusal(lambda: register(patterned, site_a, "PAT-SITE-A-0001", coordinator_a)) == expected
    assert not Subject.objects.exists()


def test_a_code_of_another_site_is_refused_at_this_one(patterned, site_a, coordinator_a):
    expected = ["Codes in PAT look like PAT-SITE-A-001."]
    assert refusal(lambda: register(patterned, site_a, "PAT-SITE-B-001", coordinator_a)) == expected


def test_a_fitting_code_in_other_letter_case_is_accepted_as_typed(patterned, site_a, coordinator_a):
    assert register(patterned, site_a, "pat-site-a-001", coordinator_a).subject_code == "pat-site-a-001"


def proposed(client, study, site_code="SITE-A"):
    page = client.get(reverse("ecrf:register_subject", args=[study.code, site_code]))
    return page.context["form"]["subject_code"].value()


def test_the_registration_page_proposes_the_sites_next_free_code(client, patterned, site_a, site_b, coordinator_a):
    client.force_login(coordinator_a)
    assert proposed(client, patterned) == "PAT-SITE-A-001"
    register(patterned, site_a, "PAT-SITE-A-001", coordinator_a)
    register(patterned, site_a, "pat-site-a-002", coordinator_a)
    register(patterned, site_b, "PAT-SITE-B-007", coordinator_a)
    assert proposed(client, patterned) == "PAT-SITE-A-003"


def test_the_page_refuses_a_code_not_fitting_the_pattern_on_its_field(client, patterned, coordinator_a):
    client.force_login(coordinator_a)
    url = reverse("ecrf:register_subject", args=[patterned.code, "SITE-A"])
    page = client.post(url, {"subject_code": "X-1", "screening_date": "2021-01-04", "sex": "male", "age_years": "44"})
    assert page.context["form"].errors["subject_code"] == ["Codes in PAT look like PAT-SITE-A-001."]
    assert not Subject.objects.exists()


def test_without_a_pattern_no_code_is_proposed(client, protocol, coordinator_a, site_a):
    MembershipFactory(user=coordinator_a, study=protocol.study, role=Role.COORDINATOR, site=site_a)
    client.force_login(coordinator_a)
    assert proposed(client, protocol.study) is None


def test_an_unknown_placeholder_in_the_pattern_is_refused_when_the_file_is_read():
    with pytest.raises(ProtocolFileError) as refused:
        parse_protocol(another_study("PAT", "NCT09999998", "PAT-{centre}-{nnn}"))
    assert refused.value.problems == [
        "study.subject_code_pattern: unknown placeholder {centre}: use {site} and one of {n}, {nn}, {nnn}, {nnnn}"
    ]


def test_a_pattern_without_a_sequence_is_refused():
    with pytest.raises(ProtocolFileError, match="exactly one sequence placeholder"):
        parse_protocol(another_study("PAT", "NCT09999998", "PAT-{site}"))


@pytest.mark.parametrize(
    ("code", "number"),
    [("DLC-BJ-5MC-001", 1), (" dlc-bj-5mc-042 ", 42), ("DLC-BJ-5MC-1000", 1000), ("DLC-BJ-5MC-0001", None)]
    + [("DLC-BJ-001", None), ("DLC-BJ-5MC-000", None), ("DLC-BJ-5MC-٠٠١", None)],
)
def test_a_sequence_is_read_with_the_whole_site_code_and_the_patterns_padding(code, number):
    assert sequence_of("DLC-{site}-{nnn}", code, site="BJ-5MC") == number


def test_codes_are_written_with_the_site_code_and_padding():
    assert format_code("DLC-{site}-{nnn}", site="SZ-3PH", number=7) == "DLC-SZ-3PH-007"
    assert format_code("{site}/{n}", site="SZ-3PH", number=12) == "SZ-3PH/12"
