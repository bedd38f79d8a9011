"""DICOM SEG and RTSTRUCT files as named, coloured Labels layers on their CT.

The reference CT of a segmentation is, in this order: an ivcviewer CT layer of the current
viewer (or a CT read in the same drop) of the series the file references, else one sharing its
frame of reference; without one a SEG is shown on its own grid, and an RTSTRUCT (contours in mm,
no grid of its own) is refused with the fix (open its CT first). On a CT the label map lies on
the CT's source grid voxel for voxel
(:func:`ivcviewer.interop.seg_read.read_segmentation`,
:func:`ivcviewer.interop.rtstruct_read.read_rtstruct`), so the layer shares the CT's display
grid and a writer saves it in the CT's voxel order.

The segments' codes ride along in ``metadata["segment_codes"]``; :func:`anatomy_names` gives
the names the fit knows (``liver``, ``kidney_right``...) from the codes, else from the layer's
current names (:mod:`ivcviewer._napari.layer_label_table`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..interop.codes import SegmentCodes, structure_for_codes
from ..interop.rtstruct_read import read_rtstruct
from ..interop.seg_read import (
    SegmentationError,
    SegmentationResult,
    read_segmentation,
    structure_for_label,
)
from ..interop.sniff import dicom_object_kind
from ..io import volume_stem
from ..volume import Volume
from .layer_label_table import label_names
from .layer_tuple import LayerDataTuple
from .layers import labels_layer_data
from .source_grid import on_source_grid, viewer_ct_infos

if TYPE_CHECKING:
    from napari.layers import Labels

#: ``metadata`` key: label value -> :class:`~ivcviewer.interop.codes.SegmentCodes`.
CODES_KEY = "segment_codes"
#: ``metadata`` key: what the layer was read from (``"labelmap SEG"``...).
KIND_KEY = "segmentation_kind"
#: The kinds of DICOM object read here.
KINDS = ("seg", "rtstruct")


def is_segmentation_file(path: str | os.PathLike[str]) -> bool:
    """A DICOM SEG or RTSTRUCT file (header only; never raises)."""
    return dicom_object_kind(path) in KINDS


def _referenced(path: Path, kind: str | None) -> tuple[list[str], str]:
    """The series a SEG or RTSTRUCT names and its frame of reference (empty when unreadable:
    the full read then says what is wrong)."""
    import pydicom

    from ..interop.rtstruct_read import _references
    from ..interop.seg_read import referenced_series

    tags = ["ReferencedSeriesSequence", "FrameOfReferenceUID"]
    if kind == "rtstruct":
        tags = ["ReferencedFrameOfReferenceSequence"]
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=tags)
        if kind == "rtstruct":
            return _references(ds)
        return referenced_series(ds), str(ds.get("FrameOfReferenceUID", "") or "")
    except Exception:  # a damaged header: the reader reports it with the file's name
        return [], ""


def pick_reference(
    series: Sequence[str], frame_of_reference: str, candidates: Sequence[Volume]
) -> Volume | None:
    """The CT (on its source grid) a segmentation belongs to: same series, else same frame of
    reference; None when none is there."""
    for uid in series:
        for ct in candidates:
            if uid and ct.metadata.series_uid == uid:
                return ct
    for ct in candidates:
        if frame_of_reference and ct.metadata.frame_of_reference_uid == frame_of_reference:
            return ct
    return None


def source_cts(also: Sequence[Volume] = ()) -> list[Volume]:
    """CT volumes on their source grid: ``also`` first, then the viewer's CT layers."""
    out = list(also)
    for info in viewer_ct_infos():
        meta = info.volume.metadata.copy()
        out.append(on_source_grid(info, info.volume.array, meta))
    return out


def _notes(result: SegmentationResult, path: Path, reference: Volume | None) -> str:
    where = (
        f"placed on the CT series {reference.metadata.series_uid or reference.metadata.description}"
        if reference is not None
        else f"shown on its own grid (no CT of series {result.referenced_series_uid or '?'} is "
        "open; open the CT first to place it voxel for voxel)"
    )
    lines = [
        f"{path.name}: {result.source_kind} with {len(result.table)} segments or ROIs, {where}."
    ]
    return "\n".join(lines + list(result.report))


def segmentation_layer_data(
    path: str | os.PathLike[str], also: Sequence[Volume] = ()
) -> tuple[LayerDataTuple, str]:
    """A Labels layer tuple of a DICOM SEG or RTSTRUCT on its CT, and a note saying where it
    was placed.

    Raises
    ------
    IvcviewerError
        From the readers (damaged, fractional, made on another CT...); an RTSTRUCT whose CT is
        not open.
    """
    p = Path(path)
    kind = dicom_object_kind(p)
    series, frame_of_reference = _referenced(p, kind)
    reference = pick_reference(series, frame_of_reference, source_cts(also))
    if kind == "rtstruct":
        if reference is None:
            raise SegmentationError(
                f"{p}: an RTSTRUCT holds contours in mm, not voxels, and no open CT is of the "
                f"series it references ({', '.join(series) or 'none named'}). Fix: open that "
                "CT series first (or drop both together), then the RTSTRUCT."
            )
        result = read_rtstruct(p, reference)
    else:
        result = read_segmentation(p, reference=reference)
    data, kwargs, layer_type = labels_layer_data(result.labels, result.table, name=volume_stem(p))
    kwargs["metadata"][CODES_KEY] = dict(result.codes)
    kwargs["metadata"][KIND_KEY] = result.source_kind
    return (data, kwargs, layer_type), _notes(result, p, reference)


def anatomy_names(layer: Labels) -> dict[int, str]:
    """Label value -> the structure name the fit knows, for a layer read from a segmentation
    (its codes, else its name spelled as a structure, else its name); other layers' names as
    they are."""
    names = label_names(layer)
    codes: Mapping[int, Any] = layer.metadata.get(CODES_KEY) or {}
    if not codes:
        return names
    out = {}
    for value, name in names.items():
        c = codes.get(value)
        known = (
            structure_for_codes(c.category, c.type, c.modifier)
            if isinstance(c, SegmentCodes)
            else None
        )
        out[value] = known or structure_for_label(name) or name
    return out


__all__ = [
    "CODES_KEY",
    "KIND_KEY",
    "anatomy_names",
    "is_segmentation_file",
    "pick_reference",
    "segmentation_layer_data",
    "source_cts",
]
