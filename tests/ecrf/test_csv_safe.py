"""CSV cells no spreadsheet runs as a formula (OWASP CSV injection advice); pure, so no database."""

import io
from datetime import date
from decimal import Decimal

import pytest

from ecrf import csv_safe
from ecrf.csv_safe import safe_cell


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1"])
def test_a_cell_starting_like_a_formula_is_prefixed_with_a_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["TRIAL-0001", "meld:le15|site:SITE-A", "Patient preference", "1+1=2", "'quoted"])
def test_ordinary_text_is_unchanged(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize("number", [-1.5, Decimal("-2.25"), -3, 0, 7])
def test_numbers_stay_numbers_even_when_negative(number):
    assert safe_cell(number) is number


def test_text_that_looks_like_a_negative_number_is_neutralised():
    assert safe_cell("-1.5") == "'-1.5"


@pytest.mark.parametrize("empty", [None, ""])
def test_none_and_empty_are_unchanged(empty):
    assert safe_cell(empty) == empty


def test_other_objects_are_written_as_their_neutralised_text():
    class Labelled:
        def __str__(self):
            return '=HYPERLINK("x")'

    assert safe_cell(Labelled()) == '\'=HYPERLINK("x")'
    assert safe_cell(date(2021, 1, 4)) == "2021-01-04"


def test_the_writer_neutralises_every_cell_of_every_row():
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\n")
    writer.writerow(["=1+1", -1.5, None, "ok"])
    writer.writerows([["@cmd", 2], ["+x", "-y"]])
    assert out.getvalue() == "'=1+1,-1.5,,ok\n'@cmd,2\n'+x,'-y\n"
