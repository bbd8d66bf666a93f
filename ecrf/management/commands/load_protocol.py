"""manage.py load_protocol FILE [FILE ...]: validate and load protocol files; nothing loads from a bad file."""

from django.core.management.base import BaseCommand, CommandError

from ecrf.protocol_schema import ProtocolFileError
from ecrf.services.protocols import load_protocol_file


class Command(BaseCommand):
    help = "Load a study's protocol file (TOML). The same file again changes nothing; a changed one is a new version."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, files, **options):
        for path in files:
            try:
                result = load_protocol_file(path)
            except ProtocolFileError as error:
                problems = "\n".join(f"  - {problem}" for problem in error.problems)
                raise CommandError(f"{error.source}: not loaded, nothing changed.\n{problems}") from None
            protocol = result.protocol
            if result.created:
                self.stdout.write(f"Loaded {protocol.study.code} protocol {protocol.version} ({path}).")
            else:
                self.stdout.write(f"{protocol.study.code} protocol {protocol.version} is already loaded: no change.")
