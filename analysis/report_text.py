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
    ]
    if plan.get("caveat"):
        lines.append(f"Caveat: {plan['caveat']}")
    lines.append(RULE)
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
    # A cell wider than its column still keeps a space before it, so two cells never run together.
    return f"{label[:38]:<38}" + "".join(f" {cell:>29}" for cell in cells) + f"  {last}".rstrip()


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
    shown = table.get("p_values", {"shown": True, "label": None, "note": None})
    p_header = f"p ({shown['label']})" if shown["shown"] and shown["label"] else "p" if shown["shown"] else ""
    lines.append(_row("", [f"{group['label']} (n={group['n']})" for group in table["groups"]], p_header))
    for row in table["rows"]:
        test = f"{_p(row['p_value'])} {row['test'] or ''}".rstrip() if shown["shown"] else ""
        if row["kind"] == "categorical":
            lines.append(_row(row["label"], ["" for _ in row["cells"]], test))
            lines += [_row(f"  {level['level']}", [cell["text"] for cell in level["cells"]]) for level in row["levels"]]
        else:
            lines.append(_row(row["label"], [cell["text"] for cell in row["cells"]], test))
    if shown["note"]:
        lines.append(f"Note: {shown['note']}")
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
    lines += _survival_comparison(section, unit)
    if "cox_adjusted" in section:
        lines += _adjusted(section["cox_adjusted"])
    if "cox_stratified" in section:
        lines += _adjusted(section["cox_stratified"])
    lines += [_landmark(row, unit, "deaths") for row in section["landmarks"]]
    lines += [_at_landmark(entry, unit, "alive") for entry in section.get("landmark_curves", [])]
    lines += _follow_up(section.get("follow_up", []), unit)
    if "all_randomised" in section:
        lines += _all_randomised(section["all_randomised"], unit)
    if section.get("subgroups"):
        lines.append(f"Hazard ratios by subgroup; interaction by {section['subgroups'][0]['interaction']['method']}")
    for subgroup in section.get("subgroups", []):
        lines += _subgroup(subgroup)
    return lines


def _survival_comparison(section: dict, unit: str) -> list[str]:
    """Kaplan-Meier per arm (median with its CI, survival at the report times), log-rank, unadjusted Cox."""
    lines = []
    for arm in section["kaplan_meier"]:
        lines.append(f"{arm['group']}: n {arm['n']}, deaths {arm['events']}, median {_median(arm, unit)}")
        lines += [
            f"  at {row['time']:g} {unit}: {_figure(row['survival'], 3)} "
            f"(95% CI {_figure(row['ci_lower'], 3)}–{_figure(row['ci_upper'], 3)}), at risk {row['at_risk']}"
            for row in arm["at_times"]
        ]
    logrank = section["logrank"]
    lines.append(f"Log-rank chi-square {_figure(logrank['statistic'])} (1 df), p {_p(logrank['p_value'])}")
    lines.append(_comparison("Cox, unadjusted", section["cox_unadjusted"]))
    return lines


def _subgroup(subgroup: dict) -> list[str]:
    """One subgroup variable: its interaction test, then per level deaths/n per arm and the hazard ratio."""
    test = subgroup["interaction"]
    if test["reason"]:
        interaction = f"interaction not tested ({test['reason']})"
    else:
        interaction = f"interaction p {_p(test['p_value'])} (chi-square {_figure(test['statistic'])}, {test['df']} df)"
    lines = [f"{subgroup['label']}: {interaction}"]
    for level in subgroup["levels"]:
        counts = (
            f"{subgroup['group']} {level['events_group']}/{level['n_group']}, "
            f"{subgroup['reference']} {level['events_reference']}/{level['n_reference']} deaths/n"
        )
        if level["reason"]:
            lines.append(f"  {level['label']}: {counts}; HR not estimable ({level['reason']})")
        else:
            lines.append(
                f"  {level['label']}: {counts}; HR {_figure(level['hazard_ratio'])} "
                f"(95% CI {_figure(level['ci_lower'])}–{_figure(level['ci_upper'])})"
            )
    if subgroup["n_missing"]:
        lines.append(f"  {subgroup['n_missing']} without a value left out")
    return lines


def _median(arm: dict, unit: str) -> str:
    """Median with its 95% CI, as in "57.0 months (95% CI 50.2–NR)": NR where the band never reaches half."""
    if not arm["median_reached"]:
        return "not reached"
    lower, upper = ("NR" if bound is None else f"{bound:.1f}" for bound in arm["median_ci"])
    return f"{arm['median']:.1f} {unit} (95% CI {lower}–{upper})"


def _adjusted(result: dict) -> list[str]:
    """The arm's hazard ratio under the model's method, then each covariate's under its Table 1 label."""
    lines = [_comparison(result.get("method", "Cox, adjusted"), result)]
    if result.get("n_excluded"):
        lines.append(f"  {result['n_excluded']} subjects left out for a missing covariate or stratum")
    lines += [
        f"  {term.get('label', term['term'])}: HR {_figure(term['hazard_ratio'])} "
        f"(95% CI {_figure(term['ci_lower'])}–{_figure(term['ci_upper'])}), Wald p {_p(term['p_wald'])}"
        for term in result.get("terms", [])
    ]
    return lines


def _landmark(row: dict, unit: str, events: str) -> str:
    counts = (
        f"{events} {row['group']} {row['events_group']}/{row['n_group']}, "
        f"{row['reference']} {row['events_reference']}/{row['n_reference']}"
    )
    return _comparison(f"Landmark {_window(row['window'], unit)} ({counts})", row)


def _at_landmark(entry: dict, unit: str, state: str) -> str:
    """Who the curve from a landmark starts with: the number at risk there per arm."""
    at_risk = ", ".join(f"{row['group']} {row['n']}" for row in entry["at_risk"])
    return f"At risk at {entry['landmark']:g} {unit} ({state} and followed): {at_risk}"


def _follow_up(arms: list[dict], unit: str) -> list[str]:
    if not arms:
        return []
    lines = [f"Median follow-up by {arms[0]['method']}, with the range of follow-up times:"]
    for arm in arms:
        lower, upper = arm["range"]
        span = "–" if lower is None else f"{lower:.1f}–{upper:.1f} {unit}"
        lines.append(f"  {arm['group']}: {_median(arm, unit)}; range {span}")
    return lines


def _all_randomised(section: dict, unit: str) -> list[str]:
    lines = _title(section["label"])
    if section["same_as_primary"]:
        lines.append("(the plan's population is already every allocated subject: the same numbers as above)")
    return lines + _survival_comparison(section, unit)


def _hcc(section: dict, unit: str) -> list[str]:
    lines = _title("Hepatocellular carcinoma, death as a competing risk")
    for arm in section["cumulative_incidence"]:
        lines.append(f"{arm['group']}: n {arm['n']}, HCC {arm['events']}, deaths without HCC {arm['competing']}")
        lines += [
            f"  cumulative incidence at {row['time']:g} {unit}: {_figure(row['incidence'], 3)} "
            f"(95% CI {_figure(row['ci_lower'], 3)}–{_figure(row['ci_upper'], 3)})"
            for row in arm["at_times"]
        ]
    if "grays_test" in section:
        gray = section["grays_test"]
        lines.append(
            f"Gray's test chi-square {_figure(gray['statistic'])} ({gray['df'] or '–'} df), p {_p(gray['p_value'])}"
        )
    cause_specific = section["cause_specific_cox"]
    lines.append(_comparison(cause_specific["method"], cause_specific))
    lines += [_landmark(row, unit, "HCC") for row in section["landmarks"]]
    lines += [_at_landmark(entry, unit, "alive without HCC") for entry in section.get("landmark_curves", [])]
    return lines


SUMMARY_TEXT = {"mean_sd": "mean ± SD", "median_iqr": "median (IQR)"}


def _longitudinal(analyte: dict) -> list[str]:
    within = ", ".join(
        sorted({test["label"] for visit in analyte["visits"] for arm in visit["arms"] for test in arm["within"]})
    )
    summary, change_summary = analyte.get("summary", ["median_iqr"]), analyte.get("change_summary", ["median_iqr"])
    lines = _title(
        f"{analyte['analyte']} by visit: {_summary_names(summary)} [n]; "
        f"{_summary_names(change_summary)} change from {analyte['baseline_visit']} [n], "
        f"{within or 'no within-arm test'} p"
    )
    lines.append(_row("Visit", analyte["groups"], "between arms"))
    for visit in analyte["visits"]:
        cells = [f"{_summarised(arm, summary)} [{arm['n']}]" for arm in visit["arms"]]
        between = ", ".join(f"{test['label']} {_tested(test)}" for test in visit["between"])
        lines.append(_row(visit["visit_code"], cells, between))
        changes = [_change(arm, change_summary) for arm in visit["arms"]]
        if any(changes):
            lines.append(_row("  change", changes))
        lines += [
            f"    {arm['group']}, {test['label']}: {_tested(test)}"
            for arm in visit["arms"]
            for test in arm["within"]
            if test["p_value"] is None and test.get("reason")
        ]
    if analyte.get("note"):
        lines.append(f"Note: {analyte['note']}")
    return lines


def _summary_names(summaries: list[str]) -> str:
    return " / ".join(SUMMARY_TEXT[name] for name in summaries)


def _summarised(numbers: dict, summaries: list[str]) -> str:
    """The summaries the tests call for: mean ± SD beside t-tests, median (IQR) beside rank tests."""
    shown = {
        "mean_sd": f"{_figure(numbers['mean'], 1)} ± {_figure(numbers['sd'], 1)}",
        "median_iqr": f"{_figure(numbers['median'], 1)} ({_figure(numbers['q1'], 1)}–{_figure(numbers['q3'], 1)})",
    }
    return " / ".join(shown[name] for name in summaries)


def _tested(test: dict) -> str:
    if test["p_value"] is None and test.get("reason"):
        return f"not estimable ({test['reason']})"
    return f"p {_p(test['p_value'])}"


def _change(arm: dict, summaries: list[str]) -> str:
    change = arm["change"]
    if not change:
        return ""
    within = ", ".join("p n.e." if test.get("reason") else f"p {_p(test['p_value'])}" for test in arm["within"])
    return f"{_summarised(change, summaries)} [{change['n']}] {within}".rstrip()


def _adverse_events(summary: dict) -> list[str]:
    lines = _title("Adverse events: subjects with at least one, n (%)")
    lines.append(_row("", [f"{group['group']} (n={group['n']})" for group in summary["groups"]]))
    if summary.get("related"):
        lines.append(f"Related: relatedness {' or '.join(summary['related'])}")
    for row in summary["overall"]:
        if len(row["label"]) > 38:  # a definition in the label (the infusion reaction's) is printed whole
            lines.append(row["label"])
        lines.append(_row("" if len(row["label"]) > 38 else row["label"], [_subjects(cell) for cell in row["cells"]]))
    lines.append("By term:")
    for row in summary["by_term"]:
        lines.append(_row(f"  {row['term']}", [_subjects(cell) for cell in row["cells"]]))
    return lines


def _subjects(cell: dict) -> str:
    percent = "–" if cell["percent"] is None else f"{cell['percent']:.1f}%"
    return f"{cell['subjects']} ({percent})"
