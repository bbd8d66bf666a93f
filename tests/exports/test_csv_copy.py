"""The csv export's COPY path on PostgreSQL writes the same bytes as its Python path, cell by cell and file by file."""

import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from django.db import connection, models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecrf import csv_safe
from ecrf.services import events
from exports import csv_bundle, selectors
from exports.selectors import FORMS, form_csv_copy, form_rows

pytestmark = pytest.mark.postgres

HOSTILE_TEXT = ["=1+1", "-2", "+x", "@SUM(A1)", "\tx", "\rx", 'a,"b"', "two\nlines", "", " padded ", "é ü 中", "'"]


def _as_written(value) -> str:
    """The cell as the Python path writes it: exports.csv_bundle.cell, then the CSV cell guard, as text."""
    written = csv_safe.safe_cell(csv_bundle.cell(value))
    return "" if written is None else str(written)


def _as_sql(field: models.Field, value, cast: str) -> str:
    """The cell as the COPY path renders ``value`` of ``field``'s type, NULL as ""."""
    literal = connection.ops.compose_sql(f"%s::{cast}", [value])
    template = selectors._sql_cell(field)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {template % {'expressions': literal}}")
        rendered = cursor.fetchone()[0]
    return "" if rendered is None else rendered


EDGE_FLOATS = [1.0, -0.0, 0.1 + 0.2, 1e15, 2.196317798241309e16, 1e-7]  # the last two: PostgreSQL's text differs
TEXT = st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])  # what a PostgreSQL text can hold
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(
    value=st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1.0, -0.0, 0.1 + 0.2, 1e15, 2.196317798241309e16, 1e-7])
)
def test_a_float_is_written_to_15_significant_digits(db, value):
    assert _as_sql(models.FloatField(), value, "float8") == _as_written(value)


@SETTINGS
@given(
    value=st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]))
    | st.sampled_from(HOSTILE_TEXT)
)
def test_a_text_is_guarded_and_an_empty_one_written_empty(db, value):
    assert _as_sql(models.TextField(), value, "text") == _as_written(value)


@SETTINGS
@given(value=st.datetimes(timezones=st.just(UTC), min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))
def test_a_time_is_written_in_utc_as_isoformat_writes_it(db, value):
    assert _as_sql(models.DateTimeField(), value, "timestamptz") == _as_written(value)


@SETTINGS
@given(value=st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False))
def test_a_decimal_is_written_without_trailing_zeros(db, value):
    assert _as_sql(models.DecimalField(max_digits=12, decimal_places=4), value, "numeric(12, 4)") == _as_written(value)


@pytest.mark.parametrize(
    ("field", "value", "cast"),
    [(models.BooleanField(), True, "boolean"), (models.BooleanField(), False, "boolean")]
    + [(models.DateField(), date(2021, 1, 2), "date"), (models.IntegerField(), -7, "integer")]
    + [(models.BooleanField(), None, "boolean"), (models.DateField(), None, "date")],
)
def test_booleans_dates_integers_and_nulls_are_written_as_the_python_path_writes_them(db, field, value, cast):
    assert _as_sql(field, value, cast) == _as_written(value)


def _entry(table: csv_bundle.Table) -> tuple[dict, bytes]:
    """``table`` written as a bundle's entry: what write_csv returns, and the entry's bytes."""
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        written = csv_bundle.write_csv(archive, table)
    with zipfile.ZipFile(target) as archive:
        return written, archive.read(f"{table.name}.csv")


def test_every_form_copied_by_postgresql_has_the_bytes_the_python_path_writes(
    trial_data, allocated_subject, coordinator_a
):
    for number, text in enumerate(HOSTILE_TEXT):
        facts = dict(drug=text or "Drug", dose=text or "1 mg", indication=text, start_date=date(2021, 1, 3 + number))
        events.record_medication(subject=allocated_subject, by=coordinator_a, **facts)
    copied = {form.name: form_csv_copy(form, trial_data) for form in FORMS}
    assert None not in copied.values()
    for form in FORMS:
        rows = list(form_rows(form, trial_data))
        python = _entry(csv_bundle.Table(form.name, form.column_names, rows))
        database = _entry(csv_bundle.Table(form.name, form.column_names, [], copied[form.name]))
        assert database == python, form.name
        assert python[0]["rows"] == len(rows)
    medications = _entry(csv_bundle.Table("medications", [], [], copied["medications"]))[1].decode()
    assert '"two\nlines"' in medications
    assert "'=1+1" in medications
    assert '"\'\rx"' in medications  # a carriage return is quoted, so no reader takes it for a line end
