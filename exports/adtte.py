"""ADTTE of the ``adam`` export: a row per allocated subject and parameter, OS and (when the protocol follows it)
HCC, as analysis/endpoints.py defines them for the dashboards. Pure: no Django.

- AVAL is in days, AVALU "DAYS": AVAL = ADT - STARTDT, without the "+1" some sponsors add, because that is the
  time the dashboards analyse (a subject leaving on the day of the time origin has AVAL 0); divide by 7 or by
  365.25 / 12 for the plan's weeks or months (the codebook says which unit the plan reports).
- STARTDT is the protocol's time origin; ADT the date of the event or of censoring, STARTDT + AVAL.
- CNSR 0 is the event (death for OS; HCC for HCC). Censoring reasons, the same codes in both parameters:
  1 alive at the last date known alive (CNSDTDSC names that date: last contact, study completion, last visit,
  HCC diagnosis, or the time origin when nothing later is known), 2 withdrawal, 3 lost to follow-up (at the last
  contact), 4 end of the protocol's follow-up (administrative: an event after it is not counted), and, for HCC
  only, 5 death before any HCC: the competing event. CNSR 5 is censored for a cause-specific analysis; a
  competing-risks analysis reads it as the competing event (the ``wide`` export's hcc_status 2).
- SRCDOM / SRCVAR name the file and column of the ``csv`` export the date comes from (this study has no SDTM);
  "ADTTE" / "STARTDT" where ADT is derived from the time origin.
"""

import pandas as pd

from exports.adam import Dataset, Variable, tidy

LAST_KNOWN_ALIVE, WITHDRAWAL, LOST, END_OF_FOLLOW_UP, COMPETING_DEATH = 1, 2, 3, 4, 5
CNSR_CODES = (
    f"0 = event; {LAST_KNOWN_ALIVE} = alive at last known date; {WITHDRAWAL} = withdrawal; "
    f"{LOST} = lost to follow-up; {END_OF_FOLLOW_UP} = end of follow-up; "
    f"{COMPETING_DEATH} = death before HCC (competing risk, HCC only)"
)
PARAMETERS = {
    "OS": (1, "Overall Survival (days)"),
    "HCC": (2, "Time to HCC, Death Competing (days)"),
}
# The dates a subject is last known alive, as analysis/endpoints.py takes them, with their source in the csv export.
SEEN_ALIVE = (
    ("last_contact_date", "LAST CONTACT", "subjects", "last_contact_date"),
    ("completion_date", "STUDY COMPLETION", "subjects", "completion_date"),
    ("last_visit_date", "LAST VISIT", "visits", "actual_date"),
    ("hcc_date", "HCC DIAGNOSIS", "outcomes", "event_date"),
)
DERIVED = ("ADTTE", "STARTDT")
KEYS = ("STUDYID", "USUBJID", "SUBJID", "SITEID", "ARMCD", "TRT01P", "ITTFL", "FASFL", "SAFFL", "STRATAR")


def adtte(data, adsl: Dataset, *, endpoints=(), time_unit: str = "days") -> Dataset:
    """ADTTE of ``data`` (analysis.datasets.StudyData) with ``adsl``'s keys, sorted by subject and parameter.

    ``endpoints`` are the protocol's endpoint codes beyond death ("hcc" adds PARAMCD HCC); ``time_unit`` is the
    plan's, named in the codebook.
    """
    times = data.time_to_event.sort_values("subject_id")
    keys = adsl.frame.set_index("SUBJID")
    parameters = ["OS", "HCC"] if "hcc" in endpoints else ["OS"]
    rows = [_row(subject, code) for code in parameters for subject in times.to_dict("records")]
    frame = pd.DataFrame(rows, columns=["SUBJID", *_COLUMNS])
    frame = keys.loc[frame["SUBJID"], [key for key in KEYS if key != "SUBJID"]].reset_index().join(frame.iloc[:, 1:])
    frame = frame[list(KEYS) + _COLUMNS].sort_values(["SUBJID", "PARAMN"], kind="stable")
    described = {variable.name: variable for variable in adsl.variables}
    variables = (*(described[key] for key in KEYS), *_variables(time_unit))
    return Dataset("ADTTE", "Time-to-Event Analysis Dataset", tidy(frame), variables)


_COLUMNS = ["PARAMCD", "PARAM", "PARAMN", "AVAL", "AVALU", "STARTDT", "ADT", "CNSR", "EVNTDESC", "CNSDTDSC"]
_COLUMNS += ["SRCDOM", "SRCVAR"]


def _row(subject: dict, code: str) -> list:
    days = int(subject["os_days"] if code == "OS" else subject["hcc_days"])  # whole days (endpoints._days)
    start = pd.Timestamp(subject["origin"])
    end = start + pd.Timedelta(days=days)
    number, label = PARAMETERS[code]
    outcome = _os(subject, end) if code == "OS" else _hcc(subject, end)
    return [subject["subject_id"], code, label, number, days, "DAYS", start.date(), end.date(), *outcome]


def _os(subject: dict, end: pd.Timestamp) -> tuple:
    if subject["os_event"] == 1:
        return 0, "DEATH", None, "subjects", "death_date"
    return _censored(subject, end)


def _hcc(subject: dict, end: pd.Timestamp) -> tuple:
    if subject["hcc_event"] == 1:
        return 0, "HCC", None, "outcomes", "event_date"
    if subject["hcc_event"] == 2:
        return COMPETING_DEATH, "DEATH BEFORE HCC (COMPETING RISK)", "DEATH (COMPETING RISK)", "subjects", "death_date"
    return _censored(subject, end)


def _censored(subject: dict, end: pd.Timestamp) -> tuple:
    """Why and where a subject without the event is censored at ``end`` (analysis/endpoints.py's rules)."""
    limit = pd.Timestamp(subject["origin"]) + pd.Timedelta(days=subject["follow_up_days"])
    withdrawn, last_contact = subject["withdrawal_date"], subject["last_contact_date"]
    if subject["status"] == "withdrawn" and pd.notna(withdrawn) and withdrawn <= limit:
        return WITHDRAWAL, "WITHDRAWAL", "WITHDRAWAL", "subjects", "withdrawal_date"
    if subject["status"] == "lost_to_follow_up" and pd.notna(last_contact) and last_contact <= limit:
        return LOST, "LOST TO FOLLOW-UP", "LAST CONTACT", "subjects", "last_contact_date"
    for column, described, domain, variable in SEEN_ALIVE:
        if pd.notna(subject[column]) and pd.Timestamp(subject[column]) == end:
            return LAST_KNOWN_ALIVE, "ALIVE AT LAST KNOWN DATE", described, domain, variable
    if end == limit:
        return END_OF_FOLLOW_UP, "ALIVE AT END OF FOLLOW-UP", "END OF FOLLOW-UP", *DERIVED
    return LAST_KNOWN_ALIVE, "ALIVE AT LAST KNOWN DATE", "TIME ORIGIN", *DERIVED


def _variables(time_unit: str) -> tuple[Variable, ...]:
    parameters = "; ".join(f"{code} = {label}" for code, (_, label) in PARAMETERS.items())
    return (
        Variable("PARAMCD", "Parameter Code", allowed_values=parameters),
        Variable("PARAM", "Parameter"),
        Variable("PARAMN", "Parameter (N)", allowed_values="1 = OS; 2 = HCC"),
        Variable(
            "AVAL",
            "Analysis Value",
            unit="days",
            description=f"ADT - STARTDT in days (no +1); the analysis plan reports {time_unit}",
        ),
        Variable("AVALU", "Analysis Value Unit", allowed_values="DAYS"),
        Variable("STARTDT", "Time-to-Event Origin Date for Subject", description="The protocol's time origin"),
        Variable("ADT", "Analysis Date", description="Date of the event or of censoring: STARTDT + AVAL"),
        Variable("CNSR", "Censor", allowed_values=CNSR_CODES),
        Variable("EVNTDESC", "Event or Censoring Description"),
        Variable("CNSDTDSC", "Censor Date Description", description="Empty for events"),
        Variable("SRCDOM", "Source Data", description="File of the csv export the date comes from"),
        Variable("SRCVAR", "Source Variable", description="Its column"),
    )
