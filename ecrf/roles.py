"""Study roles and what each may do: the one table every access decision reads."""

from django.db import models


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Study coordinator"
    INVESTIGATOR = "investigator", "Investigator"
    MONITOR = "monitor", "Monitor"
    DATA_MANAGER = "data_manager", "Data manager"


class Capability(models.TextChoices):
    VIEW_STUDY = "view_study", "See the study and its sites"
    VIEW_SITE = "view_site", "See a site's team and subjects"
    VIEW_STUDY_TEAM = "view_study_team", "See the study team and delegation log across sites"
    ENTER_DATA = "enter_data", "Register subjects and enter visit data"
    RANDOMISE = "randomise", "Randomise eligible subjects"
    ASSIGN_ARM = "assign_arm", "Assign the arm where the protocol does not randomise"
    SIGN_FORMS = "sign_forms", "Sign completed forms as investigator"
    VERIFY_SOURCE = "verify_source", "Verify data against source and raise queries"
    MANAGE_DATA = "manage_data", "Lock, unlock and correct data, answer for queries"
    EXPORT_DATA = "export_data", "Export datasets"
    VIEW_RANDOMISATION_LIST = "view_randomisation_list", "See and manage the randomisation list"
    VIEW_DASHBOARDS = "view_dashboards", "See study dashboards and survival analyses"


_EVERYONE = {Capability.VIEW_STUDY, Capability.VIEW_SITE}

CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.COORDINATOR: frozenset(_EVERYONE | {Capability.ENTER_DATA, Capability.RANDOMISE}),
    Role.INVESTIGATOR: frozenset(
        _EVERYONE
        | {
            Capability.ENTER_DATA,
            Capability.RANDOMISE,
            Capability.ASSIGN_ARM,
            Capability.SIGN_FORMS,
            Capability.VIEW_DASHBOARDS,
        }
    ),
    Role.MONITOR: frozenset(
        _EVERYONE | {Capability.VERIFY_SOURCE, Capability.VIEW_STUDY_TEAM, Capability.VIEW_DASHBOARDS}
    ),
    Role.DATA_MANAGER: frozenset(
        _EVERYONE
        | {
            Capability.VIEW_STUDY_TEAM,
            Capability.VERIFY_SOURCE,
            Capability.MANAGE_DATA,
            Capability.EXPORT_DATA,
            Capability.VIEW_RANDOMISATION_LIST,
            Capability.VIEW_DASHBOARDS,
        }
    ),
}

# Roles whose membership may cover every site of a study (site left empty); site staff always have a site.
STUDY_WIDE_ROLES = frozenset({Role.MONITOR, Role.DATA_MANAGER})


def role_can(role: str, capability: str) -> bool:
    """True when ``role`` carries ``capability``."""
    return Capability(capability) in CAPABILITIES.get(Role(role), frozenset())


def capability_labels_by_role(roles) -> dict[str, list[str]]:
    """For each of ``roles`` (label, in role order), the labels of what it may do, in capability order."""
    return {
        Role(role).label: [c.label for c in Capability if c in CAPABILITIES[Role(role)]] for role in sorted(set(roles))
    }
