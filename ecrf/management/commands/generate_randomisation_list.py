"""manage.py generate_randomisation_list --study CODE --seed N: permuted blocks per stratum, committed."""

import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ecrf.models import Study
from ecrf.services.randomisation import generate_list


class Command(BaseCommand):
    help = "Generate a study's stratified randomisation list (same seed, same list) and print its commitment."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--seed", type=int, required=True)
        parser.add_argument("--slots-per-stratum", type=int, default=100)

    def handle(self, *args, study, seed, slots_per_stratum, **options):
        target = Study.objects.filter(code=study).first()
        if target is None:
            raise CommandError(f"No study {study}.")
        try:
            randomisation_list = generate_list(study=target, seed=seed, slots_per_stratum=slots_per_stratum, by=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        randomisation_list.source_name = f"manage.py by {getpass.getuser()}"
        randomisation_list.save(update_fields=["source_name"])
        strata = randomisation_list.slots.values("stratum").distinct().count()
        self.stdout.write(
            f"{target.code}: {randomisation_list.slots.count()} slots in {strata} strata.\n"
            f"Commitment (SHA-256): {randomisation_list.commitment_sha256}"
        )
