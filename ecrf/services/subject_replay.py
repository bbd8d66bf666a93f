"""One subject's imported records replayed through the services, in the order they would have been entered here.

Registration, consent and eligibility; the allocation; then visit by visit, what was recorded at it (clinical
status, the lab panel, the infusion with its release results); then adverse events, medication, outcomes and
signatures; last, how participation ended. Each service applies its rules as for a form. The few values the
services set themselves are taken as recorded, through services that check them: a visit's planned dates
(``schedule.keep_planned_dates``), when a deviation was detected, a signature given elsewhere. Visits the
schedule plans that the source never had are voided, saying so.
"""

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError

from ecrf.models import Site, Study, Subject, SubjectStatus, Visit, VisitStatus
from ecrf.services import audit, events, labs, schedule, signatures, visits
from ecrf.services import subjects as lifecycle
from ecrf.services.import_rows import Problem, Row, RowRefused, problems_of

CLINICAL_FIELDS = ("assessed_on", "ascites", "encephalopathy_grade", "dialysis_past_week", "temperature_c")
SYMPTOMS = ("fever", "peripheral_oedema", "rash", "nausea", "vomiting")
PRODUCT_FIELDS = ("product_lot", "passage", "total_cells", "volume_ml", "observation_hours", "reaction")
AE_FIELDS = ("term", "onset_at", "resolved_at", "grade", "serious", "seriousness", "sae_reported_on")
AE_DETAILS = ("sae_description", "relatedness", "outcome", "action_taken")
MEDICATION_FIELDS = ("drug", "dose", "indication", "is_background", "start_date", "stop_date")
ENDED = {SubjectStatus.FOLLOW_UP, SubjectStatus.COMPLETED}


def call(row: Row, service, *args, columns=None, rows=None, **kwargs):
    """``service(*args, **kwargs)``; a refusal stops the subject, its messages placed on ``row``'s columns."""
    try:
        return service(*args, **kwargs)
    except ValidationError as error:
        raise RowRefused(problems_of(error, row, columns=columns, rows=rows)) from None
    except DatabaseError as error:  # a constraint the services do not check first: still the row's problem
        raise RowRefused([Problem(row.file, row.line, "", f"The database refused this row: {error}")]) from None


def refuse(row: Row, column: str, message: str):
    """Stop the subject with one problem on ``row``'s ``column``."""
    raise RowRefused([Problem(row.file, row.line, column, message)])


def pick(row: Row, names) -> dict:
    """The row's values of the columns ``names``, as keyword arguments of a service."""
    return {name: row.values[name] for name in names}


def replay_subject(study: Study, rows: dict[str, list[Row]], *, by) -> Subject:
    """Load one subject's ``rows`` (by file) into ``study`` as ``by``; raises RowRefused at the first refusal."""
    return _Replay(study, rows, by).run()


class _Replay:
    def __init__(self, study: Study, rows: dict[str, list[Row]], by):
        self.study, self.rows, self.by = study, rows, by
        self.record = rows["subjects"][0]
        if len(rows["subjects"]) > 1:
            refuse(rows["subjects"][1], "subject_code", f"{self.record.values['subject_code']} appears twice.")
        self.at_visit = {name: defaultdict(list) for name in ("clinical_status", "lab_values", "infusions")}
        for name, grouped in self.at_visit.items():
            for row in rows.get(name, []):
                grouped[row.values["visit_code"]].append(row)
        self.deviations = {row.values["visit_code"]: row for row in rows.get("protocol_deviations", [])}

    def run(self) -> Subject:
        if self.record.values["status"] not in SubjectStatus.values:
            refuse(self.record, "status", f"{self.record.values['status']!r} is not a subject status.")
        self._refuse_unused_rows()
        subject = self._register()
        self._screen(subject)
        if self.rows.get("allocations"):
            self._allocate(subject, self.rows["allocations"][0])
        for row in self.rows.get("visits", []):
            self._visit(subject, row)
        for row in self.at_visit["infusions"].get(None, []):  # an infusion recorded without a visit
            self._infusion(subject, None, row)
        self._events(subject)
        self._end(subject)
        self._void_unrecorded_visits(subject)
        if subject.status != self.record.values["status"]:
            refuse(self.record, "status", f"The subject's records lead to {subject.status}, not to this status.")
        return subject

    def _refuse_unused_rows(self) -> None:
        """Rows the replay would never reach: a second allocation, data at a visit not in visits.csv, release
        results of an infusion not in infusions.csv, a second deviation of one visit."""
        allocations = self.rows.get("allocations", [])
        if len(allocations) > 1:
            refuse(allocations[1], "subject_code", "A subject has one allocation.")
        visit_codes = {row.values["visit_code"] for row in self.rows.get("visits", [])}
        for grouped in self.at_visit.values():
            for code, rows in grouped.items():
                if code is not None and code not in visit_codes:
                    refuse(rows[0], "visit_code", f"{code} is not among the subject's visits in visits.csv.")
        numbers = {row.values["infusion_number"] for row in self.rows.get("infusions", [])}
        for row in self.rows.get("release_results", []):
            if row.values["infusion_number"] not in numbers:
                refuse(row, "infusion_number", "The subject has no such infusion in infusions.csv.")
        if len(self.deviations) < len(self.rows.get("protocol_deviations", [])):
            refuse(self.rows["protocol_deviations"][-1], "visit_code", "A visit has one out-of-window deviation.")

    def _register(self) -> Subject:
        row, values = self.record, self.record.values
        site = Site.objects.filter(code=values["site_code"]).first()
        if site is None:
            refuse(row, "site_code", f"There is no site {values['site_code']}.")
        registration = pick(row, ("subject_code", "screening_date", "sex", "age_years", "weight_kg"))
        columns = {"site": "site_code"}
        subject = call(
            row, lifecycle.register_subject, study=self.study, site=site, by=self.by, columns=columns, **registration
        )
        if subject.protocol.version != values["protocol_version"]:
            refuse(row, "protocol_version", f"Version {subject.protocol.version} is in force on the screening date.")
        return subject

    def _screen(self, subject: Subject) -> None:
        row, values = self.record, self.record.values
        if values["consent_date"] is not None:
            consent = pick(row, ("consent_date", "consent_version"))
            call(row, lifecycle.record_consent, subject, by=self.by, **consent)
        assessments = defaultdict(list)
        for answer in self.rows.get("eligibility", []):
            assessments[answer.values["assessed_at"]].append(answer)
        for assessed_at, answers in assessments.items():
            by_code = {answer.values["criterion_code"]: answer for answer in answers}
            given = {code: answer.values["answer"] for code, answer in by_code.items()}
            call(
                answers[0],
                lifecycle.record_eligibility,
                subject,
                answers=given,
                assessed_at=assessed_at,
                by=self.by,
                columns={"": "answer"},
                rows=by_code,
            )
        if values["status"] == SubjectStatus.SCREEN_FAILED:
            reason = values["screen_failure_reason"]
            call(
                row,
                lifecycle.mark_screen_failed,
                subject,
                reason=reason,
                by=self.by,
                columns={"reason": "screen_failure_reason"},
            )

    def _allocate(self, subject: Subject, row: Row) -> None:
        arm = subject.protocol.arms.filter(code=row.values["arm_code"]).first()
        if arm is None:
            refuse(row, "arm_code", f"Protocol {subject.protocol.version} has no arm {row.values['arm_code']}.")
        recorded = pick(row, ("method", "allocation_date", "reason", "stratum"))
        code = row.values["randomisation_code"]
        columns = {"code": "randomisation_code"}
        call(row, lifecycle.allocate_as_recorded, subject, arm=arm, code=code, by=self.by, columns=columns, **recorded)

    def _visit(self, subject: Subject, row: Row) -> None:
        values, code = row.values, row.values["visit_code"]
        visit = subject.visits.active().filter(definition__code=code).select_related("definition").first()
        if visit is None:
            refuse(row, "visit_code", f"{code} is not in the subject's schedule at this point of its records.")
        planned = pick(row, ("planned_date", "window_start", "window_end"))
        if planned != {
            "planned_date": visit.planned_date,
            "window_start": visit.window_start,
            "window_end": visit.window_end,
        }:
            call(row, schedule.keep_planned_dates, visit, by=self.by, **planned)
        if values["status"] == VisitStatus.DONE:
            deviation = self.deviations.pop(code, None)
            call(
                row,
                visits.record_visit,
                visit,
                actual_date=values["actual_date"],
                weight_kg=values["weight_kg"],
                window_reason=deviation.values["description"] if deviation else "",
                deviation_detected_at=deviation.values["detected_at"] if deviation else None,
                by=self.by,
            )
        elif values["status"] == VisitStatus.MISSED:
            columns = {"reason": "missed_reason", "missed": "status"}
            call(row, visits.mark_missed, visit, reason=values["missed_reason"], by=self.by, columns=columns)
        self._recorded_at(subject, visit, code)

    def _recorded_at(self, subject: Subject, visit: Visit, code: str) -> None:
        for row in self.at_visit["clinical_status"].get(code, []):
            findings = pick(row, (*CLINICAL_FIELDS, *SYMPTOMS))
            call(row, labs.record_clinical_status, visit=visit, by=self.by, **findings)
        draws = defaultdict(list)
        for row in self.at_visit["lab_values"].get(code, []):
            draws[row.values["drawn_at"]].append(row)
        for drawn_at, results in draws.items():
            self._draw(visit, drawn_at, results)
        for row in self.at_visit["infusions"].get(code, []):
            self._infusion(subject, visit, row)

    def _draw(self, visit: Visit, drawn_at, results: list[Row]) -> None:
        by_code = {row.values["analyte_code"]: row for row in results}
        entries = {
            code: labs.NotDone(row.values["not_done_reason"]) if row.values["not_done"] else row.values["value"]
            for code, row in by_code.items()
        }
        confirmed = {code for code, row in by_code.items() if row.values["confirmed_unusual"]}
        call(
            results[0],
            labs.record_lab_draw,
            visit=visit,
            drawn_at=drawn_at,
            values=entries,
            confirmed_unusual=confirmed,
            by=self.by,
            columns={"": "value"},
            rows=by_code,
        )

    def _infusion(self, subject: Subject, visit: Visit | None, row: Row) -> None:
        number = row.values["infusion_number"]
        criteria = {criterion.code: criterion for criterion in subject.protocol.release_criteria.all()}
        release = {}
        for result in self.rows.get("release_results", []):
            if result.values["infusion_number"] != number:
                continue
            criterion = criteria.get(result.values["criterion_code"])
            if criterion is None:
                refuse(result, "criterion_code", "Not a release criterion of the subject's protocol.")
            reading = result.values["negative"] if criterion.kind == "negative" else result.values["value"]
            release[criterion.code] = reading
        call(
            row,
            events.record_infusion,
            subject=subject,
            visit=visit,
            number=number,
            release=release,
            by=self.by,
            columns={"number": "infusion_number"},
            **pick(row, ("started_at", "body_weight_kg", "release_deviation", "dose_deviation", *PRODUCT_FIELDS)),
        )

    def _events(self, subject: Subject) -> None:
        for row in self.rows.get("adverse_events", []):
            infusion = None
            if row.values["infusion_number"] is not None:
                infusion = subject.infusions.active().filter(number=row.values["infusion_number"]).first()
                if infusion is None:
                    refuse(row, "infusion_number", "The subject has no such infusion.")
            facts = pick(row, (*AE_FIELDS, *AE_DETAILS))
            call(row, events.record_adverse_event, subject=subject, infusion=infusion, by=self.by, **facts)
        for row in self.rows.get("medications", []):
            call(row, events.record_medication, subject=subject, by=self.by, **pick(row, MEDICATION_FIELDS))
        for row in self.rows.get("outcomes", []):
            if row.values["kind"] != "hcc":
                refuse(row, "kind", "Only HCC diagnoses are outcomes recorded here.")
            found = pick(row, ("method", "details"))
            columns = {"diagnosis_date": "event_date"}
            diagnosed = row.values["event_date"]
            call(
                row, events.record_hcc, subject=subject, diagnosis_date=diagnosed, by=self.by, columns=columns, **found
            )
        for row in self.deviations.values():
            refuse(
                row, "", "The subject's visits do not lead to this deviation (an out-of-window date of a done visit)."
            )
        for row in self.rows.get("signatures", []):
            self._signature(subject, row)

    def _signature(self, subject: Subject, row: Row) -> None:
        visit = subject.visits.active().filter(definition__code=row.values["visit_code"]).first()
        signer = get_user_model().objects.filter(username=row.values["signed_by"]).first()
        if visit is None:
            refuse(row, "visit_code", "The subject has no such visit.")
        if signer is None:
            refuse(row, "signed_by", f"There is no user {row.values['signed_by']} here.")
        given = pick(row, ("signed_at", "meaning"))
        call(row, signatures.record_signature, visit, signed_by=signer, by=self.by, **given)

    def _end(self, subject: Subject) -> None:
        row, values, status = self.record, self.record.values, self.record.values["status"]
        if status in ENDED and subject.status in (SubjectStatus.ALLOCATED, SubjectStatus.ON_TREATMENT):
            call(row, lifecycle.enter_follow_up, subject, by=self.by)
        if status == SubjectStatus.COMPLETED:
            call(row, lifecycle.complete, subject, completion_date=values["completion_date"], by=self.by)
        elif status == SubjectStatus.WITHDRAWN:
            withdrawal = {"withdrawal_date": values["withdrawal_date"], "reason": values["withdrawal_reason"]}
            columns = {"reason": "withdrawal_reason"}
            call(row, lifecycle.withdraw, subject, by=self.by, columns=columns, **withdrawal)
        elif status == SubjectStatus.LOST:
            call(row, lifecycle.lose_to_follow_up, subject, last_contact_date=values["last_contact_date"], by=self.by)
        elif status == SubjectStatus.DIED:
            death = {"death_date": values["death_date"], "cause": values["death_cause"]}
            call(row, lifecycle.record_death, subject, by=self.by, columns={"cause": "death_cause"}, **death)

    def _void_unrecorded_visits(self, subject: Subject) -> None:
        recorded = {row.values["visit_code"] for row in self.rows.get("visits", [])}
        for visit in subject.visits.active().select_related("definition"):
            if visit.definition.code not in recorded:
                audit.void(visit, by=self.by, reason="Scheduled here, but not among the source's visits")
