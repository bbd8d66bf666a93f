"""Correcting a subject's registration facts and consent with a reason, also after allocation (issue 14)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from ecrf.models import Subject, SubjectStatus, Visit
from ecrf.roles import Role
from ecrf.selectors.history import visit_history
from ecrf.services import registration, signatures, visits
from ecrf.services.locking import StaleWrite
from ecrf.services.protocols import load_protocol
from tests.ecrf.protocol_fixture import changed
from tests.factories import TEST_PASSWORD, MembershipFactory


def url_of(subject, name):
    return reverse(name, args=[subject.study.code, subject.pk])


def screening_history(subject):
    return visit_history(subject.visits.get(definition__code="SCR"))


def snapshot(subject):
    """What a refused correction must leave as it was: the subject's row, its history and its visits."""
    saved = Subject.objects.get(pk=subject.pk)
    facts = [getattr(saved, f) for f in ("sex", "age_years", "weight_kg", "screening_date", "status")]
    visit_dates = list(Visit.objects.filter(subject=subject).order_by("pk").values_list("planned_date", flat=True))
    return facts, saved.consent_date, saved.consent_version, saved.history.count(), visit_dates


def submit(client, url, **changes):
    """Post the form as the browser would: the saved values as shown, with ``changes`` typed over them."""
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    return client.post(url, {**data, **changes})


@pytest.fixture
def version_two(protocol):
    """Version 2.0 of the test protocol, in force from 2021-06-01 (version 1.0 from 2020-01-01)."""
    text = changed('version = "1.0"', 'version = "2.0"', changed("2020-01-01", "2021-06-01"))
    return load_protocol(text, source_name="trial-2.toml").protocol


# The service


def test_age_corrected_after_allocation_is_saved_and_shows_on_the_screening_history(allocated_subject, coordinator_a):
    registration.correct_registration(allocated_subject, by=coordinator_a, reason="Typed 50, CRF says 51", age_years=51)
    saved = Subject.objects.get(pk=allocated_subject.pk)
    assert (saved.age_years, saved.status) == (51, SubjectStatus.ALLOCATED)
    change = [c for c in screening_history(allocated_subject) if c.field == "age years"][-1]
    assert (change.form, change.old, change.new) == ("Registration", "50", "51")
    assert (change.who, change.why) == (str(coordinator_a), "Typed 50, CRF says 51")


def test_a_correction_without_a_reason_is_refused_on_the_reason(allocated_subject, coordinator_a):
    before = snapshot(allocated_subject)
    with pytest.raises(ValidationError) as refused:
        registration.correct_registration(allocated_subject, by=coordinator_a, reason="  ", age_years=51)
    assert "reason" in refused.value.message_dict
    assert snapshot(allocated_subject) == before


def test_a_correction_opened_at_an_older_version_is_refused_as_stale(allocated_subject, coordinator_a):
    opened_at = allocated_subject.history.count()
    registration.correct_registration(allocated_subject, by=coordinator_a, reason="Scale recalibrated", weight_kg=61)
    before = snapshot(allocated_subject)
    with pytest.raises(StaleWrite):
        registration.correct_registration(
            allocated_subject, by=coordinator_a, reason="Typo", expected_version=opened_at, age_years=52
        )
    assert snapshot(allocated_subject) == before


def test_a_screening_date_under_another_protocol_version_is_refused(new_subject, version_two, coordinator_a):
    subject = new_subject()
    before = snapshot(subject)
    with pytest.raises(ValidationError) as refused:
        registration.correct_registration(
            subject, by=coordinator_a, reason="Wrong year", screening_date=date(2021, 7, 1)
        )
    assert "would fall under protocol version 2.0" in refused.value.message_dict["screening_date"][0]
    assert "re-register instead" in refused.value.message_dict["screening_date"][0]
    assert snapshot(subject) == before


def test_a_screening_date_under_the_same_protocol_version_is_corrected(new_subject, version_two, coordinator_a):
    subject = new_subject()
    registration.correct_registration(subject, by=coordinator_a, reason="Wrong day", screening_date=date(2020, 12, 30))
    assert Subject.objects.get(pk=subject.pk).screening_date == date(2020, 12, 30)


def test_a_consent_date_after_allocation_is_refused(allocated_subject, coordinator_a):
    before = snapshot(allocated_subject)
    with pytest.raises(ValidationError) as refused:
        registration.correct_consent(allocated_subject, by=coordinator_a, reason="Typo", consent_date=date(2021, 1, 3))
    assert refused.value.message_dict["consent_date"] == ["Consent cannot come after allocation (2021-01-02)."]
    assert snapshot(allocated_subject) == before


def test_a_consent_date_after_the_first_visit_is_refused(allocated_subject, coordinator_a):
    w0 = allocated_subject.visits.get(definition__code="W0")
    visits.record_visit(w0, actual_date=date(2021, 1, 2), weight_kg=60, by=coordinator_a)
    with pytest.raises(ValidationError) as refused:
        registration.correct_consent(allocated_subject, by=coordinator_a, reason="Typo", consent_date=date(2021, 1, 3))
    assert "after the first visit (2021-01-02)" in refused.value.message_dict["consent_date"][0]


def test_a_consent_date_before_screening_is_refused(allocated_subject, coordinator_a):
    with pytest.raises(ValidationError) as refused:
        registration.correct_consent(
            allocated_subject, by=coordinator_a, reason="Typo", consent_date=date(2020, 12, 31)
        )
    assert refused.value.message_dict["consent_date"] == ["Consent cannot come before screening (2021-01-01)."]


@pytest.mark.parametrize("field", ["screening_date", "consent_date"])
def test_a_future_date_is_refused(allocated_subject, coordinator_a, field):
    before = snapshot(allocated_subject)
    tomorrow = timezone.localdate() + timedelta(days=1)
    service = registration.correct_registration if field == "screening_date" else registration.correct_consent
    with pytest.raises(ValidationError) as refused:
        service(allocated_subject, by=coordinator_a, reason="Typo", **{field: tomorrow})
    assert field in refused.value.message_dict
    assert snapshot(allocated_subject) == before


def test_a_corrected_consent_date_re_plans_the_visits_anchored_on_it(new_subject, coordinator_a):
    subject = new_subject(consented=True, screening_date=date(2021, 1, 1))
    registration.correct_consent(
        subject, by=coordinator_a, reason="Signed the day after", consent_date=date(2021, 1, 2), consent_version="1.1"
    )
    saved = Subject.objects.get(pk=subject.pk)
    assert (saved.consent_date, saved.consent_version, saved.status) == (date(2021, 1, 2), "1.1", "eligible")
    assert subject.visits.get(definition__code="SCR").planned_date == date(2021, 1, 2)
    fields = {(c.field, c.old, c.new, c.why) for c in screening_history(subject)}
    assert ("consent date", "2021-01-01", "2021-01-02", "Signed the day after") in fields
    assert ("consent version", "1.0", "1.1", "Signed the day after") in fields


def test_consent_not_yet_recorded_cannot_be_corrected(new_subject, coordinator_a):
    subject = new_subject()
    with pytest.raises(ValidationError) as refused:
        registration.correct_consent(subject, by=coordinator_a, reason="Typo", consent_date=date(2021, 1, 1))
    assert "consent_date" in refused.value.message_dict
    assert Subject.objects.get(pk=subject.pk).consent_date is None


def test_a_correction_that_changes_nothing_writes_no_history(allocated_subject, coordinator_a):
    before = snapshot(allocated_subject)
    with pytest.raises(ValidationError, match="Nothing to correct"):
        registration.correct_registration(allocated_subject, by=coordinator_a, reason="Checked", age_years=50)
    assert snapshot(allocated_subject) == before


def test_registration_is_read_only_while_the_screening_visit_is_signed(
    allocated_subject, coordinator_a, investigator_a, check_password
):
    screening = allocated_subject.visits.get(definition__code="SCR")
    visits.record_visit(screening, actual_date=date(2021, 1, 1), by=investigator_a)
    signatures.sign_visit(screening, by=investigator_a, password=TEST_PASSWORD, check_password=check_password)
    before = snapshot(allocated_subject)
    with pytest.raises(ValidationError, match="read-only until a data manager unlocks them"):
        registration.correct_registration(allocated_subject, by=coordinator_a, reason="Typo", age_years=51)
    assert snapshot(allocated_subject) == before


# The pages


def test_the_registration_page_shows_the_saved_values(coordinator, allocated_subject):
    form = coordinator.get(url_of(allocated_subject, "ecrf:correct_registration")).context["form"]
    shown = {name: form[name].value() for name in ("screening_date", "sex", "age_years", "weight_kg")}
    assert shown == {"screening_date": date(2021, 1, 1), "sex": "male", "age_years": 50, "weight_kg": None}
    assert form["version"].value() == allocated_subject.history.count()


def test_the_consent_page_shows_the_saved_values(coordinator, allocated_subject):
    form = coordinator.get(url_of(allocated_subject, "ecrf:correct_consent")).context["form"]
    assert (form["consent_date"].value(), form["consent_version"].value()) == (date(2021, 1, 1), "1.0")


@pytest.mark.parametrize(
    ("page", "field"), [("correct_registration", "screening_date"), ("correct_consent", "consent_date")]
)
def test_the_date_picker_shows_the_saved_date_in_the_one_format_browsers_take(
    coordinator, allocated_subject, page, field
):
    """An <input type="date"> shows only YYYY-MM-DD: any other rendering (14/10/2010) reaches the user as blank."""
    html = coordinator.get(url_of(allocated_subject, f"ecrf:{page}")).content.decode()
    assert f'type="date" name="{field}" value="2021-01-01"' in html


def test_a_page_correction_is_saved_and_shows_on_the_screening_history(coordinator, allocated_subject):
    url = url_of(allocated_subject, "ecrf:correct_registration")
    response = submit(coordinator, url, age_years="51", reason="Source document says 51")
    assert response.status_code == 302
    assert Subject.objects.get(pk=allocated_subject.pk).age_years == 51
    history_url = reverse("ecrf:visit_history", args=[allocated_subject.study.code, allocated_subject.pk, "SCR"])
    page = coordinator.get(history_url).content.decode()
    assert "Source document says 51" in page


def test_a_page_correction_without_a_reason_says_so_on_the_reason(coordinator, allocated_subject):
    response = submit(coordinator, url_of(allocated_subject, "ecrf:correct_registration"), age_years="51")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert Subject.objects.get(pk=allocated_subject.pk).age_years == 50


def test_a_refused_consent_date_shows_on_its_field(coordinator, allocated_subject):
    url = url_of(allocated_subject, "ecrf:correct_consent")
    response = submit(coordinator, url, consent_date="2021-01-03", reason="Typo")
    assert response.status_code == 200
    assert response.context["form"].errors["consent_date"] == ["Consent cannot come after allocation (2021-01-02)."]
    assert Subject.objects.get(pk=allocated_subject.pk).consent_date == date(2021, 1, 1)


def test_a_stale_correction_page_answers_409_and_saves_nothing(coordinator, allocated_subject, coordinator_a):
    url = url_of(allocated_subject, "ecrf:correct_registration")
    form = coordinator.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    registration.correct_registration(allocated_subject, by=coordinator_a, reason="Scale recalibrated", weight_kg=61)
    before = snapshot(allocated_subject)
    response = coordinator.post(url, {**data, "age_years": "52", "reason": "Typo"})
    assert response.status_code == 409
    assert snapshot(allocated_subject) == before


def test_the_subject_page_links_to_the_corrections_for_site_staff(coordinator, allocated_subject):
    page = coordinator.get(url_of(allocated_subject, "ecrf:subject_detail")).content.decode()
    assert url_of(allocated_subject, "ecrf:correct_registration") in page
    assert url_of(allocated_subject, "ecrf:correct_consent") in page


def test_a_monitor_reviews_the_registration_and_consent_but_cannot_correct_them(client, allocated_subject, monitor):
    MembershipFactory(user=monitor, study=allocated_subject.study, role=Role.MONITOR, site=None)
    client.force_login(monitor)
    page = client.get(url_of(allocated_subject, "ecrf:subject_detail")).content.decode()
    assert "Review registration" in page
    assert "Correct registration" not in page
    for name in ("ecrf:correct_registration", "ecrf:correct_consent"):
        review = client.get(url_of(allocated_subject, name))
        assert review.status_code == 200
        assert 'data-testid="review-banner"' in review.content.decode()
        assert client.post(url_of(allocated_subject, name), {"age_years": "51"}).status_code == 403
    assert Subject.objects.get(pk=allocated_subject.pk).age_years == 50
