"""Numbers and names for people: cell counts and doses in scientific notation ("9.0 × 10⁷ cells"), infusion names."""

import math

from django import template

register = template.Library()

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


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


@register.filter
def sci(value, unit=""):
    """``{{ infusion.total_cells|sci:"cells" }}`` -> "9.0 × 10⁷ cells"."""
    return scientific(value, unit)


def infusion_name(number, placebo: bool) -> str:
    """What people call an infusion: a control arm's saline is "Saline infusion 1 (control)", not "Infusion 1"."""
    return f"Saline infusion {number} (control)" if placebo else f"Infusion {number}"


@register.filter(name="infusion_name")
def infusion_name_filter(number, placebo):
    """``{{ infusion.number|infusion_name:infusion.is_placebo }}``."""
    return infusion_name(number, bool(placebo))
