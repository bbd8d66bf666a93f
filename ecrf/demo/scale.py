"""A synthetic DLC study of any size, for measuring how the system scales (``manage.py seed_scale``).

The demo's DLC cohort (ecrf/demo/cohorts.py) is planned again under a new seed until the study has the number of
subjects asked for, spread over sites of uneven size (the first the largest, as in a real multicentre trial), under
an amendment of the DLC protocol with the liver panel at every visit (version 1.1-labs, loaded by ``amend``), and
written in bulk with a history row per record (ecrf/demo/builder.py): valid as a study entered through the forms,
only faster to make. The first two sites are the demo's, so the demo accounts work at the largest one.
"""

import random
import re
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction

from ecrf.demo.builder import TrialBuilder
from ecrf.demo.cohorts import COHORTS
from ecrf.demo.plans import plan_trial
from ecrf.models import Allocation, Site, Study, Subject
from ecrf.models.changes import mark_changed
from ecrf.services import organisation

STUDY = "DLC"
EXTRA_SITE = "SCALE-{n:02d}"
PROTOCOL = Path(__file__).resolve().parents[1] / "protocols" / "dlc_nct01220492.toml"
AMENDMENT = "1.1-labs"
LIST_SLOTS = 200  # per stratum: the bench randomises 64 subjects per size at the two demo sites


@dataclass(frozen=True)
class Grown:
    subjects: int  # in the study now
    added: int
    per_site: dict[str, int]


def site_weights(count: int) -> list[float]:
    """Linearly falling shares: with 8 sites the first has 2/9 of the subjects, the last 1/36."""
    return [float(count - n) for n in range(count)]


def scale_sites(demo_sites: list[Site], count: int) -> list[Site]:
    """The demo's sites, then SCALE-03, SCALE-04, ... up to ``count`` sites."""
    extra = [
        organisation.ensure_site(code=EXTRA_SITE.format(n=n), name=f"Scale test hospital {n}", country="China")
        for n in range(len(demo_sites) + 1, count + 1)
    ]
    return [*demo_sites, *extra][:count]


def amended_text(text: str) -> str:
    """The DLC protocol file as amendment 1.1-labs: the liver panel (and the labs form) at every visit that had no
    panel, so a subject has about a hundred lab values; everything else as in version 1.0."""
    text = text.replace('version = "1.0"', f'version = "{AMENDMENT}"', 1)
    blocks = re.split(r"(?m)^(?=\[\[)", text)
    for n, block in enumerate(blocks):
        if block.startswith("[[visits]]") and "lab_panel =" not in block:
            block = re.sub(r"(?m)^forms = \[(.*)\]", lambda m: f'forms = [{m[1]}, "labs"]\nlab_panel = "liver"', block)
            blocks[n] = block
    return "".join(blocks)


def amend():
    """The DLC study's amendment with labs at every visit, loaded unless it is already (its latest version)."""
    from ecrf.services.protocols import load_protocol

    if not Study.objects.filter(code=STUDY).exists():
        raise ValueError("load the DLC protocol first (seed_demo)")
    return load_protocol(amended_text(PROTOCOL.read_text()), source_name="dlc-scale-amendment.toml").protocol


def _list_for(protocol, data_manager) -> None:
    """A randomisation list of the amendment's arms over every site, unless the active one is already: the demo's
    list (of version 1.0, before the scale sites) allocated no one, so it may still be replaced."""
    from ecrf.services.randomisation import generate_list

    active = protocol.study.randomisation_lists.filter(is_active=True).first()
    if active is None or active.protocol_id != protocol.pk:
        generate_list(study=protocol.study, slots_per_stratum=LIST_SLOTS, by=data_manager)


def grow_study(*, subjects: int, sites: list[Site], users: dict, seed: int = 1) -> Grown:
    """Add synthetic subjects to the DLC study until it has ``subjects``; one transaction per planned cohort."""
    protocol = amend()
    study = protocol.study
    organisation.ensure_study(code=study.code, title=study.title, sites=sites)
    cohort = COHORTS[STUDY]
    have = Subject.objects.filter(study=study).count()
    builder = TrialBuilder(
        protocol,
        sites,
        time_unit=cohort.time_unit,
        users=users,
        seed=seed,
        site_weights=site_weights(len(sites)),
    )
    # Randomisation codes and registration numbers continue where the study's stop.
    builder.codes.update(Allocation.objects.filter(subject__study=study).values_list("randomisation_code", flat=True))
    for site in sites:
        builder.subjects_at[site.code] = Subject.objects.filter(study=study, site=site).count()
    added, round_number = 0, 0
    while have + added < subjects:
        round_number += 1
        plans = plan_trial(cohort, random.Random(f"{STUDY}-scale-{seed}-{have + added}-{round_number}"))
        plans = plans[: subjects - have - added]
        with transaction.atomic():
            added += len(builder.build(plans))
            mark_changed([study.pk])
    _list_for(protocol, users["datamanager"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    per_site = {site.code: Subject.objects.filter(study=study, site=site).count() for site in sites}
    return Grown(subjects=have + added, added=added, per_site=per_site)
