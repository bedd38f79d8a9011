"""A cohort: the overlay of one case fitted to many CTs, one manifest row per CT.

Each row of a manifest (CSV) names a CT and its anatomy; :func:`run_row` runs for it what the
``overlay`` command runs (open -> anatomy -> fit, which measures -> write) into ``OUT/<id>/``,
and never raises: a failure becomes the row's one-line reason. A row whose folder already holds
a complete, intact overlay made from the same inputs is not run again (:func:`finished_row`).
:mod:`.batch_dask` runs the rows as Dask tasks; :func:`write_results` gathers them into one
table (CSV and Parquet). The manifest and the table are documented in ``docs/batch.md``.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import io
import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._atomic import TargetState, atomic_file, inspect_target, verify_set
from ..annotations.overlay import BoneSource
from ..errors import IvcviewerError, NoSeriesFoundError
from ..failures import collecting_warnings, cut, failure_line
from ..io.formats import check_output_path, write_text_atomic
from ..io.series_choice import parse_series_choice
from ..report import ValidationMode
from .overlay import OVERLAY_SET, OverlayInputs

#: Columns a manifest may have; ``id`` and ``ct`` are required.
MANIFEST_COLUMNS: tuple[str, ...] = (
    "id",
    "ct",
    "series",
    "study",
    "anatomy",
    "anatomy_names",
    "landmarks",
    "phantom_truth",
)
#: Columns that hold a path (relative paths are taken from the manifest's folder).
PATH_COLUMNS: tuple[str, ...] = ("anatomy", "anatomy_names", "landmarks", "phantom_truth")
#: The columns of which a row names exactly one: where its anatomy comes from.
ANATOMY_COLUMNS: tuple[str, ...] = ("anatomy", "landmarks", "phantom_truth")

#: ``ct`` of a series to fetch from the Imaging Data Commons: ``idc:SERIES_UID``.
IDC_PREFIX = "idc:"
#: ``ct`` of a DICOMweb service (its base URL; the row's ``study``, and ``series``, name what).
DICOMWEB_PREFIXES = ("http://", "https://")

#: Names in the output folder that are not a row's: the table and the fetched series.
RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
FETCHED_DIR = "fetched"
_RESERVED_IDS = frozenset({RESULTS_CSV, RESULTS_PARQUET, FETCHED_DIR})
#: A row id: a folder name that is portable and never hidden.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: Largest manifest read (bytes): a cohort of many thousand rows fits well below it.
MAX_MANIFEST_BYTES = 64 << 20


class RowStatus(str, enum.Enum):
    """What became of a row: run now, skipped (complete already), or failed."""

    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ManifestRow:
    """One row of a manifest: a CT and its anatomy, every path absolute.

    Attributes
    ----------
    id
        The row's name, also its output folder's.
    ct
        A local CT path (DICOM folder or file, or a volume file), ``idc:SERIES_UID`` or the
        base URL of a DICOMweb service.
    line
        The manifest line the row is on (for messages).
    series
        The series to open in a folder of several (``UID`` or ``UID:N``), or to fetch.
    study
        StudyInstanceUID of a DICOMweb row.
    anatomy, anatomy_names, landmarks, phantom_truth
        The anatomy, as the ``overlay`` options of the same names take it.
    problem
        Why the row cannot run at all (found when the manifest is read), or None.
    """

    id: str
    ct: str
    line: int
    series: str | None = None
    study: str | None = None
    anatomy: str | None = None
    anatomy_names: str | None = None
    landmarks: str | None = None
    phantom_truth: str | None = None
    problem: str | None = None

    @property
    def remote(self) -> bool:
        """Whether the CT is fetched (from the IDC or a DICOMweb service)."""
        return self.ct.startswith(IDC_PREFIX) or self.ct.startswith(DICOMWEB_PREFIXES)


@dataclass(frozen=True)
class RowResult:
    """The outcome of one row, as a line of the results table.

    ``measured`` holds the figures of ``findings.json`` (:func:`findings_summary`).
    """

    id: str
    status: RowStatus
    reason: str = ""
    ct: str = ""
    out: str = ""
    measured: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    seconds: float | None = None

    def table_row(self) -> dict[str, Any]:
        """The row of the results table (without its finding columns' order)."""
        return {
            "id": self.id,
            "status": str(self.status),
            "reason": self.reason,
            "ct": self.ct,
            "out": self.out,
            **self.measured,
            "warnings": " | ".join(self.warnings),
            "seconds": self.seconds,
        }


# ----------------------------------------------------------------------------- the manifest


def read_manifest(path: str | Path) -> list[ManifestRow]:
    """The rows of a manifest CSV (header line first; see ``docs/batch.md``).

    Relative paths are taken from the manifest's folder. What makes the whole manifest
    unusable raises; what makes one row unusable (no anatomy, or two) is kept as that row's
    ``problem``, so that the other rows still run.

    Raises
    ------
    IvcviewerError
        The file cannot be read, has no header with ``id`` and ``ct``, has a column that is
        not a manifest's, no rows, an id that is no folder name, or an id twice.
    """
    src = Path(path)
    with open(src, "rb") as fh:  # a missing file: FileNotFoundError, named by failure_line
        raw = fh.read(MAX_MANIFEST_BYTES + 1)
    where = f"MANIFEST {src}"
    if len(raw) > MAX_MANIFEST_BYTES:
        raise IvcviewerError(
            f"{where}: larger than {MAX_MANIFEST_BYTES >> 20} MB. Fix: split it into smaller "
            "manifests."
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IvcviewerError(
            f"{where}: not UTF-8 text (byte {exc.start}). Fix: save the manifest as UTF-8 CSV."
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    _check_header(header, where)
    rows: list[ManifestRow] = []
    seen: dict[str, int] = {}
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        line = reader.line_num
        if len(values) > len(header):
            raise IvcviewerError(
                f"{where} line {line}: {len(values)} values for {len(header)} columns. Fix: "
                "quote values that hold a comma."
            )
        cells = {h: v.strip() for h, v in zip(header, values, strict=False) if v.strip()}
        row = _row(cells, line, src.parent.absolute(), where)
        if row.id in seen:
            raise IvcviewerError(
                f"{where} line {line}: the id {row.id!r} is also on line {seen[row.id]}; each "
                "row writes into the folder of its id. Fix: give every row its own id."
            )
        seen[row.id] = line
        rows.append(row)
    if not rows:
        raise IvcviewerError(f"{where}: holds no rows. Fix: add one row per CT under the header.")
    return rows


def _check_header(header: Sequence[str], where: str) -> None:
    """Refuse a header without ``id`` and ``ct``, or with a column that is not a manifest's."""
    known = ", ".join(MANIFEST_COLUMNS)
    unknown = [h for h in header if h not in MANIFEST_COLUMNS]
    if unknown:
        raise IvcviewerError(
            f"{where}: unknown column {cut(unknown[0], 40)!r}; a manifest's columns are "
            f"{known}. Fix: rename or remove it."
        )
    missing = [h for h in ("id", "ct") if h not in header]
    if missing:
        raise IvcviewerError(
            f"{where}: the header lacks {' and '.join(missing)} (the first line names the "
            f"columns: {known}). Fix: add {' and '.join(missing)}."
        )
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise IvcviewerError(f"{where}: the column {twice[0]!r} is there twice. Fix: keep one.")


def _row(cells: dict[str, str], line: int, base: Path, where: str) -> ManifestRow:
    """One manifest row, its paths made absolute; an id that is no folder name raises."""
    rid = cells.get("id", "")
    if not _ID.fullmatch(rid) or rid in _RESERVED_IDS:
        raise IvcviewerError(
            f"{where} line {line}: the id {cut(rid, 40)!r} is not a usable folder name (1 to 100 "
            "letters, digits, '.', '_' or '-', not starting with '.' or '-', and none of "
            f"{', '.join(sorted(_RESERVED_IDS))}). Fix: rename the row."
        )
    ct = cells.get("ct", "")
    if ct and not (ct.startswith(IDC_PREFIX) or ct.startswith(DICOMWEB_PREFIXES)):
        ct = _absolute(ct, base)
    paths = {c: _absolute(cells[c], base) for c in PATH_COLUMNS if c in cells}
    row = ManifestRow(
        id=rid, ct=ct, line=line, series=cells.get("series"), study=cells.get("study"), **paths
    )
    problem = _row_problem(row, where)
    return row if problem is None else dataclasses.replace(row, problem=problem)


def _absolute(value: str, base: Path) -> str:
    """``value`` as an absolute path, a relative one taken from ``base``."""
    path = Path(os.path.expanduser(value))
    return os.path.normpath(path if path.is_absolute() else base / path)


def _row_problem(row: ManifestRow, where: str) -> str | None:
    """Why ``row`` cannot run (no CT, no anatomy or two, ...), or None."""
    at = f"{where} line {row.line} ({row.id})"
    given = [c for c in ANATOMY_COLUMNS if getattr(row, c)]
    if not row.ct:
        return f"{at}: no ct. Fix: give the CT's path, idc:SERIES_UID or a DICOMweb URL."
    if len(given) != 1:
        what = "none of" if not given else f"{' and '.join(given)}, more than one of"
        return (
            f"{at}: names {what} the anatomy columns ({', '.join(ANATOMY_COLUMNS)}). "
            "Fix: give exactly one."
        )
    if row.anatomy_names and not row.anatomy:
        return f"{at}: anatomy_names needs anatomy (it names its values). Fix: give anatomy."
    if row.ct.startswith(DICOMWEB_PREFIXES) and not row.study:
        return f"{at}: a DICOMweb ct needs the study's UID. Fix: fill the study column."
    if row.study and not row.ct.startswith(DICOMWEB_PREFIXES):
        return f"{at}: study is used with a DICOMweb ct only. Fix: leave it empty."
    return None


def manifest_inputs(rows: Sequence[ManifestRow]) -> list[Path]:
    """Every local file or folder the rows read (no output may go into their folders)."""
    out: list[Path] = []
    for row in rows:
        if not row.remote and row.ct:
            out.append(Path(row.ct))
        out += [Path(v) for c in PATH_COLUMNS if (v := getattr(row, c))]
    return out


# ----------------------------------------------------------------------------- one row


@dataclass(frozen=True)
class RowOptions:
    """What every row of a run shares: the case file and how the fit is done."""

    case: str
    out_root: str
    bone: BoneSource = BoneSource.LABELS_AND_CT
    on_irregular: ValidationMode = ValidationMode.RAISE


def row_inputs(row: ManifestRow, options: RowOptions, ct_path: str | None = None) -> OverlayInputs:
    """What the row's overlay is made from, as ``findings.json`` records it.

    ``ct_path`` is where a fetched CT lies (it is read, so no output goes into it).
    """
    files = [Path(ct_path or row.ct), Path(options.case)]
    files += [Path(v) for c in PATH_COLUMNS if (v := getattr(row, c))]
    if row.phantom_truth:
        files.append(Path(row.phantom_truth) / "landmarks.json")
    return OverlayInputs(
        ct=row.ct,
        case=options.case,
        anatomy=row.anatomy,
        anatomy_names=row.anatomy_names,
        landmarks=row.landmarks,
        phantom_truth=row.phantom_truth,
        files=tuple(files),
    )


def run_row(row: ManifestRow, options: RowOptions) -> RowResult:
    """Fit the case to the row's CT and write its overlay into ``OUT/<id>/``; never raises.

    The steps and the files are the ``overlay`` command's. Any failure becomes the result's
    one-line reason (:func:`ivcviewer.failures.failure_line`); the warnings are kept in the
    result.
    """
    t0 = time.perf_counter()
    with collecting_warnings() as seen:
        try:  # the row's one boundary: whatever fails is this row's reason, never the run's
            if row.problem:
                raise IvcviewerError(row.problem)
            doc = _overlay_row(row, options)
        except Exception as exc:
            return RowResult(
                row.id,
                RowStatus.FAILED,
                failure_line(exc, row.ct or row.id),
                row.ct,
                seconds=round(time.perf_counter() - t0, 3),
            )
    return RowResult(
        row.id,
        RowStatus.DONE,
        "",
        row.ct,
        str(Path(options.out_root) / row.id),
        findings_summary(doc),
        tuple(dict.fromkeys([*findings_warnings(doc), *seen.own])),
        round(time.perf_counter() - t0, 3),
    )


def _overlay_row(row: ManifestRow, options: RowOptions) -> dict[str, Any]:
    """open -> anatomy -> fit -> write for one row, as ``ivcviewer overlay`` does them.

    Returns the ``findings.json`` written.
    """
    from ..annotations import load_case
    from .anatomy import (
        anatomy_from_labelmap_file,
        anatomy_from_landmarks_file,
        anatomy_from_phantom_truth,
    )
    from .ct import open_ct
    from .overlay import check_overlay_output, fit_overlay, write_overlay_outputs

    out = Path(options.out_root) / row.id
    ct_path = fetch_ct(row, Path(options.out_root) / FETCHED_DIR / row.id) if row.remote else row.ct
    inputs = row_inputs(row, options, ct_path)
    check_overlay_output(out, inputs.files)
    case = load_case(options.case)
    try:
        ct = open_ct(ct_path, series=row.series, on_irregular=options.on_irregular, option="ct")
    except NoSeriesFoundError as err:  # several series: the row chooses one in its own column
        raise NoSeriesFoundError(_SERIES_FIX.sub(_ROW_SERIES_FIX, str(err))) from None
    if row.anatomy:
        anatomy = anatomy_from_labelmap_file(row.anatomy, case, row.anatomy_names, ct=ct)
    elif row.landmarks:
        anatomy = anatomy_from_landmarks_file(row.landmarks)
    else:
        anatomy = anatomy_from_phantom_truth(str(row.phantom_truth), case)
    result = fit_overlay(ct, case, anatomy, bone=options.bone, ct_name=row.ct)
    written = write_overlay_outputs(result, out, inputs)
    doc: dict[str, Any] = json.loads(written.findings_json.read_text(encoding="utf-8"))
    return doc


#: The fix of a folder of several series, as the command line words it, and as a row's.
_SERIES_FIX = re.compile(r"Fix: choose one with --series UID\b.*$")
_ROW_SERIES_FIX = (
    "Fix: put its UID (or UID:N for stack N of a split series) in the row's series column."
)


def fetch_ct(row: ManifestRow, to: Path) -> str:
    """Fetch a remote row's series into ``to`` (by :mod:`ivcviewer.public`); its local path.

    Raises
    ------
    IvcviewerError
        This installation has no :mod:`ivcviewer.public`.
    """
    try:  # imported here: only remote rows need it
        from ..public import DicomwebAuth, fetch_dicomweb, fetch_idc
    except ImportError as exc:
        raise IvcviewerError(
            f"{row.ct}: fetching a series needs the module ivcviewer.public, which this "
            f"installation lacks ({cut(str(exc), 60)}). Fix: install an ivcviewer that has it, "
            "or download the series and give its local path in the ct column."
        ) from None
    to.parent.mkdir(parents=True, exist_ok=True)
    if row.ct.startswith(IDC_PREFIX):
        fetched = fetch_idc([row.ct[len(IDC_PREFIX) :]], to=to)
        return str(fetched[0])
    auth = DicomwebAuth.from_env(prompt=_no_prompt)
    series = parse_series_choice(row.series, "series").uid if row.series else None  # not UID:N
    return str(fetch_dicomweb(row.ct, str(row.study), series_uid=series, to=to, auth=auth))


def _no_prompt(question: str) -> str:
    """A worker has no terminal: a DICOMweb password comes from its environment only."""
    raise IvcviewerError(
        "DICOMweb: a batch's rows run without a terminal to ask for a password on. Fix: set "
        "IVCVIEWER_DICOMWEB_PASSWORD (or IVCVIEWER_DICOMWEB_TOKEN) in the workers' environment."
    )


# ----------------------------------------------------------------------------- done rows


def finished_row(row: ManifestRow, options: RowOptions) -> RowResult | None:
    """The result of a row already done, or None when it must run.

    A row is done when its folder holds a complete overlay (marker present, every file's size
    and SHA-256 as the marker says) made from the row's inputs and case file (the paths its
    ``findings.json`` records).
    """
    out = Path(options.out_root) / row.id
    try:
        if inspect_target(out, OVERLAY_SET).state is not TargetState.COMPLETE or verify_set(out):
            return None
        doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    if doc.get("inputs") != row_inputs(row, options).to_dict():
        return None
    summary = findings_summary(doc)
    return RowResult(
        row.id, RowStatus.SKIPPED, "", row.ct, str(out), summary, findings_warnings(doc)
    )


def findings_warnings(doc: dict[str, Any]) -> tuple[str, ...]:
    """The warnings of a ``findings.json``: the overlay's, then each finding's after its id
    (as the ``overlay`` command prints them).

    >>> findings_warnings({"warnings": ["a"], "findings": [{"id": "mass", "warnings": ["b"]}]})
    ('a', 'mass: b')
    """
    out = [str(w) for w in doc.get("warnings") or []]
    for finding in doc.get("findings") or []:
        out += [f"{finding.get('id')}: {w}" for w in finding.get("warnings") or []]
    return tuple(out)


def findings_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """The figures of a ``findings.json`` that the results table holds.

    The anatomy's source, the IVC involvement (Mayo level, IVC segment) and, per finding,
    its measured extents (cm) and volume (mL) as ``<finding>_lr_cm``, ``<finding>_ap_cm``,
    ``<finding>_cc_cm``, ``<finding>_volume_ml``.

    >>> doc = {"anatomy": {"source": "labelmap"}, "ivc_involvement": {"mayo_level": "III"},
    ...        "findings": [{"id": "mass", "measured": {"extents_cm": {"lr": 10.5},
    ...                      "volume_ml": 640.0}}]}
    >>> s = findings_summary(doc)
    >>> s["mayo_level"], s["mass_lr_cm"], s["mass_ap_cm"], s["mass_volume_ml"]
    ('III', 10.5, None, 640.0)
    """
    inv = doc.get("ivc_involvement") or {}
    out: dict[str, Any] = {
        "anatomy_source": (doc.get("anatomy") or {}).get("source"),
        "mayo_level": inv.get("mayo_level"),
        "ivc_segment": inv.get("ivc_segment"),
    }
    for finding in doc.get("findings") or []:
        fid = str(finding.get("id"))
        measured = finding.get("measured") or {}
        extents = measured.get("extents_cm") or {}
        for axis in ("lr", "ap", "cc"):
            out[f"{fid}_{axis}_cm"] = extents.get(axis)
        out[f"{fid}_volume_ml"] = measured.get("volume_ml")
    return out


# ----------------------------------------------------------------------------- the table

#: Columns of the results table before the measured ones, and after them.
_LEADING = ("id", "status", "reason", "ct", "out", "anatomy_source", "mayo_level", "ivc_segment")
_TRAILING = ("warnings", "seconds")


def results_columns(results: Sequence[RowResult]) -> list[str]:
    """The table's columns: the fixed ones, and each finding's in the order they appear."""
    measured: dict[str, None] = {}
    for r in results:
        measured.update(dict.fromkeys(k for k in r.measured if k not in _LEADING))
    return [*_LEADING, *measured, *_TRAILING]


def _is_number_column(name: str) -> bool:
    return name == "seconds" or name.endswith(("_cm", "_ml"))


def write_results(
    results: Sequence[RowResult], out_root: str | Path, inputs: Sequence[Path] = ()
) -> tuple[Path, Path]:
    """Write the results table as ``results.csv`` and ``results.parquet`` in ``out_root``.

    One line per row, in the manifest's order; each file is written atomically. Parquet
    needs ``pyarrow``.

    Returns
    -------
    tuple of Path
        The CSV and the Parquet file.
    """
    from .._deps import import_optional_dependency

    root = Path(out_root)
    csv_path = check_output_path(root / RESULTS_CSV, inputs, suffixes=(".csv",))
    parquet_path = root.resolve() / RESULTS_PARQUET
    columns = results_columns(results)
    table = [{c: r.table_row().get(c) for c in columns} for r in results]
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in table)
    write_text_atomic(csv_path, text.getvalue())
    pa = import_optional_dependency("pyarrow", "writing a batch's results.parquet")
    pq = import_optional_dependency("pyarrow.parquet", "writing a batch's results.parquet")
    schema = pa.schema(
        [(c, pa.float64() if _is_number_column(c) else pa.string()) for c in columns]
    )
    with atomic_file(parquet_path, suffix=".parquet") as tmp:
        pq.write_table(pa.Table.from_pylist(table, schema=schema), tmp)
    return csv_path, parquet_path
