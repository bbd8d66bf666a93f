"""manage.py run_edit_checks --study CODE: run the protocol's edit checks over every record of the study."""

from django.core.management.base import BaseCommand, CommandError

from ecrf.models import Study
from ecrf.services.edit_checks import run_for_study


class Command(BaseCommand):
    help = "Run the study's edit checks over all its records, raising and closing their queries as saves do."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="The study's code.")

    def handle(self, *args, study, **options):
        found = Study.objects.filter(code=study).first()
        if found is None:
            raise CommandError(f"No study {study}.")
        standing = run_for_study(found)
        for code, count in standing.items():
            self.stdout.write(f"{code}: {count} open")
        self.stdout.write(f"{sum(standing.values())} open edit-check queries in {study}.")
