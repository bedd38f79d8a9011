"""Fit a case's findings to a CT, and write the overlay's files.

:func:`fit_overlay` is the one fit that the ``overlay`` command, the demo and the Case overlay
widget run; :func:`write_overlay_outputs` writes what the command writes (``docs/overlay.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import geometry
from .._atomic import SetKind, check_target, output_set
from .._json import dumps
from ..annotations import CaseFile
from ..annotations.overlay import BoneSource, FitOptions, OverlayResult, fit_case
from ..errors import AnatomyError, CaseFileError, IvcviewerError
from ..io import LabelEntry, LabelTable, label_sidecar_path, save_labels
from ..io.formats import check_output_path, write_text_atomic
from ..report import ReportCode
from ..volume import Volume
from .anatomy import Anatomy
from .findings_table import render_markdown

#: Files :func:`write_overlay_outputs` writes (``labels_labels.json`` is the sidecar label table
#: of ``labels.nii.gz``).
OUTPUT_FILES: tuple[str, ...] = (
    "labels.nii.gz",
    "labels_labels.json",
    "labels.json",
    "findings.json",
    "findings.md",
)

#: DICOM files the overlay also writes on request (a CT from DICOM): the SEG of its label map
#: and the measurement report (SR TID 1500) on that SEG.
DICOM_OUTPUT_FILES: tuple[str, ...] = ("seg.dcm", "sr.dcm")

#: The overlay's output set: its files, completed by the marker ``ivcviewer-complete.json``.
OVERLAY_SET = SetKind("overlay", "overlay", frozenset(OUTPUT_FILES + DICOM_OUTPUT_FILES))


def fit_overlay(
    ct: Volume,
    case: CaseFile,
    anatomy: Anatomy,
    *,
    bone: BoneSource = BoneSource.LABELS_AND_CT,
    ct_name: str = "the CT",
) -> OverlayResult:
    """Fit ``case`` to ``ct`` from ``anatomy``; refuse a fit that drew nothing.

    Parameters
    ----------
    ct
        The CT; its grid is the grid of the result.
    case
        The validated case file.
    anatomy
        Landmarks and optional label map (:mod:`ivcviewer.workflows.anatomy`).
    bone
        Where the bone that a mass is clipped out of comes from.
    ct_name
        How messages name the CT (a path, a layer name).

    Raises
    ------
    AnatomyError
        A landmark the case needs is missing, nothing could be drawn on the CT, or every
        landmark lies outside it (the message says which and how to fix it).
    """
    try:
        result = fit_case(
            ct,
            case,
            anatomy.landmarks,
            anatomy.labels,
            anatomy.names,
            options=FitOptions(bone=bone),
        )
    except CaseFileError as err:
        raise _named(err, str(case.path)) from err
    except AnatomyError as err:
        raise _named(err, anatomy.description or "the anatomy") from err
    check_drawn(result, ct_name)
    return result


def _named(err: IvcviewerError, source: str) -> IvcviewerError:
    """``err`` with the file it comes from in front, unless its message names it already."""
    text = str(err)
    if source and source not in text:
        text = f"{source}: {text}"
    return type(err)(text)


def check_drawn(result: OverlayResult, ct_name: str) -> None:
    """Refuse a fit that drew nothing, or whose landmarks all lie outside the CT."""
    lm = result.landmarks
    needed = [
        n
        for n in result.case.required_landmarks()
        if n in lm.points_lps or (n == "ivc_centreline" and lm.centreline_lps is not None)
    ]
    outside = list(result.landmarks_outside)
    all_outside = bool(needed) and set(needed) <= set(outside)
    if result.drawn and not all_outside:
        return
    lo, hi = z_range(result.labels)
    clipped = "; ".join(
        f"{f.id} by {', '.join(dict.fromkeys(c.reason for c in f.clipping)) or 'nothing'}"
        for f in result.findings
    )
    where = (
        f"the landmarks lie outside its field of view ({', '.join(outside)}; the CT spans z "
        f"{lo:.1f} to {hi:.1f} mm LPS)"
        if outside
        else f"every finding was clipped away ({clipped})"
    )
    what = (
        "nothing of the case's findings could be drawn on it"
        if not result.drawn
        else "every landmark lies outside it"
    )
    raise AnatomyError(
        f"{ct_name}: {what}: {where}. Fix: give the anatomy of this CT (its own label map, "
        "landmarks or phantom folder)."
    )


def z_range(vol: Volume) -> tuple[float, float]:
    """Lowest and highest LPS z of a grid's corner voxel centres (mm)."""
    n = np.asarray(vol.shape) - 1
    corners = np.array([[i, j, k] for i in (0, n[0]) for j in (0, n[1]) for k in (0, n[2])])
    z = geometry.voxel_to_lps(vol.affine, corners)[:, 2]
    return float(z.min()), float(z.max())


def overlay_input_files(
    ct: str,
    case: str,
    *,
    anatomy: str | None = None,
    anatomy_names: str | None = None,
    landmarks: str | None = None,
    phantom_truth: str | None = None,
) -> list[Path]:
    """Every file an overlay of these inputs reads (a phantom truth folder: its landmarks.json).

    >>> [p.as_posix() for p in overlay_input_files("ct", "c.yaml", phantom_truth="ph")]
    ['ct', 'c.yaml', 'ph/landmarks.json']
    """
    found = [Path(ct), Path(case)]
    found += [Path(p) for p in (anatomy, anatomy_names, landmarks) if p]
    if phantom_truth:
        found.append(Path(phantom_truth) / "landmarks.json")
    return found


@dataclass(frozen=True)
class OverlayInputs:
    """What an overlay was made from, as ``findings.json`` records it (paths as given)."""

    ct: str
    case: str
    anatomy: str | None = None
    anatomy_names: str | None = None
    landmarks: str | None = None
    phantom_truth: str | None = None
    #: Every file read, for the rule that outputs never go into an input's folder.
    files: tuple[Path, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The ``inputs`` object of ``findings.json``."""
        return {
            "ct": self.ct,
            "case": self.case,
            "anatomy": self.anatomy,
            "anatomy_names": self.anatomy_names,
            "landmarks": self.landmarks,
            "phantom_truth": self.phantom_truth,
        }


@dataclass(frozen=True)
class OverlayOutputs:
    """The files :func:`write_overlay_outputs` wrote."""

    labels: Path
    labels_sidecar: Path
    label_table: Path
    findings_json: Path
    findings_md: Path
    seg: Path | None = None
    sr: Path | None = None

    def paths(self) -> list[Path]:
        """Every file written, in the order the command lists them."""
        files = [
            self.labels,
            self.labels_sidecar,
            self.label_table,
            self.findings_json,
            self.findings_md,
        ]
        return files + [p for p in (self.seg, self.sr) if p is not None]


@dataclass(frozen=True)
class DicomOutputs:
    """The DICOM objects an overlay writes beside its label map, and the CT they reference.

    ``sr`` needs the SEG (the report references its segments): it writes ``seg.dcm`` too.
    """

    ct: Volume
    seg: bool = False
    sr: bool = False

    @property
    def any(self) -> bool:
        """Whether any DICOM object is asked for."""
        return self.seg or self.sr


def check_dicom_outputs(ct: Volume, ct_name: str, options: str = "--seg/--sr") -> None:
    """Refuse DICOM outputs for a CT that did not come from DICOM, before anything is fitted.

    Raises
    ------
    IvcviewerError
        The CT was read from a volume file, or resampled onto a grid that is not its images'.
    """
    if ct.metadata.source != "dicom":
        raise IvcviewerError(
            f"{options}: {ct_name} was not read from DICOM, so a DICOM SEG or SR has no images "
            "to reference. Fix: give the CT's DICOM folder, or leave the options out "
            "(labels.nii.gz with labels_labels.json holds the regions and their names)."
        )
    if ReportCode.RESAMPLED in ct.report:
        raise IvcviewerError(
            f"{options}: {ct_name} was resampled onto a regular grid (--on-irregular resample), "
            "which is not the grid of its DICOM images, so a SEG cannot lie on them. Fix: use "
            "--on-irregular raise or warn, or leave the options out."
        )


def check_overlay_output(
    out: Path, inputs: Sequence[Path], *, force: bool = False, kind: SetKind = OVERLAY_SET
) -> None:
    """Refuse an output folder the overlay may not write, before anything is read.

    Temporary folders of interrupted runs beside ``out`` are removed (with a warning). An
    earlier overlay in ``out`` is replaced; a folder that holds other files is refused
    unless ``force``.

    Raises
    ------
    IvcviewerError
        ``out`` is a file, an input lies in it, or it holds files that are not an overlay's
        and ``force`` is not given.
    """
    _check_out_path(out, inputs)
    check_target(out, kind, force=force, label=f"--out {out}")


def _check_out_path(out: Path, inputs: Sequence[Path]) -> None:
    """Refuse an ``out`` that is a file, or that is (or lies in) the folder of an input."""
    from ..errors import IvcviewerError

    if out.exists() and not out.is_dir():
        raise IvcviewerError(f"--out {out}: is a file, not a folder. Fix: give a folder path.")
    check_output_path(out / OUTPUT_FILES[0], list(inputs))


def write_overlay_outputs(
    result: OverlayResult,
    out: str | Path,
    inputs: OverlayInputs,
    *,
    force: bool = False,
    kind: SetKind = OVERLAY_SET,
    dicom: DicomOutputs | None = None,
) -> OverlayOutputs:
    """Write the label map, its tables, ``findings.json`` and ``findings.md`` into ``out``.

    With ``dicom``, the label map's DICOM SEG (``seg.dcm``, algorithm semi-automatic, the
    findings coded by their kind) and its measurement report (``sr.dcm``) are written too, as
    part of the same set.

    The files are written as one set (:func:`ivcviewer._atomic.output_set`): into a temporary
    folder beside ``out``, completed by ``ivcviewer-complete.json``, then swapped in, so
    ``out`` holds either the earlier complete set or this one. Nothing goes into a folder that
    holds an input; a folder that holds other files is written into only with ``force``.
    ``kind`` names the set in its marker (the demo's folders also hold screenshots).
    """
    out = Path(out)
    files = list(inputs.files) or [Path(inputs.ct), Path(inputs.case)]
    _check_out_path(out, files)  # output_set checks the folder's contents itself
    with output_set(out, kind, force=force, label=f"--out {out}") as folder:
        return write_overlay_files(result, folder, out, inputs, files, dicom)


def write_overlay_files(
    result: OverlayResult,
    folder: Path,
    out: Path,
    inputs: OverlayInputs,
    files: list[Path],
    dicom: DicomOutputs | None = None,
) -> OverlayOutputs:
    """Write the overlay's files into ``folder``; the paths they record and return are ``out``'s.

    ``folder`` is where the set is written before it is swapped into ``out``.
    """
    table = LabelTable({r.value: LabelEntry(r.name, r.rgba) for r in result.regions})
    save_labels(result.labels, table, folder / OUTPUT_FILES[0], inputs=[str(p) for p in files])
    labels = out.resolve() / OUTPUT_FILES[0]  # as save_labels names it: the folder resolved
    seg, sr = _write_dicom(result, table, folder, dicom)
    written = OverlayOutputs(
        labels,
        label_sidecar_path(labels),
        out / "labels.json",
        out / "findings.json",
        out / "findings.md",
        None if seg is None else out / seg.name,
        None if sr is None else out / sr.name,
    )
    labels_doc = {str(r.value): r.to_dict() for r in result.regions}
    write_text_atomic(folder / written.label_table.name, dumps(labels_doc) + "\n")
    doc = result.to_json_dict()
    doc["inputs"] = inputs.to_dict()
    doc["outputs"] = {
        "labels": str(written.labels),
        "labels_sidecar": str(written.labels_sidecar),
        "label_table": str(written.label_table),
        "findings_md": str(written.findings_md),
    }
    doc["outputs"].update({k: str(p) for k, p in (("seg", written.seg), ("sr", written.sr)) if p})
    write_text_atomic(folder / written.findings_json.name, dumps(doc) + "\n")
    write_text_atomic(
        folder / written.findings_md.name, render_markdown(result) + _dicom_markdown(written)
    )
    return written


def _write_dicom(
    result: OverlayResult, table: LabelTable, folder: Path, dicom: DicomOutputs | None
) -> tuple[Path | None, Path | None]:
    """Write ``seg.dcm`` (and ``sr.dcm`` on it) into ``folder`` as ``dicom`` asks."""
    if dicom is None or not dicom.any:
        return None, None
    from .export import export_seg
    from .export_sr import export_sr

    labels = dicom.ct.with_array(result.labels.array)
    seg = export_seg(
        labels,
        dicom.ct,
        folder / DICOM_OUTPUT_FILES[0],
        table=table,
        case=result.case,
        algorithm="semiautomatic",
    )
    if not dicom.sr:
        return seg, None
    findings = {r.value: r.finding_id for r in result.regions}
    sr = export_sr(
        labels,
        dicom.ct,
        seg,
        folder / DICOM_OUTPUT_FILES[1],
        table=table,
        case=result.case,
        label_findings=findings,
    )
    return seg, sr


def _dicom_markdown(written: OverlayOutputs) -> str:
    """The ``findings.md`` section that lists the DICOM objects written ("" for none)."""
    lines = []
    if written.seg is not None:
        lines.append(
            f"- `{written.seg.name}`: DICOM SEG of `labels.nii.gz` on the CT's series "
            "(semi-automatic, findings coded by their kind and site)"
        )
    if written.sr is not None:
        lines.append(
            f"- `{written.sr.name}`: DICOM SR measurement report (TID 1500) on the SEG's "
            "segments, with the case's reported figures"
        )
    return "\n".join(["", "## DICOM objects", "", *lines, ""]) if lines else ""


def result_warnings(result: OverlayResult) -> list[str]:
    """Every warning of a fit: the overlay's, then each finding's prefixed by its id."""
    out = list(result.warnings)
    for f in result.findings:
        out += [f"{f.id}: {w}" for w in f.warnings]
    return out
