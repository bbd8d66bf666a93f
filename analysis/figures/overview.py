"""Enrolment over time by site against the protocol's target."""

from datetime import date

from analysis.figures.render import OTHERS, Drawn, new_figure

SITE_COLOURS = ("#000000", *OTHERS[:-1], "#999999")


def enrolment(series: list[dict], *, target: int | None, slug: str = "enrolment") -> Drawn:
    """``series`` as [{site, dates: [ISO allocation dates]}]: cumulative allocations per site and in all."""
    figure = new_figure(7.0, 3.8)
    axes = figure.add_subplot()
    everyone = sorted(date.fromisoformat(d) for s in series for d in s["dates"])
    if everyone:
        axes.step(
            everyone,
            range(1, len(everyone) + 1),
            where="post",
            color="#000000",
            linewidth=2,
            label="All sites" if len(series) > 1 else series[0]["site"],
        )
    if len(series) > 1:
        for colour, site in zip(SITE_COLOURS[1:] * 10, series, strict=False):
            dates = [date.fromisoformat(d) for d in site["dates"]]
            if dates:
                axes.step(
                    dates, range(1, len(dates) + 1), where="post", color=colour, linewidth=1.2, label=site["site"]
                )
    if target:
        axes.axhline(target, color="#555555", linestyle="--", linewidth=1, label=f"Target {target}")
    axes.set_ylim(bottom=0)
    axes.set_ylabel("Subjects allocated (cumulative)")
    axes.set_xlabel("Allocation date")
    axes.set_title("Enrolment over time")
    if everyone or target:
        axes.legend(loc="lower right")
    total = len(everyone)
    description = f"{total} subjects allocated" + (f" of a target of {target}" if target else "")
    description += "; " + "; ".join(f"{s['site']}: {len(s['dates'])}" for s in series)
    return Drawn(figure, slug, "Cumulative enrolment by site", description)
