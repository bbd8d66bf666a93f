"""Numbers and names for people: cell counts and doses in scientific notation ("9.0 × 10⁷ cells"), infusion names."""

import copy

from django import forms, template

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


@register.filter
def read_only(form):
    """The form's crispy helper for a read-only review, without its submit button; the reason-for-change field,
    there to be typed, is hidden. ``{% with helper=form|read_only %}{% crispy form helper %}{% endwith %}``."""
    if "reason" in form.fields:
        form.fields["reason"].widget = forms.HiddenInput()
    helper = copy.copy(form.helper)
    helper.inputs = []
    return helper
