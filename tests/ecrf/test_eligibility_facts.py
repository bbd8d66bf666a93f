"""Eligibility items tied to a stored subject fact (age, sex) cannot be answered against it (issue 14)."""

from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ecrf.models import EligibilityAnswer, SubjectStatus
from ecrf.protocol_schema import ProtocolFileError, parse_protocol
from ecrf.roles import Role
from ecrf.services import subjects
from ecrf.services.protocols import load_protocol
from tests.ecrf.protocol_fixture import changed
from tests.factories import MembershipFactory, StudySiteFactory

PROTOCOLS = Path(__file__).resolve().parents[2] / "ecrf" / "protocols"
TIED_ITEMS = """[[eligibility]]
code = "AGE"
kind = "inclusion"
text = "Age 18 to 65 years"
requires = { fact = "age_years", min = 18, max = 65 }

[[eligibility]]
code = "PREG"
kind = "inclusion"
text = "Negative pregnancy test, or not a woman of childbearing potential"
applies_when = { fact = "sex", values = ["female"] }

[[eligibility]]
code = "E1\""""
TIED_PROTOCOL = changed('[[eligibility]]\ncode = "E1"', TIED_ITEMS)
QUALIFYING = {"I1": True, "AGE": True, "PREG": True, "E1": False}


@pytest.fixture
def protocol(site_a):
    """The test protocol with an age item and a pregnancy item tied to the stored facts."""
    loaded = load_protocol(TIED_PROTOCOL, source_name="trial.toml").protocol
    StudySiteFactory(study=loaded.study, site=site_a)
    return loaded


@pytest.fixture
def screened(new_subject, coordinator_a):
    """Register and consent a subject with the given facts."""

    def register(code="001", **facts):
        subject = new_subject(code, **facts)
        subjects.record_consent(subject, consent_date=date(2021, 1, 1), consent_version="1.0", by=coordinator_a)
        return subject

    return register


def refusal(subject, answers, by) -> dict:
    with pytest.raises(ValidationError) as refused:
        subjects.record_eligibility(subject, answers=answers, by=by)
    return refused.value.message_dict


def saved(subject) -> dict:
    return {a.criterion.code: a.answer for a in EligibilityAnswer.objects.filter(subject=subject)}


# Schema ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tie", "problem"),
    [
        (
            'requires = { fact = "weight_kg", min = 40 }',
            "fact 'weight_kg' is not a stored fact; use one of age_years, sex",
        ),
        ('requires = { fact = "age_years", min = 65, max = 18 }', "min 65 is above max 18"),
        ('requires = { fact = "age_years", values = ["adult"] }', "age_years is a number: give min and/or max"),
        ('requires = { fact = "age_years" }', "age_years is a number: give min and/or max"),
        ('applies_when = { fact = "sex", min = 1 }', "sex is a choice: give values (from female, male)"),
        ('applies_when = { fact = "sex", values = ["woman"] }', "'woman' is not a value of sex; use female, male"),
        (
            'requires = { fact = "age_years", min = 18 }\napplies_when = { fact = "sex", values = ["female"] }',
            "give requires or applies_when, not both",
        ),
    ],
)
def test_a_bad_tie_is_refused_naming_the_item_and_the_problem(tie, problem):
    text = changed('text = "Adult"', f'text = "Adult"\n{tie}')
    with pytest.raises(ProtocolFileError) as refused:
        parse_protocol(text)
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith("eligibility[0]")
    assert problem in refused.value.problems[0]


def test_the_tie_is_stored_on_the_criterion(protocol):
    age, pregnancy = (protocol.eligibility_criteria.get(code=c) for c in ("AGE", "PREG"))
    assert (age.fact_rule, age.fact, age.fact_min, age.fact_max, age.fact_values) == (
        "requires",
        "age_years",
        18,
        65,
        [],
    )
    assert (pregnancy.fact_rule, pregnancy.fact, pregnancy.fact_values) == ("applies_when", "sex", ["female"])
    assert protocol.eligibility_criteria.get(code="I1").fact_rule == ""


def test_dlc_ties_its_age_and_pregnancy_items():
    spec = parse_protocol((PROTOCOLS / "dlc_nct01220492.toml").read_text(encoding="utf-8"))
    items = {item.code: item.tie() for item in spec.eligibility}
    (age_rule, age), (pregnancy_rule, pregnancy) = items["INC02"], items["INC04"]
    assert (age_rule, age.fact, age.min, age.max) == ("requires", "age_years", 18, 65)
    assert (pregnancy_rule, pregnancy.fact, pregnancy.values) == ("applies_when", "sex", ["female"])
    assert sum(1 for rule, _ in items.values() if rule) == 2


# Age -------------------------------------------------------------------------------------------------------
def test_the_age_item_answered_yes_at_age_70_is_refused_on_the_item_and_nothing_is_saved(screened, coordinator_a):
    subject = screened(age_years=70)
    errors = refusal(subject, QUALIFYING, coordinator_a)
    assert errors == {
        "AGE": ["AGE (age 18 to 65 years): the subject's recorded age is 70 years, so the answer must be no."]
    }
    assert saved(subject) == {}
    subject.refresh_from_db()
    assert subject.status == SubjectStatus.CONSENTED


def test_the_age_item_answered_no_at_age_40_is_refused(screened, coordinator_a):
    subject = screened(age_years=40)
    errors = refusal(subject, {**QUALIFYING, "AGE": False}, coordinator_a)
    assert errors == {
        "AGE": ["AGE (age 18 to 65 years): the subject's recorded age is 40 years, so the answer must be yes."]
    }
    assert saved(subject) == {}


@pytest.mark.parametrize(
    ("age", "answer", "status"), [(40, True, "eligible"), (65, True, "eligible"), (70, False, "consented")]
)
def test_an_age_answer_agreeing_with_the_recorded_age_is_saved(screened, coordinator_a, age, answer, status):
    subject = screened(age_years=age)
    subjects.record_eligibility(subject, answers={**QUALIFYING, "AGE": answer}, by=coordinator_a)
    assert saved(subject)["AGE"] is answer
    assert subject.status == status


# Sex ---------------------------------------------------------------------------------------------------------
def test_a_man_cannot_fail_the_pregnancy_item(screened, coordinator_a):
    subject = screened(sex="male")
    errors = refusal(subject, {**QUALIFYING, "PREG": False}, coordinator_a)
    assert errors == {
        "PREG": [
            "PREG (applies only when sex is female): the subject's recorded sex is male, so the item does not "
            "apply and the answer must be yes."
        ]
    }
    assert saved(subject) == {}


@pytest.mark.parametrize(("sex", "answer"), [("male", True), ("female", True), ("female", False)])
def test_the_pregnancy_item_is_answered_freely_for_a_woman_and_yes_for_a_man(screened, coordinator_a, sex, answer):
    subject = screened(sex=sex)
    subjects.record_eligibility(subject, answers={**QUALIFYING, "PREG": answer}, by=coordinator_a)
    assert saved(subject)["PREG"] is answer


# Page ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def coordinator(client, coordinator_a, protocol, site_a):
    MembershipFactory(user=coordinator_a, study=protocol.study, role=Role.COORDINATOR, site=site_a)
    client.force_login(coordinator_a)
    return client


def test_the_page_shows_the_refusal_on_the_item_and_the_recorded_fact_beside_it(coordinator, screened, protocol):
    subject = screened(age_years=70)
    url = reverse("ecrf:eligibility", args=[protocol.study.code, subject.pk])
    version = coordinator.get(url).context["form"]["version"].value()
    posted = {"I1": "yes", "AGE": "yes", "PREG": "yes", "E1": "no", "version": version}
    page = coordinator.post(url, posted)
    form = page.context["form"]
    assert form.errors == {
        "AGE": ["AGE (age 18 to 65 years): the subject's recorded age is 70 years, so the answer must be no."]
    }
    assert form.fields["AGE"].help_text == (
        "Qualifying answer: Yes. The subject's recorded age is 70 years, so the answer must be no."
    )
    assert form.fields["I1"].help_text == "Qualifying answer: Yes."
    assert saved(subject) == {}
