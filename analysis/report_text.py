"""The analysis report (analysis/report.py) as plain text for a terminal or an e-mail to the statistician."""

RULE = "=" * 100


def render(report: dict) -> str:
    """Every section of ``report`` as aligned text, hazard ratios with their reference spelt out."""
    study, plan = report["study"], report["plan"]
    lines = [
        RULE,
        f"{study['code']}: {study['title']}",
        f"Protocol {study['protocol_version']}; analysis plan: {plan['version']}; generated {study['generated_at']}",
        f"Population: {plan['population']}; time in {plan['time_unit']}; hazard ratios are {plan['hazard_ratio']}",
        RULE,
    ]
    lines += _flow(report["flow"])
    lines += _table_one(report["table_one"])
    lines += _overall_survival(report["overall_survival"], plan["time_unit"])
    if "hcc" in report:
        lines += _hcc(report["hcc"], plan["time_unit"])
    for analyte in report["longitudinal"]:
        lines += _longitudinal(analyte)
    lines += _adverse_events(report["adverse_events"])
    return "\n".join(lines) + "\n"


def _title(text: str) -> list[str]:
    return ["", text, "-" * len(text)]


def _p(value) -> str:
    if value is None:
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _figure(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _row(label: str, cells: list[str], last: str = "") -> str:
    return f"{label[:38]:<38}" + "".join(f"{cell:>30}" for cell in cells) + f"  {last}".rstrip()


def _flow(flow: dict) -> list[str]:
    lines = _title("Participant flow (CONSORT)")
    lines.append(f"Screened {flow['screened']}; not randomised {flow['not_randomised']['n']}")
    lines += [f"  {reason['reason']}: {reason['n']}" for reason in flow["not_randomised"]["reasons"]]
    if flow["awaiting_allocation"]:
        lines.append(f"Awaiting allocation {flow['awaiting_allocation']}")
    lines.append(_row("", [arm["group"] for arm in flow["arms"]]))
    for key, label in (
        ("allocated", "Allocated"),
        ("withdrawn", "Withdrawn"),
        ("lost_to_follow_up", "Lost to follow-up"),
        ("died", "Died"),
        ("completed", "Completed"),
        ("in_follow_up", "In follow-up"),
        ("analysed", "Analysed"),
    ):
        lines.append(_row(label, [str(arm[key]) for arm in flow["arms"]]))
    return lines


def _table_one(table: dict) -> list[str]:
    lines = _title("Baseline characteristics (Table 1)")
    lines.append(_row("", [f"{group['label']} (n={group['n']})" for group in table["groups"]], "p"))
    for row in table["rows"]:
        test = f"{_p(row['p_value'])} {row['test'] or ''}".rstrip()
        if row["kind"] == "categorical":
            lines.append(_row(row["label"], ["" for _ in row["cells"]], test))
            lines += [_row(f"  {level['level']}", [cell["text"] for cell in level["cells"]]) for level in row["levels"]]
        else:
            lines.append(_row(row["label"], [cell["text"] for cell in row["cells"]], test))
    return lines


def _comparison(label: str, result: dict) -> str:
    if result.get("reason"):
        return f"{label}: not estimable ({result['reason']})"
    text = (
        f"{label}: HR {_figure(result['hazard_ratio'])} "
        f"(95% CI {_figure(result['ci_lower'])}–{_figure(result['ci_upper'])}), Wald p {_p(result['p_wald'])}"
    )
    if "p_logrank" in result:
        text += f", log-rank p {_p(result['p_logrank'])}"
    return text + f"; Schoenfeld PH test p {_p(result['ph_test_p'])}"


def _window(window: list, unit: str) -> str:
    start, end = window
    return f"{start:g} to {end:g} {unit}" if end is not None else f"from {start:g} {unit}"


def _overall_survival(section: dict, unit: str) -> list[str]:
    lines = _title("Overall survival")
    for arm in section["kaplan_meier"]:
        median = f"{arm['median']:.1f} {unit}" if arm["median_reached"] else "not reached"
        lines.append(f"{arm['group']}: n {arm['n']}, deaths {arm['events']}, median {median}")
        lines += [
            f"  at {row['time']:g} {unit}: {_figure(row['survival'], 3)} "
            f"(95% CI {_figure(row['ci_lower'], 3)}–{_figure(row['ci_upper'], 3)}), at risk {row['at_risk']}"
            for row in arm["at_times"]
        ]
    lines.append(f"Log-rank p {_p(section['logrank']['p_value'])}")
    lines.append(_comparison("Cox, unadjusted", section["cox_unadjusted"]))
    if "cox_adjusted" in section:
        adjusted = section["cox_adjusted"]
        lines.append(_comparison(f"Cox, adjusted for {', '.join(adjusted['covariates'])}", adjusted))
    lines += [_comparison(f"Landmark {_window(row['window'], unit)}", row) for row in section["landmarks"]]
    return lines


def _hcc(section: dict, unit: str) -> list[str]:
    lines = _title("Hepatocellular carcinoma, death as a competing risk")
    for arm in section["cumulative_incidence"]:
        lines.append(f"{arm['group']}: n {arm['n']}, HCC {arm['events']}, deaths without HCC {arm['competing']}")
        lines += [
            f"  cumulative incidence at {row['time']:g} {unit}: {_figure(row['incidence'], 3)} "
            f"(95% CI {_figure(row['ci_lower'], 3)}–{_figure(row['ci_upper'], 3)})"
            for row in arm["at_times"]
        ]
    cause_specific = section["cause_specific_cox"]
    lines.append(_comparison(cause_specific["method"], cause_specific))
    lines += [_comparison(f"Landmark {_window(row['window'], unit)}", row) for row in section["landmarks"]]
    return lines


def _longitudinal(analyte: dict) -> list[str]:
    within = ", ".join(
        sorted({test["label"] for visit in analyte["visits"] for arm in visit["arms"] for test in arm["within"]})
    )
    lines = _title(
        f"{analyte['analyte']} by visit: median (IQR) [n]; median change from {analyte['baseline_visit']} [n], "
        f"{within or 'no within-arm test'} p"
    )
    lines.append(_row("Visit", analyte["groups"], "between arms"))
    for visit in analyte["visits"]:
        cells = [
            f"{_figure(arm['median'], 1)} ({_figure(arm['q1'], 1)}–{_figure(arm['q3'], 1)}) [{arm['n']}]"
            for arm in visit["arms"]
        ]
        between = ", ".join(f"{test['label']} p {_p(test['p_value'])}" for test in visit["between"])
        lines.append(_row(visit["visit_code"], cells, between))
        changes = [_change(arm) for arm in visit["arms"]]
        if any(changes):
            lines.append(_row("  change", changes))
    return lines


def _change(arm: dict) -> str:
    change = arm["change"]
    if not change:
        return ""
    within = ", ".join(f"p {_p(test['p_value'])}" for test in arm["within"])
    return f"{_figure(change['median'], 1)} [{change['n']}] {within}".rstrip()


def _adverse_events(summary: dict) -> list[str]:
    lines = _title("Adverse events: subjects with at least one, n (%)")
    lines.append(_row("", [f"{group['group']} (n={group['n']})" for group in summary["groups"]]))
    for row in summary["overall"]:
        lines.append(_row(row["label"], [_subjects(cell) for cell in row["cells"]]))
    lines.append("By term:")
    for row in summary["by_term"]:
        lines.append(_row(f"  {row['term']}", [_subjects(cell) for cell in row["cells"]]))
    return lines


def _subjects(cell: dict) -> str:
    percent = "–" if cell["percent"] is None else f"{cell['percent']:.1f}%"
    return f"{cell['subjects']} ({percent})"
