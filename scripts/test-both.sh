#!/usr/bin/env bash
# The suite on SQLite and on a throwaway PostgreSQL side by side (CI has two cores). The PostgreSQL pass, the longer
# one (a network round trip per query), runs on PG_WORKERS pytest-xdist workers (default 2, each with its own test
# database; one file's tests stay on one worker). SQLite stays one process: with four test processes on two cores
# the browser journeys' timeouts and the SQLite live server's table locks failed. Each run's log is printed whole
# once both have ended, and the script fails when either run fails (pytest's exit 5, "no tests collected", included).
# Usage: scripts/test-both.sh .venv/bin/pytest [pytest arguments]
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
EXPECT_DB_VENDOR=sqlite "$@" >"$logs/sqlite.log" 2>&1 &
sqlite=$!
scripts/with-postgres.sh env EXPECT_DB_VENDOR=postgresql "$@" -n "${PG_WORKERS:-2}" --dist loadfile \
  >"$logs/postgresql.log" 2>&1 &
postgresql=$!
wait "$sqlite"
sqlite_status=$?
wait "$postgresql"
postgresql_status=$?
echo "== Test suite on SQLite (exit status $sqlite_status) =="
cat "$logs/sqlite.log"
echo "== Test suite on a throwaway PostgreSQL (exit status $postgresql_status) =="
cat "$logs/postgresql.log"
[ "$sqlite_status" -eq 0 ] && [ "$postgresql_status" -eq 0 ]
