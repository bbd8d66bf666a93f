"""The display filters (ecrf/templatetags/display.py, numbers from ecrf/selectors/display.py): numbers and names as
people read them."""

import pytest
from django.template import Context, Template

from ecrf.selectors.display import field_as_text, scientific
from ecrf.templatetags.display import infusion_name


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (90_000_000, "cells", "9.0 × 10⁷ cells"),
        (1_550_000, "cells/kg", "1.55 × 10⁶ cells/kg"),
        (500_000, "cells/kg", "5.0 × 10⁵ cells/kg"),
        (9_996_000, "", "1.0 × 10⁷"),
        (0.0012, "", "1.2 × 10⁻³"),
        (None, "cells", ""),
    ],
)
def test_sci_writes_numbers_in_scientific_notation(value, unit, shown):
    assert scientific(value, unit) == shown


def test_the_sci_filter_is_usable_in_templates():
    template = Template('{% load display %}{{ n|sci:"cells" }}')
    assert template.render(Context({"n": 3.2e7})) == "3.2 × 10⁷ cells"


def test_a_placebo_infusion_is_a_saline_control_infusion():
    assert infusion_name(1, True) == "Saline infusion 1 (control)"
    assert infusion_name(2, False) == "Infusion 2"


def test_dates_render_iso_by_default():
    from datetime import date, datetime

    template = Template("{{ d }} {{ d|date }} {{ t|date }} {{ t|date:'SHORT_DATETIME_FORMAT' }}")
    shown = template.render(Context({"d": date(2021, 1, 2), "t": datetime(2021, 1, 2, 9, 30)}))
    assert shown == "2021-01-02 2021-01-02 2021-01-02 2021-01-02 09:30"


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("total_cells", 90_000_000, "9.0 × 10⁷ cells"),
        ("cells_per_kg", 1_551_724.1, "1.55 × 10⁶ cells/kg"),
        ("total_cells", "9.6e7", "9.6 × 10⁷ cells"),  # as typed in a form
        ("total_cells", "lots", "lots"),  # typed text that is no number reads as typed
        ("total_cells", None, ""),
        ("passage", 4, "4"),
    ],
)
def test_history_values_of_cell_counts_and_doses_read_with_their_unit(name, value, shown):
    assert field_as_text(name, value) == shown
