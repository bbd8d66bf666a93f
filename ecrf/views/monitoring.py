"""Monitoring pages: raising and answering queries, the study's query list, verifying source, locking data."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ecrf import csv_safe
from ecrf.access import require_study_role
from ecrf.forms_monitoring import QueryFilterForm, QueryStepForm, RaiseQueryForm
from ecrf.roles import Capability
from ecrf.selectors import monitoring
from ecrf.selectors import verification_progress as sdv
from ecrf.selectors.protocols import latest_protocol
from ecrf.services import queries, verification
from ecrf.views.lookups import subject_or_404
from ecrf.views.monitoring_links import form_url

REVIEW = Capability.VERIFY_SOURCE
SHOWN_SUBJECTS = 500  # the least verified first; the rest are counted


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False)
    return target if target.startswith("/") and safe else fallback


def _record(subject, key: str):
    """The record and field a posted "model:pk:field" names, if it is one of the subject's; else 404."""
    model, _, rest = key.partition(":")
    record_id, _, field_name = rest.partition(":")
    record = monitoring.record_of(subject, model, record_id)
    if record is None:
        raise Http404("No such record of this subject.")
    return record, field_name


@login_required
@require_POST
def raise_query(request, study_code, pk):
    access = require_study_role(request, study_code, REVIEW)
    subject = subject_or_404(access, pk, REVIEW)
    back = _back(request, reverse("ecrf:subject_detail", args=[study_code, subject.pk]))
    key = request.POST.get("target", "")
    record, field_name = _record(subject, key)
    form = RaiseQueryForm(request.POST, targets=[(key, key)])
    if not form.is_valid():
        messages.error(request, "Write the query before raising it.")
        return redirect(back)
    try:
        query = queries.raise_query(
            record=record, field_name=field_name, text=form.cleaned_data["text"], by=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(request, f"Query {query.pk} raised on {query.where}.")
    return redirect(back)


@login_required
@require_POST
def verify_record(request, study_code, pk):
    access = require_study_role(request, study_code, REVIEW)
    subject = subject_or_404(access, pk, REVIEW)
    back = _back(request, reverse("ecrf:subject_detail", args=[study_code, subject.pk]))
    targets = [_record(subject, key) for key in request.POST.getlist("target")]
    if not targets:
        raise Http404("Nothing to verify.")
    try:
        marks = verification.verify_all(targets, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(request, f"{marks[0].where}{' and the rest of the form' if len(marks) > 1 else ''}: verified.")
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def query_detail(request, study_code, query_pk):
    access = require_study_role(request, study_code, Capability.VIEW_SITE)
    query = monitoring.query_in_study(access.study, access.visible_sites(), query_pk)
    if query is None:
        raise Http404("No such query at your sites.")
    may = _query_rights(access, query.subject.site)
    form = QueryStepForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["action"]
        if not may[action]:
            raise PermissionDenied("Your role cannot do this to a query.")
        try:
            _step(query, action, form.cleaned_data["text"], request.user)
        except ValidationError as error:
            for message in error.messages:
                form.add_error("text", message)
        else:
            messages.success(request, f"Query {query.pk}: {dict(form.fields['action'].choices)[action].lower()}.")
            return redirect("ecrf:query_detail", study_code, query.pk)
    record = monitoring.record_of(query.subject, query.record_model, query.record_id)
    context = {
        "access": access,
        "query": query,
        "form": form,
        "may": may,
        "form_url": form_url(study_code, record),
        "now": timezone.now(),
    }
    return render(request, "ecrf/query_detail.html", context, status=400 if form.errors else 200)


def _query_rights(access, site) -> dict[str, bool]:
    """What the user may do to a query at ``site``: its staff answer, its monitors and data managers close and
    re-open (each right checked at the query's own site, for users holding different roles at different sites)."""
    answer = site in access.sites_with(Capability.ENTER_DATA)
    review = site in access.sites_with(REVIEW)
    return {"answer": answer, "close": review, "reopen": review}


def _step(query, action: str, text: str, user) -> None:
    if action == "answer":
        queries.answer_query(query=query, text=text, by=user)
    elif action == "close":
        queries.close_query(query=query, text=text, by=user)
    else:
        queries.reopen_query(query=query, text=text, by=user)


QUERY_COLUMNS = [
    "query",
    "site",
    "subject",
    "where",
    "state",
    "raised_by",
    "raised_at",
    "age_days",
    "closed_at",
    "text",
]


@login_required
@require_GET
def query_list(request, study_code):
    access = require_study_role(request, study_code, Capability.VIEW_SITE)
    sites = access.visible_sites()
    form = QueryFilterForm(
        request.GET or None,
        sites=sites,
        forms_=[
            (label, model._meta.verbose_name.capitalize()) for label, model in monitoring.monitored_models().items()
        ],
        raisers=monitoring.query_raisers(access.study),
    )
    filters = monitoring.QueryFilters(**form.cleaned_data) if form.is_valid() else monitoring.QueryFilters()
    rows = monitoring.study_queries(access.study, filters, sites)
    now = timezone.now()
    if request.GET.get("format") == "csv" and not form.errors:
        return _query_csv(access.study.code, rows, now)
    context = {
        "access": access,
        "form": form,
        "rows": [(q, monitoring.age_days(q, now)) for q in rows],
        "figures": monitoring.query_figures_by_site(access.study, sites, now),
        "now": now,
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "ecrf/query_list.html", context, status=400 if form.errors else 200)


def _query_csv(study_code: str, rows, now) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study_code}-queries-{now:%Y%m%dT%H%M}Z.csv"'
    writer = csv_safe.writer(response)
    writer.writerow(QUERY_COLUMNS)
    for q in rows:
        writer.writerow(
            [
                q.pk,
                q.subject.site.code,
                q.subject.subject_code,
                q.where,
                q.state,
                q.raised_by.username if q.raised_by else f"edit check {q.rule_code}",
                q.raised_at.isoformat(),
                f"{monitoring.age_days(q, now):.1f}",
                q.closed_at.isoformat() if q.closed_at else "",
                q.text,
            ]
        )
    return response


@login_required
@require_GET
def verification_progress(request, study_code):
    access = require_study_role(request, study_code, REVIEW)
    sites, subjects = sdv.verification_by_site(access.study, access.sites_with(REVIEW))
    protocol = latest_protocol(access.study)
    context = {
        "access": access,
        "sites": sites,
        "subjects": subjects[:SHOWN_SUBJECTS],
        "more": max(len(subjects) - SHOWN_SUBJECTS, 0),
        "plan": protocol.monitoring if protocol else {},
        "critical": [
            form.replace("_", " ") for form in (protocol.monitoring if protocol else {}).get("sdv_critical_forms", [])
        ],
    }
    return render(request, "ecrf/verification_progress.html", context)
