"""Per-visit summaries of an analyte by arm, and each subject's trajectory linking to their subject page."""

from collections.abc import Callable

from analysis.figures.render import Drawn, new_figure

OFFSET = 0.12  # arms side by side at each visit, not on top of each other


def by_visit(analyte: dict, colours: dict[str, str], *, label: str, summary: str = "median_iqr") -> Drawn:
    """``analyte`` is one entry of the report's ``longitudinal``: per visit and arm the median with its IQR, or
    with ``summary="mean_sd"`` the mean +- SD (the summary matching the plan's test)."""
    figure = new_figure(7.0, 3.8)
    axes = figure.add_subplot()
    visits = analyte["visits"]
    groups = [group["group"] if isinstance(group, dict) else group for group in analyte["groups"]]
    for index, group in enumerate(groups):
        xs, centres, lows, highs = [], [], [], []
        for x, visit in enumerate(visits):
            arm = next((a for a in visit["arms"] if a["group"] == group), None)
            centre, low, high = _summary(arm, summary)
            if centre is None:
                continue
            xs.append(x + (index - (len(groups) - 1) / 2) * OFFSET * 2)
            centres.append(centre)
            lows.append(centre - low)
            highs.append(high - centre)
        axes.errorbar(
            xs, centres, yerr=[lows, highs], color=colours[group], marker="o", markersize=4, capsize=3, label=group
        )
    axes.set_xticks(range(len(visits)), [visit["visit_code"] for visit in visits])
    axes.set_xlabel("Scheduled visit")
    axes.set_ylabel(label)
    shown = "median and interquartile range" if summary != "mean_sd" else "mean and standard deviation"
    axes.set_title(f"{label}: {shown} by arm and visit")
    if any(arm["n"] for visit in visits for arm in visit["arms"]):
        figure.legend(loc="outside lower center", ncols=2)
    return Drawn(figure, f"visits-{analyte['analyte'].lower()}", f"{label} by visit, {shown}", _described(analyte))


def trajectories(
    lines: dict, colours: dict[str, str], *, label: str, analyte: str, link: Callable[[str], str] | None = None
) -> Drawn:
    """``lines`` is one analyte of analysis/trajectories.py; each line links to ``link(subject_code)``."""
    figure = new_figure(7.0, 3.8)
    axes = figure.add_subplot()
    orders = [order for _, order in lines["visits"]]
    position = {order: x for x, order in enumerate(orders)}
    for subject in lines["subjects"]:
        points = [(position[order], value) for order, value in subject["points"] if value is not None]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        (line,) = axes.plot(xs, ys, color=colours[subject["arm"]], linewidth=0.8, alpha=0.45, marker=".", ms=2)
        line.set_gid(f"subject-{subject['subject']}")
        if link is not None:
            line.set_url(link(subject["subject"]))
    for arm, colour in colours.items():
        if arm in lines["arms"]:
            counts = lines["arms"][arm]
            shown = f"{counts['shown']} of {counts['n']}" if counts["shown"] < counts["n"] else f"{counts['n']}"
            axes.plot([], [], color=colour, label=f"{arm} ({shown} subjects)")
    axes.set_xticks(range(len(orders)), [code for code, _ in lines["visits"]])
    axes.set_xlabel("Scheduled visit")
    axes.set_ylabel(label)
    axes.set_title(f"{label}: each subject's values")
    if lines["arms"]:
        figure.legend(loc="outside lower center", ncols=2, fontsize=8)
    description = "; ".join(f"{arm}: {c['shown']} of {c['n']} subjects drawn" for arm, c in lines["arms"].items())
    return Drawn(figure, f"lines-{analyte.lower()}", f"Individual trajectories of {label}", description)


def _summary(arm: dict | None, summary: str):
    if arm is None or not arm.get("n"):
        return None, None, None
    if summary == "mean_sd":
        if arm.get("mean") is None:
            return None, None, None
        sd = arm.get("sd") or 0.0
        return arm["mean"], arm["mean"] - sd, arm["mean"] + sd
    if arm.get("median") is None:
        return None, None, None
    return arm["median"], arm["q1"], arm["q3"]


def _described(analyte: dict) -> str:
    parts = []
    for visit in analyte["visits"]:
        arms = ", ".join(f"{arm['group']} n={arm['n']} median {arm['median']}" for arm in visit["arms"] if arm["n"])
        parts.append(f"{visit['visit_code']}: {arms}")
    return "; ".join(parts)
