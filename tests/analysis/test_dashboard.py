"""The study dashboard against the records: who sees which panel, numbers equal to the engine's, the cache that a
write invalidates in its own transaction, downloads of every kind, and query counts that do not grow."""

import io
import json
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from analysis import live
from analysis.live import cached_report
from analysis.models import StudyReport
from ecrf.models import StudyDataVersion
from ecrf.roles import Role
from ecrf.services import subjects
from ecrf.services.protocols import load_protocol
from tests.conftest import run_queued_tasks
from tests.ecrf.protocol_fixture import PROTOCOL, changed
from tests.factories import MembershipFactory, StudySiteFactory

pytestmark = pytest.mark.django_db
ARM_PAGES = ("analysis:survival", "analysis:labs", "analysis:safety", "analysis:baseline", "analysis:report_json")


@pytest.fixture
def members(coordinator_a, investigator_a, monitor, data_manager, site_a):
    """The cast's site A staff and study-wide roles, members of the study given too."""

    def join(study):
        for user, role, site in (
            (coordinator_a, Role.COORDINATOR, site_a),
            (investigator_a, Role.INVESTIGATOR, site_a),
            (monitor, Role.MONITOR, None),
            (data_manager, Role.DATA_MANAGER, None),
        ):
            MembershipFactory(user=user, study=study, role=role, site=site)

    return join


@pytest.fixture
def trial(protocol, new_subject, coordinator_a, members):
    """Four subjects of TRIAL allocated in pairs to Active and Control on 2021-01-04; the second (control) died."""
    members(protocol.study)
    made = build_trial(protocol, new_subject, coordinator_a, count=4)
    run_queued_tasks()  # the task worker computes the analysis the writes queued
    return made


def build_trial(protocol, new_subject, by, *, count):
    arms = [protocol.arms.get(code="A"), protocol.arms.get(code="C")]
    made = []
    for n in range(count):
        subject = new_subject(f"{n + 1:03d}", consented=True)
        subjects.assign_arm(subject, arm=arms[n % 2], allocation_date=date(2021, 1, 4), reason="Design", by=by)
        made.append(subject)
    subjects.record_death(made[1], death_date=date(2021, 2, 1), cause="Liver failure", by=by)
    return made


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def version(study) -> int:
    return StudyDataVersion.objects.get(study=study).version


def test_every_audited_write_raises_its_study_data_version(trial, coordinator_a):
    before = version(trial[0].study)
    subjects.record_death(trial[3], death_date=date(2021, 3, 1), cause="Sepsis", by=coordinator_a)
    assert version(trial[0].study) > before


def test_a_second_read_is_served_from_the_cache(trial):
    StudyReport.objects.all().delete()  # the worker's result of the fixture's writes
    first = cached_report(trial[0].study)
    second = cached_report(trial[0].study)
    assert (first.warm, second.warm) == (False, True)
    assert second.report == first.report
    assert second.computed_at == first.computed_at


def test_a_death_invalidates_the_cache_and_changes_the_survival_panel(trial, investigator_a, coordinator_a, signed_in):
    client = signed_in(investigator_a)
    url = reverse("analysis:survival", args=["TRIAL"])
    deaths = _survival_deaths(client.get(url))
    subjects.record_death(trial[3], death_date=date(2021, 3, 1), cause="Sepsis", by=coordinator_a)
    response = client.get(url)  # the old result, said to be updating: the page never computes
    assert _survival_deaths(response) == deaths
    assert 'data-testid="analysis-updating"' in response.content.decode()
    run_queued_tasks()
    response = client.get(url)
    assert _survival_deaths(response) == {arm: n + (arm == "Control") for arm, n in deaths.items()}  # 004 is a control
    assert 'data-testid="analysis-updating"' not in response.content.decode()
    assert "Served from the cache (current: no change since)" in response.content.decode()


def test_a_write_queues_one_recomputation_however_many_rows_it_changes(trial, coordinator_a):
    study = trial[0].study
    queued = DBTaskResult.objects.filter(task_path="analysis.tasks.refresh_report", status="READY")
    assert not queued.exists()
    subjects.record_death(trial[3], death_date=date(2021, 3, 1), cause="Sepsis", by=coordinator_a)
    subjects.record_death(trial[2], death_date=date(2021, 3, 2), cause="Sepsis", by=coordinator_a)
    assert queued.count() == 1
    assert StudyDataVersion.objects.get(study=study).refresh_queued_at is not None
    run_queued_tasks()
    assert StudyDataVersion.objects.get(study=study).refresh_queued_at is None
    assert cached_report(study).warm is True  # the worker's result is current


def test_a_rolled_back_write_queues_nothing(trial, coordinator_a):
    queued = DBTaskResult.objects.filter(task_path="analysis.tasks.refresh_report", status="READY")

    def failing_request():
        with transaction.atomic():
            subjects.record_death(trial[3], death_date=date(2021, 3, 1), cause="Sepsis", by=coordinator_a)
            raise RuntimeError("the request failed after the write")

    with pytest.raises(RuntimeError):
        failing_request()
    assert not queued.exists()


def test_a_study_never_analysed_says_its_analysis_is_being_computed(protocol, members, investigator_a, signed_in):
    members(protocol.study)
    client = signed_in(investigator_a)
    response = client.get(reverse("analysis:survival", args=["TRIAL"]))
    assert response.status_code == 200
    assert 'data-testid="analysis-pending"' in response.content.decode()
    assert '<meta http-equiv="refresh"' in response.content.decode()
    download = client.get(reverse("analysis:report_json", args=["TRIAL"]))
    assert (download.status_code, download["Retry-After"]) == (503, "10")
    assert (
        'data-testid="analysis-pending"' in client.get(reverse("analysis:dashboard", args=["TRIAL"])).content.decode()
    )


def test_a_write_during_the_computation_leaves_the_result_stale(trial, coordinator_a, monkeypatch):
    real = live.study_data

    def with_a_write_meanwhile(study):
        subjects.record_death(trial[3], death_date=date(2021, 3, 1), cause="Sepsis", by=coordinator_a)
        return real(study)

    StudyReport.objects.all().delete()
    monkeypatch.setattr(live, "study_data", with_a_write_meanwhile)
    cached_report(trial[0].study)
    monkeypatch.setattr(live, "study_data", real)
    assert cached_report(trial[0].study).warm is False


def test_report_json_is_what_the_command_prints(trial, investigator_a, signed_in):
    served = signed_in(investigator_a).get(reverse("analysis:report_json", args=["TRIAL"])).json()
    out = io.StringIO()
    call_command("analysis_report", study="TRIAL", as_json=True, stdout=out)
    assert served == json.loads(out.getvalue())


@pytest.mark.parametrize("page", ["analysis:dashboard", *ARM_PAGES])
def test_dashboard_roles_see_every_panel(trial, page, investigator_a, monitor, data_manager, signed_in):
    for user in (investigator_a, monitor, data_manager):
        assert signed_in(user).get(reverse(page, args=["TRIAL"])).status_code == 200


@pytest.mark.parametrize("page", ARM_PAGES)
def test_a_coordinator_gets_no_comparison_of_arms(trial, page, coordinator_a, signed_in):
    response = signed_in(coordinator_a).get(reverse(page, args=["TRIAL"]))
    assert response.status_code == 403


def test_a_coordinators_overview_shows_their_site_and_no_arm(trial, coordinator_a, signed_in):
    page = signed_in(coordinator_a).get(reverse("analysis:dashboard", args=["TRIAL"])).content.decode()
    assert "for your site SITE-A" in page
    assert "Active" not in page
    assert "Control" not in page
    assert reverse("analysis:survival", args=["TRIAL"]) not in page


def test_a_user_of_another_study_gets_404(trial, outsider, signed_in):
    response = signed_in(outsider).get(reverse("analysis:dashboard", args=["TRIAL"]))
    assert response.status_code == 404


def test_a_blinded_protocol_shows_arms_to_data_managers_only(site_a, investigator_a, data_manager, members, signed_in):
    blinded = changed('design = "non_random"', 'design = "non_random"\nblinded = true', PROTOCOL)
    protocol = load_protocol(blinded, source_name="blinded.toml").protocol
    StudySiteFactory(study=protocol.study, site=site_a)
    members(protocol.study)
    url = reverse("analysis:survival", args=["TRIAL"])
    assert signed_in(investigator_a).get(url).status_code == 403
    assert signed_in(data_manager).get(url).status_code == 200


def test_the_at_risk_table_shows_the_engines_numbers(trial, investigator_a, signed_in):
    page = signed_in(investigator_a).get(reverse("analysis:survival", args=["TRIAL"])).content.decode()
    for arm in cached_report(trial[0].study).report["overall_survival"]["kaplan_meier"]:
        counts = [arm["n"], *[point["at_risk"] for point in arm["at_times"]]]
        row = "".join(f"<td>{n}</td>" for n in counts[1:])
        assert f'<th scope="row">{arm["group"]}</th><td>{counts[0]}</td>{row}' in page


@pytest.mark.parametrize(("fmt", "check"), [("svg", "svg"), ("png", b"\x89PNG"), ("pdf", b"%PDF-")])
def test_figures_download_in_each_format(trial, investigator_a, signed_in, fmt, check):
    response = signed_in(investigator_a).get(reverse("analysis:figure", args=["TRIAL", "km", fmt]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    if fmt == "svg":
        assert ET.fromstring(response.content).tag.endswith("svg")  # noqa: S314 -- our own output
    else:
        assert response.content.startswith(check)


def test_an_unknown_figure_or_format_is_404(trial, investigator_a, signed_in):
    client = signed_in(investigator_a)
    assert client.get(reverse("analysis:figure", args=["TRIAL", "nothing", "svg"])).status_code == 404
    assert client.get(reverse("analysis:figure", args=["TRIAL", "km", "gif"])).status_code == 404


def test_a_coordinator_downloads_the_enrolment_figure_but_not_the_survival_one(trial, coordinator_a, signed_in):
    client = signed_in(coordinator_a)
    assert client.get(reverse("analysis:figure", args=["TRIAL", "enrolment", "svg"])).status_code == 200
    assert client.get(reverse("analysis:figure", args=["TRIAL", "km", "svg"])).status_code == 403


def test_tables_download_as_csv_with_their_columns(trial, investigator_a, signed_in):
    response = signed_in(investigator_a).get(reverse("analysis:table", args=["TRIAL", "at-risk"]))
    lines = response.content.decode("utf-8-sig").splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0].startswith("Arm,0 ")
    assert len(lines) == 3  # the header and one row per arm


@pytest.mark.parametrize("page", ["analysis:dashboard", "analysis:survival", "analysis:labs"])
def test_queries_per_page_do_not_grow_with_the_study(
    page, protocol, new_subject, coordinator_a, investigator_a, members
):
    from django.test import Client

    members(protocol.study)
    build_trial(protocol, new_subject, coordinator_a, count=2)
    client = Client()
    client.force_login(investigator_a)
    url = reverse(page, args=["TRIAL"])
    run_queued_tasks()  # the worker computes the result the page then serves
    client.get(url)  # draws its figures once
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for n in range(3, 9):
        subject = new_subject(f"{n:03d}", consented=True)
        subjects.assign_arm(
            subject,
            arm=protocol.arms.get(code="A"),
            allocation_date=date(2021, 1, 4),
            reason="Design",
            by=coordinator_a,
        )
    run_queued_tasks()
    client.get(url)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large) == len(small)
    assert len(small) <= 25


def _survival_deaths(response) -> dict[str, int]:
    page = response.content.decode()
    deaths = {}
    for arm in ("Active", "Control"):
        start = page.index(f'<th scope="row">{arm}</th>', page.index("table-survival"))
        cells = page[start:].split("<td>")[1:3]
        deaths[arm] = int(cells[1].split("</td>")[0])
    return deaths


def test_a_figure_is_drawn_once_per_report_and_never_joins_a_newer_one(trial, coordinator_a):
    from analysis.live import remember_figure
    from analysis.models import StudyReport

    study = trial[0].study
    old = cached_report(study)
    subjects.record_death(trial[3], death_date=date(2021, 3, 1), cause="Sepsis", by=coordinator_a)
    cached_report(study)  # recomputed: the row now holds the newer report
    remember_figure(study, old, "km", {"svg": "<svg>old numbers</svg>"})
    assert StudyReport.objects.get(study=study).figures == {}


def test_the_survival_page_draws_its_figures_once(trial, investigator_a, signed_in):
    from analysis.models import StudyReport

    client = signed_in(investigator_a)
    first = client.get(reverse("analysis:survival", args=["TRIAL"])).content
    assert set(StudyReport.objects.get(study=trial[0].study).figures) == {"km"}  # TRIAL's plan has no landmark
    assert client.get(reverse("analysis:survival", args=["TRIAL"])).content.count(b"<svg") == first.count(b"<svg")


TRIAL_PLAN = """study = "TRIAL"
version = "1.0"
[[table_one]]
column = "age_years"
label = "Age (years)"
[[table_one]]
column = "sex"
label = "Male"
kind = "binary"
level = "male"
"""


def test_the_baseline_page_shows_table_ones_cells_from_the_report(trial, investigator_a, signed_in):
    from django.utils.html import escape

    from ecrf.services.plans import load_plan

    load_plan(TRIAL_PLAN, source_name="trial-plan.toml")
    url = reverse("analysis:baseline", args=["TRIAL"])
    before = signed_in(investigator_a).get(url).content.decode()  # the result of the old plan, said to be updating
    assert 'data-testid="analysis-updating"' in before
    run_queued_tasks()  # the page queued the recomputation under the new plan
    page = signed_in(investigator_a).get(url).content.decode()
    rows = cached_report(trial[0].study).report["table_one"]["rows"]
    assert [row["label"] for row in rows] == ["Age (years)", "Male"]
    for row in rows:
        assert f'<th scope="row">{escape(row["label"])}</th>' in page
        for cell in row["cells"]:
            assert f"<td>{escape(cell['text'])}</td>" in page


def test_the_safety_page_counts_what_the_report_counts(trial, investigator_a, signed_in):
    from django.utils.html import escape

    page = signed_in(investigator_a).get(reverse("analysis:safety", args=["TRIAL"])).content.decode()
    section = cached_report(trial[0].study).report["adverse_events"]
    assert section["overall"]
    for row in section["overall"]:
        assert f'<th scope="row">{escape(row["label"])}</th>' in page
    assert [f"{group['group']} (n={group['n']})" in page for group in section["groups"]] == [True, True]


def test_each_landmark_of_the_plan_has_its_figure_on_the_survival_page(trial, investigator_a, signed_in):
    from ecrf.services.plans import load_plan

    load_plan('study = "TRIAL"\nversion = "1.0"\ntime_unit = "days"\nsurvival_landmarks = [14]\n', source_name="p.toml")
    client = signed_in(investigator_a)
    client.get(reverse("analysis:survival", args=["TRIAL"]))
    run_queued_tasks()
    page = client.get(reverse("analysis:survival", args=["TRIAL"])).content.decode()
    assert 'id="figure-landmark-14"' in page
    assert "Overall survival from the 14-day landmark" in page
    svg = client.get(reverse("analysis:figure", args=["TRIAL", "landmark-14", "svg"]))
    assert svg.status_code == 200


def test_a_report_cached_by_other_analysis_code_is_recomputed(trial):
    from analysis.models import StudyReport

    cached_report(trial[0].study)
    StudyReport.objects.filter(study=trial[0].study).update(engine_version="an older release")
    assert cached_report(trial[0].study).warm is False


def test_a_study_that_cannot_be_analysed_says_why_instead_of_waiting(site_a, investigator_a, signed_in):
    three_arms = changed(
        "[[eligibility]]", '[[arms]]\ncode = "B"\nlabel = "Other"\nratio = 1\ninfusions = "none"\n\n[[eligibility]]'
    )
    study = load_protocol(three_arms, source_name="three.toml").protocol.study
    StudySiteFactory(study=study, site=site_a)
    MembershipFactory(user=investigator_a, study=study, role=Role.INVESTIGATOR, site=site_a)
    response = signed_in(investigator_a).get(reverse("analysis:survival", args=[study.code]))
    assert response.status_code == 404
    assert "compares two arms" in response.content.decode()
