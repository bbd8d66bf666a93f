"""Endpoint and censoring events from the subject's page: death, withdrawal, lost to follow-up, HCC."""

from django.urls import reverse

from ecrf.models import EndpointEvent, SubjectStatus


def url(subject, event):
    return reverse("ecrf:outcome", args=[subject.study.code, subject.pk, event])


def test_a_death_is_recorded_with_date_and_cause(coordinator, allocated_subject):
    assert (
        coordinator.post(
            url(allocated_subject, "death"), {"death_date": "2021-03-01", "cause": "Liver failure"}
        ).status_code
        == 302
    )
    allocated_subject.refresh_from_db()
    assert (allocated_subject.status, str(allocated_subject.death_date)) == (SubjectStatus.DIED, "2021-03-01")


def test_a_death_before_consent_is_refused_with_the_reason(coordinator, allocated_subject):
    page = coordinator.post(url(allocated_subject, "death"), {"death_date": "2020-03-01", "cause": "Sepsis"})
    assert "Death cannot come before consent." in page.content.decode()
    allocated_subject.refresh_from_db()
    assert allocated_subject.death_date is None


def test_a_withdrawal_needs_date_and_reason(coordinator, allocated_subject):
    assert (
        "This field is required"
        in coordinator.post(url(allocated_subject, "withdrawal"), {"withdrawal_date": "2021-02-01"}).content.decode()
    )
    coordinator.post(url(allocated_subject, "withdrawal"), {"withdrawal_date": "2021-02-01", "reason": "Moved away"})
    allocated_subject.refresh_from_db()
    assert (allocated_subject.status, allocated_subject.withdrawal_reason) == (SubjectStatus.WITHDRAWN, "Moved away")


def test_lost_to_follow_up_keeps_the_last_contact(coordinator, allocated_subject):
    coordinator.post(url(allocated_subject, "lost"), {"last_contact_date": "2021-06-01"})
    allocated_subject.refresh_from_db()
    assert (allocated_subject.status, str(allocated_subject.last_contact_date)) == (SubjectStatus.LOST, "2021-06-01")


def test_an_hcc_diagnosis_is_recorded_with_its_method(coordinator, allocated_subject):
    coordinator.post(url(allocated_subject, "hcc"), {"diagnosis_date": "2022-05-10", "method": "imaging"})
    assert EndpointEvent.objects.get().method == "imaging"


def test_an_unknown_event_is_404(coordinator, allocated_subject):
    assert coordinator.get(url(allocated_subject, "abduction")).status_code == 404
