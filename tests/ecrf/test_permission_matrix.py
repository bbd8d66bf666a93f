"""Every URL the project defines, for every role of the cast, at its own site, another site and another study.

The outcome each role should get is declared once, in ``EXPECTED`` (study pages by URL name; admin pages by
pattern family over the models named in ``ADMIN_MODELS``). A URL pattern without a row fails
``test_every_url_pattern_has_a_row``, so a new URL must say who may open it. Each case also checks that nothing
answers 500 and that a POST (always an empty body) or a refused request writes no clinical, audit or lockout row.

Every row is checked, but cases that cannot differ are requested once: a family's first model stands for the
others (which run ``SCOPE_PROBES``), one signed-in non-staff user for all at the admin's door, and users with no
membership are tried at one target of a study page. Every URL pattern is still requested at least once.
"""

import functools
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.http import urlsplit

from ecrf.models import AnalysisPlanVersion, Membership, ProtocolVersion
from ecrf.roles import Role
from ecrf.services import events, queries, subjects
from ecrf.services import labs as lab_services
from ecrf.services.organisation import DATA_MANAGER_GROUP, make_data_manager_staff
from ecrf.services.plans import load_plan
from ecrf.services.protocols import load_protocol
from tests.conftest import give_first_infusion, run_queued_tasks
from tests.ecrf.protocol_fixture import changed
from tests.factories import MembershipFactory, SiteFactory, StudySiteFactory, UserFactory

# ---------------------------------------------------------------------------------------------------------------
# The cast (as in tests/conftest.py) and the three places each role is sent to.

ROLES = (
    "anonymous",
    "coordinator_a",
    "investigator_a",
    "coordinator_b",
    "monitor",
    "data_manager",
    "outsider",
    "superuser",
)
SITE_STAFF = frozenset({"coordinator_a", "investigator_a", "coordinator_b"})
STUDY_WIDE = frozenset({"monitor", "data_manager"})
MEMBERS = SITE_STAFF | STUDY_WIDE
# Site staff's own site is where they work; everyone else's "own site" is site A, "other site" site B.
TARGETS = ("own_site", "other_site", "other_study")
NO_TARGET = "-"

# ---------------------------------------------------------------------------------------------------------------
# Outcomes: a status code, or "302:<view name>" for a redirect (to the login page, the admin index...).

LOGIN = "302:login"
ADMIN_LOGIN = "302:admin:login"
HOME = "302:ecrf:home"
# The admin hides an object outside the user's studies: Django's own 302 to the index, or a plain 404.
HIDDEN = frozenset({"302:admin:index", 404})
REFUSED = frozenset({403, 405})


@dataclass(frozen=True)
class Pending:
    """The intended outcome, not yet what the code does: the case runs as a strict xfail with ``reason``."""

    outcome: object
    reason: str


@dataclass(frozen=True)
class StudyPage:
    """A login-required eCRF page, refused in this order (the order the views check in):

    anonymous -> login; a method the view does not take -> 405 for everyone signed in; no membership in the
    target's study -> 404; ``scope="site"`` and site staff at another site -> 404; role not in ``allowed`` -> 403;
    ``scope="subject"`` and site staff at another site -> 404; otherwise ``GET`` / ``POST``.
    """

    scope: str  # "study", "site" or "subject"
    allowed: frozenset
    GET: object = 200
    POST: object = 200
    reviewers: frozenset = frozenset()  # roles reading the page as a read-only review: GET as allowed, POST 403


def everyone(outcome, **by_role):
    """The same outcome for every role, except those named."""
    return {role: by_role.get(role, outcome) for role in ROLES}


ENTER = frozenset({"coordinator_a", "investigator_a", "coordinator_b"})
ALL_MEMBERS = MEMBERS
VIEW_TEAM = STUDY_WIDE
DATA_MANAGER = frozenset({"data_manager"})
VERIFY_SOURCE = STUDY_WIDE  # monitors and data managers review the protocol deviations and every form
REVIEW = {"reviewers": VERIFY_SOURCE}
INVESTIGATOR = frozenset({"investigator_a"})
DASHBOARDS = frozenset({"investigator_a", "monitor", "data_manager"})  # arm-level panels; coordinators 403

EXPECTED: dict[str, object] = {
    # Accounts and the probe: no study, no target.
    "healthz": {"GET": everyone(200), "POST": everyone(405)},
    "login": {"GET": everyone(HOME, anonymous=200), "POST": everyone(HOME, anonymous=200)},
    "logout": {"GET": everyone(405), "POST": everyone(LOGIN)},
    "password_change": {"GET": everyone(200, anonymous=LOGIN), "POST": everyone(200, anonymous=LOGIN)},
    "password_change_done": {"GET": everyone(200, anonymous=LOGIN), "POST": everyone(405, anonymous=LOGIN)},
    # The admin's own password form is replaced by the one above, which checks the old password through the lockout.
    "admin_password_change": {"GET": everyone("302:password_change"), "POST": everyone("302:password_change")},
    "ecrf:home": {"GET": everyone(200, anonymous=LOGIN), "POST": everyone(200, anonymous=LOGIN)},
    # Study pages.
    "ecrf:study_detail": StudyPage("study", ALL_MEMBERS),
    "ecrf:study_team": StudyPage("study", VIEW_TEAM),
    # The delegation log: an empty POST is a refused form shown again, nothing saved.
    "ecrf:delegation_log": StudyPage("study", DATA_MANAGER),
    "ecrf:delegation_edit": StudyPage("study", DATA_MANAGER),
    "ecrf:deviations": StudyPage("study", VERIFY_SOURCE, POST=405),
    # Monitoring: every member reads the queries of their sites; site staff answer, monitors and data managers
    # raise, close, re-open and verify; data managers lock. An empty POST is refused by the form (400) or finds no
    # record to act on (404); an empty lock of unclean data is refused with a message on the subject page.
    "ecrf:query_list": StudyPage("study", ALL_MEMBERS, POST=405),
    "ecrf:audit_trail": StudyPage("study", VERIFY_SOURCE, POST=405),
    "ecrf:verification_progress": StudyPage("study", VERIFY_SOURCE, POST=405),
    "ecrf:query_detail": StudyPage("subject", ALL_MEMBERS, POST=400),
    "ecrf:study_lock": StudyPage("study", DATA_MANAGER, POST=400),
    "ecrf:raise_query": StudyPage("subject", VERIFY_SOURCE, GET=405, POST=404),
    "ecrf:verify_record": StudyPage("subject", VERIFY_SOURCE, GET=405, POST=404),
    "ecrf:subject_lock": StudyPage("subject", DATA_MANAGER, GET=405, POST="302:ecrf:subject_detail"),
    "ecrf:subject_unlock": StudyPage("subject", DATA_MANAGER, GET=405, POST="302:ecrf:subject_detail"),
    "ecrf:site_detail": StudyPage("site", ALL_MEMBERS),
    "ecrf:register_subject": StudyPage("site", ENTER),
    # TRIAL does not randomise: its data manager finds no list pages (404), and nothing to generate or import.
    "ecrf:randomisation": StudyPage("study", DATA_MANAGER, GET=404, POST=405),
    "ecrf:randomisation_generate": StudyPage("study", DATA_MANAGER, GET=405, POST=404),
    "ecrf:randomisation_import": StudyPage("study", DATA_MANAGER, GET=405, POST=404),
    # The test study allocates by assignment, so it has no list: 404 once past the role check.
    "ecrf:randomisation_slots": StudyPage("study", DATA_MANAGER, GET=404, POST=405),
    "ecrf:randomisation_secret": StudyPage("study", DATA_MANAGER, GET=405, POST=404),
    "ecrf:randomisation_download": StudyPage("study", DATA_MANAGER, GET=404, POST=405),
    # Subject pages (the subject, its visit and records are those of the target).
    "ecrf:subject_detail": StudyPage("subject", ALL_MEMBERS),
    # A POST without the version a form was opened at is refused as stale: 409, the form shown again, nothing saved.
    "ecrf:eligibility": StudyPage("subject", ENTER, POST=409, **REVIEW),
    "ecrf:consent": StudyPage("subject", ENTER),
    "ecrf:correct_registration": StudyPage("subject", ENTER, POST=409, **REVIEW),
    "ecrf:correct_consent": StudyPage("subject", ENTER, POST=409, **REVIEW),
    "ecrf:screen_failure": StudyPage("subject", ENTER),
    "ecrf:outcome": StudyPage("subject", ENTER),
    "ecrf:randomise": StudyPage("subject", ENTER, POST=409),  # 409: this study does not randomise
    "ecrf:assign_arm": StudyPage("subject", INVESTIGATOR),
    "ecrf:visit_form": StudyPage("subject", ENTER, POST=409, **REVIEW),
    "ecrf:clinical_status": StudyPage("subject", ENTER, POST=409, **REVIEW),
    "ecrf:lab_panel": StudyPage("subject", ENTER, POST=409, **REVIEW),
    "ecrf:infusion": StudyPage("subject", ENTER, **REVIEW),
    "ecrf:sign_visit": StudyPage("subject", INVESTIGATOR),
    "ecrf:sign_visits": StudyPage("subject", INVESTIGATOR),
    "ecrf:unlock_visit": StudyPage("subject", DATA_MANAGER),
    "ecrf:adverse_event": StudyPage("subject", ENTER),
    "ecrf:medication": StudyPage("subject", ENTER),
    "ecrf:adverse_event_edit": StudyPage("subject", ENTER, POST=409, **REVIEW),
    "ecrf:medication_edit": StudyPage("subject", ENTER, POST=409, **REVIEW),
    "ecrf:infusion_edit": StudyPage("subject", ENTER, POST=409, **REVIEW),
    "ecrf:lab_history": StudyPage("subject", ALL_MEMBERS, POST=405),
    "ecrf:visit_history": StudyPage("subject", ALL_MEMBERS, POST=405),
    "ecrf:record_history": StudyPage("subject", ALL_MEMBERS, POST=405),
    # The dashboard: every member sees the operational overview (coordinators their site's), the arm-level panels
    # and the report's JSON are for the dashboard roles; the enrolment figure and table are operational.
    "analysis:dashboard": StudyPage("study", ALL_MEMBERS, POST=405),
    "analysis:survival": StudyPage("study", DASHBOARDS, POST=405),
    "analysis:labs": StudyPage("study", DASHBOARDS, POST=405),
    "analysis:safety": StudyPage("study", DASHBOARDS, POST=405),
    "analysis:baseline": StudyPage("study", DASHBOARDS, POST=405),
    "analysis:report_json": StudyPage("study", DASHBOARDS, POST=405),
    "analysis:figure": StudyPage("study", ALL_MEMBERS, POST=405),
    "analysis:table": StudyPage("study", ALL_MEMBERS, POST=405),
    # Exports are the data manager's (the test protocol grants no other role); an empty POST names no format: 400.
    "exports:page": StudyPage("study", DATA_MANAGER, POST=400),
    "exports:download": StudyPage("study", DATA_MANAGER, GET=404, POST=405),  # no such job in the place
}

# ---------------------------------------------------------------------------------------------------------------
# The admin, by pattern family: "{app}" and "{model}" run over each group of models.
#
# Every model of a group has a row for each of the group's patterns. Within a group the admins are one class but
# for how a row reaches its study, so the group's first model, its representative, runs the whole matrix and the
# others run only the cases where that path shows (``SCOPE_PROBES``): the staff at their own study and at the
# other study, GET, on the pages that look an object up or list rows. The door (admin login for non-staff), the
# refused methods and empty POSTs are the same code for every model of a group.

ADMIN_MODELS = {
    "clinical": (
        "ecrf",
        (
            "subject",
            "eligibilityanswer",
            "allocation",
            "visit",
            "labdraw",
            "labvalue",
            "clinicalstatus",
            "infusionevent",
            "releaseresult",
            "adverseevent",
            "endpointevent",
            "concomitantmedication",
        ),
    ),
    "protocol": ("ecrf", ("protocolversion", "analysisplanversion")),
    "organisation": ("ecrf", ("membership", "site", "study")),
    "auth": ("auth", ("user", "group")),
    "lockout": ("axes", ("accessattempt", "accessfailurelog", "accesslog")),
}
SCOPE_PROBES = SimpleNamespace(
    templates=frozenset(
        {
            "admin:{app}_{model}_changelist",
            "admin:{app}_{model}_change",
            "admin:{app}_{model}_history",
            "admin:{app}_{model}_simple_history",
        }
    ),
    roles=frozenset({"data_manager", "superuser"}),
    targets=frozenset({"own_site", "other_study", NO_TARGET}),
    methods=frozenset({"GET"}),
)
NON_STAFF = ("anonymous", "coordinator_a", "investigator_a", "coordinator_b", "monitor", "outsider")


def admin(get, post, **non_staff):
    """An admin row: ``get`` and ``post`` give the data manager's and the superuser's outcome (or per target);
    every other role is not staff and is sent to the admin login."""
    rows = {}
    for method, outcomes in (("GET", get), ("POST", post)):
        rows[method] = {role: non_staff.get(role, ADMIN_LOGIN) for role in NON_STAFF} | outcomes
    return rows


def per_target(own_site, other_site, other_study):
    return {"own_site": own_site, "other_site": other_site, "other_study": other_study}


def own_study(outcome):
    """``outcome`` at both sites of the user's study; the other study's object is hidden."""
    return per_target(outcome, outcome, HIDDEN)


STAFF = ("data_manager", "superuser")


def staff(outcome, **by_role):
    return {role: by_role.get(role, outcome) for role in STAFF}


# Superusers see clinical data (and the protocol it was collected under) only through a membership, and the
# superuser of the cast has none: every such object is hidden from them, in their own study's place or not.
HIDDEN_FROM_SUPERUSER = HIDDEN
# A version page takes GET only: a POST would save the old version over the record.
VERSION_PAGE_POST = 405
TO_CHANGE_PAGE = "302:admin:{app}_{model}_change"

ADMIN_EXPECTED: dict[str, dict[str, object]] = {
    "admin:index": admin(staff(200), staff(200)),
    "admin:login": admin(staff("302:admin:index"), staff(200), **everyone(200)),
    "admin:logout": admin(staff(405), staff(LOGIN), **everyone("302:admin:index")),
    "admin:password_change": {"GET": everyone("302:password_change"), "POST": everyone("302:password_change")},
    "admin:password_change_done": admin(staff(200), staff(405)),
    "admin:autocomplete": admin(staff(403), staff(405)),  # 403: no model named in the query
    "admin:jsi18n": admin(staff(200), staff(405)),
    "admin:view_on_site": admin(staff(404), staff(404)),  # subjects have no page of their own outside the admin
    "admin:app_list": admin(staff(200), staff(200)),
    "admin/(?P<url>.*)$": admin(staff(404), staff(404)),
    "admin:auth_user_password_change": admin(staff(200, data_manager=403), staff(200, data_manager=403)),
}

# POST rows are empty bodies: no admin action is chosen and no form validates, so even a 200 saves nothing.
EXPECTED_FAMILIES: dict[str, dict[str, object]] = {
    "clinical": {
        "admin:{app}_{model}_changelist": admin(staff(200), staff(200)),
        "admin:{app}_{model}_add": admin(staff(403), staff(403)),
        "admin:{app}_{model}_change": admin(staff(own_study(200), superuser=HIDDEN_FROM_SUPERUSER), staff(403)),
        "admin:{app}_{model}_delete": admin(staff(403), staff(403)),
        "admin:{app}_{model}_history": admin(
            staff(own_study(200), superuser=HIDDEN_FROM_SUPERUSER),
            staff(own_study(200), superuser=HIDDEN_FROM_SUPERUSER),
        ),
        "admin:{app}_{model}_simple_history": admin(
            staff(own_study(200), superuser=HIDDEN_FROM_SUPERUSER), staff(VERSION_PAGE_POST)
        ),
        "admin/{app}/{model}/<path:object_id>/": admin(staff(TO_CHANGE_PAGE), staff(TO_CHANGE_PAGE)),
    },
    # Protocol rows never change: the history page shows the admin's own log, and there is no version page.
    "protocol": {
        "admin:{app}_{model}_changelist": admin(staff(200), staff(200)),
        "admin:{app}_{model}_add": admin(staff(403), staff(403)),
        "admin:{app}_{model}_change": admin(staff(own_study(200), superuser=HIDDEN_FROM_SUPERUSER), staff(403)),
        "admin:{app}_{model}_delete": admin(staff(403), staff(403)),
        "admin:{app}_{model}_history": admin(
            staff(own_study(200), superuser=HIDDEN_FROM_SUPERUSER),
            staff(own_study(200), superuser=HIDDEN_FROM_SUPERUSER),
        ),
        "admin:{app}_{model}_simple_history": admin(staff(404), staff(VERSION_PAGE_POST)),
        "admin/{app}/{model}/<path:object_id>/": admin(staff(TO_CHANGE_PAGE), staff(TO_CHANGE_PAGE)),
    },
    # Sites, studies and the delegation log: administrators edit them all; data managers read their studies'.
    "organisation": {
        "admin:{app}_{model}_changelist": admin(staff(200), staff(200)),
        "admin:{app}_{model}_add": admin(staff(200, data_manager=403), staff(200, data_manager=403)),
        "admin:{app}_{model}_change": admin(staff(200, data_manager=own_study(200)), staff(200, data_manager=403)),
        "admin:{app}_{model}_delete": admin(staff(403), staff(403)),
        "admin:{app}_{model}_history": admin(
            staff(200, data_manager=own_study(200)), staff(200, data_manager=own_study(200))
        ),
        "admin:{app}_{model}_simple_history": admin(staff(200, data_manager=own_study(200)), staff(VERSION_PAGE_POST)),
        "admin/{app}/{model}/<path:object_id>/": admin(staff(TO_CHANGE_PAGE), staff(TO_CHANGE_PAGE)),
    },
    # Accounts: administrators only (an empty POST to the delete page only shows the confirmation again).
    "auth": {
        "admin:{app}_{model}_changelist": admin(staff(200, data_manager=403), staff(200, data_manager=403)),
        "admin:{app}_{model}_add": admin(staff(200, data_manager=403), staff(200, data_manager=403)),
        "admin:{app}_{model}_change": admin(staff(200, data_manager=403), staff(200, data_manager=403)),
        "admin:{app}_{model}_delete": admin(staff(200, data_manager=403), staff(200, data_manager=403)),
        "admin:{app}_{model}_history": admin(staff(200, data_manager=403), staff(200, data_manager=403)),
        "admin/{app}/{model}/<path:object_id>/": admin(staff(TO_CHANGE_PAGE), staff(TO_CHANGE_PAGE)),
    },
    # Sign-in lockouts (django-axes): only administrators see or clear them; a data manager clearing their own
    # lockout, or another's, would undo the brake on guessed passwords. Nobody adds or edits one
    # (ecrf/admin/lockout.py).
    "lockout": {
        "admin:{app}_{model}_changelist": admin(staff(200, data_manager=403), staff(200, data_manager=403)),
        "admin:{app}_{model}_add": admin(staff(403), staff(403)),
        "admin:{app}_{model}_change": admin(staff(200, data_manager=403), staff(403)),
        "admin:{app}_{model}_delete": admin(staff(200, data_manager=403), staff(200, data_manager=403)),
        "admin:{app}_{model}_history": admin(staff(200, data_manager=403), staff(200, data_manager=403)),
        "admin/{app}/{model}/<path:object_id>/": admin(staff(TO_CHANGE_PAGE), staff(TO_CHANGE_PAGE)),
    },
}

# ---------------------------------------------------------------------------------------------------------------
# Every URL pattern of the project, collected from the resolver.


@dataclass(frozen=True)
class Route:
    key: str  # the URL name with its namespace, or the route itself for an unnamed pattern
    route: str  # the full route, prefixes joined
    pattern: URLPattern = field(compare=False)


def _walk(resolver, prefix="", namespace=None):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        else:
            route = prefix + str(entry.pattern)
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            yield Route(name or route, route, entry)


ROUTES = tuple(_walk(get_resolver()))
ROUTES_BY_KEY = {r.key: r for r in ROUTES}
# Parameters a URL takes beyond the study code point at the target's data; without any, there is one target.
_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>|\(\[\^/\]\+\)")


def _parameters(route: Route) -> list[str]:
    return [m.group(1) or m.group(2) or "positional" for m in _PARAMETER.finditer(route.route)]


def _targets(route: Route) -> tuple[str, ...]:
    parameters = set(_parameters(route)) - {"url", "app_label"}
    if not parameters or route.key.startswith(("admin:auth_group_", "admin/auth/group/", "admin:axes_", "admin/axes/")):
        # The only group is the data managers' group; sign-in records belong to no study: one target each.
        return (NO_TARGET,)
    if parameters == {"study_code"}:
        return ("own_site", "other_study")  # both sites of a study share its study-level pages
    return TARGETS


def _stopped_at_the_door(route: Route, role: str) -> bool:
    """Anonymous users (every page with a target needs a login), non-staff in the admin and, on study pages, the
    users with no membership at all (refused by the same lookup wherever they go) are turned away before the
    view reads its arguments, so they are tried at one target only."""
    if route.key.startswith("admin"):
        return role in NON_STAFF
    return role in ("anonymous", "outsider", "superuser")


# On a family's pages, the admin's door (``AdminSite.admin_view``) looks at is_staff alone: signed-in non-staff
# users cannot differ there, so one of them (the study-wide monitor) stands for all; the site-wide admin pages
# (``ADMIN_EXPECTED``) still see them all.
NON_STAFF_AT_A_FAMILY_PAGE = frozenset({"anonymous", "monitor"})


# ---------------------------------------------------------------------------------------------------------------
# The data, built once for the module: study TRIAL at sites A and B, study OTHER at site A, a subject with a
# visit, labs, clinical status, infusion, adverse event, medication and HCC diagnosis at each of the three.

TRIAL_PROTOCOL = changed(
    'forms = ["visit", "labs", "infusion"]', 'forms = ["visit", "clinical_status", "labs", "infusion"]'
)
OTHER_PROTOCOL = changed('code = "TRIAL"', 'code = "OTHER"', changed("NCT09999999", "NCT09999998", TRIAL_PROTOCOL))


def _member(username, study, role, site):
    user = UserFactory(username=username)
    MembershipFactory(user=user, study=study, role=role, site=site)
    return user


def _subject_with_records(study, site, code, by):
    subject = subjects.register_subject(
        study=study, site=site, subject_code=code, screening_date=date(2021, 1, 1), sex="male", age_years=50, by=by
    )
    subjects.record_consent(subject, consent_date=date(2021, 1, 1), consent_version="1.0", by=by)
    subjects.record_eligibility(subject, answers={"I1": True, "E1": False}, by=by)
    arm = ProtocolVersion.objects.get(study=study).arms.get(code="A")
    subjects.assign_arm(subject, arm=arm, allocation_date=date(2021, 1, 2), reason="Design", by=by)
    infusion = give_first_infusion(subject, by=by)
    visit = subject.visits.get(definition__code="W0")
    draw = lab_services.record_lab_draw(
        visit=visit, drawn_at=datetime(2021, 1, 2, 8, tzinfo=UTC), values={"TBIL": "10", "INR": "1.0"}, by=by
    )
    status = lab_services.record_clinical_status(
        visit=visit,
        assessed_on=date(2021, 1, 2),
        ascites="none",
        encephalopathy_grade=0,
        dialysis_past_week=False,
        by=by,
    )
    adverse_event = events.record_adverse_event(
        subject=subject,
        by=by,
        term="Fever",
        onset_at=datetime(2021, 1, 2, 13, tzinfo=UTC),
        grade=1,
        relatedness="probable",
        outcome="recovered",
    )
    medication = events.record_medication(
        subject=subject, by=by, drug="Entecavir", dose="0.5 mg daily", start_date=date(2021, 1, 2)
    )
    hcc = events.record_hcc(subject=subject, diagnosis_date=date(2021, 3, 1), method="imaging", by=by)
    query = queries.raise_query(record=visit, text="Is the date right?", by=by)
    subject.refresh_from_db()
    return SimpleNamespace(
        subject=subject,
        query=query,
        visit=visit,
        infusion=infusion,
        adverse_event=adverse_event,
        medication=medication,
        admin_objects={
            "subject": subject,
            "eligibilityanswer": subject.eligibility_answers.first(),
            "allocation": subject.allocation,
            "visit": visit,
            "labdraw": draw,
            "labvalue": draw.values.first(),
            "clinicalstatus": status,
            "infusionevent": infusion,
            "releaseresult": infusion.release_results.first(),
            "adverseevent": adverse_event,
            "endpointevent": hcc,
            "concomitantmedication": medication,
        },
    )


def _place(study, site, records, staff, lockouts, admin_site=None):
    """A target: its study, site, subject and records, and the admin object of every model there (the site admin
    shows ``admin_site``, a site of no other study, when ``site`` is shared)."""
    membership = Membership.objects.get(user=staff, study=study)
    admin_objects = (
        records.admin_objects
        | lockouts
        | {
            "protocolversion": ProtocolVersion.objects.get(study=study),
            "analysisplanversion": AnalysisPlanVersion.objects.get(study=study),
            "site": admin_site or site,
            "study": study,
            "membership": membership,
            "user": staff,
            "group": Group.objects.get(name=DATA_MANAGER_GROUP),
        }
    )
    return SimpleNamespace(**vars(records) | {"study": study, "site": site, "admin_objects": admin_objects})


def _lockouts():
    """One record of each kind django-axes keeps: a locked-out username, its failures and a sign-in."""
    seen = {"ip_address": "192.0.2.1", "user_agent": "test", "path_info": "/accounts/login/", "http_accept": "*/*"}
    return {
        "accessattempt": AccessAttempt.objects.create(
            username="coord_a", get_data="", post_data="", failures_since_start=5, **seen
        ),
        "accessfailurelog": AccessFailureLog.objects.create(username="coord_a", locked_out=True, **seen),
        "accesslog": AccessLog.objects.create(username="monitor", **seen),
    }


def _build_world():
    trial = load_protocol(TRIAL_PROTOCOL, source_name="trial.toml").protocol.study
    other = load_protocol(OTHER_PROTOCOL, source_name="other.toml").protocol.study
    for study in (trial, other):
        load_plan(f'study = "{study.code}"\nversion = "1.0"\n', source_name=f"{study.code.lower()}_plan.toml")
    site_a, site_b, site_c = SiteFactory(code="SITE-A"), SiteFactory(code="SITE-B"), SiteFactory(code="SITE-C")
    for study, site in ((trial, site_a), (trial, site_b), (other, site_a), (other, site_c)):
        StudySiteFactory(study=study, site=site)
    users = {
        "coordinator_a": _member("coord_a", trial, Role.COORDINATOR, site_a),
        "investigator_a": _member("inv_a", trial, Role.INVESTIGATOR, site_a),
        "coordinator_b": _member("coord_b", trial, Role.COORDINATOR, site_b),
        "monitor": _member("monitor", trial, Role.MONITOR, None),
        "data_manager": make_data_manager_staff(_member("datamanager", trial, Role.DATA_MANAGER, None)),
        "outsider": UserFactory(username="outsider"),
        "superuser": UserFactory(username="root", is_staff=True, is_superuser=True),
    }
    coordinator_other = _member("coord_other", other, Role.COORDINATOR, site_a)
    lockouts = _lockouts()
    a = _place(
        trial,
        site_a,
        _subject_with_records(trial, site_a, "001", users["coordinator_a"]),
        users["coordinator_a"],
        lockouts,
    )
    b = _place(
        trial,
        site_b,
        _subject_with_records(trial, site_b, "002", users["coordinator_b"]),
        users["coordinator_b"],
        lockouts,
    )
    elsewhere = _place(
        other,
        site_a,
        _subject_with_records(other, site_a, "001", coordinator_other),
        coordinator_other,
        lockouts,
        admin_site=site_c,
    )
    places = {role: {"own_site": a, "other_site": b, "other_study": elsewhere} for role in ROLES}
    places["coordinator_b"] = {"own_site": b, "other_site": a, "other_study": elsewhere}
    run_queued_tasks()  # the analyses the writes queued, as a task worker would have computed them
    sessions = {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return SimpleNamespace(places=places, sessions=sessions)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The module's data, built once inside a transaction rolled back after the module's last case."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


# ---------------------------------------------------------------------------------------------------------------
# From a case to its URL, and the rows every clinical and audit table holds.


def _url(route: Route, place) -> str:
    kwargs = _kwargs(route, place)
    if route.pattern.name:
        name_args = {"args": kwargs} if isinstance(kwargs, list) else {"kwargs": kwargs}
        return reverse(route.key, **name_args)
    if route.key.endswith("(?P<url>.*)$"):
        return "/admin/no-such-page/"
    return "/" + route.route.replace("<path:object_id>", str(kwargs["object_id"]))


def _admin_object(route: Route, place):
    match = re.match(r"^admin/(\w+)/(\w+)/", route.route)
    return place.admin_objects[match.group(2)]


def _kwargs(route: Route, place):
    """Keyword (or positional, for the history version page) arguments of ``route`` filled from ``place``."""
    parameters = _parameters(route)
    if route.route.endswith("history/([^/]+)/$"):
        obj = _admin_object(route, place)
        history = getattr(obj, "history", None)
        return [obj.pk, history.earliest().history_id if history else 1]
    values = {
        "study_code": lambda: place.study.code,
        "site_code": lambda: place.site.code,
        "pk": lambda: place.subject.pk,
        "visit_code": lambda: place.visit.definition.code,
        "event_pk": lambda: place.adverse_event.pk,
        "medication_pk": lambda: place.medication.pk,
        "infusion_pk": lambda: place.infusion.pk,
        "kind": lambda: "adverse-event",
        "record_pk": lambda: place.adverse_event.pk,
        "event": lambda: "death",
        "object_id": lambda: _admin_object(route, place).pk,
        "id": lambda: _admin_object(route, place).pk,
        "app_label": lambda: "ecrf",
        "content_type_id": lambda: ContentType.objects.get_for_model(place.subject).pk,
        "url": lambda: None,
        "figure": lambda: "enrolment",
        "fmt": lambda: "svg",
        "table": lambda: "enrolment",
        "job_id": lambda: 1,
        "membership_pk": lambda: place.admin_objects["membership"].pk,
        "query_pk": lambda: place.query.pk,
    }
    unknown = [p for p in parameters if p not in values]
    assert not unknown, f"{route.key}: no data to fill {unknown}; add it to _kwargs"
    if route.key == "admin:view_on_site":
        return {"content_type_id": values["content_type_id"](), "object_id": place.subject.pk}
    return {p: values[p]() for p in parameters if p != "url"}


@functools.cache
def _tables() -> list[str]:
    models = [*(m for app in ("ecrf", "auth", "axes") for m in apps.get_app_config(app).get_models())]
    tables = {m._meta.db_table for m in models} | {"django_admin_log"}
    for model in models:
        tables |= {f.remote_field.through._meta.db_table for f in model._meta.local_many_to_many}
    return sorted(tables)


@functools.cache
def _count_sql() -> str:
    quote = connection.ops.quote_name
    return "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in _tables())  # noqa: S608 (table names)


def _row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(_count_sql())
        return dict(zip(_tables(), cursor.fetchone(), strict=True))


def _outcome(response) -> object:
    if response.status_code == 302:
        return f"302:{resolve(urlsplit(response['Location']).path).view_name}"
    return response.status_code


# ---------------------------------------------------------------------------------------------------------------
# The cases.


def _table() -> tuple[dict[str, object], dict[str, str]]:
    """The row of every URL, and the pattern template of every admin URL of a model other than its group's
    representative."""
    table = dict(EXPECTED) | dict(ADMIN_EXPECTED)
    probed = {}  # non-representative key -> its template
    for group, rows in EXPECTED_FAMILIES.items():
        app, (representative, *others) = ADMIN_MODELS[group]
        for template, row in rows.items():
            table |= {template.format(app=app, model=m): _formatted(row, app, m) for m in (representative, *others)}
            probed |= {template.format(app=app, model=m): template for m in others}
    return table, probed


def _formatted(row, app, model):
    if isinstance(row, dict):
        return {k: _formatted(v, app, model) for k, v in row.items()}
    return row.format(app=app, model=model) if isinstance(row, str) else row


TABLE, PROBED = _table()
FAMILY_KEYS = frozenset(TABLE) - set(EXPECTED) - set(ADMIN_EXPECTED)


def expected(key: str, role: str, target: str, method: str):
    """What ``role`` should get from ``method`` on URL ``key`` at ``target``, as ``EXPECTED`` declares it."""
    row = TABLE[key]
    if isinstance(row, StudyPage):
        return _study_page(row, role, target, method)
    outcome = row[method][role]
    return outcome[target] if isinstance(outcome, dict) else outcome


def _study_page(row: StudyPage, role: str, target: str, method: str):
    outcome = getattr(row, method)
    site_staff_elsewhere = role in SITE_STAFF and target == "other_site"
    if role == "anonymous":
        return LOGIN
    if outcome == 405:
        return 405
    if role not in MEMBERS or target == "other_study":
        return 404
    if row.scope == "site" and site_staff_elsewhere:
        return 404
    if role in row.reviewers:
        return 403 if method == "POST" else outcome
    if role not in row.allowed:
        return 403
    if row.scope == "subject" and site_staff_elsewhere:
        return 404
    return outcome


def _probed(key: str, role: str, target: str, method: str) -> bool:
    """Whether the case runs: all do but the family pages' duplicate non-staff and those of a non-representative
    admin model outside ``SCOPE_PROBES``, whose other patterns are requested once (the data manager's GET)."""
    if key in FAMILY_KEYS and role in NON_STAFF and role not in NON_STAFF_AT_A_FAMILY_PAGE:
        return False
    if key not in PROBED:
        return True
    probes = SCOPE_PROBES
    if PROBED[key] not in probes.templates:
        return role == "data_manager" and method == "GET" and target in ("own_site", NO_TARGET)
    return role in probes.roles and target in probes.targets and method in probes.methods


def _cases():
    for route in sorted(ROUTES, key=lambda r: r.key):
        for role in ROLES:
            targets = _targets(route)[:1] if _stopped_at_the_door(route, role) else _targets(route)
            for target in targets:
                for method in ("GET", "POST"):
                    if not _probed(route.key, role, target, method):
                        continue
                    marks = ()
                    if route.key in TABLE:
                        outcome = expected(route.key, role, target, method)
                        if isinstance(outcome, Pending):
                            marks = (pytest.mark.xfail(strict=True, reason=outcome.reason),)
                    yield pytest.param(
                        route.key, role, target, method, id=f"{route.key}|{role}|{target}|{method}", marks=marks
                    )


CASES = tuple(_cases())


def test_every_url_pattern_has_a_row():
    missing = sorted(r.key for r in ROUTES if r.key not in TABLE)
    assert not missing, f"URL patterns with no row in the permission matrix: {missing}"
    assert not set(TABLE) - set(ROUTES_BY_KEY), (
        f"rows for URLs that do not exist: {sorted(set(TABLE) - set(ROUTES_BY_KEY))}"
    )


# The mark makes pytest-django create the test database, which the module's cases share through ``world``
# (each in a savepoint of its own, cheaper than the per-test TestCase of the ``db`` fixture).
@pytest.mark.django_db
def test_the_matrix_size(capsys):
    triples = {(key, role, target) for key, role, target, _ in (c.values for c in CASES)}
    probes = sum(1 for c in CASES if c.values[0] in PROBED)
    with capsys.disabled():
        print(
            f"\npermission matrix: {len(ROUTES)} URL patterns x {len(ROLES)} roles x up to {len(TARGETS)} targets: "
            f"{len(triples)} (pattern, role, target) triples, {len(CASES)} cases with GET and POST "
            f"({probes} of them scope probes of non-representative admin models)"
        )
    # Every pattern is requested at least once, and every case of a representative runs both methods.
    assert {c.values[0] for c in CASES} == set(ROUTES_BY_KEY)
    full = [c.values for c in CASES if c.values[0] not in PROBED]
    assert len(full) == 2 * len({values[:3] for values in full})


@pytest.mark.parametrize(("key", "role", "target", "method"), CASES)
def test_permission_matrix(world, key, role, target, method):
    route = ROUTES_BY_KEY[key]
    place = world.places[role][target if target != NO_TARGET else "own_site"]
    url = _url(route, place)
    client = Client()
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    with transaction.atomic():  # each case's session and access-log rows go when it ends
        before = _row_counts()
        response = client.get(url) if method == "GET" else client.post(url, {})
        after = _row_counts()
        transaction.set_rollback(True)
    actual = _outcome(response)
    if os.environ.get("PERMMATRIX_SURVEY"):
        with open(os.environ["PERMMATRIX_SURVEY"], "a") as out:
            out.write(f"{key}\t{role}\t{target}\t{method}\t{actual}\t{after == before}\n")
        return
    assert key in TABLE, f"URL pattern {key!r} has no row in the permission matrix: declare who may open it"
    want = expected(key, role, target, method)
    want = want.outcome if isinstance(want, Pending) else want
    assert response.status_code != 500, f"{method} {url}"
    refused = actual not in (200, 400, 409) and not str(actual).startswith("302:admin")
    if method == "POST" or refused:
        assert after == before, f"{method} {url} as {role} wrote rows"
    assert actual in want if isinstance(want, frozenset) else actual == want, (
        f"{method} {url} as {role}: got {actual}, expected {want}"
    )
