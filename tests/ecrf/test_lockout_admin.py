"""Sign-in lockouts in the admin: superusers read and clear them; nobody edits them; data managers never see them."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from ecrf.services.organisation import make_data_manager_staff

SEEN = {"ip_address": "192.0.2.1", "user_agent": "test", "path_info": "/accounts/login/", "http_accept": "*/*"}


@pytest.fixture
def attempt(db):
    return AccessAttempt.objects.create(username="nurse", get_data="", post_data="", failures_since_start=5, **SEEN)


@pytest.fixture
def records(attempt):
    return {
        "accessattempt": attempt,
        "accessfailurelog": AccessFailureLog.objects.create(username="nurse", locked_out=True, **SEEN),
        "accesslog": AccessLog.objects.create(username="nurse", **SEEN),
    }


MODELS = ("accessattempt", "accessfailurelog", "accesslog")


@pytest.mark.parametrize("model", MODELS)
def test_a_superusers_save_of_a_lockout_record_is_refused_and_writes_nothing(client, superuser, records, model):
    """Django-axes' admin took an empty POST to the change page as a save: the row rewritten, a change logged."""
    client.force_login(superuser)
    url = reverse(f"admin:axes_{model}_change", args=[records[model].pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 403
    assert not LogEntry.objects.exists()


def test_a_superuser_clears_a_lockout(client, superuser, attempt):
    client.force_login(superuser)
    response = client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("model", MODELS)
def test_a_data_manager_with_every_axes_permission_still_cannot_see_or_clear_lockouts(
    client, data_manager, records, model
):
    make_data_manager_staff(data_manager)
    data_manager.user_permissions.set(Permission.objects.filter(content_type__app_label="axes"))
    client.force_login(data_manager)
    pk = records[model].pk
    changelist = reverse(f"admin:axes_{model}_changelist")
    assert client.get(changelist).status_code == 403
    assert (
        client.post(changelist, {"action": "delete_selected", "_selected_action": [pk], "post": "yes"}).status_code
        == 403
    )
    delete = reverse(f"admin:axes_{model}_delete", args=[pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:index")).content.decode().count("/admin/axes/") == 0
    assert type(records[model]).objects.filter(pk=pk).exists()
