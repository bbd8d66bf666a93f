"""The one bridge from the database to pandas: tidy DataFrames of a study, read in a fixed number of queries.

Every query is a ``.values()`` over a whole study (never one per subject), voided records left out. The frames:

- ``subjects``: one row per screened subject; arm, site, status, the protocol's time origin, the dates that
  end follow-up, and the baseline covariates of Table 1 (``baseline_<ANALYTE>``, ``baseline_meld``,
  ``meld_above_15``, ``child_pugh_grade``, ``ascites``, ``hbeag_positive``).
- ``labs``: one row per lab value (subject, visit, study day from the time origin, analyte, value).
- ``scores``: one row per lab draw with MELD, MELD-Na, MELD 3.0 and Child-Pugh (analysis/scores.py), using the
  clinical status assessed nearest the draw (within 7 days).
- ``time_to_event``: allocated subjects with overall survival and HCC (analysis/endpoints.py).
- ``adverse_events``: one row per adverse event with the hours since the latest infusion before its onset.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import CharField, FloatField, Max, Min
from django.db.models.functions import Cast
from django.utils import timezone

from analysis import endpoints, score_columns
from ecrf.models import (
    AdverseEvent,
    Analyte,
    ClinicalStatus,
    EndpointEvent,
    InfusionEvent,
    LabDraw,
    LabValue,
    Subject,
    Visit,
    VisitDefinition,
)

SUBJECT_FIELDS = {
    "pk": "pk",
    "subject_code": "subject_id",
    "site__code": "site",
    "status": "status",
    "screen_failure_reason": "screen_failure_reason",
    "sex": "sex",
    "age_years": "age_years",
    "screening_date": "screening_date",
    "consent_date": "consent_date",
    "withdrawal_date": "withdrawal_date",
    "last_contact_date": "last_contact_date",
    "death_date": "death_date",
    "completion_date": "completion_date",
    "protocol__time_origin": "time_origin",
    "protocol__follow_up_days": "follow_up_days",
    "allocation__is_voided": "allocation_voided",
    "allocation__arm__code": "arm",
    "allocation__arm__label": "arm_label",
    "allocation__arm__is_control": "is_control",
    "allocation__allocation_date": "allocation_date",
    "allocation__stratum": "stratum",
}
DATES = ("screening_date", "consent_date", "withdrawal_date", "last_contact_date", "death_date", "completion_date")
LEFT = ("withdrawn", "lost_to_follow_up")
NEAREST_STATUS = pd.Timedelta(days=7)
# HBeAg immunoassays report a signal-to-cutoff ratio: reactive (positive) from 1.0 (ecrf/protocols, HBEAG).
HBEAG_POSITIVE_S_CO = 1.0
LAB_COLUMNS = [
    "draw_id", "pk", "visit_code", "visit_order", "drawn_at", "analyte", "unit", "value", "drawn_on", "subject_id",
    "arm", "arm_label", "study_day",
]  # fmt: skip
CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class StudyData:
    subjects: pd.DataFrame
    labs: pd.DataFrame
    scores: pd.DataFrame
    time_to_event: pd.DataFrame
    adverse_events: pd.DataFrame


def study_data(study) -> StudyData:
    """All frames of ``study`` (an ecrf Study), built together so the reads are shared."""
    subjects = _subjects(study)
    labs, draws = _labs(study, subjects)
    scores = _scores(study, draws, subjects)
    subjects = _with_baseline(subjects, labs, scores, _baseline_visits(study))
    del draws, labs["pk"]  # in place: the long table is not copied to lose a column
    return StudyData(
        subjects=subjects.drop(columns=["pk"]),
        labs=labs,
        scores=scores.drop(columns=["pk"]),
        time_to_event=endpoints.time_to_event(subjects).drop(columns=["pk"]),
        adverse_events=_adverse_events(study, subjects),
    )


def _frame(rows, columns) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows), columns=list(columns))


def _subjects(study) -> pd.DataFrame:
    rows = Subject.objects.active().filter(study=study).order_by("subject_code").values_list(*SUBJECT_FIELDS)
    frame = _frame(rows, SUBJECT_FIELDS.values())
    voided = frame["allocation_voided"].eq(True)
    for column in ("arm", "arm_label", "is_control", "allocation_date", "stratum"):
        frame[column] = frame[column].astype(object).where(~voided, None)
    frame = frame.drop(columns=["allocation_voided"])
    for column in (*DATES, "allocation_date"):
        frame[column] = pd.to_datetime(frame[column])
    frame["allocated"] = frame["arm"].notna()
    frame["analysed"] = frame["allocated"] & ~frame["status"].isin(LEFT)
    in_study = Subject.objects.active().filter(study=study)
    first_infusion = _by_subject(
        InfusionEvent.objects.active().filter(subject__in=in_study).values("subject_id").annotate(at=Min("started_at"))
    )
    last_visit = _by_subject(
        Visit.objects.active()
        .filter(subject__in=in_study, actual_date__isnull=False)
        .values("subject_id")
        .annotate(at=Max("actual_date"))
    )
    hcc = _by_subject(
        EndpointEvent.objects.active()
        .filter(subject__in=in_study, kind="hcc")
        .values("subject_id")
        .annotate(at=Min("event_date"))
    )
    frame["first_infusion_date"] = _local_day(frame["pk"].map(first_infusion))
    frame["last_visit_date"] = pd.to_datetime(frame["pk"].map(last_visit))
    frame["hcc_date"] = pd.to_datetime(frame["pk"].map(hcc))
    frame["origin"] = _origin(frame)
    return frame


def _by_subject(rows) -> dict:
    return {row["subject_id"]: row["at"] for row in rows}


def _local_day(moments: pd.Series) -> pd.Series:
    """Aware datetimes as the calendar day where the trial is run (settings.TIME_ZONE)."""
    stamps = pd.to_datetime(moments, utc=True)
    return stamps.dt.tz_convert(timezone.get_current_timezone_name()).dt.tz_localize(None).dt.normalize()


def _origin(frame: pd.DataFrame) -> pd.Series:
    """Time zero per the subject's protocol; only allocated subjects have one. Controls without infusions start
    at allocation when the origin is the first infusion.
    """
    origin = frame["allocation_date"].copy()
    origin = origin.mask(frame["time_origin"].eq("consent"), frame["consent_date"])
    by_infusion = frame["first_infusion_date"].fillna(frame["allocation_date"])
    origin = origin.mask(frame["time_origin"].eq("first_infusion"), by_infusion)
    return origin.where(frame["allocated"])


def _labs(study, subjects: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The long table (one row per lab value, ordered by subject, visit and analyte) and its draws (one row per
    draw with a value). Two reads: the draws with their visit and time, each time parsed once per draw, and the
    values as three numeric columns; the long table takes its draw's columns by position, so the strings it
    repeats are shared rather than copied per value.
    """
    in_study = {"visit__is_voided": False, "visit__subject__is_voided": False, "visit__subject__study": study}
    draws = _frame(
        LabDraw.objects.active()
        .filter(**in_study)
        .order_by("pk")
        .annotate(drawn=Cast("drawn_at", CharField()))  # as text, parsed below in one vectorised pass
        .values_list("pk", "visit__subject_id", "visit__definition__code", "visit__definition__order", "drawn"),
        ["draw_id", "pk", "visit_code", "visit_order", "drawn_at"],
    )
    draws["drawn_at"] = pd.to_datetime(draws["drawn_at"], utc=True, format="ISO8601")
    values = _numbers(
        LabValue.objects.active()
        .filter(draw__is_voided=False, **{f"draw__{key}": value for key, value in in_study.items()})
        .filter(value__isnull=False)
        .annotate(number=Cast("value", FloatField()))
        .order_by()  # ordered below, by integers: not sorted by the database (the model's order joins 4 tables)
        .values_list("draw_id", "analyte_id", "number"),
        [("draw", "i8"), ("analyte", "i8"), ("value", "f8")],
    )
    analytes = _frame(
        Analyte.objects.filter(pk__in=np.unique(values["analyte"]).tolist()).values_list("pk", "code", "unit", "order"),
        ["analyte_id", "analyte", "unit", "analyte_order"],
    ).set_index("analyte_id")
    at_draw = pd.Index(draws["draw_id"]).get_indexer(values["draw"])
    values = values[at_draw >= 0]  # a draw voided between the two reads
    at_draw = at_draw[at_draw >= 0]
    kept = np.unique(at_draw)
    draws = draws.iloc[kept].reset_index(drop=True)
    draws["drawn_on"] = _local_day(draws["drawn_at"])
    draws = draws.merge(subjects[["pk", "subject_id", "arm", "arm_label", "origin"]], on="pk", how="left")
    draws["study_day"] = (draws["drawn_on"] - draws["origin"]).dt.days
    draws = draws.drop(columns=["origin"])
    at_draw = np.searchsorted(kept, at_draw)
    at_analyte = analytes.index.get_indexer(values["analyte"])
    order = np.lexsort(
        (
            draws["draw_id"].to_numpy()[at_draw],
            analytes["analyte_order"].to_numpy()[at_analyte],
            draws["visit_order"].to_numpy()[at_draw],
            draws["pk"].to_numpy()[at_draw],
        )
    )
    # Built in place, each column once: no reset_index, reordering or assignment copying the long table again.
    labs = draws.take(at_draw[order])
    labs.index = pd.RangeIndex(len(labs))
    at = LAB_COLUMNS.index("analyte")
    labs.insert(at, "analyte", analytes["analyte"].to_numpy()[at_analyte[order]])
    labs.insert(at + 1, "unit", analytes["unit"].to_numpy()[at_analyte[order]])
    labs.insert(at + 2, "value", values["value"][order])
    wide = np.full((len(draws), len(analytes)), np.nan)
    wide[at_draw, at_analyte] = values["value"]
    draws = draws.join(pd.DataFrame(wide, columns=analytes["analyte"].tolist()))
    return labs, draws


def _numbers(queryset, dtype) -> np.ndarray:
    """The rows of ``queryset`` (a values_list of numbers) as one structured array, read in chunks."""
    sql, params = queryset.query.sql_with_params()
    chunks = []
    with connection.chunked_cursor() as cursor:  # server-side on PostgreSQL: the client holds a chunk at a time
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            chunks.append(np.array(rows, dtype=dtype))
    return np.concatenate(chunks) if chunks else np.array([], dtype=dtype)


def _scores(study, draws: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """One row per draw with its scores, from the draws' analyte columns and the nearest clinical status."""
    keys = ["draw_id", "pk", "subject_id", "arm", "arm_label", "visit_code", "visit_order", "drawn_on", "study_day"]
    status_columns = ["ascites", "encephalopathy_grade", "dialysis"]
    wide = draws.sort_values("drawn_on", kind="stable")
    statuses = _frame(
        ClinicalStatus.objects.active()
        .filter(visit__is_voided=False, visit__subject__study=study)
        .values_list("visit__subject_id", "assessed_on", "ascites", "encephalopathy_grade", "dialysis_past_week"),
        ["pk", "assessed_on", "ascites", "encephalopathy_grade", "dialysis"],
    )
    statuses["assessed_on"] = pd.to_datetime(statuses["assessed_on"])
    statuses["pk"], wide["pk"] = statuses["pk"].astype("int64"), wide["pk"].astype("int64")  # typed when empty
    wide = pd.merge_asof(
        wide,
        statuses.sort_values("assessed_on"),
        left_on="drawn_on",
        right_on="assessed_on",
        by="pk",
        direction="nearest",
        tolerance=NEAREST_STATUS,
    )
    wide = wide.merge(subjects[["pk", "sex"]], on="pk", how="left")
    scores = _draw_scores(wide)
    frame = pd.concat([wide[keys + status_columns].reset_index(drop=True), scores], axis=1)
    return frame.sort_values(["subject_id", "visit_order"], ignore_index=True, kind="stable")


def _draw_scores(wide: pd.DataFrame) -> pd.DataFrame:
    """The MELD family and Child-Pugh of each draw (analysis/score_columns.py); a missing input gives None."""

    def lab(code):
        return wide[code].to_numpy(dtype=float) if code in wide else np.full(len(wide), np.nan)

    bili, creat, inr, sodium, albumin = (lab(code) for code in ("TBIL", "CREA", "INR", "NA", "ALB"))
    dialysis = wide["dialysis"].eq(True).to_numpy()  # no status near the draw: not on dialysis
    grade = pd.to_numeric(wide["encephalopathy_grade"], errors="coerce").to_numpy(dtype=float)
    score = score_columns.meld(bili, creat, inr, dialysis)
    points, cp_grade = score_columns.child_pugh(bili, albumin, inr, wide["ascites"].to_numpy(), grade)
    female = (wide["sex"] == "female").to_numpy()
    columns = {
        "meld": score,
        "meld_na": score_columns.meld_na(score, sodium),
        "meld_3": score_columns.meld_3(bili, creat, inr, sodium, albumin, female, dialysis),
        "child_pugh_points": points,
    }
    scores = pd.DataFrame({name: _as_scored(values) for name, values in columns.items()})
    scores["child_pugh_grade"] = cp_grade
    return scores


def _as_scored(values: np.ndarray):
    """Whole-number scores as a column: int64 when none is missing, float with NaN when some are, None when all."""
    if not len(values) or np.isnan(values).all():
        return np.full(len(values), None, dtype=object)
    return values if np.isnan(values).any() else values.astype("int64")


def _baseline_visits(study) -> list[str]:
    """Visit codes in the order they serve as baseline: the baseline visit first (the first with labs at day 0 of
    the treatment schedule, i.e. not consent-anchored), then the visits before it, nearest first, standing in for
    a value it lacks. Taken from the study's latest protocol version.
    """
    definitions = list(
        VisitDefinition.objects.filter(protocol__study=study, lab_panel__isnull=False)
        .order_by("-protocol__effective_date", "order")
        .values_list("protocol_id", "code", "anchor", "offset_days")
    )
    if not definitions:
        return []
    visits = [(code, anchor, offset) for protocol, code, anchor, offset in definitions if protocol == definitions[0][0]]
    codes = [code for code, _, _ in visits]
    base = next((code for code, anchor, offset in visits if anchor != "consent" and offset == 0), codes[0])
    return [base, *reversed(codes[: codes.index(base)])]


def _at_baseline(frame: pd.DataFrame, preference: list[str], by: list[str]) -> pd.DataFrame:
    """Per ``by`` group, the row of the most preferred baseline visit."""
    frame = frame[frame["visit_code"].isin(preference)]  # first, so only the baseline visits' rows are sorted
    rank = frame["visit_code"].map({code: i for i, code in enumerate(preference)})
    ranked = frame.assign(rank=rank).sort_values([*by, "rank"])
    return ranked.drop_duplicates(subset=by, keep="first")


def _with_baseline(subjects, labs, scores, preference: list[str]) -> pd.DataFrame:
    """The Table 1 covariates: each analyte's baseline value, baseline MELD, MELD > 15, Child-Pugh, ascites, HBeAg."""
    values = _at_baseline(labs, preference, ["pk", "analyte"]).pivot(index="pk", columns="analyte", values="value")
    values = values.add_prefix("baseline_").reset_index()
    scored = _at_baseline(scores.dropna(subset=["meld"]), preference, ["pk"])
    graded = _at_baseline(scores.dropna(subset=["child_pugh_grade"]), preference, ["pk"])
    status = _at_baseline(scores.dropna(subset=["ascites"]), preference, ["pk"])
    frame = subjects.merge(values, on="pk", how="left")
    frame = frame.merge(scored[["pk", "meld"]].rename(columns={"meld": "baseline_meld"}), on="pk", how="left")
    frame = frame.merge(graded[["pk", "child_pugh_grade"]], on="pk", how="left")
    frame = frame.merge(status[["pk", "ascites"]].rename(columns={"ascites": "ascites_grade"}), on="pk", how="left")
    frame["meld_above_15"] = (frame["baseline_meld"] > 15).where(frame["baseline_meld"].notna())
    frame["ascites"] = frame["ascites_grade"].ne("none").where(frame["ascites_grade"].notna())
    hbeag = frame.get("baseline_HBEAG", pd.Series(float("nan"), index=frame.index))  # absent: not in protocol
    frame["hbeag_positive"] = (hbeag >= HBEAG_POSITIVE_S_CO).astype(object).where(hbeag.notna(), None)
    return frame


def _adverse_events(study, subjects: pd.DataFrame) -> pd.DataFrame:
    fields = ["subject_id", "term", "grade", "serious", "onset_at", "resolved_at", "relatedness", "outcome"]
    events = _frame(
        AdverseEvent.objects.active()
        .filter(subject__study=study, subject__is_voided=False)
        .order_by("onset_at")
        .values_list(*fields),
        ["pk", *fields[1:]],
    )
    infusions = _frame(
        InfusionEvent.objects.active()
        .filter(subject__study=study)
        .order_by("started_at")
        .values_list("subject_id", "started_at", "number"),
        ["pk", "infusion_at", "infusion_number"],
    )
    for frame, column in ((events, "onset_at"), (events, "resolved_at"), (infusions, "infusion_at")):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    events["pk"], infusions["pk"] = events["pk"].astype("int64"), infusions["pk"].astype("int64")
    events = pd.merge_asof(
        events.sort_values("onset_at"), infusions, left_on="onset_at", right_on="infusion_at", by="pk"
    )
    events["hours_after_infusion"] = (events["onset_at"] - events["infusion_at"]).dt.total_seconds() / 3600
    events = events.merge(subjects[["pk", "subject_id", "arm", "arm_label"]], on="pk", how="left")
    return events.drop(columns=["pk"])
