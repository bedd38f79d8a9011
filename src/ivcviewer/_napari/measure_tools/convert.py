"""A layer's data coordinates in LPS millimetres, and a layer as a core Volume.

A layer's data coordinates go to napari world coordinates by the layer's own transform
(:func:`data_to_world_affine`), and world ``(z, y, x)`` is LPS reversed
(:func:`ivcviewer.geometry.napari_to_lps`), so what the core measures on these points and
volumes is exact on anisotropic and oblique grids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ... import geometry
from ...errors import MeasurementError
from ...volume import Volume, VolumeMetadata

if TYPE_CHECKING:
    from napari.layers import Image, Labels, Layer


def data_to_world_affine(layer: Layer) -> NDArray[np.float64]:
    """The layer's data -> napari world map as a 4x4 matrix (3D layers).

    Built from the layer's own ``data_to_world`` at the origin and the three unit steps, so it
    holds whatever scale, translate, rotate, shear and affine the layer has.

    Raises
    ------
    MeasurementError
        When the layer is not 3D.
    """
    if layer.ndim != 3:
        raise MeasurementError(
            f"Layer {layer.name!r} has {layer.ndim} dimensions; measurements need a 3D layer "
            "(slice, row, col) placed in mm."
        )
    origin = np.asarray(layer.data_to_world(np.zeros(3)), dtype=float)
    out = np.eye(4)
    for j in range(3):
        step = np.zeros(3)
        step[j] = 1.0
        out[:3, j] = np.asarray(layer.data_to_world(step), dtype=float) - origin
    out[:3, 3] = origin
    return out


def layer_affine_lps(layer: Layer) -> NDArray[np.float64]:
    """4x4 affine mapping the layer's data index ``(slice, row, col, 1)`` to LPS mm.

    The layer's transform is the truth (it is what is displayed); when the layer carries
    ivcviewer's ``metadata["affine_lps"]`` and it agrees (1e-6 mm), that exact matrix is used.
    """
    aff = geometry.NAPARI_FROM_LPS.T @ data_to_world_affine(layer)
    stored = layer.metadata.get("affine_lps")
    if stored is not None:
        stored_a = np.asarray(stored, dtype=float)
        if stored_a.shape == (4, 4) and np.allclose(stored_a, aff, atol=1e-6, rtol=0.0):
            return stored_a.copy()
    return np.asarray(aff, dtype=float)


def volume_from_layer(layer: Image | Labels) -> Volume:
    """The core Volume of a 3D Image or Labels layer: its data on its LPS grid.

    Raises
    ------
    MeasurementError
        For layers that are not 3D single-channel arrays.
    """
    if getattr(layer, "multiscale", False):
        raise MeasurementError(
            f"Layer {layer.name!r} is multiscale; measure a single-resolution layer."
        )
    if getattr(layer, "rgb", False):
        raise MeasurementError(f"Layer {layer.name!r} is RGB; measurements need CT or labels.")
    arr = np.asarray(layer.data)
    if arr.ndim != 3:
        raise MeasurementError(
            f"Layer {layer.name!r} has data of shape {arr.shape}; measurements need a 3D "
            "(slice, row, col) array."
        )
    md = layer.metadata
    return Volume(
        arr,
        layer_affine_lps(layer),
        VolumeMetadata(
            modality=str(md.get("modality") or "CT"),
            description=str(layer.name),
            series_uid=str(md.get("series_uid") or ""),
        ),
    )


def label_names(layer: Labels) -> dict[int, str]:
    """Region names of a Labels layer (:func:`ivcviewer._napari.layer_label_table.label_names`:
    its ``features``, the derived ``metadata["label_names"]`` only when they name nothing)."""
    from ..layer_label_table import label_names as names_of

    return names_of(layer)


def world_to_lps(layer: Layer, points_data: ArrayLike) -> NDArray[np.float64]:
    """LPS mm of points given in a layer's data coordinates (rows)."""
    pts = np.asarray(points_data, dtype=float).reshape(-1, 3)
    world = geometry.apply_affine(data_to_world_affine(layer), pts)
    return geometry.napari_to_lps(world)


def lps_to_data(layer: Layer, points_lps: ArrayLike) -> NDArray[np.float64]:
    """A layer's data coordinates of LPS points (rows)."""
    pts = geometry.lps_to_napari(np.asarray(points_lps, dtype=float).reshape(-1, 3))
    inv = np.linalg.inv(data_to_world_affine(layer))
    return geometry.apply_affine(inv, pts)


__all__ = [
    "data_to_world_affine",
    "label_names",
    "layer_affine_lps",
    "lps_to_data",
    "volume_from_layer",
    "world_to_lps",
]
