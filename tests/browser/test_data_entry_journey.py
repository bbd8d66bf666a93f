"""A coordinator's day with a new DLC subject, clicked through the real pages, then the investigator's signature
(refused for a visit with a form missing, given to a complete one)."""

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from ecrf.models import RandomisationSlot, Study, Visit, VisitStatus
from ecrf.services import randomisation
from tests.browser.clock import journey_clock
from tests.browser.test_login_journey import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.browser
STRATUM = "meld:le15|site:BJ-5MC"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


@pytest.fixture
def list_starting_with_ucmsc(demo_data):
    """A DLC list whose first slot in the subject's stratum gives UC-MSC, so the journey includes an infusion."""
    study, manager = Study.objects.get(code="DLC"), get_user_model().objects.get(username="datamanager")
    for n in range(1, 50):  # fixed secrets keep the journey reproducible
        made = randomisation.generate_list(study=study, secret=bytes([n]) * 32, slots_per_stratum=10, by=manager)
        if RandomisationSlot.objects.get(list=made, stratum=STRATUM, sequence=1).arm.code == "UCMSC":
            return made
    raise AssertionError("no secret tried starts the stratum with UC-MSC")


def local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def fill_labs(page, values: dict[str, str]):
    for code, value in values.items():
        page.locator(f"#id_value_{code}").fill(value)
    page.get_by_role("button", name="Save results").click()


def expect_next_step(page, live_server, text):
    """The site worklist's next step for the journey's subject."""
    page.goto(f"{live_server.url}/studies/DLC/sites/BJ-5MC/?q=777")
    expect(page.get_by_test_id("next-step-DLC-BJ-5MC-777")).to_have_text(text)


def test_coordinator_enters_a_subject_from_screening_to_a_signed_visit(page, live_server, list_starting_with_ucmsc):
    now = journey_clock()
    today = now.date().isoformat()
    sign_in(page, live_server, "coordinator", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/studies/DLC/sites/BJ-5MC/")

    # Screening: register, consent, eligibility checklist.
    page.get_by_role("link", name="Register a subject").click()
    page.get_by_label("Subject code").fill("DLC-BJ-5MC-777")
    page.get_by_label("Screening date").fill(today)
    page.get_by_label("Male", exact=True).check()
    page.get_by_label("Age (years)").fill("51")
    page.get_by_role("button", name="Register subject").click()
    expect(page.get_by_test_id("subject-status")).to_have_text("Screened")
    subject_page = page.url
    expect_next_step(page, live_server, "Record consent")
    page.goto(subject_page)
    page.get_by_role("link", name="Record consent").click()
    page.get_by_label("Consent date").fill(today)
    page.get_by_label("Consent form version").fill("ICF 1.0")
    page.get_by_role("button", name="Record consent").click()
    expect_next_step(page, live_server, "Complete the eligibility checklist")
    page.goto(subject_page)
    page.get_by_role("link", name="Eligibility checklist").click()
    for radio in page.locator("input[type=radio]").all():
        name, value = radio.get_attribute("name"), radio.get_attribute("value")
        if (name.startswith("INC") and value == "yes") or (name.startswith("EXC") and value == "no"):
            radio.check()
    page.get_by_role("button", name="Save checklist").click()
    expect(page.get_by_test_id("subject-status")).to_have_text("Eligible")

    # Screening visit and labs give the MELD stratum; then randomise.
    page.get_by_role("row", name=re.compile("^SCR")).get_by_role("link", name="Visit").click()
    page.get_by_label("Visit date").fill(today)
    page.get_by_role("button", name="Save visit").click()
    page.get_by_role("row", name=re.compile("^SCR")).get_by_role("link", name="Labs").click()
    page.get_by_label("Drawn at").fill(local(now - timedelta(hours=3)))
    fill_labs(page, {"TBIL": "30.5", "CREA": "80", "INR": "1.30", "ALB": "31", "PTA": "80", "CHE": "1900", "NA": "140"})
    page.get_by_role("row", name=re.compile("^SCR")).get_by_role("link", name="Status").click()
    page.get_by_label("Assessed on").fill(today)
    page.get_by_label("Mild", exact=True).check()
    page.get_by_label("Hepatic encephalopathy (West Haven)").select_option("0")
    page.get_by_role("button", name="Save clinical status").click()
    page.get_by_role("link", name="Randomise").click()
    expect(page.get_by_test_id("stratum")).to_have_text("baseline MELD ≤ 15, site BJ-5MC")
    page.get_by_role("button", name="Randomise now").click()
    expect(page.get_by_test_id("allocation")).to_contain_text(re.compile(r"UC-MSC.*randomisation code DLC-\w{6}"))

    # Week 0: the visit, its liver panel, the first infusion.
    w0 = page.get_by_role("row", name=re.compile("^W0"))
    w0.get_by_role("link", name="Visit").click()
    page.get_by_label("Visit date").fill(today)
    page.get_by_label("Weight (kg)").fill("64.0")
    page.get_by_role("button", name="Save visit").click()
    page.get_by_role("row", name=re.compile("^W0")).get_by_role("link", name="Labs").click()
    page.get_by_label("Drawn at").fill(local(now - timedelta(hours=2)))
    fill_labs(page, {"ALB": "31", "TBIL": "30.5", "INR": "1.30", "CREA": "80"})
    page.get_by_role("row", name=re.compile("^W0")).get_by_role("link", name="Infusion 1").click()
    page.get_by_label("Infusion started at").fill(local(now - timedelta(hours=1)))
    page.get_by_label("Product lot").fill("UC-26-0415")
    page.get_by_label("Passage").fill("4")
    page.get_by_label("Total cells").fill("9.6e7")  # three times the planned 3.2e7 at 64 kg
    for marker in ("CD44", "CD73", "CD90", "CD105"):
        page.get_by_label(f"{marker} positive (%)").fill("98.5")
    for marker in ("CD31", "CD34", "CD45", "HLA-DR"):
        page.get_by_label(f"{marker} positive (%)").fill("0.4")
    for check in ("Mycoplasma: negative", "Bacteria (gram-positive and gram-negative): negative", "Fungi: negative"):
        page.get_by_label(check).check()
    page.get_by_label("Endotoxin (EU/kg)").fill("0.8")
    page.get_by_label("Viability (%)").fill("93")
    page.get_by_role("button", name="Record infusion").click()

    # A dose three times the protocol's is refused on the cells, then given with a dose deviation.
    expect(page.get_by_label("Total cells")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#div_id_total_cells")).to_contain_text(
        "1.50 × 10⁶ cells/kg is outside the protocol's 0.40–0.60 × 10⁶ cells/kg (0.5 × 10⁶ ± 20 %)"
    )
    page.get_by_label("Dose deviation (reason)").fill("PD-04: whole bag given, PI informed")
    page.get_by_role("button", name="Record infusion").click()
    expect(page.get_by_role("status")).to_contain_text("Infusion 1 of DLC-BJ-5MC-777 recorded.")
    page.get_by_role("row", name=re.compile("^W0")).get_by_role("link", name="Infusion 1").click()
    given = page.get_by_test_id("infusion-given")
    expect(given).to_have_class(re.compile("alert-warning"))
    expect(given).to_contain_text("Dose deviation: PD-04: whole bag given, PI informed")
    page.get_by_role("link", name=re.compile("DLC-BJ-5MC-777")).first.click()

    # Week 4 dated four weeks ahead (in its window, but in the future) is refused on the date; nothing is saved.
    w4 = Visit.objects.get(subject__subject_code="DLC-BJ-5MC-777", definition__code="W4")
    saves_before = w4.history.count()
    page.get_by_role("row", name=re.compile(r"^W4\b")).get_by_role("link", name="Visit").click()
    ahead = (now + timedelta(weeks=4)).date().isoformat()
    page.get_by_label("Visit date").fill(ahead)
    page.get_by_label("Weight (kg)").fill("63.5")
    page.get_by_role("button", name="Save visit").click()
    expect(page.get_by_label("Visit date")).to_have_class(re.compile("is-invalid"))
    expect(page.get_by_label("Visit date")).to_have_value(ahead)
    expect(page.locator("#div_id_actual_date")).to_contain_text(re.compile(r"The date must be between \S+ and today"))
    w4.refresh_from_db()
    assert (w4.status, w4.actual_date, w4.weight_kg) == (VisitStatus.PLANNED, None, None)
    assert w4.history.count() == saves_before
    page.get_by_role("link", name=re.compile("DLC-BJ-5MC-777")).first.click()
    expect(page.get_by_role("row", name=re.compile(r"^W4\b"))).not_to_contain_text("Done")

    # Week 12 labs with a value out of range: flagged when the panel is reopened.
    page.get_by_role("row", name=re.compile("^W12")).get_by_role("link", name="Labs").click()
    page.get_by_label("Drawn at").fill(local(now - timedelta(minutes=50)))
    fill_labs(page, {"TBIL": "45.0", "ALB": "30", "INR": "1.25", "CREA": "78"})
    page.get_by_role("row", name=re.compile("^W12")).get_by_role("link", name="Labs").click()
    expect(page.get_by_test_id("flag-TBIL")).to_contain_text("above range")
    page.screenshot(path=SCREENSHOTS / "lab-panel.png", full_page=True)

    # The fever after the infusion.
    page.get_by_role("link", name=re.compile("DLC-BJ-5MC-777")).first.click()
    page.get_by_role("link", name="Add adverse event").click()
    page.get_by_label("CTCAE v5 term").fill("Fever")
    page.get_by_label("Onset at").fill(local(now - timedelta(minutes=30)))
    page.get_by_label("CTCAE grade").select_option("1")
    page.get_by_label("Relatedness").select_option("probable")
    page.get_by_label("Outcome").select_option("recovering")
    page.get_by_label("Related infusion, if any").select_option(index=1)
    page.get_by_role("button", name="Record adverse event").click()
    expect(page.get_by_role("cell", name="Fever")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "subject.png", full_page=True)

    # Correct a W0 value with a reason, and read it in the history.
    page.get_by_role("row", name=re.compile("^W0")).get_by_role("link", name="Labs").click()
    page.locator("#id_value_TBIL").fill("35.0")
    page.get_by_label("Reason for the change").fill("Report re-read: 35.0")
    page.get_by_role("button", name="Save results").click()
    page.get_by_role("row", name=re.compile("^W0")).get_by_role("link", name="Labs").click()
    page.get_by_role("link", name="History of changes").click()
    page.screenshot(path=SCREENSHOTS / "lab-history.png", full_page=True)
    expect(page.get_by_role("row", name=re.compile("Total bilirubin 30.5 35.0 Report re-read"))).to_be_visible()
    subject_url = page.url.split("/visits/")[0] + "/"
    page.get_by_role("button", name="Sign out").click()

    # Week 0 has no clinical status yet: its sign page shows the values and what is missing, and cannot sign.
    sign_in(page, live_server, "investigator", DEMO_PASSWORD)
    page.goto(subject_url)
    page.get_by_role("row", name=re.compile("^W0")).get_by_role("link", name="Sign").click()
    expect(page.get_by_test_id("review-labs")).to_contain_text("35.0")
    expect(page.get_by_test_id("missing")).to_contain_text("clinical status not started")
    expect(page.get_by_role("button", name="Sign", exact=True)).to_have_count(0)

    # The investigator signs the complete screening visit from the subject's sign-several page instead.
    page.goto(subject_url)
    page.get_by_role("link", name="Sign visits").click()
    expect(page.get_by_label(re.compile("^W0"))).to_be_disabled()
    expect(page.get_by_test_id("candidate-W0")).to_contain_text("clinical status not started")
    expect(page.get_by_test_id("meaning")).to_contain_text("accurate and complete")
    page.get_by_label(re.compile("^SCR")).check()
    page.get_by_label(re.compile("Your password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign the chosen visits").click()
    expect(page.get_by_test_id("signed-SCR")).to_be_visible()
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet held upright
    page.screenshot(path=SCREENSHOTS / "subject-signed-tablet.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, "coordinator", DEMO_PASSWORD)
    page.goto(subject_url)
    page.get_by_role("row", name=re.compile("^SCR")).get_by_role("link", name="Labs").click()
    expect(page.get_by_test_id("signed-banner")).to_be_visible()
    expect(page.get_by_role("button", name="Save results")).to_have_count(0)

    # What is still owed on the subject shows on the site worklist's "open issues" filter.
    page.goto(f"{live_server.url}/studies/DLC/sites/BJ-5MC/")
    page.get_by_label("Show", exact=True).select_option("open_issues")
    page.get_by_role("button", name="Filter").click()
    issues = page.get_by_test_id("issues-DLC-BJ-5MC-777")
    expect(issues).to_contain_text("clinical status missing")  # the first issue, shown without expanding
    expect(page.get_by_test_id("next-step-DLC-BJ-5MC-777")).not_to_be_empty()
    if issues.locator("summary").count():
        issues.locator("summary").click()
    page.screenshot(path=SCREENSHOTS / "worklist-open-issues.png", full_page=True)
