"""Monitoring, clicked through the real pages: a monitor queries a lab value, the coordinator corrects it with a
reason, the monitor closes the query and verifies the panel, the data manager locks the subject, and the
coordinator can no longer change it."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from ecrf.models import DataLock, DataQuery, LabValue, QueryState, Site, SourceVerification, Study
from ecrf.services import labs, subjects, visits
from tests.browser.clock import journey_clock
from tests.browser.test_login_journey import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
CODE = "DLC-BJ-5MC-901"


@pytest.fixture
def screened_with_labs(demo_data):
    """A consented DLC subject whose screening visit and liver panel the coordinator has entered."""
    coordinator = get_user_model().objects.get(username="coordinator")
    now = journey_clock()
    subject = subjects.register_subject(
        study=Study.objects.get(code="DLC"),
        site=Site.objects.get(code="BJ-5MC"),
        subject_code=CODE,
        screening_date=now.date(),
        sex="male",
        age_years=50,
        by=coordinator,
    )
    subjects.record_consent(subject, consent_date=now.date(), consent_version="ICF 1.0", by=coordinator)
    scr = subject.visits.get(definition__code="SCR")
    visits.record_visit(scr, actual_date=now.date(), by=coordinator)
    labs.record_lab_draw(
        visit=scr,
        drawn_at=now - timedelta(hours=1),
        values={"TBIL": "30", "CREA": "80", "INR": "1.3", "NA": "138", "ALB": "35"},
        by=coordinator,
    )
    return subject


def open_panel(page, live_server, subject):
    page.goto(f"{live_server.url}/studies/DLC/subjects/{subject.pk}/visits/SCR/labs/")


def test_monitor_queries_a_lab_value_the_site_corrects_it_and_the_data_manager_locks(
    page, live_server, screened_with_labs
):
    subject = screened_with_labs
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # The monitor reviews the panel and raises a query on the bilirubin.
    sign_in(page, live_server, "monitor", DEMO_PASSWORD)
    open_panel(page, live_server, subject)
    page.get_by_text("Raise a query").click()
    page.get_by_label("Query on", exact=True).select_option(label="Total bilirubin (TBIL) value")
    page.get_by_label("Question for the site").fill("The lab report reads 31 umol/L.")
    page.get_by_role("button", name="Raise the query").click()
    expect(page.get_by_test_id("queried-TBIL")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "monitoring-form-with-query.png", full_page=True)
    page.get_by_role("button", name="Sign out").click()

    # The coordinator finds it on the subject page, opens the form from the query and corrects the value.
    sign_in(page, live_server, "coordinator", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/studies/DLC/subjects/{subject.pk}/")
    page.get_by_test_id("subject-open-queries").get_by_role("link").click()
    page.get_by_test_id("open-form").click()
    page.locator("#id_value_TBIL").fill("31")
    page.get_by_label("Reason for the change").fill("Transcription error, lab report p. 1")
    page.get_by_role("button", name="Save results").click()
    expect(page.get_by_test_id("subject-status")).to_be_visible()
    query = DataQuery.objects.get()
    assert query.state == QueryState.ANSWERED
    page.get_by_role("button", name="Sign out").click()

    # The monitor reads the correction in the thread, closes the query and verifies the panel.
    sign_in(page, live_server, "monitor", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/studies/DLC/queries/")
    page.screenshot(path=SCREENSHOTS / "monitoring-query-list.png", full_page=True)
    page.get_by_role("link", name=str(query.pk), exact=True).click()
    expect(page.get_by_test_id("thread")).to_contain_text("Transcription error, lab report p. 1")
    page.get_by_role("button", name="Close the query").click()
    expect(page.get_by_test_id("query-state")).to_have_text("Closed")
    page.get_by_test_id("open-form").click()
    page.get_by_test_id("verify").click()
    expect(page.get_by_test_id("verification-state")).to_contain_text("Verified")
    assert SourceVerification.objects.filter(cleared_at__isnull=True).count() == 1
    page.get_by_role("button", name="Sign out").click()

    # The data manager locks the subject (not clean yet: the visit is unsigned, so an override is stated).
    sign_in(page, live_server, "datamanager", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/studies/DLC/subjects/{subject.pk}/")
    page.get_by_label("Override (data not clean): why lock now").fill("Interim safety review cut")
    page.get_by_test_id("lock-subject").click()
    expect(page.get_by_test_id("subject-locked")).to_be_visible()
    page.goto(f"{live_server.url}/studies/DLC/audit/?subject={CODE}&form=ecrf.labvalue")
    expect(page.get_by_test_id("audit-rows")).to_contain_text("Transcription error, lab report p. 1")
    page.screenshot(path=SCREENSHOTS / "monitoring-audit-trail.png", full_page=True)
    page.get_by_role("button", name="Sign out").click()

    # The coordinator can no longer change the panel.
    sign_in(page, live_server, "coordinator", DEMO_PASSWORD)
    open_panel(page, live_server, subject)
    expect(page.get_by_test_id("locked-banner")).to_be_visible()
    expect(page.get_by_role("button", name="Save results")).to_have_count(0)
    expect(page.locator("#id_value_TBIL")).to_be_disabled()
    assert DataLock.objects.get().subject == subject
    assert LabValue.objects.get(draw__visit__subject=subject, analyte__code="TBIL").value == 31
