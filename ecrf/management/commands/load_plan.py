"""manage.py load_plan FILE [FILE ...]: validate and load statistical analysis plan files (analysis/plans/)."""

from django.core.management.base import BaseCommand, CommandError

from ecrf.management.arguments import user_option
from ecrf.services.plans import PlanFileError, load_plan_file


class Command(BaseCommand):
    help = (
        "Load a study's analysis plan file (TOML). The same file again changes nothing; a revision needs a new version."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--by", metavar="USERNAME", help="Who loads the plan (recorded with it).")

    def handle(self, *args, files, by, **options):
        user = user_option(by)
        for path in files:
            try:
                result = load_plan_file(path, by=user)
            except PlanFileError as error:
                problems = "\n".join(f"  - {problem}" for problem in error.problems)
                raise CommandError(f"{error.source}: not loaded, nothing changed.\n{problems}") from None
            plan = result.plan
            if result.created:
                self.stdout.write(f"Loaded {plan.study.code} analysis plan {plan.version} ({path}).")
            else:
                self.stdout.write(f"{plan.study.code} analysis plan {plan.version} is already loaded: no change.")
