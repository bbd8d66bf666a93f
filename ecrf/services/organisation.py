"""Writes to the organisation: sites, studies, participation and delegation."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from ecrf.models import Membership, Site, Study, StudySite


@transaction.atomic
def ensure_site(*, code: str, name: str, city: str = "", country: str = "") -> Site:
    """Return the site with this code, creating it if missing (existing rows are left as they are)."""
    site = Site.objects.filter(code=code).first()
    if site is None:
        site = Site(code=code, name=name, city=city, country=country)
        site.full_clean()
        site.save()
    return site


@transaction.atomic
def ensure_study(*, code: str, title: str, registry_number: str = "", sites: list[Site]) -> Study:
    """Return the study with this code, creating it if missing, with every given site taking part."""
    study = Study.objects.filter(code=code).first()
    if study is None:
        study = Study(code=code, title=title, registry_number=registry_number)
        study.full_clean()
        study.save()
    for site in sites:
        StudySite.objects.get_or_create(study=study, site=site)
    return study


@transaction.atomic
def grant_membership(*, user, study: Study, role: str, site: Site | None = None) -> Membership:
    """Delegate ``role`` in ``study`` (at ``site``, or study-wide) to ``user``; validated before saving."""
    membership = Membership(user=user, study=study, site=site, role=role)
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def create_user(*, username: str, password: str, first_name: str = "", last_name: str = "", email: str = ""):
    """Create an active user with a hashed password."""
    return get_user_model().objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name, email=email
    )


DATA_MANAGER_GROUP = "Data managers"


@transaction.atomic
def make_data_manager_staff(user):
    """Let a data manager into the Django admin to browse (view only) protocols and clinical data."""
    group, _ = Group.objects.get_or_create(name=DATA_MANAGER_GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label="ecrf", codename__startswith="view_"))
    user.groups.add(group)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user
