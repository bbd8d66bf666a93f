"""A synthetic DLC study of N subjects over S sites, for `make bench` and for trying the system at trial scale.

Loads the demo's sites, protocols, plans and accounts first (``seed_demo --no-subjects``), so DEMO_MODE only.
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ecrf.demo.scale import grow_study, scale_sites
from ecrf.management.commands.seed_demo import DEMO_ACCOUNTS, DEMO_SITES
from ecrf.models import Site


class Command(BaseCommand):
    help = "Grow the DLC study to --subjects synthetic subjects over --sites sites (DEMO_MODE only)."

    def add_arguments(self, parser):
        parser.add_argument("--subjects", type=int, required=True, help="Subjects the study should have.")
        parser.add_argument("--sites", type=int, default=8, help="Sites to spread them over (at least 1).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed for the synthetic subjects.")

    def handle(self, *args, subjects, sites, seed, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "The scale study uses the demo accounts, whose passwords are public: set DEMO_MODE=true."
            )
        if subjects < 1 or sites < 1:
            raise CommandError("Give at least one subject and one site.")
        started = time.monotonic()
        call_command("seed_demo", subjects=False, stdout=self.stdout)
        demo_sites = [Site.objects.get(code=site["code"]) for site in DEMO_SITES]
        users = {u.username: u for u in get_user_model().objects.filter(username__in=[a[0] for a in DEMO_ACCOUNTS])}
        grown = grow_study(subjects=subjects, sites=scale_sites(demo_sites, sites), users=users, seed=seed)
        spread = ", ".join(f"{code} {count}" for code, count in grown.per_site.items())
        took = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"DLC has {grown.subjects} subjects ({grown.added} added in {took:.1f} s): {spread}")
        )
