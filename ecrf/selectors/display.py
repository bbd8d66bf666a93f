"""How a stored or typed value reads to people on history and conflict pages: ISO dates, local times, yes/no,
cell counts and doses in scientific notation with their unit (as the infusion pages' ``sci`` filter writes them).
"""

import math
from datetime import date, datetime

from django.utils import timezone


def as_text(value) -> str:
    """A plain value as people read it: "" for nothing, yes/no, ``YYYY-MM-DD HH:MM`` in the site's time zone for an
    aware time (a naive one as it is), ISO dates, anything else as its text.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return f"{timezone.localtime(value) if timezone.is_aware(value) else value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
# Numbers read in powers of ten, by the name of the field holding them, with their unit.
UNIT_OF = {"total_cells": "cells", "cells_per_kg": "cells/kg"}


def field_as_text(name: str, value) -> str:
    """``as_text``, except that a cell count or dose reads "9.0 × 10⁷ cells" (typed text that is no number as
    it is)."""
    if name not in UNIT_OF or value is None or value == "":
        return as_text(value)
    try:
        return scientific(value, UNIT_OF[name])
    except (TypeError, ValueError, OverflowError):
        return as_text(value)


def scientific(value, unit: str = "") -> str:
    """``90000000`` -> "9.0 × 10⁷", with up to two decimals (1 550 000 -> "1.55 × 10⁶"); blank stays blank."""
    if value in (None, ""):
        return ""
    number = float(value)
    if number == 0 or not math.isfinite(number):
        text = f"{number:g}"
    else:
        exponent = math.floor(math.log10(abs(number)))
        mantissa = round(number / 10**exponent, 2)
        if abs(mantissa) >= 10:  # 9.996e6 rounds up to 10.00 × 10⁶: carry into the exponent
            mantissa, exponent = mantissa / 10, exponent + 1
        digits = f"{mantissa:.2f}".rstrip("0")
        digits = digits + "0" if digits.endswith(".") else digits
        text = f"{digits} × 10{str(exponent).translate(SUPERSCRIPT)}"
    return f"{text} {unit}".strip()
