"""The demo reproduces both seed trials' published flow (../shared/protocols.md), count for count.

The demo is loaded once for this module, inside a transaction rolled back at the end.
"""

import io
import random
from datetime import date, timedelta
from statistics import mean, median, stdev

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q
from django.test import RequestFactory, override_settings
from lifelines import KaplanMeierFitter

from analysis.scores import child_pugh, encephalopathy_category, meld
from ecrf.code_patterns import sequence_of
from ecrf.demo.cohorts import DLC
from ecrf.demo.plans import plan_trial, reverse_km_median
from ecrf.models import (
    AdverseEvent,
    ClinicalStatus,
    EligibilityAnswer,
    EndpointEvent,
    InfusionEvent,
    LabValue,
    Membership,
    ProtocolVersion,
    Site,
    Study,
    Subject,
    SubjectStatus,
)
from ecrf.roles import Role
from ecrf.selectors.subjects import next_subject_code

pytestmark = pytest.mark.django_db
ANALYSED = (SubjectStatus.COMPLETED, SubjectStatus.DIED)
DAYS_PER_MONTH = 365.25 / 12


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True), transaction.atomic():
        call_command("seed_demo", seed=1, stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def per_arm(study_code, condition=None):
    rows = (
        Subject.objects.filter(condition or Q(), study__code=study_code, allocation__isnull=False)
        .values("allocation__arm__code")
        .annotate(n=Count("id", distinct=True))
    )
    return {row["allocation__arm__code"]: row["n"] for row in rows}


def fever_subjects(study_code):
    fevers = AdverseEvent.objects.filter(subject__study__code=study_code, term="Fever", infusion__isnull=False)
    return per_arm(study_code, Q(pk__in=fevers.values("subject")))


# Trial A (ACLF, NCT01218464) -----------------------------------------------------------------------------
def test_aclf_has_43_patients_24_ucmsc_19_control():
    assert Subject.objects.filter(study__code="ACLF").count() == 43
    assert per_arm("ACLF") == {"UCMSC": 24, "CONTROL": 19}


def test_aclf_deaths_within_12_weeks_are_5_and_11():
    subjects = Subject.objects.filter(study__code="ACLF", death_date__isnull=False).select_related("allocation__arm")
    early = [s.allocation.arm.code for s in subjects if s.death_date <= s.allocation.allocation_date + timedelta(84)]
    assert early.count("UCMSC") == 5
    assert early.count("CONTROL") == 11


def test_aclf_two_infusion_fevers_in_ucmsc_none_in_control():
    assert fever_subjects("ACLF") == {"UCMSC": 2}


def test_aclf_followed_to_72_weeks_21_and_17():
    assert per_arm("ACLF", ~Q(status=SubjectStatus.LOST)) == {"UCMSC": 21, "CONTROL": 17}


def test_aclf_arms_were_assigned_not_randomised():
    assert set(Subject.objects.filter(study__code="ACLF").values_list("allocation__method", flat=True)) == {"assigned"}


# Trial B (DLC, NCT01220492) ------------------------------------------------------------------------------
def test_dlc_screened_252_and_two_not_randomised_one_refused_one_ineligible():
    dlc = Subject.objects.filter(study__code="DLC")
    assert dlc.count() == 252
    failures = dlc.filter(status=SubjectStatus.SCREEN_FAILED)
    assert failures.count() == 2
    assert failures.filter(consent_date__isnull=True, screen_failure_reason__icontains="refused").count() == 1
    assert failures.filter(consent_date__isnull=False, screen_failure_reason__startswith="Not eligible").count() == 1


def test_dlc_randomised_125_per_arm():
    assert per_arm("DLC") == {"UCMSC": 125, "CONTROL": 125}


def test_dlc_consent_withdrawn_10_and_10():
    assert per_arm("DLC", Q(status=SubjectStatus.WITHDRAWN)) == {"UCMSC": 10, "CONTROL": 10}


def test_dlc_lost_to_follow_up_4_control_7_ucmsc():
    assert per_arm("DLC", Q(status=SubjectStatus.LOST)) == {"UCMSC": 7, "CONTROL": 4}


def test_dlc_analysed_111_control_108_ucmsc():
    assert per_arm("DLC", Q(status__in=ANALYSED)) == {"UCMSC": 108, "CONTROL": 111}


def test_dlc_hcc_23_control_13_ucmsc():
    hcc = EndpointEvent.objects.filter(kind="hcc", subject__study__code="DLC", subject__status__in=ANALYSED)
    assert per_arm("DLC", Q(pk__in=hcc.values("subject"))) == {"UCMSC": 13, "CONTROL": 23}


def test_dlc_seven_infusion_fevers_all_ucmsc():
    assert fever_subjects("DLC") == {"UCMSC": 7}


def test_dlc_control_has_no_infusions_ucmsc_has_up_to_three():
    by_arm = per_arm("DLC", Q(pk__in=InfusionEvent.objects.values("subject")))
    assert "CONTROL" not in by_arm
    assert (
        InfusionEvent.objects.filter(subject__study__code="DLC").aggregate(n=Count("number", distinct=True))["n"] == 3
    )


def test_demo_product_doses_are_within_the_protocols_tolerance():
    """The demo gives no dose that data entry would refuse without a dose deviation (issue 14)."""
    product = InfusionEvent.objects.filter(is_placebo=False).select_related("subject__protocol__infusion_plan")
    assert product.exists()
    outside = [i for i in product if not i.subject.protocol.infusion_plan.dose_in_range(i.cells_per_kg)]
    assert outside == []
    assert not product.exclude(dose_deviation="").exists()


def baseline_scores(arm_code):
    """(MELD > 15, Child-Pugh grade, ascites) at the W0 visit of each analysed DLC subject of the arm."""
    values = LabValue.objects.filter(
        draw__visit__definition__code="W0",
        draw__visit__subject__study__code="DLC",
        draw__visit__subject__status__in=ANALYSED,
        draw__visit__subject__allocation__arm__code=arm_code,
    ).values_list("draw__visit__subject_id", "analyte__code", "value")
    labs = {}
    for subject_id, code, value in values:
        labs.setdefault(subject_id, {})[code] = float(value)
    statuses = {
        s.visit.subject_id: s
        for s in ClinicalStatus.objects.filter(visit__definition__code="W0", visit__subject_id__in=labs).select_related(
            "visit"
        )
    }
    scores = []
    for subject_id, lab in labs.items():
        status = statuses[subject_id]
        score = meld(bilirubin_umol_l=lab["TBIL"], creatinine_umol_l=lab["CREA"], inr=lab["INR"])
        cp = child_pugh(
            bilirubin_umol_l=lab["TBIL"],
            albumin_g_l=lab["ALB"],
            inr=lab["INR"],
            ascites=status.ascites,
            encephalopathy=encephalopathy_category(status.encephalopathy_grade),
        )
        scores.append((score, cp.grade, status.ascites != "none"))
    return scores


@pytest.mark.parametrize(
    ("arm", "above_15", "grades", "ascites"),
    [("CONTROL", 15, (20, 73, 18), 93), ("UCMSC", 19, (14, 68, 26), 86)],
)
def test_dlc_baseline_meld_strata_child_pugh_and_ascites_match_the_paper(arm, above_15, grades, ascites):
    scores = baseline_scores(arm)
    assert sum(score > 15 for score, _, _ in scores) == above_15
    assert tuple(sum(grade == g for _, grade, _ in scores) for g in "ABC") == grades
    assert sum(has for _, _, has in scores) == ascites


def test_dlc_control_has_more_deaths_than_ucmsc_after_13_months():
    late = Subject.objects.filter(study__code="DLC", death_date__isnull=False).select_related("allocation__arm")
    arms = [s.allocation.arm.code for s in late if (s.death_date - s.allocation.allocation_date).days > 396]
    assert arms.count("CONTROL") > arms.count("UCMSC")


def test_aclf_meld_falls_more_with_ucmsc_by_week_12():
    def change(arm):
        rows = LabValue.objects.filter(
            draw__visit__subject__study__code="ACLF",
            draw__visit__subject__allocation__arm__code=arm,
            draw__visit__definition__code__in=["W0", "W12"],
            analyte__code__in=["TBIL", "CREA", "INR"],
        ).values_list("draw__visit__subject_id", "draw__visit__definition__code", "analyte__code", "value")
        labs = {}
        for subject_id, visit, code, value in rows:
            labs.setdefault((subject_id, visit), {})[code] = float(value)
        melds = {
            key: meld(bilirubin_umol_l=v["TBIL"], creatinine_umol_l=v["CREA"], inr=v["INR"]) for key, v in labs.items()
        }
        return mean(melds[(s, "W12")] - melds[(s, "W0")] for s, visit in melds if visit == "W0" and (s, "W12") in melds)

    assert change("UCMSC") < change("CONTROL")


def test_each_demo_row_has_a_history_row_saying_it_is_demo_data():
    subject = Subject.objects.filter(study__code="DLC").first()
    assert subject.history.first().history_change_reason == "Demo data (seed 1)"


def test_the_demo_audit_trail_verifies():
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "verifies. OK." in out.getvalue()


def test_demo_uses_the_shipped_protocol_files():
    assert set(ProtocolVersion.objects.values_list("study__code", flat=True)) == {"ACLF", "DLC"}


def test_same_seed_gives_the_same_subjects_and_another_seed_does_not():
    def fingerprint(seed):
        return [
            (p.arm_code, p.age, p.fate, round(p.labs.get("TBIL", 0), 3)) for p in plan_trial(DLC, random.Random(seed))
        ]

    assert fingerprint("DLC-1") == fingerprint("DLC-1")
    assert fingerprint("DLC-1") != fingerprint("DLC-2")


# Accounts ------------------------------------------------------------------------------------------------
def test_seed_demo_creates_one_account_per_role_that_can_log_in():
    roles = dict(Membership.objects.filter(study__code="DLC").values_list("user__username", "role"))
    assert roles == {
        "coordinator": Role.COORDINATOR,
        "investigator": Role.INVESTIGATOR,
        "monitor": Role.MONITOR,
        "datamanager": Role.DATA_MANAGER,
    }
    # Through a request, as the login page does: the lockout backend needs the address.
    assert authenticate(RequestFactory().post("/"), username="coordinator", password="ucmsc-demo-2026") is not None
    assert get_user_model().objects.get(username="admin").is_superuser


def test_demo_data_manager_may_browse_the_admin_read_only():
    user = get_user_model().objects.get(username="datamanager")
    assert user.is_staff
    assert user.has_perm("ecrf.view_subject")
    assert not user.has_perm("ecrf.change_subject")


def test_seed_demo_twice_changes_nothing(settings):
    settings.DEMO_MODE = True
    tables = (get_user_model(), Membership, Study, Site, Subject, LabValue, ProtocolVersion)
    before = [model.objects.count() for model in tables]
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "already loaded" in out.getvalue()
    assert [model.objects.count() for model in tables] == before
    assert before[:4] == [5, 8, 2, 2]


@pytest.mark.parametrize(("arm", "median_age", "low", "high"), [("CONTROL", 47, 19, 65), ("UCMSC", 48, 21, 65)])
def test_dlc_ages_follow_the_published_median_and_range(arm, median_age, low, high):
    ages = list(
        Subject.objects.filter(study__code="DLC", allocation__arm__code=arm, status__in=ANALYSED).values_list(
            "age_years", flat=True
        )
    )
    assert abs(median(ages) - median_age) <= 3
    assert low <= min(ages)
    assert max(ages) <= high


def test_demo_eligibility_answers_agree_with_the_subjects_recorded_age_and_sex():
    tied = EligibilityAnswer.objects.exclude(criterion__fact_rule="").select_related("criterion", "subject")
    assert tied.filter(subject__study__code="DLC").count() > 250 * 2 - 10
    assert [a for a in tied if a.criterion.contradiction(a.answer, a.subject.facts())] == []


@pytest.mark.parametrize(("arm", "albumin", "sd"), [("CONTROL", 30.5, 6.2), ("UCMSC", 30.9, 5.9)])
def test_dlc_baseline_albumin_follows_the_published_mean_and_sd(arm, albumin, sd):
    values = [
        float(v)
        for v in LabValue.objects.filter(
            analyte__code="ALB",
            draw__visit__definition__code="W0",
            draw__visit__subject__study__code="DLC",
            draw__visit__subject__status__in=ANALYSED,
            draw__visit__subject__allocation__arm__code=arm,
        ).values_list("value", flat=True)
    ]
    assert abs(mean(values) - albumin) < 1.5
    assert abs(stdev(values) - sd) < 1.5


def test_dlc_demo_has_a_committed_list_ready_for_new_subjects():
    out = io.StringIO()
    call_command("verify_randomisation", study="DLC", stdout=out)
    assert "250 randomised allocations predate this list" in out.getvalue()
    assert out.getvalue().rstrip().endswith("OK.")


# Subject codes (issue 14) ----------------------------------------------------------------------------------
@pytest.mark.parametrize("study_code", ["ACLF", "DLC"])
def test_every_demo_code_fits_its_protocol_pattern_and_the_next_one_proposed_is_free(study_code):
    study = Study.objects.get(code=study_code)
    site = Site.objects.get(code="BJ-5MC")
    pattern = study.protocol_versions.get().subject_code_pattern
    codes = list(study.subjects.values_list("subject_code", "site__code"))
    assert all(sequence_of(pattern, code, site=site_code) for code, site_code in codes)
    proposed = next_subject_code(study, site)
    assert proposed.startswith(f"{study_code}-BJ-5MC-")
    assert proposed not in {code for code, _ in codes}


# What a statistician checks (issue 15) ---------------------------------------------------------------------
@pytest.mark.parametrize(("arm", "men", "women"), [("CONTROL", 96, 15), ("UCMSC", 94, 14)])
def test_dlc_analysed_men_and_women_are_the_published_96_15_and_94_14(arm, men, women):
    analysed = Subject.objects.filter(study__code="DLC", allocation__arm__code=arm, status__in=ANALYSED)
    assert (analysed.filter(sex="male").count(), analysed.filter(sex="female").count()) == (men, women)


@pytest.mark.parametrize(("arm", "positive", "negative"), [("CONTROL", 28, 83), ("UCMSC", 30, 78)])
def test_dlc_analysed_hbeag_positive_are_the_published_28_of_111_and_30_of_108(arm, positive, negative):
    """Table 1: HBeAg positive 28 (25.2%) vs 30 (27.8%); positive is a baseline S/CO of at least 1.0."""
    values = LabValue.objects.filter(
        analyte__code="HBEAG",
        draw__visit__definition__code="W0",
        draw__visit__subject__study__code="DLC",
        draw__visit__subject__status__in=ANALYSED,
        draw__visit__subject__allocation__arm__code=arm,
    ).values_list("value", flat=True)
    assert (sum(v >= 1 for v in values), sum(v < 1 for v in values)) == (positive, negative)


def test_no_adverse_event_begins_within_24_hours_of_saline_in_aclf_controls():
    saline = InfusionEvent.objects.filter(subject__study__code="ACLF", is_placebo=True)
    assert saline.exists()
    starts = {}
    for infusion in saline:
        starts.setdefault(infusion.subject_id, []).append(infusion.started_at)
    events = AdverseEvent.objects.filter(subject_id__in=starts)
    after_saline = [
        e for e in events if any(timedelta(0) <= e.onset_at - s <= timedelta(hours=24) for s in starts[e.subject_id])
    ]
    assert after_saline == []


def lab_values(study_code, analyte, visit, arm):
    rows = LabValue.objects.filter(
        analyte__code=analyte,
        value__isnull=False,
        draw__visit__definition__code=visit,
        draw__visit__subject__study__code=study_code,
        draw__visit__subject__allocation__arm__code=arm,
    ).values_list("draw__visit__subject_id", "value")
    return {subject_id: float(value) for subject_id, value in rows}


def median_change(study_code, analyte, visit, arm):
    before, after = lab_values(study_code, analyte, "W0", arm), lab_values(study_code, analyte, visit, arm)
    return median(after[s] - before[s] for s in after)


@pytest.mark.parametrize("study_code", ["ACLF", "DLC"])
def test_albumin_stays_in_the_range_of_cirrhotic_livers_at_every_visit(study_code):
    """Decompensated or failing livers do not make 55 g/L of albumin; 35-50 g/L is a healthy adult's range."""
    values = LabValue.objects.filter(
        analyte__code="ALB", value__isnull=False, draw__visit__subject__study__code=study_code
    ).values_list("draw__visit__definition__code", "draw__visit__subject__allocation__arm__code", "value")
    by_visit_arm = {}
    for visit, arm, value in values:
        by_visit_arm.setdefault((visit, arm), []).append(float(value))
    assert max(max(v) for v in by_visit_arm.values()) <= 50
    assert all(22 <= median(v) <= 42 for v in by_visit_arm.values())


@pytest.mark.parametrize(
    ("study_code", "analyte", "upper"), [("ACLF", "PTA", 100), ("DLC", "PTA", 110), ("DLC", "CHE", 9000)]
)
def test_synthetic_liver_markers_stay_within_plausible_limits(study_code, analyte, upper):
    values = LabValue.objects.filter(
        analyte__code=analyte, value__isnull=False, draw__visit__subject__study__code=study_code
    ).values_list("value", flat=True)
    assert min(values) > 0
    assert max(values) <= upper


@pytest.mark.parametrize(("study_code", "visit"), [("ACLF", "W12"), ("ACLF", "W48"), ("DLC", "W24"), ("DLC", "W48")])
def test_ucmsc_improves_liver_function_more_than_control_as_published(study_code, visit):
    """Both papers: ALB, PTA and CHE rose and TBIL fell more with UC-MSC (ACLF Fig. 3, DLC Fig. 4)."""
    for analyte in ("ALB", "PTA", "CHE"):
        assert median_change(study_code, analyte, visit, "UCMSC") > median_change(study_code, analyte, visit, "CONTROL")
    assert median_change(study_code, "TBIL", visit, "UCMSC") < min(
        0, median_change(study_code, "TBIL", visit, "CONTROL")
    )


def test_dlc_albumin_rises_in_both_arms_by_week_48():
    """DLC paper, Fig. 4A: "the levels of ALB had increased in comparison with the baseline in both groups"."""
    assert median_change("DLC", "ALB", "W48", "CONTROL") > 0
    assert median_change("DLC", "ALB", "W48", "UCMSC") > 0


def follow_up_months(arm):
    """(months from allocation to death or last contact, alive at the end) for each analysed DLC subject."""
    subjects = Subject.objects.filter(study__code="DLC", allocation__arm__code=arm, status__in=ANALYSED).values_list(
        "allocation__allocation_date", "death_date", "last_contact_date"
    )
    return [((death or last) - allocated).days / DAYS_PER_MONTH for allocated, death, last in subjects], [
        death is None for _, death, _ in subjects
    ]


@pytest.mark.parametrize(("arm", "published", "low", "high"), [("CONTROL", 57, 2, 82), ("UCMSC", 61, 1, 85)])
def test_dlc_median_follow_up_by_reverse_kaplan_meier_is_the_published_one(arm, published, low, high):
    """DLC paper, Results: median follow-up 57 months (2-82) control, 61 months (1-85) UC-MSC."""
    months, alive = follow_up_months(arm)
    reverse = KaplanMeierFitter().fit(months, event_observed=alive)  # reaching the cut-off alive is the event
    assert abs(reverse.median_survival_time_ - published) < 1
    assert (round(min(months)), round(max(months))) == pytest.approx((low, high), abs=1)


def test_dlc_survivors_are_followed_to_the_data_cut_off_so_late_entrants_have_less():
    survivors = Subject.objects.filter(study__code="DLC", status=SubjectStatus.COMPLETED)
    last_contacts = set(survivors.values_list("last_contact_date", flat=True))
    assert date(2017, 10, 15) <= min(last_contacts)
    assert max(last_contacts) <= date(2017, 10, 30)
    months, alive = follow_up_months("CONTROL")
    survivor_months = [m for m, a in zip(months, alive, strict=True) if a]
    assert min(survivor_months) < 40
    assert max(survivor_months) > 75


def test_dlc_entry_is_staggered_over_years_after_screening_opened():
    allocated = Subject.objects.filter(study__code="DLC", allocation__isnull=False).order_by(
        "allocation__allocation_date"
    )
    dates = list(allocated.values_list("allocation__allocation_date", flat=True))
    assert date(2010, 10, 15) <= dates[0]
    assert (dates[-1] - dates[0]).days > 3 * 365
    assert all(s.screening_date >= date(2010, 10, 15) for s in Subject.objects.filter(study__code="DLC"))


def test_the_planners_reverse_kaplan_meier_median_agrees_with_lifelines():
    follow_ups, deaths = [5, 8, 12, 20, 31, 40, 44], [3, 9, 15, 33]
    expected = KaplanMeierFitter().fit(follow_ups + deaths, [True] * 7 + [False] * 4).median_survival_time_
    assert reverse_km_median(follow_ups, deaths) == expected
