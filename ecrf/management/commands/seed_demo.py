"""Load the demo site, studies and one account per role. Only in DEMO_MODE: the passwords are public."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ecrf.roles import Role
from ecrf.services import organisation

DEMO_PASSWORD = "ucmsc-demo-2026"  # noqa: S105  (public by design: DEMO_MODE only)
DEMO_SITE = {"code": "BJ-5MC", "name": "Fifth Medical Center (demo)", "city": "Beijing", "country": "China"}
DEMO_STUDIES = [
    {
        "code": "ACLF",
        "title": "UC-MSC in HBV-related acute-on-chronic liver failure",
        "registry_number": "NCT01218464",
    },
    {
        "code": "DLC",
        "title": "UC-MSC in HBV-related decompensated liver cirrhosis",
        "registry_number": "NCT01220492",
    },
]
# username, first name, last name, role, works at the demo site (else study-wide)
DEMO_ACCOUNTS = [
    ("coordinator", "Lin", "Chen", Role.COORDINATOR, True),
    ("investigator", "Ming", "Wang", Role.INVESTIGATOR, True),
    ("monitor", "Jia", "Zhou", Role.MONITOR, False),
    ("datamanager", "Yan", "Liu", Role.DATA_MANAGER, False),
]


class Command(BaseCommand):
    help = "Create the demo site, studies and accounts (DEMO_MODE only). Does nothing if they exist."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="Random seed for the synthetic subjects.")

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("Demo accounts have public passwords: set DEMO_MODE=true to load them.")
        if get_user_model().objects.filter(username="coordinator").exists():
            self.stdout.write("Demo data already loaded; nothing to do.")
            return
        with transaction.atomic():
            self._load()
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded. Every demo account's password: {DEMO_PASSWORD}"))

    def _load(self):
        site = organisation.ensure_site(**DEMO_SITE)
        studies = [organisation.ensure_study(**study, sites=[site]) for study in DEMO_STUDIES]
        for username, first, last, role, at_site in DEMO_ACCOUNTS:
            user = organisation.create_user(username=username, password=DEMO_PASSWORD, first_name=first, last_name=last)
            for study in studies:
                organisation.grant_membership(user=user, study=study, role=role, site=site if at_site else None)
        get_user_model().objects.create_superuser(username="admin", password=DEMO_PASSWORD, email="")
