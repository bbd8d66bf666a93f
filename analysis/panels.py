"""The dashboard's tables, built from the report's numbers: one ``Table`` serves the page and its CSV download.

Pure: functions of the report dict (analysis/report.py) and of plain operational dicts. Numbers are formatted
here once, so the page, the CSV and the printed report read the same; every hazard ratio names its reference.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    slug: str  # the CSV's file name and the table's id on the page
    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


def p_text(value) -> str:
    if value is None:
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def number(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def ratio(row: dict | None) -> str:
    """A hazard ratio with its 95% CI, or why it is not estimable."""
    if not row or row.get("hazard_ratio") is None:
        return f"not estimable ({row.get('reason')})" if row and row.get("reason") else "not estimable"
    return f"{row['hazard_ratio']:.2f} ({row['ci_lower']:.2f}–{row['ci_upper']:.2f})"


def _groups(report: dict) -> list[str]:
    return [report["plan"]["group"], report["plan"]["reference"]]


def table_one(report: dict) -> Table:
    section = report["table_one"]
    p_values = section.get("p_values", {"shown": True})
    heads = [f"{g['label']} (n={g['n']})" for g in section["groups"]]
    tests = ["p (descriptive)", "Test"] if p_values.get("shown") else []
    rows = [
        [row["label"], *[cell.get("text", "") for cell in row["cells"]]]
        + ([p_text(row.get("p_value")), row.get("test", "")] if tests else [])
        for row in section["rows"]
    ]
    notes = ["Continuous rows: mean ± SD unless the row says median (range) or median (IQR); binary: n (%)."]
    if p_values.get("note"):
        notes.append(f"{p_values['note'][0].upper()}{p_values['note'][1:]}.")
    return Table("table-one", "Baseline characteristics (Table 1)", ["Characteristic", *heads, *tests], rows, notes)


def flow(report: dict) -> Table:
    section = report["flow"]
    keys = [
        ("allocated", "Allocated"),
        ("withdrawn", "Withdrew consent"),
        ("lost_to_follow_up", "Lost to follow-up"),
        ("died", "Died"),
        ("completed", "Completed follow-up"),
        ("in_follow_up", "In follow-up"),
        ("analysed", "Analysed"),
    ]
    rows = [[label, *[str(arm.get(key, 0)) for arm in section["arms"]]] for key, label in keys]
    notes = [f"Screened {section['screened']}; not allocated {section['not_randomised']['n']}"]
    notes += [f"{reason['reason']}: {reason['n']}" for reason in section["not_randomised"]["reasons"]]
    return Table("flow", "Participant flow (CONSORT)", ["", *[arm["group"] for arm in section["arms"]]], rows, notes)


def survival_by_arm(report: dict) -> Table:
    unit = report["plan"]["time_unit"]
    section = report["overall_survival"]["kaplan_meier"]
    times = [point["time"] for point in section[0]["at_times"]] if section else []
    columns = ["Arm", "n", "Deaths", f"Median survival ({unit}, 95% CI)"]
    columns += [f"Survival at {t:g} {unit} (95% CI)" for t in times]
    rows = []
    for arm in section:
        median = "not reached" if arm.get("median") is None else f"{arm['median']:.1f}"
        low, high = arm.get("median_ci") or [None, None]
        if low is not None or high is not None:
            median += f" ({number(low)}–{number(high) if high is not None else 'not reached'})"
        cells = [
            f"{p['survival'] * 100:.1f}% ({number(_pct(p['ci_lower']))}–{number(_pct(p['ci_upper']))})"
            for p in arm["at_times"]
        ]
        rows.append([arm["group"], str(arm["n"]), str(arm["events"]), median, *cells])
    return Table("survival", "Overall survival by arm (Kaplan-Meier)", columns, rows, _follow_up(report))


def at_risk(report: dict) -> Table:
    unit = report["plan"]["time_unit"]
    section = report["overall_survival"]["kaplan_meier"]
    times = [0.0, *[p["time"] for p in section[0]["at_times"]]] if section else [0.0]
    rows = [[arm["group"], str(arm["n"]), *[str(p["at_risk"]) for p in arm["at_times"]]] for arm in section]
    return Table("at-risk", "Number at risk", ["Arm", *[f"{t:g} {unit}" for t in times]], rows)


def comparisons(report: dict) -> Table:
    """Every overall-survival comparison of the two arms: log-rank, Cox models, landmark windows."""
    plan, section = report["plan"], report["overall_survival"]
    unit = plan["time_unit"]
    columns = ["Analysis", "Hazard ratio (95% CI)", "p", "Test", "n", "Deaths"]
    logrank = section["logrank"]
    chi = logrank.get("statistic")
    rows = [["Log-rank", "–", p_text(logrank.get("p_value")), f"log-rank, χ² = {number(chi, 2)}, 1 df", "", ""]]
    for key, label in (
        ("cox_unadjusted", "Cox, unadjusted"),
        ("cox_adjusted", "Cox, adjusted"),
        ("cox_stratified", "Cox, stratified"),
    ):
        row = section.get(key)
        if row:
            rows.append(
                [
                    row.get("method") or _adjusted(label, row),
                    ratio(row),
                    p_text(row.get("p_wald")),
                    "Wald",
                    str(row.get("n", "")),
                    str(row.get("events", "")),
                ]
            )
    for window in section.get("landmarks", []):
        start, end = window["window"]
        span = f"{start:g}–{end:g} {unit}" if end is not None else f"after {start:g} {unit}"
        events = f"{window['events_group']} / {window['events_reference']}"
        rows.append(
            [
                f"Landmark {span}",
                ratio(window),
                p_text(window.get("p_wald")),
                "Wald",
                f"{window['n_group']} / {window['n_reference']}",
                events,
            ]
        )
    notes = [
        f"Hazard ratios are {plan['hazard_ratio']}; landmark n and deaths are {plan['group']} / {plan['reference']}."
    ]
    return Table("os-comparisons", "Overall survival: comparison of arms", columns, rows, notes)


def hcc(report: dict) -> Table | None:
    section = report.get("hcc")
    if not section:
        return None
    unit = report["plan"]["time_unit"]
    incidence = section["cumulative_incidence"]
    times = [p["time"] for p in incidence[0]["at_times"]] if incidence else []
    columns = ["Arm", "n", "HCC", "Deaths first", *[f"At {t:g} {unit} (95% CI)" for t in times]]
    rows = [
        [
            arm["group"],
            str(arm["n"]),
            str(arm["events"]),
            str(arm["competing"]),
            *[
                f"{p['incidence'] * 100:.1f}% ({number(_pct(p['ci_lower']))}–{number(_pct(p['ci_upper']))})"
                for p in arm["at_times"]
            ],
        ]
        for arm in incidence
    ]
    cox = section["cause_specific_cox"]
    notes = [
        f"Cause-specific Cox hazard ratio {ratio(cox)}, p {p_text(cox.get('p_wald'))} (Wald); "
        f"{report['plan']['hazard_ratio']}."
    ]
    gray = section.get("grays_test")
    if gray:
        notes.append(f"Gray's test: χ² = {number(gray.get('statistic'), 2)}, p {p_text(gray.get('p_value'))}.")
    return Table("hcc", "HCC: cumulative incidence with death competing (Aalen-Johansen)", columns, rows, notes)


def visits(report: dict, analyte: dict, label: str) -> Table:
    """One analyte per scheduled visit: n and summary per arm beside the between-arm test the plan names."""
    groups = _groups(report)
    tests = analyte["visits"][0]["between"] if analyte["visits"] else []
    rank = analyte.get("summary") == "median_iqr" or any(t["test"] in ("mann_whitney", "wilcoxon") for t in tests)
    summary = "median (IQR)" if rank else "mean ± SD"
    columns = ["Visit", *[f"{g}: n" for g in groups], *[f"{g}: {summary}" for g in groups]]
    columns += [f"p ({t['label']})" for t in tests]
    rows = []
    for visit in analyte["visits"]:
        arms = {arm["group"]: arm for arm in visit["arms"]}
        counts = [str(arms.get(g, {}).get("n", 0)) for g in groups]
        shown = [_summary(arms.get(g), rank) for g in groups]
        rows.append([visit["visit_code"], *counts, *shown, *[p_text(t.get("p_value")) for t in visit["between"]]])
    notes = [
        f"{summary[0].upper()}{summary[1:]} beside the test the plan names: " + ", ".join(t["label"] for t in tests)
    ]
    if analyte.get("note"):
        notes.append(analyte["note"])
    return Table(f"visits-{analyte['analyte'].lower()}", f"{label} by visit and arm", columns, rows, notes)


def ae_overall(report: dict) -> Table:
    section = report["adverse_events"]
    heads = [f"{g['group']} (n={g['n']})" for g in section["groups"]]
    rows = [[row["label"], *[_ae_cell(c) for c in row["cells"]]] for row in section["overall"]]
    notes = ["Subjects with at least one event (%), then the number of events."]
    return Table("adverse-events", "Adverse events by arm", ["", *heads], rows, notes)


def ae_by_term(report: dict) -> Table:
    section = report["adverse_events"]
    groups = [g["group"] for g in section["groups"]]
    columns = ["Term", *[f"{g}: subjects (%)" for g in groups], *[f"{g}: worst grade 1/2/3/4/5" for g in groups]]
    rows = []
    for row in section["by_term"]:
        grades = ["/".join(str(v) for v in c.get("worst_grade", {}).values()) for c in row["cells"]]
        rows.append([row["term"], *[_ae_cell(c) for c in row["cells"]], *grades])
    return Table("ae-by-term", "Adverse events by term and worst grade (CTCAE)", columns, rows)


def enrolment(series: list[dict], target: int | None, *, whole_study: bool = True) -> Table:
    """``series`` as [{site, screened, allocated, first, last}] from the operational selector; ``whole_study``
    False when the series are some sites only (the target is the study's)."""
    rows = [[s["site"], str(s["screened"]), str(s["allocated"]), s["first"] or "–", s["last"] or "–"] for s in series]
    total = sum(s["allocated"] for s in series)
    if not whole_study:
        notes = [
            f"Allocated {total} at your site{'s' if len(series) > 1 else ''}; the enrolment target is the study's."
        ]
    elif target:
        notes = [f"Allocated {total} of a target of {target}."]
    else:
        notes = [f"Allocated {total}; the protocol sets no enrolment target."]
    columns = ["Site", "Registered", "Allocated", "First allocation", "Latest allocation"]
    return Table("enrolment", "Enrolment by site", columns, rows, notes)


def completeness(rows_in: list[dict]) -> Table:
    """``rows_in`` as [{visit, held, expected_forms, entered_forms, overdue, missed, unsigned}] per visit."""
    columns = ["Visit", "Held", "Forms expected", "Forms entered", "Complete", "Overdue", "Missed", "Unsigned"]
    rows = [
        [
            r["visit"],
            str(r["held"]),
            str(r["expected_forms"]),
            str(r["entered_forms"]),
            f"{r['entered_forms'] / r['expected_forms'] * 100:.0f}%" if r["expected_forms"] else "–",
            str(r["overdue"]),
            str(r["missed"]),
            str(r["unsigned"]),
        ]
        for r in rows_in
    ]
    notes = [
        "Forms expected at held visits (clinical status, labs, infusion where the arm gets one); "
        "a partial lab panel counts as not entered. Unsigned: held visits without an investigator's signature."
    ]
    return Table("completeness", "Data completeness by visit", columns, rows, notes)


def _pct(value):
    return None if value is None else value * 100


def _summary(arm: dict | None, rank: bool) -> str:
    if not arm or not arm.get("n"):
        return "–"
    if rank:
        return f"{number(arm['median'])} ({number(arm['q1'])}–{number(arm['q3'])})"
    return f"{number(arm['mean'])} ± {number(arm['sd'])}"


def _ae_cell(cell: dict) -> str:
    events, percent = cell["events"], cell.get("percent")
    share = "–" if percent is None else f"{percent:.1f}%"
    return f"{cell['subjects']} ({share}); {events} event{'' if events == 1 else 's'}"


def _adjusted(label: str, row: dict) -> str:
    covariates = ", ".join(row.get("covariates") or [])
    return f"{label} for {covariates}" if covariates else label


def _follow_up(report: dict) -> list[str]:
    follow = report["overall_survival"].get("follow_up")
    if not follow:
        return []
    unit = report["plan"]["time_unit"]
    return [
        "Median follow-up (reverse Kaplan-Meier): "
        + "; ".join(
            f"{row['group']} {number(row.get('median'))} {unit} (range {_span(row['range'])})" for row in follow
        )
    ]


def _span(bounds) -> str:
    low, high = bounds or (None, None)
    return f"{number(low)}–{number(high)}"
