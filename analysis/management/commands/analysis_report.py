"""``manage.py analysis_report --study DLC [--json]``: the study's analysis, live from the stored records."""

import json

from django.core.management.base import BaseCommand, CommandError

from analysis.live import NoAnalysis, cached_report
from analysis.report_text import render
from ecrf.models import Study


class Command(BaseCommand):
    help = (
        "Print a study's analysis (flow, Table 1, survival, HCC, labs by visit, adverse events) by its plan: the "
        "dashboard's numbers, recomputed when the study's data, protocol or plan changed since they were cached."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="study code, e.g. DLC")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the JSON the dashboards read")

    def handle(self, *args, study: str, as_json: bool, **options):
        found = Study.objects.filter(code=study).first()
        if found is None:
            known = ", ".join(Study.objects.order_by("code").values_list("code", flat=True)) or "none loaded"
            raise CommandError(f"No study {study!r}; studies: {known}")
        try:
            report = cached_report(found).report
        except NoAnalysis as error:
            raise CommandError(str(error)) from error
        self.stdout.write(_json(report) if as_json else render(report), ending="")


def _json(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
