"""The operational numbers of a study's dashboard, as of now: enrolment by site, subjects by status, and per
scheduled visit the forms expected and entered, visits overdue, missed and unsigned. No arm is shown here, so a
coordinator's panels cannot reveal one. A fixed number of queries, whatever the number of subjects.
"""

from collections import Counter, defaultdict
from datetime import date

from django.db.models import Prefetch

from ecrf.models import Subject, SubjectStatus, Visit, VisitSignature, VisitStatus
from ecrf.selectors.next_step import ENDED
from ecrf.selectors.open_issues import FORM_NAMES, entered_records, visit_form_state
from ecrf.selectors.worklist import visit_state


def enrolment(study, sites) -> dict:
    """Per site: registered and allocated counts, first and latest allocation, and every allocation date."""
    rows = (
        Subject.objects.active()
        .filter(study=study, site__in=sites)
        .order_by("site__code")
        .values_list("site__code", "allocation__allocation_date", "allocation__is_voided")
    )
    by_site = defaultdict(list)
    registered = Counter()
    for site, allocated_on, voided in rows:
        registered[site] += 1
        if allocated_on is not None and not voided:
            by_site[site].append(allocated_on)
    series = []
    for site in sorted(registered):
        dates = sorted(by_site[site])
        series.append(
            {
                "site": site,
                "screened": registered[site],
                "allocated": len(dates),
                "first": dates[0].isoformat() if dates else None,
                "last": dates[-1].isoformat() if dates else None,
                "dates": [d.isoformat() for d in dates],
            }
        )
    return {"series": series}


def statuses(study, sites) -> list[tuple[str, int]]:
    """(status label, subjects) in the lifecycle's order, for the sites given."""
    counts = Counter(Subject.objects.active().filter(study=study, site__in=sites).values_list("status", flat=True))
    return [(label, counts[value]) for value, label in SubjectStatus.choices if counts[value]]


def completeness(study, sites, *, today: date) -> list[dict]:
    """Per scheduled visit, in schedule order: visits held; forms expected and entered at held visits; overdue,
    missed and unsigned visits (held, no standing signature)."""
    standing = VisitSignature.objects.active()
    visits = list(
        Visit.objects.active()
        .filter(subject__study=study, subject__site__in=sites, subject__is_voided=False)
        .select_related("definition", "subject__allocation__arm")
        .prefetch_related(Prefetch("signatures", queryset=standing, to_attr="standing_signatures"))
        .order_by("definition__order")
    )
    records = entered_records(sorted({visit.subject_id for visit in visits}))
    table = {}
    for visit in visits:
        row = table.setdefault(
            visit.definition.code,
            {
                "visit": visit.definition.code,
                "held": 0,
                "expected_forms": 0,
                "entered_forms": 0,
                "overdue": 0,
                "missed": 0,
                "unsigned": 0,
            },
        )
        state = visit_state(visit, today, subject_ended=visit.subject.status in ENDED)
        row["overdue"] += state == "overdue"
        row["missed"] += state == "missed"
        if visit.status != VisitStatus.DONE:
            continue
        row["held"] += 1
        row["unsigned"] += not visit.standing_signatures
        for form in _expected(visit):
            row["expected_forms"] += 1
            row["entered_forms"] += visit_form_state(form, visit, records) == "complete"
    return list(table.values())


def _expected(visit) -> list[str]:
    allocation = getattr(visit.subject, "allocation", None)
    gets_infusions = allocation is not None and not allocation.is_voided and allocation.arm.gets_infusions
    return [f for f in visit.definition.forms if f in FORM_NAMES and (f != "infusion" or gets_infusions)]


def subject_pages(study, sites) -> dict[str, int]:
    """Subject code -> pk for the subjects at ``sites``: the subjects whose page the viewer may open."""
    return dict(Subject.objects.active().filter(study=study, site__in=sites).values_list("subject_code", "pk"))


def analyte_labels(protocol) -> dict[str, str]:
    """Analyte code -> "Albumin (g/L)"; MELD is a score without unit."""
    labels = {"MELD": "MELD score"}
    if protocol is not None:
        labels |= {
            code: f"{label} ({unit})" for code, label, unit in protocol.analytes.values_list("code", "label", "unit")
        }
    return labels
