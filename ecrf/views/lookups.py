"""What every subject and visit page does first: find the subject or visit the URL names among the sites where the
user's role carries the capability (404 otherwise), and refuse a form opened before someone else's save.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.http import Http404

from ecrf.selectors import labs as visit_reads
from ecrf.selectors import subjects as subject_reads
from ecrf.selectors.display import field_as_text


def subject_or_404(access, pk, capability):
    subject = subject_reads.subject_at_site(access.study, access.sites_with(capability), pk)
    if subject is None:
        raise Http404("No such subject at your sites.")
    return subject


def visit_or_404(access, pk, visit_code, capability):
    """(subject, visit) for the subject's visit with this schedule code."""
    subject = subject_or_404(access, pk, capability)
    visit = visit_reads.visit_of(subject, visit_code)
    if visit is None:
        raise Http404("No such visit.")
    return subject, visit


def posted(request):
    """The form data of a POST, even an empty one (which must fail validation, not pass as an unbound form)."""
    return request.POST if request.method == "POST" else None


def refused_as_stale(request, form, version: int, message: str) -> bool:
    """True, with ``message`` on the form, when a POST carries a version older than the record's latest save."""
    if request.method != "POST" or request.POST.get("version") == str(version):
        return False
    form.is_valid()
    form.add_error(None, message)
    return True


# Not what the user typed about the record: the form's bookkeeping.
NOT_TYPED = {"reason", "version", "submission", "confirm_unusual"}


@dataclass(frozen=True)
class Conflict:
    """What a stale form's user sees beside their typed values: who saved since, when, and each differing field."""

    who: str
    when: datetime | None
    rows: list[tuple[str, str, str]]  # (field label, value saved now, value typed)


def conflict_with_saved(form, saved_by: tuple[str, datetime | None]) -> Conflict:
    """The fields where the bound form (built with the saved values as its initial data) differs from them."""
    rows = [
        (str(form[name].label), _display(form[name], form[name].initial), _display(form[name], form[name].value()))
        for name in form.changed_data
        if name not in NOT_TYPED
    ]
    return Conflict(who=saved_by[0], when=saved_by[1], rows=rows)


def _display(bound, value) -> str:
    """A form value as people read it: the choice's label, or field_as_text."""
    choices = getattr(bound.field, "choices", None)
    if choices and value not in (None, "") and not isinstance(value, bool | date):
        return next((str(label) for key, label in choices if str(key) == str(value)), str(value))
    return field_as_text(bound.name, value)
