"""Loading a statistical analysis plan file: validate it (analysis.plan.Plan), then store it as a version of
its study's plan in one transaction. The same text again changes nothing; a revised plan needs a new version.
"""

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from pydantic import ValidationError

from analysis.plan import Plan
from ecrf.models import AnalysisPlanVersion, Study
from ecrf.protocol_schema import describe_problem
from ecrf.selectors.protocols import latest_protocol


class PlanFileError(ValueError):
    """A plan file that cannot be loaded; ``problems`` lists each as 'path: message'."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass(frozen=True)
class PlanLoadResult:
    plan: AnalysisPlanVersion
    created: bool


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    """Parse and validate a plan file's text, or raise PlanFileError naming every problem by its field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PlanFileError(source, [f"not valid TOML: {error}"]) from None
    try:
        plan = Plan.model_validate(raw)
    except ValidationError as error:
        raise PlanFileError(source, [describe_problem(problem) for problem in error.errors()]) from None
    if plan.version is None:
        raise PlanFileError(source, ['version: a plan file states its version (version = "1.0")'])
    return plan


def load_plan_file(path: Path, *, by=None) -> PlanLoadResult:
    """Load the plan file at ``path``; see ``load_plan``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PlanFileError(str(path), [f"cannot read the file: {error}"]) from None
    return load_plan(text, source_name=Path(path).name, by=by)


@transaction.atomic
def load_plan(text: str, *, source_name: str, by=None) -> PlanLoadResult:
    """Validate ``text`` and store it as a plan version of its study (which must have been loaded already).

    The same text again changes nothing (``created`` False); different text under a loaded version is refused.
    """
    plan = parse_plan(text, source_name)
    study = Study.objects.filter(code=plan.study).first()
    if study is None:
        raise PlanFileError(source_name, [f"study: {plan.study} is not a study here; load its protocol first"])
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    same = AnalysisPlanVersion.objects.filter(study=study, sha256=sha256).first()
    if same is not None:
        return PlanLoadResult(plan=same, created=False)
    _check_new_version(study, plan, source_name)
    row = AnalysisPlanVersion(
        study=study,
        version=plan.version,
        sha256=sha256,
        source_name=source_name,
        source_text=text,
        content=plan.model_dump(mode="json"),
        loaded_by=by,
    )
    row.full_clean()
    row.save()
    return PlanLoadResult(plan=row, created=True)


def _check_new_version(study: Study, plan: Plan, source_name: str) -> None:
    if AnalysisPlanVersion.objects.filter(study=study, version=plan.version).exists():
        raise PlanFileError(
            source_name,
            [
                f"version: plan {plan.version} of {study.code} is already loaded with different content; "
                "a revised plan needs a new version"
            ],
        )
    protocol = latest_protocol(study)
    if protocol is None or plan.reference_arm is None:
        return
    arms = list(protocol.arms.order_by("order").values_list("code", flat=True))
    if plan.reference_arm not in arms:
        raise PlanFileError(
            source_name,
            [
                f"reference_arm: {plan.reference_arm} is not an arm of {study.code} protocol {protocol.version} "
                f"(its arms: {', '.join(arms)})"
            ],
        )
