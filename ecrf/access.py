"""The one access check every study page calls.

No membership in the study, or none covering the site asked for: 404, so a URL tells an outsider nothing.
A membership whose role lacks the capability: 403 with the reason. Superusers administer accounts in the
admin; they see clinical data only through a membership like anyone else.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from ecrf.models import Membership, Site, Study
from ecrf.roles import Capability, Role, role_can
from ecrf.selectors import organisation
from ecrf.selectors.protocols import latest_protocol


@dataclass(frozen=True)
class StudyAccess:
    """What the user may reach in one study: the granting membership and the site in view, if any."""

    study: Study
    membership: Membership
    site: Site | None
    memberships: tuple[Membership, ...]

    @property
    def role(self) -> Role:
        return Role(self.membership.role)

    def can(self, capability: str) -> bool:
        return any(role_can(m.role, capability) for m in self.memberships)

    @property
    def is_study_wide(self) -> bool:
        """True when one of the user's memberships covers every site of the study."""
        return any(m.site_id is None for m in self.memberships)

    def sites_with(self, capability: str) -> list[Site]:
        """Sites where one of the user's memberships carries ``capability``."""
        granting = [m for m in self.memberships if role_can(m.role, capability)]
        if any(m.site_id is None for m in granting):
            return list(organisation.sites_of_study(self.study))
        return sorted({m.site for m in granting}, key=lambda site: site.code)

    def visible_sites(self) -> list[Site]:
        """Sites whose pages this user may open in the study."""
        if self.is_study_wide:
            return list(organisation.sites_of_study(self.study))
        return sorted({m.site for m in self.memberships}, key=lambda site: site.code)


def memberships_of(request) -> tuple[Membership, ...]:
    """The user's active memberships, read once per request."""
    if not hasattr(request, "_ecrf_memberships"):
        request._ecrf_memberships = tuple(organisation.active_memberships(request.user))
    return request._ecrf_memberships


def require_study_role(request, study_code: str, capability: str, site_code: str | None = None) -> StudyAccess:
    """Return the user's access to the study (and site) for ``capability``, or raise 404/403."""
    in_study = tuple(m for m in memberships_of(request) if m.study.code == study_code)
    if not in_study:
        raise Http404("No such study.")
    study, site = in_study[0].study, None
    if site_code is not None:
        in_study = tuple(m for m in in_study if m.site_id is None or m.site.code == site_code)
        study_site = organisation.study_site(study, site_code) if in_study else None
        if study_site is None:
            raise Http404("No such site in this study.")
        site = study_site.site
    granting = [m for m in in_study if role_can(m.role, capability)]
    if not granting:
        raise PermissionDenied(
            f"Your role in {study.code} does not allow this: {Capability(capability).label.lower()}."
        )
    return StudyAccess(study=study, membership=granting[0], site=site, memberships=in_study)


# The capability a form's records are looked up under: entering them, or reviewing them (require_form_access).
FORM_CAPABILITY = {False: Capability.ENTER_DATA, True: Capability.VERIFY_SOURCE}
REVIEW_ONLY = "Monitors and data managers review this form read-only: the site's staff enter and correct its data."


def require_form_access(request, study_code: str) -> tuple[StudyAccess, bool]:
    """Access to a case report form's page, and whether it is a read-only review.

    The site's staff enter data (False: the form as usual). Monitors and data managers open the same URL as a
    review of what was entered (True), by GET only: anything they post is refused. Anyone else: 404 or 403.
    """
    in_study = require_study_role(request, study_code, Capability.VIEW_SITE)
    if in_study.can(Capability.ENTER_DATA) or not in_study.can(Capability.VERIFY_SOURCE):
        return require_study_role(request, study_code, Capability.ENTER_DATA), False
    if request.method != "GET":
        raise PermissionDenied(REVIEW_ONLY)
    return require_study_role(request, study_code, Capability.VERIFY_SOURCE), True


def may_export(access: StudyAccess) -> bool:
    """Whether the user may export the study's datasets: data managers, and the roles the study's current protocol
    names in ``export_roles`` (who then export every site's data, as a data manager does)."""
    if access.can(Capability.EXPORT_DATA):
        return True
    protocol = latest_protocol(access.study)
    granted = set(protocol.export_roles) if protocol is not None else set()
    return any(m.role in granted for m in access.memberships)
