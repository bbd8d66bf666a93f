"""Who sees which dashboard panel: the one decision every dashboard view asks.

Investigators, monitors and data managers see every panel, study-wide. Coordinators see the operational panels
(enrolment, completeness, overdue) of their own sites and no comparison of arms. A protocol whose dashboards are
blinded hides the arm-level panels from every role but data managers.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from ecrf.access import StudyAccess, require_study_role
from ecrf.roles import Capability, Role
from ecrf.selectors import organisation
from ecrf.selectors.protocols import latest_protocol


@dataclass(frozen=True)
class Scope:
    access: StudyAccess
    protocol: object  # the study's latest ProtocolVersion, or None
    sites: list  # whose operational numbers are shown: every site for dashboard roles, coordinators' own
    link_sites: list  # whose subject pages the user may open (the figures link only to those)
    arms_visible: bool
    hidden_because: str  # why the arm-level panels are not shown; "" when they are

    @property
    def study(self):
        return self.access.study

    @property
    def study_wide(self) -> bool:
        return self.access.can(Capability.VIEW_DASHBOARDS)


def dashboard_scope(request, study_code: str) -> Scope:
    """The user's dashboard scope in the study; 404 outside it (as every study page)."""
    access = require_study_role(request, study_code, Capability.VIEW_STUDY)
    protocol = latest_protocol(access.study)
    full = access.can(Capability.VIEW_DASHBOARDS)
    data_manager = any(m.role == Role.DATA_MANAGER for m in access.memberships)
    blinded = protocol is not None and protocol.dashboards_blinded
    if not full:
        reason = "Comparisons of arms are for investigators, monitors and data managers."
    elif blinded and not data_manager:
        reason = "This trial's protocol blinds the dashboards: arm-level results are for data managers only."
    else:
        reason = ""
    sites = list(organisation.sites_of_study(access.study)) if full else access.visible_sites()
    return Scope(access, protocol, sites, access.visible_sites(), arms_visible=not reason, hidden_because=reason)


def require_arms(scope: Scope) -> None:
    """403 with the reason when the user may not see arm-level panels."""
    if not scope.arms_visible:
        raise PermissionDenied(scope.hidden_because)
