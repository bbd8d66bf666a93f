#!/bin/sh
# Wait for the database, apply migrations, then hand over to the command (gunicorn by default).
set -eu
python manage.py wait_for_db --timeout "${DB_WAIT_SECONDS:-60}"
python manage.py migrate --noinput
exec "$@"
