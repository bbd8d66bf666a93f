"""Numbers and names for people: cell counts and doses in scientific notation ("9.0 × 10⁷ cells"), infusion names."""

from django import template

from ecrf.selectors.display import scientific

register = template.Library()


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
