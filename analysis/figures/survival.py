"""Kaplan-Meier curves with their numbers at risk, overall and from a landmark, cumulative incidence, and the
subgroup forest plot."""

import textwrap

import numpy as np
from matplotlib.ticker import FixedLocator, NullLocator

from analysis.figures.render import Drawn, new_figure

MIN_GAP = 0.05  # of the time axis: closer report times would print their numbers at risk on top of each other


def kaplan_meier(section: list[dict], colours: dict[str, str], *, time_unit: str, slug: str = "km") -> Drawn:
    """``section`` is the report's ``overall_survival.kaplan_meier``: a step curve per arm with its 95% band, and
    under the time axis the number at risk per arm at time 0 and at each of the plan's report times."""
    figure = _survival_with_at_risk(
        section,
        colours,
        slug=slug,
        title="Overall survival, Kaplan-Meier with 95% confidence bands",
        xlabel=f"Time since origin ({time_unit})",
    )
    return Drawn(figure, slug, "Kaplan-Meier estimate of overall survival by arm", _deaths(section, time_unit))


def landmark(entry: dict, colours: dict[str, str], *, time_unit: str, slug: str = "landmark") -> Drawn:
    """``entry`` is one of the report's ``overall_survival.landmark_curves``: per arm the Kaplan-Meier of the
    subjects alive and followed at the landmark, time restarted there, with the numbers at risk from it (the
    first column is the number at risk at the landmark)."""
    section, at = entry["kaplan_meier"], f"{entry['landmark']:g}-{time_unit.removesuffix('s')}"
    figure = _survival_with_at_risk(
        section,
        colours,
        slug=slug,
        title=f"Overall survival from the {at} landmark",
        xlabel=f"Time since the landmark ({time_unit})",
    )
    at_risk = ", ".join(f"{row['group']} {row['n']}" for row in entry["at_risk"])
    return Drawn(
        figure,
        slug,
        f"Kaplan-Meier estimate of overall survival by arm from the {at} landmark",
        f"At risk at the landmark: {at_risk}. From the landmark: {_deaths(section, time_unit)}",
    )


def _survival_with_at_risk(section: list[dict], colours: dict[str, str], *, slug: str, title: str, xlabel: str):
    """Kaplan-Meier step curves with their bands over the table of numbers at risk, on one time axis."""
    figure = new_figure(7.0, 4.8)
    curves, table = figure.subplots(2, 1, height_ratios=[4, 1], sharex=True)
    for index, arm in enumerate(section):
        _step(
            curves,
            arm["curve"],
            "survival",
            colours[arm["group"]],
            f"{arm['group']} (n={arm['n']})",
            f"{slug}-curve-{index}",
        )
    curves.set_ylim(0, 1.02)
    curves.set_ylabel("Overall survival (proportion alive)")
    curves.set_title(title)
    curves.legend(loc="lower left")
    times = _at_risk_table(table, section, colours)
    table.set_xlabel(xlabel)
    right = max([*times, _last_time(section, "survival")]) or 1.0
    curves.set_xlim(-0.01 * right, right * 1.03)
    return figure


def _deaths(section: list[dict], time_unit: str) -> str:
    return "; ".join(
        f"{arm['group']}: {arm['n']} subjects, {arm['events']} deaths, median "
        + (f"{arm['median']:.1f} {time_unit}" if arm.get("median") is not None else "not reached")
        for arm in section
    )


def cumulative_incidence(section: list[dict], colours: dict[str, str], *, time_unit: str, slug: str = "cif") -> Drawn:
    """``section`` is the report's ``hcc.cumulative_incidence``: Aalen-Johansen curves with death competing."""
    figure = new_figure(7.0, 4.2)
    axes = figure.add_subplot()
    for index, arm in enumerate(section):
        _step(
            axes,
            arm["curve"],
            "incidence",
            colours[arm["group"]],
            f"{arm['group']} (n={arm['n']})",
            f"{slug}-curve-{index}",
        )
    top = max([0.05, *[v for arm in section for v in arm["curve"]["ci_upper"] if v is not None]])
    axes.set_ylim(0, min(1.0, top * 1.1))
    axes.set_xlim(left=0)
    axes.set_xticks(at_risk_times(section))
    axes.set_ylabel("Cumulative incidence of HCC")
    axes.set_xlabel(f"Time since origin ({time_unit})")
    axes.set_title("HCC, cumulative incidence with death as a competing risk")
    axes.legend(loc="upper left")
    rows = "; ".join(f"{arm['group']}: {arm['events']} HCC, {arm['competing']} deaths first" for arm in section)
    return Drawn(figure, slug, "Cumulative incidence of HCC by arm (Aalen-Johansen, death competing)", rows)


def forest(subgroups: list[dict], *, group: str, reference: str, slug: str = "forest") -> Drawn:
    """Hazard ratios with 95% CI per subgroup level (report ``overall_survival.subgroups``), on a log axis."""
    rows = [(sub["label"], level) for sub in subgroups for level in sub["levels"]]
    figure = new_figure(8.0, 1.2 + 0.32 * max(len(rows), 1))
    axes = figure.add_subplot()
    labels = []
    for y, (name, level) in enumerate(reversed(rows)):
        labels.append(
            f"{name}: {level.get('label', level['level'])} (n={level.get('n_group', 0) + level.get('n_reference', 0)})"
        )
        if level.get("hazard_ratio") is None:
            axes.text(1.0, y, "not estimable", va="center", ha="center", fontsize=8, color="#555555")
            continue
        axes.plot([level["ci_lower"], level["ci_upper"]], [y, y], color="#000000", linewidth=1.2)
        axes.plot([level["hazard_ratio"]], [y], marker="s", color="#000000", markersize=5)
    axes.axvline(1.0, color="#777777", linewidth=0.8, linestyle="--")
    axes.set_xscale("log")
    bounds = [v for _, level in rows for v in (level.get("ci_lower"), level.get("ci_upper")) if v]
    ticks = [
        t
        for t in (0.0625, 0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)
        if min(bounds, default=0.5) / 2 <= t <= max(bounds, default=2) * 2
    ]
    axes.xaxis.set_major_locator(FixedLocator(ticks))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xticklabels([f"{t:g}" for t in ticks])
    for y, (_, level) in enumerate(reversed(rows)):
        if level.get("hazard_ratio") is not None:
            text = f"{level['hazard_ratio']:.2f} ({level['ci_lower']:.2f}–{level['ci_upper']:.2f})"
            axes.annotate(text, (1.02, y), xycoords=("axes fraction", "data"), va="center", fontsize=8)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel(f"Hazard ratio, {group} over {reference} (log scale)")
    axes.set_title("Overall survival by subgroup, unadjusted Cox")
    description = "; ".join(
        f"{name} {level.get('label', level['level'])}: HR {level['hazard_ratio']:.2f}"
        if level.get("hazard_ratio") is not None
        else f"{name} {level.get('label', level['level'])}: not estimable"
        for name, level in rows
    )
    return Drawn(figure, slug, "Forest plot of hazard ratios by subgroup", description)


def at_risk_times(section: list[dict]) -> list[float]:
    """Time 0 and the report times the engine gave numbers at risk for, leaving out a time too close to the one
    before it to be read apart on the axis (72 and 75 months); the table under the figure has them all."""
    times = [0.0]
    every = [point["time"] for point in section[0]["at_times"]] if section else []
    for time in every:
        if time - times[-1] >= MIN_GAP * (max(every) or 1.0):
            times.append(time)
    return times


def at_risk(arm: dict, times: list[float]) -> list[int]:
    """The arm's numbers at risk at ``times``: everyone at 0, then the engine's counts."""
    counts = {point["time"]: point["at_risk"] for point in arm["at_times"]}
    return [arm["n"] if time == 0 else counts[time] for time in times]


def _at_risk_table(axes, section, colours) -> list[float]:
    times = at_risk_times(section)
    axes.set_yticks(range(len(section)), [textwrap.fill(arm["group"], 22) for arm in reversed(section)])
    for y, arm in enumerate(reversed(section)):
        for time, count in zip(times, at_risk(arm, times), strict=True):
            axes.text(time, y, str(count), ha="center", va="center", color=colours[arm["group"]], fontsize=9)
        axes.get_yticklabels()[y].set_color(colours[arm["group"]])
    axes.set_ylim(-0.6, len(section) - 0.4)
    axes.set_xticks(times)
    axes.tick_params(axis="y", length=0, pad=16)
    axes.spines["left"].set_visible(False)
    axes.set_title("Number at risk", fontsize=9, fontweight="normal")
    return times


def _step(axes, curve: dict, column: str, colour: str, label: str, gid: str) -> None:
    time = np.asarray(curve["time"], dtype=float)
    value = np.asarray(curve[column], dtype=float)
    lower = np.asarray([np.nan if v is None else v for v in curve["ci_lower"]], dtype=float)
    upper = np.asarray([np.nan if v is None else v for v in curve["ci_upper"]], dtype=float)
    (line,) = axes.step(time, value, where="post", color=colour, linewidth=1.8, label=label)
    line.set_gid(gid)  # the SVG group of the arm's curve: one per arm
    axes.fill_between(time, lower, upper, step="post", color=colour, alpha=0.18, linewidth=0)


def _last_time(section, column) -> float:
    return max((max(arm["curve"]["time"], default=0) for arm in section), default=1.0)
