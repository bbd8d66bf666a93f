"""Which version of a study's data is current: a counter that every audited write raises in its own transaction.

A cached analysis (``analysis.models.StudyReport``) remembers the version it was computed from and is current
only while the counter still reads that number. The counter moves in the writing transaction, under the row
lock of its ``UPDATE``, so a result can never be taken for current once a change to its study has committed.

The same transaction asks for the analysis to be recomputed: the first change after a recomputation started sets
``refresh_queued_at`` and sends ``refresh_wanted``, on which the analysis app queues its task (in this transaction,
with the database task backend, so a rolled-back change queues nothing); later changes find it set and send
nothing, so a study has at most one recomputation waiting however many rows an import writes.
"""

from contextvars import ContextVar
from functools import wraps

import django.dispatch
from django.apps import apps
from django.db import models
from django.db.models import F
from django.utils import timezone

# Sent with ``study_ids``: studies whose data changed with no recomputation of their analysis waiting.
refresh_wanted = django.dispatch.Signal()


class StudyDataVersion(models.Model):
    study = models.OneToOneField("ecrf.Study", on_delete=models.CASCADE, primary_key=True, related_name="+")
    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True, help_text="When the study's data last changed.")
    refresh_queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a recomputation of the analysis was queued that has not started yet."
    )

    def __str__(self):
        return f"study {self.study_id} data version {self.version}"


# Inside ``marked_once``: the studies changed so far, marked when the service ends.
_pending: ContextVar[set | None] = ContextVar("data_version_pending", default=None)


def marked_once(service):
    """Run ``service`` (a service of several audited writes, inside its transaction) with its data version marks
    made once, as its last statement: one UPDATE of the study's version row instead of one per row written,
    and that row's lock (every writer of the study takes it) held only from then until the commit."""

    @wraps(service)
    def run(*args, **kwargs):
        if _pending.get() is not None:
            return service(*args, **kwargs)
        token = _pending.set(set())
        try:
            result = service(*args, **kwargs)
            changed = _pending.get()
        finally:
            _pending.reset(token)
        mark_changed(changed)
        return result

    return run


def mark_changed(study_ids) -> None:
    """Raise the data version of each study in ``study_ids``; call inside the transaction that writes."""
    study_ids = sorted({pk for pk in study_ids if pk is not None})
    if not study_ids:
        return
    pending = _pending.get()
    if pending is not None:
        pending.update(study_ids)
        return
    now = timezone.now()
    raised = StudyDataVersion.objects.filter(study_id__in=study_ids).update(version=F("version") + 1, changed_at=now)
    if raised < len(study_ids):
        StudyDataVersion.objects.bulk_create(
            [StudyDataVersion(study_id=pk, version=1, changed_at=now) for pk in study_ids], ignore_conflicts=True
        )
    want_refresh(study_ids)


def want_refresh(study_ids) -> list[int]:
    """Mark the studies' analysis as waiting for a recomputation and send ``refresh_wanted`` for those that were
    not already; returns them. Inside the caller's transaction."""
    now, wanted = timezone.now(), []
    for pk in study_ids:
        waiting = StudyDataVersion.objects.filter(study_id=pk, refresh_queued_at__isnull=True)
        if waiting.update(refresh_queued_at=now):
            wanted.append(pk)
    if wanted:
        refresh_wanted.send(sender=StudyDataVersion, study_ids=wanted)
    return wanted


def current_version(study_id: int) -> tuple[int, object]:
    """The study's data version and when it last changed; (0, None) before its first audited write."""
    row = StudyDataVersion.objects.filter(study_id=study_id).values_list("version", "changed_at").first()
    return row or (0, None)


def studies_of(history_model, rows) -> set:
    """The studies whose data the history ``rows`` record changes of, from the model's ``study_code_path``."""
    model = history_model.instance_type
    path = getattr(model, "study_code_path", None)
    if path is None or not getattr(model, "is_study_data", True) or not path.endswith("code"):
        return set()
    hops = path.split("__")[:-1]  # "visit__subject__study__code" -> visit, subject, study
    if not hops:  # the Study itself
        return {row.id for row in rows}
    field = model._meta.get_field(hops[0])
    if not field.many_to_one:  # a reverse path (a site belongs to several studies): not one study's data
        return set()
    first = {getattr(row, field.attname) for row in rows}
    if len(hops) == 1:
        return first
    related = apps.get_model(field.related_model._meta.label)
    return set(related._base_manager.filter(pk__in=first).values_list("__".join(hops[1:]), flat=True))
