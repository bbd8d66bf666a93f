"""The dashboard's figures, drawn from hand-made report sections: the SVG parses, says what it shows, carries the
engine's numbers at risk, inlines under a strict CSP (no style attributes), and PNG and PDF are what they say."""

import xml.etree.ElementTree as ET

import pytest

from analysis.figures import labs, overview, survival
from analysis.figures.render import CONTROL, TREATMENT, arm_colours, render

SVG = "{http://www.w3.org/2000/svg}"
ARMS = [{"label": "Control", "is_control": True}, {"label": "Cells", "is_control": False}]
COLOURS = arm_colours(ARMS)


def km_arm(group, n, at_risk):
    return {
        "group": group,
        "n": n,
        "events": 2,
        "median": None,
        "curve": {"time": [0, 3, 8], "survival": [1, 0.8, 0.6], "ci_lower": [1, 0.5, None], "ci_upper": [1, 0.95, 0.9]},
        "at_times": [{"time": 6.0, "at_risk": at_risk[0]}, {"time": 12.0, "at_risk": at_risk[1]}],
    }


SECTION = [km_arm("Cells", 10, (7, 4)), km_arm("Control", 9, (6, 3))]


def parse(svg: bytes):
    return ET.fromstring(svg)  # noqa: S314 -- our own output


def texts(root) -> list[str]:
    return ["".join(element.itertext()).strip() for element in root.iter(f"{SVG}text")]


def test_control_is_vermillion_and_treatment_blue_whatever_the_order():
    assert arm_colours(list(reversed(ARMS))) == {"Cells": TREATMENT, "Control": CONTROL}


def test_kaplan_meier_svg_has_its_title_and_description_for_screen_readers():
    root = parse(render(survival.kaplan_meier(SECTION, COLOURS, time_unit="months"), "svg"))
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Kaplan-Meier estimate of overall survival by arm"
    assert "Cells: 10 subjects, 2 deaths" in root.find(f"{SVG}desc").text


def test_kaplan_meier_shows_the_engines_numbers_at_risk_under_the_axis():
    shown = texts(parse(render(survival.kaplan_meier(SECTION, COLOURS, time_unit="months"), "svg")))
    for number in ("10", "7", "4", "9", "6", "3"):
        assert number in shown
    assert survival.at_risk(SECTION[0], [0.0, 6.0, 12.0]) == [10, 7, 4]
    assert survival.at_risk_times(SECTION) == [0.0, 6.0, 12.0]


def test_a_report_time_too_close_to_the_last_is_left_off_the_figure_not_the_table():
    arm = km_arm("Cells", 10, (7, 4))
    arm["at_times"].append({"time": 12.5, "at_risk": 2})
    assert survival.at_risk_times([arm]) == [0.0, 6.0, 12.0]


def test_each_arm_has_one_curve_in_its_colour():
    root = parse(render(survival.kaplan_meier(SECTION, COLOURS, time_unit="months"), "svg"))
    curves = [group for group in root.iter(f"{SVG}g") if group.get("id", "").startswith("km-curve-")]
    assert len(curves) == 2
    strokes = [path.get("stroke").lower() for curve in curves for path in curve.iter(f"{SVG}path")]
    assert strokes == [TREATMENT.lower(), CONTROL.lower()]


def test_svg_has_no_style_attribute_or_element_so_a_strict_csp_draws_it():
    svg = render(survival.kaplan_meier(SECTION, COLOURS, time_unit="months"), "svg")
    root = parse(svg)
    assert not [element for element in root.iter() if "style" in element.attrib]
    assert root.find(f".//{SVG}style") is None


@pytest.mark.parametrize(("fmt", "magic"), [("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF-")])
def test_png_and_pdf_are_files_of_their_type(fmt, magic):
    data = render(survival.kaplan_meier(SECTION, COLOURS, time_unit="months"), fmt)
    assert data.startswith(magic)
    assert len(data) > 1000


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="no figure format"):
        render(survival.kaplan_meier(SECTION, COLOURS, time_unit="months"), "gif")


def test_trajectories_link_each_line_to_its_subject_page():
    lines = {
        "visits": [["W0", 1], ["W12", 2]],
        "arms": {"Cells": {"n": 1, "shown": 1}, "Control": {"n": 1, "shown": 1}},
        "subjects": [
            {"subject": "001", "arm": "Cells", "points": [[1, 10], [2, 12]]},
            {"subject": "002", "arm": "Control", "points": [[1, 11], [2, 14]]},
        ],
    }
    drawn = labs.trajectories(lines, COLOURS, label="MELD score", analyte="MELD", link=lambda code: f"/s/{code}/")
    root = parse(render(drawn, "svg"))
    links = {a.get("{http://www.w3.org/1999/xlink}href") for a in root.iter(f"{SVG}a")}
    assert links == {"/s/001/", "/s/002/"}


def test_enrolment_draws_the_target_line_and_says_the_total():
    series = [{"site": "A", "dates": ["2021-01-04", "2021-02-01"]}, {"site": "B", "dates": ["2021-01-20"]}]
    drawn = overview.enrolment(series, target=10)
    assert drawn.description.startswith("3 subjects allocated of a target of 10")
    assert "Target 10" in texts(parse(render(drawn, "svg")))


def test_forest_marks_a_level_without_estimate():
    subgroups = [
        {
            "label": "Sex",
            "levels": [
                {"level": "male", "hazard_ratio": 0.5, "ci_lower": 0.2, "ci_upper": 1.3},
                {"level": "female", "hazard_ratio": None, "ci_lower": None, "ci_upper": None},
            ],
        }
    ]
    root = parse(render(survival.forest(subgroups, group="Cells", reference="Control"), "svg"))
    assert "not estimable" in texts(root)
    assert "Sex: female (n=0)" in texts(root)


LANDMARK = {
    "landmark": 13.0,
    "at_risk": [{"group": "Cells", "n": 10}, {"group": "Control", "n": 9}],
    "kaplan_meier": SECTION,
}


def landmark_svg():
    return parse(render(survival.landmark(LANDMARK, COLOURS, time_unit="months", slug="lm13"), "svg"))


def test_landmark_figure_has_one_curve_per_arm_in_its_colour():
    curves = [group for group in landmark_svg().iter(f"{SVG}g") if group.get("id", "").startswith("lm13-curve-")]
    assert len(curves) == 2
    strokes = [path.get("stroke").lower() for curve in curves for path in curve.iter(f"{SVG}path")]
    assert strokes == [TREATMENT.lower(), CONTROL.lower()]


def test_landmark_figure_is_titled_by_its_landmark_and_counts_time_from_it():
    shown = texts(landmark_svg())
    assert "Overall survival from the 13-month landmark" in shown
    assert "Time since the landmark (months)" in shown


def test_landmark_figure_says_who_is_at_risk_at_the_landmark():
    root = landmark_svg()
    assert root.find(f"{SVG}desc").text.startswith("At risk at the landmark: Cells 10, Control 9.")
    for number in ("10", "7", "4", "9", "6", "3"):
        assert number in texts(root)


def test_landmark_figure_draws_an_arm_with_nobody_left():
    nobody = [{"time": time, "survival": None, "at_risk": 0} for time in (6.0, 12.0)]
    empty = {"group": "Control", "n": 0, "events": 0, "median": None, "at_times": nobody}
    empty["curve"] = {"time": [], "survival": [], "ci_lower": [], "ci_upper": []}
    entry = {**LANDMARK, "kaplan_meier": [km_arm("Cells", 10, (7, 4)), empty]}
    entry["at_risk"] = [{"group": "Cells", "n": 10}, {"group": "Control", "n": 0}]
    root = parse(render(survival.landmark(entry, COLOURS, time_unit="months"), "svg"))
    assert root.find(f"{SVG}title").text.endswith("from the 13-month landmark")
