"""The study dashboard: Overview, Survival, MELD and labs, Safety and Baseline, each a page of its own, with
every figure downloadable as SVG, PNG and PDF and every table as CSV; and the report's JSON for scripts."""

import functools
import io
import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analysis import panels
from analysis.figures.render import FORMATS
from analysis.figures.render import render as render_figure
from analysis.frozen import CutDamaged, data_cut, frozen_cached
from analysis.live import AnalysisPending, NoAnalysis, served_report
from analysis.views import content
from analysis.views.scope import dashboard_scope, require_arms
from ecrf import csv_safe

logger = logging.getLogger(__name__)

OPERATIONAL = frozenset({"enrolment", "completeness"})
PENDING_RETRY_SECONDS = 10
PENDING = object()  # _cached_or_none: the first result is being computed
TABS = (
    ("overview", "Overview"),
    ("survival", "Survival"),
    ("labs", "MELD and labs"),
    ("safety", "Safety"),
    ("baseline", "Baseline"),
)


def _while_pending(tab: str | None):
    """Answer a view that needs the study's first result while it is being computed: the tab says so (and reloads
    itself), a download answers 503 with Retry-After."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, study_code: str, *args, **kwargs):
            try:
                return view(request, study_code, *args, **kwargs)
            except AnalysisPending as pending:
                if tab is None:
                    response = HttpResponse(f"{pending}: try again shortly.", status=503, content_type="text/plain")
                    response["Retry-After"] = str(PENDING_RETRY_SECONDS)
                    return response
                scope = dashboard_scope(request, study_code)
                context = {"pending": pending, "retry_seconds": PENDING_RETRY_SECONDS}
                return _page(request, scope, tab, context, None, template="analysis/pending.html")

        return wrapped

    return decorate


@login_required
@require_GET
def overview(request, study_code: str):
    scope = dashboard_scope(request, study_code)
    data = content.operational(scope)
    context = {
        "enrolment_figure": content.inline(content.figure(scope, "enrolment", ops=data)),
        "enrolment_table": content.table(scope, "enrolment", ops=data),
        "completeness_table": content.table(scope, "completeness", ops=data),
        "statuses": data["statuses"],
        "operational_as_of": data["as_of"],
    }
    cached = _cached_or_none(scope, request)
    context["analysis_pending"] = cached is PENDING
    if cached is PENDING:
        cached = None
    if cached is not None:
        context["flow_table"] = content.table(scope, "flow", cached)
    return _page(request, scope, "overview", context, cached)


@login_required
@require_GET
@_while_pending("survival")
def survival(request, study_code: str):
    scope = _arm_scope(request, study_code)
    cached = _cached(scope, request)
    names = ["km", *(content.landmark_name(e) for e in cached.report["overall_survival"].get("landmark_curves", []))]
    if "hcc" in cached.report:
        names.append("cif")
    if cached.report["overall_survival"].get("subgroups"):
        names.append("forest")
    tables = [content.table(scope, name, cached) for name in ("survival", "at-risk", "os-comparisons")]
    if "hcc" in cached.report:
        tables.append(content.table(scope, "hcc", cached))
    context = {"figures": [content.inline_cached(scope, name, cached) for name in names], "tables": tables}
    return _page(request, scope, "survival", context, cached)


@login_required
@require_GET
@_while_pending("labs")
def labs(request, study_code: str):
    scope = _arm_scope(request, study_code)
    cached = _cached(scope, request)
    analytes = [a["analyte"] for a in cached.report["longitudinal"]]
    if not analytes:
        raise Http404("The plan follows no analyte.")
    chosen = request.GET.get("analyte", analytes[0])
    if chosen not in analytes:
        chosen = analytes[0]
    code = chosen.lower()
    labels = content.operations.analyte_labels(scope.protocol)
    context = {
        "analytes": [(a, labels.get(a, a)) for a in analytes],
        "chosen": chosen,
        "tables": [content.table(scope, f"visits-{code}", cached)],
        "figures": [content.inline_cached(scope, f"{kind}-{code}", cached) for kind in ("visits", "lines")],
    }
    return _page(request, scope, "labs", context, cached)


@login_required
@require_GET
@_while_pending("safety")
def safety(request, study_code: str):
    scope = _arm_scope(request, study_code)
    cached = _cached(scope, request)
    tables = [content.table(scope, name, cached) for name in ("adverse-events", "ae-by-term")]
    return _page(request, scope, "safety", {"tables": tables}, cached)


@login_required
@require_GET
@_while_pending("baseline")
def baseline(request, study_code: str):
    scope = _arm_scope(request, study_code)
    cached = _cached(scope, request)
    return _page(request, scope, "baseline", {"tables": [content.table(scope, "table-one", cached)]}, cached)


@login_required
@require_GET
@_while_pending(None)
def report_json(request, study_code: str):
    """The JSON ``manage.py analysis_report --json`` prints, under the arm-level panels' access rule."""
    scope = _arm_scope(request, study_code)
    report = _cached(scope, request).report
    return JsonResponse(report, json_dumps_params={"indent": 2, "ensure_ascii": False, "allow_nan": False})


@login_required
@require_GET
@_while_pending(None)
def figure_download(request, study_code: str, figure: str, fmt: str):
    if fmt not in FORMATS:
        raise Http404("No such format.")
    scope = dashboard_scope(request, study_code)
    if figure not in OPERATIONAL:
        require_arms(scope)
    drawn = content.figure(scope, figure, None if figure in OPERATIONAL else _cached(scope, request))
    response = HttpResponse(render_figure(drawn, fmt), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{study_code}-{figure}.{fmt}"'
    return response


@login_required
@require_GET
@_while_pending(None)
def table_download(request, study_code: str, table: str):
    scope = dashboard_scope(request, study_code)
    if table not in OPERATIONAL:
        require_arms(scope)
    built = content.table(scope, table, None if table in OPERATIONAL else _cached(scope, request))
    response = HttpResponse(_csv(built), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study_code}-{table}.csv"'
    return response


def _arm_scope(request, study_code: str):
    scope = dashboard_scope(request, study_code)
    require_arms(scope)
    return scope


def _cut(scope, request):
    """The data cut asked for with ``?cut=N`` (its frozen report instead of live data), or None; 404 if none."""
    number = request.GET.get("cut", "")
    if not number:
        return None
    cut = data_cut(scope.study, int(number)) if number.isdecimal() and len(number) < 9 else None
    if cut is None:
        raise Http404("No such data cut.")
    return cut


def _cached(scope, request):
    cut = _cut(scope, request)
    try:
        return frozen_cached(cut) if cut is not None else served_report(scope.study)
    except NoAnalysis as error:
        raise Http404(f"No analysis yet: {error}.") from error
    except CutDamaged as error:
        logger.error("Dashboard refused a damaged cut: %s", error)
        raise Http404(f"{error}: its dashboard cannot be shown.") from error


def _cached_or_none(scope, request):
    if not scope.arms_visible:
        return None
    try:
        return _cached(scope, request)
    except AnalysisPending:
        return PENDING
    except Http404:
        if _cut(scope, request) is not None:
            raise
        return None


def _page(request, scope, tab: str, context: dict, cached, *, template: str = ""):
    report = cached.report if cached else None
    cut = _cut(scope, request)
    return render(
        request,
        template or f"analysis/{tab}.html",
        {
            "study": scope.study,
            "scope": scope,
            "tab": tab,
            "tabs": TABS if scope.arms_visible else TABS[:1],
            "cached": cached,
            "report": report,
            "cut": cut,
            "cut_query": f"?cut={cut.number}" if cut else "",
            **context,
        },
    )


def _csv(table: panels.Table) -> bytes:
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    writer.writerows([[f"Note: {note}"] for note in table.notes])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes spreadsheets read UTF-8
