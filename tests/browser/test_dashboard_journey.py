"""An investigator reads the DLC dashboard in the browser: one Kaplan-Meier curve per arm, the numbers at risk the
engine computed, downloads of each kind; a coordinator sees their site's operational panels only; a user of another
study finds nothing."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from analysis.figures.survival import at_risk, at_risk_times
from analysis.live import cached_report
from ecrf.models import Site, Study
from ecrf.roles import Role
from tests.browser.test_login_journey import DEMO_PASSWORD, sign_in
from tests.conftest import run_queued_tasks
from tests.factories import MembershipFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_study(transactional_db, settings):
    settings.DEMO_MODE = True
    call_command("seed_demo")
    run_queued_tasks()  # the task worker `make run` starts beside the server computes the analyses
    return Study.objects.get(code="DLC")


def test_investigator_reads_survival_with_the_engines_numbers_at_risk(page, live_server, demo_study, tmp_path):
    sign_in(page, live_server, "investigator", DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile(r"^DLC")).click()
    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.get_by_role("heading", name=re.compile("DLC dashboard"))).to_be_visible()
    expect(page.get_by_test_id("as-of")).to_contain_text("as of")
    page.get_by_role("link", name="Survival", exact=True).click()
    km = page.locator("#figure-km svg")
    expect(km).to_have_attribute("role", "img")
    expect(km.locator("g[id^='km-curve-']")).to_have_count(2)
    shown = [text.strip() for text in km.locator("text").all_text_contents()]
    section = cached_report(demo_study).report["overall_survival"]["kaplan_meier"]
    for arm in section:
        for count in at_risk(arm, at_risk_times(section)):
            assert str(count) in shown
    page.screenshot(path=tmp_path / "survival.png", full_page=True)
    page.emulate_media(media="print")
    expect(page.locator(".print-footer")).to_contain_text("results as of")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.emulate_media(media="screen")

    figure = page.locator("#figure-km")
    with page.expect_download() as svg:
        figure.get_by_role("link", name="SVG").click()
    assert ET.parse(svg.value.path()).getroot().tag.endswith("svg")  # noqa: S314 -- our own output
    for kind, magic in (("PNG", b"\x89PNG"), ("PDF", b"%PDF-")):
        with page.expect_download() as download:
            figure.get_by_role("link", name=kind).click()
        with open(download.value.path(), "rb") as file:
            assert file.read(5).startswith(magic)


def test_coordinator_sees_only_their_sites_operational_panels(page, live_server, demo_study):
    sign_in(page, live_server, "coordinator", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/studies/DLC/dashboard/")
    expect(page.get_by_test_id("as-of")).to_contain_text("for your site BJ-5MC")
    expect(page.get_by_role("link", name="Survival", exact=True)).to_have_count(0)
    expect(page.locator("#table-completeness")).to_be_visible()
    expect(page.get_by_text("Control (conventional treatment)")).to_have_count(0)
    response = page.goto(f"{live_server.url}/studies/DLC/dashboard/survival/")
    assert response.status == 403


def test_a_user_of_another_study_gets_404(page, live_server, demo_data):  # no subjects needed: a 404
    user = get_user_model().objects.create_user("aclf-only", password="another-study-2026")
    MembershipFactory(
        user=user, study=Study.objects.get(code="ACLF"), role=Role.INVESTIGATOR, site=Site.objects.first()
    )
    sign_in(page, live_server, "aclf-only", "another-study-2026")
    response = page.goto(f"{live_server.url}/studies/DLC/dashboard/")
    assert response.status == 404
