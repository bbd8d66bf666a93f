"""The base of every history model in ``ecrf``: each row carries a SHA-256 chained to its record's previous row."""

from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db.backends.utils import format_number
from django.utils import timezone

from ecrf.audit_hash import GENESIS, chain_hash, row_content
from ecrf.models.changes import mark_changed, studies_of


class ChainedHistoryManager(models.Manager):
    def bulk_create(self, objs, *args, **kwargs):
        """simple_history's bulk paths (bulk_create_with_history, bulk_update_with_history) come through here."""
        objs = list(objs)
        chain(self.model, objs)
        return super().bulk_create(objs, *args, **kwargs)


class ChainedHistoricalRecord(models.Model):
    """Tamper evidence: ``row_hash`` covers the row's content and ``previous_hash``, the record's row before it.

    Rows chain per record in insertion (``history_id``) order; a writer holds the live row's lock while it
    writes the history row, so two changes of one record cannot both chain to the same predecessor.
    """

    previous_hash = models.CharField(max_length=64, editable=False, default="")
    row_hash = models.CharField(max_length=64, editable=False, default="")

    objects = ChainedHistoryManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding and not self.row_hash:
            chain(type(self), [self])
        super().save(*args, **kwargs)


def chain(history_model, rows: list) -> None:
    """Fill the hashes of unsaved history rows, in order, each after its record's latest stored row, and raise
    their studies' data version (``ecrf.models.changes``): every audited write is a change of its study."""
    record_pk = history_model.instance_type._meta.pk.attname
    latest = _latest_hashes(history_model, record_pk, {getattr(row, record_pk) for row in rows})
    decimals = [f for f in history_model._meta.concrete_fields if isinstance(f, models.DecimalField)]
    moments = [f for f in history_model._meta.concrete_fields if isinstance(f, models.DateTimeField)]
    for row in rows:
        _as_stored(row, decimals, moments)
        record_id = getattr(row, record_pk)
        row.previous_hash = latest.get(record_id, GENESIS)
        row.row_hash = chain_hash(row_content(row), row.previous_hash)
        latest[record_id] = row.row_hash
    mark_changed(studies_of(history_model, rows))


def _as_stored(row, decimals, moments) -> None:
    """Give values the form the database stores, so the hashed value is the stored one: decimals rounded to their
    column's places, and a naive datetime (a script's) made aware in the default time zone, as Django stores it.
    """
    for field in decimals:
        value = getattr(row, field.attname)
        if value is not None:
            value = format_number(field.to_python(value), field.max_digits, field.decimal_places)
            setattr(row, field.attname, Decimal(value))
    for field in moments:
        value = getattr(row, field.attname)
        if isinstance(value, datetime) and timezone.is_naive(value):
            setattr(row, field.attname, timezone.make_aware(value, timezone.get_default_timezone()))


def _latest_hashes(history_model, record_pk: str, record_ids: set, chunk: int = 500) -> dict:
    ids, latest = sorted(record_ids), {}
    for start in range(0, len(ids), chunk):
        stored = (
            history_model._default_manager.filter(**{f"{record_pk}__in": ids[start : start + chunk]})
            .order_by(record_pk, "history_id")
            .values_list(record_pk, "row_hash")
        )
        latest.update(stored)  # ordered by history_id, so the last row of each record wins
    return latest
