"""A protocol may let roles besides data managers export its study (``export_roles``)."""

import pytest

from ecrf.protocol_schema import ProtocolFileError
from ecrf.services.protocols import load_protocol
from tests.ecrf.protocol_fixture import changed

FOLLOW_UP = "follow_up = { weeks = 12 }"


def test_a_protocol_file_grants_export_to_the_roles_it_names(db):
    granting = changed(FOLLOW_UP, f'{FOLLOW_UP}\nexport_roles = ["investigator"]')
    assert load_protocol(granting, source_name="grant.toml").protocol.export_roles == ["investigator"]


def test_a_role_that_does_not_exist_is_refused_by_name(db):
    spoilt = changed(FOLLOW_UP, f'{FOLLOW_UP}\nexport_roles = ["everyone"]')
    with pytest.raises(ProtocolFileError, match="export_roles"):
        load_protocol(spoilt, source_name="spoilt.toml")
