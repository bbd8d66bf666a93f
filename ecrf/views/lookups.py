"""What every subject and visit page does first: find the subject or visit the URL names among the sites where the
user's role carries the capability (404 otherwise), and refuse a form opened before someone else's save.
"""

from django.http import Http404

from ecrf.selectors import labs as visit_reads
from ecrf.selectors import subjects as subject_reads


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
