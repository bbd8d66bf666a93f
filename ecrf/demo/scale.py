"""A synthetic DLC study of any size, for measuring how the system scales (``manage.py seed_scale``).

The demo's DLC cohort (ecrf/demo/cohorts.py) is planned again under a new seed until the study has the number of
subjects asked for, spread over sites of uneven size (the first the largest, as in a real multicentre trial), with
the liver panel drawn at every visit, and written in bulk with a history row per record (ecrf/demo/builder.py):
valid as a study entered through the forms, only faster to make. The first two sites are the demo's, so the demo
accounts work at the largest one.
"""

import random
from dataclasses import dataclass

from django.db import connection, transaction

from ecrf.demo.builder import TrialBuilder
from ecrf.demo.cohorts import COHORTS
from ecrf.demo.plans import plan_trial
from ecrf.models import Site, Study, Subject
from ecrf.models.changes import mark_changed
from ecrf.selectors.protocols import latest_protocol
from ecrf.services import organisation

STUDY = "DLC"
EXTRA_SITE = "SCALE-{n:02d}"
EXTRA_PANEL = (
    "liver"  # drawn at every visit, as an amendment with labs at every visit would: about 100 values a subject
)


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


def grow_study(*, subjects: int, sites: list[Site], users: dict, seed: int = 1) -> Grown:
    """Add synthetic subjects to the DLC study until it has ``subjects``; one transaction per planned cohort."""
    protocol = latest_protocol(Study.objects.get(code=STUDY))
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
        extra_panel=EXTRA_PANEL,
    )
    for site in sites:  # registration numbers continue where the site's subjects stop
        builder.subjects_at[site.code] = Subject.objects.filter(study=study, site=site).count()
    added, round_number = 0, 0
    while have + added < subjects:
        round_number += 1
        plans = plan_trial(cohort, random.Random(f"{STUDY}-scale-{seed}-{have + added}-{round_number}"))
        plans = plans[: subjects - have - added]
        with transaction.atomic():
            added += len(builder.build(plans))
            mark_changed([study.pk])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    per_site = {site.code: Subject.objects.filter(study=study, site=site).count() for site in sites}
    return Grown(subjects=have + added, added=added, per_site=per_site)
