"""The study's protocol deviations, for those who review them: data managers and monitors."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ecrf.access import require_study_role
from ecrf.roles import Capability
from ecrf.selectors import deviations

# Reviewing deviations is part of checking data against the protocol: the roles that verify source (monitors and
# data managers) read the list; site staff record the reason on the visit and do not.
REVIEW_DEVIATIONS = Capability.VERIFY_SOURCE


@login_required
@require_GET
def deviation_list(request, study_code):
    access = require_study_role(request, study_code, REVIEW_DEVIATIONS)
    rows = deviations.study_deviations(access.study, access.sites_with(REVIEW_DEVIATIONS))
    return render(request, "ecrf/deviations.html", {"access": access, "rows": rows})
