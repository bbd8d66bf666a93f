"""manage.py export_study --study CODE --format FORMAT --output PATH: write one study's export and log it."""

from django.core.management.base import BaseCommand, CommandError

from ecrf.management.arguments import study_option, user_option
from exports.services import AVAILABLE_FORMATS, ExportUnavailable, export_study


class Command(BaseCommand):
    help = "Export a study's data to one file (csv: a zip of one CSV per form, codebook, manifest; odm: ODM XML)."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, metavar="CODE")
        parser.add_argument("--format", required=True, metavar="FORMAT", help=f"One of {', '.join(AVAILABLE_FORMATS)}.")
        parser.add_argument("--output", required=True, metavar="PATH")
        parser.add_argument("--by", metavar="USERNAME", help="Who exports (recorded in the export log).")
        parser.add_argument(
            "--cut", type=int, metavar="N", help="Export data cut N (manage.py declare_cut) instead of live data."
        )
        parser.add_argument(
            "--deidentify",
            action="store_true",
            help="Dates shifted per subject, free text dropped, pseudonyms for codes, ages over 89 top-coded.",
        )

    def handle(self, *args, study, format, output, by, deidentify, cut, **options):
        found = study_option(study)
        user = user_option(by)
        frozen = None
        if cut is not None:
            frozen = found.data_cuts.filter(number=cut).first()
            if frozen is None:
                raise CommandError(f"--cut: {found.code} has no data cut {cut}")
        try:
            log = export_study(found, format, output, by=user, deidentify=deidentify, cut=frozen)
        except ExportUnavailable as error:
            raise CommandError(f"--{error.field}: {error} (formats: {', '.join(AVAILABLE_FORMATS)})") from None
        total = sum(log.row_counts.values())
        self.stdout.write(f"Exported {found.code} as {format} to {output}: {total} rows, SHA-256 {log.sha256}.")
