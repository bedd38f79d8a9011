"""npe2 writers: a Labels layer as a label file with its names or as a DICOM SEG, an Image
layer as NIfTI.

napari hands a writer the layer's data and its state (``meta``: ``scale``, ``translate``,
``metadata``, ``features``, ``colormap``...). The layers ivcviewer makes show every volume on its
canonical grid (:meth:`ivcviewer.volume.Volume.to_canonical`); the writers put the voxels back
in the order of the **source** grid, the array as it was loaded
(:class:`ivcviewer.widget_models.VolumeLayerInfo`), so a written file has the voxel order and
affine of the CT it was drawn on:

- a layer made by ivcviewer carries that record in its metadata;
- a layer napari made for painting ("New labels layer" on a CT) carries none, but has the CT
  layer's grid: the CT layer with the same grid in the current viewer gives the record;
- any other layer is written on its own grid (world positions are right all the same).

A ``.dcm`` is a DICOM SEG (:func:`ivcviewer.workflows.export.export_seg`) of the layer on the
CT layer that shares its grid, which must have been read from DICOM; a layer of the Case
overlay's findings is recorded as semi-automatic with its case's finding codes, any other as
manual.

Names and colours are the layer's own (:mod:`ivcviewer._napari.layer_label_table`). Files are
written through temporary files renamed into place; napari's save dialog has asked before an
existing file is replaced. A failure is one error notification (no traceback) and no file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import IvcviewerError
from ..interop.label_files import write_image_file, write_label_file
from ..io import label_values
from ..volume import Volume, VolumeMetadata
from ..widget_models.layer_metadata import CaseLayerInfo, OverlayLayerKind, VolumeLayerInfo
from .layer_label_table import table_of_state

#: The parts of a layer's state that place its data in the world.
_TRANSFORM_KEYS = ("scale", "translate", "rotate", "shear", "affine")


def layer_state_affine(meta: Mapping[str, Any]) -> NDArray[np.float64]:
    """The LPS affine of a 3D layer's data indices, from its state (``meta``)."""
    from napari.layers import Image

    from .measure_tools import layer_affine_lps

    kwargs = {k: meta[k] for k in _TRANSFORM_KEYS if meta.get(k) is not None}
    probe = Image(
        np.zeros((1, 1, 1), np.uint8), metadata=dict(meta.get("metadata") or {}), **kwargs
    )
    return layer_affine_lps(probe)


def _same_grid(info: VolumeLayerInfo, shape: Sequence[int], affine: NDArray[np.float64]) -> bool:
    return tuple(info.volume.shape) == tuple(shape) and bool(
        np.allclose(info.affine_lps, affine, atol=1e-4, rtol=0.0)
    )


def viewer_ct_infos() -> list[VolumeLayerInfo]:
    """The records of the ivcviewer Image layers in the current viewer (none without one)."""
    import napari
    from napari.layers import Image

    viewer = napari.current_viewer()
    if viewer is None:
        return []
    infos = []
    for layer in viewer.layers:
        if isinstance(layer, Image):
            info = VolumeLayerInfo.from_metadata(layer.metadata)
            if info is not None:
                infos.append(info)
    return infos


def source_info(data: Any, meta: Mapping[str, Any]) -> VolumeLayerInfo | None:
    """The source-grid record of the layer ``(data, meta)``: its own, else that of a CT layer
    on the same grid in the current viewer; None when neither fits the layer's grid."""
    shape = np.shape(data)
    affine = layer_state_affine(meta)
    own = VolumeLayerInfo.from_metadata(meta.get("metadata") or {})
    if own is not None and _same_grid(own, shape, affine):
        return own
    for info in viewer_ct_infos():
        if _same_grid(info, shape, affine):
            return info
    return None


def source_volume(data: Any, meta: Mapping[str, Any], modality: str) -> Volume:
    """The layer's data as a Volume on its source grid (see the module docstring)."""
    array = np.asarray(data)
    if array.ndim != 3:
        raise ValueError(
            f"layer {meta.get('name', '')!r} has {array.ndim} dimensions; a volume file needs "
            "a 3D (slice, row, col) layer."
        )
    info = source_info(array, meta)
    shown_meta = info.volume.metadata if info is not None else VolumeMetadata()
    metadata = VolumeMetadata(
        modality=modality,
        description=str(meta.get("name") or ""),
        series_uid=shown_meta.series_uid,
        study_uid=shown_meta.study_uid,
        frame_of_reference_uid=shown_meta.frame_of_reference_uid,
        source_files=list(shown_meta.source_files),
    )
    if info is None:
        return Volume(array, layer_state_affine(meta), metadata)
    return on_source_grid(info, array, metadata)


def on_source_grid(info: VolumeLayerInfo, array: Any, metadata: VolumeMetadata) -> Volume:
    """``array`` (on the displayed grid of ``info``) as a Volume on the source grid."""
    return Volume(
        np.ascontiguousarray(info.to_source_array(np.asarray(array))),
        info.source_affine_lps,
        metadata,
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
        if _same_grid(info, shape, affine):
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
    "layer_state_affine",
    "on_source_grid",
    "source_info",
    "source_volume",
    "viewer_ct_infos",
    "write_image",
    "write_labels",
    "write_seg_file",
]
