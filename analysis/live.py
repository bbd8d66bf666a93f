"""The report of a study as stored now: the database read once (analysis/datasets.py), then analysed purely."""

from django.utils import timezone
from pydantic import ValidationError

from analysis.datasets import study_data
from analysis.plan import Plan, choose_arms
from analysis.report import build_report
from ecrf.selectors.plans import latest_plan
from ecrf.selectors.protocols import arms_and_endpoints, latest_protocol


class NoAnalysis(Exception):
    """The study cannot be analysed yet (no protocol loaded, or not two arms); the message says why."""


def study_report(study) -> dict:
    """``study`` (an ecrf Study) analysed by its latest loaded plan (else the default plan), comparing the two arms
    of its latest protocol."""
    protocol = latest_protocol(study)
    if protocol is None:
        raise NoAnalysis(f"{study.code} has no protocol loaded")
    plan = _plan(study)
    arm_rows, endpoints = arms_and_endpoints(protocol)
    try:
        arms = choose_arms(arm_rows, plan)
    except ValueError as error:
        raise NoAnalysis(str(error)) from error
    about = {
        "code": study.code,
        "title": study.title,
        "protocol_version": protocol.version,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
    }
    return build_report(study_data(study), plan, arms, study=about, endpoints=endpoints)


def _plan(study) -> Plan:
    loaded = latest_plan(study)
    if loaded is None:
        return Plan(study=study.code)
    try:
        return Plan.model_validate(loaded.content)
    except ValidationError as error:
        # A plan stored by an older release whose settings this release no longer reads.
        raise NoAnalysis(f"{study.code} analysis plan {loaded.version} no longer validates: {error}") from error
