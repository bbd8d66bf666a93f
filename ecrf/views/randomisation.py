"""The randomisation list, for data managers only: summary, generation, import, the slots and their download.

Every view of the slots, of the generation secret (shown only when asked for) and every download leaves an access row;
site staff get 403 on all of these URLs.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ecrf import csv_safe
from ecrf.access import require_study_role
from ecrf.forms_randomisation import GenerateListForm, ImportListForm
from ecrf.roles import Capability
from ecrf.selectors import randomisation as reads
from ecrf.selectors.protocols import latest_protocol
from ecrf.services import randomisation, randomisation_import


def _access(request, study_code):
    """The data manager's access; a study whose current protocol does not randomise has no list pages (404)."""
    access = require_study_role(request, study_code, Capability.VIEW_RANDOMISATION_LIST)
    protocol = latest_protocol(access.study)
    if protocol is None or not protocol.is_randomised:
        raise Http404("This study assigns arms without a list.")
    return access


@login_required
@require_GET
def manage(request, study_code):
    access = _access(request, study_code)
    return _render_manage(request, access, GenerateListForm(), ImportListForm())


@login_required
@require_POST
def reveal_secret(request, study_code):
    """The generation secret, shown only on this deliberate act, and each showing recorded."""
    access = _access(request, study_code)
    current = reads.active_list(access.study)
    if current is None or not current.secret_hex:
        raise Http404("This list has no generation secret.")
    randomisation.record_access(current, user=request.user, action="secret")
    return _render_manage(request, access, GenerateListForm(), ImportListForm(), reveal=True)


def _render_manage(request, access, generate_form, import_form, status=200, reveal=False):
    current = reads.active_list(access.study)
    strata = reads.strata_summary(current) if current else []
    context = {
        "access": access,
        "reveal": reveal,
        "list": current,
        "strata": strata,
        "sites": reads.generated_for_sites(current) if current and current.secret_hex else [],
        "accesses": current.accesses.select_related("user")[:20] if current else [],
        "legacy": reads.legacy_allocations(access.study),
        "in_use": any(row["used"] for row in strata),
        "generate_form": generate_form,
        "import_form": import_form,
    }
    return render(request, "ecrf/randomisation_manage.html", context, status=status)


@login_required
@require_POST
def generate(request, study_code):
    access = _access(request, study_code)
    form = GenerateListForm(request.POST)
    if form.is_valid():
        try:
            randomisation.generate_list(study=access.study, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, " ".join(error.messages))
        else:
            messages.success(request, "Randomisation list generated and committed.")
            return redirect("ecrf:randomisation", study_code)
    return _render_manage(request, access, form, ImportListForm(), status=400)


@login_required
@require_POST
def import_csv(request, study_code):
    access = _access(request, study_code)
    form = ImportListForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            randomisation_import.import_list(
                study=access.study,
                text=form.cleaned_data["file"],
                source_name=request.FILES["file"].name,
                by=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("file", message)
        else:
            messages.success(request, "Randomisation list imported and committed.")
            return redirect("ecrf:randomisation", study_code)
    return _render_manage(request, access, GenerateListForm(), form, status=400)


@login_required
@require_GET
def slots(request, study_code):
    access = _access(request, study_code)
    current = _current(access)
    randomisation.record_access(current, user=request.user, action="view")
    return render(
        request,
        "ecrf/randomisation_slots.html",
        {"access": access, "list": current, "slots": reads.named_slots(current)},
    )


@login_required
@require_GET
def download(request, study_code):
    access = _access(request, study_code)
    current = _current(access)
    randomisation.record_access(current, user=request.user, action="download")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.code}-randomisation-list.csv"'
    writer = csv_safe.writer(response)
    writer.writerow(["stratum", "sequence", "arm", "code"])
    for slot in reads.list_slots(current):
        writer.writerow([slot.stratum, slot.sequence, slot.arm.code, slot.code])
    return response


def _current(access):
    current = reads.active_list(access.study)
    if current is None:
        raise Http404("This study has no randomisation list yet.")
    return current
