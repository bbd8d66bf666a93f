"""The study-wide audit trail for monitors and data managers: every change of every clinical record, filterable,
with the flags reviewers look for (changed after signature or verification, long after the visit, out of hours).

Rows are the hash-chained history rows themselves (``ecrf.models.history``); each is shown with the fields it
changed, old and new, against the record's previous row.
"""

import heapq
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import DateField, Exists, ExpressionWrapper, F, OuterRef, Q, Value
from django.utils import timezone

from ecrf.models import (
    AdverseEvent,
    Allocation,
    ClinicalStatus,
    ConcomitantMedication,
    EligibilityAnswer,
    EndpointEvent,
    InfusionEvent,
    LabDraw,
    LabValue,
    ProtocolDeviation,
    ReleaseResult,
    SourceVerification,
    Subject,
    Visit,
    VisitSignature,
)
from ecrf.selectors.history import NOT_ENTERED, SKIPPED, field_differences, value_shown

WORKING_HOURS = (8, 18)  # local time (settings.TIME_ZONE), Monday to Friday
HISTORY_TYPES = {"+": "Created", "~": "Changed", "-": "Deleted"}


@dataclass(frozen=True)
class Audited:
    """A model in the review: its form's name, and the paths from its history row to its subject and visit."""

    model: type
    form: str
    subject: str  # "" for the Subject itself
    visit: str | None  # None: not a visit's record; "" for the Visit itself
    detail: str = ""  # a field naming the record within the form (the analyte, the term ...)

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


AUDITED = (
    Audited(Subject, "Registration and consent", "", None),
    Audited(EligibilityAnswer, "Eligibility", "subject", None, "criterion__code"),
    Audited(Allocation, "Allocation", "subject", None),
    Audited(Visit, "Visit", "subject", ""),
    Audited(ClinicalStatus, "Clinical status", "visit__subject", "visit"),
    Audited(LabDraw, "Labs", "visit__subject", "visit"),
    Audited(LabValue, "Labs", "draw__visit__subject", "draw__visit", "analyte__code"),
    Audited(InfusionEvent, "Infusion", "subject", "visit", "number"),
    Audited(ReleaseResult, "Infusion release", "infusion__subject", "infusion__visit", "criterion__code"),
    Audited(AdverseEvent, "Adverse event", "subject", None, "term"),
    Audited(ConcomitantMedication, "Medication", "subject", None, "drug"),
    Audited(EndpointEvent, "Endpoint", "subject", None, "kind"),
    Audited(VisitSignature, "Signature", "visit__subject", "visit"),
    Audited(ProtocolDeviation, "Deviation", "subject", "visit"),
)
FORMS = {a.label: a for a in AUDITED}


@dataclass(frozen=True)
class AuditFilters:
    user: str = ""
    site: str = ""
    subject: str = ""
    form: str = ""  # a model label of AUDITED
    date_from: date | None = None
    date_to: date | None = None
    after_signature_or_verification: bool = False
    days_after_visit: int | None = None
    outside_working_hours: bool = False


@dataclass(frozen=True)
class AuditRow:
    when: datetime
    who: str
    site: str
    subject: str
    subject_id: int
    form: str
    where: str
    action: str
    changes: list  # (field, old, new)
    why: str
    flags: list


def _path(prefix: str, rest: str) -> str:
    return f"{prefix}__{rest}" if prefix else rest


def _rows(audited: Audited, study, sites, filters: AuditFilters):
    """The model's history rows in the study at ``sites`` matching ``filters``, annotated with their flags."""
    sp = audited.subject
    rows = audited.model.history.filter(**{_path(sp, "study"): study, _path(sp, "site__in"): sites})
    rows = rows.select_related("history_user", *([sp, _path(sp, "site")] if sp else ["site"]))
    if audited.visit is not None:
        rows = rows.select_related(
            *([audited.visit, _path(audited.visit, "definition")] if audited.visit else ["definition"])
        )
        visit_date = F(_path(audited.visit, "actual_date"))
        # Any signature before the change, voided or not: a signed visit changes only after its unlock voids it.
        signed = VisitSignature.objects.filter(
            visit_id=OuterRef(_path(audited.visit, "id")), signed_at__lt=OuterRef("history_date")
        )
        rows = rows.annotate(visit_date=visit_date, after_signature=Exists(signed))
    else:
        rows = rows.annotate(visit_date=Value(None, output_field=DateField()), after_signature=Value(False))
    rows = rows.annotate(after_verification=Exists(_verified_before(audited)))
    if audited.detail:
        rows = rows.select_related(audited.detail.split("__")[0]) if "__" in audited.detail else rows
    return _filtered(rows, audited, filters)


def _verified_before(audited: Audited):
    """A mark standing on the record, or on the form it is part of (a lab value's panel), when the row was saved."""
    standing = Q(verified_at__lt=OuterRef("history_date")) & (
        Q(cleared_at__isnull=True) | Q(cleared_at__gte=OuterRef("history_date"))
    )
    on_record = Q(record_model=audited.label, record_id=OuterRef("id"))
    if audited.model is LabValue:
        on_record |= Q(record_model="ecrf.labdraw", record_id=OuterRef("draw_id"), field_name="")
    return SourceVerification.objects.filter(standing & on_record)


def _filtered(rows, audited: Audited, filters: AuditFilters):
    sp = audited.subject
    if filters.user:
        rows = rows.filter(history_user__username=filters.user)
    if filters.site:
        rows = rows.filter(**{_path(sp, "site__code"): filters.site})
    if filters.subject:
        rows = rows.filter(**{_path(sp, "subject_code"): filters.subject})
    if filters.date_from:
        rows = rows.filter(history_date__date__gte=filters.date_from)
    if filters.date_to:
        rows = rows.filter(history_date__date__lte=filters.date_to)
    if filters.after_signature_or_verification:
        rows = rows.filter(history_type="~").filter(Q(after_signature=True) | Q(after_verification=True))
    if filters.days_after_visit is not None:
        if audited.visit is None:
            return rows.none()
        late = ExpressionWrapper(F("visit_date") + timedelta(days=filters.days_after_visit), output_field=DateField())
        rows = rows.filter(visit_date__isnull=False, history_date__date__gt=late)
    if filters.outside_working_hours:
        start, end = WORKING_HOURS
        rows = rows.filter(
            Q(history_date__hour__lt=start) | Q(history_date__hour__gte=end) | Q(history_date__week_day__in=[1, 7])
        )
    return rows


def _audited(filters: AuditFilters):
    return [FORMS[filters.form]] if filters.form in FORMS else list(AUDITED)


def audit_count(study, sites, filters: AuditFilters) -> int:
    return sum(_rows(a, study, sites, filters).count() for a in _audited(filters))


def audit_page(study, sites, filters: AuditFilters, *, offset: int, limit: int) -> list[AuditRow]:
    """Rows ``offset`` to ``offset + limit`` of the filtered trail, newest first."""
    newest = []
    for audited in _audited(filters):
        rows = _rows(audited, study, sites, filters).order_by("-history_date", "-history_id")[: offset + limit]
        newest += [(row.history_date, row.history_id, audited, row) for row in rows]
    newest.sort(key=lambda item: (item[0], item[1]), reverse=True)
    page = newest[offset : offset + limit]
    previous = _previous_rows(page)
    return [_row(audited, row, previous.get((audited.label, row.history_id))) for _, _, audited, row in page]


def _previous_rows(page) -> dict:
    """(model label, history id) -> the record's history row before it, for the page's rows (a query per model)."""
    found = {}
    by_model: dict = {}
    for _, _, audited, row in page:
        by_model.setdefault(audited, []).append(row)
    for audited, rows in by_model.items():
        earlier = audited.model.history.filter(
            id__in={r.id for r in rows}, history_id__lt=max(r.history_id for r in rows)
        )
        by_record: dict = {}
        for row in earlier.order_by("history_id"):
            by_record.setdefault(row.id, []).append(row)
        for row in rows:
            before = [r for r in by_record.get(row.id, []) if r.history_id < row.history_id]
            found[(audited.label, row.history_id)] = before[-1] if before else None
    return found


def audit_csv_rows(study, sites, filters: AuditFilters):
    """Every row of the filtered trail, newest first, with its changes (for the CSV download; streamed per model)."""
    streams = [_stream(a, study, sites, filters) for a in _audited(filters)]
    yield from heapq.merge(*streams, key=lambda row: row.when, reverse=True)


def _stream(audited: Audited, study, sites, filters: AuditFilters):
    wanted = _rows(audited, study, sites, filters).order_by("-history_date", "-history_id")
    for chunk in _chunks(wanted.iterator(chunk_size=500), 500):
        previous = _previous_rows([(None, None, audited, row) for row in chunk])
        for row in chunk:
            yield _row(audited, row, previous.get((audited.label, row.history_id)))


def _chunks(iterator, size: int):
    chunk = []
    for item in iterator:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _row(audited: Audited, row, previous) -> AuditRow:
    subject = getattr_path(row, audited.subject) if audited.subject else row
    visit = getattr_path(row, audited.visit) if audited.visit else (row if audited.visit == "" else None)
    detail = getattr_path(row, audited.detail.replace("__", ".")) if audited.detail else ""
    where = " · ".join(str(part) for part in (visit.definition.code if visit else "", audited.form, detail) if part)
    return AuditRow(
        when=row.history_date,
        who=str(row.history_user or "system"),
        site=subject.site.code,
        subject=subject.subject_code,
        subject_id=subject.id,
        form=audited.form,
        where=where,
        action="Voided" if _voided(row, previous) else HISTORY_TYPES.get(row.history_type, row.history_type),
        changes=_changes(row, previous),
        why=row.history_change_reason or "",
        flags=_flags(row),
    )


def getattr_path(obj, path: str):
    for hop in path.replace("__", ".").split("."):
        obj = getattr(obj, hop) if obj is not None else None
    return obj


def _voided(row, previous) -> bool:
    return previous is not None and getattr(row, "is_voided", False) and not getattr(previous, "is_voided", False)


def _shown(field, value) -> str:
    """``value_shown``, with a decimal's storage zeros dropped (20.0000 -> 20): the trail shows what was typed."""
    text = value_shown(field, value)
    if isinstance(value, Decimal) and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _changes(row, previous) -> list[tuple[str, str, str]]:
    fields = row.instance_type._meta
    if previous is None:
        return [
            (f.verbose_name, "", shown)
            for f in fields.concrete_fields
            if f.name not in SKIPPED | NOT_ENTERED and not f.is_relation
            for shown in [_shown(f, getattr(row, f.attname))]
            if shown != ""
        ]
    changed = []
    for name, before, after in field_differences(row, previous):
        if name in SKIPPED:
            continue
        field = fields.get_field(name)
        changed.append((field.verbose_name, _shown(field, before), _shown(field, after)))
    return changed


def _flags(row) -> list[str]:
    flags = []
    if row.history_type == "~" and row.after_signature:
        flags.append("after signature")
    if row.history_type == "~" and row.after_verification:
        flags.append("after verification")
    local = timezone.localtime(row.history_date)
    if not WORKING_HOURS[0] <= local.hour < WORKING_HOURS[1] or local.weekday() >= 5:
        flags.append("outside working hours")
    if row.visit_date is not None:
        days = (local.date() - row.visit_date).days
        if days > 30:
            flags.append(f"{days} days after the visit")
    return flags
