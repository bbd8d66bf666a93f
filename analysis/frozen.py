"""A data cut's frozen files as the dashboards and exports read them: each checked against its SHA-256 first.

The files are written by ``exports.cuts.declare_cut`` under ``EXPORT_ROOT/<study>/cuts/<N>/``; the ``DataCut`` row
(analysis.models) keeps every file's SHA-256, and nothing here reads a file that no longer has it.
"""

import hashlib
import json
from pathlib import Path

import pandas as pd
from django.conf import settings

from analysis.datasets import StudyData
from analysis.live import Cached
from analysis.models import DataCut
from ecrf.models import Study

FRAMES = ("subjects", "labs", "scores", "time_to_event", "adverse_events")


class CutDamaged(RuntimeError):
    """A file of the cut is missing or no longer has the SHA-256 the cut recorded."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_file(cut: DataCut, name: str) -> Path:
    """The cut's file ``name``, after checking it still has the SHA-256 the cut recorded."""
    path = Path(settings.EXPORT_ROOT) / cut.path / name
    expected = cut.manifest["files"][name]["sha256"]
    if not path.is_file() or file_sha256(path) != expected:
        raise CutDamaged(f"cut {cut.number} of {cut.study.code}: {name} is missing or changed since the cut")
    return path


def stored_report(cut: DataCut) -> tuple[bytes, dict]:
    """The report as frozen with the cut (its bytes), and its trajectories."""
    report = checked_file(cut, "report.json").read_bytes()
    return report, json.loads(checked_file(cut, "trajectories.json").read_bytes())


def frozen_data(cut: DataCut) -> StudyData:
    """The cut's analysis frames, read back exactly."""
    # Our own files, each read only once its SHA-256 matches the one the cut recorded in the database.
    return StudyData(**{name: pd.read_pickle(checked_file(cut, f"datasets/{name}.pkl")) for name in FRAMES})  # noqa: S301


def frozen_cached(cut: DataCut) -> Cached:
    """The cut's report as the dashboards take a report: frozen, computed at the cut, never recomputed."""
    report, lines = stored_report(cut)
    return Cached(
        json.loads(report),
        lines,
        computed_at=cut.declared_at,
        data_changed_at=None,
        compute_ms=0,
        warm=True,
        keys={"cut": cut.number},
        figures={},
    )


def data_cuts(study: Study) -> list:
    """The study's data cuts, newest first, with who declared them."""
    return list(DataCut.objects.filter(study=study).select_related("declared_by"))


def data_cut(study: Study, number: int):
    """Data cut ``number`` of ``study``, or None."""
    return DataCut.objects.filter(study=study, number=number).select_related("study").first()
