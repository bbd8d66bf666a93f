"""What each dashboard panel shows: its tables (analysis/panels.py) and figures (analysis/figures/), from the
cached report for arm-level panels and from the operational selectors for the rest."""

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from analysis import panels
from analysis.figures import labs as lab_figures
from analysis.figures import overview as overview_figures
from analysis.figures import survival as survival_figures
from analysis.figures.render import Drawn, arm_colours, render
from analysis.live import cached_report, remember_figure
from ecrf.selectors import dashboard as operations
from ecrf.selectors.protocols import arms_and_endpoints


def operational(scope) -> dict:
    """Enrolment, subjects by status and completeness for the scope's sites, as of now."""
    enrolment = operations.enrolment(scope.study, scope.sites)
    target = scope.protocol.target_enrolment if scope.protocol and scope.study_wide else None
    return {
        "enrolment": enrolment,
        "target": target,
        "statuses": operations.statuses(scope.study, scope.sites),
        "completeness": operations.completeness(scope.study, scope.sites, today=timezone.localdate()),
        "as_of": timezone.now(),
    }


def colours(scope) -> dict[str, str]:
    arms, _ = arms_and_endpoints(scope.protocol) if scope.protocol else ([], set())
    return arm_colours(arms)


def figure(scope, name: str, cached=None, ops: dict | None = None) -> Drawn:
    """The named figure of the dashboard (``ops``: the operational numbers if read already); 404 for a name the
    study has no figure of."""
    if name == "enrolment":
        data = ops or operational(scope)
        return overview_figures.enrolment(data["enrolment"]["series"], target=data["target"])
    cached = cached or cached_report(scope.study)
    report, unit = cached.report, cached.report["plan"]["time_unit"]
    if name == "km":
        return survival_figures.kaplan_meier(report["overall_survival"]["kaplan_meier"], colours(scope), time_unit=unit)
    if name == "cif" and "hcc" in report:
        return survival_figures.cumulative_incidence(
            report["hcc"]["cumulative_incidence"], colours(scope), time_unit=unit
        )
    if name == "forest" and report["overall_survival"].get("subgroups"):
        plan = report["plan"]
        return survival_figures.forest(
            report["overall_survival"]["subgroups"], group=plan["group"], reference=plan["reference"]
        )
    if name.startswith("landmark-"):
        entry = next(
            (e for e in report["overall_survival"].get("landmark_curves", []) if landmark_name(e) == name), None
        )
        if entry is not None:
            return survival_figures.landmark(entry, colours(scope), time_unit=unit, slug=name)
    kind, _, code = name.partition("-")
    analyte = next((a for a in report["longitudinal"] if a["analyte"].lower() == code), None)
    if analyte is not None and kind in ("visits", "lines"):
        label = operations.analyte_labels(scope.protocol).get(analyte["analyte"], analyte["analyte"])
        if kind == "visits":
            return lab_figures.by_visit(analyte, colours(scope), label=label, summary=_summary_of(analyte))
        pages = operations.subject_pages(scope.study, scope.link_sites)
        return lab_figures.trajectories(
            cached.trajectories.get(analyte["analyte"], {"visits": [], "arms": {}, "subjects": []}),
            colours(scope),
            label=label,
            analyte=analyte["analyte"],
            link=lambda code: _subject_url(scope, pages, code),
        )
    raise Http404("No such figure.")


def landmark_name(entry: dict) -> str:
    """ "landmark-13" for the 13-month landmark (a decimal point reads as a dash: landmark-1-5)."""
    return f"landmark-{entry['landmark']:g}".replace(".", "-")


def inline(drawn: Drawn) -> dict:
    """A figure for the page: its SVG inline (links work, no request more) and where to download it."""
    svg = render(drawn, "svg").decode("utf-8")
    svg = svg[svg.index("<svg") :]
    return {"slug": drawn.slug, "title": drawn.title, "description": drawn.description, "svg": mark_safe(svg)}  # noqa: S308 -- our own matplotlib output


def inline_cached(scope, name: str, cached) -> dict:
    """``inline(figure(...))`` of an arm-level figure, drawn once per report (and per set of linked sites, for
    the trajectories whose lines link to subject pages) and kept beside the report."""
    key = f"{name}|{','.join(site.code for site in scope.link_sites)}" if name.startswith("lines-") else name
    if key not in cached.figures:
        remember_figure(scope.study, cached, key, inline(figure(scope, name, cached)))
    return {**cached.figures[key], "svg": mark_safe(cached.figures[key]["svg"])}  # noqa: S308 -- as above


def table(scope, name: str, cached=None, ops: dict | None = None) -> panels.Table:
    """The named table of the dashboard (``ops`` as for ``figure``); 404 for a name the study has no table of."""
    if name in ("enrolment", "completeness"):
        data = ops or operational(scope)
        if name == "enrolment":
            return panels.enrolment(data["enrolment"]["series"], data["target"], whole_study=scope.study_wide)
        return panels.completeness(data["completeness"])
    report = (cached or cached_report(scope.study)).report
    builders = {
        "table-one": panels.table_one,
        "flow": panels.flow,
        "survival": panels.survival_by_arm,
        "at-risk": panels.at_risk,
        "os-comparisons": panels.comparisons,
        "hcc": panels.hcc,
        "adverse-events": panels.ae_overall,
        "ae-by-term": panels.ae_by_term,
    }
    if name in builders and (built := builders[name](report)) is not None:
        return built
    code = name.removeprefix("visits-")
    analyte = next((a for a in report["longitudinal"] if a["analyte"].lower() == code), None)
    if name.startswith("visits-") and analyte is not None:
        label = operations.analyte_labels(scope.protocol).get(analyte["analyte"], analyte["analyte"])
        return panels.visits(report, analyte, label)
    raise Http404("No such table.")


def _summary_of(analyte: dict) -> str:
    tests = analyte["visits"][0]["between"] if analyte["visits"] else []
    return "median_iqr" if any(t["test"] in ("mann_whitney", "wilcoxon") for t in tests) else "mean_sd"


def _subject_url(scope, pages: dict, code: str) -> str | None:
    pk = pages.get(code)
    return reverse("ecrf:subject_detail", args=[scope.study.code, pk]) if pk else None
