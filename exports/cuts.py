"""Data cuts: the study's records and analysis datasets frozen as files, for an interim or final analysis.

``declare_cut`` reads the study once, in one consistent snapshot (REPEATABLE READ on PostgreSQL; SQLite's
transaction holds the write lock), and writes under ``EXPORT_ROOT/<study>/cuts/<N>/``:

- ``bundle.zip``: the ``csv`` export of the records, as ``export_study`` writes it, with ``cut`` in its manifest;
- ``records/<form>.pkl``: the same rows as read (types and all), for exports of the cut in any format;
- ``datasets/<frame>.pkl`` and ``.csv``: the analysis frames (analysis/datasets.py), exactly (pickle, read back
  only after its SHA-256 matches the cut's manifest) and readable (CSV);
- ``report.json`` and ``trajectories.json``: the analysis of those frames, generated "as of" the cut's time.

The ``DataCut`` row keeps the manifest (every file's SHA-256) and what the analysis was run under (plan, arms,
endpoints); ``cut_report`` recomputes the report from the frozen files and gives the same bytes.
"""

import json
import pickle
import shutil
import zipfile
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from analysis.datasets import study_data
from analysis.frozen import FRAMES, checked_file, file_sha256, frozen_data
from analysis.live import analyse, analysis_inputs, engine_version
from analysis.models import DataCut
from ecrf.models import Study
from ecrf.models.changes import current_version
from exports import csv_bundle
from exports.selectors import FORMS
from exports.sources import codebook_table, form_tables, manifest_header

BUNDLE = "bundle.zip"
FORM_NAMES = frozenset(f"{form.name}.csv" for form in FORMS)
RECORD_CHUNK = 2000


def _json_bytes(value) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def _snapshot() -> None:
    """Every read of this transaction from one snapshot (PostgreSQL's default sees each statement's own).

    Only a transaction's first statement may set its isolation: inside a caller's transaction (a test's, say) the
    caller's isolation holds.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def declare_cut(study: Study, *, label: str, by=None) -> DataCut:
    """Freeze ``study``'s data now as its next cut; returns the cut. A failure leaves no cut and no files."""
    label = label.strip()
    if not label:
        raise ValueError("A data cut needs a label saying what it is for.")
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            _snapshot()
        number = (DataCut.objects.filter(study=study).aggregate(n=Max("number"))["n"] or 0) + 1
        relative = Path(study.code) / "cuts" / str(number)
        folder = Path(settings.EXPORT_ROOT) / relative
        if folder.exists():  # left by a cut whose transaction did not commit
            shutil.rmtree(folder)
        try:
            cut = _freeze(study, number, label, by, folder, relative)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return cut


def _freeze(study, number, label, by, folder: Path, relative: Path) -> DataCut:
    declared_at = timezone.now().replace(microsecond=0)
    data_version, _ = current_version(study.pk)
    inputs = analysis_inputs(study)
    (folder / "datasets").mkdir(parents=True)
    header = {**manifest_header(study, "csv", declared_at), "cut": number}
    (folder / "records").mkdir()
    with open(folder / BUNDLE, "wb") as handle:
        tables = _recorded(form_tables(study), folder)
        bundle = csv_bundle.write_bundle(handle, tables=tables, codebook=codebook_table(study), header=header)
    files = {BUNDLE: {"rows": sum(f["rows"] for f in bundle["files"].values()), "sha256": file_sha256(folder / BUNDLE)}}
    forms = [name.removesuffix(".csv") for name in bundle["files"] if name.startswith(tuple(FORM_NAMES))]
    for name in forms:
        path = folder / "records" / f"{name}.pkl"
        files[f"records/{name}.pkl"] = {"rows": bundle["files"][f"{name}.csv"]["rows"], "sha256": file_sha256(path)}
    data = study_data(study)
    for name in FRAMES:
        frame = getattr(data, name)
        for suffix, write in (("pkl", frame.to_pickle), ("csv", lambda p, f=frame: f.to_csv(p, index=False))):
            path = folder / "datasets" / f"{name}.{suffix}"
            write(path)
            files[f"datasets/{name}.{suffix}"] = {"rows": len(frame), "sha256": file_sha256(path)}
    report, lines = json.loads(json.dumps(analyse(data, inputs, generated_at=declared_at), allow_nan=False))
    for name, value in (("report.json", report), ("trajectories.json", lines)):
        (folder / name).write_bytes(_json_bytes(value))
        files[name] = {"rows": 0, "sha256": file_sha256(folder / name)}
    cut = DataCut(
        study=study,
        number=number,
        label=label,
        declared_by=by,
        declared_at=declared_at,
        data_version=data_version,
        protocol_version=inputs["study"]["protocol_version"],
        plan_version=str(inputs["plan"].get("version") or ""),
        engine_version=engine_version(),
        inputs=inputs,
        path=str(relative),
        manifest={"bundle": bundle, "forms": forms, "files": files},
    )
    cut.full_clean()
    cut.save()
    return cut


def recomputed_report(cut: DataCut) -> bytes:
    """The cut's report computed again from its frozen frames and inputs: the same bytes as ``report.json``."""
    report, _ = json.loads(
        json.dumps(analyse(frozen_data(cut), cut.inputs, generated_at=cut.declared_at), allow_nan=False)
    )
    return _json_bytes(report)


# --- The cut's records, as the form tables of an export (``--cut N``) ------------------------------------------


def _recorded(tables, folder: Path):
    """``tables`` passed on unchanged, each row also pickled (in chunks) to ``records/<form>.pkl`` on the way."""
    for table in tables:
        yield csv_bundle.Table(table.name, table.columns, _recording(table, folder / "records" / f"{table.name}.pkl"))


def _recording(table: csv_bundle.Table, path: Path):
    with open(path, "wb") as out:
        pickle.dump(list(table.columns), out)
        chunk = []
        for row in table.rows:
            chunk.append(tuple(row))
            yield row
            if len(chunk) == RECORD_CHUNK:
                pickle.dump(chunk, out)
                chunk = []
        if chunk:
            pickle.dump(chunk, out)


def _records(path: Path):
    """The rows of a records file that ``_file`` has checked against the cut's SHA-256 (our own file, unchanged)."""
    with open(path, "rb") as handle:
        pickle.load(handle)  # noqa: S301 -- the columns
        while True:
            try:
                yield from pickle.load(handle)  # noqa: S301
            except EOFError:
                return


def cut_tables(cut: DataCut):
    """The cut's form tables exactly as they were read at the cut (types and all), rows streamed in chunks."""
    for name in cut.manifest["forms"]:
        path = checked_file(cut, f"records/{name}.pkl")
        with open(path, "rb") as handle:
            columns = pickle.load(handle)  # noqa: S301 -- checked by _file
        yield csv_bundle.Table(name, columns, _records(path))


def cut_codebook(cut: DataCut) -> list[list[str]]:
    """The codebook frozen with the cut."""
    with zipfile.ZipFile(checked_file(cut, BUNDLE)) as archive, archive.open("codebook.csv") as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False).values.tolist()
