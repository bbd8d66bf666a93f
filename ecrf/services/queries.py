"""Queries on clinical records: raised, answered (by a reply or a correction), closed and re-opened.

A query is never deleted or edited: each step is a message of its thread, and the query's own history keeps
every state it passed through. States move open -> answered -> closed, and closed -> re-opened -> answered ...;
a correction of the queried record (any path through ``audit.save_record``) answers its open queries itself,
quoting the reason given for the change.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecrf.models import OPEN_STATES, DataQuery, QueryMessage, QueryMessageKind, QueryState
from ecrf.selectors.records import pointer
from ecrf.services.lock_state import refuse_if_locked, refuse_if_record_locked

NUL = "This text contains a NUL character, which cannot be stored."


def _text(text: str, what: str) -> str:
    text = (text or "").strip()
    if "\x00" in text:
        raise ValidationError({"text": NUL})
    if not text:
        raise ValidationError({"text": f"Write the {what}."})
    return text


@transaction.atomic
def raise_query(*, record, text: str, by, field_name: str = "") -> DataQuery:
    """Raise a query on ``record`` (or its field ``field_name``) with ``text``, as ``by`` (a monitor or data
    manager: the caller checks the role)."""
    text = _text(text, "query")
    pointer(record, field_name)
    if getattr(record, "is_voided", False):
        raise ValidationError("This record is voided: there is nothing to query.")
    refuse_if_record_locked(record)
    return _open(record, field_name=field_name, text=text, by=by, rule_code="")


def _open(record, *, field_name: str, text: str, by, rule_code: str) -> DataQuery:
    now = timezone.now()
    query = DataQuery(
        **pointer(record, field_name),
        text=text,
        raised_by=by,
        rule_code=rule_code,
        raised_at=now,
    )
    _save(query, by=by, why="Raised")
    _message(query, QueryMessageKind.RAISED, text, by=by, at=now)
    return query


def _save(query: DataQuery, *, by, why: str) -> None:
    query.full_clean()
    query._history_user = by
    query._change_reason = why
    query.save()


def _message(query: DataQuery, kind: str, text: str, *, by, at) -> QueryMessage:
    message = QueryMessage(query=query, kind=kind, text=text, by=by, at=at)
    message.full_clean()
    message._history_user = by
    message._change_reason = "Created"
    message.save()
    return message


def _locked(query: DataQuery) -> DataQuery:
    return DataQuery.objects.select_for_update().get(pk=query.pk)


@transaction.atomic
def answer_query(*, query: DataQuery, text: str, by) -> DataQuery:
    """The site's reply to an open or re-opened query (a later reply adds to an answered one)."""
    text = _text(text, "answer")
    query = _locked(query)
    refuse_if_locked(study_id=query.study_id, subject_id=query.subject_id)
    if not query.is_open:
        raise ValidationError("This query is closed: ask the monitor to re-open it if more needs saying.")
    return _answered(query, QueryMessageKind.ANSWERED, text, by=by)


def _answered(query: DataQuery, kind: str, text: str, *, by) -> DataQuery:
    now = timezone.now()
    query.state, query.answered_at = QueryState.ANSWERED, now
    _save(query, by=by, why=QueryMessageKind(kind).label)
    _message(query, kind, text, by=by, at=now)
    return query


@transaction.atomic
def close_query(*, query: DataQuery, by, text: str = "") -> DataQuery:
    """Close a query (the monitor or data manager accepts the answer, or the data as they stand)."""
    query = _locked(query)
    if not query.is_open:
        raise ValidationError("This query is already closed.")
    now = timezone.now()
    query.state, query.closed_at = QueryState.CLOSED, now
    _save(query, by=by, why="Closed")
    _message(query, QueryMessageKind.CLOSED, (text or "").strip() or "Closed.", by=by, at=now)
    return query


@transaction.atomic
def reopen_query(*, query: DataQuery, text: str, by) -> DataQuery:
    """Re-open a closed query, saying what is still wrong."""
    text = _text(text, "reason for re-opening")
    query = _locked(query)
    refuse_if_locked(study_id=query.study_id, subject_id=query.subject_id)
    if query.is_open:
        raise ValidationError("This query is still open.")
    now = timezone.now()
    query.state, query.closed_at = QueryState.REOPENED, None
    _save(query, by=by, why="Re-opened")
    _message(query, QueryMessageKind.REOPENED, text, by=by, at=now)
    return query


def open_queries_on(record):
    return DataQuery.objects.filter(
        record_model=record._meta.label_lower, record_id=record.pk, state__in=OPEN_STATES
    ).select_for_update()


def note_correction(record, *, changed: list[str], by, reason: str) -> None:
    """A change of a queried record answers its open person-raised queries on the changed fields or the whole
    record: the thread says what changed and why. (Edit-check queries close themselves instead.)"""
    for query in open_queries_on(record).filter(rule_code=""):
        if query.field_name and query.field_name not in changed:
            continue
        fields = ", ".join(type(record)._meta.get_field(name).verbose_name for name in changed)
        _answered(query, QueryMessageKind.CORRECTED, f"Changed {fields}. Reason: {reason}", by=by)


def sync_edit_check(record, *, rule_code: str, field_name: str, trips: bool, message: str) -> None:
    """Raise the edit check's query when ``trips`` and none stands; close it when the data no longer trip it.

    A query a person closed while the data still tripped the rule (the value confirmed as right) is not raised
    again for the same record and field while that field keeps the value it had when closed.
    """
    mine = DataQuery.objects.filter(
        record_model=record._meta.label_lower, record_id=record.pk, field_name=field_name, rule_code=rule_code
    )
    standing = mine.filter(state__in=OPEN_STATES).select_for_update().first()
    if trips and standing is None and not _closed_by_a_person(mine, record, field_name):
        _open(record, field_name=field_name, text=message, by=None, rule_code=rule_code)
    elif not trips and standing is not None:
        now = timezone.now()
        standing.state, standing.closed_at = QueryState.CLOSED, now
        _save(standing, by=None, why="Closed by the edit check")
        _message(standing, QueryMessageKind.AUTO_CLOSED, "The data no longer trip the check.", by=None, at=now)


def _closed_by_a_person(queries, record, field_name: str) -> bool:
    """Whether the rule's last query was closed by a person, with the queried field as it is now."""
    last = QueryMessage.objects.filter(query__in=queries).order_by("-at", "-pk").first()
    if last is None or last.kind != QueryMessageKind.CLOSED:
        return False
    if not field_name:
        return True
    attname = type(record)._meta.get_field(field_name).attname
    at_close = record.history.filter(history_date__lte=last.at).order_by("-history_date", "-history_id").first()
    return at_close is not None and getattr(at_close, attname) == getattr(record, attname)
