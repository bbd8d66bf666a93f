"""Where every export writer reads the study from: the form tables, the codebook and the analysis frames.

Live data by default. ``export_study`` narrows what a writer sees for the export at hand, through context
variables the writers never touch: a data cut's frozen files instead of the live tables (``--cut N``), the rows
de-identified (``--deidentify``), and a callback told of each form as it starts (the export page's progress).
"""

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from analysis.datasets import StudyData, study_data
from analysis.frozen import FRAMES
from ecrf.models import Study
from ecrf.selectors.plans import latest_plan
from ecrf.selectors.protocols import latest_protocol
from exports import codebook, csv_bundle
from exports import deidentify as deidentification
from exports.selectors import FORMS, form_csv_copy, form_rows


@dataclass(frozen=True)
class Frozen:
    """A data cut's records, codebook and analysis frames, as callables reading its files."""

    tables: Callable[[], Iterator[csv_bundle.Table]]
    codebook_rows: Callable[[], list[list[str]]]
    data: Callable[[], StudyData]


# Set by ``export_study`` for an export of a data cut.
cut: ContextVar[Frozen | None] = ContextVar("export_cut", default=None)
# Told of each form as a writer starts reading it (the export page's progress); set by ``export_study``.
progress: ContextVar[Callable[[int, int], None] | None] = ContextVar("export_progress", default=None)
# Set by ``export_study`` for a de-identified export: each subject's pseudonym and offset (exports/deidentify.py).
pseudonyms: ContextVar[dict[str, deidentification.Subject] | None] = ContextVar("export_pseudonyms", default=None)


def manifest_header(study: Study, fmt: str, exported_at) -> dict:
    """What every export's manifest opens with: study, protocol and plan versions, format and time; not yet
    de-identified or of a cut (``export_study`` and ``declare_cut`` say so when it is)."""
    protocol, plan = latest_protocol(study), latest_plan(study)
    return {
        "study": study.code,
        "protocol_version": protocol.version if protocol else None,
        "plan_version": plan.version if plan else None,
        "format": fmt,
        "exported_at": exported_at.isoformat(),
        "deidentified": False,
        "cut": None,
    }


def form_tables(study: Study) -> Iterator[csv_bundle.Table]:
    """One table per form (``exports.selectors.FORMS``), each streaming its rows; every writer reads these.

    In a de-identified export the tables are de-identified already: no writer sees an original code or date.
    """
    report, subjects = progress.get(), pseudonyms.get()
    plans = deidentification.plan(_codebook_rows(study), codebook.COLUMNS) if subjects is not None else {}
    for done, table in enumerate(_tables(study)):
        if report is not None:
            report(done, len(FORMS))
        if subjects is not None:
            plan = plans[table.name]
            rows = deidentification.rows(table.columns, plan, table.rows, subjects)
            table = csv_bundle.Table(table.name, deidentification.columns(table.columns, plan), rows)
        yield table


def _tables(study: Study) -> Iterator[csv_bundle.Table]:
    frozen = cut.get()
    if frozen is not None:
        yield from frozen.tables()
        return
    for form in FORMS:
        yield csv_bundle.Table(form.name, form.column_names, form_rows(form, study), form_csv_copy(form, study))


def _codebook_rows(study: Study) -> list[list[str]]:
    frozen = cut.get()
    return frozen.codebook_rows() if frozen is not None else codebook.codebook_rows(study, latest_protocol(study))


def codebook_table(study: Study) -> csv_bundle.Table:
    """The codebook of ``form_tables``: one row per column of every form (``exports.codebook.COLUMNS``)."""
    rows = _codebook_rows(study)
    if pseudonyms.get() is not None:
        rows = deidentification.codebook(rows, codebook.COLUMNS)
    return csv_bundle.Table("codebook", codebook.COLUMNS, rows)


def analysis_data(study: Study) -> StudyData:
    """The analysis frames of the export: the cut's, frozen, or the study's as stored now; de-identified in a
    de-identified export."""
    frozen = cut.get()
    data = frozen.data() if frozen is not None else study_data(study)
    subjects = pseudonyms.get()
    if subjects is None:
        return data
    return StudyData(**{name: deidentification.frame(getattr(data, name), subjects) for name in FRAMES})
