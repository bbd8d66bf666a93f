"""A demo coordinator signs in at the real login page, sees their study and site, and signs out."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "ucmsc-demo-2026"


def sign_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_demo_coordinator_signs_in_and_sees_their_study_and_site(page, live_server, demo_data):
    sign_in(page, live_server, "coordinator", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="My studies")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("DLC · UC-MSC in HBV-related decompensated"))).to_be_visible()
    expect(page.get_by_role("link", name="BJ-5MC · Fifth Medical Center (demo)").first).to_be_visible()
    page.get_by_role("link", name="BJ-5MC · Fifth Medical Center (demo)").first.click()
    expect(page.get_by_role("heading", name="Fifth Medical Center (demo)")).to_be_visible()
    expect(page.get_by_role("cell", name="Ming Wang")).to_be_visible()


def test_wrong_password_shows_an_error_and_stays_on_the_login_page(page, live_server, demo_data):
    sign_in(page, live_server, "coordinator", "not-the-password")
    expect(page.get_by_text("The username or password is not correct")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_label("Username")).to_have_value("coordinator")


def test_sign_out_ends_the_session(page, live_server, demo_data):
    sign_in(page, live_server, "coordinator", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/"))


def test_data_manager_reaches_the_study_team_from_the_menu_with_a_skip_link_first(page, live_server, demo_data):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, "datamanager", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="My studies")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.get_by_role("button", name=re.compile("^DLC")).click()
    page.get_by_role("link", name="Study team").click()
    expect(page.get_by_role("heading", name=re.compile("DLC study team"))).to_be_visible()
    page.screenshot(path="test-results/study-team-1280.png", full_page=True)
