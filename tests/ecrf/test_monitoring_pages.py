"""The monitoring pages: queries raised on a form, answered and closed; the query list and its CSV; verification
and locks from the pages; who may do which."""

import csv
import io
import re

import pytest
from django.urls import reverse

from ecrf.models import DataLock, DataQuery, LabValue, ProtocolVersion, QueryState, SourceVerification
from ecrf.roles import Role
from ecrf.services import labs, queries, verification
from tests.factories import MembershipFactory, StudySiteFactory


@pytest.fixture
def cast(recorded, coordinator_a, coordinator_b, monitor, data_manager, site_b):
    """The cast as members of the recorded subject's study (coordinator B at site B)."""
    study = recorded["subject"].study
    MembershipFactory(user=coordinator_a, study=study, role=Role.COORDINATOR, site=recorded["subject"].site)
    MembershipFactory(user=monitor, study=study, role=Role.MONITOR, site=None)
    MembershipFactory(user=data_manager, study=study, role=Role.DATA_MANAGER, site=None)
    StudySiteFactory(study=study, site=site_b)
    MembershipFactory(user=coordinator_b, study=study, role=Role.COORDINATOR, site=site_b)
    return recorded


def signed_in(client, user):
    client.force_login(user)
    return client


def lab_url(subject):
    return reverse("ecrf:lab_panel", args=[subject.study.code, subject.pk, "W0"])


def tbil_of(recorded):
    return LabValue.objects.get(draw__visit=recorded["visit"], analyte__code="TBIL")


def test_a_monitor_raises_a_query_on_a_lab_value_from_the_review_and_it_shows_on_the_field(client, cast, monitor):
    subject, tbil = cast["subject"], tbil_of(cast)
    signed_in(client, monitor)
    page = client.get(lab_url(subject)).content.decode()
    assert 'data-testid="raise-query"' in page
    response = client.post(
        reverse("ecrf:raise_query", args=[subject.study.code, subject.pk]),
        {"target": f"ecrf.labvalue:{tbil.pk}:value", "text": "Lab report says 22.", "next": lab_url(subject)},
    )
    assert response.status_code == 302
    assert response["Location"] == lab_url(subject)
    query = DataQuery.objects.get()
    assert (query.raised_by, query.field_name, query.record_id) == (monitor, "value", tbil.pk)
    page = client.get(lab_url(subject)).content.decode()
    assert 'data-testid="queried-TBIL"' in page
    assert "Lab report says 22." in page


def test_the_coordinator_sees_the_query_on_the_subject_page_and_answers_it(client, cast, monitor, coordinator_a):
    query = queries.raise_query(record=tbil_of(cast), field_name="value", text="Lab report says 22.", by=monitor)
    subject = cast["subject"]
    signed_in(client, coordinator_a)
    page = client.get(reverse("ecrf:subject_detail", args=[subject.study.code, subject.pk])).content.decode()
    assert "Lab report says 22." in page
    url = reverse("ecrf:query_detail", args=[subject.study.code, query.pk])
    assert client.post(url, {"action": "answer", "text": "Checked: 20 is right."}).status_code == 302
    query.refresh_from_db()
    assert query.state == QueryState.ANSWERED


def test_a_coordinator_cannot_close_a_query_or_verify(client, cast, monitor, coordinator_a):
    subject, tbil = cast["subject"], tbil_of(cast)
    query = queries.raise_query(record=tbil, text="Check.", by=monitor)
    signed_in(client, coordinator_a)
    close = client.post(reverse("ecrf:query_detail", args=[subject.study.code, query.pk]), {"action": "close"})
    assert close.status_code == 403
    verify = client.post(
        reverse("ecrf:verify_record", args=[subject.study.code, subject.pk]), {"target": f"ecrf.labvalue:{tbil.pk}:"}
    )
    assert verify.status_code == 403
    query.refresh_from_db()
    assert query.state == QueryState.OPEN
    assert not SourceVerification.objects.exists()


def test_a_monitor_cannot_answer_for_the_site(client, cast, monitor):
    query = queries.raise_query(record=tbil_of(cast), text="Check.", by=monitor)
    signed_in(client, monitor)
    url = reverse("ecrf:query_detail", args=[cast["subject"].study.code, query.pk])
    assert client.post(url, {"action": "answer", "text": "It is right."}).status_code == 403


def test_another_sites_coordinator_sees_nothing_of_the_query(client, cast, monitor, coordinator_b):
    subject = cast["subject"]
    query = queries.raise_query(record=tbil_of(cast), text="Check.", by=monitor)
    signed_in(client, coordinator_b)
    assert client.get(reverse("ecrf:query_detail", args=[subject.study.code, query.pk])).status_code == 404
    listing = client.get(reverse("ecrf:query_list", args=[subject.study.code])).content.decode()
    assert "Check." not in listing
    raise_url = reverse("ecrf:raise_query", args=[subject.study.code, subject.pk])
    assert client.post(raise_url, {"target": "x", "text": "y"}).status_code == 403


def test_a_record_of_another_subject_cannot_be_queried_through_this_one(client, cast, monitor, new_subject):
    other = new_subject("002")
    signed_in(client, monitor)
    subject = cast["subject"]
    url = reverse("ecrf:raise_query", args=[subject.study.code, subject.pk])
    assert client.post(url, {"target": f"ecrf.subject:{other.pk}:", "text": "?"}).status_code == 404
    assert client.post(url, {"target": "auth.user:1:password", "text": "?"}).status_code == 404
    assert not DataQuery.objects.exists()


def test_the_query_list_filters_and_downloads_csv(client, cast, monitor, data_manager):
    tbil = tbil_of(cast)
    queries.raise_query(record=tbil, text="=HYPERLINK(1)", by=monitor)
    closed = queries.raise_query(record=cast["visit"], text="Date?", by=data_manager)
    queries.close_query(query=closed, by=data_manager)
    signed_in(client, monitor)
    url = reverse("ecrf:query_list", args=[cast["subject"].study.code])
    page = client.get(url, {"state": "open"}).content.decode()
    assert "HYPERLINK" in page
    assert "Date?" not in page
    assert "Median days to close" in page
    response = client.get(url, {"raiser": data_manager.username, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["text"], r["state"]) for r in rows] == [("Date?", "closed")]
    everything = list(csv.DictReader(io.StringIO(client.get(url, {"format": "csv"}).content.decode())))
    assert "'=HYPERLINK(1)" in [r["text"] for r in everything]  # no formula reaches a spreadsheet


def test_a_bad_filter_is_refused_with_a_message_not_an_error(client, cast, monitor):
    signed_in(client, monitor)
    url = reverse("ecrf:query_list", args=[cast["subject"].study.code])
    response = client.get(url, {"min_age_days": "abc", "state": "nonsense"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_the_query_list_reads_a_bounded_number_of_queries(client, cast, monitor, django_assert_max_num_queries):
    for n in range(30):
        queries.raise_query(record=cast["visit"], text=f"Question {n}", by=monitor)
    signed_in(client, monitor)
    url = reverse("ecrf:query_list", args=[cast["subject"].study.code])
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


def test_a_monitor_verifies_the_lab_panel_and_a_correction_clears_it_on_the_form(client, cast, monitor, coordinator_a):
    subject = cast["subject"]
    draw = cast["visit"].lab_draws.get()
    signed_in(client, monitor)
    url = reverse("ecrf:verify_record", args=[subject.study.code, subject.pk])
    client.post(url, {"target": f"ecrf.labdraw:{draw.pk}:", "next": lab_url(subject)})
    assert 'data-testid="verification-state"' in client.get(lab_url(subject)).content.decode()
    assert SourceVerification.objects.get().cleared_at is None
    labs.change_lab_value(tbil_of(cast), value="22", by=coordinator_a, reason="Transcription")
    page = client.get(lab_url(subject)).content.decode()
    assert "Verification cleared" in page
    assert "Transcription" in page


def test_the_data_manager_locks_a_subject_and_the_coordinator_can_no_longer_save(
    client, cast, data_manager, coordinator_a
):
    subject = cast["subject"]
    signed_in(client, data_manager)
    lock_url = reverse("ecrf:subject_lock", args=[subject.study.code, subject.pk])
    client.post(lock_url, {"reason": "Clean"})
    assert not DataLock.objects.exists()  # not clean: the override is asked for
    client.post(lock_url, {"override": "Interim analysis cut"})
    assert DataLock.objects.get().subject == subject
    signed_in(client, coordinator_a)
    medication = cast["medication"]
    edit = reverse("ecrf:medication_edit", args=[subject.study.code, subject.pk, medication.pk])
    form = client.get(edit).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, False)}
    response = client.post(edit, {**data, "dose": "1 mg", "reason": "Typo"})
    assert "locked" in response.content.decode()
    medication.refresh_from_db()
    assert medication.dose == "0.5 mg"


def test_the_study_lock_page_asks_for_an_override_when_data_are_unclean(client, cast, data_manager):
    signed_in(client, data_manager)
    url = reverse("ecrf:study_lock", args=[cast["subject"].study.code])
    page = client.get(url).content.decode()
    assert 'data-testid="unclean-count"' in page
    refused = client.post(url, {"action": "lock", "reason": "Final"})
    assert refused.status_code == 400
    assert "override" in refused.content.decode()
    assert client.post(url, {"action": "lock", "override": "Sponsor decision, documented"}).status_code == 302
    assert DataLock.objects.get().subject is None


def test_a_query_links_to_the_form_its_record_is_entered_on(client, cast, monitor):
    subject = cast["subject"]
    code = subject.study.code
    expected = {
        tbil_of(cast): lab_url(subject),
        cast["visit"]: reverse("ecrf:visit_form", args=[code, subject.pk, "W0"]),
        cast["adverse-event"]: reverse("ecrf:adverse_event_edit", args=[code, subject.pk, cast["adverse-event"].pk]),
        subject: reverse("ecrf:subject_detail", args=[code, subject.pk]),
    }
    signed_in(client, monitor)
    for record, url in expected.items():
        query = queries.raise_query(record=record, text="?", by=monitor)
        page = client.get(reverse("ecrf:query_detail", args=[code, query.pk])).content.decode()
        assert f'href="{url}" data-testid="open-form"' in page, record


def test_the_site_worklist_counts_each_subjects_open_queries(client, cast, monitor, coordinator_a):
    subject = cast["subject"]
    queries.raise_query(record=cast["visit"], text="Date?", by=monitor)
    queries.raise_query(record=tbil_of(cast), text="Value?", by=monitor)
    signed_in(client, coordinator_a)
    url = reverse("ecrf:site_detail", args=[subject.study.code, subject.site.code])
    page = client.get(url, {"show": "open_queries"}).content.decode()
    assert f'data-testid="queries-{subject.subject_code}"' in page
    assert "2 open" in page


def test_verification_progress_counts_per_site_and_subject(client, cast, monitor, coordinator_a):
    subject = cast["subject"]
    ProtocolVersion.objects.filter(pk=subject.protocol_id).update(
        monitoring={"sdv_critical_forms": ["infusion", "eligibility"], "sdv_sampling_percent": 0}
    )
    verification.verify(record=cast["infusion"], by=monitor)
    signed_in(client, monitor)
    page = client.get(reverse("ecrf:verification_progress", args=[subject.study.code])).content.decode()
    required = 1 + subject.eligibility_answers.count()  # the infusion and each checklist answer
    assert f'<td class="text-end">{required}</td><td class="text-end">1</td>' in page
    assert "infusion, eligibility verified for every subject" in page
    signed_in(client, coordinator_a)
    assert client.get(reverse("ecrf:verification_progress", args=[subject.study.code])).status_code == 403


def test_the_subject_page_says_what_keeps_each_visit_from_clean(client, cast, monitor):
    subject = cast["subject"]
    queries.raise_query(record=tbil_of(cast), text="Value?", by=monitor)
    signed_in(client, monitor)
    page = client.get(reverse("ecrf:subject_detail", args=[subject.study.code, subject.pk])).content.decode()
    w0 = re.search(r'data-testid="clean-W0">(.*?)</td>', page, re.S).group(1)
    assert "visit not signed" in w0
    assert "1 open query" in w0
    assert "Not clean" in page


def test_a_monitor_verifies_one_field_and_the_form_lists_it(client, cast, monitor):
    subject, event = cast["subject"], cast["adverse-event"]
    url = reverse("ecrf:adverse_event_edit", args=[subject.study.code, subject.pk, event.pk])
    signed_in(client, monitor)
    assert 'data-testid="verify-field"' in client.get(url).content.decode()
    client.post(
        reverse("ecrf:verify_record", args=[subject.study.code, subject.pk]),
        {"target": f"ecrf.adverseevent:{event.pk}:term", "next": url},
    )
    mark = SourceVerification.objects.get()
    assert mark.field_name == "term"
    page = client.get(url).content.decode()
    assert "adverse event Fever · term: verified by" in page
    assert "Not verified" in page  # the form as a whole is not


def test_a_coordinator_who_monitors_another_site_cannot_close_queries_at_their_own(
    client, cast, monitor, coordinator_a, site_b
):
    subject = cast["subject"]
    MembershipFactory(user=coordinator_a, study=subject.study, role=Role.MONITOR, site=site_b)
    query = queries.raise_query(record=cast["visit"], text="Date?", by=monitor)
    signed_in(client, coordinator_a)
    url = reverse("ecrf:query_detail", args=[subject.study.code, query.pk])
    assert client.post(url, {"action": "close"}).status_code == 403
    query.refresh_from_db()
    assert query.state == QueryState.OPEN


def test_an_empty_answer_is_refused_on_the_field_not_a_server_error(client, cast, monitor, coordinator_a):
    query = queries.raise_query(record=cast["visit"], text="Date?", by=monitor)
    signed_in(client, coordinator_a)
    url = reverse("ecrf:query_detail", args=[cast["subject"].study.code, query.pk])
    response = client.post(url, {"action": "answer", "text": "   "})
    assert response.status_code == 400
    assert "Write the answer." in response.content.decode()


def test_a_record_number_in_another_script_is_not_found(client, cast, monitor):
    signed_in(client, monitor)
    url = reverse("ecrf:raise_query", args=[cast["subject"].study.code, cast["subject"].pk])
    assert client.post(url, {"target": "ecrf.visit:²:", "text": "?"}).status_code == 404


def test_a_site_data_manager_cannot_lock_the_whole_study(client, cast, data_manager, coordinator_b, site_b):
    subject = cast["subject"]
    local = MembershipFactory(role=Role.DATA_MANAGER, study=subject.study, site=site_b).user
    signed_in(client, local)
    response = client.post(reverse("ecrf:study_lock", args=[subject.study.code]), {"action": "lock", "override": "x"})
    assert response.status_code == 403
    assert not DataLock.objects.exists()


def test_a_resubmitted_lock_form_never_unlocks_the_study(client, cast, data_manager):
    signed_in(client, data_manager)
    url = reverse("ecrf:study_lock", args=[cast["subject"].study.code])
    assert client.post(url, {"action": "lock", "override": "Sponsor decision"}).status_code == 302
    again = client.post(url, {"action": "lock", "override": "Sponsor decision", "reason": "Final"})
    assert again.status_code == 400
    assert DataLock.objects.get().is_standing
