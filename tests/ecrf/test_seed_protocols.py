"""The two shipped protocol files say what the papers say (../shared/protocols.md)."""

import math
from pathlib import Path

import pytest

from ecrf.models import ProtocolVersion
from ecrf.services.protocols import load_protocol_file

PROTOCOLS = Path(__file__).resolve().parents[2] / "ecrf" / "protocols"
WEEK = 7


def months(n):
    """Whole days in n months of 365.25/12 days, half a day rounded up (as the loader does)."""
    return math.floor(n * 365.25 / 12 + 0.5)


MONTH_75 = months(75)

pytestmark = pytest.mark.django_db


@pytest.fixture
def aclf():
    return load_protocol_file(PROTOCOLS / "aclf_nct01218464.toml").protocol


@pytest.fixture
def dlc():
    return load_protocol_file(PROTOCOLS / "dlc_nct01220492.toml").protocol


def weeks_with(protocol, **condition):
    visits = protocol.visit_definitions.filter(anchor="first_infusion", **condition).order_by("order")
    return [v.offset_days / WEEK for v in visits]


def test_every_shipped_protocol_file_loads():
    for path in sorted(PROTOCOLS.glob("*.toml")):
        assert load_protocol_file(path).created
    assert set(ProtocolVersion.objects.values_list("study__code", "study__registry_number")) == {
        ("ACLF", "NCT01218464"),
        ("DLC", "NCT01220492"),
    }


def test_aclf_labs_at_weeks_0_1_2_4_8_12_24_36_48(aclf):
    assert weeks_with(aclf, lab_panel__isnull=False) == [0, 1, 2, 4, 8, 12, 24, 36, 48]


def test_aclf_infusions_at_weeks_0_4_8_and_controls_get_saline(aclf):
    assert weeks_with(aclf, infusion_number__isnull=False) == [0, 4, 8]
    assert dict(aclf.arms.values_list("code", "infusions")) == {"UCMSC": "product", "CONTROL": "placebo"}


def test_aclf_follows_survival_for_72_weeks_and_is_not_randomised(aclf):
    assert aclf.follow_up_days == 72 * WEEK
    assert not aclf.is_randomised


def test_aclf_panel_has_what_meld_and_the_paper_need(aclf):
    codes = set(aclf.lab_panels.get().analytes.values_list("code", flat=True))
    assert {
        "ALT",
        "TBIL",
        "ALB",
        "CHE",
        "PTA",
        "PLT",
        "HB",
        "TC",
        "INR",
        "CREA",
        "NA",
        "UA",
        "LDH",
        "ALP",
        "AFP",
    } <= codes


def test_aclf_excludes_each_published_criterion(aclf):
    exclusions = list(aclf.eligibility_criteria.filter(kind="exclusion").values_list("text", flat=True))
    assert len(exclusions) == 10
    assert any("variceal bleeding" in text for text in exclusions)
    assert all(not c.qualifying_answer for c in aclf.eligibility_criteria.filter(kind="exclusion"))


def test_dlc_visits_at_weeks_2_to_48_and_months_24_to_75(dlc):
    offsets = list(dlc.visit_definitions.filter(anchor="first_infusion").values_list("offset_days", flat=True))
    assert offsets == [0, 2 * WEEK, 4 * WEEK, 8 * WEEK, 12 * WEEK, 24 * WEEK, 48 * WEEK, *map(months, (24, 48, 60, 75))]


def test_dlc_liver_panel_at_weeks_0_12_24_48(dlc):
    assert weeks_with(dlc, lab_panel__isnull=False) == [0, 12, 24, 48]
    liver = set(dlc.lab_panels.get(code="liver").analytes.values_list("code", flat=True))
    assert {"ALB", "PTA", "CHE", "TBIL"} <= liver


def test_dlc_is_randomised_1_to_1_with_meld_strata_and_an_untreated_control(dlc):
    assert dlc.is_randomised
    assert dict(dlc.arms.values_list("code", "ratio")) == {"CONTROL": 1, "UCMSC": 1}
    assert dlc.arms.get(code="CONTROL").infusions == "none"
    meld = dlc.stratification_factors.get(code="meld")
    assert (meld.score, meld.cutpoint) == ("meld", 15)


def test_dlc_collects_aes_48_weeks_and_hcc_75_months(dlc):
    periods = dict(dlc.endpoint_collections.values_list("code", "collect_days"))
    assert periods == {"adverse_events": 48 * WEEK, "death": MONTH_75, "hcc": MONTH_75}


def test_dlc_release_criteria_are_the_published_thresholds(dlc):
    criteria = {c.code: str(c) for c in dlc.release_criteria.all()}
    assert criteria["endotoxin"] == "Endotoxin < 5 EU/kg"
    assert criteria["viability"] == "Viability > 80 %"
    assert criteria["mycoplasma"] == "Mycoplasma: negative"
    assert {"CD44", "CD73", "CD90", "CD105", "CD31", "CD34", "CD45", "HLADR", "bacteria", "fungi"} <= set(criteria)


def test_both_trials_plan_three_infusions_of_half_a_million_cells_per_kg(aclf, dlc):
    for protocol in (aclf, dlc):
        plan = protocol.infusion_plan
        assert (plan.count, plan.target_cells_per_kg, plan.passage, plan.observation_hours) == (3, 5e5, 4, 6)
