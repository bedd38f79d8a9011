"""Export the measurements of a label map as a DICOM SR measurement report (TID 1500).

:func:`export_sr` is the one call the command line and napari make: it measures every region
of the label map on its CT with :func:`~ivcviewer.workflows.measure_volume` (the ``measure``
command's figures), sets each region beside its case finding with
:func:`~ivcviewer.workflows.compare_with_case`, and writes the report
(:mod:`ivcviewer.interop.sr_write`) referencing the segments of the SEG written for the same
label map. highdicom is imported only when the function runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydicom import Dataset, dcmread
from pydicom.errors import InvalidDicomError

from .. import measure
from ..annotations import CaseFile, load_case
from ..errors import IvcviewerError, MeasurementError
from ..io.formats import check_output_path
from ..io.labels import LabelTable
from ..volume import Volume
from .ct import open_ct
from .export import _labels_and_table
from .measure import _check_finite_hu, compare_with_case, measure_volume


def _read_seg(seg: str | os.PathLike[str]) -> Dataset:
    """The SEG's header and segment descriptions (its pixel data is not needed)."""
    path = Path(seg)
    if not path.is_file():
        raise FileNotFoundError(f"--seg {path}: no such file; give the SEG written for the labels.")
    try:
        return dcmread(path, stop_before_pixels=True)
    except InvalidDicomError as exc:
        raise IvcviewerError(
            f"--seg {path}: not a DICOM file ({exc}); give the SEG written for the labels."
        ) from None


def _check_series(seg: Dataset, ct: Volume, shown: str) -> None:
    """Refuse a SEG made from another series than the CT (when the CT's series UID is known)."""
    refs = getattr(seg, "ReferencedSeriesSequence", None)
    ref = str(refs[0].SeriesInstanceUID) if refs else ""
    uid = ct.metadata.series_uid
    if uid and ref and ref != uid:
        raise IvcviewerError(
            f"{shown}: the SEG was made from series {ref}, but the CT is series {uid}; a report "
            "must reference the segments of the CT it was measured on. Fix: give the SEG "
            "written for this CT."
        )


def export_sr(
    labels: str | Path | Volume,
    ct: str | Path | Volume,
    seg: str | os.PathLike[str] | Dataset,
    out: str | os.PathLike[str],
    *,
    table: LabelTable | Mapping[int, str] | None = None,
    case: CaseFile | str | os.PathLike[str] | None = None,
    label_findings: Mapping[int, str] | None = None,
    tolerance_rel: float = measure.DEFAULT_TOLERANCE_REL,
    segment_numbers: Mapping[int, int] | None = None,
    uid_seed: str | None = None,
    force: bool = False,
) -> Path:
    """Measure ``labels`` on ``ct`` and write the measurement report to ``out``.

    Takes its inputs as :func:`~ivcviewer.workflows.export.export_seg` does, so the command line
    and napari call both alike.

    Parameters
    ----------
    labels
        A label map file (its names from ``table`` or its sidecar) or a label volume, on the
        CT's grid; the names are the regions' tracking identifiers.
    ct
        The CT's DICOM folder or file, or the CT volume: HU statistics are taken on it.
    seg
        The SEG written for ``labels`` (a path, or the dataset): the report references its
        segments and takes the finding, finding site, patient and study from it.
    out
        The ``.dcm`` file to write (atomically), beside the SEG for example; never in the CT's
        folder.
    table
        Names of the label values (a :class:`LabelTable` or value -> name); for a file, ``None``
        reads its sidecar table.
    case
        A case file (or its path): the reported figures of each region's finding are recorded
        beside the measured ones.
    label_findings
        Finding id of each label value, as a fitted overlay records it (else regions match
        findings by name or label value).
    tolerance_rel
        The comparison's relative tolerance (it only decides which finding a region matches).
    segment_numbers
        Segment number of each label value, when the SEG names its segments otherwise.
    uid_seed
        Derive the report's UIDs from this text (reproducible output).
    force
        Replace an existing ``out``.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    IvcviewerError
        The CT is on another grid, the label map is empty, the SEG is no Segmentation or comes
        from another series, the output exists (without ``force``) or lies in the CT's folder;
        each with a one-line message.
    """
    from ..interop.sr_write import check_new_output, write_sr

    check_new_output(out, force)
    label_volume, label_table = _labels_and_table(labels, table)
    ct_volume = ct if isinstance(ct, Volume) else open_ct(ct, option="--ct")
    shown = "--seg (dataset)"
    if not isinstance(seg, Dataset):
        shown = f"--seg {seg}"
        seg = _read_seg(seg)
    # the report may go beside its SEG (both are outputs), never among the CT's files
    target = check_output_path(out, ct_volume.metadata.source_files, suffixes=(".dcm",))
    measure.check_same_grid(label_volume, ct_volume, names=("label map", "CT"))
    _check_finite_hu(label_volume, ct_volume, "the CT")
    _check_series(seg, ct_volume, shown)
    regions = measure_volume(label_volume, label_table.names, ct_volume)
    if not regions:
        raise MeasurementError(
            "The label map holds no label (every voxel is 0): there is nothing to report. Fix: "
            "paint or fit the regions first."
        )
    case_file = load_case(Path(case)) if isinstance(case, (str, os.PathLike)) else case
    findings = {}
    if case_file is not None:
        compared = compare_with_case(regions, case_file, tolerance_rel, label_findings)
        findings = {label: c.finding for label, c in compared.items()}
    return write_sr(
        regions,
        seg,
        target,
        force=force,
        findings=findings,
        case_id="" if case_file is None else case_file.case.id,
        segment_numbers=segment_numbers,
        uid_seed=uid_seed,
        source=shown,
    )


__all__ = ["export_sr"]
