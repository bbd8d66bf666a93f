"""The study-wide audit trail page for monitors and data managers, with its filters, flags and CSV download."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ecrf import csv_safe
from ecrf.access import require_study_role
from ecrf.forms_monitoring import AuditFilterForm
from ecrf.roles import Capability
from ecrf.selectors import audit_review

PAGE_SIZE = 100
CSV_COLUMNS = ["when_utc", "who", "site", "subject", "form", "record", "action", "field", "old", "new", "why", "flags"]


class _CountedTrail:
    """What the paginator needs of the filtered trail: its length, and a slice read only when asked."""

    def __init__(self, study, sites, filters):
        self.study, self.sites, self.filters = study, sites, filters

    def count(self) -> int:
        return audit_review.audit_count(self.study, self.sites, self.filters)

    def __getitem__(self, page: slice):
        return audit_review.audit_page(
            self.study, self.sites, self.filters, offset=page.start, limit=page.stop - page.start
        )


@login_required
@require_GET
def audit_trail(request, study_code):
    access = require_study_role(request, study_code, Capability.VERIFY_SOURCE)
    sites = access.sites_with(Capability.VERIFY_SOURCE)
    forms_ = [
        (a.label, a.form if a.form != "Labs" else f"Labs ({a.model._meta.verbose_name})") for a in audit_review.AUDITED
    ]
    form = AuditFilterForm(request.GET or None, sites=sites, forms_=forms_)
    filters = audit_review.AuditFilters(**{k: v for k, v in form.cleaned_data.items()}) if form.is_valid() else None
    if filters is None and form.is_bound:
        return render(request, "ecrf/audit_trail.html", {"access": access, "form": form}, status=400)
    filters = filters or audit_review.AuditFilters()
    if request.GET.get("format") == "csv":
        return _csv(access.study.code, audit_review.audit_csv_rows(access.study, sites, filters))
    page = Paginator(_CountedTrail(access.study, sites, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "access": access,
        "form": form,
        "page": page,
        "now": timezone.now(),
        "time_zone": settings.TIME_ZONE,
        "working_hours": audit_review.WORKING_HOURS,
        "query": query.urlencode(),
    }
    return render(request, "ecrf/audit_trail.html", context)


def _csv(study_code: str, rows) -> StreamingHttpResponse:
    class Echo:
        def write(self, value):
            return value

    writer = csv_safe.writer(Echo())

    def lines():
        yield writer.writerow(CSV_COLUMNS)
        for row in rows:
            for field, old, new in row.changes or [("", "", "")]:
                yield writer.writerow(
                    [
                        row.when.isoformat(),
                        row.who,
                        row.site,
                        row.subject,
                        row.form,
                        row.where,
                        row.action,
                        field,
                        old,
                        new,
                        row.why,
                        "; ".join(row.flags),
                    ]
                )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%MZ")
    response["Content-Disposition"] = f'attachment; filename="{study_code}-audit-trail-{stamp}.csv"'
    return response
