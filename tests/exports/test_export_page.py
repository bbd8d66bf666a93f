"""The export page: a data manager queues an export, a task worker writes it, the page offers it for download."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from ecrf.models import ProtocolVersion
from ecrf.roles import Role
from exports.models import ExportJob, ExportLog
from tests.factories import MembershipFactory

# The task worker closes a connection left inside a transaction (close_old_connections), as a test's own would be:
# these tests commit, and the database is flushed after each.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path / "exports"
    return settings.EXPORT_ROOT


@pytest.fixture(autouse=True)
def cast_in_trial(trial_data, site_a, coordinator_a, investigator_a, monitor, data_manager):
    """The cast's roles in the trial of ``trial_data`` too (the cast's own memberships are in another study)."""
    for user, role, site in (
        (coordinator_a, Role.COORDINATOR, site_a),
        (investigator_a, Role.INVESTIGATOR, site_a),
        (monitor, Role.MONITOR, None),
        (data_manager, Role.DATA_MANAGER, None),
    ):
        MembershipFactory(user=user, study=trial_data, role=role, site=site)


def page(study):
    return reverse("exports:page", args=[study.code])


def queue(client, study, fmt="csv", **extra):
    return client.post(page(study), {"format": fmt, **extra})


def work() -> None:
    """What `manage.py db_worker` does in a deployment: run every queued task, then stop."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO())


def test_a_data_manager_queues_an_export_that_waits_for_a_worker(client, trial_data, data_manager):
    client.force_login(data_manager)
    response = queue(client, trial_data)
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.status, job.format, job.requested_by) == ("queued", "csv", data_manager)
    assert DBTaskResult.objects.get(id=job.task_id).status == "READY"
    assert not ExportLog.objects.exists()


def test_the_worker_writes_the_export_and_the_page_offers_it(client, trial_data, data_manager):
    client.force_login(data_manager)
    queue(client, trial_data)
    work()
    job = ExportJob.objects.get()
    assert job.status == "done"
    assert job.log is not None
    listing = client.get(page(trial_data)).content.decode()
    assert reverse("exports:download", args=[trial_data.code, job.pk]) in listing
    assert job.log.sha256 in listing


def test_the_download_is_the_logged_file(client, trial_data, data_manager):
    client.force_login(data_manager)
    queue(client, trial_data)
    work()
    job = ExportJob.objects.get()
    response = client.get(reverse("exports:download", args=[trial_data.code, job.pk]))
    body = b"".join(response.streaming_content)
    assert response["Content-Disposition"].startswith("attachment")
    assert hashlib.sha256(body).hexdigest() == job.log.sha256
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["files"]["subjects.csv"]["rows"] == 2


def test_a_file_changed_on_disk_is_not_served(client, trial_data, data_manager, export_root):
    client.force_login(data_manager)
    queue(client, trial_data)
    work()
    job = ExportJob.objects.get()
    (export_root / job.path).write_bytes(b"tampered")
    assert client.get(reverse("exports:download", args=[trial_data.code, job.pk])).status_code == 404


def test_a_failed_export_says_why_on_the_page(client, trial_data, data_manager, settings, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    settings.EXPORT_ROOT = blocked
    client.force_login(data_manager)
    queue(client, trial_data)
    work()
    job = ExportJob.objects.get()
    assert job.status == "failed"
    assert job.log is None
    assert "could not be written to the export folder (NotADirectoryError)" in job.error
    assert "ask the administrator" in client.get(page(trial_data)).content.decode()


def test_a_format_not_offered_is_refused_on_the_field(client, trial_data, data_manager):
    client.force_login(data_manager)
    response = queue(client, trial_data, fmt="pdf")
    assert response.status_code == 400
    assert "pdf is not one of the available choices" in response.context["form"].errors["format"][0]
    assert not ExportJob.objects.exists()
    assert not DBTaskResult.objects.filter(task_path="exports.tasks.run_export_job").exists()


@pytest.mark.parametrize("role", ["coordinator_a", "investigator_a", "monitor"])
def test_other_roles_cannot_export(client, trial_data, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get(page(trial_data)).status_code == 403
    assert queue(client, trial_data).status_code == 403
    assert not ExportJob.objects.exists()


def test_a_role_the_protocol_grants_may_export(client, trial_data, investigator_a):
    ProtocolVersion.objects.filter(study=trial_data).update(export_roles=["investigator"])
    client.force_login(investigator_a)
    assert queue(client, trial_data).status_code == 302
    assert ExportJob.objects.get().requested_by == investigator_a


def test_the_page_reads_a_bounded_number_of_queries(client, trial_data, data_manager):
    client.force_login(data_manager)
    for _ in range(3):
        queue(client, trial_data)
    work()
    with CaptureQueriesContext(connection) as few:
        client.get(page(trial_data))
    for _ in range(5):
        queue(client, trial_data)
    work()
    with CaptureQueriesContext(connection) as more:
        client.get(page(trial_data))
    assert len(more) == len(few) <= 20


def test_only_the_data_manager_finds_exports_in_the_navigation(client, trial_data, monitor, data_manager):
    exports_url = page(trial_data)
    client.force_login(monitor)
    assert exports_url not in client.get(reverse("ecrf:home")).content.decode()
    client.force_login(data_manager)
    assert exports_url in client.get(reverse("ecrf:home")).content.decode()


def test_a_de_identified_export_is_queued_and_logged_as_such(client, trial_data, data_manager):
    client.force_login(data_manager)
    queue(client, trial_data, deidentify="on")
    work()
    job = ExportJob.objects.get()
    assert job.deidentified
    assert job.log.deidentified
    assert "deidentified" in job.log.file_name


def test_a_role_the_protocol_grants_finds_exports_on_the_study_page(client, trial_data, investigator_a):
    study_page = reverse("ecrf:study_detail", args=[trial_data.code])
    client.force_login(investigator_a)
    assert page(trial_data) not in client.get(study_page).content.decode()
    ProtocolVersion.objects.filter(study=trial_data).update(export_roles=["investigator"])
    assert page(trial_data) in client.get(study_page).content.decode()
