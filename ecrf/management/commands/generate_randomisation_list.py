"""manage.py generate_randomisation_list --study CODE: permuted blocks per stratum from a fresh secret, committed."""

import argparse
import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ecrf.models import Study
from ecrf.services.randomisation import generate_list


class Command(BaseCommand):
    help = (
        "Generate a study's stratified randomisation list from a 256-bit secret drawn from the OS and print its "
        "commitment. The secret is shown only on the data manager's randomisation page."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--slots-per-stratum", type=int, default=100)
        parser.add_argument("--seed", help=argparse.SUPPRESS)  # refused below with the reason, not "unknown"

    def handle(self, *args, study, slots_per_stratum, seed=None, **options):
        if seed is not None:
            raise CommandError(
                "--seed is no longer accepted: a small seed can be found by brute force from one code. Each list "
                "now comes from its own 256-bit secret from the OS, shown to data managers on the list's page."
            )
        target = Study.objects.filter(code=study).first()
        if target is None:
            raise CommandError(f"No study {study}.")
        try:
            randomisation_list = generate_list(study=target, slots_per_stratum=slots_per_stratum, by=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        randomisation_list.source_name = f"manage.py by {getpass.getuser()}"
        randomisation_list.save(update_fields=["source_name"])
        strata = randomisation_list.slots.values("stratum").distinct().count()
        self.stdout.write(
            f"{target.code}: {randomisation_list.slots.count()} slots in {strata} strata.\n"
            f"Commitment (SHA-256): {randomisation_list.commitment_sha256}\n"
            "The generation secret is on the data manager's randomisation page."
        )
