"""npe2 writers: a Labels layer as a label file with its names or as a DICOM SEG, an Image
layer as NIfTI.

napari hands a writer the layer's data and its state (``meta``: ``scale``, ``translate``,
``metadata``, ``features``, ``colormap``...). The writers put the voxels back in the order of
the layer's **source** grid (:mod:`ivcviewer._napari.source_grid`), so a written file has the
voxel order and affine of the CT it was drawn on.

A ``.dcm`` is a DICOM SEG (:func:`ivcviewer.workflows.export.export_seg`) of the layer on the
CT layer that shares its grid, which must have been read from DICOM; a layer of the Case
overlay's findings is recorded as semi-automatic with its case's finding codes, any other as
manual.

Names and colours are the layer's own (:mod:`ivcviewer._napari.layer_label_table`). Files are
written through temporary files renamed into place; napari's save dialog has asked before an
existing file is replaced. A failure is one error notification (no traceback) and no file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IvcviewerError
from ..interop.label_files import write_image_file, write_label_file
from ..io import label_values
from ..volume import Volume
from ..widget_models.layer_metadata import CaseLayerInfo, OverlayLayerKind
from .layer_label_table import table_of_state
from .source_grid import (
    layer_state_affine,
    on_source_grid,
    same_grid,
    source_volume,
    viewer_ct_infos,
)


def _guarded(what: str, path: str, write: Callable[[], list[Path]]) -> list[str]:
    """Run ``write``; on failure one error notification and no path (napari then says that
    nothing was written)."""
    from .reader import show_failure

    try:
        return [str(p) for p in write()]
    except Exception as err:  # the writer's boundary: one notification, never a traceback
        show_failure(err, path, prefix=f"ivcviewer could not save {what} ")
        return []


def write_labels(path: str, data: Any, meta: dict[str, Any]) -> list[str]:
    """npe2 writer: a Labels layer as ``.nii.gz`` / ``.nii`` / ``.nrrd`` with its name table,
    or as a ``.dcm`` DICOM SEG on its CT.

    Returns the label map and its ``<stem>_labels.json``, or the SEG (empty after a failure).
    """

    def write() -> list[Path]:
        if path.lower().endswith(".dcm"):
            return write_seg_file(path, data, meta)
        labels = source_volume(data, meta, "SEG")
        table = table_of_state(
            meta.get("features"),
            meta.get("colormap"),
            meta.get("metadata"),
            label_values(labels.array),
        )
        return list(write_label_file(labels, table, path, force=True))

    return _guarded(f"labels {meta.get('name', '')!r} to", path, write)


def _ct_of(data: Any, meta: Mapping[str, Any]) -> Volume:
    """The CT layer of the current viewer on the grid of the layer ``(data, meta)``, on its
    source grid; an error with the fix when none is open."""
    shape, affine = np.shape(data), layer_state_affine(meta)
    for info in viewer_ct_infos():
        if same_grid(info, shape, affine):
            return on_source_grid(info, info.volume.array, info.volume.metadata.copy())
    raise IvcviewerError(
        f"labels {meta.get('name', '')!r}: a DICOM SEG refers to the CT images it was drawn "
        "on, and no open CT layer shares this layer's grid. Fix: open the CT series the labels "
        "were drawn on, or save the labels as .nii.gz or .nrrd (with their names)."
    )


def write_seg_file(path: str, data: Any, meta: Mapping[str, Any]) -> list[Path]:
    """A Labels layer as a DICOM SEG on its CT (see the module docstring)."""
    from ..workflows.export import export_seg

    case = CaseLayerInfo.from_metadata(meta.get("metadata") or {})
    fitted = case is not None and case.kind is OverlayLayerKind.FINDINGS
    labels = source_volume(data, meta, "SEG")
    table = table_of_state(
        meta.get("features"), meta.get("colormap"), meta.get("metadata"), label_values(labels.array)
    )
    written = export_seg(
        labels,
        _ct_of(data, meta),
        path,
        table=table,
        case=case.case_path if fitted and case is not None and case.case_path else None,
        algorithm="semiautomatic" if fitted else "manual",
        force=True,
    )
    return [written]


def write_image(path: str, data: Any, meta: dict[str, Any]) -> list[str]:
    """npe2 writer: an Image layer as ``.nii.gz`` / ``.nii`` in its source voxel order."""

    def write() -> list[Path]:
        volume = source_volume(
            data, meta, str((meta.get("metadata") or {}).get("modality") or "CT")
        )
        return [write_image_file(volume, path, force=True)]

    return _guarded(f"image {meta.get('name', '')!r} to", path, write)


__all__ = [
    "write_image",
    "write_labels",
    "write_seg_file",
]
