"""Django admin: organisation (editable by administrators), clinical data (read-only for data managers) and
sign-in lockouts (administrators only)."""

from ecrf.admin import clinical, lockout, organisation, protocol

__all__ = ["clinical", "lockout", "organisation", "protocol"]
