"""A registration correction of sex or age gives the new answer to each eligibility item it calls into question,
or is refused whole on the fact (issue 14)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ecrf.models import EligibilityAnswer, Subject, SubjectStatus
from ecrf.roles import Role
from ecrf.services import registration, subjects
from ecrf.services.protocols import load_protocol
from tests.ecrf.test_eligibility_facts import QUALIFYING, TIED_PROTOCOL, saved
from tests.factories import MembershipFactory, StudySiteFactory


@pytest.fixture
def protocol(site_a):
    """The test protocol with an age item (AGE, 18 to 65) and a pregnancy item (PREG, women only)."""
    loaded = load_protocol(TIED_PROTOCOL, source_name="trial.toml").protocol
    StudySiteFactory(study=loaded.study, site=site_a)
    return loaded


@pytest.fixture
def checked(new_subject, coordinator_a):
    """A consented subject with the given facts and checklist answers saved."""

    def register(answers=QUALIFYING, **facts):
        subject = new_subject("001", **facts)
        subjects.record_consent(subject, consent_date=date(2021, 1, 1), consent_version="1.0", by=coordinator_a)
        return subjects.record_eligibility(subject, answers=answers, by=coordinator_a)

    return register


def snapshot(subject):
    """What a refused correction must leave as it was: the facts, status, answers and every history."""
    row = Subject.objects.get(pk=subject.pk)
    answers = EligibilityAnswer.objects.filter(subject=subject)
    history = (row.history.count(), EligibilityAnswer.history.filter(subject_id=subject.pk).count())
    return (row.sex, row.age_years, row.status), saved(subject), [a.assessed_at for a in answers], history


def refusal(subject, by, **correction) -> dict:
    before = snapshot(subject)
    with pytest.raises(ValidationError) as refused:
        registration.correct_registration(subject, by=by, reason="Misread", **correction)
    assert snapshot(subject) == before
    return refused.value.message_dict


def test_age_corrected_out_of_range_without_the_new_age_answer_is_refused_on_the_age(checked, coordinator_a):
    subject = checked(age_years=40)
    assert refusal(subject, coordinator_a, age_years=70) == {
        "age_years": [
            "AGE (age 18 to 65 years) is answered yes; with this correction the subject's recorded age is 70 years, "
            "so the answer must be no. Give the new answer to AGE below, in this correction."
        ]
    }


def test_age_corrected_with_the_new_age_answer_saves_both_with_the_reason(checked, coordinator_a):
    subject = checked(age_years=40)
    registration.correct_registration(
        subject, by=coordinator_a, reason="Date of birth misread", age_years=70, eligibility_answers={"AGE": False}
    )
    answer = EligibilityAnswer.objects.get(subject=subject, criterion__code="AGE")
    assert answer.answer is False
    row = answer.history.first()
    assert (row.history_user, row.history_change_reason) == (
        coordinator_a,
        "With the registration correction: Date of birth misread",
    )
    subject.refresh_from_db()
    assert (subject.age_years, subject.status) == (70, SubjectStatus.CONSENTED)
    assert subject.history.filter(history_change_reason="Date of birth misread").exists()


def test_sex_corrected_to_female_asks_for_the_pregnancy_answer_the_old_fact_decided(checked, coordinator_a):
    subject = checked(sex="male")
    errors = refusal(subject, coordinator_a, sex="female")
    assert list(errors) == ["sex"]
    assert errors["sex"][0].startswith("PREG (applies only when sex is female) is answered yes; with this correction")
    assert "so the item applies: answer it from the assessment" in errors["sex"][0]


def test_sex_corrected_to_female_with_a_failed_pregnancy_test_leaves_the_subject_not_eligible(checked, coordinator_a):
    subject = checked(sex="male")
    registration.correct_registration(
        subject, by=coordinator_a, reason="Sex entered wrongly", sex="female", eligibility_answers={"PREG": False}
    )
    assert saved(subject)["PREG"] is False
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.CONSENTED


def test_a_confirmed_pregnancy_answer_is_saved_again_as_assessed(checked, coordinator_a):
    subject = checked(sex="male")
    registration.correct_registration(
        subject, by=coordinator_a, reason="Sex entered wrongly", sex="female", eligibility_answers={"PREG": True}
    )
    answer = EligibilityAnswer.objects.get(subject=subject, criterion__code="PREG")
    assert (answer.answer, answer.history.count()) == (True, 2)


def test_sex_corrected_to_male_needs_the_failed_pregnancy_item_turned_to_yes(checked, coordinator_a):
    subject = checked(sex="female", answers={**QUALIFYING, "PREG": False})
    assert "the item does not apply and the answer must be yes" in refusal(subject, coordinator_a, sex="male")["sex"][0]
    registration.correct_registration(
        subject, by=coordinator_a, reason="Sex entered wrongly", sex="male", eligibility_answers={"PREG": True}
    )
    assert saved(subject)["PREG"] is True
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.ELIGIBLE


def test_a_new_answer_against_the_corrected_fact_is_refused_on_the_item(checked, coordinator_a):
    subject = checked(age_years=40)
    errors = refusal(subject, coordinator_a, age_years=70, eligibility_answers={"AGE": True})
    assert errors == {
        "AGE": ["AGE (age 18 to 65 years): the subject's recorded age is 70 years, so the answer must be no."]
    }


def test_an_answer_for_an_item_the_correction_does_not_question_is_refused(checked, coordinator_a):
    subject = checked(sex="female")
    errors = refusal(subject, coordinator_a, weight_kg=61, eligibility_answers={"PREG": False})
    assert errors == {
        "PREG": ["PREG: this correction does not call its saved answer into question; change it on the checklist."]
    }


@pytest.mark.parametrize(("facts", "correction"), [({"age_years": 40}, {"age_years": 45}), ({}, {"sex": "male"})])
def test_a_correction_leaving_the_tied_answers_standing_needs_no_answer(checked, coordinator_a, facts, correction):
    subject = checked(sex="female", **facts)
    registration.correct_registration(subject, by=coordinator_a, reason="Typo", **correction)
    assert saved(subject) == QUALIFYING
    assert EligibilityAnswer.history.filter(subject_id=subject.pk).count() == len(QUALIFYING)


# The page ----------------------------------------------------------------------------------------------------
@pytest.fixture
def coordinator(client, coordinator_a, protocol, site_a):
    MembershipFactory(user=coordinator_a, study=protocol.study, role=Role.COORDINATOR, site=site_a)
    client.force_login(coordinator_a)
    return client


def submit(client, subject, **changes):
    """Post the correction form as shown, with ``changes`` typed over it."""
    url = reverse("ecrf:correct_registration", args=[subject.study.code, subject.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    return client.post(url, {**data, **changes})


def test_the_page_refuses_on_the_sex_field_naming_the_item_then_saves_with_its_new_answer(coordinator, checked):
    subject = checked(sex="male")
    page = submit(coordinator, subject, sex="female", reason="Sex entered wrongly")
    errors = page.context["form"].errors
    assert list(errors) == ["sex"]
    assert "Give the new answer to PREG below" in errors["sex"][0]
    assert saved(subject) == QUALIFYING
    response = submit(coordinator, subject, sex="female", answer_PREG="no", reason="Sex entered wrongly")
    assert response.status_code == 302
    assert (Subject.objects.get(pk=subject.pk).sex, saved(subject)["PREG"]) == ("female", False)


def test_the_page_offers_a_new_answer_only_for_items_tied_to_a_fact(coordinator, checked):
    subject = checked()
    url = reverse("ecrf:correct_registration", args=[subject.study.code, subject.pk])
    form = coordinator.get(url).context["form"]
    assert [name for name in form.fields if name.startswith("answer_")] == ["answer_AGE", "answer_PREG"]
    assert form["answer_PREG"].value() in ("", None)
    assert form.fields["answer_PREG"].choices[0] == ("", "Keep the saved answer (yes)")


def test_the_page_shows_a_contradicting_new_answer_on_its_own_field(coordinator, checked):
    subject = checked(age_years=40)
    page = submit(coordinator, subject, age_years="70", answer_AGE="yes", reason="Date of birth misread")
    assert "the answer must be no" in page.context["form"].errors["answer_AGE"][0]
    assert Subject.objects.get(pk=subject.pk).age_years == 40
