"""The report of a study as stored now: the database read once (analysis/datasets.py), then analysed purely.

``cached_report`` keeps the last result per study (``analysis.models.StudyReport``) and serves it while the
study's data version, protocol and plan are the ones it was computed from; any audited write raises the data
version in its own transaction (``ecrf.models.changes``), so a result is never shown as current after a change.

Pages never compute: ``served_report`` gives the stored result, marked stale when the data moved on, and the
computation runs on a task worker (``analysis.tasks.refresh_report``, queued by the first write after the last
computation started, or by a page that finds the result behind its protocol, plan or engine).
"""

import functools
import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.utils import timezone
from pydantic import ValidationError

from analysis.datasets import study_data
from analysis.models import StudyReport
from analysis.plan import Plan, choose_arms
from analysis.report import build_report
from analysis.trajectories import trajectories
from ecrf.models import Study
from ecrf.models.changes import StudyDataVersion, current_version, want_refresh
from ecrf.selectors.plans import latest_plan
from ecrf.selectors.protocols import arms_and_endpoints, latest_protocol

DEFAULT_PLAN = "default plan"
ANALYSIS = Path(__file__).resolve().parent


class NoAnalysis(Exception):
    """The study cannot be analysed yet (no protocol loaded, or not two arms); the message says why."""


@dataclass(frozen=True)
class Cached:
    """A report and when: ``computed_at`` the computation, ``data_changed_at`` the last change it includes."""

    report: dict
    trajectories: dict
    computed_at: datetime
    data_changed_at: datetime | None
    compute_ms: int
    warm: bool  # served from the cache, not computed in this call
    keys: dict = field(default_factory=dict)  # what the report was computed from (data, protocol, plan versions)
    figures: dict = field(default_factory=dict)  # SVG already drawn from this report, by name
    stale: bool = False  # the study's data, protocol, plan or engine moved on since: a recomputation is queued


class AnalysisPending(Exception):
    """No result stored yet: the first computation is queued (``queued_at``) on a task worker."""

    def __init__(self, queued_at: datetime | None):
        super().__init__(f"the analysis is being computed (queued {queued_at})")
        self.queued_at = queued_at


def study_report(study) -> dict:
    """``study`` (an ecrf Study) analysed by its latest loaded plan (else the default plan), comparing the two arms
    of its latest protocol."""
    return _analysed(study)[0]


def _analysed(study) -> tuple[dict, dict]:
    """The report and the subjects' trajectories, from one read of the study's records."""
    inputs = analysis_inputs(study)
    return analyse(study_data(study), inputs, generated_at=timezone.now())


def analysis_inputs(study) -> dict:
    """What an analysis of ``study`` depends on besides its records, as JSON: the plan, the arms, the endpoints
    and the study as the report names it. A data cut keeps these with its frozen datasets."""
    protocol = latest_protocol(study)
    if protocol is None:
        raise NoAnalysis(f"{study.code} has no protocol loaded")
    arm_rows, endpoints = arms_and_endpoints(protocol)
    return {
        "plan": analysis_plan(study).model_dump(mode="json"),
        "arms": [dict(row) for row in arm_rows],
        "endpoints": sorted(endpoints),
        "study": {
            "code": study.code,
            "title": study.title,
            "protocol_version": protocol.version,
            "design": protocol.design,
        },
    }


def analyse(data, inputs: dict, *, generated_at: datetime) -> tuple[dict, dict]:
    """The report and trajectories of ``data`` (analysis.datasets.StudyData) under ``inputs`` (analysis_inputs):
    pure, so the same frozen data and inputs give the same report."""
    plan = Plan.model_validate(inputs["plan"])
    try:
        arms = choose_arms(inputs["arms"], plan)
    except ValueError as error:
        raise NoAnalysis(str(error)) from error
    about = {**inputs["study"], "generated_at": generated_at.isoformat(timespec="seconds")}
    report = build_report(data, plan, arms, study=about, endpoints=set(inputs["endpoints"]))
    population = data.subjects[data.subjects[plan.population].astype(bool)]
    return report, trajectories(data, analytes=plan.longitudinal, population=population)


def analysis_plan(study) -> Plan:
    """The study's latest loaded plan, validated; the default plan when none is loaded."""
    loaded = latest_plan(study)
    if loaded is None:
        return Plan(study=study.code)
    try:
        return Plan.model_validate(loaded.content)
    except ValidationError as error:
        # A plan stored by an older release whose settings this release no longer reads.
        raise NoAnalysis(f"{study.code} analysis plan {loaded.version} no longer validates: {error}") from error


def _current_keys(study) -> tuple[dict, datetime | None]:
    """What a current result of ``study`` is computed from, and when its data last changed."""
    data_version, changed_at = current_version(study.pk)
    protocol, plan = latest_protocol(study), latest_plan(study)
    keys = {
        "data_version": data_version,
        "protocol_version": protocol.version if protocol else "",
        "plan_version": f"{plan.version} {plan.sha256[:12]}" if plan else DEFAULT_PLAN,
        "engine_version": engine_version(),
    }
    return keys, changed_at


def _from_row(stored: StudyReport, *, stale: bool = False) -> Cached:
    keys = {key: getattr(stored, key) for key in ("data_version", "protocol_version", "plan_version", "engine_version")}
    return Cached(
        stored.report,
        stored.trajectories,
        stored.computed_at,
        stored.data_changed_at,
        stored.compute_ms,
        True,
        keys,
        stored.figures,
        stale=stale,
    )


def served_report(study) -> Cached:
    """For a page, never computed here: the stored result, ``stale`` when anything it depends on has changed since
    (then a recomputation is queued, if none is); ``AnalysisPending`` when there is none yet."""
    keys, _ = _current_keys(study)
    stored = StudyReport.objects.filter(study=study).first()
    if stored is not None and all(getattr(stored, key) == value for key, value in keys.items()):
        return _from_row(stored)
    if stored is None:
        _analysable(study)  # a study that cannot be analysed says why, instead of waiting for ever
        raise AnalysisPending(request_refresh(study))
    request_refresh(study)
    return _from_row(stored, stale=True)


def _analysable(study) -> None:
    """Raise NoAnalysis (with its reason) when the study cannot be analysed: no protocol, or not two arms."""
    inputs = analysis_inputs(study)
    try:
        choose_arms(inputs["arms"], Plan.model_validate(inputs["plan"]))
    except ValueError as error:
        raise NoAnalysis(str(error)) from error


def request_refresh(study) -> datetime | None:
    """Queue a recomputation of the study's analysis unless one is waiting; when the waiting one was queued."""
    StudyDataVersion.objects.get_or_create(study_id=study.pk)
    want_refresh([study.pk])
    return StudyDataVersion.objects.filter(study_id=study.pk).values_list("refresh_queued_at", flat=True).first()


def refresh(study_id: int) -> str:
    """The task worker's computation: the waiting mark cleared first (a change from now on queues another run),
    then the report computed and stored unless it is current. Returns what it did."""
    StudyDataVersion.objects.filter(study_id=study_id).update(refresh_queued_at=None)
    study = Study.objects.filter(pk=study_id).first()
    if study is None:
        return "no such study"
    try:
        cached = cached_report(study)
    except NoAnalysis as error:
        return f"no analysis: {error}"
    return "already current" if cached.warm else f"computed in {cached.compute_ms} ms"


def cached_report(study) -> Cached:
    """The study's report, from the cache when nothing it depends on has changed since, else computed now (the
    command line and the task worker; pages use ``served_report``)."""
    # The version is read before any data: a change committed after this read leaves the stored row behind it.
    keys, changed_at = _current_keys(study)
    stored = StudyReport.objects.filter(study=study, **keys).first()
    if stored is not None:
        return _from_row(stored)
    started = time.perf_counter()
    # As JSON gives them back: the same dicts whether computed now or read from the cache.
    report, lines = json.loads(json.dumps(_analysed(study), allow_nan=False))
    compute_ms = round((time.perf_counter() - started) * 1000)
    computed_at = datetime.fromisoformat(report["study"]["generated_at"])
    StudyReport.objects.update_or_create(
        study=study,
        defaults={
            **keys,
            "computed_at": computed_at,
            "data_changed_at": changed_at,
            "compute_ms": compute_ms,
            "report": report,
            "trajectories": lines,
            "figures": {},
        },
    )
    return Cached(report, lines, computed_at, changed_at, compute_ms, False, keys, {})


@functools.cache
def engine_version() -> str:
    """SHA-256 of the analysis code (engine, figures, tables, views): a release that computes or draws differently never
    serves a result the previous one cached."""
    digest = hashlib.sha256()
    for path in sorted(ANALYSIS.rglob("*.py")):
        if "migrations" not in path.parts:
            digest.update(path.relative_to(ANALYSIS).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def remember_figure(study, cached: Cached, name: str, svg: str) -> None:
    """Keep a figure drawn from ``cached`` beside it, unless the report was recomputed meanwhile (then the row's
    keys differ and nothing is written: a figure of old numbers never joins a newer report)."""
    cached.figures[name] = svg
    if "cut" in cached.keys:  # a data cut's report: its figures are drawn for this request only
        return
    StudyReport.objects.filter(study=study, **cached.keys).update(figures=cached.figures)
