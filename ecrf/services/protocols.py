"""Loading a protocol file: validate everything, then write one version's rows in one transaction."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from ecrf.models import (
    Analyte,
    Arm,
    BackgroundMedication,
    EligibilityCriterion,
    EndpointCollection,
    InfusionPlan,
    LabPanel,
    ProtocolVersion,
    ReleaseCriterion,
    StratificationFactor,
    Study,
    VisitDefinition,
)
from ecrf.protocol_schema import ProtocolFile, ProtocolFileError, parse_protocol
from ecrf.services.organisation import ensure_study


@dataclass(frozen=True)
class LoadResult:
    protocol: ProtocolVersion
    created: bool


def load_protocol_file(path: Path) -> LoadResult:
    """Load the protocol file at ``path``; see ``load_protocol``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProtocolFileError(str(path), [f"cannot read the file: {error}"]) from None
    return load_protocol(text, source_name=Path(path).name)


@transaction.atomic
def load_protocol(text: str, *, source_name: str) -> LoadResult:
    """Validate ``text`` and store it as a protocol version of its study, creating the study if new.

    The same text again changes nothing (``created`` False). Changed text must carry a new version and an
    effective date not before the current one; earlier versions and the data entered under them stay as they are.
    """
    spec = parse_protocol(text, source_name)
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    study = Study.objects.filter(code=spec.study.code).first()
    if study is not None:
        same = ProtocolVersion.objects.filter(study=study, sha256=sha256).first()
        if same is not None:
            return LoadResult(protocol=same, created=False)
        _check_amendment(study, spec, source_name)
    else:
        study = ensure_study(
            code=spec.study.code, title=spec.study.title, registry_number=spec.study.registry_number, sites=[]
        )
    protocol = ProtocolVersion.objects.create(
        study=study,
        version=spec.study.version,
        effective_date=spec.study.effective_date,
        sha256=sha256,
        source_name=source_name,
        source_text=text,
        design=spec.study.design,
        time_origin=spec.study.time_origin,
        follow_up_days=spec.study.follow_up.in_days(),
        follow_up_label=spec.study.follow_up.label(),
        subject_code_pattern=spec.study.subject_code_pattern or "",
        dashboards_blinded=_blinded(spec.study),
        target_enrolment=spec.study.target_enrolment,
        export_roles=sorted(set(spec.study.export_roles)),
        monitoring=spec.monitoring.model_dump(mode="json"),
    )
    _create_parts(protocol, spec)
    return LoadResult(protocol=protocol, created=True)


def _blinded(study) -> bool:
    """The file's ``blinded`` flag; without one, a blinded trial blinds its dashboards and an open-label one not."""
    return study.blinding != "open_label" if study.blinded is None else study.blinded


def _check_amendment(study: Study, spec: ProtocolFile, source_name: str) -> None:
    if ProtocolVersion.objects.filter(study=study, version=spec.study.version).exists():
        raise ProtocolFileError(
            source_name,
            [
                f"study.version: version {spec.study.version} of {study.code} is already loaded with different "
                "content; an amendment needs a new version"
            ],
        )
    if study.registry_number and spec.study.registry_number != study.registry_number:
        raise ProtocolFileError(
            source_name,
            [f"study.registry_number: {study.code} is registered as {study.registry_number}, not this file's"],
        )
    latest = ProtocolVersion.objects.filter(study=study).order_by("-effective_date").first()
    if latest is not None and spec.study.effective_date < latest.effective_date:
        raise ProtocolFileError(
            source_name,
            [
                f"study.effective_date: {spec.study.effective_date} is before version {latest.version}'s "
                f"{latest.effective_date}; an amendment takes effect after the version it amends"
            ],
        )


def _create_parts(protocol: ProtocolVersion, spec: ProtocolFile) -> None:
    for order, arm in enumerate(spec.arms):
        Arm.objects.create(protocol=protocol, order=order, **arm.model_dump())
    for order, factor in enumerate(spec.stratification):
        data = factor.model_dump()
        data["score"] = data["score"] or ""
        data["visit_code"] = data.pop("visit") or ""
        StratificationFactor.objects.create(protocol=protocol, order=order, **data)
    for order, item in enumerate(spec.eligibility):
        rule, condition = item.tie()
        EligibilityCriterion.objects.create(
            protocol=protocol,
            order=order,
            code=item.code,
            kind=item.kind,
            text=item.text,
            qualifying_answer=item.qualifies_with(),
            fact_rule=rule,
            fact=condition.fact if condition else "",
            fact_min=condition.min if condition else None,
            fact_max=condition.max if condition else None,
            fact_values=list(condition.values) if condition else [],
        )
    analytes = {
        item.code: Analyte.objects.create(protocol=protocol, order=order, **item.model_dump())
        for order, item in enumerate(spec.analytes)
    }
    panels = {}
    for order, item in enumerate(spec.lab_panels):
        panel = LabPanel.objects.create(protocol=protocol, order=order, code=item.code, label=item.label)
        panel.analytes.set([analytes[code] for code in item.analytes])
        panels[item.code] = panel
    for order, visit in enumerate(spec.visits):
        VisitDefinition.objects.create(
            protocol=protocol,
            order=order,
            code=visit.code,
            label=visit.label,
            anchor=visit.anchor,
            offset_days=visit.offset.in_days(),
            offset_label=visit.offset.label(),
            window_before_days=visit.window_before.in_days(),
            window_after_days=visit.window_after.in_days(),
            forms=list(visit.forms),
            lab_panel=panels.get(visit.lab_panel),
            infusion_number=visit.infusion_number,
        )
    _create_infusion_plan(protocol, spec)
    for order, item in enumerate(spec.endpoints):
        EndpointCollection.objects.create(
            protocol=protocol,
            order=order,
            code=item.code,
            label=item.label,
            collect_days=item.collect_for.in_days(),
            collect_label=item.collect_for.label(),
        )
    for order, item in enumerate(spec.background_medication):
        BackgroundMedication.objects.create(protocol=protocol, order=order, code=f"BG{order + 1}", **item.model_dump())


def _create_infusion_plan(protocol: ProtocolVersion, spec: ProtocolFile) -> None:
    plan = spec.infusion_plan
    if plan is None:
        return
    InfusionPlan.objects.create(protocol=protocol, **plan.model_dump(exclude={"release_criteria"}))
    for order, item in enumerate(plan.release_criteria):
        data = item.model_dump()
        data["comparator"] = data["comparator"] or ""
        ReleaseCriterion.objects.create(protocol=protocol, order=order, **data)
