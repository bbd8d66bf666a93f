"""Load the demo: two sites, both seed protocols and their analysis plans, one account per role, and synthetic
subjects that reproduce the published flow of both trials. Only in DEMO_MODE: the passwords are public.
"""

import argparse
import random
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from analysis.plan import PLANS
from ecrf.demo.builder import TrialBuilder
from ecrf.demo.cohorts import COHORTS
from ecrf.demo.monitoring import seed_monitoring
from ecrf.demo.plans import plan_trial
from ecrf.protocol_schema import ProtocolFileError
from ecrf.roles import Role
from ecrf.services import organisation
from ecrf.services.plans import PlanFileError, load_plan_file
from ecrf.services.protocols import load_protocol_file
from ecrf.services.randomisation import generate_list

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


def _refresh_planner_statistics() -> None:
    """Give PostgreSQL's planner statistics of the rows just loaded (autovacuum would, minutes later).

    Without them the first dashboard and the demo-data tests plan multi-join lab queries for empty tables and
    take seconds each. ANALYZE runs inside the transaction and sees its rows; SQLite has no need of it.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


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
        started = time.monotonic()
        try:
            with transaction.atomic():
                created = self._load(seed, with_subjects=subjects)
                _refresh_planner_statistics()
        except (ProtocolFileError, PlanFileError) as error:
            # A demo database from an older checkout holds the protocol and plan files as they were then.
            raise CommandError(
                f"Demo not loaded: {error}. If this is a demo database from an older checkout, start afresh: "
                "`make clean && make run` (removes var/, the demo database with it)."
            ) from None
        if not created:
            self.stdout.write("Demo data already loaded; nothing to do.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded in {time.monotonic() - started:.1f} s ({', '.join(created)}; seed {seed}). "
                f"Every demo account's password: {DEMO_PASSWORD}"
            )
        )

    def _load(self, seed: int, *, with_subjects: bool) -> list[str]:
        """Load whatever part of the demo is missing (a database from an older demo gets the new parts)."""
        created = []
        sites = [organisation.ensure_site(**site) for site in DEMO_SITES]
        protocols = []
        for path in sorted(PROTOCOL_DIR.glob("*.toml")):
            result = load_protocol_file(path)
            protocols.append(result.protocol)
            if result.created:
                created.append(f"protocol {result.protocol.study.code} {result.protocol.version}")
        studies = [organisation.ensure_study(code=p.study.code, title=p.study.title, sites=sites) for p in protocols]
        users = self._accounts(studies, sites[0], created)
        for path in sorted(PLANS.glob("*.toml")):
            result = load_plan_file(path, by=users["datamanager"])
            if result.created:
                created.append(f"analysis plan {result.plan.study.code} {result.plan.version}")
        for protocol in protocols:
            if protocol.is_randomised and not protocol.study.randomisation_lists.exists():
                generate_list(study=protocol.study, slots_per_stratum=100, by=users["datamanager"])
                created.append(f"{protocol.study.code} randomisation list")
        built = []
        for protocol in protocols if with_subjects else []:
            cohort = COHORTS.get(protocol.study.code)
            if cohort is None or protocol.study.subjects.exists():
                continue
            plans = plan_trial(cohort, random.Random(f"{cohort.study_code}-{seed}"))
            builder = TrialBuilder(protocol, sites, time_unit=cohort.time_unit, users=users, seed=seed)
            created.append(f"{protocol.study.code} {len(builder.build(plans))} subjects")
            built.append(protocol.study)
        if built:
            _refresh_planner_statistics()  # the bulk-loaded rows: PostgreSQL plans the reads below on real counts
        for study in built:
            seed_monitoring(study, users)
        return created

    def _accounts(self, studies, home_site, created: list[str]) -> dict:
        users = {}
        for username, first, last, role, at_site in DEMO_ACCOUNTS:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                user = organisation.create_user(
                    username=username, password=DEMO_PASSWORD, first_name=first, last_name=last
                )
                created.append(f"account {username}")
            for study in studies:
                if not user.memberships.filter(study=study).exists():
                    organisation.grant_membership(
                        user=user, study=study, role=role, site=home_site if at_site else None
                    )
            users[username] = user
        organisation.make_data_manager_staff(users["datamanager"])
        if not get_user_model().objects.filter(username="admin").exists():
            get_user_model().objects.create_superuser(username="admin", password=DEMO_PASSWORD, email="")
        return users
