"""manage.py verify_audit [--study CODE]: recompute every history row's hash chain and compare live records."""

from django.core.management.base import BaseCommand, CommandError

from ecrf.models import Study
from ecrf.selectors.audit import history_models, verify_model


class Command(BaseCommand):
    help = "Check the audit trail: each history row's hash, its link to the row before, and each live record."

    def add_arguments(self, parser):
        parser.add_argument("--study", help="Check only this study's records (code).")

    def handle(self, *args, study=None, **options):
        if study is not None and not Study.objects.filter(code=study).exists():
            raise CommandError(f"No study {study}.")
        problems = []
        for model in history_models():
            checked, found = verify_model(model, study)
            problems += found
            self.stdout.write(f"{model.__name__}: {checked} history rows checked, {len(found)} problems")
        if problems:
            listed = "\n".join(f"  - {p}" for p in problems)
            raise CommandError(f"Audit trail FAILED, first at {problems[0]}:\n{listed}")
        self.stdout.write(f"Audit trail of {study or 'every study'} verifies. OK.")
