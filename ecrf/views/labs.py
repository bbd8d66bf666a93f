"""The lab panel of a visit: enter, correct with a reason, and read the history of every value."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ecrf.access import FORM_CAPABILITY, require_form_access, require_study_role
from ecrf.forms_labs import LabPanelForm
from ecrf.forms_screening import add_service_errors
from ecrf.roles import Capability
from ecrf.selectors import history
from ecrf.selectors import labs as lab_reads
from ecrf.services import labs
from ecrf.services.locking import StaleWrite
from ecrf.views.lookups import conflict_with_saved, posted, refused_as_stale, visit_or_404
from ecrf.views.monitoring_panel import monitoring_panel

STALE = "Someone saved this panel after you opened it. Nothing of yours was saved: reload to see their values."


def _visit(access, pk, visit_code, capability):
    subject, visit = visit_or_404(access, pk, visit_code, capability)
    if visit.definition.lab_panel is None:
        raise Http404("No lab panel for this visit.")
    return subject, visit


@login_required
@require_http_methods(["GET", "POST"])
def lab_panel(request, study_code, pk, visit_code):
    access, review = require_form_access(request, study_code)
    subject, visit = _visit(access, pk, visit_code, FORM_CAPABILITY[review])
    draw = lab_reads.draw_of(visit)
    version = lab_reads.draw_version(draw)
    saved = lab_reads.saved_values(draw)  # still the saved ones when the page is shown again: a save redirects
    form = LabPanelForm(
        posted(request),
        analytes=visit.definition.lab_panel.analytes.order_by("order"),
        saved=saved,
        editing=draw is not None,
        version=version,
        initial={"drawn_at": draw.drawn_at if draw else None},
    )
    # Stale first: a form opened before someone else's save is refused whatever it holds.
    stale = refused_as_stale(request, form, version, STALE)
    if not stale and request.method == "POST" and form.is_valid():
        stale = _refused_as_stale_by_save(form, visit, draw, request.user)
        if not stale and not form.errors:
            messages.success(request, f"{visit.definition.code} lab results of {subject.subject_code} saved.")
            return redirect("ecrf:subject_detail", study_code, subject.pk)
    context = {
        "access": access,
        "subject": subject,
        "visit": visit,
        "form": form,
        "draw": draw,
        "review": review,
        "signature": lab_reads.standing_signature(visit),
        "conflict": conflict_with_saved(form, history.last_saved(draw)) if stale else None,
        **monitoring_panel(access, subject, draw, saved.values(), review=review),
    }
    return render(request, "ecrf/lab_panel.html", context, status=409 if stale else 200)


def _refused_as_stale_by_save(form, visit, draw, user) -> bool:
    """Save the panel; a refusal goes on the form (True when it is because someone else saved first)."""
    data = form.cleaned_data
    try:
        if draw is None:
            labs.record_lab_draw(
                visit=visit,
                drawn_at=data["drawn_at"],
                values=form.values(),
                by=user,
                expected_version=data["version"],
                confirmed_unusual=form.confirmed_unusual(),
            )
        else:
            labs.update_lab_draw(
                draw,
                drawn_at=data["drawn_at"],
                values=form.values(),
                by=user,
                reason=data["reason"],
                expected_version=data["version"],
                confirmed_unusual=form.confirmed_unusual(),
            )
    except StaleWrite:
        form.add_error(None, STALE)
        return True
    except ValidationError as error:
        add_service_errors(form, error, field_of=lambda code: f"value_{code}")
    except IntegrityError:  # the same panel saved twice at once: one is kept
        form.add_error(None, STALE)
        return True
    return False


@login_required
@require_GET
def lab_history(request, study_code, pk, visit_code):
    access = require_study_role(request, study_code, Capability.VIEW_SITE)
    subject, visit = _visit(access, pk, visit_code, Capability.VIEW_SITE)
    draw = lab_reads.draw_of(visit)
    changes = lab_reads.lab_history(draw) if draw else []
    problems = lab_reads.lab_chain_problems(draw) if draw else []
    context = {"access": access, "subject": subject, "visit": visit, "changes": changes, "chain_problems": problems}
    return render(request, "ecrf/lab_history.html", context)


@login_required
@require_GET
def visit_history(request, study_code, pk, visit_code):
    access = require_study_role(request, study_code, Capability.VIEW_SITE)
    subject, visit = visit_or_404(access, pk, visit_code, Capability.VIEW_SITE)
    context = {
        "access": access,
        "subject": subject,
        "heading": f"History of {visit.definition.label}",
        "crumb": f"{visit.definition.code} history",
        "changes": history.visit_history(visit),
        "chain_problems": history.visit_chain_problems(visit),
    }
    return render(request, "ecrf/history.html", context)
