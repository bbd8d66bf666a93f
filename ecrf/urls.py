from django.urls import path

from ecrf.views import (
    audit_review,
    delegation,
    deviations,
    events,
    labs,
    locks,
    monitoring,
    randomisation,
    screening,
    signatures,
    studies,
    subjects,
    visits,
)

app_name = "ecrf"

urlpatterns = [
    path("", studies.home, name="home"),
    path("studies/<str:study_code>/", studies.study_detail, name="study_detail"),
    path("studies/<str:study_code>/team/", studies.study_team, name="study_team"),
    path("studies/<str:study_code>/team/delegations/", delegation.delegation_log, name="delegation_log"),
    path(
        "studies/<str:study_code>/team/delegations/<int:membership_pk>/",
        delegation.delegation_edit,
        name="delegation_edit",
    ),
    path("studies/<str:study_code>/deviations/", deviations.deviation_list, name="deviations"),
    path("studies/<str:study_code>/queries/", monitoring.query_list, name="query_list"),
    path("studies/<str:study_code>/queries/<int:query_pk>/", monitoring.query_detail, name="query_detail"),
    path("studies/<str:study_code>/lock/", locks.study_lock, name="study_lock"),
    path("studies/<str:study_code>/audit/", audit_review.audit_trail, name="audit_trail"),
    path("studies/<str:study_code>/verification/", monitoring.verification_progress, name="verification_progress"),
    path("studies/<str:study_code>/subjects/<int:pk>/queries/raise/", monitoring.raise_query, name="raise_query"),
    path("studies/<str:study_code>/subjects/<int:pk>/verify/", monitoring.verify_record, name="verify_record"),
    path("studies/<str:study_code>/subjects/<int:pk>/lock/", locks.subject_lock, name="subject_lock"),
    path("studies/<str:study_code>/subjects/<int:pk>/unlock/", locks.subject_unlock, name="subject_unlock"),
    path("studies/<str:study_code>/sites/<str:site_code>/", studies.site_detail, name="site_detail"),
    path("studies/<str:study_code>/sites/<str:site_code>/register/", screening.register, name="register_subject"),
    path("studies/<str:study_code>/subjects/<int:pk>/", subjects.subject_detail, name="subject_detail"),
    path("studies/<str:study_code>/subjects/<int:pk>/eligibility/", screening.eligibility, name="eligibility"),
    path("studies/<str:study_code>/subjects/<int:pk>/consent/", screening.consent, name="consent"),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/registration/",
        screening.correct_registration,
        name="correct_registration",
    ),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/consent/correct/", screening.correct_consent, name="correct_consent"
    ),
    path("studies/<str:study_code>/subjects/<int:pk>/screen-failure/", screening.screen_failure, name="screen_failure"),
    path("studies/<str:study_code>/subjects/<int:pk>/visits/<str:visit_code>/", visits.visit_form, name="visit_form"),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/visits/<str:visit_code>/clinical-status/",
        visits.clinical_status_form,
        name="clinical_status",
    ),
    path("studies/<str:study_code>/subjects/<int:pk>/visits/<str:visit_code>/labs/", labs.lab_panel, name="lab_panel"),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/visits/<str:visit_code>/sign/", signatures.sign, name="sign_visit"
    ),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/visits/<str:visit_code>/unlock/",
        signatures.unlock,
        name="unlock_visit",
    ),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/visits/<str:visit_code>/labs/history/",
        labs.lab_history,
        name="lab_history",
    ),
    path("studies/<str:study_code>/subjects/<int:pk>/sign/", signatures.sign_several, name="sign_visits"),
    path("studies/<str:study_code>/subjects/<int:pk>/randomise/", subjects.randomise, name="randomise"),
    path("studies/<str:study_code>/subjects/<int:pk>/assign/", subjects.assign_arm, name="assign_arm"),
    path("studies/<str:study_code>/randomisation/", randomisation.manage, name="randomisation"),
    path("studies/<str:study_code>/randomisation/generate/", randomisation.generate, name="randomisation_generate"),
    path("studies/<str:study_code>/randomisation/import/", randomisation.import_csv, name="randomisation_import"),
    path("studies/<str:study_code>/randomisation/slots/", randomisation.slots, name="randomisation_slots"),
    path("studies/<str:study_code>/randomisation/secret/", randomisation.reveal_secret, name="randomisation_secret"),
    path("studies/<str:study_code>/randomisation/list.csv", randomisation.download, name="randomisation_download"),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/visits/<str:visit_code>/infusion/", events.infusion, name="infusion"
    ),
    path("studies/<str:study_code>/subjects/<int:pk>/adverse-events/new/", events.adverse_event, name="adverse_event"),
    path("studies/<str:study_code>/subjects/<int:pk>/medication/new/", events.medication, name="medication"),
    path("studies/<str:study_code>/subjects/<int:pk>/events/<str:event>/", screening.outcome, name="outcome"),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/visits/<str:visit_code>/history/",
        labs.visit_history,
        name="visit_history",
    ),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/adverse-events/<int:event_pk>/",
        events.adverse_event_edit,
        name="adverse_event_edit",
    ),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/medication/<int:medication_pk>/",
        events.medication_edit,
        name="medication_edit",
    ),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/infusions/<int:infusion_pk>/",
        events.infusion_edit,
        name="infusion_edit",
    ),
    path(
        "studies/<str:study_code>/subjects/<int:pk>/records/<str:kind>/<int:record_pk>/history/",
        events.record_history,
        name="record_history",
    ),
]
