"""Exports are followed on the export page, not in the admin: the task queue's own admin is taken away, so that
staff see no queue rows of studies they are not in (every admin page is scoped to the user's studies)."""

from django.contrib import admin
from django_tasks_db.models import DBTaskResult

if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)
