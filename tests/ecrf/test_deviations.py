"""A visit dated outside its window is saved only with a reason, and stands as a protocol deviation listed for
the data manager; a correction back into the window voids it (issue 14)."""

from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from ecrf.models import DeviationKind, ProtocolDeviation, VisitStatus
from ecrf.roles import Role
from ecrf.services import subjects, visits
from ecrf.services.protocols import load_protocol
from tests.conftest import give_first_infusion
from tests.ecrf.protocol_fixture import changed
from tests.factories import MembershipFactory, StudySiteFactory

# First infusion on 2021-01-02: W4 is planned on 2021-01-30, its window 2021-01-27 to 2021-02-02.
LATE, IN_WINDOW = date(2021, 2, 5), date(2021, 1, 30)
REFUSAL = "2021-02-05 is outside W4's window 2021-01-27 to 2021-02-02: give the reason to record it out of window."


@pytest.fixture
def infused(allocated_subject, coordinator_a):
    give_first_infusion(allocated_subject, by=coordinator_a)
    return allocated_subject


def w4(subject):
    return subject.visits.get(definition__code="W4")


def record_late(subject, by, window_reason="Patient in hospital elsewhere until 5 February"):
    return visits.record_visit(w4(subject), actual_date=LATE, window_reason=window_reason, by=by)


def test_an_out_of_window_visit_without_a_reason_is_refused_on_its_date_and_nothing_is_saved(infused, coordinator_a):
    with pytest.raises(ValidationError) as refused:
        visits.record_visit(w4(infused), actual_date=LATE, by=coordinator_a)
    assert refused.value.message_dict == {"actual_date": [REFUSAL]}
    visit = w4(infused)
    assert (visit.status, visit.actual_date, visit.history.count()) == (VisitStatus.PLANNED, None, 1)
    assert not ProtocolDeviation.objects.exists()


def test_an_out_of_window_visit_with_a_reason_is_saved_with_one_deviation(infused, coordinator_a):
    record_late(infused, coordinator_a)
    visit = w4(infused)
    assert (visit.status, visit.actual_date) == (VisitStatus.DONE, LATE)
    deviation = ProtocolDeviation.objects.get()
    assert (deviation.subject, deviation.visit, deviation.kind, deviation.recorded_by) == (
        infused,
        visit,
        DeviationKind.VISIT_OUT_OF_WINDOW,
        coordinator_a,
    )
    assert deviation.description == "Patient in hospital elsewhere until 5 February"
    assert deviation.history.get().history_user == coordinator_a


def test_a_visit_in_its_window_records_no_deviation(infused, coordinator_a):
    visits.record_visit(w4(infused), actual_date=IN_WINDOW, window_reason="Not needed", by=coordinator_a)
    assert w4(infused).actual_date == IN_WINDOW
    assert not ProtocolDeviation.objects.exists()


def test_a_correction_into_the_window_voids_the_deviation(infused, coordinator_a):
    record_late(infused, coordinator_a)
    visits.record_visit(w4(infused), actual_date=IN_WINDOW, reason="Wrong month typed", by=coordinator_a)
    deviation = ProtocolDeviation.objects.get()
    assert (deviation.is_voided, deviation.void_reason, deviation.voided_by) == (
        True,
        "Visit date corrected into its window",
        coordinator_a,
    )
    assert not ProtocolDeviation.objects.active().exists()


def test_a_correction_still_out_of_window_keeps_one_deviation_with_the_new_reason(infused, coordinator_a):
    record_late(infused, coordinator_a)
    visits.record_visit(
        w4(infused), actual_date=date(2021, 2, 6), reason="Wrong day typed", window_reason="Snowed in", by=coordinator_a
    )
    deviation = ProtocolDeviation.objects.get()
    assert (deviation.description, deviation.is_voided) == ("Snowed in", False)
    assert deviation.history.first().history_change_reason == "Wrong day typed"


def test_a_correction_out_of_window_without_a_new_reason_keeps_the_one_on_record(infused, coordinator_a):
    record_late(infused, coordinator_a)
    visits.record_visit(w4(infused), actual_date=LATE, weight_kg=61, reason="Weight added", by=coordinator_a)
    assert ProtocolDeviation.objects.active().get().description == "Patient in hospital elsewhere until 5 February"


def test_marking_an_out_of_window_visit_missed_voids_its_deviation(infused, coordinator_a):
    record_late(infused, coordinator_a)
    visits.mark_missed(
        w4(infused), reason="Did not come", change_reason="Entered for the wrong subject", by=coordinator_a
    )
    assert not ProtocolDeviation.objects.active().exists()


def test_a_second_standing_out_of_window_deviation_for_a_visit_is_refused(infused, coordinator_a):
    record_late(infused, coordinator_a)
    second = ProtocolDeviation(
        subject=infused,
        visit=w4(infused),
        kind=DeviationKind.VISIT_OUT_OF_WINDOW,
        description="Again",
        detected_at=datetime(2021, 2, 5, tzinfo=UTC),
        recorded_by=coordinator_a,
    )
    with pytest.raises(ValidationError, match="already has an out-of-window deviation"):
        second.full_clean()


def test_the_deviations_audit_trail_verifies_for_its_study(infused, coordinator_a):
    record_late(infused, coordinator_a)
    visits.record_visit(w4(infused), actual_date=IN_WINDOW, reason="Wrong month typed", by=coordinator_a)
    out = StringIO()
    call_command("verify_audit", "--study", infused.study.code, stdout=out)
    assert "verifies. OK." in out.getvalue()


# The visit form.


def visit_url(subject, code="W4"):
    return reverse("ecrf:visit_form", args=[subject.study.code, subject.pk, code])


def submit(client, url, data):
    version = client.get(url).context["form"]["version"].value()
    return client.post(url, {**data, "version": version})


def test_the_visit_form_shows_the_window_refusal_on_the_date_field(coordinator, infused):
    response = submit(coordinator, visit_url(infused), {"actual_date": "2021-02-05"})
    assert response.context["form"].errors["actual_date"] == [REFUSAL]
    assert w4(infused).status == VisitStatus.PLANNED


def test_the_visit_form_records_the_reason_as_a_deviation(coordinator, infused):
    response = submit(coordinator, visit_url(infused), {"actual_date": "2021-02-05", "window_reason": "Snowed in"})
    assert response.status_code == 302
    assert ProtocolDeviation.objects.active().get().description == "Snowed in"
    page = coordinator.get(visit_url(infused)).content.decode()
    assert "Why the visit is out of its window" in page
    assert 'value="Snowed in"' in page


# The data manager's list.


@pytest.fixture
def data_manager_client(client, infused, data_manager):
    MembershipFactory(user=data_manager, study=infused.study, role=Role.DATA_MANAGER, site=None)
    client.force_login(data_manager)
    return client


def deviations_url(study_code="TRIAL"):
    return reverse("ecrf:deviations", args=[study_code])


@pytest.fixture
def other_study_subject(infused, site_a, coordinator_a):
    text = changed('code = "TRIAL"', 'code = "OTHER"', changed("NCT09999999", "NCT09999998"))
    other = load_protocol(text, source_name="other.toml").protocol
    StudySiteFactory(study=other.study, site=site_a)
    subject = subjects.register_subject(
        study=other.study,
        site=site_a,
        subject_code="OTH-1",
        screening_date=date(2021, 1, 1),
        sex="female",
        age_years=60,
        by=coordinator_a,
    )
    subjects.record_consent(subject, consent_date=date(2021, 1, 1), consent_version="1.0", by=coordinator_a)
    subjects.record_eligibility(subject, answers={"I1": True, "E1": False}, by=coordinator_a)
    subjects.assign_arm(
        subject, arm=other.arms.get(code="A"), allocation_date=date(2021, 1, 2), reason="Design", by=coordinator_a
    )
    give_first_infusion(subject, by=coordinator_a)
    record_late(subject, coordinator_a, window_reason="Other study's reason")
    return subject


def test_the_data_manager_sees_the_deviation_with_its_subject_site_visit_and_reason(
    data_manager_client, infused, coordinator_a
):
    record_late(infused, coordinator_a)
    response = data_manager_client.get(deviations_url())
    assert response.status_code == 200
    page = response.content.decode()
    subject_link = reverse("ecrf:subject_detail", args=["TRIAL", infused.pk])
    assert f'<a href="{subject_link}">001</a>' in page
    recorder = coordinator_a.get_full_name()
    for shown in ("SITE-A", "W4", "Visit out of window", "2021-02-05", "Patient in hospital elsewhere", recorder):
        assert shown in page


def test_a_voided_deviation_is_not_listed(data_manager_client, infused, coordinator_a):
    record_late(infused, coordinator_a)
    visits.record_visit(w4(infused), actual_date=IN_WINDOW, reason="Wrong month typed", by=coordinator_a)
    assert "No protocol deviation recorded." in data_manager_client.get(deviations_url()).content.decode()


def test_an_infusion_given_despite_failing_release_is_listed_too(
    data_manager, client, allocated_subject, coordinator_a
):
    MembershipFactory(user=data_manager, study=allocated_subject.study, role=Role.DATA_MANAGER, site=None)
    client.force_login(data_manager)
    give_first_infusion(allocated_subject, by=coordinator_a)
    infusion = allocated_subject.infusions.get()
    infusion.release_deviation = "PD-3 approved by the PI"
    infusion._change_reason, infusion._history_user = "Deviation recorded", coordinator_a
    infusion.save()
    page = client.get(deviations_url()).content.decode()
    assert "PD-3 approved by the PI" in page
    assert "Product failing release given" in page


def test_another_studys_deviations_are_not_listed(data_manager_client, infused, other_study_subject, coordinator_a):
    record_late(infused, coordinator_a)
    page = data_manager_client.get(deviations_url()).content.decode()
    assert "Patient in hospital elsewhere" in page
    assert "Other study&#x27;s reason" not in page
    assert "OTH-1" not in page


def test_a_coordinator_may_not_open_the_list(coordinator, infused):
    assert coordinator.get(deviations_url()).status_code == 403


def test_a_monitor_may_read_the_list(client, infused, monitor, coordinator_a):
    MembershipFactory(user=monitor, study=infused.study, role=Role.MONITOR, site=None)
    client.force_login(monitor)
    record_late(infused, coordinator_a)
    assert "Patient in hospital elsewhere" in client.get(deviations_url()).content.decode()


def test_the_study_page_links_the_list_for_the_data_manager_not_the_coordinator(coordinator, infused, data_manager):
    link, study_page = f'href="{deviations_url()}"', reverse("ecrf:study_detail", args=["TRIAL"])
    assert link not in coordinator.get(study_page).content.decode()
    MembershipFactory(user=data_manager, study=infused.study, role=Role.DATA_MANAGER, site=None)
    coordinator.force_login(data_manager)  # the same browser, now the data manager's
    assert link in coordinator.get(study_page).content.decode()


def test_the_list_reads_in_a_bounded_number_of_queries(
    data_manager_client, infused, new_subject, protocol, coordinator_a, django_assert_max_num_queries
):
    record_late(infused, coordinator_a)
    for code in ("002", "003", "004"):
        subject = new_subject(code, consented=True)
        subjects.assign_arm(
            subject,
            arm=protocol.arms.get(code="A"),
            allocation_date=date(2021, 1, 2),
            reason="Design",
            by=coordinator_a,
        )
        give_first_infusion(subject, by=coordinator_a)
        record_late(subject, coordinator_a)
    # Session, user, memberships, sites, deviations, infusions, and the session saved (3): none per row.
    with django_assert_max_num_queries(9):
        response = data_manager_client.get(deviations_url())
    assert response.content.decode().count("Patient in hospital elsewhere") == 4
