"""manage.py import_study --study CODE --input PATH --by USERNAME: load a csv bundle through the services."""

from django.core.management.base import BaseCommand, CommandError

from ecrf.management.arguments import study_option, user_option
from ecrf.roles import Role
from ecrf.services.import_rows import ImportRefused
from exports.imports import import_bundle


class Command(BaseCommand):
    help = (
        "Load a csv bundle (export_study --format csv) into a study that has no subjects yet. Every row is checked "
        "by the same rules as the forms; any problem, named by file, row and column, and nothing is loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, metavar="CODE")
        parser.add_argument("--input", required=True, metavar="PATH", help="The csv bundle (a zip).")
        parser.add_argument("--by", required=True, metavar="USERNAME", help="The study's data manager loading it.")

    def handle(self, *args, study, input, by, **options):
        found, user = study_option(study), user_option(by)
        if not user.memberships.filter(study=found, role=Role.DATA_MANAGER, is_active=True).exists():
            raise CommandError(f"--by: {user} is not a data manager of {found.code}")
        try:
            loaded = import_bundle(found, input, by=user)
        except ImportRefused as refused:
            for problem in refused.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"Import refused, nothing loaded: {len(refused.problems)} problem(s) above.") from None
        counts = ", ".join(f"{rows} {name}" for name, rows in loaded.items() if rows)
        self.stdout.write(self.style.SUCCESS(f"Imported into {found.code}: {counts}."))
