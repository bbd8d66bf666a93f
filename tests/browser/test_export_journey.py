"""A data manager exports DLC in the browser: queues a de-identified workbook, a task worker writes it, the page
offers it for download; declares a data cut and opens its dashboard. A coordinator is refused the page."""

import io
import re

import openpyxl
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from ecrf.models import Study
from tests.browser.test_login_journey import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.browser
SELF_REFRESH_MS = 15_000  # several of the export page's 3-second refreshes


@pytest.fixture
def demo_study(transactional_db, settings, tmp_path):
    settings.DEMO_MODE = True
    settings.EXPORT_ROOT = tmp_path / "exports"
    call_command("seed_demo")
    return Study.objects.get(code="DLC")


def work() -> None:
    """The task worker `make run` and compose start beside the web server."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO())


def test_data_manager_queues_a_de_identified_workbook_and_downloads_it(page, live_server, demo_study, tmp_path):
    sign_in(page, live_server, "datamanager", DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile(r"^DLC")).click()
    page.get_by_role("link", name="Exports").click()
    expect(page.get_by_role("heading", name=re.compile("DLC exports"))).to_be_visible()
    page.get_by_label("Excel workbook: a sheet per form and the codebook").check()
    page.get_by_label("De-identify").check()
    page.get_by_role("button", name="Queue export").click()
    expect(page.get_by_role("status")).to_contain_text("is queued")
    expect(page.get_by_test_id("jobs")).to_contain_text("Queued")

    work()
    # The page refreshes itself every 3 s while a job is pending (a reload of our own could race that refresh).
    expect(page.get_by_test_id("jobs")).to_contain_text("Ready", timeout=SELF_REFRESH_MS)
    expect(page.get_by_test_id("export-log")).to_contain_text("xlsx")
    with page.expect_download() as download:
        page.get_by_test_id("jobs").get_by_role("link", name=re.compile(r"DLC-xlsx-deidentified")).click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    workbook = openpyxl.load_workbook(saved, read_only=True)
    codes = [row[0] for row in workbook["subjects"].iter_rows(min_row=2, values_only=True)]
    assert len(codes) == demo_study.subjects.count()
    assert all(re.fullmatch(r"P[0-9A-F]{10}", code) for code in codes)
    page.screenshot(path=tmp_path / "exports.png", full_page=True)


def test_data_manager_declares_a_cut_and_opens_its_dashboard(page, live_server, demo_study):
    sign_in(page, live_server, "datamanager", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/studies/DLC/exports/")
    page.get_by_role("textbox", name="What the cut is for").fill("Interim analysis 1")
    page.get_by_role("button", name="Declare cut").click()
    work()
    cuts = page.get_by_test_id("cuts")
    expect(cuts).to_contain_text("Interim analysis 1", timeout=SELF_REFRESH_MS)
    cuts.get_by_role("link", name="Dashboard of cut 1").click()
    expect(page.get_by_test_id("as-of")).to_contain_text("Data cut 1 (Interim analysis 1)")
    page.get_by_role("link", name="Survival", exact=True).click()
    expect(page.get_by_test_id("as-of")).to_contain_text("Data cut 1")
    expect(page.locator("#figure-km svg g[id^='km-curve-']")).to_have_count(2)


def test_a_coordinator_finds_no_export_page(page, live_server, demo_data):  # no subjects needed: a 403
    sign_in(page, live_server, "coordinator", DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile(r"^DLC")).click()
    expect(page.get_by_role("link", name="Exports")).to_have_count(0)
    response = page.goto(f"{live_server.url}/studies/DLC/exports/")
    assert response.status == 403
