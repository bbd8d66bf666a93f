"""Hypothesis strategies for hostile form input: what a broken browser, a script or a curious user might POST.

``form_data`` turns a form's field names, each with a strategy of values a user could sensibly type, into
dicts where any field may instead be absent or hostile, plus a few names the form does not know.
Extreme dates (year 1 and year 9999) are kept apart in ``EXTREME_DATES``: bounding them is other work.
"""

from datetime import date, datetime, timedelta

from hypothesis import strategies as st

ABSENT = object()

HUGE = "x" * 10_000
TEXT_JUNK = [
    "",
    " ",
    " \t\n ",
    HUGE,
    "9" * 10_000,
    "a\x00b",
    "\x00",
    "\u202eevil\u202c",
    "\u200f\u0645\u0631\u062d\u0628\u0627",
    "👩\u200d⚕️💉🧬",
    "e" + "\u0301" * 60,
    "'; DROP TABLE ecrf_subject; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "{{ 7*7 }}{% debug %}",
    "%s%s%n",
    "../../etc/passwd",
    "\ud7ff\ue000\uffff",
]
NUMBER_JUNK = [
    "1e308",
    "-1e308",
    "1e-308",
    "-0",
    "0",
    "-1",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "99999999999999999999",
    "-99999999999999999999",
    "9223372036854775808",
    "0x10",
    "1_000",
    "١٢٣",
    "1,5",
    "1.5.5",
    "  42  ",
]
DATE_JUNK = ["2021-02-30", "2021-13-01", "2021-00-10", "21-1-1", "2021-01-02T25:61", "2021/01/02", "yesterday", "0"]
EXTREME_DATES = [
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "9999-12-31 23:59:59",
    "0001-01-01 00:00:00",
]

hostile = st.one_of(
    st.sampled_from(TEXT_JUNK + NUMBER_JUNK + DATE_JUNK),
    st.text(max_size=40),
    st.integers().map(str),
    st.floats().map(repr),
    st.lists(st.sampled_from(["1", "", "yes", HUGE]), min_size=2, max_size=3),  # a field sent twice
)
extreme_dates = st.sampled_from(EXTREME_DATES)

# Names a form does not have: ignored, never an error.
UNKNOWN = ("csrfmiddlewaretoken", "id", "pk", "subject", "is_voided", "created_at", "__proto__", "value_XYZ")


def dates() -> st.SearchStrategy[str]:
    """Dates after the test subject's consent and allocation (2021-01-01, -02), as a date input sends them."""
    return st.dates(min_value=date(2021, 1, 3), max_value=date(2021, 6, 1)).map(str)


def datetimes() -> st.SearchStrategy[str]:
    """Times around the test subject's treatment, as a datetime-local input sends them."""
    start = datetime(2021, 1, 2, 9, 30)
    return st.integers(0, 200 * 24 * 60).map(lambda m: (start + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M"))


def numbers(low: float, high: float) -> st.SearchStrategy[str]:
    return st.floats(low, high, allow_nan=False).map(lambda x: f"{x:.1f}")


def choice(*values) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


checkbox = st.sampled_from(["on", ABSENT])
tokens = st.uuids(version=4).map(str)


@st.composite
def form_data(draw, fields: dict[str, st.SearchStrategy], *, junk: st.SearchStrategy = hostile) -> dict:
    """A POST body: a few fields hostile or left out, the others sensible, and maybe unknown names with junk."""
    names = sorted(fields)
    spoiled = draw(st.sets(st.sampled_from(names), max_size=3))
    left_out = draw(st.sets(st.sampled_from(names), max_size=2))
    data = {name: draw(junk if name in spoiled else fields[name]) for name in names if name not in left_out}
    data |= draw(st.dictionaries(st.sampled_from(UNKNOWN), junk, max_size=2))
    return {name: value for name, value in data.items() if value is not ABSENT}


def version_of(current: int) -> st.SearchStrategy:
    """The version the form was opened at; spoiled, it is another int or junk."""
    return st.just(str(current)) | st.integers().map(str)
