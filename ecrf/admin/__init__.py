"""Django admin: organisation (editable by administrators) and clinical data (read-only for data managers)."""

from ecrf.admin import clinical, organisation, protocol

__all__ = ["clinical", "organisation", "protocol"]
