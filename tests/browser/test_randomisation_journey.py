"""A coordinator randomises an eligible, consented subject and sees code and arm; an ineligible one is refused."""

import re
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from ecrf.models import Site, Study
from ecrf.services import labs, randomisation, subjects
from tests.browser.test_login_journey import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.browser


def screened_subject(code, *, diabetic=False):
    """A DLC subject at BJ-5MC with consent, the eligibility checklist and screening labs, as entered at the site."""
    coordinator = get_user_model().objects.get(username="coordinator")
    study = Study.objects.get(code="DLC")
    subject = subjects.register_subject(
        study=study,
        site=Site.objects.get(code="BJ-5MC"),
        subject_code=code,
        screening_date=date(2026, 11, 2),
        sex="male",
        age_years=52,
        by=coordinator,
    )
    subjects.record_consent(subject, consent_date=date(2026, 11, 2), consent_version="ICF 1.0", by=coordinator)
    answers = {c.code: c.qualifying_answer for c in subject.protocol.eligibility_criteria.all()}
    answers["EXC07"] = diabetic  # diabetes mellitus excludes
    subjects.record_eligibility(subject, answers=answers, by=coordinator)
    screening = subject.visits.get(definition__code="SCR")
    labs.record_lab_draw(
        visit=screening,
        drawn_at=datetime(2026, 11, 2, 8, tzinfo=UTC),
        values={"TBIL": "30.5", "CREA": "80", "INR": "1.3"},
        by=coordinator,
    )
    labs.record_clinical_status(
        visit=screening,
        assessed_on=date(2026, 11, 2),
        ascites="mild",
        encephalopathy_grade=0,
        dialysis_past_week=False,
        by=coordinator,
    )
    return subject


@pytest.fixture
def dlc_list(demo_data):
    randomisation.generate_list(
        study=Study.objects.get(code="DLC"),
        slots_per_stratum=20,
        by=get_user_model().objects.get(username="datamanager"),
    )


def test_coordinator_randomises_an_eligible_consented_subject(page, live_server, dlc_list, tmp_path):
    screened_subject("DLC-BJ-5MC-901")
    sign_in(page, live_server, "coordinator", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/studies/DLC/sites/BJ-5MC/")
    page.get_by_role("link", name="DLC-BJ-5MC-901").click()
    page.get_by_role("link", name="Randomise").click()
    expect(page.get_by_test_id("stratum")).to_have_text("baseline MELD ≤ 15, site BJ-5MC")
    page.screenshot(path=tmp_path / "randomise-confirm.png", full_page=True)
    page.get_by_role("button", name="Randomise now").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"DLC-BJ-5MC-901 randomised: code DLC-\w{6}, arm "))
    expect(page.get_by_test_id("allocation")).to_contain_text(re.compile(r"randomisation code DLC-\w{6}"))
    expect(page.get_by_test_id("subject-status")).to_have_text("Allocated")


def test_an_ineligible_subject_is_refused_with_the_reason(page, live_server, dlc_list):
    screened_subject("DLC-BJ-5MC-902", diabetic=True)
    sign_in(page, live_server, "coordinator", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/studies/DLC/sites/BJ-5MC/")
    page.get_by_role("link", name="DLC-BJ-5MC-902").click()
    page.get_by_role("link", name="Randomise").click()
    expect(page.get_by_test_id("randomisation-refused")).to_contain_text("not eligible: EXC07 Diabetes mellitus")
    expect(page.get_by_role("button", name="Randomise now")).to_have_count(0)
