"""Reads about studies, sites and memberships."""

from django.db.models import OuterRef, Q, QuerySet, Subquery

from ecrf.models import Membership, ProtocolVersion, Site, Study, StudySite


def active_memberships(user) -> QuerySet[Membership]:
    """The user's active memberships with study and site loaded, in display order; ``study_design`` is the design
    of the study's current protocol (the navigation offers a randomisation list only where it randomises)."""
    if not user.is_authenticated:
        return Membership.objects.none()
    current = ProtocolVersion.objects.filter(study=OuterRef("study")).order_by("-effective_date", "-loaded_at")
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("study", "site")
        .annotate(study_design=Subquery(current.values("design")[:1]))
    )


def study_site(study: Study, site_code: str) -> StudySite | None:
    """The study's participating site with this code, or None."""
    return StudySite.objects.select_related("site").filter(study=study, site__code=site_code).first()


def sites_of_study(study: Study) -> QuerySet[Site]:
    """Every site taking part in the study."""
    return Site.objects.filter(study_sites__study=study).order_by("code")


def site_team(study: Study, site: Site) -> QuerySet[Membership]:
    """Active members working at the site: its own staff and the study-wide roles."""
    return (
        Membership.objects.filter(Q(site=site) | Q(site__isnull=True), study=study, is_active=True)
        .select_related("user", "site")
        .order_by("role", "user__last_name", "user__username")
    )


def study_team(study: Study, sites: list[Site] | None = None) -> QuerySet[Membership]:
    """Every membership of the study, ended ones included: the delegation log.

    ``sites`` limits it to those sites' staff plus the study-wide roles (for a user bound to some sites).
    """
    team = Membership.objects.filter(study=study)
    if sites is not None:
        team = team.filter(Q(site__in=sites) | Q(site__isnull=True))
    return team.select_related("user", "site").order_by("site__code", "role")


def delegation_of(study: Study, membership_pk: int) -> Membership | None:
    """One delegation of the study, with its user and site, or None."""
    return Membership.objects.filter(study=study, pk=membership_pk).select_related("user", "site").first()


def delegation_history(membership: Membership) -> list:
    """The delegation's history rows, oldest first, with who made each change."""
    return list(membership.history.select_related("history_user", "site").order_by("history_id"))
