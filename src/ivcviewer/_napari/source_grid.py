"""A layer's voxels on the grid of the volume they were loaded or drawn on (its source grid).

The layers ivcviewer makes show every volume on its canonical grid
(:meth:`ivcviewer.volume.Volume.to_canonical`); :func:`source_volume` puts a layer's voxels back
in the order of the **source** grid, the array as it was loaded
(:class:`ivcviewer.widget_models.VolumeLayerInfo`):

- a layer made by ivcviewer carries that record in its metadata;
- a layer napari made for painting ("New labels layer" on a CT) carries none, but has the CT
  layer's grid: the CT layer with the same grid in the current viewer gives the record;
- any other layer stays on its own grid (world positions are right all the same).

Layers are given as napari gives them to writers: their data and their state (``meta``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..volume import Volume, VolumeMetadata
from ..widget_models.layer_metadata import VolumeLayerInfo

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


def same_grid(info: VolumeLayerInfo, shape: Sequence[int], affine: NDArray[np.float64]) -> bool:
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
    if own is not None and same_grid(own, shape, affine):
        return own
    for info in viewer_ct_infos():
        if same_grid(info, shape, affine):
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


__all__ = [
    "layer_state_affine",
    "on_source_grid",
    "same_grid",
    "source_info",
    "source_volume",
    "viewer_ct_infos",
]
