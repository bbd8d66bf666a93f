"""The navigation each role sees: one entry per page, shown only where the role carries its capability."""

from dataclasses import dataclass

from django.urls import reverse

from ecrf.roles import Capability, Role, role_can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    capability: Capability
    randomised_only: bool = False  # shown only for a study whose current protocol randomises


# Study-level pages; later capabilities (worklist, dashboards, randomisation list) add their entry here.
STUDY_PAGES = (
    NavItem("Overview", "ecrf:study_detail", Capability.VIEW_STUDY),
    NavItem("Dashboard", "analysis:dashboard", Capability.VIEW_STUDY),
    NavItem("Study team", "ecrf:study_team", Capability.VIEW_STUDY_TEAM),
    NavItem("Randomisation list", "ecrf:randomisation", Capability.VIEW_RANDOMISATION_LIST, randomised_only=True),
    NavItem("Protocol deviations", "ecrf:deviations", Capability.VERIFY_SOURCE),
    NavItem("Exports", "exports:page", Capability.EXPORT_DATA),
)


@dataclass(frozen=True)
class StudyNav:
    study_code: str
    study_title: str
    roles: list[str]
    links: list[tuple[str, str]]


def study_navigation(memberships) -> list[StudyNav]:
    """Group active memberships by study; list the pages any of the user's roles there may open."""
    by_study: dict[str, list] = {}
    for membership in memberships:
        by_study.setdefault(membership.study.code, []).append(membership)
    navs = []
    for code, group in by_study.items():
        randomised = getattr(group[0], "study_design", None) == "randomised"
        links = [
            (item.label, reverse(item.url_name, args=[code]))
            for item in STUDY_PAGES
            if any(role_can(m.role, item.capability) for m in group) and (randomised or not item.randomised_only)
        ]
        for m in group:
            if m.site_id is not None:
                links.append((f"Site {m.site.code}", reverse("ecrf:site_detail", args=[code, m.site.code])))
        roles = sorted({Role(m.role).label for m in group})
        navs.append(StudyNav(study_code=code, study_title=group[0].study.title, roles=roles, links=links))
    return navs
