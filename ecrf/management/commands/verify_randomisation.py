"""manage.py verify_randomisation --study CODE: recompute the commitment (and, for a generated list, regenerate it
from its secret) and check the order of allocation."""

from django.core.management.base import BaseCommand, CommandError

from ecrf.models import Study
from ecrf.selectors.randomisation import active_list, legacy_allocations, verify_list


class Command(BaseCommand):
    help = "Check the active randomisation list against its commitment and that allocations took slots in order."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)

    def handle(self, *args, study, **options):
        target = Study.objects.filter(code=study).first()
        if target is None:
            raise CommandError(f"No study {study}.")
        randomisation_list = active_list(target)
        if randomisation_list is None:
            raise CommandError(f"{target.code} has no randomisation list.")
        result = verify_list(randomisation_list)
        legacy = legacy_allocations(target)
        if legacy:
            self.stdout.write(f"{legacy} randomised allocations predate this list (no slot) and are not checked.")
        if not result.ok:
            raise CommandError("Verification FAILED:\n" + "\n".join(f"  - {p}" for p in result.problems))
        if result.regenerated:
            self.stdout.write("Regenerating from the list's stored secret gives the same commitment.")
        else:
            self.stdout.write("The list has no stored secret (imported or legacy): regeneration not checked.")
        self.stdout.write(
            f"{target.code}: commitment {randomisation_list.commitment_sha256} matches; "
            f"{result.allocations_checked} allocations took the next free slot of their stratum in order. OK."
        )
