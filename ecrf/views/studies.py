"""Home, study and site pages: each checks access first, then reads through a selector."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from ecrf.access import may_export, memberships_of, require_study_role
from ecrf.navigation import study_navigation
from ecrf.roles import Capability, capability_labels_by_role
from ecrf.selectors import monitoring, organisation, protocols, randomisation, worklist

WORKLIST_PAGE_SIZE = 50


@login_required
def home(request):
    memberships = memberships_of(request)
    context = {
        "memberships": memberships,
        "studies": study_navigation(memberships),
        "role_capabilities": capability_labels_by_role({m.role for m in memberships}),
    }
    return render(request, "ecrf/home.html", context)


@login_required
def study_detail(request, study_code):
    access = require_study_role(request, study_code, Capability.VIEW_STUDY)
    randomisation_list = randomisation.active_list(access.study)
    context = {
        "access": access,
        "sites": access.visible_sites(),
        "overview": protocols.protocol_overview(access.study),
        "commitment": randomisation_list.commitment_sha256 if randomisation_list else None,
        "exhausted": randomisation.exhausted_strata_rows(access.study) if access.can(Capability.MANAGE_DATA) else [],
        "can_review_deviations": access.can(Capability.VERIFY_SOURCE),
        "can_lock": access.can(Capability.MANAGE_DATA),
        "open_queries": monitoring.open_query_count(access.study, access.visible_sites()),
        "can_export": may_export(access),
    }
    return render(request, "ecrf/study_detail.html", context)


@login_required
def site_detail(request, study_code, site_code):
    access = require_study_role(request, study_code, Capability.VIEW_SITE, site_code=site_code)
    search, show, sort = request.GET.get("q", "")[:32], request.GET.get("show", ""), request.GET.get("sort", "")
    show = show if show in worklist.FILTERS else ""
    sort = sort if sort.removeprefix("-") in worklist.SORTS else "code"
    page = worklist.worklist_page(
        access.study,
        access.site,
        today=timezone.localdate(),
        number=request.GET.get("page"),
        size=WORKLIST_PAGE_SIZE,
        search=search,
        show=show,
        sort=sort,
    )
    context = {
        "access": access,
        "team": organisation.site_team(access.study, access.site),
        "page": page,
        "columns": worklist.shown_columns(page.object_list),
        "search": search,
        "show": show,
        "sort": sort,
        "filters": worklist.FILTERS,
        "can_register": access.can(Capability.ENTER_DATA),
    }
    return render(request, "ecrf/site_detail.html", context)


@login_required
def study_team(request, study_code):
    access = require_study_role(request, study_code, Capability.VIEW_STUDY_TEAM)
    team = organisation.study_team(access.study, sites=None if access.is_study_wide else access.visible_sites())
    context = {"access": access, "team": team, "can_manage": access.can(Capability.MANAGE_DATA)}
    return render(request, "ecrf/study_team.html", context)
