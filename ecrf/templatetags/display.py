"""Numbers and names for people: cell counts and doses in scientific notation ("9.0 × 10⁷ cells"), infusion names."""

import copy

from django import forms, template
from django.urls import reverse
from django.utils.html import format_html

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


# The calendar's forms that open a page of their own: (URL name, link text; None: the infusion's name).
FORM_PAGES = {
    "visit": ("ecrf:visit_form", "Visit"),
    "clinical_status": ("ecrf:clinical_status", "Status"),
    "labs": ("ecrf:lab_panel", "Labs"),
    "infusion": ("ecrf:infusion", None),
}
FORM_STATE_MARKS = {"complete": "✓", "signed": "✓ signed", "incomplete": "partial"}


@register.simple_tag(takes_context=True)
def form_link(context, form, form_state, visit):
    """One form of a visit on the subject page's calendar: its link (consent and eligibility are named only)
    and its state mark. An infusion form shows only to an arm that gets infusions. ``{% form_link form state v %}``
    inside a page whose context has ``access``, ``subject``, ``gets_infusions`` and ``placebo_arm``."""
    if form == "infusion" and not context.get("gets_infusions"):
        return ""
    code = visit.definition.code
    if form in FORM_PAGES:
        url_name, text = FORM_PAGES[form]
        if text is None:
            text = infusion_name(visit.definition.infusion_number, bool(context.get("placebo_arm")))
        url = reverse(url_name, args=[context["access"].study.code, context["subject"].pk, code])
        head = format_html('<a href="{}">{}</a>', url, text)
    else:
        head = format_html("<span>{}</span>", form.capitalize())
    mark = format_html(
        '<span class="form-state form-state-{}" data-testid="form-{}-{}" title="{}">{}'
        '<span class="visually-hidden"> {}</span></span>',
        form_state,
        code,
        form,
        form_state,
        FORM_STATE_MARKS.get(form_state, "–"),
        form_state,
    )
    return head + mark
