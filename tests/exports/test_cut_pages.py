"""Data cuts from the browser's side: declared and exported on the export page, shown on the dashboards."""

import io
import json
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from analysis.frozen import stored_report
from analysis.models import DataCut
from ecrf.roles import Role
from ecrf.services import subjects
from exports.cuts import declare_cut
from exports.models import ExportJob
from tests.conftest import run_queued_tasks
from tests.factories import MembershipFactory

# The task worker closes a connection left inside a transaction (close_old_connections), as a test's own would be:
# these tests commit, and the database is flushed after each.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path / "exports"


@pytest.fixture
def manager(client, trial_data, data_manager, coordinator_a, site_a):
    MembershipFactory(user=data_manager, study=trial_data, role=Role.DATA_MANAGER, site=None)
    MembershipFactory(user=coordinator_a, study=trial_data, role=Role.COORDINATOR, site=site_a)
    client.force_login(data_manager)
    return client


def work() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO())


def page(study):
    return reverse("exports:page", args=[study.code])


def test_a_cut_declared_on_the_page_is_frozen_by_the_worker_and_listed(manager, trial_data, data_manager):
    response = manager.post(page(trial_data), {"declare_cut": "1", "label": "Interim analysis 1"})
    assert response.status_code == 302
    work()
    cut = DataCut.objects.get()
    assert (cut.label, cut.declared_by) == ("Interim analysis 1", data_manager)
    assert ExportJob.objects.get().cut == 1
    listing = manager.get(page(trial_data)).content.decode()
    assert cut.report_sha256 in listing
    assert f"{reverse('analysis:dashboard', args=[trial_data.code])}?cut=1" in listing


def test_a_cut_without_a_label_is_refused_on_its_field(manager, trial_data):
    response = manager.post(page(trial_data), {"declare_cut": "1", "label": ""})
    assert response.status_code == 400
    assert response.context["cut_form"].errors["label"]
    assert not ExportJob.objects.exists()


def test_the_page_exports_a_cut_chosen_from_the_list(manager, trial_data, data_manager):
    declare_cut(trial_data, label="Interim", by=data_manager)
    manager.post(page(trial_data), {"format": "xlsx", "cut": "1"})
    work()
    job = ExportJob.objects.get()
    assert job.status == "done"
    assert job.log.cut == 1
    assert "xlsx-cut1" in job.log.file_name


def test_a_cut_not_in_the_list_is_refused(manager, trial_data):
    response = manager.post(page(trial_data), {"format": "csv", "cut": "4"})
    assert response.status_code == 400
    assert "4 is not one of the available choices" in response.context["form"].errors["cut"][0]


def test_the_dashboard_of_a_cut_shows_the_frozen_report_after_a_correction(manager, trial_data, coordinator_a):
    cut = declare_cut(trial_data, label="Interim")
    subject = trial_data.subjects.get(subject_code="001")
    subjects.record_death(subject, death_date=date(2021, 6, 1), cause="Liver failure", by=coordinator_a)
    run_queued_tasks()
    url = reverse("analysis:report_json", args=[trial_data.code])
    frozen = manager.get(f"{url}?cut=1").json()
    assert frozen == json.loads(stored_report(cut)[0])
    assert manager.get(url).json()["overall_survival"] != frozen["overall_survival"]


def test_the_cut_dashboard_says_it_is_a_cut_and_keeps_to_it_across_tabs(manager, trial_data):
    declare_cut(trial_data, label="Interim analysis 1")
    body = manager.get(reverse("analysis:survival", args=[trial_data.code]) + "?cut=1").content.decode()
    assert "Data cut 1 (Interim analysis 1)" in body
    assert f"{reverse('analysis:safety', args=[trial_data.code])}?cut=1" in body
    assert f"{reverse('analysis:figure', args=[trial_data.code, 'km', 'svg'])}?cut=1" in body


@pytest.mark.parametrize("number", ["2", "x", "99999999999"])
def test_an_unknown_cut_is_404(manager, trial_data, number):
    declare_cut(trial_data, label="Interim")
    assert manager.get(reverse("analysis:survival", args=[trial_data.code]) + f"?cut={number}").status_code == 404
