"""Write the phantom to disk (DICOM series, truth labels, landmarks, manifest) and cache it.

Layout of a phantom folder::

    ct/                      DICOM CT Image Storage series, one file per slice (CT0001.dcm ...)
    labels.nii.gz            truth label map (NIfTI, RAS on disk, same grid as the series)
    labels_labels.json       its label table: value -> {"name", "rgba"}
    landmarks.json           truth landmarks, LPS mm (format "ivcviewer.landmarks")
    manifest.json            parameters, versions, geometry, files, label table with HU
                             ranges, the findings' truth and the citation
    ivcviewer-complete.json  the marker of a complete set: command, version, time, and each
                             file's size and SHA-256 (written last)

The whole folder is written as one set (:func:`ivcviewer._atomic.output_set`): into a
temporary folder beside it, completed by the marker, then swapped in, so the folder holds an
earlier complete phantom or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__, measure
from .._atomic import SetKind, output_set
from ..dicom import write_ct_series
from ..errors import OutputExistsError
from ..io import LabelEntry, LabelTable, save_labels
from ..io.formats import write_text_atomic
from .build import PHANTOM_VERSION, Phantom, build_phantom
from .case_specs import MASS_ID, default_case, reported_mass_extents_mm

log = logging.getLogger(__name__)

#: ``format`` of a phantom manifest and its version.
MANIFEST_FORMAT = "ivcviewer.phantom"
MANIFEST_FORMAT_VERSION = 1

#: File and folder names inside a phantom folder.
CT_DIR = "ct"
LABELS_FILE = "labels.nii.gz"
LANDMARKS_FILE = "landmarks.json"
MANIFEST_FILE = "manifest.json"
LABEL_TABLE_FILE = "labels_labels.json"

#: The phantom's output set (written by the ``phantom`` command and into the cache).
PHANTOM_SET = SetKind(
    "phantom",
    "phantom",
    frozenset({CT_DIR, LABELS_FILE, LABEL_TABLE_FILE, LANDMARKS_FILE, MANIFEST_FILE}),
)

#: Text that marks the data as synthetic in the DICOM headers.
SYNTHETIC_NOTE = "SYNTHETIC PHANTOM - not patient data"


def label_table_for_io(phantom: Phantom) -> LabelTable:
    """The phantom's label table as an :class:`ivcviewer.io.LabelTable` (names and colours)."""
    return LabelTable({v: LabelEntry(e.name, e.rgba) for v, e in phantom.label_table.items()})


def _uid_seed(phantom: Phantom) -> str:
    p = phantom.params
    return (
        f"ivcviewer-phantom-v{p['version']}-{p['size']}-seed{p['seed']}-"
        f"{'normal' if p['normal'] else 'case'}"
    )


def measured_extents_mm(phantom: Phantom, name: str = MASS_ID) -> dict[str, float]:
    """Extents (mm) of a label along the patient axes (lr, ap, cc), on any grid.

    Measured by :func:`ivcviewer.measure.extents_mm` (for a grid on the patient axes:
    ``(max - min + 1) * spacing``); an absent label measures 0 along each axis.
    """
    m = np.asarray(phantom.labels.array == phantom.label_value(name))
    if not m.any():
        return {a: 0.0 for a in measure.PATIENT_AXES}
    return measure.extents_mm(m, phantom.labels.affine)


def manifest(phantom: Phantom, files: dict[str, str], dicom: dict[str, Any]) -> dict[str, Any]:
    """The manifest document of a written phantom."""
    ct = phantom.ct
    doc: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_FORMAT_VERSION,
        "synthetic": True,
        "description": ct.metadata.description,
        "phantom_version": PHANTOM_VERSION,
        "ivcviewer_version": __version__,
        "params": {k: phantom.params[k] for k in ("size", "seed", "normal")},
        "coordinate_system": "LPS",
        "units": "mm",
        "grid": {
            "shape": list(ct.shape),
            "spacing_mm": [float(v) for v in ct.spacing],
            "origin_lps": [float(v) for v in ct.origin_lps],
            "affine": np.round(ct.affine, 6).tolist(),
        },
        "files": files,
        "dicom": dicom,
        "labels": [
            {
                "value": v,
                "name": e.name,
                "colour": list(e.colour),
                "hu_range": list(e.hu_range) if e.hu_range else None,
                "description": e.description,
            }
            for v, e in phantom.label_table.items()
        ],
        "noise_sd_hu": 12.0,
    }
    if not phantom.params["normal"]:
        truth = json.loads(json.dumps(phantom.truth))
        truth["mass"]["reported_extents_mm"] = reported_mass_extents_mm()
        truth["mass"]["label_extents_mm"] = measured_extents_mm(phantom)
        doc["truth"] = truth
        case = default_case()
        doc["case"] = {
            "id": case.case.id,
            "citation": case.case.citation.text if case.case.citation else "",
            "doi": case.case.citation.doi if case.case.citation else "",
        }
    return doc


def write_phantom(
    phantom: Phantom,
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    label: str | None = None,
) -> dict[str, Path]:
    """Write the phantom as a DICOM CT series with its truth (see the module docstring).

    Parameters
    ----------
    phantom
        From :func:`~ivcviewer.phantom.build_phantom`.
    out_dir
        Folder to write (created if needed). It is written as one set: beside it, then
        swapped in; an incomplete phantom left by an interrupted run is replaced (with a
        warning).
    overwrite
        Replace an earlier complete phantom in ``out_dir``, or write into a folder that holds
        other files (they are kept). Without it a folder that holds anything but an
        incomplete phantom is refused.
    label
        How messages name ``out_dir`` (e.g. ``--out DIR``).

    Returns
    -------
    dict
        ``{"ct", "labels", "label_table", "landmarks", "manifest"}`` -> path written.

    Raises
    ------
    OutputExistsError
        When ``out_dir`` is a file, or is not empty and ``overwrite`` is false.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"Output path {out} exists and is not a folder; choose a folder.")
    name = label or f"Output folder {out}"
    with output_set(
        out, PHANTOM_SET, force=overwrite, replace_complete=False, label=name
    ) as folder:
        written = write_phantom_files(phantom, folder)
    # the label map and its table named as save_labels names them (the folder resolved)
    resolved = {"labels", "label_table"}
    return {
        key: (out.resolve() if key in resolved else out) / path.name
        for key, path in written.items()
    }


def write_phantom_files(phantom: Phantom, folder: Path) -> dict[str, Path]:
    """Write the phantom's series, label map, table, landmarks and manifest into ``folder``.

    ``folder`` is new and empty (where a set is written before it is swapped in).

    Returns
    -------
    dict
        ``{"ct", "labels", "label_table", "landmarks", "manifest"}`` -> path in ``folder``.
    """
    p = phantom.params
    kind = "normal baseline" if p["normal"] else "leiomyosarcoma invading the IVC"
    short = "normal" if p["normal"] else "IVC leiomyosarcoma"
    series = folder / CT_DIR
    dcm = write_ct_series(
        phantom.ct,
        series,
        series_description=f"Synthetic CT phantom ({short}) {p['size']} seed {p['seed']}"[:64],
        patient_name="PHANTOM^SYNTHETIC",
        patient_id=f"IVCVIEWER-PHANTOM-{p['seed']}"[:64],
        study_description=f"SYNTHETIC PHANTOM ivcviewer abdominal CT v{p['version']}"[:64],
        uid_seed=_uid_seed(phantom),
        window=(40.0, 400.0),
        rescale_intercept=-1024.0,
        rescale_slope=1.0,
        extra_tags={
            "PatientComments": f"{SYNTHETIC_NOTE}. Generated by ivcviewer {__version__}.",
            "ImageComments": f"{SYNTHETIC_NOTE} ({kind})",
            "ContrastBolusAgent": "IV and oral contrast (simulated, portal venous phase)",
        },
    )
    labels_path, table_path = save_labels(
        phantom.labels, label_table_for_io(phantom), folder / LABELS_FILE
    )
    landmarks_path = phantom.landmarks.save_json(folder / LANDMARKS_FILE)
    import pydicom

    first = pydicom.dcmread(dcm[0], stop_before_pixels=True)
    files = {
        "ct": CT_DIR,
        "labels": labels_path.name,
        "label_table": table_path.name,
        "landmarks": landmarks_path.name,
    }
    dicom = {
        "n_files": len(dcm),
        "study_instance_uid": str(first.StudyInstanceUID),
        "series_instance_uid": str(first.SeriesInstanceUID),
        "frame_of_reference_uid": str(first.FrameOfReferenceUID),
        "rescale_intercept": -1024.0,
        "window_center_width": [40.0, 400.0],
    }
    manifest_path = folder / MANIFEST_FILE
    write_text_atomic(manifest_path, json.dumps(manifest(phantom, files, dicom), indent=1) + "\n")
    return {
        "ct": series,
        "labels": labels_path,
        "label_table": table_path,
        "landmarks": landmarks_path,
        "manifest": manifest_path,
    }


# ----------------------------------------------------------------------------- cache


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/ivcviewer/phantom`` (default ``~/.cache/ivcviewer/phantom``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ivcviewer" / "phantom"


def cache_key(size: str, seed: int, normal: bool) -> str:
    """Folder name of a cached phantom: its parameters and the model and package versions.

    >>> cache_key("small", 0, False).startswith("small-seed0-case-v")
    True
    """
    return (
        f"{size}-seed{int(seed)}-{'normal' if normal else 'case'}-v{PHANTOM_VERSION}-{__version__}"
    )


def _complete(folder: Path, size: str, seed: int, normal: bool) -> bool:
    try:
        doc = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        doc.get("format") == MANIFEST_FORMAT
        and doc.get("phantom_version") == PHANTOM_VERSION
        and doc.get("params") == {"size": size, "seed": int(seed), "normal": bool(normal)}
        and (folder / CT_DIR).is_dir()
    )


class _CachedMeanwhile(Exception):
    """Another process put the same phantom into the cache first."""


def cached_phantom(size: str = "standard", seed: int = 0, normal: bool = False) -> Path:
    """The folder of a written phantom in the user cache, generating it the first time.

    The folder is written as one set beside its place in the cache and swapped in
    (:func:`write_phantom`), so a concurrent or interrupted run never leaves a half-written
    phantom behind; temporary folders of interrupted runs are removed.

    Returns
    -------
    Path
        A folder laid out as :func:`write_phantom` writes it.
    """
    root = cache_root()
    key = cache_key(size, seed, normal)
    target = root / key
    if _complete(target, size, seed, normal):
        return target
    root.mkdir(parents=True, exist_ok=True)
    log.info("generating the %s phantom (seed %s) into the cache %s", size, seed, target)
    phantom = build_phantom(size, seed=seed, normal=normal)
    with contextlib.suppress(_CachedMeanwhile):
        with output_set(target, PHANTOM_SET, force=True, label=f"Phantom cache {target}") as tmp:
            write_phantom_files(phantom, tmp)
            if _complete(target, size, seed, normal):
                raise _CachedMeanwhile(target)
    return target
