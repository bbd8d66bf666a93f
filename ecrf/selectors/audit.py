"""Checking the audit trail's hash chain: the rows of each record, in order, and the live record against its last.

``chain_problems`` is the one check of a set of history rows; ``verify_model`` adds the live records, for
``manage.py verify_audit``; the history pages call the first on what they show.
"""

import functools
from dataclasses import dataclass

from django.apps import apps
from django.db.models import QuerySet

from ecrf.audit_hash import GENESIS, canonical, chain_hash, row_content

CONTENT_CHANGED = "content changed"
ROW_MISSING_BEFORE = "row missing before (the record's history does not start at its first row)"
CHAIN_BROKEN = "chain broken (the row before it is missing or was rewritten)"
LIVE_DIFFERS = "live record differs from its last audited version"
LIVE_UNAUDITED = "live record has no audited version"
GONE_UNAUDITED = "record gone without a deletion in its history"


@dataclass(frozen=True)
class ChainProblem:
    model: str
    record_id: int
    history_id: int | None
    what: str

    def __str__(self):
        row = f"history row {self.history_id}" if self.history_id is not None else "no history row"
        return f"{self.model} {self.record_id}, {row}: {self.what}"


def author(row) -> tuple[str, str]:
    """(who, why) of a history row, as the history pages show them: "system" when no user is recorded."""
    return str(row.history_user or "system"), row.history_change_reason or ""


def history_models() -> list:
    """The ``ecrf`` models with an audit trail, in a fixed order."""
    models = [m for m in apps.get_app_config("ecrf").get_models() if hasattr(m, "history") and "history" in m.__dict__]
    return sorted(models, key=lambda m: m.__name__)


def chain_problems(history) -> list[ChainProblem]:
    """What is wrong with these history rows (one query): each row's hash, and its link to the one before."""
    return _walk(history)[0]


def verify_model(model, study_code: str | None = None) -> tuple[int, list[ChainProblem]]:
    """Rows checked and problems of one model's audit trail, scoped to a study's records when given (two queries)."""
    live = model._base_manager.all()
    history = model.history.all()
    if study_code is not None:
        live = live.filter(**{model.study_code_path: study_code}).distinct()
        history = history.filter(id__in=live.values("pk"))
    problems, last, count = _walk(history.order_by("history_id").iterator(chunk_size=2000))
    return count, problems + _live_problems(model, live.iterator(chunk_size=2000), last)


def _walk(history) -> tuple[list[ChainProblem], dict, int]:
    if isinstance(history, QuerySet):
        history = history.order_by("history_id")
    problems, last, count = [], {}, 0
    for row in history:
        count += 1
        before = last.get(row.id)
        what = None
        if chain_hash(row_content(row), row.previous_hash) != row.row_hash:
            what = CONTENT_CHANGED
        elif row.previous_hash != (before.row_hash if before else GENESIS):
            what = CHAIN_BROKEN if before else ROW_MISSING_BEFORE
        if what:
            problems.append(ChainProblem(row.instance_type.__name__, row.id, row.history_id, what))
        last[row.id] = row
    return problems, last, count


def _live_problems(model, live, last: dict) -> list[ChainProblem]:
    problems, seen = [], set()
    for record in live:
        seen.add(record.pk)
        audited = last.get(record.pk)
        if audited is None:
            problems.append(ChainProblem(model.__name__, record.pk, None, LIVE_UNAUDITED))
        elif audited.history_type == "-" or _values(model, audited) != _values(model, record):
            problems.append(ChainProblem(model.__name__, record.pk, audited.history_id, LIVE_DIFFERS))
    for record_id, audited in last.items():
        if record_id not in seen and audited.history_type != "-":
            problems.append(ChainProblem(model.__name__, record_id, audited.history_id, GONE_UNAUDITED))
    return problems


def _values(model, obj) -> bytes:
    """The audited fields' values: those the history keeps (a field excluded from it, e.g. a secret, is not)."""
    return canonical({f.attname: f.to_python(getattr(obj, f.attname)) for f in _audited_fields(model)})


@functools.cache
def _audited_fields(model) -> tuple:
    """The model's fields its history keeps; read once per model (``model.history`` builds a manager each time)."""
    audited = {f.attname for f in model.history.model._meta.concrete_fields}
    return tuple(f for f in model._meta.concrete_fields if f.attname in audited)
