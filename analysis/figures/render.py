"""A figure as SVG, PNG or PDF, styled like a journal's, with its title and description for screen readers.

The SVG is made fit to inline under a Content-Security-Policy without 'unsafe-inline' styles: matplotlib's
``style`` attributes become SVG presentation attributes and its ``<style>`` element is dropped, so the browser
draws it exactly and the policy stays strict. Text stays text (``svg.fonttype = none``), searchable and legible.
"""

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

# Okabe & Ito (2008), "Color universal design": distinguishable with every common colour-vision deficiency.
TREATMENT, CONTROL, OTHERS = "#0072B2", "#D55E00", ("#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
FORMATS = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}

matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "ecrf",  # stable ids: the same numbers give the same file
        "font.family": "DejaVu Sans",
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "legend.frameon": False,
        "pdf.fonttype": 42,
        "savefig.bbox": "tight",
        "path.simplify": True,
    }
)


@dataclass(frozen=True)
class Drawn:
    figure: Figure
    slug: str  # unique on a page: the ids of the SVG's title and description derive from it
    title: str
    description: str


def new_figure(width_in: float = 7.0, height_in: float = 4.2) -> Figure:
    figure = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def arm_colours(arms: list[dict]) -> dict[str, str]:
    """``arms`` as [{label, is_control}]: the control arm vermillion, the (first) treatment arm blue, others after."""
    colours, spare = {}, iter(OTHERS)
    for arm in arms:
        if arm.get("is_control") and CONTROL not in colours.values():
            colours[arm["label"]] = CONTROL
        elif TREATMENT not in colours.values() and not arm.get("is_control"):
            colours[arm["label"]] = TREATMENT
        else:
            colours[arm["label"]] = next(spare)
    return colours


def render(drawn: Drawn, fmt: str) -> bytes:
    """The figure in ``fmt`` (svg, png or pdf)."""
    if fmt not in FORMATS:
        raise ValueError(f"no figure format {fmt!r}; formats: {', '.join(FORMATS)}")
    buffer = io.BytesIO()
    metadata = {"Title": drawn.title} if fmt == "pdf" else {"Title": drawn.title} if fmt == "svg" else None
    drawn.figure.savefig(buffer, format=fmt, dpi=200 if fmt == "png" else 100, metadata=metadata)
    if fmt == "svg":
        return _accessible_svg(buffer.getvalue(), drawn.slug, drawn.title, drawn.description)
    return buffer.getvalue()


def _accessible_svg(svg: bytes, drawn_slug: str, title: str, description: str) -> bytes:
    root = ET.fromstring(svg)  # noqa: S314 -- matplotlib's own output, never user input
    for style in root.iter(f"{{{SVG_NS}}}style"):
        style.text = ""
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}style" or child.tag == f"{{{SVG_NS}}}metadata":
                parent.remove(child)
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style:
            for prop, value in _declarations(style):
                element.set(prop, f"{value}, Arial, Helvetica, sans-serif" if prop == "font-family" else value)
    root.set("role", "img")
    root.set("aria-labelledby", f"{drawn_slug}-title {drawn_slug}-desc")
    title_el, desc_el = ET.Element(f"{{{SVG_NS}}}title"), ET.Element(f"{{{SVG_NS}}}desc")
    title_el.text, desc_el.text = title, description
    title_el.set("id", f"{drawn_slug}-title")
    desc_el.set("id", f"{drawn_slug}-desc")
    root.insert(0, desc_el)
    root.insert(0, title_el)
    # Linecaps and joins the dropped <style> gave every element.
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _declarations(style: str):
    for declaration in style.split(";"):
        prop, _, value = declaration.partition(":")
        prop, value = prop.strip(), value.strip()
        if prop and value:
            yield prop, re.sub(r"\s+", " ", value)
