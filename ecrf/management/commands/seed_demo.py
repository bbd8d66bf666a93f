"""Load the demo: two sites, both seed protocols, one account per role, and synthetic subjects that reproduce
the published flow of both trials. Only in DEMO_MODE: the passwords are public.
"""

import argparse
import random
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ecrf.demo.builder import TrialBuilder
from ecrf.demo.cohorts import COHORTS
from ecrf.demo.plans import plan_trial
from ecrf.roles import Role
from ecrf.services import organisation
from ecrf.services.protocols import load_protocol_file

DEMO_PASSWORD = "ucmsc-demo-2026"  # noqa: S105  (public by design: DEMO_MODE only)
PROTOCOL_DIR = Path(__file__).resolve().parents[2] / "protocols"
DEMO_SITES = [
    {"code": "BJ-5MC", "name": "Fifth Medical Center (demo)", "city": "Beijing", "country": "China"},
    {"code": "SZ-3PH", "name": "Third People's Hospital (demo)", "city": "Shenzhen", "country": "China"},
]
# username, first name, last name, role, works at the first demo site (else study-wide)
DEMO_ACCOUNTS = [
    ("coordinator", "Lin", "Chen", Role.COORDINATOR, True),
    ("investigator", "Ming", "Wang", Role.INVESTIGATOR, True),
    ("monitor", "Jia", "Zhou", Role.MONITOR, False),
    ("datamanager", "Yan", "Liu", Role.DATA_MANAGER, False),
]


class Command(BaseCommand):
    help = "Create the demo sites, studies, accounts and subjects (DEMO_MODE only). Does nothing if they exist."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="Random seed for the synthetic subjects.")
        parser.add_argument(
            "--subjects",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="Create the synthetic subjects (--no-subjects: sites, protocols and accounts only).",
        )

    def handle(self, *args, seed, subjects, **options):
        if not settings.DEMO_MODE:
            raise CommandError("Demo accounts have public passwords: set DEMO_MODE=true to load them.")
        if get_user_model().objects.filter(username="coordinator").exists():
            self.stdout.write("Demo data already loaded; nothing to do.")
            return
        started = time.monotonic()
        with transaction.atomic():
            counts = self._load(seed, with_subjects=subjects)
        summary = ", ".join(f"{code} {n} subjects" for code, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded in {time.monotonic() - started:.1f} s ({summary}, seed {seed}). "
                f"Every demo account's password: {DEMO_PASSWORD}"
            )
        )

    def _load(self, seed: int, *, with_subjects: bool) -> dict[str, int]:
        sites = [organisation.ensure_site(**site) for site in DEMO_SITES]
        protocols = [load_protocol_file(path).protocol for path in sorted(PROTOCOL_DIR.glob("*.toml"))]
        studies = [organisation.ensure_study(code=p.study.code, title=p.study.title, sites=sites) for p in protocols]
        users = {}
        for username, first, last, role, at_site in DEMO_ACCOUNTS:
            user = organisation.create_user(username=username, password=DEMO_PASSWORD, first_name=first, last_name=last)
            for study in studies:
                organisation.grant_membership(user=user, study=study, role=role, site=sites[0] if at_site else None)
            users[username] = user
        organisation.make_data_manager_staff(users["datamanager"])
        get_user_model().objects.create_superuser(username="admin", password=DEMO_PASSWORD, email="")
        counts = {}
        for protocol in protocols if with_subjects else []:
            cohort = COHORTS.get(protocol.study.code)
            if cohort is None:
                continue
            plans = plan_trial(cohort, random.Random(f"{cohort.study_code}-{seed}"))
            builder = TrialBuilder(protocol, sites, time_unit=cohort.time_unit, users=users, seed=seed)
            counts[protocol.study.code] = len(builder.build(plans))
        return counts
