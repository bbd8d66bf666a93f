"""manage.py declare_cut --study CODE --label TEXT: freeze the study's data now as its next data cut."""

from django.core.management.base import BaseCommand, CommandError

from ecrf.management.arguments import study_option, user_option
from exports.cuts import declare_cut


class Command(BaseCommand):
    help = "Declare a data cut: the study's records and analysis datasets frozen as files with a SHA-256 manifest."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, metavar="CODE")
        parser.add_argument("--label", required=True, help='What the cut is for, e.g. "Interim analysis 1".')
        parser.add_argument("--by", metavar="USERNAME", help="Who declares it (recorded with the cut).")

    def handle(self, *args, study, label, by, **options):
        found = study_option(study)
        user = user_option(by)
        try:
            cut = declare_cut(found, label=label, by=user)
        except ValueError as error:
            raise CommandError(f"--label: {error}") from None
        rows = cut.manifest["files"]["bundle.zip"]["rows"]
        self.stdout.write(
            f"Declared cut {cut.number} of {found.code} ({cut.label}) as of {cut.declared_at:%Y-%m-%d %H:%M:%S %Z}: "
            f"{rows} rows frozen with their analysis datasets and report in {cut.path}."
        )
