"""Wait until the database accepts connections (the container starts before PostgreSQL is ready)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection


class Command(BaseCommand):
    help = "Wait until the default database answers, or fail after --timeout seconds."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args, **options):
        deadline = time.monotonic() + options["timeout"]
        while True:
            try:
                connection.ensure_connection()
            except OperationalError as exc:
                if time.monotonic() >= deadline:
                    raise CommandError(f"Database not reachable after {options['timeout']:g} s: {exc}") from exc
                time.sleep(1)
                connection.close()
                continue
            self.stdout.write("Database is up.")
            return
